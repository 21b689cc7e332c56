import Attendance
import Crypto
public import Foundation
import Logging
import PostgresNIO
import Recognition

extension PostgresHubStorage {
    public func addAccessToken(_ token: String, scope: TokenScope, label: String) async throws(HubError) {
        try SQLiteHubStorage.checkAccessToken(token, scope: scope)
        let hash = SQLiteHubStorage.hash(token)
        let scopeName = scope.rawValue
        try await transaction { connection, logger in
            try await connection.query(
                "INSERT INTO accessToken (tokenHash, scope, label) VALUES (\(hash), \(scopeName), \(label))",
                logger: logger)
        }
    }

    public func accessTokens() async throws(HubError) -> [AccessTokenRecord] {
        try await transaction { connection, logger in
            var tokens: [AccessTokenRecord] = []
            for try await (hash, scope, label) in try await connection.query(
                "SELECT tokenHash, scope, label FROM accessToken ORDER BY scope, label", logger: logger
            ).decode((String, String, String).self) {
                guard let scope = TokenScope(rawValue: scope) else { continue }
                tokens.append(AccessTokenRecord(id: String(hash.prefix(16)), scope: scope, label: label))
            }
            return tokens
        }
    }

    public func revokeAccessToken(id: String) async throws(HubError) -> Bool {
        guard id.count == 16, id.allSatisfy(\.isHexDigit) else {
            throw HubError(.badRequest, "a token id is 16 hexadecimal digits, as the token list shows")
        }
        let prefix = id.lowercased()
        return try await transaction { connection, logger in
            try await Self.exists(
                connection, logger, "DELETE FROM accessToken WHERE substr(tokenHash, 1, 16) = \(prefix) RETURNING 1")
        }
    }

    public func scope(forToken token: String) async throws(HubError) -> TokenScope? {
        let hash = SQLiteHubStorage.hash(token)
        return try await transaction { connection, logger in
            try await Self.first(
                connection, logger, "SELECT scope FROM accessToken WHERE tokenHash = \(hash)", as: String.self
            ).flatMap(TokenScope.init(rawValue:))
        }
    }

    public func setExcuse(session: String, person: String, reason: String?) async throws(HubError) {
        try await transaction { connection, logger in
            try await Self.requireRosterMember(connection, logger, session: session, person: person)
            if let reason {
                try await connection.query(
                    """
                    INSERT INTO excuse (session, person, reason) VALUES (\(session), \(person), \(reason))
                    ON CONFLICT (session, person) DO UPDATE SET reason = excluded.reason
                    """, logger: logger)
            } else {
                try await connection.query(
                    "DELETE FROM excuse WHERE session = \(session) AND person = \(person)", logger: logger)
            }
        }
    }

    public func setFlag(session: String, person: String, flag: MentorFlag, note: String?, on: Bool)
        async throws(HubError)
    {
        let name = flag.rawValue
        try await transaction { connection, logger in
            try await Self.requireRosterMember(connection, logger, session: session, person: person)
            if on {
                try await connection.query(
                    """
                    INSERT INTO flag (session, person, flag, note) VALUES (\(session), \(person), \(name), \(note))
                    ON CONFLICT (session, person, flag) DO UPDATE SET note = excluded.note
                    """, logger: logger)
            } else {
                try await connection.query(
                    "DELETE FROM flag WHERE session = \(session) AND person = \(person) AND flag = \(name)",
                    logger: logger)
            }
        }
    }

    public func sessionReport(_ id: String, now: Date) async throws(HubError) -> SessionReport {
        let sealer = sealer
        return try await reading { connection, logger in
            let facts = try await Self.reportFacts(.session(id), connection, logger)
            guard !facts.isEmpty else { throw HubError(.notFound, "no session \(id)") }
            return try await Self.sessionReports(facts, now: now, sealer: sealer, connection, logger)[0]
        }
    }

    /// The sessions a report is about.
    enum ReportSelection {
        /// One session.
        case session(String)
        /// A group's sessions that start in [from, to) (milliseconds), by start.
        case group(String, from: Int64, to: Int64)
    }

    /// What a session's report is made of.
    struct ReportFacts: Sendable {
        var session: Session
        var className: String?
        var policy: AttendancePolicy
        var records: [CheckinRecord]
        var excuses: [String: String]
        var flags: [String: [MentorFlag]]
    }

    /// The sessions `filter` selects with everything their reports need (the room's policy, the
    /// records, excuses and flags), in one statement whatever their number: a report waits for as few
    /// round trips as it can, on a database that may be busy taking a morning's events.
    static func reportFacts(_ selection: ReportSelection, _ connection: PostgresConnection, _ logger: Logger)
        async throws -> [ReportFacts]
    {
        var bindings = PostgresBindings()
        let condition: String
        switch selection {
        case .session(let id):
            bindings.append(id)
            condition = "s.id = $1"
        case .group(let group, let from, let to):
            bindings.append(group)
            bindings.append(from)
            bindings.append(to)
            condition = "s.groupName = $1 AND s.start >= $2 AND s.start < $3"
        }
        let sql = """
            SELECT s.id, s.room, s.groupName, s.start, s."end", s.roster, s.className, r.policy,
                (SELECT json_agg(json_build_array(c.person, c.status, c.checkinTime, c.minutesLate, c.method,
                    c.source, c.confidence, c.eventID, c.setBy, c.reason, c.storedAt) ORDER BY c.checkinTime)::text
                 FROM checkinRecord c WHERE c.session = s.id),
                (SELECT json_agg(json_build_array(e.person, e.reason))::text FROM excuse e WHERE e.session = s.id),
                (SELECT json_agg(json_build_array(f.person, f.flag) ORDER BY f.person, f.flag)::text
                 FROM flag f WHERE f.session = s.id)
            FROM session s LEFT JOIN room r ON r.id = s.room
            WHERE \(condition) ORDER BY s.start, s.id
            """
        var facts: [ReportFacts] = []
        let decoder = JSONDecoder()
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
            .decode((String, String, String, Int64, Int64, Data, String?, Data?, String?, String?, String?).self)
        {
            let session = Session(
                id: row.0, room: row.1, group: row.2, start: SQLiteHubStorage.date(row.3),
                end: SQLiteHubStorage.date(row.4), roster: try decoder.decode([String].self, from: row.5))
            let records = try row.8.map { try decoder.decode([RecordRow].self, from: Data($0.utf8)) } ?? []
            let excuses = try row.9.map { try decoder.decode([[String]].self, from: Data($0.utf8)) } ?? []
            let flags = try row.10.map { try decoder.decode([[String]].self, from: Data($0.utf8)) } ?? []
            facts.append(
                ReportFacts(
                    session: session, className: row.6,
                    policy: try row.7.map { try decoder.decode(AttendancePolicy.self, from: $0) } ?? AttendancePolicy(),
                    records: records.map { $0.record(session: session.id) },
                    excuses: Dictionary(excuses.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }) { _, last in last
                    },
                    flags: flags.reduce(into: [:]) { flags, pair in
                        if pair.count == 2, let flag = MentorFlag(rawValue: pair[1]) {
                            flags[pair[0], default: []].append(flag)
                        }
                    }))
        }
        return facts
    }

    /// A check-in record as `reportFacts` reads it: a JSON array in the order of its columns.
    struct RecordRow: Decodable {
        var person: String
        var status: String
        var checkinTime: Int64
        var minutesLate: Int?
        var method: String
        var source: String
        var confidence: Double?
        var eventID: String
        var setBy: String?
        var reason: String?
        var storedAt: Int64?

        init(from decoder: any Decoder) throws {
            var row = try decoder.unkeyedContainer()
            person = try row.decode(String.self)
            status = try row.decode(String.self)
            checkinTime = try row.decode(Int64.self)
            minutesLate = try row.decodeIfPresent(Int.self)
            method = try row.decode(String.self)
            source = try row.decode(String.self)
            confidence = try row.decodeIfPresent(Double.self)
            eventID = try row.decode(String.self)
            setBy = try row.decodeIfPresent(String.self)
            reason = try row.decodeIfPresent(String.self)
            storedAt = try row.decodeIfPresent(Int64.self)
        }

        func record(session: String) -> CheckinRecord {
            CheckinRecord(
                session: session, person: person, status: status, checkinTime: SQLiteHubStorage.date(checkinTime),
                minutesLate: minutesLate, method: method, source: source, confidence: confidence, eventID: eventID,
                setBy: setBy, reason: reason, storedAt: storedAt.map(SQLiteHubStorage.date))
        }
    }

    /// The reports of `facts`, with the names of everyone they show (opened once, only theirs).
    static func sessionReports(
        _ facts: [ReportFacts], now: Date, sealer: PersonSealer, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [SessionReport] {
        // The rosters' names, and those of check-ins by people no longer on a roster.
        let people = Set(facts.flatMap { $0.session.roster + $0.records.map(\.person) })
        let names = try await Self.names(connection, logger, sealer, of: Array(people))
        return facts.map { facts in
            var report = SessionReport.make(
                session: facts.session, policy: facts.policy, now: now, records: facts.records, names: names,
                excuses: facts.excuses, flags: facts.flags)
            report.className = facts.className
            return report
        }
    }

    public func volunteerHours(from: Date, to: Date) async throws(HubError) -> VolunteerHours {
        guard from < to else { throw HubError(.badRequest, "from must be before to") }
        let (start, end) = (SQLiteHubStorage.ms(from), SQLiteHubStorage.ms(to))
        let sealer = sealer
        return try await reading { connection, logger in
            var visits: [Visit] = []
            for try await row in try await connection.query(
                """
                SELECT person, room, loginTime, logoutTime FROM visit
                WHERE loginTime < \(end) AND (logoutTime IS NULL OR logoutTime > \(start))
                ORDER BY person, loginTime
                """, logger: logger
            ).decode((String, String, Int64, Int64?).self) {
                visits.append(Self.visit(row))
            }
            return VolunteerHours.make(
                visits: visits, timezones: try await Self.timezones(connection, logger),
                names: try await Self.names(connection, logger, sealer, of: Array(Set(visits.map(\.person)))),
                from: from,
                to: to)
        }
    }

    public func groupReport(_ group: String, from: Date, to: Date, now: Date) async throws(HubError) -> GroupReport {
        guard from < to else { throw HubError(.badRequest, "from must be before to") }
        let (start, end) = (SQLiteHubStorage.ms(from), SQLiteHubStorage.ms(to))
        let sealer = sealer
        return try await reading { connection, logger in
            let facts = try await Self.reportFacts(.group(group, from: start, to: end), connection, logger)
            let reports = try await Self.sessionReports(facts, now: now, sealer: sealer, connection, logger)
            return GroupReport.make(group: group, from: from, to: to, reports: reports)
        }
    }

    public func publicSessionReport(_ session: String, now: Date) async throws(HubError) -> PublicSessionReport {
        let report = try await sessionReport(session, now: now)
        let key = try await reading { connection, logger in
            try await Self.first(
                connection, logger, "SELECT value FROM deploymentSecret WHERE name = 'pseudonym'", as: Data.self)
        }
        guard let key else { throw HubError(.internal, "the pseudonym key is missing") }
        return PublicSessionReport(report, key: SymmetricKey(data: key))
    }

    public func importTimetable(_ text: String) async throws(HubError) -> Timetable.Import {
        let sealer = sealer
        return try await transaction { connection, logger in
            let timezones = try await Self.timezones(connection, logger)
            var groups: [String: [String]] = [:]
            for try await entry in try await connection.query("SELECT entry FROM person ORDER BY id", logger: logger)
                .decode(Data.self)
            {
                let person = try sealer.entry(entry)
                for group in person.groups { groups[group, default: []].append(person.id) }
            }
            let result = Timetable.parse(text, timezones: timezones) { groups[$0] ?? [] }
            for session in result.sessions {
                try await Self.put(
                    session, className: result.classNames[session.id], keepClassName: false, connection, logger)
                // The timetable says who teaches each of its sessions: a line without teachers clears them.
                let id = session.id
                try await connection.query("DELETE FROM sessionTeacher WHERE session = \(id)", logger: logger)
                for teacher in result.teachers[id] ?? [] {
                    try await connection.query(
                        "INSERT INTO sessionTeacher (session, username) VALUES (\(id), \(teacher))", logger: logger)
                }
            }
            return result
        }
    }

    static func timezones(_ connection: PostgresConnection, _ logger: Logger) async throws -> [String: TimeZone] {
        var timezones: [String: TimeZone] = [:]
        for try await (id, timezone) in try await connection.query("SELECT id, timezone FROM room", logger: logger)
            .decode((String, String).self)
        {
            timezones[id] = TimeZone(identifier: timezone)
        }
        return timezones
    }

    /// The names of the people `ids` (only theirs are opened: a report never unseals the whole school).
    static func names(_ connection: PostgresConnection, _ logger: Logger, _ sealer: PersonSealer, of ids: [String])
        async throws -> [String: String]
    {
        var names: [String: String] = [:]
        guard !ids.isEmpty else { return names }
        for try await entry in try await connection.query(
            "SELECT entry FROM person WHERE id = ANY(\(ids))", logger: logger
        ).decode(Data.self) {
            let person = try sealer.person(entry)
            names[person.id] = person.name
        }
        return names
    }

    /// Flags and excuses are about a session's roster: anything else is a mistake worth a 4xx.
    static func requireRosterMember(
        _ connection: PostgresConnection, _ logger: Logger, session: String, person: String
    ) async throws {
        guard let (found, _) = try await sessions(connection, logger, .id(session)).first
        else { throw HubError(.notFound, "no session \(session)") }
        guard found.roster.contains(person) else {
            throw HubError(.badRequest, "\(person) is not on the roster of \(session)")
        }
    }
}
