import Attendance
import Foundation
import Kiosk
import Logging
import Outbox
import TestSupport
import Testing

/// `device.outbox_max_mb` reaches the outbox `rollcall run` opens (issue 15, finding 11: the daemon
/// opened its outbox without any cap, so a door offline for weeks filled its SD card).
struct OutboxCapTests {
    @Test("the daemon's outbox stops at device.outbox_max_mb with a 'disk is full' error, not at the card's end")
    func capped() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let settings = try KioskConfiguration.parse(
            "[device]\nid = \"door-1\"\ndata_dir = \"\(folder.path)\"\noutbox_max_mb = 1\n")
        #expect(settings.outboxMaximumMegabytes == 1)
        #expect(try KioskConfiguration.parse("[device]\nid = \"d\"\n").outboxMaximumMegabytes == 512)
        let outbox = try await settings.openOutbox(logger: Logger(label: "test"))
        let start = Date(timeIntervalSince1970: 1_795_420_800)
        var failure: OutboxError?
        for index in 0..<20_000 {
            do {
                try await outbox.enqueue(
                    .entry(person: "v-\(index)", at: start + Double(index)), evidence: EventEvidence(method: .qr))
            } catch {
                failure = error
                break
            }
        }
        let error = try #require(failure, "1 MiB must fill before 20,000 events")
        #expect(error.isDiskFull, "\(error.message)")
        let size =
            try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("outbox.sqlite").path)[
                .size] as? Int ?? 0
        #expect(size <= 1 << 20, "the file is \(size) bytes")
    }
}
