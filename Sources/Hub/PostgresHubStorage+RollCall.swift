import Attendance
public import Foundation
import Logging
import PostgresNIO
public import Recognition

extension PostgresHubStorage {
    public func setManualRecord(
        session: String, person: String, mark: ManualMark, reason: String?, by: String, at: Date
    ) async throws(HubError) {
        let reason = try ManualMark.checkReason(mark, reason)
        try await transaction { connection, logger in
            guard let (found, _) = try await Self.sessions(connection, logger, .id(session)).first else {
                throw HubError(.notFound, "no session \(session)")
            }
            let hasRecord = try await Self.exists(
                connection, logger, "SELECT 1 FROM checkinRecord WHERE session = \(session) AND person = \(person)")
            guard found.roster.contains(person) || hasRecord else {
                throw HubError(.badRequest, "\(person.prefix(80)) is not on the roster of \(session)")
            }
            try await Self.putManual(
                connection, logger, session: session, person: person, mark: mark, reason: reason, by: by, at: at)
        }
    }

    static func putManual(
        _ connection: PostgresConnection, _ logger: Logger, session: String, person: String, mark: ManualMark,
        reason: String?, by: String, at: Date
    ) async throws {
        let (status, time, event) = (mark.rawValue, SQLiteHubStorage.ms(at), "manual:" + UUID().uuidString.lowercased())
        try await connection.query(
            """
            INSERT INTO checkinRecord (session, person, status, checkinTime, minutesLate, method, source, confidence,
                eventID, setBy, reason, storedAt)
            VALUES (\(session), \(person), \(status), \(time), NULL, 'manual', 'web', NULL, \(event), \(by),
                \(reason), \(time))
            ON CONFLICT (session, person) DO UPDATE SET status = excluded.status,
                checkinTime = excluded.checkinTime, minutesLate = NULL, method = 'manual', source = 'web',
                confidence = NULL, eventID = excluded.eventID, setBy = excluded.setBy, reason = excluded.reason,
                storedAt = excluded.storedAt
            """, logger: logger)
        if mark == .excused {
            try await connection.query(
                """
                INSERT INTO excuse (session, person, reason) VALUES (\(session), \(person), \(reason))
                ON CONFLICT (session, person) DO UPDATE SET reason = excluded.reason
                """, logger: logger)
        }
    }

    public func markRestAbsent(session: String, by: String, at: Date) async throws(HubError) -> Int {
        try await transaction { connection, logger in
            guard let (found, _) = try await Self.sessions(connection, logger, .id(session)).first else {
                throw HubError(.notFound, "no session \(session)")
            }
            let recorded = Set(
                try await Self.all(
                    connection, logger, "SELECT person FROM checkinRecord WHERE session = \(session)", as: String.self))
            let rest = found.roster.filter { !recorded.contains($0) }
            for person in rest {
                try await Self.putManual(
                    connection, logger, session: session, person: person, mark: .absent, reason: nil, by: by, at: at)
            }
            return rest.count
        }
    }

    public func rollCallFingerprints(_ sessions: [String]) async throws(HubError) -> [String: String] {
        let ids = Array(Set(sessions))
        guard !ids.isEmpty else { return [:] }
        return try await reading { connection, logger in
            var prints: [String: String] = [:]
            for try await (session, print) in try await connection.query(
                """
                SELECT s, (SELECT count(*)::text || ':' || coalesce(max(storedAt), 0)::text || ':'
                        || coalesce(string_agg(person || status || eventID, ',' ORDER BY person), '')
                        FROM checkinRecord WHERE session = s)
                    || '/' || (SELECT coalesce(string_agg(person || flag, ',' ORDER BY person, flag), '')
                        FROM flag WHERE session = s)
                    || '/' || (SELECT coalesce(string_agg(person || reason, ',' ORDER BY person), '')
                        FROM excuse WHERE session = s)
                FROM unnest(\(ids)::text[]) AS s
                """, logger: logger
            ).decode((String, String).self) {
                prints[session] = print
            }
            return prints
        }
    }

    public func sessions(from: Date, to: Date, teacher: String?, groups: [String]?, limit: Int)
        async throws(HubError) -> [SessionSummary]
    {
        if let groups, groups.isEmpty { return [] }
        let (start, end, count) = (SQLiteHubStorage.ms(from), SQLiteHubStorage.ms(to), Int64(limit))
        return try await reading { connection, logger in
            let query: PostgresQuery
            switch (teacher, groups) {
            case (let teacher?, _):
                query = """
                    SELECT id FROM session WHERE "end" > \(start) AND start < \(end)
                        AND id IN (SELECT session FROM sessionTeacher WHERE username = \(teacher))
                    ORDER BY start, id LIMIT \(count)
                    """
            case (nil, let groups?):
                query = """
                    SELECT id FROM session WHERE "end" > \(start) AND start < \(end) AND groupName = ANY(\(groups))
                    ORDER BY start, id LIMIT \(count)
                    """
            case (nil, nil):
                query = """
                    SELECT id FROM session WHERE "end" > \(start) AND start < \(end) ORDER BY start, id LIMIT \(count)
                    """
            }
            let ids = try await Self.all(connection, logger, query, as: String.self)
            return try await Self.sessions(connection, logger, .ids(ids))
                .sorted { ($0.session.start, $0.session.id) < ($1.session.start, $1.session.id) }
                .map { SessionSummary(session: $0.session, className: $0.className) }
        }
    }

    public func sessions(of person: String, from: Date, to: Date, limit: Int) async throws(HubError)
        -> [SessionSummary]
    {
        let (start, end, needle) = (SQLiteHubStorage.ms(from), SQLiteHubStorage.ms(to), rosterNeedle(person))
        return try await reading { connection, logger in
            let ids = try await Self.all(
                connection, logger,
                """
                SELECT id FROM session WHERE "end" > \(start) AND start < \(end)
                    AND position(convert_to(\(needle), 'UTF8') in roster) > 0
                """, as: String.self)
            return try await Self.sessions(connection, logger, .ids(ids))
                .filter { $0.session.roster.contains(person) }
                .sorted { ($0.session.start, $0.session.id) < ($1.session.start, $1.session.id) }
                .prefix(limit).map { SessionSummary(session: $0.session, className: $0.className) }
        }
    }

    public func personRecord(_ id: String) async throws(HubError) -> Person? {
        let sealer = sealer
        return try await reading { connection, logger in
            try await Self.first(connection, logger, "SELECT entry FROM person WHERE id = \(id)", as: Data.self)
                .map { try sealer.person($0) }
        }
    }

    public func recordHeartbeat(_ status: DoorStatus, at: Date) async throws(HubError) {
        let (device, time, version) = (status.device, SQLiteHubStorage.ms(at), status.version ?? "")
        let (queued, camera, address) = (Int64(status.queued ?? 0), status.camera ?? "", status.address ?? "")
        try await transaction { connection, logger in
            try await connection.query(
                """
                INSERT INTO deviceStatus (device, lastContact, version, queued, camera, address)
                VALUES (\(device), \(time), \(version), \(queued), \(camera), \(address))
                ON CONFLICT (device) DO UPDATE SET lastContact = excluded.lastContact, version = excluded.version,
                    queued = excluded.queued, camera = excluded.camera, address = excluded.address
                """, logger: logger)
        }
    }

    public func doors() async throws(HubError) -> [DoorStatus] {
        try await reading { connection, logger in
            var doors: [DoorStatus] = []
            for try await row in try await connection.query(
                """
                SELECT d.id, d.room, s.lastContact, s.version, s.queued, s.camera, s.address
                FROM device d LEFT JOIN deviceStatus s ON s.device = d.id ORDER BY d.room, d.id
                """, logger: logger
            ).decode((String, String, Int64?, String?, Int64?, String?, String?).self) {
                doors.append(
                    DoorStatus(
                        device: row.0, room: row.1, lastContact: row.2.map(SQLiteHubStorage.date), version: row.3,
                        queued: row.4.map { Int($0) }, camera: row.5, address: row.6))
            }
            return doors
        }
    }
}

extension PostgresHubStorage {
    public func exportPerson(_ person: String, at: Date) async throws(HubError) -> SubjectAccessExport? {
        var export = try await exportPersonRecords(person, at: at)
        export?.consent = try await consentHistory(person)
        export?.guardians = try await guardianContacts(person: person)
        export?.messages = try await messages(person: person).map(\.summary)
        return export
    }

    private func exportPersonRecords(_ person: String, at: Date) async throws(HubError) -> SubjectAccessExport? {
        let sealer = sealer
        let (needle, subject, prefix) = (rosterNeedle(person), "person:\(person)", "\(person) ")
        return try await reading { connection, logger in
            let gallery = try await Self.first(
                connection, logger, "SELECT entry FROM person WHERE id = \(person)", as: Data.self
            ).map { try sealer.entry($0) }
            let ids = try await Self.all(
                connection, logger,
                "SELECT id FROM session WHERE position(convert_to(\(needle), 'UTF8') in roster) > 0",
                as: String.self)
            let rosters = try await Self.sessions(connection, logger, .ids(ids))
                .filter { $0.session.roster.contains(person) }.map(\.session.id)
            let sessions = try await Self.all(
                connection, logger, "SELECT DISTINCT session FROM checkinRecord WHERE person = \(person)",
                as: String.self)
            let records = try await Self.checkinRecords(of: sessions, connection, logger).filter { $0.person == person }
            var excuses: [(String, String)] = []
            for try await row in try await connection.query(
                "SELECT session, reason FROM excuse WHERE person = \(person) ORDER BY session", logger: logger
            ).decode((String, String).self) { excuses.append(row) }
            var flags: [(String, String)] = []
            for try await row in try await connection.query(
                "SELECT session, flag FROM flag WHERE person = \(person) ORDER BY session, flag", logger: logger
            ).decode((String, String).self) { flags.append(row) }
            var visits: [Visit] = []
            for try await (room, login, logout) in try await connection.query(
                "SELECT room, loginTime, logoutTime FROM visit WHERE person = \(person) ORDER BY loginTime",
                logger: logger
            ).decode((String, Int64, Int64?).self) {
                visits.append(
                    Visit(
                        person: person, room: room, loginTime: SQLiteHubStorage.date(login),
                        logoutTime: logout.map(SQLiteHubStorage.date)))
            }
            let rooms = try await Self.all(
                connection, logger, "SELECT room FROM roomAccess WHERE person = \(person)", as: String.self)
            var events: [SubjectAccessExport.Event] = []
            for try await row in try await connection.query(
                """
                SELECT device, id, kind, session, at, receivedAt, body FROM receivedEvent
                WHERE person = \(person) ORDER BY at
                """, logger: logger
            ).decode((String, String, String, String?, Int64, Int64, Data).self) {
                events.append(
                    SubjectAccessExport.Event(
                        device: row.0, id: row.1, kind: row.2, session: row.3,
                        at: ISO8601Time.format(SQLiteHubStorage.date(row.4)),
                        receivedAt: ISO8601Time.format(SQLiteHubStorage.date(row.5)),
                        body: String(decoding: row.6, as: UTF8.self)))
            }
            var accounts: [Account] = []
            for try await row in try await connection.query(
                """
                SELECT username, role, name, person, cohorts, disabled, passwordHash, email FROM account
                WHERE person = \(person)
                """, logger: logger
            ).decode((String, String, String, String?, Data, Bool, String, String?).self) {
                accounts.append(try Self.account(row))
            }
            let audit = try await Self.auditEntries(
                """
                SELECT at, actor, action, subject, detail, address FROM audit
                WHERE subject = \(subject) OR starts_with(detail, \(prefix)) ORDER BY at, id
                """, connection, logger)
            return SubjectAccessExport.make(
                person: person, at: at, gallery: gallery, rosters: rosters, records: records, excuses: excuses,
                flags: flags, visits: visits, rooms: rooms, events: events, accounts: accounts, audit: audit)
        }
    }
}
