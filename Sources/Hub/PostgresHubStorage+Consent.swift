public import Foundation
import Logging
import PostgresNIO
import Recognition
import Sealing
import SyncProtocol

extension PostgresHubStorage {
    @discardableResult
    public func recordConsent(_ record: ConsentRecord) async throws(HubError) -> Int64 {
        let record = try record.validated()
        let sealer = sealer
        let version = try await transaction { connection, logger -> Int64 in
            let person = record.person
            guard
                let stored = try await Self.first(
                    connection, logger, "SELECT entry FROM person WHERE id = \(person) FOR UPDATE", as: Data.self)
            else { throw HubError(.notFound, "no person \(person): add them first") }
            try await Self.insertConsent(record, connection, logger)
            let state = record.state.rawValue
            try await connection.query("UPDATE person SET consent = \(state) WHERE id = \(person)", logger: logger)
            let version = try await Self.bump("gallery", connection, logger)
            if record.state == .granted { return version }
            // Withdrawn or refused: the templates go now, and every door removes the person with its next delta.
            try await Self.eraseTemplates(person, stored: stored, version: version, sealer, connection, logger)
            return version
        }
        if record.state != .granted {
            // The old row version holds the sealed templates until a vacuum reclaims it: do that now.
            _ = try? await client.query("VACUUM person", logger: logger)
        }
        return version
    }

    /// `SQLiteHubStorage.eraseTemplates`, on PostgreSQL.
    static func eraseTemplates(
        _ id: String, stored: Data, version: Int64, _ sealer: PersonSealer, _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws {
        let erased = try sealer.seal(try DeviceAPI.encoder().encode(try sealer.entry(stored).withoutTemplates))
        try await connection.query(
            "UPDATE person SET entry = \(erased), templateCount = 0, version = \(version) WHERE id = \(id)",
            logger: logger)
        try await connection.query(
            """
            INSERT INTO personTombstone (id, version) VALUES (\(id), \(version))
            ON CONFLICT (id) DO UPDATE SET version = excluded.version
            """, logger: logger)
    }

    static func insertConsent(_ record: ConsentRecord, _ connection: PostgresConnection, _ logger: Logger)
        async throws
    {
        let (person, state, by) = (record.person, record.state.rawValue, record.givenBy.rawValue)
        let (at, evidence, recordedBy) = (SQLiteHubStorage.ms(record.at), record.evidence, record.recordedBy)
        try await connection.query(
            """
            INSERT INTO consentEvent (person, state, givenBy, at, evidence, recordedBy)
            VALUES (\(person), \(state), \(by), \(at), \(evidence), \(recordedBy))
            """, logger: logger)
    }

    /// Records from before consent was kept: see `SQLiteHubStorage.recordConsentOnRecord`.
    static func recordConsentOnRecord(_ connection: PostgresConnection, _ logger: Logger, sealer: PersonSealer)
        async throws
    {
        var pending: [(String, Int64)] = []
        for try await (id, stored) in try await connection.query(
            "SELECT id, entry FROM person WHERE templateCount IS NULL", logger: logger
        ).decode((String, Data).self) {
            pending.append((id, Int64(try sealer.entry(stored).templates.count)))
        }
        for (id, count) in pending {
            try await connection.query("UPDATE person SET templateCount = \(count) WHERE id = \(id)", logger: logger)
            guard count > 0 else { continue }
            try await connection.query("UPDATE person SET consent = 'granted' WHERE id = \(id)", logger: logger)
            try await insertConsent(.fromBeforeConsent(id, at: Date()), connection, logger)
        }
    }

    public func consentHistory(_ person: String) async throws(HubError) -> [ConsentRecord] {
        try await reading { connection, logger in
            var records: [ConsentRecord] = []
            for try await (state, by, at, evidence, recordedBy) in try await connection.query(
                """
                SELECT state, givenBy, at, evidence, recordedBy FROM consentEvent WHERE person = \(person) ORDER BY id
                """, logger: logger
            ).decode((String, String, Int64, String, String).self) {
                records.append(
                    ConsentRecord(
                        person: person, state: ConsentState(rawValue: state) ?? .refused,
                        givenBy: ConsentGiver(rawValue: by) ?? .unrecorded, at: SQLiteHubStorage.date(at),
                        evidence: evidence, recordedBy: recordedBy))
            }
            return records
        }
    }

    public func people() async throws(HubError) -> [PersonListing] {
        let sealer = sealer
        return try await reading { connection, logger in
            var listings: [PersonListing] = []
            for try await (entry, consent, count) in try await connection.query(
                "SELECT entry, consent, templateCount FROM person ORDER BY id", logger: logger
            ).decode((Data, String?, Int64?).self) {
                listings.append(
                    PersonListing(
                        person: try sealer.person(entry), consent: consent.flatMap(ConsentState.init(rawValue:)),
                        templates: Int(count ?? 0)))
            }
            return listings
        }
    }

    public func sealForBrowser(_ value: Data) throws(HubError) -> Data { try sealer.seal(value) }

    public func openFromBrowser(_ value: Data) throws(HubError) -> Data {
        guard DataSealer.isSealed(value) else { throw HubError(.badRequest, "not a sealed value") }
        return try sealer.open(value)
    }
}

extension PostgresHubStorage {
    public func applyRetention(_ policy: RetentionPolicy, now: Date, dryRun: Bool) async throws(HubError)
        -> RetentionReport
    {
        let sealer = sealer
        let since = SQLiteHubStorage.ms(now - policy.templatesAfterLeaving)
        let cutoff = SQLiteHubStorage.ms(now - policy.rawEvents)
        let alertCutoff = SQLiteHubStorage.ms(now - policy.doorAlerts)
        let report = try await transaction { connection, logger -> RetentionReport in
            let active = try activePeople(
                rosters: try await Self.all(
                    connection, logger, "SELECT roster FROM session WHERE start >= \(since)", as: Data.self),
                access: try await Self.all(connection, logger, "SELECT person FROM roomAccess", as: String.self))
            let holders = try await Self.all(
                connection, logger, "SELECT id FROM person WHERE templateCount > 0 ORDER BY id", as: String.self)
            let leavers = holders.filter { !active.contains($0) }
            let events =
                try await Self.first(
                    connection, logger, "SELECT COUNT(*) FROM receivedEvent WHERE receivedAt < \(cutoff)", as: Int.self)
                ?? 0
            let alerts =
                try await Self.first(
                    connection, logger, "SELECT COUNT(*) FROM doorAlert WHERE receivedAt < \(alertCutoff)",
                    as: Int.self)
                ?? 0
            if !dryRun {
                for id in leavers {
                    guard
                        let stored = try await Self.first(
                            connection, logger, "SELECT entry FROM person WHERE id = \(id) FOR UPDATE", as: Data.self)
                    else { continue }
                    let version = try await Self.bump("gallery", connection, logger)
                    try await Self.eraseTemplates(id, stored: stored, version: version, sealer, connection, logger)
                }
                try await connection.query("DELETE FROM receivedEvent WHERE receivedAt < \(cutoff)", logger: logger)
                try await connection.query("DELETE FROM doorAlert WHERE receivedAt < \(alertCutoff)", logger: logger)
            }
            return RetentionReport(
                templatesErased: leavers, eventsDeleted: events, alertsDeleted: alerts, dryRun: dryRun)
        }
        if !dryRun && !report.templatesErased.isEmpty { _ = try? await client.query("VACUUM person", logger: logger) }
        return report
    }
}
