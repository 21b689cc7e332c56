import Foundation
import GRDB
import Logging
import PostgresNIO

/// Moves a school's hub from SQLite to PostgreSQL: every table, row for row, in one PostgreSQL
/// transaction (all or nothing). Records stay sealed as they are, so the PostgreSQL hub must be given
/// the SQLite hub's data key; the pseudonym key moves too, so the public API's pseudonyms do not change.
public enum HubCopy {
    /// The tables in an order that satisfies their references, with the columns both stores share.
    static let tables: [(name: String, columns: [String])] = [
        ("room", ["id", "timezone", "policy"]),
        ("device", ["id", "room", "tokenHash"]),
        ("meta", ["key", "value"]),
        ("person", ["id", "entry", "version", "consent", "templateCount"]),
        ("personTombstone", ["id", "version"]),
        ("session", ["id", "room", "groupName", "start", "\"end\"", "roster", "className"]),
        ("receivedEvent", ["id", "device", "kind", "person", "session", "at", "receivedAt", "body"]),
        (
            "checkinRecord",
            [
                "session", "person", "status", "checkinTime", "minutesLate", "method", "source", "confidence",
                "eventID",
                "setBy", "reason", "storedAt",
            ]
        ),
        ("badgeKey", ["kid", "publicKey"]),
        ("revokedBadge", ["id"]),
        ("visit", ["person", "room", "loginTime", "logoutTime"]),
        ("accessToken", ["tokenHash", "scope", "label"]),
        ("excuse", ["session", "person", "reason"]),
        ("flag", ["session", "person", "flag", "note"]),
        ("deploymentSecret", ["name", "value"]),
        ("roomAccess", ["room", "person"]),
        ("account", ["username", "role", "name", "person", "cohorts", "passwordHash", "disabled", "email"]),
        ("sessionTeacher", ["session", "username"]),
        ("deviceStatus", ["device", "lastContact", "version", "queued", "camera", "address"]),
        ("consentEvent", ["person", "state", "givenBy", "at", "evidence", "recordedBy"]),
        ("guardianContact", ["person", "payload"]),
        (
            "notification",
            [
                "key", "kind", "channel", "person", "session", "payload", "createdAt", "attempts", "nextAttemptAt",
                "claimedUntil", "sentAt", "failed", "lastError",
            ]
        ),
        // The audit trail in its order; PostgreSQL numbers its lines anew. Sign-in sessions and failed
        // sign-ins are not copied: everyone signs in again on the new hub.
        ("audit", ["at", "actor", "action", "subject", "detail", "address"]),
    ]

    /// Rows copied per statement.
    static let batch = 500

    /// Copies everything in `source` into `target`, which must hold no people, sessions or events yet.
    /// `progress` gets a line per table and per 10,000 rows. Returns the rows copied per table.
    @discardableResult
    public static func copy(
        from source: SQLiteHubStorage, to target: PostgresHubStorage,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws(HubError) -> [String: Int] {
        let tables = tables
        return try await target.transaction { connection, logger in
            for table in ["person", "session", "receivedEvent", "room"] {
                let count =
                    try await PostgresHubStorage.first(
                        connection, logger, PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table)"), as: Int.self)
                    ?? 0
                guard count == 0 else {
                    throw HubError(
                        .conflict, "the PostgreSQL database already holds \(table) rows: copy into a new database")
                }
            }
            // The target's own counters and pseudonym key give way to the source's.
            try await connection.query("DELETE FROM meta", logger: logger)
            try await connection.query("DELETE FROM deploymentSecret", logger: logger)
            var copied: [String: Int] = [:]
            for (table, columns) in tables {
                var after: Int64 = 0
                var total = 0
                while true {
                    let (rows, last) = try await source.rows(table, columns: columns, after: after, limit: batch)
                    guard !rows.isEmpty else { break }
                    try await insert(rows, into: table, columns: columns, connection, logger)
                    after = last
                    total += rows.count
                    if total % 10_000 < rows.count { progress("copy: \(table) \(total) rows") }
                }
                copied[table] = total
                progress("copy: \(table) done, \(total) rows")
            }
            // Visits get new ids in PostgreSQL; its sequence is where the inserts left it.
            return copied
        }
    }

    static func insert(
        _ rows: [[DatabaseValue]], into table: String, columns: [String], _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws {
        var bindings = PostgresBindings(capacity: rows.count * columns.count)
        var tuples: [String] = []
        for row in rows {
            var places: [String] = []
            for (column, value) in zip(columns, row) {
                switch value.storage {
                case .null: bindings.appendNull()
                // SQLite keeps a boolean as 0 or 1; PostgreSQL's column is a boolean.
                case .int64(let number) where column == "disabled" || column == "failed": bindings.append(number != 0)
                case .int64(let number): bindings.append(number)
                case .double(let number): bindings.append(number)
                case .string(let text): bindings.append(text)
                case .blob(let data): bindings.append(ByteBuffer(bytes: data))
                }
                places.append("$\(bindings.count)")
            }
            tuples.append("(" + places.joined(separator: ", ") + ")")
        }
        let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES " + tuples.joined(separator: ", ")
        try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
    }
}

extension SQLiteHubStorage {
    /// Up to `limit` rows of `table` after SQLite row id `after`, in row id order, and the last row id.
    func rows(_ table: String, columns: [String], after: Int64, limit: Int) async throws(HubError)
        -> ([[DatabaseValue]], Int64)
    {
        do {
            // On GRDB's own threads: SQLite's calls block, and must not hold one of Swift's few threads.
            return try await pool.read { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: "SELECT rowid AS rollcallRowID, \(columns.joined(separator: ", ")) FROM \(table) "
                        + "WHERE rowid > ? ORDER BY rowid LIMIT ?",
                    arguments: [after, limit])
                let last = rows.last.map { $0["rollcallRowID"] as Int64 } ?? after
                return (rows.map { row in (1...columns.count).map { row[$0] as DatabaseValue } }, last)
            }
        } catch {
            throw HubError(.storage, "cannot read \(table) from the SQLite hub: \(error)")
        }
    }
}
