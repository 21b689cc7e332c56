import Foundation
import Outbox
import Scenario
import TestSupport
import Testing
import Vision

/// `rollcall replay` on the scenario video the tests generate from the fixtures: faces moving over a
/// background, two at once, an unknown face, badges with perspective, blur, low contrast and glare, a
/// forged badge and a blurred face.
@Suite(
    .enabled(
        if: TestResources.fixturesEnabled && TestResources.modelsEnabled, "needs ../shared/fixtures and the models"))
struct ReplayCommandTests {
    struct Line: Decodable {
        var kind: String
        var person: String?
        var frame: Int?
        var t: Double?
        var distance: Double?
        var status: String?
        var reason: String?
        var duration: Double?
        var session: String?
        var track_first_frame: Int?
        var claimed_subject: String?
        var frames: Int?
        var fps: Double?
        var stage_ms: [String: Double]?
        var checkin_frames: [Int]?
        var checkin_frames_median: Double?
    }

    /// Generates the scenario and enrolls its gallery plan from the fixture photos.
    func scenario(in folder: URL) async throws -> (files: ScenarioFiles, gallery: String) {
        let files = try ScenarioVideo.generate(fixtures: TestResources.faces, into: folder)
        let gallery = folder.appendingPathComponent("gallery.json").path
        for person in files.manifest.gallery {
            let result = try await runRollcall(
                [
                    "enroll", "--gallery", gallery, "--person", person.person, "--name", person.name, "--role",
                    person.role,
                ] + person.images.map { TestResources.faces.appendingPathComponent($0).path })
            try #require(result.status == 0, "\(result.out)\(result.err)")
        }
        return (files, gallery)
    }

    func lines(_ output: String) throws -> [Line] {
        try output.split(separator: "\n").map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
    }

    @Test("the scenario gives exactly the expected decisions, the first check-in within 10 frames, no false check-in")
    func scenarioDecisions() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (files, gallery) = try await scenario(in: folder)
        let start = ISO8601DateFormatter().string(from: files.manifest.start)
        let outboxPath = folder.appendingPathComponent("outbox.sqlite").path
        let result = try await runRollcall([
            "replay", files.video.path, "--gallery", gallery, "--sessions", files.sessions.path, "--badge-keys",
            files.badgeKeys.path, "--start", start, "--json", "--outbox", outboxPath,
        ])
        #expect(result.status == 0, "\(result.err)")
        let output = try lines(result.out)
        let summary = try #require(output.last)
        #expect(summary.kind == "summary" && summary.frames == files.manifest.frames)
        let stages = Set((summary.stage_ms ?? [:]).keys)
        #expect(stages.isSuperset(of: ["detect", "qr", "encode", "match", "rules"]), "\(stages)")
        let decisions = output.dropLast()
        let context = result.out

        // Exactly the expected decisions: each once, in its frame window; nothing else.
        #expect(decisions.count == files.manifest.expected.count, "\(context)")
        for expected in files.manifest.expected {
            let found = decisions.filter {
                $0.kind == expected.kind.rawValue && $0.person == expected.person
                    && (expected.firstFrame...expected.lastFrame).contains($0.frame ?? -1)
            }
            #expect(found.count == 1, "expected \(expected)\n\(context)")
            if let status = expected.status { #expect(found.first?.status == status) }
            if let reason = expected.reason { #expect(found.first?.reason == reason) }
            if expected.kind.rawValue == "rejected_badge" { #expect(found.first?.claimed_subject == "v-mallory") }
        }
        // The only check-in is the enrolled student's, within 5 frames of the track's first frame (the face
        // is large enough for the gate from its first frame): the presentation-attack stage watches a face
        // for 0.13 s, 4 frames at 30 fps, before it lets it through.
        let checkins = decisions.filter { $0.kind == "checkin" }
        #expect(checkins.map(\.person) == ["p-obama"])
        for checkin in checkins {
            let first = try #require(checkin.track_first_frame)
            #expect(
                (checkin.frame ?? .max) - first <= 5, "check-in at frame \(checkin.frame ?? -1), face from \(first)")
            #expect(checkin.session == "s-math-7b")
        }
        // The summary's time to check-in is the same count, for each face check-in.
        let counts = checkins.compactMap { checkin in checkin.track_first_frame.map { (checkin.frame ?? 0) - $0 } }
        #expect(summary.checkin_frames == counts && !counts.isEmpty)
        #expect(summary.checkin_frames_median == Double(counts.sorted()[counts.count / 2]))
        // The volunteer's visit lasts from the entry scan to the exit scan.
        let entry = try #require(decisions.first { $0.kind == "entry" })
        let exit = try #require(decisions.first { $0.kind == "exit" })
        #expect(abs((exit.duration ?? 0) - ((exit.t ?? 0) - (entry.t ?? 0))) < 0.01)

        // Every check-in, entry and exit was committed to the outbox, and the refused badge kept for audit.
        let outbox = try Outbox(path: outboxPath, deviceID: "test")
        let events = try await outbox.allEvents()
        #expect(events.map(\.kind) == ["checkin", "entry", "exit"])
        #expect(events.map(\.person) == ["p-obama", "v-ada", "v-ada"])
        #expect(events.allSatisfy { $0.state == .pending && $0.source == "signage:replay" })
        #expect(events[0].method == "face" && events[0].session == "s-math-7b" && events[1].method == "qr")
        let scans = try await outbox.rejectedScans()
        #expect(scans.map(\.reason) == ["bad_signature"])
        #expect(scans.first?.payloadPrefix.hasPrefix("RC1.") == true)
        #expect(scans.first?.claimedSubject == "v-mallory", "the forged badge's claimed subject is kept for audit")
    }

    @Test("without --sessions the whole gallery is the roster of one session and everyone is present")
    func wholeGallery() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (files, gallery) = try await scenario(in: folder)
        let result = try await runRollcall(["replay", files.video.path, "--gallery", gallery, "--json"])
        #expect(result.status == 0, "\(result.err)")
        let decisions = try lines(result.out).dropLast()
        let checkins = decisions.filter { $0.kind == "checkin" }
        #expect(checkins.count == 1 && checkins.first?.person == "p-obama" && checkins.first?.status == "present")
        #expect(checkins.first?.session == "whole-day")
        // No keys given: every badge is refused, and each only once.
        #expect(decisions.filter { $0.kind == "rejected_badge" }.count >= 1)
        #expect(decisions.allSatisfy { $0.kind != "entry" && $0.kind != "exit" })
    }

    @Test("bad inputs are clear errors: a missing source, a corrupt video, a broken sessions file")
    func badInputs() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let gallery = folder.appendingPathComponent("gallery.json").path
        let enrolled = try await runRollcall([
            "enroll", "--gallery", gallery, "--person", "p-obama", "--name", "Barack Obama", "--role", "student",
            TestResources.faces.appendingPathComponent("obama.jpg").path,
        ])
        try #require(enrolled.status == 0)

        let missing = try await runRollcall([
            "replay", folder.appendingPathComponent("none.avi").path, "--gallery", gallery,
        ])
        #expect(missing.status == 1 && missing.err.contains("does not exist"))

        let corrupt = folder.appendingPathComponent("corrupt.avi")
        try Data((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }).write(to: corrupt)
        let unreadable = try await runRollcall(["replay", corrupt.path, "--gallery", gallery, "--json"])
        #expect(unreadable.status == 1)
        #expect(unreadable.err.contains("corrupt.avi"), "\(unreadable.err)")

        let sessions = folder.appendingPathComponent("sessions.json")
        try Data(
            #"{"room": "B12", "sessions": [{"id": "s", "group": "7B", "start": "8 o'clock", "end": "2026-11-23T09:00:00Z", "roster": []}]}"#
                .utf8
        ).write(to: sessions)
        let images = folder.appendingPathComponent("frames")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        let broken = try await runRollcall([
            "replay", images.path, "--gallery", gallery, "--sessions", sessions.path,
        ])
        #expect(broken.status == 78)
        #expect(broken.err.contains("sessions[0].start"), "\(broken.err)")
    }
}
