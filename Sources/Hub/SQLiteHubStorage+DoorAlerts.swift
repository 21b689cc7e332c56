public import Foundation
import GRDB
public import SyncProtocol

extension SQLiteHubStorage {
    public func recordDoorAlerts(_ batch: DoorAuditBatch, from device: DeviceRecord, receivedAt: Date)
        async throws(HubError) -> DoorAuditBatchResult
    {
        try DoorAlertRules.check(batch, now: receivedAt)
        let rows = try batch.events.map { event throws(HubError) in
            (event, DoorAlertRules.candidate(event.claimedPerson), try DoorAlertRules.scoresJSON(event.scores))
        }
        return try await write { db in
            var result = DoorAuditBatchResult()
            for (event, candidate, scores) in rows {
                var claimed: String?
                if let candidate,
                    try Int.fetchOne(db, sql: "SELECT 1 FROM person WHERE id = ?", arguments: [candidate]) != nil
                {
                    claimed = candidate
                }
                try db.execute(
                    sql: """
                        INSERT INTO doorAlert (device, id, room, kind, at, reason, claimedPerson, scores, receivedAt)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(device, id) DO NOTHING
                        """,
                    arguments: [
                        device.id, event.id, device.room, event.kind, Self.ms(event.at), event.reason, claimed, scores,
                        Self.ms(receivedAt),
                    ])
                if db.changesCount > 0 {
                    result.accepted.append(event.id)
                } else {
                    result.duplicate.append(event.id)
                }
            }
            return result
        }
    }

    public func doorAlerts(from: Date, to: Date, limit: Int) async throws(HubError) -> [DoorAlert] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM doorAlert WHERE at >= ? AND at < ? ORDER BY at DESC, receivedAt DESC, device, id
                    LIMIT ?
                    """,
                arguments: [Self.ms(from), Self.ms(to), max(0, limit)]
            ).map { row in
                DoorAlert(
                    id: row["id"], device: row["device"], room: row["room"], kind: row["kind"],
                    at: Date(timeIntervalSince1970: Double(row["at"] as Int64) / 1000), reason: row["reason"],
                    claimedPerson: row["claimedPerson"], scores: DoorAlertRules.scores(row["scores"]),
                    receivedAt: Date(timeIntervalSince1970: Double(row["receivedAt"] as Int64) / 1000))
            }
        }
    }
}
