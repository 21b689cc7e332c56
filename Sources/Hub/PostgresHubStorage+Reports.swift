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
            guard let (session, className) = try await Self.sessions(connection, logger, .id(id)).first
            else { throw HubError(.notFound, "no session \(id)") }
            let names = try await Self.names(connection, logger, sealer, of: session.roster)
            return try await Self.sessionReport(
                session, className: className, now: now, names: names, sealer: sealer, connection, logger)
        }
    }

    static func sessionReport(
        _ session: Session, className: String?, now: Date, names: [String: String], sealer: PersonSealer,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> SessionReport {
        try await sessionReports(
            [(session, className)], now: now, names: names, sealer: sealer, connection, logger)[0]
    }

    /// The reports of `sessions`, from a few statements whatever their number (a group's term is a few
    /// hundred registers): their records, excuses, flags and rooms' policies are each read at once.
    static func sessionReports(
        _ sessions: [(session: Session, className: String?)], now: Date, names: [String: String],
        sealer: PersonSealer, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [SessionReport] {
        guard !sessions.isEmpty else { return [] }
        let ids = sessions.map(\.session.id)
        let records = Dictionary(grouping: try await checkinRecords(of: ids, connection, logger), by: \.session)
        // Check-ins of people no longer on the roster are listed too, with their names.
        var names = names
        let guests = Set(records.values.joined().map(\.person)).filter { names[$0] == nil }
        if !guests.isEmpty {
            names.merge(try await Self.names(connection, logger, sealer, of: Array(guests))) { old, _ in old }
        }
        let rooms = Array(Set(sessions.map(\.session.room)))
        var policies: [String: AttendancePolicy] = [:]
        for try await (room, policy) in try await connection.query(
            "SELECT id, policy FROM room WHERE id = ANY(\(rooms))", logger: logger
        ).decode((String, Data?).self) {
            if let policy { policies[room] = try JSONDecoder().decode(AttendancePolicy.self, from: policy) }
        }
        var excuses: [String: [String: String]] = [:]
        for try await (session, person, reason) in try await connection.query(
            "SELECT session, person, reason FROM excuse WHERE session = ANY(\(ids))", logger: logger
        ).decode((String, String, String).self) {
            excuses[session, default: [:]][person] = reason
        }
        var flags: [String: [String: [MentorFlag]]] = [:]
        for try await (session, person, flag) in try await connection.query(
            "SELECT session, person, flag FROM flag WHERE session = ANY(\(ids)) ORDER BY person, flag", logger: logger
        ).decode((String, String, String).self) {
            if let value = MentorFlag(rawValue: flag) {
                flags[session, default: [:]][person, default: []].append(value)
            }
        }
        return sessions.map { session, className in
            var report = SessionReport.make(
                session: session, policy: policies[session.room] ?? AttendancePolicy(), now: now,
                records: records[session.id] ?? [], names: names, excuses: excuses[session.id] ?? [:],
                flags: flags[session.id] ?? [:])
            report.className = className
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
            let sessions = try await Self.sessions(
                connection, logger, .group(group, from: start, to: end))
            // The names of everyone on any of the rosters, opened once for the whole report.
            let names = try await Self.names(
                connection, logger, sealer, of: Array(Set(sessions.flatMap(\.session.roster))))
            let reports = try await Self.sessionReports(
                sessions, now: now, names: names, sealer: sealer, connection, logger)
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
            let person = try sealer.name(entry)
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
