public import Attendance
public import Foundation
import GRDB
public import Logging
public import Sealing

/// The device's durable store: the queue of events waiting for the server, the badges refused for
/// audit, and cached device state (manifest, gallery, badge keys, sync cursors).
///
/// SQLite in WAL mode with `synchronous=FULL`: when `enqueue` returns, the event is on disk and
/// survives a power cut, so the screen may show it. Opening checks the file's integrity; a corrupt
/// file is moved aside (loudly), a new one is made, and every event that can still be read from the
/// old one is copied over; the cached state (the gallery's face templates above all) is then erased
/// from the damaged copy. All work runs on GRDB's own threads, never on Swift's cooperative pool.
///
/// The cached state is sealed (`DataSealer`) under a key kept outside the file, so that a copied
/// outbox or a stolen SD card without the key yields no template, name or roster. Freed pages are
/// zeroed (`secure_delete`), so that what the door deletes is gone from the file too.
public final class Outbox: Sendable {
    /// The file.
    public let path: String
    /// `signage:<device id>`, written into every event.
    public let source: String
    private let pool: DatabasePool
    private let logger: Logger
    private let sealer: DataSealer

    /// Opens (or creates) the outbox at `path` for device `deviceID`.
    /// - Throws: `OutboxError` when no usable database can be made at that place (a missing folder,
    ///   no permission, a full disk), or no data key can be read or made.
    /// - Parameters:
    ///   - maximumBytes: a cap on the file's size (rounded to whole pages), so that the outbox can never
    ///     fill the disk; at the cap a commit fails as on a full disk.
    ///   - sealer: seals the cached state; nil: the key `Outbox.sealer(path:keyFile:environment:)` finds
    ///     with no key file and no environment (`<path>.key`, made on first use).
    public init(
        path: String, deviceID: String, maximumBytes: Int? = nil, sealer: DataSealer? = nil,
        logger: Logger = Logger(label: "rollcall.outbox")
    ) throws(OutboxError) {
        self.path = path
        self.source = "signage:\(deviceID)"
        self.logger = logger
        var pool: DatabasePool
        do {
            pool = try Self.openChecked(path, maximumBytes: maximumBytes)
        } catch let problem {
            if !FileManager.default.fileExists(atPath: path) {
                throw OutboxError("cannot create the outbox \(path): \(problem)")
            }
            // Only a damaged file is moved aside: a locked file, a full disk or a permission is not
            // corruption, and renaming the outbox over it would strand its events.
            guard Self.isCorruption(problem) else {
                throw OutboxError.from(problem, while: "open the outbox", path: path)
            }
            pool = try Self.recover(path, problem: problem, maximumBytes: maximumBytes, logger: logger)
        }
        // A recovery that could not finish (the disk filled while copying) is finished now.
        Self.finishRecoveries(path, into: pool, logger: logger)
        self.pool = pool
        if let sealer {
            self.sealer = sealer
        } else {
            self.sealer = try Self.sealer(path: path, keyFile: nil, environment: [:])
        }
        try sealStoredState()
    }

    /// The key that seals the cached state: `keyFile`, else the file `$ROLLCALL_DATA_KEY_FILE` names,
    /// else the systemd credential `data-key` (`LoadCredential=` / `LoadCredentialEncrypted=`), else
    /// `<path>.key` beside the outbox, made with 32 random bytes and mode 0600 on first use. A key
    /// beside the file protects a copied outbox; against a stolen SD card, keep it elsewhere (an
    /// encrypted credential bound to the board's TPM).
    public static func sealer(path: String, keyFile: String?, environment: [String: String])
        throws(OutboxError) -> DataSealer
    {
        do {
            return try DataSealer.load(
                file: keyFile, variable: "ROLLCALL_DATA_KEY_FILE", database: path, environment: environment)
        } catch {
            throw OutboxError("cannot seal the outbox's cached state: \(error.message)")
        }
    }

    /// Seals every cached value written before sealing existed (the old pages are zeroed as they are freed).
    private func sealStoredState() throws(OutboxError) {
        let sealer = sealer
        do {
            try pool.write { db in
                let rows = try Row.fetchAll(db, sql: "SELECT key, value FROM deviceState")
                for row in rows {
                    let value: Data = row["value"]
                    guard !DataSealer.isSealed(value) else { continue }
                    try db.execute(
                        sql: "UPDATE deviceState SET value = ? WHERE key = ?",
                        arguments: [try sealer.seal(value), row["key"] as String])
                }
            }
        } catch {
            throw OutboxError.from(error, while: "seal the cached state", path: path)
        }
    }

    // MARK: Opening and recovery

    /// Opens the outbox on a thread of its own: opening checks the whole file's integrity (and may
    /// recover a corrupt one), blocking SQLite work that must not hold one of Swift's few cooperative
    /// threads. Use this from async code; the initializer from synchronous code.
    public static func open(
        path: String, deviceID: String, maximumBytes: Int? = nil, sealer: DataSealer? = nil,
        logger: Logger = Logger(label: "rollcall.outbox")
    ) async throws(OutboxError) -> Outbox {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<Outbox, OutboxError>, Never>) in
            Thread {
                do throws(OutboxError) {
                    continuation.resume(
                        returning: .success(
                            try Outbox(
                                path: path, deviceID: deviceID, maximumBytes: maximumBytes, sealer: sealer,
                                logger: logger)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }.start()
        }
        return try result.get()
    }

    /// Whether an error opening the outbox says the file is damaged (not a database, a corrupt page, a
    /// failed integrity check), rather than that it cannot be opened now (locked, disk full, no permission).
    static func isCorruption(_ error: any Error) -> Bool {
        if let database = error as? DatabaseError {
            return database.resultCode == .SQLITE_CORRUPT || database.resultCode == .SQLITE_NOTADB
        }
        return (error as? OutboxError)?.isCorruption == true
    }

    /// Opens, checks integrity and migrates; throws when the file is not a healthy outbox.
    private static func openChecked(_ path: String, maximumBytes: Int?) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // WAL (DatabasePool's default) and a full fsync at every commit: a committed event
            // survives a power cut.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // What is deleted or replaced (a person's templates) is overwritten, not left in free pages.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            if let maximumBytes {
                let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
                try db.execute(sql: "PRAGMA max_page_count = \(max(16, maximumBytes / pageSize))")
            }
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        let verdict = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        guard verdict == ["ok"] else {
            var failure = OutboxError("integrity check failed: \(verdict.prefix(3).joined(separator: "; "))")
            failure.isCorruption = true
            throw failure
        }
        try migrator.migrate(pool)
        return pool
    }

    /// The schema, one named step at a time. A step is never edited once released: a change is a new step.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 events, rejected scans, device state") { db in
            try db.create(table: "event") { table in
                table.autoIncrementedPrimaryKey("seq")
                table.column("id", .text).notNull().unique()
                table.column("kind", .text).notNull()
                table.column("person", .text).notNull()
                table.column("session", .text)
                table.column("at", .integer).notNull()
                table.column("status", .text)
                table.column("minutesLate", .integer)
                table.column("durationMs", .integer)
                table.column("entryAt", .integer)
                table.column("unclosedEntryAt", .integer)
                table.column("method", .text).notNull()
                table.column("source", .text).notNull()
                table.column("confidence", .double)
                table.column("distance", .double)
                table.column("margin", .double)
                table.column("model", .text)
                table.column("state", .text).notNull().defaults(to: DeliveryState.pending.rawValue)
                table.column("rejectReason", .text)
                table.column("attempts", .integer).notNull().defaults(to: 0)
                table.column("enqueuedAt", .integer).notNull()
                table.column("syncedAt", .integer)
            }
            try db.create(index: "event_state_seq", on: "event", columns: ["state", "seq"])
            try db.create(table: "rejectedScan") { table in
                table.autoIncrementedPrimaryKey("seq")
                table.column("at", .integer).notNull()
                table.column("reason", .text).notNull()
                table.column("claimedSubject", .text)
                table.column("payloadPrefix", .text).notNull()
                table.column("state", .text).notNull().defaults(to: DeliveryState.pending.rawValue)
            }
            try db.create(table: "deviceState") { table in
                table.primaryKey("key", .text)
                table.column("value", .blob).notNull()
                table.column("updatedAt", .integer).notNull()
            }
        }
        migrator.registerMigration("v2 door audit records") { db in
            // What the door refused for the hub's door alerts (a photo or a screen held up to the camera):
            // never an image or an encoding, only the reason, the scores and whom the face matched.
            try db.create(table: DoorAuditRecord.databaseTableName) { table in
                table.autoIncrementedPrimaryKey("seq")
                table.column("id", .text).notNull().unique()
                table.column("kind", .text).notNull()
                table.column("at", .integer).notNull()
                table.column("reason", .text).notNull()
                table.column("claimedPerson", .text)
                table.column("scores", .text).notNull()
                table.column("state", .text).notNull().defaults(to: DeliveryState.pending.rawValue)
                table.column("rejectReason", .text)
                table.column("attempts", .integer).notNull().defaults(to: 0)
                table.column("syncedAt", .integer)
            }
            try db.create(
                index: "doorAudit_state_seq", on: DoorAuditRecord.databaseTableName, columns: ["state", "seq"])
        }
        return migrator
    }

    /// Moves a corrupt file aside and makes a new outbox; `finishRecoveries` then copies every readable
    /// event and refused badge into it.
    private static func recover(_ path: String, problem: any Error, maximumBytes: Int?, logger: Logger)
        throws(OutboxError) -> DatabasePool
    {
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let aside = "\(path).corrupt-\(stamp)"
        let files = FileManager.default
        do {
            try files.moveItem(atPath: path, toPath: aside)
            for suffix in ["-wal", "-shm"] where files.fileExists(atPath: path + suffix) {
                try files.moveItem(atPath: path + suffix, toPath: aside + suffix)
            }
        } catch {
            throw OutboxError("the outbox \(path) is corrupt (\(problem)) and cannot be moved aside: \(error)")
        }
        logger.critical(
            "outbox database is corrupt: moved aside, making a new one and recovering its events",
            metadata: ["path": "\(path)", "moved_to": "\(aside)", "problem": "\(problem)"])
        let pool: DatabasePool
        do {
            pool = try openChecked(path, maximumBytes: maximumBytes)
        } catch {
            throw OutboxError("cannot create a new outbox at \(path) after moving the corrupt one aside: \(error)")
        }
        return pool
    }

    /// What a salvage copied from a damaged file.
    struct Salvage {
        var events = 0
        var scans = 0
        var audits = 0
        /// Event rows that could not be read; nil when even the table's bounds were unreadable.
        var unreadable: Int?
        /// Whether what could be read was written into the new outbox (one transaction).
        var complete = false
    }

    /// Copies the events and the refused-badge audit rows (an auditor needs them as much as the events)
    /// that can still be read from a damaged file, in one transaction. Events keep their ids, so a
    /// salvage run again after one that failed (a full disk) adds only what is missing.
    static func salvage(from damaged: String, into pool: DatabasePool) -> Salvage {
        var configuration = Configuration()
        configuration.readonly = true
        var result = Salvage()
        guard let old = try? DatabaseQueue(path: damaged, configuration: configuration) else {
            // Not a database any more (its header is gone): nothing can be read, so nothing is left to
            // copy; the recovery is over (and not tried again at every start).
            result.complete = true
            return result
        }
        func bounds(_ table: String) -> ClosedRange<Int64>? {
            guard
                // Each bound on its own: SQLite then reads only the table's first and last leaves. Both in one
                // SELECT scan the smallest index instead, and a damaged index page would hide every row.
                let row = try? old.read({ db in
                    try Row.fetchOne(
                        db,
                        sql: "SELECT (SELECT MIN(seq) FROM \(table)) AS low, (SELECT MAX(seq) FROM \(table)) AS high")
                }),
                let low = row["low"] as Int64?, let high = row["high"] as Int64?
            else { return nil }
            return low...high
        }
        var events: [QueuedEvent] = []
        if let range = bounds("event") {
            var unreadable = 0
            // Row by row: a damaged page costs the rows on it, not the rest.
            for seq in range {
                do {
                    if let event = try old.read({ db in
                        try QueuedEvent.fetchOne(db, sql: "SELECT * FROM event WHERE seq = ?", arguments: [seq])
                    }) {
                        events.append(event)
                    }
                } catch {
                    unreadable += 1
                }
            }
            result.unreadable = unreadable
        }
        var scans: [RejectedScan] = []
        for seq in bounds("rejectedScan").map({ $0.lowerBound..<$0.upperBound + 1 }) ?? 0..<0 {
            if let scan = try? old.read({ db in
                try RejectedScan.fetchOne(db, sql: "SELECT * FROM rejectedScan WHERE seq = ?", arguments: [seq])
            }) {
                scans.append(scan)
            }
        }
        // Door audit records (refused faces) have ids of their own, like events.
        var audits: [DoorAuditRecord] = []
        for seq in bounds(DoorAuditRecord.databaseTableName).map({ $0.lowerBound..<$0.upperBound + 1 }) ?? 0..<0 {
            if let audit = try? old.read({ db in
                try DoorAuditRecord.fetchOne(db, sql: "SELECT * FROM doorAudit WHERE seq = ?", arguments: [seq])
            }) {
                audits.append(audit)
            }
        }
        let written = try? pool.write { db -> (Int, Int, Int) in
            var added = 0
            for var event in events {
                event.seq = nil
                try event.insert(db, onConflict: .ignore)
                added += db.changesCount
            }
            // A refused badge has no id of its own: one already there (an earlier salvage) is not doubled.
            var kept = 0
            for var scan in scans {
                let known = try Int.fetchOne(
                    db, sql: "SELECT 1 FROM rejectedScan WHERE at = ? AND reason = ? AND payloadPrefix = ?",
                    arguments: [scan.at, scan.reason, scan.payloadPrefix])
                guard known == nil else { continue }
                scan.seq = nil
                try scan.insert(db)
                kept += 1
            }
            var audited = 0
            for var audit in audits {
                audit.seq = nil
                try audit.insert(db, onConflict: .ignore)
                audited += db.changesCount
            }
            return (added, kept, audited)
        }
        if let written {
            result.events = written.0
            result.scans = written.1
            result.audits = written.2
            result.complete = true
        }
        return result
    }

    /// What a `.recovered` marker holds once the damaged copy's events are safe and its cached state
    /// is erased (an empty marker, from before erasure existed, still needs the erasure).
    static let recoveredMarker = Data("events recovered; cached state erased\n".utf8)

    /// Salvages every file moved aside next to `path` whose salvage did not finish (the disk filled while
    /// copying, the door lost power), erases the cached state from it, and marks each one done
    /// (`.recovered` beside it) once it has.
    static func finishRecoveries(_ path: String, into pool: DatabasePool, logger: Logger) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let prefix = url.lastPathComponent + ".corrupt-"
        let files = FileManager.default
        let names = (try? files.contentsOfDirectory(atPath: folder)) ?? []
        // `<outbox>.corrupt-<time>`: not its log, shared memory or journal, nor a marker or key beside it.
        for name in names.sorted()
        where name.hasPrefix(prefix) && !name.dropFirst(prefix.count).contains(".")
            && !["-wal", "-shm", "-journal"].contains(where: { name.hasSuffix($0) })
        {
            let aside = folder + "/" + name
            let marker = aside + ".recovered"
            if names.contains(name + ".recovered") {
                if files.contents(atPath: marker) != recoveredMarker {
                    eraseCachedState(aside, logger: logger)
                    _ = files.createFile(atPath: marker, contents: recoveredMarker)
                }
                continue
            }
            let salvage = salvage(from: aside, into: pool)
            let unreadable = salvage.unreadable.map(String.init) ?? "unknown: the event table could not be read"
            if salvage.complete {
                eraseCachedState(aside, logger: logger)
                _ = files.createFile(atPath: marker, contents: recoveredMarker)
                logger.critical(
                    "outbox recovery finished",
                    metadata: [
                        "moved_to": "\(aside)", "events_recovered": "\(salvage.events)",
                        "refused_badges_recovered": "\(salvage.scans)", "door_audits_recovered": "\(salvage.audits)",
                        "rows_unreadable": "\(unreadable)",
                    ])
            } else {
                logger.critical(
                    "outbox recovery could not write the recovered events (a full disk?); it is tried again at the next start",
                    metadata: ["moved_to": "\(aside)"])
            }
        }
    }

    /// Erases the cached state (the gallery's face templates, names, rosters, badge keys) from a damaged
    /// copy whose readable events are safe in the new outbox: the rows are deleted and the file rebuilt
    /// (`VACUUM`), so no page of it is left. A copy too damaged to be rewritten is deleted: a person's
    /// templates must not outlive their deletion in a file nothing reads. (Its readable events are in
    /// the new outbox; the rest could not be read by SQLite either.)
    static func eraseCachedState(_ aside: String, logger: Logger) {
        do {
            let queue = try DatabaseQueue(path: aside)
            // Out of WAL mode: the log is copied in and removed, and VACUUM below rewrites the one file.
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = DELETE")
                try db.execute(sql: "PRAGMA secure_delete = ON")
                if try db.tableExists("deviceState") {
                    try db.execute(sql: "DELETE FROM deviceState")
                }
                try db.execute(sql: "VACUUM")
            }
            try queue.close()
        } catch {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                try? FileManager.default.removeItem(atPath: aside + suffix)
            }
            logger.critical(
                """
                outbox recovery: the damaged copy cannot be rewritten to erase its cached gallery, so it was \
                deleted (its readable events are in the new outbox)
                """,
                metadata: ["moved_to": "\(aside)", "problem": "\(error)"])
        }
    }

    // MARK: Events

    /// Commits an event and returns it as queued. When this returns, the event is on disk.
    @discardableResult
    public func enqueue(_ event: AttendanceEvent, evidence: EventEvidence, id: String? = nil, now: Date = Date())
        async throws(OutboxError) -> QueuedEvent
    {
        var record = QueuedEvent(
            seq: nil, id: id ?? EventID.make(at: now), kind: event.kind.rawValue, person: event.person,
            session: event.session, at: event.at.milliseconds, status: event.status?.rawValue,
            minutesLate: event.minutesLate, durationMs: event.duration.map { Int64(($0 * 1000).rounded()) },
            entryAt: event.entryAt?.milliseconds, unclosedEntryAt: event.unclosedEntryAt?.milliseconds,
            method: evidence.method.rawValue, source: source, confidence: evidence.confidence,
            distance: evidence.distance.map(Double.init), margin: evidence.margin.map(Double.init),
            model: evidence.model, state: .pending, rejectReason: nil, attempts: 0, enqueuedAt: now.milliseconds,
            syncedAt: nil)
        let inserted = record
        record = try await write("commit an event") { db in
            var row = inserted
            try row.insert(db)
            return row
        }
        return record
    }

    /// Keeps a refused badge for audit.
    public func recordRejectedScan(_ scan: RejectedScan) async throws(OutboxError) {
        try await write("record a refused badge") { db in
            var row = scan
            try row.insert(db)
        }
    }

    /// The oldest pending events, at most `limit`, in the order they were committed.
    public func pending(limit: Int = 500) async throws(OutboxError) -> [QueuedEvent] {
        try await read("read pending events") { db in
            try QueuedEvent.filter(Column("state") == DeliveryState.pending.rawValue).order(Column("seq"))
                .limit(limit).fetchAll(db)
        }
    }

    /// Marks events the server acknowledged (accepted, or already had) as synced.
    public func markSynced(_ ids: [String], at time: Date = Date()) async throws(OutboxError) {
        guard !ids.isEmpty else { return }
        try await write("mark events synced") { db in
            try QueuedEvent.filter(ids.contains(Column("id")))
                .updateAll(
                    db, Column("state").set(to: DeliveryState.synced.rawValue),
                    Column("syncedAt").set(to: time.milliseconds))
        }
    }

    /// Marks an event the server refused, with its reason: surfaced, never sent again.
    public func markRejected(_ id: String, reason: String) async throws(OutboxError) {
        try await write("mark an event rejected") { db in
            try QueuedEvent.filter(Column("id") == id)
                .updateAll(
                    db, Column("state").set(to: DeliveryState.rejected.rawValue), Column("rejectReason").set(to: reason)
                )
        }
    }

    /// Counts a failed delivery attempt of these events.
    public func countAttempt(_ ids: [String]) async throws(OutboxError) {
        guard !ids.isEmpty else { return }
        try await write("count a delivery attempt") { db in
            let attempts = Column("attempts")
            try QueuedEvent.filter(ids.contains(Column("id"))).updateAll(db, attempts.set(to: attempts + 1))
        }
    }

    /// Deletes synced events acknowledged before `cutoff`; returns how many. Pending and rejected
    /// events are never pruned.
    @discardableResult
    public func prune(syncedBefore cutoff: Date) async throws(OutboxError) -> Int {
        try await write("prune synced events") { db in
            try QueuedEvent.filter(
                Column("state") == DeliveryState.synced.rawValue && Column("syncedAt") < cutoff.milliseconds
            ).deleteAll(db)
        }
    }

    /// Every event still in the outbox, oldest first: what the attendance rules are rebuilt from
    /// after a restart.
    public func history(since start: Date? = nil) async throws(OutboxError) -> [AttendanceEvent] {
        try await read("read the event history") { db in
            var request = QueuedEvent.order(Column("seq"))
            if let start { request = request.filter(Column("at") >= start.milliseconds) }
            return try request.fetchAll(db).map(\.attendanceEvent)
        }
    }

    /// How many events are in each state.
    public func counts() async throws(OutboxError) -> [DeliveryState: Int] {
        try await read("count events") { db in
            var counts: [DeliveryState: Int] = [:]
            for state in DeliveryState.allCases {
                counts[state] = try QueuedEvent.filter(Column("state") == state.rawValue).fetchCount(db)
            }
            return counts
        }
    }

    /// Every queued event, for checks and diagnostics.
    public func allEvents() async throws(OutboxError) -> [QueuedEvent] {
        try await read("read events") { db in try QueuedEvent.order(Column("seq")).fetchAll(db) }
    }

    /// Every refused badge kept for audit.
    public func rejectedScans() async throws(OutboxError) -> [RejectedScan] {
        try await read("read refused badges") { db in try RejectedScan.order(Column("seq")).fetchAll(db) }
    }

    // MARK: Device state

    /// Stores cached values (`DeviceCache.swift` gives them their types) in one transaction, each sealed;
    /// a nil value deletes its key.
    func setState(_ values: [CacheKey: Data?], at time: Date = Date()) async throws(OutboxError) {
        var sealed: [(key: String, value: Data?)] = []
        for (key, value) in values.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            do {
                sealed.append((key.rawValue, try value.map(sealer.seal)))
            } catch {
                throw OutboxError("cannot store device state \(key.rawValue): \(error.message)")
            }
        }
        let rows = sealed
        let names = rows.map(\.key).joined(separator: ", ")
        try await write("store device state \(names)") { db in
            for (key, value) in rows {
                if let value {
                    try db.execute(
                        sql: "INSERT INTO deviceState (key, value, updatedAt) VALUES (?, ?, ?) "
                            + "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updatedAt = excluded.updatedAt",
                        arguments: [key, value, time.milliseconds])
                } else {
                    try db.execute(sql: "DELETE FROM deviceState WHERE key = ?", arguments: [key])
                }
            }
        }
    }

    /// Stores one cached value under `key`.
    func setState(_ key: CacheKey, _ value: Data, at time: Date = Date()) async throws(OutboxError) {
        try await setState([key: value], at: time)
    }

    /// Copies the write-ahead log into the database and truncates it, so that the pages of what was just
    /// replaced (an erased person's templates in the old gallery) are left in no file: the database
    /// overwrites freed pages itself (`secure_delete`). Fails while a reader holds the log; try again later.
    public func truncateLog() async throws(OutboxError) {
        do {
            _ = try await pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        } catch {
            throw OutboxError("cannot truncate the outbox's log: \(error)")
        }
    }

    /// The values stored under `keys`, read together (one snapshot); a key with nothing stored is absent.
    /// A value that does not open with this outbox's key (the key was replaced or lost) is logged and taken
    /// as absent: the state is a cache the next sync fills again.
    func state(_ keys: [CacheKey]) async throws(OutboxError) -> [CacheKey: Data] {
        let names = keys.map(\.rawValue)
        let stored = try await read("read device state \(names.joined(separator: ", "))") { db in
            var stored: [String: Data] = [:]
            for name in names {
                stored[name] = try Data.fetchOne(
                    db, sql: "SELECT value FROM deviceState WHERE key = ?", arguments: [name])
            }
            return stored
        }
        var values: [CacheKey: Data] = [:]
        for key in keys {
            guard let value = stored[key.rawValue] else { continue }
            do {
                values[key] = try sealer.open(value)
            } catch {
                logger.error(
                    "outbox: cached device state does not open; it is fetched again at the next sync",
                    metadata: ["key": "\(key.rawValue)", "problem": "\(error.message)"])
            }
        }
        return values
    }

    /// The value stored under `key`, or nil (see `state(_:)` for several).
    func state(_ key: CacheKey) async throws(OutboxError) -> Data? {
        try await state([key])[key]
    }

    /// The journal mode and synchronous level in force (`wal`, 2 = FULL), for `rollcall doctor`.
    public func durability() async throws(OutboxError) -> (journalMode: String, synchronous: Int) {
        try await read("read the durability settings") { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?",
                try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            )
        }
    }

    /// Copies the write-ahead log into the database file and truncates it (at a clean stop). Every
    /// committed event is durable without it; it only leaves one file instead of three.
    public func checkpoint() async throws(OutboxError) {
        do {
            _ = try await pool.barrierWriteWithoutTransaction { db in try db.checkpoint(.truncate) }
        } catch {
            throw OutboxError.from(error, while: "checkpoint the write-ahead log", path: path)
        }
    }

    // MARK: Plumbing

    @discardableResult
    func write<T: Sendable>(_ what: String, _ work: @escaping @Sendable (Database) throws -> T)
        async throws(OutboxError) -> T
    {
        do {
            return try await pool.write(work)
        } catch {
            let failure = OutboxError.from(error, while: what, path: path)
            logger.error("outbox: \(failure.message)")
            throw failure
        }
    }

    func read<T: Sendable>(_ what: String, _ work: @escaping @Sendable (Database) throws -> T)
        async throws(OutboxError) -> T
    {
        do {
            return try await pool.read(work)
        } catch {
            throw OutboxError.from(error, while: what, path: path)
        }
    }
}
