import Attendance
import Crypto
public import Foundation
import GRDB
import Recognition

extension SQLiteHubStorage {
    /// A staff or public token the hub may store: not the admin's, at least 16 characters.
    static func checkAccessToken(_ token: String, scope: TokenScope) throws(HubError) {
        guard scope != .admin else {
            throw HubError(.badRequest, "the admin token is given to the hub at start, not stored")
        }
        guard token.count >= 16 else {
            throw HubError(.badRequest, "a token has at least 16 characters")
        }
    }

    public func addAccessToken(_ token: String, scope: TokenScope, label: String) async throws(HubError) {
        try Self.checkAccessToken(token, scope: scope)
        let hash = Self.hash(token)
        try await write { db in
            try db.execute(
                sql: "INSERT INTO accessToken (tokenHash, scope, label) VALUES (?, ?, ?)",
                arguments: [hash, scope.rawValue, label])
        }
    }

    public func accessTokens() async throws(HubError) -> [AccessTokenRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT tokenHash, scope, label FROM accessToken ORDER BY scope, label")
                .compactMap {
                    row in
                    guard let scope = TokenScope(rawValue: row["scope"]) else { return nil }
                    return AccessTokenRecord(
                        id: String((row["tokenHash"] as String).prefix(16)), scope: scope, label: row["label"])
                }
        }
    }

    public func revokeAccessToken(id: String) async throws(HubError) -> Bool {
        guard id.count == 16, id.allSatisfy(\.isHexDigit) else {
            throw HubError(.badRequest, "a token id is 16 hexadecimal digits, as the token list shows")
        }
        return try await write { db in
            try db.execute(
                sql: "DELETE FROM accessToken WHERE substr(tokenHash, 1, 16) = ?", arguments: [id.lowercased()])
            return db.changesCount > 0
        }
    }

    public func scope(forToken token: String) async throws(HubError) -> TokenScope? {
        let hash = Self.hash(token)
        return try await read { db in
            try String.fetchOne(db, sql: "SELECT scope FROM accessToken WHERE tokenHash = ?", arguments: [hash])
                .flatMap(TokenScope.init(rawValue:))
        }
    }

    public func setExcuse(session: String, person: String, reason: String?) async throws(HubError) {
        try await write { db in
            try Self.requireRosterMember(db, session: session, person: person)
            if let reason {
                try db.execute(
                    sql: "INSERT INTO excuse (session, person, reason) VALUES (?, ?, ?) "
                        + "ON CONFLICT(session, person) DO UPDATE SET reason = excluded.reason",
                    arguments: [session, person, reason])
            } else {
                try db.execute(
                    sql: "DELETE FROM excuse WHERE session = ? AND person = ?", arguments: [session, person])
            }
        }
    }

    public func setFlag(session: String, person: String, flag: MentorFlag, note: String?, on: Bool)
        async throws(HubError)
    {
        try await write { db in
            try Self.requireRosterMember(db, session: session, person: person)
            if on {
                try db.execute(
                    sql: "INSERT INTO flag (session, person, flag, note) VALUES (?, ?, ?, ?) "
                        + "ON CONFLICT(session, person, flag) DO UPDATE SET note = excluded.note",
                    arguments: [session, person, flag.rawValue, note])
            } else {
                try db.execute(
                    sql: "DELETE FROM flag WHERE session = ? AND person = ? AND flag = ?",
                    arguments: [session, person, flag.rawValue])
            }
        }
    }

    public func sessionReport(_ id: String, now: Date) async throws(HubError) -> SessionReport {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM session WHERE id = ?", arguments: [id]) else {
                throw HubError(.notFound, "no session \(id)")
            }
            let session = try Self.session(row)
            let names = try Self.names(db, self.sealer, of: session.roster)
            return try Self.sessionReport(
                db, session, className: row["className"], names: names, sealer: self.sealer, now: now)
        }
    }

    /// One session's report from what the database holds; `names` has its roster's names.
    static func sessionReport(
        _ db: Database, _ session: Session, className: String?, names: [String: String], sealer: PersonSealer,
        now: Date
    ) throws -> SessionReport {
        let id = session.id
        let records = try Row.fetchAll(
            db, sql: "SELECT * FROM checkinRecord WHERE session = ? ORDER BY checkinTime", arguments: [id]
        ).map(Self.checkinRecord)
        // Check-ins of people no longer on the roster are listed too, with their names.
        var names = names
        let guests = records.map(\.person).filter { names[$0] == nil }
        if !guests.isEmpty { names.merge(try Self.names(db, sealer, of: guests)) { old, _ in old } }
        let policy =
            try Data.fetchOne(db, sql: "SELECT policy FROM room WHERE id = ?", arguments: [session.room])
            .map { try JSONDecoder().decode(AttendancePolicy.self, from: $0) } ?? AttendancePolicy()
        var excuses: [String: String] = [:]
        for excuse in try Row.fetchAll(db, sql: "SELECT * FROM excuse WHERE session = ?", arguments: [id]) {
            excuses[excuse["person"]] = excuse["reason"]
        }
        var flags: [String: [MentorFlag]] = [:]
        for flag in try Row.fetchAll(db, sql: "SELECT * FROM flag WHERE session = ?", arguments: [id]) {
            if let value = MentorFlag(rawValue: flag["flag"]) { flags[flag["person"], default: []].append(value) }
        }
        var report = SessionReport.make(
            session: session, policy: policy, now: now, records: records, names: names, excuses: excuses,
            flags: flags)
        report.className = className
        return report
    }

    public func volunteerHours(from: Date, to: Date) async throws(HubError) -> VolunteerHours {
        guard from < to else { throw HubError(.badRequest, "from must be before to") }
        return try await read { db in
            let visits = try Row.fetchAll(
                db,
                sql: "SELECT * FROM visit WHERE loginTime < ? AND (logoutTime IS NULL OR logoutTime > ?) "
                    + "ORDER BY person, loginTime",
                arguments: [Self.ms(to), Self.ms(from)]
            ).map(Self.visit)
            var timezones: [String: TimeZone] = [:]
            for room in try Row.fetchAll(db, sql: "SELECT id, timezone FROM room") {
                timezones[room["id"]] = TimeZone(identifier: room["timezone"])
            }
            return VolunteerHours.make(
                visits: visits, timezones: timezones, names: try Self.names(db, self.sealer, of: visits.map(\.person)),
                from: from, to: to)
        }
    }

    public func groupReport(_ group: String, from: Date, to: Date, now: Date) async throws(HubError) -> GroupReport {
        guard from < to else { throw HubError(.badRequest, "from must be before to") }
        return try await read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM session WHERE groupName = ? AND start >= ? AND start < ? ORDER BY start, id",
                arguments: [group, Self.ms(from), Self.ms(to)])
            let sessions = try rows.map { (try Self.session($0), $0["className"] as String?) }
            // The names of everyone on any of the rosters, opened once for the whole report.
            let names = try Self.names(db, self.sealer, of: sessions.flatMap(\.0.roster))
            let reports = try sessions.map { session, className in
                try Self.sessionReport(db, session, className: className, names: names, sealer: self.sealer, now: now)
            }
            return GroupReport.make(group: group, from: from, to: to, reports: reports)
        }
    }

    public func publicSessionReport(_ session: String, now: Date) async throws(HubError) -> PublicSessionReport {
        let report = try await sessionReport(session, now: now)
        let key = try await read { db in
            try Data.fetchOne(db, sql: "SELECT value FROM deploymentSecret WHERE name = 'pseudonym'")
        }
        guard let key else { throw HubError(.internal, "the pseudonym key is missing") }
        return PublicSessionReport(report, key: SymmetricKey(data: key))
    }

    public func importTimetable(_ text: String) async throws(HubError) -> Timetable.Import {
        try await write { db in
            var timezones: [String: TimeZone] = [:]
            for room in try Row.fetchAll(db, sql: "SELECT id, timezone FROM room") {
                timezones[room["id"]] = TimeZone(identifier: room["timezone"])
            }
            var groups: [String: [String]] = [:]
            for entry in try Data.fetchAll(db, sql: "SELECT entry FROM person ORDER BY id") {
                let person = try self.sealer.entry(entry)
                for group in person.groups { groups[group, default: []].append(person.id) }
            }
            let result = Timetable.parse(text, timezones: timezones) { groups[$0] ?? [] }
            if !result.sessions.isEmpty { try Self.bump("schedule", db) }
            for session in result.sessions {
                try db.execute(
                    sql: "INSERT INTO session (id, room, groupName, start, \"end\", roster, className) "
                        + "VALUES (?, ?, ?, ?, ?, ?, ?) "
                        + "ON CONFLICT(id) DO UPDATE SET room = excluded.room, groupName = excluded.groupName, "
                        + "start = excluded.start, \"end\" = excluded.\"end\", roster = excluded.roster, "
                        + "className = excluded.className",
                    arguments: [
                        session.id, session.room, session.group, Self.ms(session.start), Self.ms(session.end),
                        try JSONEncoder().encode(session.roster), result.classNames[session.id],
                    ])
                // The timetable says who teaches each of its sessions: a line without teachers clears them.
                try db.execute(sql: "DELETE FROM sessionTeacher WHERE session = ?", arguments: [session.id])
                for teacher in result.teachers[session.id] ?? [] {
                    try db.execute(
                        sql: "INSERT INTO sessionTeacher (session, username) VALUES (?, ?)",
                        arguments: [session.id, teacher])
                }
            }
            return result
        }
    }

    /// The names of the people `ids` (only theirs are opened: a report never unseals the whole school).
    static func names(_ db: Database, _ sealer: PersonSealer, of ids: some Sequence<String>) throws -> [String: String]
    {
        var names: [String: String] = [:]
        let wanted = Array(Set(ids))
        // A few hundred at a time: SQLite bounds the parameters of one statement.
        for start in stride(from: 0, to: wanted.count, by: 500) {
            let part = Array(wanted[start..<min(wanted.count, start + 500)])
            let marks = Array(repeating: "?", count: part.count).joined(separator: ", ")
            for entry in try Data.fetchAll(
                db, sql: "SELECT entry FROM person WHERE id IN (\(marks))", arguments: StatementArguments(part))
            {
                let person = try sealer.person(entry)
                names[person.id] = person.name
            }
        }
        return names
    }

    static func session(_ row: Row) throws -> Session {
        Session(
            id: row["id"], room: row["room"], group: row["groupName"], start: date(row["start"]), end: date(row["end"]),
            roster: try JSONDecoder().decode([String].self, from: row["roster"] as Data))
    }

    /// Flags and excuses are about a session's roster: anything else is a mistake worth a 4xx.
    static func requireRosterMember(_ db: Database, session: String, person: String) throws {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM session WHERE id = ?", arguments: [session]) else {
            throw HubError(.notFound, "no session \(session)")
        }
        guard try Self.session(row).roster.contains(person) else {
            throw HubError(.badRequest, "\(person) is not on the roster of \(session)")
        }
    }
}
