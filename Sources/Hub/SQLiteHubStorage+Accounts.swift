public import Foundation
import GRDB

extension SQLiteHubStorage {
    public func addAccount(_ account: Account, passwordHash: String) async throws(HubError) {
        try account.validate()
        let groups = try Self.encodeGroups(account.groups)
        try await write { db in
            guard
                try Row.fetchOne(db, sql: "SELECT 1 FROM account WHERE username = ?", arguments: [account.username])
                    == nil
            else { throw HubError(.conflict, "there is already an account \(account.username)") }
            try db.execute(
                sql: "INSERT INTO account (username, role, name, person, cohorts, passwordHash, disabled, email) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    account.username, account.role.rawValue, account.name, account.person, groups, passwordHash,
                    account.disabled, account.email,
                ])
        }
    }

    public func credentials(username: String) async throws(HubError) -> (account: Account, passwordHash: String)? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM account WHERE username = ?", arguments: [username]).map {
                row throws -> (account: Account, passwordHash: String) in
                (try Self.account(row), row["passwordHash"])
            }
        }
    }

    public func accounts() async throws(HubError) -> [Account] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM account ORDER BY username").map(Self.account)
        }
    }

    static func account(_ row: Row) throws -> Account {
        let role: String = row["role"]
        guard let parsed = StaffRole(rawValue: role) else {
            throw HubError(.storage, "account \(row["username"] as String) has an unknown role \(role)")
        }
        return Account(
            username: row["username"], role: parsed, name: row["name"], person: row["person"],
            groups: try decodeGroups(row["cohorts"]), disabled: row["disabled"], email: row["email"])
    }

    static func encodeGroups(_ groups: [String]) throws(HubError) -> Data {
        do { return try JSONEncoder().encode(groups) } catch {
            throw HubError(.internal, "cannot encode the groups: \(error)")
        }
    }

    static func decodeGroups(_ data: Data) throws -> [String] {
        try JSONDecoder().decode([String].self, from: data)
    }

    public func setPasswordHash(username: String, hash: String) async throws(HubError) -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE account SET passwordHash = ? WHERE username = ?", arguments: [hash, username])
            return db.changesCount > 0
        }
    }

    public func setDisabled(username: String, disabled: Bool) async throws(HubError) -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE account SET disabled = ? WHERE username = ?", arguments: [disabled, username])
            let changed = db.changesCount > 0
            if disabled { try db.execute(sql: "DELETE FROM webSession WHERE username = ?", arguments: [username]) }
            return changed
        }
    }

    public func setEmail(username: String, email: String?) async throws(HubError) -> Bool {
        if let email, !OutgoingMessage.isEmailAddress(email) {
            throw HubError(.badRequest, "not an email address: \(email.prefix(80))")
        }
        return try await write { db in
            try db.execute(sql: "UPDATE account SET email = ? WHERE username = ?", arguments: [email, username])
            return db.changesCount > 0
        }
    }

    public func addWebSession(digest: String, session: WebSession) async throws(HubError) {
        try await write { db in
            // Expired sessions go as new ones come: the table holds only live ones and the recent past.
            try db.execute(sql: "DELETE FROM webSession WHERE expiresAt < ?", arguments: [Self.ms(session.createdAt)])
            try db.execute(
                sql: "INSERT INTO webSession (digest, username, csrf, createdAt, expiresAt) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    digest, session.username, session.csrf, Self.ms(session.createdAt), Self.ms(session.expiresAt),
                ])
        }
    }

    public func webSession(digest: String, now: Date) async throws(HubError) -> WebSession? {
        try await read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM webSession WHERE digest = ? AND expiresAt > ?",
                    arguments: [digest, Self.ms(now)])
            else { return nil }
            return WebSession(
                username: row["username"], csrf: row["csrf"], createdAt: Self.date(row["createdAt"]),
                expiresAt: Self.date(row["expiresAt"]))
        }
    }

    public func removeWebSession(digest: String) async throws(HubError) {
        try await write { db in try db.execute(sql: "DELETE FROM webSession WHERE digest = ?", arguments: [digest]) }
    }

    public func removeWebSessions(username: String, keeping: String?) async throws(HubError) {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM webSession WHERE username = ? AND digest IS NOT ?", arguments: [username, keeping])
        }
    }

    public func recordSigninFailure(key: String, at: Date) async throws(HubError) {
        try await write { db in
            // Failures older than a day count for nothing: they go as new ones come.
            try db.execute(
                sql: "DELETE FROM signinFailure WHERE at < ?", arguments: [Self.ms(at.addingTimeInterval(-86_400))])
            try db.execute(sql: "INSERT INTO signinFailure (key, at) VALUES (?, ?)", arguments: [key, Self.ms(at)])
        }
    }

    public func signinFailures(key: String, since: Date) async throws(HubError) -> Int {
        try await read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM signinFailure WHERE key = ? AND at >= ?",
                arguments: [key, Self.ms(since)]) ?? 0
        }
    }

    public func clearSigninFailures(key: String) async throws(HubError) {
        try await write { db in try db.execute(sql: "DELETE FROM signinFailure WHERE key = ?", arguments: [key]) }
    }

    public func setTeachers(session: String, usernames: [String]) async throws(HubError) {
        try await write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM session WHERE id = ?", arguments: [session]) != nil else {
                throw HubError(.notFound, "no session \(session)")
            }
            try db.execute(sql: "DELETE FROM sessionTeacher WHERE session = ?", arguments: [session])
            for username in Set(usernames.map { $0.lowercased() }) {
                try db.execute(
                    sql: "INSERT INTO sessionTeacher (session, username) VALUES (?, ?)", arguments: [session, username])
            }
        }
    }

    public func teaches(username: String, session: String) async throws(HubError) -> Bool {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT 1 FROM sessionTeacher WHERE username = ? AND session = ?",
                arguments: [username, session]) != nil
        }
    }

    public func teachers(session: String) async throws(HubError) -> [Account] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT a.* FROM account a JOIN sessionTeacher t ON t.username = a.username "
                    + "WHERE t.session = ? AND NOT a.disabled ORDER BY a.username",
                arguments: [session]
            ).map(Self.account)
        }
    }

    public func teachesGroup(username: String, group: String) async throws(HubError) -> Bool {
        try await read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT 1 FROM sessionTeacher t JOIN session s ON s.id = t.session "
                    + "WHERE t.username = ? AND s.groupName = ? LIMIT 1",
                arguments: [username, group]) != nil
        }
    }

    public func sessionGroup(_ session: String) async throws(HubError) -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT groupName FROM session WHERE id = ?", arguments: [session])
        }
    }

    public func appendAudit(_ entry: AuditEntry) async throws(HubError) {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO audit (at, actor, action, subject, detail, address) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    Self.ms(entry.at), entry.actor, entry.action, entry.subject, entry.detail, entry.address,
                ])
        }
    }

    public func auditEntries(from: Date, to: Date, limit: Int) async throws(HubError) -> [AuditEntry] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM audit WHERE at >= ? AND at < ? ORDER BY at, id LIMIT ?",
                arguments: [Self.ms(from), Self.ms(to), limit]
            ).map(Self.auditEntry)
        }
    }

    static func auditEntry(_ row: Row) -> AuditEntry {
        AuditEntry(
            at: date(row["at"]), actor: row["actor"], action: row["action"], subject: row["subject"],
            detail: row["detail"], address: row["address"])
    }

    public func pruneAudit(before: Date) async throws(HubError) -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM audit WHERE at < ?", arguments: [Self.ms(before)])
            return db.changesCount
        }
    }
}
