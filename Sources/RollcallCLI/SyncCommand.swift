import ArgumentParser
import Attendance
import Foundation
import Outbox
import Sync

/// Where the hub is, for the commands that talk to it.
struct HubOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The hub's base URL, e.g. http://127.0.0.1:8080.", valueName: "url"))
    var hub: String

    @Option(help: ArgumentHelp("The device's bearer token (or $ROLLCALL_HUB_TOKEN).", valueName: "token"))
    var token: String?

    @Option(help: ArgumentHelp("This device's id, as the hub knows it.", valueName: "id"))
    var deviceID = "door-b12"

    @Option(help: ArgumentHelp("The outbox file.", valueName: "file"))
    var outbox: String

    func open() async throws -> (Outbox, SyncClient) {
        try await Self.open(hub: hub, token: token, deviceID: deviceID, outbox: outbox)
    }

    /// Opens the outbox and a sync client for `hub`; the token falls back on `$ROLLCALL_HUB_TOKEN`.
    static func open(hub: String, token: String?, deviceID: String, outbox: String) async throws -> (Outbox, SyncClient)
    {
        guard let token = token ?? ProcessInfo.processInfo.environment["ROLLCALL_HUB_TOKEN"] else {
            throw ValidationError("give the device's token with --token or $ROLLCALL_HUB_TOKEN")
        }
        let store: Outbox
        do {
            store = try await Outbox.open(
                path: outbox, deviceID: deviceID,
                sealer: try Outbox.sealer(path: outbox, keyFile: nil, environment: ProcessInfo.processInfo.environment))
        } catch {
            printError("\(error)")
            throw ExitCode(EX_CONFIG_UNAVAILABLE)
        }
        return (store, SyncClient(configuration: SyncConfiguration(baseURL: hub, token: token), outbox: store))
    }
}

/// `rollcall sync`: pushes the outbox's pending events to the hub until none is left.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Push the outbox's pending events to the hub until none is left (or time runs out).",
        discussion: """
            What the daemon does continuously, once: batches of up to 500 events, oldest first, retried with \
            backoff while the hub is unreachable or busy. Prints the counts; exits 1 when events are still \
            pending at the end.
            """
    )

    @OptionGroup var hub: HubOptions

    @Option(help: "Give up after this many seconds.")
    var seconds: Double = 60

    func run() async throws {
        let (outbox, client) = try await hub.open()
        let empty = await client.drain(deadline: Date() + seconds)
        let counts = (try? await outbox.counts()) ?? [:]
        let status = await client.status
        printLine(
            "synced \(counts[.synced] ?? 0), pending \(counts[.pending] ?? 0), rejected \(counts[.rejected] ?? 0)"
                + (status.clockOffset.map { String(format: "; the hub's clock is %+.1f s from ours", $0) } ?? ""))
        if !empty {
            printError("events are still pending: \(status.lastError ?? "the time ran out")")
            throw ExitCode.failure
        }
    }
}

/// `rollcall bench sync`: commit N events, then drain them to a hub.
struct SyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Commit N check-ins to an outbox one by one, then drain them to a hub; time both.",
        discussion: """
            The hub must know the device, the session s-bench and the people p-0 ... p-9; --serve-hub starts \
            one so set up (`rollcall-hub serve` beside this executable, a new database in a temporary folder, \
            removed afterwards). Each run adds N new events to the outbox (new ids), so runs can be repeated, \
            and killed.
            """
    )

    @Option(help: ArgumentHelp("The hub's base URL, e.g. http://127.0.0.1:8080.", valueName: "url"))
    var hub: String?

    @Option(help: ArgumentHelp("The device's bearer token (or $ROLLCALL_HUB_TOKEN).", valueName: "token"))
    var token: String?

    @Option(help: ArgumentHelp("This device's id, as the hub knows it.", valueName: "id"))
    var deviceID = "door-b12"

    @Option(help: ArgumentHelp("The outbox file (with --serve-hub: one in the hub's folder).", valueName: "file"))
    var outbox: String?

    @Flag(
        help:
            "Start a hub set up for the bench (rollcall-hub serve beside this executable, on loopback, a new database) and sync to it, instead of --hub."
    )
    var serveHub = false

    @Option(help: "Events to commit.")
    var events = 10_000

    @Option(help: "The session the check-ins are for.")
    var session = "s-bench"

    @Flag(help: "Print one JSON object.")
    var json = false

    @Flag(
        help:
            "Print `committed K` as soon as the first event, and every 1000th, is committed (for a caller that waits for committing to begin)."
    )
    var progress = false

    func validate() throws {
        guard serveHub != (hub != nil) else { throw ValidationError("give either --hub (and --outbox) or --serve-hub") }
        guard serveHub || outbox != nil else { throw ValidationError("give the outbox file with --outbox") }
    }

    func run() async throws {
        guard serveHub else {
            let (outbox, client) = try await HubOptions.open(
                hub: hub ?? "", token: token, deviceID: deviceID, outbox: self.outbox ?? "")
            try await bench(outbox, client)
            return
        }
        let local = try await BenchHub(deviceID: deviceID)
        do {
            let (outbox, client) = try await HubOptions.open(
                hub: local.url, token: local.deviceToken, deviceID: deviceID,
                outbox: self.outbox ?? local.folder.appendingPathComponent("outbox.sqlite").path)
            try await bench(outbox, client)
        } catch {
            local.stop()
            throw error
        }
        local.stop()
    }

    func bench(_ outbox: Outbox, _ client: SyncClient) async throws {
        let clock = ContinuousClock()
        var samples: [Double] = []
        let now = Date()
        for index in 0..<events {
            let event = AttendanceEvent.checkin(
                session: session, person: "p-\(index % 10)", at: now + Double(index) / 1000, status: .present,
                minutesLate: 0)
            let elapsed = try await clock.measure {
                try await outbox.enqueue(event, evidence: EventEvidence(method: .face, model: "dlib_resnet_v1"))
            }
            samples.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
            if progress && (index == 0 || (index + 1) % 1000 == 0) { printLine("committed \(index + 1)") }
        }
        samples.sort()
        let started = Date()
        let empty = await client.drain(deadline: Date() + 600)
        let seconds = Date().timeIntervalSince(started)
        let median = samples.isEmpty ? 0 : samples[samples.count / 2]
        let p99 = samples.isEmpty ? 0 : samples[min(samples.count - 1, Int(Double(samples.count) * 0.99))]
        if json {
            printLine(
                String(
                    format: #"{"events":%d,"enqueue_median_ms":%.3f,"enqueue_p99_ms":%.3f,"drain_seconds":%.3f,"#,
                    events, median, p99, seconds) + #""drained":\#(empty)}"#)
        } else {
            printLine(String(format: "committed %d events: median %.3f ms, p99 %.3f ms each", events, median, p99))
            printLine(
                String(format: "drained to the hub in %.2f s", seconds) + (empty ? "" : " (NOT all: see the log)"))
        }
        if !empty { throw ExitCode.failure }
    }
}
