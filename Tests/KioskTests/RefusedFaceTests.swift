import Attendance
import Foundation
import InMemoryLogging
import Logging
import Pipeline
import TestSupport
import Testing

@testable import Kiosk
@testable import Outbox
@testable import Signage

/// A face refused as a presentation attack: kept in the outbox for the hub's door alerts (no image), logged
/// at warning with its reason, scores and claimed person, counted by reason, and shown at the door only as
/// a neutral "not recognised" that names nobody and no cue.
struct RefusedFaceTests {
    static let at = Date(timeIntervalSince1970: 1_795_420_800)
    static let decision = DoorDecision.refusedFace(
        FaceRefusal(
            claimedPerson: "p-1", reason: "planar_motion", scores: ["planarity": 0.0123, "appearance": 0.8],
            evidence: FaceEvidence(distance: 0.31, margin: 0.2, track: 4, trackFirstFrame: 10)),
        when: DecisionTime(frame: 40, t: 1.3, at: at))

    @Test("the door commits a refused face as an audit record, never an event")
    func committed() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outbox = try Outbox(path: folder.appendingPathComponent("outbox.sqlite").path, deviceID: "door-1")
        #expect(try await Door.commit(Self.decision, to: outbox) == nil)
        #expect(try await outbox.allEvents().isEmpty)
        let records = try await outbox.auditRecords()
        let record = try #require(records.first)
        #expect(records.count == 1 && UUID(uuidString: record.id) != nil)
        #expect(record.kind == "presentation_attack" && record.reason == "planar_motion")
        #expect(record.claimedPerson == "p-1" && record.at == Self.at.milliseconds && record.state == .pending)
        #expect(record.scoreValues == ["planarity": 0.0123, "appearance": 0.8])
    }

    @Test("the screen gets a neutral message (no name, no reason); the journal a warning; metrics count it by reason")
    func shown() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outbox = try Outbox(path: folder.appendingPathComponent("outbox.sqlite").path, deviceID: "door-1")
        let handler = InMemoryLogHandler()
        let logger = Logger(label: "test", factory: { _ in handler })
        var inputs = await DoorInputs.load(from: outbox, allowUnsigned: false, now: Self.at, logger: logger)
        inputs.directory = ["p-1": "Ada Lovelace"]
        let broadcaster = SignageBroadcaster()
        let metrics = KioskMetrics()
        let output = DoorOutput(
            broadcaster: broadcaster, metrics: metrics,
            inputs: InputsState(inputs: inputs, outbox: outbox, logger: logger),
            settings: Settings(path: "", configuration: KioskConfiguration(deviceID: "door-1")),
            activity: DoorActivity(),
            sync: nil, logger: logger)
        let stream = broadcaster.subscribe()
        await output.show(
            CommittedDecision(decision: Self.decision, eventID: nil, committedAt: Self.at, commitTime: .milliseconds(2))
        )
        var shown: String?
        for await message in stream where message.hasPrefix("event: decision") {
            shown = message
            break
        }
        let json = try #require(shown?.split(separator: "\n").first { $0.hasPrefix("data: ") }?.dropFirst(6))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["kind"] as? String == "refused_face")
        #expect(object["name"] is NSNull && object["reason"] is NSNull && object["group"] is NSNull)
        #expect(!json.contains("p-1") && !json.contains("Ada") && !json.contains("planar"))
        let warning = try #require(handler.entries.first { $0.level == .warning })
        #expect("\(warning.message)" == "refused a face as a presentation attack")
        #expect(warning.metadata["reason"] == "planar_motion" && warning.metadata["claimed_person"] == "p-1")
        #expect(warning.metadata["scores"] == "appearance=0.800 planarity=0.012")
        let text = metrics.text()
        #expect(text.contains(#"rollcall_presentation_attacks_total{reason="planar_motion"} 1"#))
        #expect(text.contains(#"rollcall_decisions_total{kind="refused_face"} 1"#))
        metrics.countPresentationAttack(reason: "Weird Reason!")
        #expect(metrics.text().contains(#"rollcall_presentation_attacks_total{reason="other"} 1"#))
    }

    @Test("the signage message of a refused face carries no name, reason or group, whatever it is handed")
    func neutralMessage() throws {
        let message = SignageDecision(Self.decision, id: nil, name: "Ada Lovelace", group: "7B", committedAt: Self.at)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(message.json.utf8)) as? [String: Any])
        #expect(object["kind"] as? String == "refused_face")
        #expect(object["name"] is NSNull && object["reason"] is NSNull && object["group"] is NSNull)
        // The page says the same neutral words for it, whatever cue refused the face.
        let page = SignagePage.html
        #expect(page.contains(#"case "refused_face": return ["Not recognised — please use your badge", "info"]"#))
    }
}
