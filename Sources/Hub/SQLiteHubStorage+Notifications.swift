public import Foundation
import GRDB

/// What a queued message keeps sealed: whom it goes to and what it says.
struct SealedMessage: Codable {
    var recipient: String
    var subject: String
    var body: String
}

extension SQLiteHubStorage {
    public func setGuardianContacts(person: String, emails: [String]) async throws(HubError) {
        let emails = try Self.checkedEmails(emails)
        let payload = try sealer.seal(try Self.json(emails))
        try await write { db in
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM person WHERE id = ?", arguments: [person]) != nil else {
                throw HubError(.notFound, "no person \(person): add them first")
            }
            if emails.isEmpty {
                try db.execute(sql: "DELETE FROM guardianContact WHERE person = ?", arguments: [person])
            } else {
                try db.execute(
                    sql: "INSERT INTO guardianContact (person, payload) VALUES (?, ?) "
                        + "ON CONFLICT(person) DO UPDATE SET payload = excluded.payload",
                    arguments: [person, payload])
            }
        }
    }

    /// At most 5 addresses, each an email address.
    static func checkedEmails(_ emails: [String]) throws(HubError) -> [String] {
        let trimmed = emails.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard trimmed.count <= 5 else { throw HubError(.badRequest, "at most 5 guardian addresses") }
        if let bad = trimmed.first(where: { !OutgoingMessage.isEmailAddress($0) }) {
            throw HubError(.badRequest, "not an email address: \(bad.prefix(80))")
        }
        return trimmed
    }

    public func guardianContacts(person: String) async throws(HubError) -> [String] {
        let sealer = sealer
        return try await read { db in
            guard
                let payload = try Data.fetchOne(
                    db, sql: "SELECT payload FROM guardianContact WHERE person = ?", arguments: [person])
            else { return [] }
            return try JSONDecoder().decode([String].self, from: try sealer.open(payload))
        }
    }

    @discardableResult
    public func enqueue(_ messages: [OutgoingMessage], at: Date) async throws(HubError) -> Int {
        let sealer = sealer
        let sealed = try messages.map { message throws(HubError) in
            (
                message,
                try sealer.seal(
                    Self.json(
                        SealedMessage(recipient: message.recipient, subject: message.subject, body: message.body)))
            )
        }
        return try await write { db in
            var queued = 0
            for (message, payload) in sealed {
                try db.execute(
                    sql: """
                        INSERT INTO notification (key, kind, channel, person, session, payload, createdAt, nextAttemptAt)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING
                        """,
                    arguments: [
                        message.key, message.kind, message.channel.rawValue, message.person, message.session, payload,
                        Self.ms(at), Self.ms(at),
                    ])
                queued += db.changesCount
            }
            return queued
        }
    }

    static func json(_ value: some Encodable) throws(HubError) -> Data {
        do { return try JSONEncoder().encode(value) } catch { throw HubError(.internal, "cannot encode: \(error)") }
    }

    public func claimMessages(now: Date, lease: TimeInterval, limit: Int) async throws(HubError) -> [QueuedMessage] {
        let sealer = sealer
        return try await write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM notification WHERE sentAt IS NULL AND failed = 0 AND nextAttemptAt <= ?
                        AND claimedUntil <= ? ORDER BY nextAttemptAt, id LIMIT ?
                    """,
                arguments: [Self.ms(now), Self.ms(now), limit])
            for row in rows {
                try db.execute(
                    sql: "UPDATE notification SET claimedUntil = ? WHERE id = ?",
                    arguments: [Self.ms(now + lease), row["id"] as Int64])
            }
            return try rows.map { try Self.queuedMessage($0, sealer) }
        }
    }

    static func queuedMessage(_ row: Row, _ sealer: PersonSealer) throws -> QueuedMessage {
        let sealed = try JSONDecoder().decode(SealedMessage.self, from: try sealer.open(row["payload"]))
        return QueuedMessage(
            id: row["id"],
            message: OutgoingMessage(
                key: row["key"], kind: row["kind"], channel: NotificationChannel(rawValue: row["channel"]) ?? .email,
                person: row["person"], session: row["session"], recipient: sealed.recipient, subject: sealed.subject,
                body: sealed.body),
            attempts: row["attempts"], createdAt: date(row["createdAt"]),
            sentAt: (row["sentAt"] as Int64?).map(date), lastError: row["lastError"],
            failed: (row["failed"] as Int) != 0)
    }

    public func markSent(_ id: Int64, at: Date) async throws(HubError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE notification SET sentAt = ?, attempts = attempts + 1, lastError = NULL WHERE id = ?",
                arguments: [Self.ms(at), id])
        }
    }

    public func markFailed(_ id: Int64, error: String, retryAt: Date?) async throws(HubError) {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE notification SET attempts = attempts + 1, lastError = ?, claimedUntil = 0,
                        nextAttemptAt = COALESCE(?, nextAttemptAt), failed = ? WHERE id = ?
                    """,
                arguments: [String(error.prefix(500)), retryAt.map(Self.ms), retryAt == nil ? 1 : 0, id])
        }
    }

    public func messages(person: String?) async throws(HubError) -> [QueuedMessage] {
        let sealer = sealer
        return try await read { db in
            let rows =
                try person.map {
                    try Row.fetchAll(
                        db, sql: "SELECT * FROM notification WHERE person = ? ORDER BY id", arguments: [$0])
                } ?? Row.fetchAll(db, sql: "SELECT * FROM notification ORDER BY id DESC LIMIT 500")
            return try rows.map { try Self.queuedMessage($0, sealer) }
        }
    }
}
