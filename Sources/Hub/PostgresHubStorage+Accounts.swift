public import Foundation
import Logging
import PostgresNIO

extension PostgresHubStorage {
    public func addAccount(_ account: Account, passwordHash: String) async throws(HubError) {
        try account.validate()
        let groups = try SQLiteHubStorage.encodeGroups(account.groups)
        let (username, role, name, person, disabled, email) = (
            account.username, account.role.rawValue, account.name, account.person, account.disabled, account.email
        )
        try await transaction { connection, logger in
            let inserted = try await Self.exists(
                connection, logger,
                """
                INSERT INTO account (username, role, name, person, cohorts, passwordHash, disabled, email)
                VALUES (\(username), \(role), \(name), \(person), \(groups), \(passwordHash), \(disabled), \(email))
                ON CONFLICT (username) DO NOTHING RETURNING 1
                """)
            guard inserted else { throw HubError(.conflict, "there is already an account \(username)") }
        }
    }

    public func credentials(username: String) async throws(HubError) -> (account: Account, passwordHash: String)? {
        try await reading { connection, logger in
            for try await row in try await connection.query(
                """
                SELECT username, role, name, person, cohorts, disabled, passwordHash, email FROM account
                WHERE username = \(username)
                """, logger: logger
            ).decode((String, String, String, String?, Data, Bool, String, String?).self) {
                return (try Self.account(row), row.6)
            }
            return nil
        }
    }

    public func accounts() async throws(HubError) -> [Account] {
        try await reading { connection, logger in
            var accounts: [Account] = []
            for try await row in try await connection.query(
                """
                SELECT username, role, name, person, cohorts, disabled, passwordHash, email FROM account
                ORDER BY username
                """, logger: logger
            ).decode((String, String, String, String?, Data, Bool, String, String?).self) {
                accounts.append(try Self.account(row))
            }
            return accounts
        }
    }

    static func account(_ row: (String, String, String, String?, Data, Bool, String, String?)) throws -> Account {
        guard let role = StaffRole(rawValue: row.1) else {
            throw HubError(.storage, "account \(row.0) has an unknown role \(row.1)")
        }
        return Account(
            username: row.0, role: role, name: row.2, person: row.3,
            groups: try SQLiteHubStorage.decodeGroups(row.4), disabled: row.5, email: row.7)
    }

    public func setPasswordHash(username: String, hash: String) async throws(HubError) -> Bool {
        try await transaction { connection, logger in
            try await Self.exists(
                connection, logger,
                "UPDATE account SET passwordHash = \(hash) WHERE username = \(username) RETURNING 1")
        }
    }

    public func setEmail(username: String, email: String?) async throws(HubError) -> Bool {
        if let email, !OutgoingMessage.isEmailAddress(email) {
            throw HubError(.badRequest, "not an email address: \(email.prefix(80))")
        }
        return try await transaction { connection, logger in
            try await Self.exists(
                connection, logger, "UPDATE account SET email = \(email) WHERE username = \(username) RETURNING 1")
        }
    }

    public func setDisabled(username: String, disabled: Bool) async throws(HubError) -> Bool {
        try await transaction { connection, logger in
            let changed = try await Self.exists(
                connection, logger,
                "UPDATE account SET disabled = \(disabled) WHERE username = \(username) RETURNING 1")
            if disabled {
                try await connection.query("DELETE FROM webSession WHERE username = \(username)", logger: logger)
            }
            return changed
        }
    }

    public func addWebSession(digest: String, session: WebSession) async throws(HubError) {
        let (username, csrf) = (session.username, session.csrf)
        let (created, expires) = (SQLiteHubStorage.ms(session.createdAt), SQLiteHubStorage.ms(session.expiresAt))
        try await transaction { connection, logger in
            // Expired sessions go as new ones come: the table holds only live ones and the recent past.
            try await connection.query("DELETE FROM webSession WHERE expiresAt < \(created)", logger: logger)
            try await connection.query(
                """
                INSERT INTO webSession (digest, username, csrf, createdAt, expiresAt)
                VALUES (\(digest), \(username), \(csrf), \(created), \(expires))
                """, logger: logger)
        }
    }

    public func webSession(digest: String, now: Date) async throws(HubError) -> WebSession? {
        let at = SQLiteHubStorage.ms(now)
        return try await reading { connection, logger in
            for try await (username, csrf, created, expires) in try await connection.query(
                """
                SELECT username, csrf, createdAt, expiresAt FROM webSession
                WHERE digest = \(digest) AND expiresAt > \(at)
                """, logger: logger
            ).decode((String, String, Int64, Int64).self) {
                return WebSession(
                    username: username, csrf: csrf, createdAt: SQLiteHubStorage.date(created),
                    expiresAt: SQLiteHubStorage.date(expires))
            }
            return nil
        }
    }

    public func removeWebSession(digest: String) async throws(HubError) {
        try await transaction { connection, logger in
            try await connection.query("DELETE FROM webSession WHERE digest = \(digest)", logger: logger)
        }
    }

    public func removeWebSessions(username: String, keeping: String?) async throws(HubError) {
        let keep = keeping ?? ""
        try await transaction { connection, logger in
            try await connection.query(
                "DELETE FROM webSession WHERE username = \(username) AND digest <> \(keep)", logger: logger)
        }
    }

    public func recordSigninFailure(key: String, at: Date) async throws(HubError) {
        let now = SQLiteHubStorage.ms(at)
        let dayAgo = SQLiteHubStorage.ms(at.addingTimeInterval(-86_400))
        try await transaction { connection, logger in
            // Failures older than a day count for nothing: they go as new ones come.
            try await connection.query("DELETE FROM signinFailure WHERE at < \(dayAgo)", logger: logger)
            try await connection.query("INSERT INTO signinFailure (key, at) VALUES (\(key), \(now))", logger: logger)
        }
    }

    public func signinFailures(key: String, since: Date) async throws(HubError) -> Int {
        let from = SQLiteHubStorage.ms(since)
        return try await reading { connection, logger in
            Int(
                try await Self.first(
                    connection, logger, "SELECT count(*) FROM signinFailure WHERE key = \(key) AND at >= \(from)",
                    as: Int64.self) ?? 0)
        }
    }

    public func clearSigninFailures(key: String) async throws(HubError) {
        try await transaction { connection, logger in
            try await connection.query("DELETE FROM signinFailure WHERE key = \(key)", logger: logger)
        }
    }

    public func setTeachers(session: String, usernames: [String]) async throws(HubError) {
        try await transaction { connection, logger in
            guard try await Self.exists(connection, logger, "SELECT 1 FROM session WHERE id = \(session)") else {
                throw HubError(.notFound, "no session \(session)")
            }
            try await connection.query("DELETE FROM sessionTeacher WHERE session = \(session)", logger: logger)
            for username in Set(usernames.map { $0.lowercased() }) {
                try await connection.query(
                    "INSERT INTO sessionTeacher (session, username) VALUES (\(session), \(username))", logger: logger)
            }
        }
    }

    public func teaches(username: String, session: String) async throws(HubError) -> Bool {
        try await reading { connection, logger in
            try await Self.exists(
                connection, logger,
                "SELECT 1 FROM sessionTeacher WHERE username = \(username) AND session = \(session)")
        }
    }

    public func teachers(session: String) async throws(HubError) -> [Account] {
        try await reading { connection, logger in
            var accounts: [Account] = []
            for try await row in try await connection.query(
                """
                SELECT a.username, a.role, a.name, a.person, a.cohorts, a.disabled, a.passwordHash, a.email
                FROM account a JOIN sessionTeacher t ON t.username = a.username
                WHERE t.session = \(session) AND NOT a.disabled ORDER BY a.username
                """, logger: logger
            ).decode((String, String, String, String?, Data, Bool, String, String?).self) {
                accounts.append(try Self.account(row))
            }
            return accounts
        }
    }

    public func teachesGroup(username: String, group: String) async throws(HubError) -> Bool {
        try await reading { connection, logger in
            try await Self.exists(
                connection, logger,
                """
                SELECT 1 FROM sessionTeacher t JOIN session s ON s.id = t.session
                WHERE t.username = \(username) AND s.groupName = \(group) LIMIT 1
                """)
        }
    }

    public func sessionGroup(_ session: String) async throws(HubError) -> String? {
        try await reading { connection, logger in
            try await Self.first(
                connection, logger, "SELECT groupName FROM session WHERE id = \(session)", as: String.self)
        }
    }

    public func appendAudit(_ entry: AuditEntry) async throws(HubError) {
        let at = SQLiteHubStorage.ms(entry.at)
        let (actor, action, subject, detail, address) = (
            entry.actor, entry.action, entry.subject, entry.detail, entry.address
        )
        try await transaction { connection, logger in
            try await connection.query(
                """
                INSERT INTO audit (at, actor, action, subject, detail, address)
                VALUES (\(at), \(actor), \(action), \(subject), \(detail), \(address))
                """, logger: logger)
        }
    }

    public func auditEntries(from: Date, to: Date, limit: Int) async throws(HubError) -> [AuditEntry] {
        let (start, end, count) = (SQLiteHubStorage.ms(from), SQLiteHubStorage.ms(to), Int64(limit))
        return try await reading { connection, logger in
            try await Self.auditEntries(
                """
                SELECT at, actor, action, subject, detail, address FROM audit
                WHERE at >= \(start) AND at < \(end) ORDER BY at, id LIMIT \(count)
                """, connection, logger)
        }
    }

    /// The audit lines a query selects (its columns: at, actor, action, subject, detail, address).
    static func auditEntries(_ query: PostgresQuery, _ connection: PostgresConnection, _ logger: Logger) async throws
        -> [AuditEntry]
    {
        var entries: [AuditEntry] = []
        for try await (at, actor, action, subject, detail, address) in try await connection.query(query, logger: logger)
            .decode((Int64, String, String, String, String, String).self)
        {
            entries.append(
                AuditEntry(
                    at: SQLiteHubStorage.date(at), actor: actor, action: action, subject: subject, detail: detail,
                    address: address))
        }
        return entries
    }

    public func pruneAudit(before: Date) async throws(HubError) -> Int {
        let cutoff = SQLiteHubStorage.ms(before)
        return try await transaction { connection, logger in
            try await Self.all(connection, logger, "DELETE FROM audit WHERE at < \(cutoff) RETURNING 1", as: Int32.self)
                .count
        }
    }
}
