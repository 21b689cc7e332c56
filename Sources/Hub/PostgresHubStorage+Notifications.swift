public import Foundation
import Logging
import PostgresNIO

extension PostgresHubStorage {
    public func setGuardianContacts(person: String, emails: [String]) async throws(HubError) {
        let emails = try SQLiteHubStorage.checkedEmails(emails)
        let payload = try sealer.seal(try SQLiteHubStorage.json(emails))
        try await transaction { connection, logger in
            guard try await Self.exists(connection, logger, "SELECT 1 FROM person WHERE id = \(person)") else {
                throw HubError(.notFound, "no person \(person): add them first")
            }
            if emails.isEmpty {
                try await connection.query("DELETE FROM guardianContact WHERE person = \(person)", logger: logger)
            } else {
                try await connection.query(
                    """
                    INSERT INTO guardianContact (person, payload) VALUES (\(person), \(payload))
                    ON CONFLICT (person) DO UPDATE SET payload = excluded.payload
                    """, logger: logger)
            }
        }
    }

    public func guardianContacts(person: String) async throws(HubError) -> [String] {
        let sealer = sealer
        return try await reading { connection, logger in
            guard
                let payload = try await Self.first(
                    connection, logger, "SELECT payload FROM guardianContact WHERE person = \(person)", as: Data.self)
            else { return [] }
            return try JSONDecoder().decode([String].self, from: try sealer.open(payload))
        }
    }

    @discardableResult
    public func enqueue(_ messages: [OutgoingMessage], at: Date) async throws(HubError) -> Int {
        let sealer = sealer
        var sealed: [(OutgoingMessage, Data)] = []
        for message in messages {
            sealed.append(
                (
                    message,
                    try sealer.seal(
                        try SQLiteHubStorage.json(
                            SealedMessage(recipient: message.recipient, subject: message.subject, body: message.body)))
                ))
        }
        let time = SQLiteHubStorage.ms(at)
        let rows = sealed
        return try await transaction { connection, logger in
            var queued = 0
            for (message, payload) in rows {
                let (key, kind, channel) = (message.key, message.kind, message.channel.rawValue)
                let (person, session) = (message.person, message.session)
                if try await Self.exists(
                    connection, logger,
                    """
                    INSERT INTO notification (key, kind, channel, person, session, payload, createdAt, nextAttemptAt)
                    VALUES (\(key), \(kind), \(channel), \(person), \(session), \(payload), \(time), \(time))
                    ON CONFLICT (key) DO NOTHING RETURNING 1
                    """)
                {
                    queued += 1
                }
            }
            return queued
        }
    }

    public func claimMessages(now: Date, lease: TimeInterval, limit: Int) async throws(HubError) -> [QueuedMessage] {
        let sealer = sealer
        let (time, until, count) = (SQLiteHubStorage.ms(now), SQLiteHubStorage.ms(now + lease), Int64(limit))
        return try await transaction { connection, logger in
            var claimed: [QueuedMessage] = []
            // SKIP LOCKED: two hub processes claiming at once take different messages.
            for try await row in try await connection.query(
                """
                UPDATE notification SET claimedUntil = \(until) WHERE id IN (
                    SELECT id FROM notification WHERE sentAt IS NULL AND NOT failed AND nextAttemptAt <= \(time)
                        AND claimedUntil <= \(time) ORDER BY nextAttemptAt, id LIMIT \(count) FOR UPDATE SKIP LOCKED)
                RETURNING id, key, kind, channel, person, session, payload, createdAt, attempts, sentAt, lastError, failed
                """, logger: logger
            ).decode((Int64, String, String, String, String, String, Data, Int64, Int64, Int64?, String?, Bool).self) {
                claimed.append(try Self.queuedMessage(row, sealer))
            }
            return claimed.sorted { $0.id < $1.id }
        }
    }

    static func queuedMessage(
        _ row: (Int64, String, String, String, String, String, Data, Int64, Int64, Int64?, String?, Bool),
        _ sealer: PersonSealer
    ) throws -> QueuedMessage {
        let (id, key, kind, channel, person, session, payload, createdAt, attempts, sentAt, lastError, failed) = row
        let sealed = try JSONDecoder().decode(SealedMessage.self, from: try sealer.open(payload))
        return QueuedMessage(
            id: id,
            message: OutgoingMessage(
                key: key, kind: kind, channel: NotificationChannel(rawValue: channel) ?? .email, person: person,
                session: session, recipient: sealed.recipient, subject: sealed.subject, body: sealed.body),
            attempts: Int(attempts), createdAt: SQLiteHubStorage.date(createdAt),
            sentAt: sentAt.map(SQLiteHubStorage.date), lastError: lastError, failed: failed)
    }

    public func markSent(_ id: Int64, at: Date) async throws(HubError) {
        let time = SQLiteHubStorage.ms(at)
        try await transaction { connection, logger in
            try await connection.query(
                "UPDATE notification SET sentAt = \(time), attempts = attempts + 1, lastError = NULL WHERE id = \(id)",
                logger: logger)
        }
    }

    public func markFailed(_ id: Int64, error: String, retryAt: Date?) async throws(HubError) {
        let (text, next, failed) = (String(error.prefix(500)), retryAt.map(SQLiteHubStorage.ms), retryAt == nil)
        try await transaction { connection, logger in
            try await connection.query(
                """
                UPDATE notification SET attempts = attempts + 1, lastError = \(text), claimedUntil = 0,
                    nextAttemptAt = COALESCE(\(next), nextAttemptAt), failed = \(failed) WHERE id = \(id)
                """, logger: logger)
        }
    }

    public func messages(person: String?) async throws(HubError) -> [QueuedMessage] {
        let sealer = sealer
        return try await reading { connection, logger in
            let columns =
                "id, key, kind, channel, person, session, payload, createdAt, attempts, sentAt, lastError, failed"
            let query: PostgresQuery =
                if let person {
                    "SELECT \(unescaped: columns) FROM notification WHERE person = \(person) ORDER BY id"
                } else {
                    "SELECT \(unescaped: columns) FROM notification ORDER BY id DESC LIMIT 500"
                }
            var messages: [QueuedMessage] = []
            for try await row in try await connection.query(query, logger: logger).decode(
                (Int64, String, String, String, String, String, Data, Int64, Int64, Int64?, String?, Bool).self)
            {
                messages.append(try Self.queuedMessage(row, sealer))
            }
            return messages
        }
    }
}
