public import Foundation
import PostgresNIO
public import SyncProtocol

extension PostgresHubStorage {
    public func recordDoorAlerts(_ batch: DoorAuditBatch, from device: DeviceRecord, receivedAt: Date)
        async throws(HubError) -> DoorAuditBatchResult
    {
        try DoorAlertRules.check(batch, now: receivedAt)
        let rows = try batch.events.map { event throws(HubError) in
            (event, DoorAlertRules.candidate(event.claimedPerson), try DoorAlertRules.scoresJSON(event.scores))
        }
        let received = SQLiteHubStorage.ms(receivedAt)
        return try await transaction { connection, logger in
            let candidates = Array(Set(rows.compactMap(\.1)))
            let known = Set(
                try await Self.all(
                    connection, logger, "SELECT id FROM person WHERE id = ANY(\(candidates))", as: String.self))
            var result = DoorAuditBatchResult()
            for (event, candidate, scores) in rows {
                let claimed = candidate.flatMap { known.contains($0) ? $0 : nil }
                let at = SQLiteHubStorage.ms(event.at)
                // Another hub process may store the same alert at the same moment: the insert that wins counts.
                let stored = try await Self.exists(
                    connection, logger,
                    """
                    INSERT INTO doorAlert (device, id, room, kind, at, reason, claimedPerson, scores, receivedAt)
                    VALUES (\(device.id), \(event.id), \(device.room), \(event.kind), \(at), \(event.reason),
                        \(claimed), \(scores), \(received))
                    ON CONFLICT (device, id) DO NOTHING RETURNING 1
                    """)
                if stored {
                    result.accepted.append(event.id)
                } else {
                    result.duplicate.append(event.id)
                }
            }
            return result
        }
    }

    public func doorAlerts(from: Date, to: Date, limit: Int) async throws(HubError) -> [DoorAlert] {
        let (from, to, limit) = (SQLiteHubStorage.ms(from), SQLiteHubStorage.ms(to), max(0, limit))
        return try await reading { connection, logger in
            var alerts: [DoorAlert] = []
            for try await row in try await connection.query(
                """
                SELECT id, device, room, kind, at, reason, claimedPerson, scores, receivedAt FROM doorAlert
                WHERE at >= \(from) AND at < \(to)
                ORDER BY at DESC, receivedAt DESC, device COLLATE "C", id COLLATE "C" LIMIT \(limit)
                """, logger: logger
            ).decode((String, String, String, String, Int64, String, String?, String, Int64).self) {
                alerts.append(
                    DoorAlert(
                        id: row.0, device: row.1, room: row.2, kind: row.3, at: SQLiteHubStorage.date(row.4),
                        reason: row.5, claimedPerson: row.6, scores: DoorAlertRules.scores(row.7),
                        receivedAt: SQLiteHubStorage.date(row.8)))
            }
            return alerts
        }
    }
}
