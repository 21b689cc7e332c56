import Attendance
import Foundation
import Outbox
import TestSupport
import Testing

/// `rollcall outbox list`: what a technician (and the chaos and end-to-end tests) read of a door's queue.
struct OutboxListTests {
    @Test(
        "lists every committed event oldest first with its delivery state and the hub's reason; never makes an outbox")
    func listing() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("outbox.sqlite").path
        let start = Date(timeIntervalSince1970: 1_795_420_800)  // 2026-11-23T08:00:00Z
        var ids: [String] = []
        do {
            let outbox = try await Outbox.open(path: path, deviceID: "door-b12")
            let evidence = EventEvidence(method: .face, model: "dlib_resnet_v1")
            for (index, person) in ["p-1", "p-2", "p-3"].enumerated() {
                let event = AttendanceEvent.checkin(
                    session: "s-math", person: person, at: start + Double(index), status: .present, minutesLate: 0)
                ids.append(try await outbox.enqueue(event, evidence: evidence).id)
            }
            try await outbox.markSynced([ids[0]])
            try await outbox.markRejected(ids[1], reason: "unknown person p-2")
        }
        struct Listing: Decodable {
            struct Event: Decodable {
                var id, kind, person, state, at: String
                var session: String?
                var reject_reason: String?
            }
            var events: [Event]
            var counts: [String: Int]
        }
        let json = try await runRollcall(["outbox", "list", "--json", "--outbox", path])
        #expect(json.status == 0, "\(json.err)")
        let listing = try JSONDecoder().decode(Listing.self, from: Data(json.out.utf8))
        #expect(listing.events.map(\.id) == ids)
        #expect(listing.events.map(\.state) == ["synced", "rejected", "pending"])
        #expect(listing.events.map(\.person) == ["p-1", "p-2", "p-3"])
        #expect(listing.events.allSatisfy { $0.kind == "checkin" && $0.session == "s-math" })
        #expect(listing.events.first?.at == "2026-11-23T08:00:00Z")
        #expect(listing.events[1].reject_reason == "unknown person p-2" && listing.events[0].reject_reason == nil)
        #expect(listing.counts == ["pending": 1, "synced": 1, "rejected": 1])

        let text = try await runRollcall(["outbox", "list", "--outbox", path])
        let lines = text.out.split(separator: "\n").map(String.init)
        #expect(text.status == 0 && lines.count == 4, "\(text.out)\(text.err)")
        #expect(lines.first == "\(ids[0]) checkin p-1 s-math 2026-11-23T08:00:00Z synced")
        #expect(lines[1].hasSuffix("rejected (unknown person p-2)"))
        #expect(lines.last == "pending 1, synced 1, rejected 1")

        let missing = folder.appendingPathComponent("none.sqlite").path
        let refused = try await runRollcall(["outbox", "list", "--outbox", missing])
        #expect(refused.status == 66 && refused.err.contains("no outbox at"), "\(refused.err)")
        #expect(!FileManager.default.fileExists(atPath: missing), "listing makes no outbox")
    }
}
