import AsyncHTTPClient
import Attendance
import Foundation
import GRDB
import Hub
import HubServer
import NIOCore
import NIOHTTP1
import Outbox
import Sync
import SyncProtocol
import TestSupport
import Testing

/// Refused faces from the door's outbox to the hub's door alerts: pushed, marked synced, sent again after a
/// lost answer without doubling; forged and garbage bodies answered 400, never a crash.
struct DoorAuditSyncTests {
    static func refusal(at seconds: Double, person: String? = "p-1") -> DoorAuditRecord {
        DoorAuditRecord(
            kind: DoorAuditRecord.presentationAttack, at: t0 + seconds, reason: "screen_or_print",
            claimedPerson: person, scores: ["appearance": 0.91, "planarity": 0.4])
    }

    /// A raw request with the door's token (or another).
    static func post(_ port: Int, _ body: String, token given: String? = token) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(DeviceAPI.auditPath)")
        request.method = .POST
        if let given { request.headers.add(name: "Authorization", value: "Bearer \(given)") }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return (Int(response.status.code), text)
    }

    @Test("pending refused faces reach the hub once; a resend after a lost answer is a duplicate; both synced")
    func pushAndResend() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        let path = folder.appendingPathComponent("outbox.sqlite").path
        let outbox = try Outbox(path: path, deviceID: "door-b12")
        let records = (0..<130).map { Self.refusal(at: Double($0), person: $0 == 0 ? "ghost" : "p-\($0 % 10)") }
        for record in records { try await outbox.recordAudit(record) }
        let configuration = HubServerConfiguration(adminToken: nil)
        let router = HubServer.router(storage: store, configuration: configuration)
        try await serving(router) { port in
            let client = SyncClient(configuration: fastConfiguration(port: port), outbox: outbox)
            // Events first, then audit records, in batches of at most 100.
            #expect(await client.pushAuditOnce() == .delivered(accepted: 100, duplicate: 0, rejected: 0))
            #expect(await client.drain(deadline: Date() + 30))
            #expect(try await outbox.pendingAudit().isEmpty)
            #expect(try await outbox.auditRecords().allSatisfy { $0.state == .synced && $0.syncedAt != nil })
            // The hub's answer was lost: the door still has them pending and sends them again.
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                try db.execute(sql: "UPDATE doorAudit SET state = 'pending', syncedAt = NULL WHERE seq <= 3")
            }
            try queue.close()
            #expect(await client.pushAuditOnce() == .delivered(accepted: 0, duplicate: 3, rejected: 0))
            #expect(await client.pushAuditOnce() == .idle)
            let metrics = configuration.metrics.text()
            #expect(metrics.contains(#"rollcall_hub_door_alerts_total{outcome="accepted"} 130"#))
            #expect(metrics.contains(#"rollcall_hub_door_alerts_total{outcome="duplicate"} 3"#))
        }
        let alerts = try await store.doorAlerts(from: t0 - 60, to: t0 + 3600, limit: 1000)
        #expect(alerts.count == 130)
        #expect(alerts.allSatisfy { $0.device == "door-b12" && $0.room == "B12" && $0.reason == "screen_or_print" })
        #expect(alerts.last?.claimedPerson == nil, "ghost is no person the hub knows")
        #expect(alerts.first?.claimedPerson == "p-9" && alerts.first?.scores == ["appearance": 0.91, "planarity": 0.4])
    }

    @Test("a record the hub refuses is marked rejected at the door; the others of its batch go through")
    func poisonRecord() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        let outbox = try Outbox(path: folder.appendingPathComponent("outbox.sqlite").path, deviceID: "door-b12")
        var bad = Self.refusal(at: 1)
        bad.reason = "Not A Name"
        try await outbox.recordAudit(Self.refusal(at: 0))
        try await outbox.recordAudit(bad)
        try await outbox.recordAudit(Self.refusal(at: 2))
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: nil))
        try await serving(router) { port in
            let client = SyncClient(configuration: fastConfiguration(port: port), outbox: outbox)
            #expect(await client.pushAuditOnce() == .delivered(accepted: 2, duplicate: 0, rejected: 1))
            #expect(await client.pushAuditOnce() == .idle)
        }
        let states = try await outbox.auditRecords().map(\.state)
        #expect(states == [.synced, .rejected, .synced])
        #expect(try await outbox.auditRecords()[1].rejectReason?.contains("reason") == true)
        #expect(try await store.doorAlerts(from: t0 - 60, to: t0 + 60, limit: 10).count == 2)
    }

    @Test("forged and garbage bodies: 400 (or 401, 413) with a problem body, nothing stored, the hub still up")
    func garbage() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: nil))
        let at = ISO8601Time.format(t0)
        let id = eventUUID("x-1")
        @Sendable func event(_ fields: String) -> String {
            #"{"events": [{"id": "\#(id)", "kind": "presentation_attack", "at": "\#(at)", "reason": "planar_motion", "#
                + fields + "}]}"
        }
        let bodies = [
            "", "not json", "[]", "{}", #"{"events": []}"#, #"{"events": null}"#, #"{"events": [{}]}"#,
            #"{"events": [1, 2]}"#, event(#""scores": {"a": "high"}"#), event(#""scores": [1, 2]"#),
            event(#""claimed_person": 7"#), event(#""scores": {"a": 1e999}"#),
            event(#""scores": {"DROP TABLE": 1}"#),
            event(#""scores": {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1, "g": 1, "h": 1, "i": 1}"#),
            #"{"events": [{"id": "\#(id)", "kind": "presentation_attack", "at": "yesterday", "reason": "x"}]}"#,
            #"{"events": [{"id": "\#(id)", "kind": "presentation_attack", "at": "2999-01-01T00:00:00Z", "reason": "x"}]}"#,
            #"{"events": [{"id": "\#(id)", "kind": "checkin", "at": "\#(at)", "reason": "x"}]}"#,
            #"{"events": [{"id": "'; DROP TABLE doorAlert; --", "kind": "presentation_attack", "at": "\#(at)", "reason": "x"}]}"#,
            #"{"events": [{"id": "\#(id)", "kind": "presentation_attack", "at": "\#(at)", "reason": "<script>alert(1)</script>"}]}"#,
            "{\"events\": ["
                + Array(repeating: event("\"scores\": {}").dropFirst(12).dropLast(2), count: 101)
                .joined(separator: ",") + "]}",
        ]
        try await serving(router) { port in
            for body in bodies {
                let (status, text) = try await Self.post(port, body)
                #expect(status == 400, "\(body.prefix(120)): \(status) \(text.prefix(200))")
                let problem = try? DeviceAPI.decoder().decode(APIProblem.self, from: Data(text.utf8))
                #expect(problem?.error == "bad_request", "\(body.prefix(120))")
            }
            #expect(try await Self.post(port, event("\"scores\": {}"), token: nil).0 == 401)
            #expect(try await Self.post(port, event("\"scores\": {}"), token: "forged-token-0123456789").0 == 401)
            let huge = event(#""claimed_person": ""# + String(repeating: "x", count: 300_000) + "\"")
            #expect(try await Self.post(port, huge).0 == 413)
            #expect(try await store.doorAlerts(from: .distantPast, to: .distantFuture, limit: 10).isEmpty)
            // The body cannot say which door or room it comes from: the token does.
            let forged = event(#""device": "door-c3", "room": "C3", "claimed_person": "p-2", "scores": {"x": 0.5}"#)
            let (status, text) = try await Self.post(port, forged)
            #expect(status == 200 && text.contains(id))
        }
        let stored = try await store.doorAlerts(from: .distantPast, to: .distantFuture, limit: 10)
        #expect(stored.count == 1 && stored[0].device == "door-b12" && stored[0].room == "B12")
        #expect(stored[0].claimedPerson == "p-2" && stored[0].scores == ["x": 0.5])
    }

    @Test("the OpenAPI document describes the audit endpoint and its schemas as the code writes them")
    func openAPI() throws {
        let url = TestResources.packageRoot.appendingPathComponent("openapi/device-api.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        #expect(paths[DeviceAPI.auditPath]?["post"] != nil)
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        func properties(_ name: String) -> Set<String> {
            Set((((schemas[name] as? [String: Any])?["properties"]) as? [String: Any])?.keys.map { $0 } ?? [])
        }
        func keys(_ value: some Encodable) throws -> Set<String> {
            let object = try JSONSerialization.jsonObject(with: DeviceAPI.encoder().encode(value)) as? [String: Any]
            return Set(object?.keys.map { $0 } ?? [])
        }
        let event = DoorAuditEvent(
            id: eventUUID("o-1"), kind: "presentation_attack", at: t0, reason: "planar_motion", claimedPerson: "p-1",
            scores: ["planarity": 0.1])
        #expect(try keys(event) == properties("DoorAuditEvent"))
        #expect(try keys(DoorAuditBatch(events: [event])) == properties("DoorAuditBatch"))
        #expect(try keys(DoorAuditBatchResult(accepted: ["a"], duplicate: [])) == properties("DoorAuditBatchResult"))
        let decoded = try DeviceAPI.decoder().decode(DoorAuditEvent.self, from: DeviceAPI.encoder().encode(event))
        #expect(decoded == event)
    }
}
