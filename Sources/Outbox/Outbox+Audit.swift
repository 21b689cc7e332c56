public import Foundation
import GRDB

extension Outbox {
    /// Keeps a door audit record (a refused face) until the hub has it. When this returns, it is on disk.
    public func recordAudit(_ record: DoorAuditRecord) async throws(OutboxError) {
        try await write("record a refused face") { db in
            var row = record
            try row.insert(db)
        }
    }

    /// The oldest audit records not yet acknowledged by the hub, at most `limit`.
    public func pendingAudit(limit: Int = 100) async throws(OutboxError) -> [DoorAuditRecord] {
        try await read("read pending audit records") { db in
            try DoorAuditRecord.filter(Column("state") == DeliveryState.pending.rawValue).order(Column("seq"))
                .limit(limit).fetchAll(db)
        }
    }

    /// Marks audit records the hub acknowledged (stored now, or already had) as synced.
    public func markAuditSynced(_ ids: [String], at time: Date = Date()) async throws(OutboxError) {
        guard !ids.isEmpty else { return }
        try await write("mark audit records synced") { db in
            try DoorAuditRecord.filter(ids.contains(Column("id")))
                .updateAll(
                    db, Column("state").set(to: DeliveryState.synced.rawValue),
                    Column("syncedAt").set(to: time.milliseconds))
        }
    }

    /// Marks an audit record the hub refused, with its reason: kept, never sent again.
    public func markAuditRejected(_ id: String, reason: String) async throws(OutboxError) {
        try await write("mark an audit record rejected") { db in
            try DoorAuditRecord.filter(Column("id") == id)
                .updateAll(
                    db, Column("state").set(to: DeliveryState.rejected.rawValue),
                    Column("rejectReason").set(to: String(reason.prefix(500))))
        }
    }

    /// Counts a failed delivery attempt of these audit records.
    public func countAuditAttempt(_ ids: [String]) async throws(OutboxError) {
        guard !ids.isEmpty else { return }
        try await write("count an audit delivery attempt") { db in
            let attempts = Column("attempts")
            try DoorAuditRecord.filter(ids.contains(Column("id"))).updateAll(db, attempts.set(to: attempts + 1))
        }
    }

    /// Deletes audit records the hub acknowledged before `cutoff`; returns how many. Pending and rejected
    /// ones stay.
    @discardableResult
    public func pruneAudit(syncedBefore cutoff: Date) async throws(OutboxError) -> Int {
        try await write("prune synced audit records") { db in
            try DoorAuditRecord.filter(
                Column("state") == DeliveryState.synced.rawValue && Column("syncedAt") < cutoff.milliseconds
            ).deleteAll(db)
        }
    }

    /// Every audit record in the outbox, oldest first.
    public func auditRecords() async throws(OutboxError) -> [DoorAuditRecord] {
        try await read("read audit records") { db in try DoorAuditRecord.order(Column("seq")).fetchAll(db) }
    }
}
