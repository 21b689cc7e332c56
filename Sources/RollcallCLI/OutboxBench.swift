import ArgumentParser
import Attendance
import Foundation
import Outbox

/// `rollcall bench outbox`: how long committing one event takes, with a full fsync per commit.
struct OutboxBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Milliseconds to commit one event to the outbox (WAL, synchronous=FULL): median, p99, max.",
        discussion: """
            Commits N check-ins one after another, each in its own transaction, as the door does, to an \
            outbox in --dir (default: a new folder under the temporary directory, removed afterwards). \
            The disk matters: run it on the device's own storage.
            """
    )

    @Option(help: "Events to commit.")
    var events = 1000

    @Option(help: ArgumentHelp("Folder to put the outbox in (the device's data disk).", valueName: "dir"))
    var dir: String?

    @Flag(help: "Print one JSON object with the keys median_ms, p99_ms and max_ms.")
    var json = false

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be at least 1") }
    }

    func run() async throws {
        let folder = URL(fileURLWithPath: dir ?? NSTemporaryDirectory())
            .appendingPathComponent("rollcall-outbox-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outbox = try await Outbox.open(path: folder.appendingPathComponent("outbox.sqlite").path, deviceID: "bench")
        let clock = ContinuousClock()
        let start = Date()
        var samples: [Double] = []
        samples.reserveCapacity(events)
        for index in 0..<events {
            let event = AttendanceEvent.checkin(
                session: "s-bench", person: "p-\(index)", at: start + Double(index), status: .present, minutesLate: 0)
            let elapsed = try await clock.measure {
                try await outbox.enqueue(
                    event, evidence: EventEvidence(method: .face, distance: 0.3, margin: 0.4, model: "dlib_resnet_v1"))
            }
            samples.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
        }
        samples.sort()
        let median = samples[samples.count / 2]
        let p99 = samples[min(samples.count - 1, Int((Double(samples.count) * 0.99).rounded(.up)) - 1)]
        let maximum = samples.last ?? 0
        if json {
            printLine(
                String(
                    format: #"{"events":%d,"median_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f}"#, events, median, p99, maximum
                ))
        } else {
            printLine(
                "outbox benchmark: \(events) events committed one by one (WAL, synchronous=FULL) in \(folder.path)")
            printLine(String(format: "median %.3f ms, p99 %.3f ms, max %.3f ms", median, p99, maximum))
        }
    }
}
