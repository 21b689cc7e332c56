import Foundation
import Hub
import SyncProtocol
import TestSupport
import Testing

/// The doors' alerts (faces refused as presentation attacks), on both stores: stored once per door and id,
/// checked whole, the claimed person kept only when the hub knows them, listed newest first, retained.
struct DoorAlertStorageTests {
    static func alert(
        _ name: String, at seconds: Double, person: String? = "p-1", reason: String = "planar_motion",
        scores: [String: Double] = ["planarity": 0.012, "appearance": 0.8]
    ) -> DoorAuditEvent {
        DoorAuditEvent(
            id: eventUUID(name), kind: "presentation_attack", at: t0 + seconds, reason: reason, claimedPerson: person,
            scores: scores)
    }

    @Test(
        "an alert is stored once per door and id, with the door's room; an unknown claimed person is kept as nil",
        arguments: StoreKind.available)
    func storeOnce(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let batch = DoorAuditBatch(events: [
            Self.alert("a-1", at: 60), Self.alert("a-2", at: 120, person: "nobody-we-know", reason: "new_cue_v2"),
            Self.alert("a-3", at: 90, person: nil, scores: [:]),
        ])
        let first = try await store.recordDoorAlerts(batch, from: device, receivedAt: received)
        #expect(first == DoorAuditBatchResult(accepted: [eventUUID("a-1"), eventUUID("a-2"), eventUUID("a-3")]))
        // A lost answer: the door sends the same batch again and nothing is doubled.
        let again = try await store.recordDoorAlerts(batch, from: device, receivedAt: received + 5)
        #expect(again == DoorAuditBatchResult(duplicate: [eventUUID("a-1"), eventUUID("a-2"), eventUUID("a-3")]))
        // Another door may use the same id: ids are the door's own.
        let other = DeviceRecord(id: "door-c3", room: "C3")
        try await store.addDevice(other, token: "secret-token-c3")
        let fromOther = try await store.recordDoorAlerts(
            DoorAuditBatch(events: [Self.alert("a-1", at: 30)]), from: other, receivedAt: received)
        #expect(fromOther.accepted == [eventUUID("a-1")])
        let alerts = try await store.doorAlerts(from: t0, to: t0 + 86_400, limit: 10)
        #expect(alerts.map(\.at) == [t0 + 120, t0 + 90, t0 + 60, t0 + 30], "newest first")
        let newest = alerts[0]
        #expect(newest.device == "door-b12" && newest.room == "B12" && newest.kind == "presentation_attack")
        #expect(newest.claimedPerson == nil && newest.reason == "new_cue_v2")
        let known = alerts[2]
        #expect(known.claimedPerson == "p-1" && known.scores == ["planarity": 0.012, "appearance": 0.8])
        #expect(known.receivedAt == received && known.id == eventUUID("a-1"))
        #expect(alerts[3].device == "door-c3" && alerts[3].room == "C3")
        #expect(try await store.doorAlerts(from: t0, to: t0 + 86_400, limit: 1).count == 1)
        #expect(try await store.doorAlerts(from: t0 + 100, to: t0 + 86_400, limit: 10).count == 1)

        // Removing the person keeps the alerts (a door was attacked) but they no longer name them.
        _ = try await store.removePerson("p-1")
        let afterRemoval = try await store.doorAlerts(from: t0, to: t0 + 86_400, limit: 10)
        #expect(afterRemoval.count == 4 && afterRemoval.allSatisfy { $0.claimedPerson == nil })
    }

    @Test("a batch with anything wrong is refused whole and nothing of it is stored", arguments: StoreKind.available)
    func refusesBadBatches(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = Self.alert("g-1", at: 10)
        var bad: [DoorAuditEvent] = []
        var event = good
        event.id = "not-a-uuid"
        bad.append(event)
        event = good
        event.kind = "checkin"
        bad.append(event)
        for reason in ["Planar", "planar-motion", "", String(repeating: "a", count: 65), "_x", "1abc", "x y", "é"] {
            event = good
            event.reason = reason
            bad.append(event)
        }
        event = good
        event.scores = Dictionary(uniqueKeysWithValues: (0..<9).map { ("s\($0)", 0.5) })
        bad.append(event)
        for scores in [["Bad": 0.5], ["ok": Double.nan], ["ok": Double.infinity], ["": 1]] {
            event = good
            event.scores = scores
            bad.append(event)
        }
        event = good
        event.at = received + 86_400 + 60
        bad.append(event)
        for wrong in bad {
            await #expect(throws: HubError.self, "\(wrong)") {
                try await store.recordDoorAlerts(
                    DoorAuditBatch(events: [good, wrong]), from: device, receivedAt: received)
            }
        }
        do {
            _ = try await store.recordDoorAlerts(DoorAuditBatch(events: []), from: device, receivedAt: received)
            Issue.record("an empty batch must be refused")
        } catch {
            #expect(error.code == .badRequest)
        }
        let tooMany = (0...DeviceAPI.maximumAuditBatch).map { Self.alert("m-\($0)", at: Double($0)) }
        await #expect(throws: HubError.self) {
            try await store.recordDoorAlerts(DoorAuditBatch(events: tooMany), from: device, receivedAt: received)
        }
        #expect(try await store.doorAlerts(from: .distantPast, to: .distantFuture, limit: 1000).isEmpty)
        // A day ahead is still taken (a door's clock may be off); the 8 scores a batch may carry too.
        var edge = Self.alert("e-1", at: 0, scores: Dictionary(uniqueKeysWithValues: (0..<8).map { ("s\($0)", 0.5) }))
        edge.at = received + 86_400
        #expect(
            try await store.recordDoorAlerts(DoorAuditBatch(events: [edge]), from: device, receivedAt: received)
                .accepted.count == 1)
    }

    @Test(
        "retention deletes alerts received longer ago than the rule keeps them; a dry run only counts",
        arguments: StoreKind.available)
    func retention(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try await store.recordDoorAlerts(
            DoorAuditBatch(events: [Self.alert("old", at: 0)]), from: device, receivedAt: received)
        let later = received + 20 * 86_400
        _ = try await store.recordDoorAlerts(
            DoorAuditBatch(events: [Self.alert("new", at: 20 * 86_400)]), from: device, receivedAt: later)
        let policy = RetentionPolicy(templatesAfterLeavingDays: 3650, rawEventsDays: 3650, doorAlertsDays: 10)
        #expect(RetentionPolicy().doorAlerts == 730 * 86_400, "as long as the audit trail by default")
        let now = later + 86_400
        let dry = try await store.applyRetention(policy, now: now, dryRun: true)
        #expect(dry.alertsDeleted == 1 && dry.summary.contains("1 door alerts"))
        #expect(try await store.doorAlerts(from: .distantPast, to: .distantFuture, limit: 10).count == 2)
        let done = try await store.applyRetention(policy, now: now, dryRun: false)
        #expect(done.alertsDeleted == 1)
        let left = try await store.doorAlerts(from: .distantPast, to: .distantFuture, limit: 10)
        #expect(left.map(\.id) == [eventUUID("new")])
    }
}
