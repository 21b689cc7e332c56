import Attendance
import Capture
import Foundation
import InMemoryLogging
import Logging
import Recognition
import SyncProtocol
import TestSupport
import Testing

@testable import Kiosk
@testable import Outbox
@testable import Signage
@testable import Systemd

struct SignageBroadcasterTests {
    /// The next `count` messages of a stream.
    func take(_ count: Int, from stream: AsyncStream<String>) async -> [String] {
        var messages: [String] = []
        for await message in stream {
            messages.append(message)
            if messages.count == count { break }
        }
        return messages
    }

    @Test("a page gets the reconnect delay and the current state first, then decisions as they come")
    func subscribe() async {
        let broadcaster = SignageBroadcaster()
        broadcaster.publishState(#"{"online":true}"#)
        let stream = broadcaster.subscribe()
        broadcaster.publishState(#"{"online":true}"#)  // unchanged: not sent again
        broadcaster.publishDecision(#"{"kind":"checkin"}"#)
        broadcaster.publishState(#"{"online":false}"#)
        let messages = await take(4, from: stream)
        #expect(
            messages == [
                "retry: 1000\n\n", "event: state\ndata: {\"online\":true}\n\n",
                "event: decision\ndata: {\"kind\":\"checkin\"}\n\n", "event: state\ndata: {\"online\":false}\n\n",
            ])
        #expect(broadcaster.count == 1)
    }

    @Test("finish() ends every page's stream, and a page that comes later gets an empty one")
    func finish() async {
        let broadcaster = SignageBroadcaster()
        let stream = broadcaster.subscribe()
        broadcaster.finish()
        var received = 0
        for await _ in stream { received += 1 }
        #expect(received == 1)  // the retry line, then the end
        var late = 0
        for await _ in broadcaster.subscribe() { late += 1 }
        #expect(late == 0 && broadcaster.count == 0)
    }
}

struct KioskStatusTests {
    func status(camera: CameraState, online: Bool, lastSuccess: String?) -> KioskStatus {
        KioskStatus(
            device: "door-b12", room: "B12", startedAt: "2026-11-23T07:00:00Z", uptimeSeconds: 3600,
            camera: KioskStatus.Camera(
                state: camera, device: "/dev/rollcall-camera", node: "/dev/video0", format: nil, fps: 29.7,
                frames: 100, drops: 2, reconnects: 1, lastError: nil),
            processing: KioskStatus.Processing(frames: 98, fps: 29.7, decisions: 3, lastDecisionAt: nil),
            gallery: KioskStatus.GallerySummary(version: 13, people: 240, templates: 480),
            queue: KioskStatus.Queue(pending: 4, synced: 10, rejected: 0),
            sync: KioskStatus.SyncSummary(
                hub: "https://hub", online: online, lastSuccess: lastSuccess, lastError: nil, clockOffsetSeconds: 0.2),
            session: nil, problem: nil)
    }

    @Test("the STATUS= line: camera and fps, queue depth, last sync, gallery size")
    func line() {
        #expect(
            status(camera: .streaming, online: true, lastSuccess: "2026-11-23T08:00:00Z").line
                == "camera streaming 30 fps; queue 4; synced 2026-11-23T08:00:00Z; gallery 240 people (v13)")
        #expect(
            status(camera: .reconnecting, online: false, lastSuccess: nil).line
                == "camera reconnecting; queue 4; offline, never synced; gallery 240 people (v13)")
    }

    @Test("the status round-trips through its JSON (what rollcall status reads)")
    func json() throws {
        let original = status(camera: .streaming, online: true, lastSuccess: nil)
        let decoded = try JSONDecoder().decode(KioskStatus.self, from: Data(original.json.utf8))
        #expect(decoded == original)
        #expect(original.json.contains("\"uptime_seconds\":3600") && original.json.contains("\"clock_offset_seconds\""))
    }
}

struct JournalTests {
    @Test("journald priorities as sd-daemon.h numbers them")
    func priorities() {
        let levels: [Logger.Level] = [.trace, .debug, .info, .notice, .warning, .error, .critical]
        #expect(levels.map(JournalLogHandler.priority) == [7, 7, 6, 5, 4, 3, 2])
    }
}

struct DoorInputsTests {
    @Test("the door's inputs come from what sync stored, and the book remembers committed check-ins")
    func load() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outbox = try Outbox(path: folder.appendingPathComponent("outbox.sqlite").path, deviceID: "door-b12")
        let logger = Logger(label: "test")
        let empty = await DoorInputs.load(from: outbox, allowUnsigned: false, logger: logger)
        #expect(empty.gallery.people.isEmpty && empty.schedule.sessions.isEmpty && empty.galleryVersion == 0)

        let start = Date(timeIntervalSince1970: 1_795_420_800)  // 2026-11-23T08:00:00Z
        let session = Session(
            id: "s-1", room: "B12", group: "7B", start: start, end: start + 2700, roster: ["p-1"])
        let manifest = DeviceManifest(
            schedule: SessionSchedule(room: "B12", sessions: [session]), galleryVersion: 3, badgeKeysVersion: 1)
        try await outbox.cacheManifest(manifest, etag: nil)
        let gallery =
            #"{"format":"rollcall-gallery","version":1,"model":"dlib_resnet_v1","people":[{"id":"p-1","name":"Ada","role":"student","groups":[],"templates":[]}]}"#
        try await outbox.cacheGallery(try GalleryDocument.decode(Data(gallery.utf8)), version: 3, scope: nil)
        try await outbox.enqueue(
            .checkin(session: "s-1", person: "p-1", at: start + 60, status: .present, minutesLate: 0),
            evidence: EventEvidence(method: .face), now: start + 60)
        var inputs = await DoorInputs.load(from: outbox, allowUnsigned: false, now: start + 120, logger: logger)
        #expect(inputs.names == ["p-1": "Ada"] && inputs.galleryVersion == 3 && inputs.schedule.room == "B12")
        // Restarted, the door does not check the same person in twice.
        guard
            case .alreadyCheckedIn(let again, "p-1", _) = inputs.book.studentIdentified(person: "p-1", at: start + 130)
        else {
            Issue.record("a person checked in before the restart was checked in again")
            return
        }
        #expect(again == "s-1")

        // What cannot be read is logged and left empty; the rest is loaded.
        try await outbox.setState(.gallery, Data("not json".utf8))
        let handler = InMemoryLogHandler()
        let broken = await DoorInputs.load(
            from: outbox, allowUnsigned: false, now: start + 120,
            logger: Logger(label: "test", factory: { _ in handler }))
        #expect(broken.gallery.people.isEmpty && broken.schedule.sessions.count == 1)
        #expect(
            handler.entries.contains {
                $0.level == .error && "\($0.message)".hasPrefix("the stored gallery cannot be read")
            })
    }
}
