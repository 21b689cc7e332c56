import Foundation
import GRDB
import Testing

@testable import Outbox

/// The door's audit records of refused faces: kept durably with an id of their own, sent, pruned; and an
/// outbox from before them gains their table without losing anything.
struct DoorAuditOutboxTests {
    func refusal(at seconds: Double = 5, person: String? = "p-1") -> DoorAuditRecord {
        DoorAuditRecord(
            kind: DoorAuditRecord.presentationAttack, at: start + seconds, reason: "planar_motion",
            claimedPerson: person, scores: ["planarity": 0.012, "appearance": 0.8, "broken": .nan])
    }

    @Test("a refused face is kept with a UUID, its reason, claimed person and scores; synced, then pruned")
    func recordAndSync() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outbox = try Outbox(path: path, deviceID: "door-b12")
        let first = refusal()
        let second = refusal(at: 9, person: nil)
        #expect(first.id != second.id && UUID(uuidString: first.id) != nil)
        try await outbox.recordAudit(first)
        try await outbox.recordAudit(second)
        let reopened = try Outbox(path: path, deviceID: "door-b12")
        let pending = try await reopened.pendingAudit()
        #expect(pending.map(\.id) == [first.id, second.id])
        let kept = try #require(pending.first)
        #expect(kept.kind == "presentation_attack" && kept.reason == "planar_motion" && kept.claimedPerson == "p-1")
        #expect(kept.at == (start + 5).milliseconds && kept.state == .pending)
        // A score that is not a number is left out: JSON has no NaN.
        #expect(kept.scoreValues == ["planarity": 0.012, "appearance": 0.8])
        #expect(kept.scores == #"{"appearance":0.8,"planarity":0.012}"#)
        try await reopened.markAuditSynced([first.id], at: start + 60)
        try await reopened.markAuditRejected(second.id, reason: "at is more than a day ahead")
        #expect(try await reopened.pendingAudit().isEmpty)
        // Only synced ones acknowledged before the cutoff go; a rejected one stays for a technician.
        #expect(try await reopened.pruneAudit(syncedBefore: start + 30) == 0)
        #expect(try await reopened.pruneAudit(syncedBefore: start + 120) == 1)
        let left = try await reopened.auditRecords()
        #expect(left.map(\.id) == [second.id] && left[0].state == .rejected)
    }

    @Test("an outbox made before audit records gains their table; its events are kept and still pending")
    func migratesOldOutbox() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            let queue = try DatabaseQueue(path: path)
            try Outbox.migrator.migrate(queue, upTo: "v1 events, rejected scans, device state")
            try await queue.write { db in
                #expect(try !db.tableExists("doorAudit"))
                try db.execute(
                    sql: """
                        INSERT INTO event (id, kind, person, at, method, source, enqueuedAt)
                        VALUES ('old-1', 'entry', 'v-1', 1, 'qr', 'signage:door-b12', 1)
                        """)
            }
            try queue.close()
        }
        let outbox = try Outbox(path: path, deviceID: "door-b12")
        #expect(try await outbox.pending().map(\.id) == ["old-1"])
        try await outbox.recordAudit(refusal())
        #expect(try await outbox.pendingAudit().count == 1)
        let applied = try await DatabaseQueue(path: path).read { db in try Outbox.migrator.appliedMigrations(db) }
        #expect(applied == Outbox.migrator.migrations)
        // What a record holds: never an image or an encoding.
        let columns = try await DatabaseQueue(path: path).read { db in try db.columns(in: "doorAudit").map(\.name) }
        #expect(
            columns == [
                "seq", "id", "kind", "at", "reason", "claimedPerson", "scores", "state", "rejectReason", "attempts",
                "syncedAt",
            ])
    }

    @Test("a salvage of a damaged outbox copies its audit records once")
    func salvage() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        let oldPath = folder.appendingPathComponent("old.sqlite").path
        let record = refusal()
        do {
            let old = try Outbox(path: oldPath, deviceID: "door-b12")
            try await old.recordAudit(record)
            try await old.checkpoint()
        }
        let pool = try DatabasePool(path: path)
        try Outbox.migrator.migrate(pool)
        #expect(Outbox.salvage(from: oldPath, into: pool).audits == 1)
        #expect(Outbox.salvage(from: oldPath, into: pool).audits == 0)
        let ids = try await pool.read { db in try String.fetchAll(db, sql: "SELECT id FROM doorAudit") }
        #expect(ids == [record.id])
    }
}
