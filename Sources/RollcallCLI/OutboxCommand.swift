import ArgumentParser
import Attendance
import Foundation
import Outbox

/// `rollcall outbox`: what the door's durable queue holds, for a technician.
struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Look into the door's outbox (its durable queue of events).",
        subcommands: [OutboxListCommand.self]
    )
}

/// `rollcall outbox list`: every committed event with its delivery state, read through `Outbox`.
struct OutboxListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the outbox's committed events, oldest first, with their delivery state.",
        discussion: """
            One line per event: id, kind, person, session, time (UTC), and its state (pending, synced, or \
            rejected with the hub's reason). Compare the ids with what the hub received: \
            GET /api/v1/admin/devices/ID/events. The outbox is opened as the daemon opens it (its integrity \
            checked; a missing file is an error, never created), so prefer a stopped daemon; a busy outbox \
            is reported, and the command can be run again. Give the daemon's data key with --data-key-file when \
            it is not beside the file.
            """
    )

    @Option(help: ArgumentHelp("The outbox file (the daemon's is <data_dir>/outbox.sqlite).", valueName: "file"))
    var outbox: String

    @Option(
        help: ArgumentHelp(
            "The key that seals the cached state (the daemon's device.data_key_file).",
            discussion:
                "Without it: $ROLLCALL_DATA_KEY_FILE, the systemd credential data-key, else the key beside the file.",
            valueName: "file"))
    var dataKeyFile: String?

    @Flag(help: "One JSON object: {\"events\": [...], \"counts\": {...}}.")
    var json = false

    /// One event as listed (`--json`).
    struct Line: Encodable {
        var id, kind, person: String
        var session: String?
        var at: String
        var state: String
        var rejectReason: String?
        var attempts: Int

        init(_ event: QueuedEvent) {
            id = event.id
            kind = event.kind
            person = event.person
            session = event.session
            at = ISO8601Time.format(Date(milliseconds: event.at))
            state = event.state.rawValue
            rejectReason = event.rejectReason
            attempts = event.attempts
        }

        enum CodingKeys: String, CodingKey {
            case id, kind, person, session, at, state, attempts
            case rejectReason = "reject_reason"
        }
    }

    /// The whole listing (`--json`).
    struct Listing: Encodable {
        var events: [Line]
        var counts: [String: Int]
    }

    func run() async throws {
        guard FileManager.default.fileExists(atPath: outbox) else {
            printError("no outbox at \(outbox): give the daemon's <data_dir>/outbox.sqlite")
            throw ExitCode(EX_NOINPUT)
        }
        let events: [QueuedEvent]
        do {
            let store = try await Outbox.open(
                // The device id only names the source of events added, and a listing adds none.
                path: outbox, deviceID: "outbox-list",
                sealer: try Outbox.sealer(
                    path: outbox, keyFile: dataKeyFile, environment: ProcessInfo.processInfo.environment))
            events = try await store.allEvents()
        } catch {
            printError("\(error)")
            throw ExitCode(EX_CONFIG_UNAVAILABLE)
        }
        let lines = events.map(Line.init)
        var counts = Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0.rawValue, 0) })
        for line in lines { counts[line.state, default: 0] += 1 }
        if json {
            printLine(JSONLine.encode(Listing(events: lines, counts: counts)))
            return
        }
        for line in lines {
            let state = line.state + (line.rejectReason.map { " (\($0))" } ?? "")
            printLine([line.id, line.kind, line.person, line.session ?? "-", line.at, state].joined(separator: " "))
        }
        printLine(DeliveryState.allCases.map { "\($0.rawValue) \(counts[$0.rawValue] ?? 0)" }.joined(separator: ", "))
    }
}
