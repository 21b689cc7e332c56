import ArgumentParser
import Foundation
import Hub
import SyncProtocol
import Synchronization

/// `rollcall-hub migrate`: brings the database's schema up to this version's.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring the hub's database up to this version's schema (idempotent; `serve` does it too).",
        discussion: """
            Applies the schema steps the database lacks, each in its own transaction, and lists them. Run \
            it again and it applies nothing. Two at once are safe: SQLite lets one writer in at a time, and \
            the second finds the steps applied.
            """)

    @Option(
        help: ArgumentHelp(
            "The hub's database: a SQLite file (created when missing) or a postgres:// URL.", valueName: "file|url"))
    var db = "rollcall-hub.sqlite"

    @Option(
        help: ArgumentHelp(
            "The data key (as `serve --data-key-file`); records from before sealing are sealed with it.",
            valueName: "file"))
    var dataKeyFile: String?

    func run() async throws {
        if PostgresHubStorage.isURL(db) {
            // Under an advisory lock in one transaction: two processes at once apply each step once.
            do {
                let storage = try await PostgresHubStorage.open(
                    url: db, sealer: try HubStores.postgresSealer(dataKeyFile, ProcessInfo.processInfo.environment),
                    maximumConnections: 2)
                let applied = try await storage.appliedMigrations()
                await storage.close()
                print(
                    "schema up to date (\(applied.count) of \(PostgresHubStorage.knownMigrations.count) steps; "
                        + "last: \(applied.last ?? "none"))")
            } catch {
                fail(error.message)
            }
            return
        }
        let known = SQLiteHubStorage.knownMigrations
        let before: Set<String>
        if FileManager.default.fileExists(atPath: db) {
            do { before = Set(try SQLiteHubStorage.appliedMigrations(at: db)) } catch { fail(error.message) }
        } else {
            before = []
        }
        let storage: SQLiteHubStorage
        do {
            let sealer = try PersonSealer.load(
                file: dataKeyFile, database: db, environment: ProcessInfo.processInfo.environment)
            storage = try SQLiteHubStorage(path: db, sealer: sealer)
        } catch {
            fail(error.message)
        }
        let applied: [String]
        do {
            applied = try await storage.appliedMigrations()
        } catch {
            fail(error.message)
        }
        let new = applied.filter { !before.contains($0) }
        for step in new { print("applied: \(step)") }
        print(
            "\(db): schema up to date (\(applied.count) of \(known.count) steps, \(new.count) applied now; "
                + "last: \(applied.last ?? "none"))")
    }
}

/// `rollcall-hub backup`: a consistent copy of a running hub's SQLite database.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the hub's SQLite database to a new file while the hub keeps serving.",
        discussion: """
            Uses SQLite's online backup: the copy is the database as it was at one moment, however busy \
            the hub. The people's records stay sealed in the copy: keep the data key (<db>.key, or the \
            --data-key-file the hub is given) too, apart from the copy, or the copy's people cannot be \
            read. Restore by stopping the hub and putting the copy in the database's place. For \
            PostgreSQL use pg_dump (see the README).
            """)

    @Option(help: ArgumentHelp("The hub's database.", valueName: "file")) var db = "rollcall-hub.sqlite"
    @Option(help: ArgumentHelp("The copy to make (a new file).", valueName: "file")) var to: String

    func run() async throws {
        guard !PostgresHubStorage.isURL(db) else {
            fail(
                "a PostgreSQL hub is backed up with pg_dump: pg_dump --format=custom --file=COPY DATABASE (see the README)"
            )
        }
        guard let storage = try await openStorage(db) as? SQLiteHubStorage else { fail("\(db) is not a SQLite hub") }
        let shown = Mutex(-1)
        do {
            try await storage.backup(to: to) { fraction in
                let tenth = Int(fraction * 10)
                let show = shown.withLock { last -> Bool in
                    guard tenth > last else { return false }
                    last = tenth
                    return true
                }
                if show { FileHandle.standardError.write(Data("backup: \(tenth * 10)%\n".utf8)) }
            }
        } catch {
            fail(error.message)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: to)[.size] as? Int) ?? 0
        print("backed up \(db) to \(to) (\(size / 1024) KiB); keep the data key apart from it")
    }
}

/// `rollcall-hub copy`: a SQLite hub's data into a new PostgreSQL database.
struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy a SQLite hub's data into a new PostgreSQL database (to move a school to PostgreSQL).",
        discussion: """
            Copies every table in one PostgreSQL transaction: all or nothing. Stop the SQLite hub first \
            (or copy a backup). The records stay sealed with the SQLite hub's data key, so give the \
            PostgreSQL hubs that same key (--data-key-file; by default <from>.key). The public API's \
            pseudonyms do not change.
            """)

    @Option(help: ArgumentHelp("The SQLite hub's database.", valueName: "file")) var from: String
    @Option(help: ArgumentHelp("The PostgreSQL database (postgres://...), new and empty.", valueName: "url"))
    var to: String
    @Option(help: ArgumentHelp("The SQLite hub's data key (default <from>.key).", valueName: "file"))
    var dataKeyFile: String?

    func run() async throws {
        guard FileManager.default.fileExists(atPath: from) else { fail("\(from) does not exist (--from)") }
        guard PostgresHubStorage.isURL(to) else { fail("--to takes a postgres:// URL, not \(to)") }
        let key = dataKeyFile ?? from + ".key"
        do {
            let sealer = try PersonSealer.load(file: key, database: from, environment: [:])
            let source = try SQLiteHubStorage(path: from, sealer: sealer)
            let target = try await PostgresHubStorage.open(url: to, sealer: sealer, maximumConnections: 2)
            let copied = try await HubCopy.copy(from: source, to: target) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            // Every record opens with the key in its new place.
            let people = try await target.galleryDelta(since: 0).upserts.count
            await target.close()
            let total = copied.values.reduce(0, +)
            print(
                "copied \(total) rows (\(copied["person"] ?? 0) people, \(copied["session"] ?? 0) sessions, "
                    + "\(copied["receivedEvent"] ?? 0) events) into \(to); \(people) people read back with the key "
                    + "\(key): start the PostgreSQL hubs with --data-key-file \(key)")
        } catch {
            fail(error.message)
        }
    }
}
