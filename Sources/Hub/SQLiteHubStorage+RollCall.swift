import Attendance
public import Foundation
import GRDB
public import Recognition

extension SQLiteHubStorage {
    public func setManualRecord(
        session: String, person: String, mark: ManualMark, reason: String?, by: String, at: Date
    ) async throws(HubError) {
        let reason = try ManualMark.checkReason(mark, reason)
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM session WHERE id = ?", arguments: [session]) else {
                throw HubError(.notFound, "no session \(session)")
            }
            let onRoster = try Self.session(row).roster.contains(person)
            let hasRecord =
                try Row.fetchOne(
                    db, sql: "SELECT 1 FROM checkinRecord WHERE session = ? AND person = ?",
                    arguments: [session, person])
                != nil
            guard onRoster || hasRecord else {
                throw HubError(.badRequest, "\(person.prefix(80)) is not on the roster of \(session)")
            }
            try Self.putManual(db, session: session, person: person, mark: mark, reason: reason, by: by, at: at)
        }
    }

    /// Replaces the record: deleted and inserted again, so that it gets a new rowid.
    static func putManual(
        _ db: Database, session: String, person: String, mark: ManualMark, reason: String?, by: String, at: Date
    ) throws {
        try db.execute(sql: "DELETE FROM checkinRecord WHERE session = ? AND person = ?", arguments: [session, person])
        try db.execute(
            sql: """
                INSERT INTO checkinRecord (session, person, status, checkinTime, minutesLate, method, source,
                    confidence, eventID, setBy, reason, storedAt)
                VALUES (?, ?, ?, ?, NULL, 'manual', 'web', NULL, ?, ?, ?, ?)
                """,
            arguments: [
                session, person, mark.rawValue, ms(at), "manual:" + UUID().uuidString.lowercased(), by, reason, ms(at),
            ])
        if mark == .excused {
            try db.execute(
                sql: "INSERT INTO excuse (session, person, reason) VALUES (?, ?, ?) "
                    + "ON CONFLICT(session, person) DO UPDATE SET reason = excluded.reason",
                arguments: [session, person, reason])
        }
    }

    public func markRestAbsent(session: String, by: String, at: Date) async throws(HubError) -> Int {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM session WHERE id = ?", arguments: [session]) else {
                throw HubError(.notFound, "no session \(session)")
            }
            let recorded = Set(
                try String.fetchAll(db, sql: "SELECT person FROM checkinRecord WHERE session = ?", arguments: [session])
            )
            let rest = try Self.session(row).roster.filter { !recorded.contains($0) }
            for person in rest {
                try Self.putManual(db, session: session, person: person, mark: .absent, reason: nil, by: by, at: at)
            }
            return rest.count
        }
    }

    public func rollCallFingerprints(_ sessions: [String]) async throws(HubError) -> [String: String] {
        try await read { db in
            var prints: [String: String] = [:]
            for session in Set(sessions) {
                prints[session] =
                    try String.fetchOne(
                        db,
                        sql: """
                            SELECT (SELECT count(*) || ':' || ifnull(max(storedAt), 0) || ':' || ifnull(max(rowid), 0)
                                    FROM checkinRecord WHERE session = ?1)
                                || '/' || (SELECT ifnull(group_concat(person || flag), '') FROM flag WHERE session = ?1)
                                || '/' || (SELECT ifnull(group_concat(person || reason), '') FROM excuse WHERE session = ?1)
                            """, arguments: [session]) ?? ""
            }
            return prints
        }
    }

    public func sessions(from: Date, to: Date, teacher: String?, groups: [String]?, limit: Int)
        async throws(HubError) -> [SessionSummary]
    {
        try await read { db in
            var sql = "SELECT s.* FROM session s WHERE s.\"end\" > ? AND s.start < ?"
            var arguments: [any DatabaseValueConvertible] = [Self.ms(from), Self.ms(to)]
            if let teacher {
                sql += " AND s.id IN (SELECT session FROM sessionTeacher WHERE username = ?)"
                arguments.append(teacher)
            }
            if let groups {
                guard !groups.isEmpty else { return [] }
                sql += " AND s.groupName IN (\(Array(repeating: "?", count: groups.count).joined(separator: ", ")))"
                arguments += groups as [any DatabaseValueConvertible]
            }
            sql += " ORDER BY s.start, s.id LIMIT ?"
            arguments.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map {
                SessionSummary(session: try Self.session($0), className: $0["className"])
            }
        }
    }

    public func sessions(of person: String, from: Date, to: Date, limit: Int) async throws(HubError)
        -> [SessionSummary]
    {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM session WHERE \"end\" > ? AND start < ? AND instr(CAST(roster AS TEXT), ?) > 0 "
                    + "ORDER BY start, id",
                arguments: [Self.ms(from), Self.ms(to), rosterNeedle(person)]
            ).map { SessionSummary(session: try Self.session($0), className: $0["className"]) }
                .filter { $0.session.roster.contains(person) }.prefix(limit).map { $0 }
        }
    }

    public func personRecord(_ id: String) async throws(HubError) -> Person? {
        try await read { db in
            try Data.fetchOne(db, sql: "SELECT entry FROM person WHERE id = ?", arguments: [id]).map {
                try self.sealer.person($0)
            }
        }
    }

    public func recordHeartbeat(_ status: DoorStatus, at: Date) async throws(HubError) {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO deviceStatus (device, lastContact, version, queued, camera, address)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(device) DO UPDATE SET lastContact = excluded.lastContact, version = excluded.version,
                        queued = excluded.queued, camera = excluded.camera, address = excluded.address
                    """,
                arguments: [
                    status.device, Self.ms(at), status.version ?? "", status.queued ?? 0, status.camera ?? "",
                    status.address ?? "",
                ])
        }
    }

    public func doors() async throws(HubError) -> [DoorStatus] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT d.id, d.room, s.* FROM device d LEFT JOIN deviceStatus s ON s.device = d.id "
                    + "ORDER BY d.room, d.id"
            ).map { row in
                DoorStatus(
                    device: row["id"], room: row["room"], lastContact: (row["lastContact"] as Int64?).map(Self.date),
                    version: row["version"], queued: row["queued"], camera: row["camera"], address: row["address"])
            }
        }
    }
}

extension SQLiteHubStorage {
    public func exportPerson(_ person: String, at: Date) async throws(HubError) -> SubjectAccessExport? {
        var export = try await exportPersonRecords(person, at: at)
        export?.consent = try await consentHistory(person)
        export?.guardians = try await guardianContacts(person: person)
        export?.messages = try await messages(person: person).map(\.summary)
        return export
    }

    private func exportPersonRecords(_ person: String, at: Date) async throws(HubError) -> SubjectAccessExport? {
        try await read { db in
            let gallery = try Data.fetchOne(db, sql: "SELECT entry FROM person WHERE id = ?", arguments: [person])
                .map { try self.sealer.entry($0) }
            let rosters = try Row.fetchAll(
                db, sql: "SELECT * FROM session WHERE instr(CAST(roster AS TEXT), ?) > 0",
                arguments: [rosterNeedle(person)]
            ).map(Self.session).filter { $0.roster.contains(person) }.map(\.id)
            let records = try Row.fetchAll(
                db, sql: "SELECT * FROM checkinRecord WHERE person = ? ORDER BY checkinTime", arguments: [person]
            ).map(Self.checkinRecord)
            let excuses = try Row.fetchAll(
                db, sql: "SELECT session, reason FROM excuse WHERE person = ? ORDER BY session", arguments: [person]
            ).map { ($0["session"] as String, $0["reason"] as String) }
            let flags = try Row.fetchAll(
                db, sql: "SELECT session, flag FROM flag WHERE person = ? ORDER BY session, flag", arguments: [person]
            ).map { ($0["session"] as String, $0["flag"] as String) }
            let visits = try Row.fetchAll(
                db, sql: "SELECT * FROM visit WHERE person = ? ORDER BY loginTime", arguments: [person]
            ).map(Self.visit)
            let rooms = try String.fetchAll(
                db, sql: "SELECT room FROM roomAccess WHERE person = ?", arguments: [person])
            let events = try Row.fetchAll(
                db, sql: "SELECT * FROM receivedEvent WHERE person = ? ORDER BY at", arguments: [person]
            ).map {
                SubjectAccessExport.Event(
                    device: $0["device"], id: $0["id"], kind: $0["kind"], session: $0["session"],
                    at: ISO8601Time.format(Self.date($0["at"])),
                    receivedAt: ISO8601Time.format(Self.date($0["receivedAt"])),
                    body: String(decoding: $0["body"] as Data, as: UTF8.self))
            }
            let accounts = try Row.fetchAll(db, sql: "SELECT * FROM account WHERE person = ?", arguments: [person])
                .map(Self.account)
            let audit = try Row.fetchAll(
                // A mark or flag's line names the person first ("p-1 marked excused").
                db, sql: "SELECT * FROM audit WHERE subject = ? OR instr(detail, ?) = 1 ORDER BY at, id",
                arguments: ["person:\(person)", "\(person) "]
            ).map(Self.auditEntry)
            return SubjectAccessExport.make(
                person: person, at: at, gallery: gallery, rosters: rosters, records: records, excuses: excuses,
                flags: flags, visits: visits, rooms: rooms, events: events, accounts: accounts, audit: audit)
        }
    }
}
