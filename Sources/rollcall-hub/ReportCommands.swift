import ArgumentParser
import Attendance
import Foundation
import Hub
import HubServer
import SyncProtocol

/// `rollcall-hub report`: attendance reports, read from the hub's database.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print attendance reports from the hub's database.",
        subcommands: [
            SessionReportCommand.self, SummaryCommand.self, GroupReportCommand.self, VolunteerReportCommand.self,
        ]
    )
}

/// `rollcall-hub report session ID`.
struct SessionReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session",
        abstract:
            "One session: every roster member present, late (with minutes), absent, excused or pending, and flags.",
        discussion: """
            A roster member without a check-in is absent once the session has closed (its end, plus the room's \
            checkin_closes_minutes_after_end), pending before; excused when staff excused them. Check-ins of \
            people not on the roster are listed after the roster. --format csv gives one line per person.
            """
    )

    @Argument(help: "The session's id.")
    var session: String

    @Option(help: ArgumentHelp("The hub's database.", valueName: "file"))
    var db = "rollcall-hub.sqlite"

    @Option(help: "json or csv.")
    var format = "json"

    @Option(help: ArgumentHelp("Report as at this time (ISO 8601; default now).", valueName: "time"))
    var at: String?

    func validate() throws {
        guard ["json", "csv"].contains(format) else { throw ValidationError("--format must be json or csv") }
        if let at, ISO8601Time.parse(at) == nil { throw ValidationError("--at \(at) is not an ISO 8601 time") }
    }

    func run() async throws {
        let storage = try await openStorage(db)
        let report: SessionReport
        do {
            report = try await storage.sessionReport(session, now: at.flatMap(ISO8601Time.parse) ?? Date())
        } catch {
            fail("\(error.message)")
        }
        if format == "csv" {
            FileHandle.standardOutput.write(Data(report.csv.utf8))
        } else {
            let encoder = DeviceAPI.encoder()
            encoder.outputFormatting.insert(.prettyPrinted)
            FileHandle.standardOutput.write((try encoder.encode(report)) + Data("\n".utf8))
        }
    }
}

/// `rollcall-hub report summary ID`: a few lines for a chat post.
struct SummaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary", abstract: "A short written participation summary of a session, for a chat post.")

    @Argument(help: "The session's id.") var session: String
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file")) var db = "rollcall-hub.sqlite"
    @Option(help: ArgumentHelp("As at this time (ISO 8601; default now).", valueName: "time")) var at: String?

    func run() async throws {
        let storage = try await openStorage(db)
        do {
            print(try await storage.sessionReport(session, now: at.flatMap(ISO8601Time.parse) ?? Date()).summary)
        } catch {
            fail(error.message)
        }
    }
}

/// `rollcall-hub report group GROUP --from --to`.
struct GroupReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "A group over a date range: attendance and punctuality per person, sessions missed in a row.",
        discussion: """
            Sessions of the group starting in [from, to). Attendance is present and late against the closed \
            sessions not excused; punctuality is present against present and late; missed in a row counts the \
            absences up to the latest closed session (3 or more: pastoral). --format html writes the page with \
            the participation chart that GET /reports/groups/GROUP serves.
            """
    )

    @Argument(help: "The group (as in the timetable).") var group: String
    @Option(help: ArgumentHelp("Start (ISO 8601).", valueName: "time")) var from: String
    @Option(help: ArgumentHelp("End, exclusive (ISO 8601).", valueName: "time")) var to: String
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file")) var db = "rollcall-hub.sqlite"
    @Option(help: "json, csv or html.") var format = "json"

    func validate() throws {
        guard ["json", "csv", "html"].contains(format) else {
            throw ValidationError("--format must be json, csv or html")
        }
        guard ISO8601Time.parse(from) != nil, ISO8601Time.parse(to) != nil else {
            throw ValidationError("--from and --to are ISO 8601 times such as 2026-11-01T00:00:00Z")
        }
    }

    func run() async throws {
        let storage = try await openStorage(db)
        let report: GroupReport
        do {
            report = try await storage.groupReport(
                group, from: ISO8601Time.parse(from)!, to: ISO8601Time.parse(to)!, now: Date())
        } catch {
            fail(error.message)
        }
        switch format {
        case "csv": FileHandle.standardOutput.write(Data(report.csv.utf8))
        case "html":
            do {
                FileHandle.standardOutput.write(Data(try GroupPage.html(report).utf8))
            } catch {
                fail(error.message)
            }
        default:
            let encoder = DeviceAPI.encoder()
            encoder.outputFormatting.insert(.prettyPrinted)
            FileHandle.standardOutput.write((try encoder.encode(report)) + Data("\n".utf8))
        }
    }
}

/// `rollcall-hub report volunteers --from DATE --to DATE`.
struct VolunteerReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volunteers",
        abstract: "Volunteer hours per person and ISO week, from sign-in and sign-out visits.",
        discussion: """
            Each closed visit counts in the week (Monday to Sunday, in its room's timezone) it falls in; a visit \
            over Sunday midnight is split between the two weeks; visits still open are listed, not counted.
            """
    )

    @Option(help: ArgumentHelp("Start (ISO 8601, e.g. 2026-11-01T00:00:00Z).", valueName: "time")) var from: String
    @Option(help: ArgumentHelp("End, exclusive (ISO 8601).", valueName: "time")) var to: String
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file")) var db = "rollcall-hub.sqlite"
    @Option(help: "json or csv.") var format = "json"

    func validate() throws {
        guard ["json", "csv"].contains(format) else { throw ValidationError("--format must be json or csv") }
        guard ISO8601Time.parse(from) != nil, ISO8601Time.parse(to) != nil else {
            throw ValidationError("--from and --to are ISO 8601 times such as 2026-11-01T00:00:00Z")
        }
    }

    func run() async throws {
        let storage = try await openStorage(db)
        let hours: VolunteerHours
        do {
            hours = try await storage.volunteerHours(from: ISO8601Time.parse(from)!, to: ISO8601Time.parse(to)!)
        } catch {
            fail(error.message)
        }
        if format == "csv" {
            FileHandle.standardOutput.write(Data(hours.csv.utf8))
        } else {
            let encoder = DeviceAPI.encoder()
            encoder.outputFormatting.insert(.prettyPrinted)
            FileHandle.standardOutput.write((try encoder.encode(hours)) + Data("\n".utf8))
        }
    }
}

/// `rollcall-hub flag SESSION PERSON FLAG`: a mentor's flag.
struct FlagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flag",
        abstract: "Set or remove a mentor's flag on a person in a session.",
        discussion: "Flags: \(MentorFlag.allCases.map(\.rawValue).joined(separator: ", ")). They show in the reports."
    )

    @Argument var session: String
    @Argument var person: String
    @Argument(help: ArgumentHelp("The flag.", valueName: "flag")) var flag: String
    @Option(help: "A note kept with the flag.") var note: String?
    @Flag(help: "Remove the flag instead.") var remove = false
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file")) var db = "rollcall-hub.sqlite"

    func run() async throws {
        guard let value = MentorFlag(rawValue: flag) else {
            fail("\(flag) is not a flag; the flags are \(MentorFlag.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let storage = try await openStorage(db)
        do {
            try await storage.setFlag(session: session, person: person, flag: value, note: note, on: !remove)
        } catch {
            fail(error.message)
        }
        print("\(remove ? "removed" : "set") \(value.rawValue) on \(person) in \(session)")
    }
}

/// `rollcall-hub excuse SESSION PERSON --reason TEXT`.
struct ExcuseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "excuse",
        abstract: "Excuse a person's absence from a session (or, with --remove, take the excuse back).")

    @Argument var session: String
    @Argument var person: String
    @Option(help: "Why (required unless --remove).") var reason: String?
    @Flag(help: "Remove the excuse.") var remove = false
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file")) var db = "rollcall-hub.sqlite"

    func validate() throws {
        if !remove, (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("an excuse needs --reason")
        }
    }

    func run() async throws {
        let storage = try await openStorage(db)
        do {
            try await storage.setExcuse(session: session, person: person, reason: remove ? nil : reason)
        } catch {
            fail(error.message)
        }
        print(remove ? "removed the excuse of \(person) in \(session)" : "excused \(person) in \(session)")
    }
}

/// `rollcall-hub token add --scope staff --label L TOKEN`.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Add, list or revoke staff and public tokens (only their hashes are stored).",
        discussion: """
            staff tokens read reports and set flags and excuses; public tokens read the pseudonymous API. \
            The admin token is not stored: it is given to `serve` (--admin-token-file).
            """,
        subcommands: [TokenAdd.self, TokenList.self, TokenRevoke.self],
        defaultSubcommand: TokenAdd.self
    )
}

struct TokenAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a staff or public token.")

    @Option(
        help: ArgumentHelp(
            "File holding the token, one line of at least 16 characters (e.g. `openssl rand -hex 24 > F`); "
                + "never on the command line, where ps shows it.", valueName: "file"))
    var tokenFile: String?
    /// Refused with the reason: a token on the command line shows in `ps`.
    @Argument(help: .hidden) var token: String?
    @Option(help: "staff or public.") var scope: String
    @Option(help: "Who or what the token is for.") var label: String
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file")) var db = "rollcall-hub.sqlite"

    func run() async throws {
        guard token == nil else {
            fail(
                "a token on the command line shows in ps: put it in a file only you can read and give --token-file FILE"
            )
        }
        guard let value = TokenScope(rawValue: scope), value != .admin else {
            fail("--scope must be staff or public")
        }
        guard let tokenFile else { fail("give the token in a file: --token-file FILE") }
        let token = readToken(tokenFile)
        try await onStorage(db) { storage throws(HubError) in
            try await storage.addAccessToken(token, scope: value, label: label)
        }
        print("added a \(value.rawValue) token for \(label)")
    }
}

/// The hub's store at `path`: a SQLite file, or a PostgreSQL database by its URL; a failure ends the
/// command with its message.
func openStorage(_ path: String, dataKeyFile: String? = nil) async throws -> any HubStorage {
    do {
        return try await HubStores.open(
            path, dataKeyFile: dataKeyFile, environment: ProcessInfo.processInfo.environment)
    } catch {
        fail(error.message)
    }
}

/// Runs `body` on the hub's store at `path`; a refusal or a storage error ends the command with its
/// message.
func onStorage<T>(_ path: String, _ body: (any HubStorage) async throws(HubError) -> T) async throws -> T {
    let storage = try await openStorage(path)
    do {
        return try await body(storage)
    } catch {
        fail(error.message)
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("rollcall-hub: \(message)\n".utf8))
    Foundation.exit(1)
}

/// `rollcall-hub import timetable FILE`.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import into the hub's database.",
        subcommands: [ImportTimetableCommand.self, ImportPeopleCommand.self]
    )
}

/// `rollcall-hub import timetable FILE`.
struct ImportTimetableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timetable",
        abstract: "Import a timetable CSV: one session per date, or a weekday repeated over a term.",
        discussion: """
            Columns: class, group, room, start, end (local times in the room's timezone, 08:00), and either date \
            (2026-10-02) or weekday (Mon...Sun) with first and last (the term). The roster is the group's \
            members. Importing again updates the same sessions. Prints a line per refused line of the file, \
            then the count; exits 1 when a line was refused (the others are imported).
            """
    )

    @Argument(help: "The CSV file.") var file: String
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file")) var db = "rollcall-hub.sqlite"

    func run() async throws {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { fail("cannot read \(file)") }
        let storage = try await openStorage(db)
        let result: Timetable.Import
        do {
            result = try await storage.importTimetable(text)
        } catch {
            fail(error.message)
        }
        for problem in result.problems { print("\(file):\(problem.line): \(problem.message)") }
        print("\(result.sessions.count) sessions imported, \(result.problems.count) lines refused")
        if !result.problems.isEmpty { throw ExitCode.failure }
    }
}
