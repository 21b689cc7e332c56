public import Foundation
import GRDB
import Recognition
import Sealing
import SyncProtocol

extension SQLiteHubStorage {
    @discardableResult
    public func recordConsent(_ record: ConsentRecord) async throws(HubError) -> Int64 {
        let record = try record.validated()
        let sealer = sealer
        let version = try await write { db -> Int64 in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT entry, templateCount FROM person WHERE id = ?", arguments: [record.person])
            else { throw HubError(.notFound, "no person \(record.person): add them first") }
            try Self.insertConsent(db, record)
            try db.execute(
                sql: "UPDATE person SET consent = ? WHERE id = ?", arguments: [record.state.rawValue, record.person])
            let version = try Self.nextGalleryVersion(db)
            if record.state == .granted {
                // Nothing to send yet: the door learns of the person when templates are enrolled.
                return version
            }
            // Withdrawn or refused: the templates go now, and every door removes the person with its next delta.
            try Self.eraseTemplates(db, record.person, stored: row["entry"], version: version, sealer)
            return version
        }
        if record.state != .granted { await truncateLog() }
        return version
    }

    /// Rewrites a person's sealed record without templates, under gallery version `version`, with the
    /// tombstone that makes every door drop the person with its next delta.
    static func eraseTemplates(_ db: Database, _ id: String, stored: Data, version: Int64, _ sealer: PersonSealer)
        throws
    {
        let erased = try sealer.seal(try DeviceAPI.encoder().encode(try sealer.entry(stored).withoutTemplates))
        try db.execute(
            sql: "UPDATE person SET entry = ?, templateCount = 0, version = ? WHERE id = ?",
            arguments: [erased, version, id])
        try db.execute(
            sql: "INSERT INTO personTombstone (id, version) VALUES (?, ?) "
                + "ON CONFLICT(id) DO UPDATE SET version = excluded.version",
            arguments: [id, version])
    }

    public func consentHistory(_ person: String) async throws(HubError) -> [ConsentRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM consentEvent WHERE person = ? ORDER BY id", arguments: [person])
                .map(Self.consentRecord)
        }
    }

    static func consentRecord(_ row: Row) -> ConsentRecord {
        ConsentRecord(
            person: row["person"], state: ConsentState(rawValue: row["state"]) ?? .refused,
            givenBy: ConsentGiver(rawValue: row["givenBy"]) ?? .unrecorded, at: date(row["at"]),
            evidence: row["evidence"], recordedBy: row["recordedBy"])
    }

    public func people() async throws(HubError) -> [PersonListing] {
        let sealer = sealer
        return try await read { db in
            try Row.fetchAll(db, sql: "SELECT id, entry, consent, templateCount FROM person ORDER BY id").map {
                PersonListing(
                    person: try sealer.person($0["entry"]),
                    consent: ($0["consent"] as String?).flatMap(ConsentState.init(rawValue:)),
                    templates: $0["templateCount"] ?? 0)
            }
        }
    }

    /// Empties the write-ahead log into the database file and truncates it, so that pages of an erased
    /// record do not linger there (the database itself overwrites freed pages: `secure_delete`). Best
    /// effort: a reader holding the log open makes it wait for the next erasure or checkpoint.
    func truncateLog() async {
        _ = try? await pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }

    public func sealForBrowser(_ value: Data) throws(HubError) -> Data { try sealer.seal(value) }

    public func openFromBrowser(_ value: Data) throws(HubError) -> Data {
        guard DataSealer.isSealed(value) else { throw HubError(.badRequest, "not a sealed value") }
        return try sealer.open(value)
    }
}

extension SQLiteHubStorage {
    public func applyRetention(_ policy: RetentionPolicy, now: Date, dryRun: Bool) async throws(HubError)
        -> RetentionReport
    {
        let sealer = sealer
        let report = try await write { db -> RetentionReport in
            let since = Self.ms(now - policy.templatesAfterLeaving)
            let active = try activePeople(
                rosters: try Data.fetchAll(db, sql: "SELECT roster FROM session WHERE start >= ?", arguments: [since]),
                access: try String.fetchAll(db, sql: "SELECT person FROM roomAccess"))
            let holders = try String.fetchAll(db, sql: "SELECT id FROM person WHERE templateCount > 0 ORDER BY id")
            let leavers = holders.filter { !active.contains($0) }
            let cutoff = Self.ms(now - policy.rawEvents)
            let events =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM receivedEvent WHERE receivedAt < ?", arguments: [cutoff])
                ?? 0
            let alertCutoff = Self.ms(now - policy.doorAlerts)
            let alerts =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM doorAlert WHERE receivedAt < ?", arguments: [alertCutoff])
                ?? 0
            if !dryRun {
                for id in leavers {
                    guard
                        let stored = try Data.fetchOne(
                            db, sql: "SELECT entry FROM person WHERE id = ?", arguments: [id])
                    else { continue }
                    try Self.eraseTemplates(db, id, stored: stored, version: try Self.nextGalleryVersion(db), sealer)
                }
                try db.execute(sql: "DELETE FROM receivedEvent WHERE receivedAt < ?", arguments: [cutoff])
                try db.execute(sql: "DELETE FROM doorAlert WHERE receivedAt < ?", arguments: [alertCutoff])
            }
            return RetentionReport(
                templatesErased: leavers, eventsDeleted: events, alertsDeleted: alerts, dryRun: dryRun)
        }
        if !dryRun && (!report.templatesErased.isEmpty || report.eventsDeleted > 0 || report.alertsDeleted > 0) {
            await truncateLog()
        }
        return report
    }
}
