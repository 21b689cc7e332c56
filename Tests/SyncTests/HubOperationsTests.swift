import Attendance
import Foundation
import Hub
import HubServer
import NIOHTTP1
import Outbox
import SyncProtocol
import Synchronization
import TestSupport
import Testing

/// What the people who run the hub use: the schema steps, a backup while serving, `/healthz` and `/metrics`.
struct HubOperationsTests {
    @Test("the schema: none on a new file, every known step after opening, and opening again applies nothing")
    func migrations() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("hub.sqlite").path
        let store = try SQLiteHubStorage(path: path)
        #expect(try await store.appliedMigrations() == SQLiteHubStorage.knownMigrations)
        #expect(SQLiteHubStorage.knownMigrations.count >= 7)
        let again = try SQLiteHubStorage(path: path)
        #expect(try await again.appliedMigrations() == SQLiteHubStorage.knownMigrations)
        #expect(try SQLiteHubStorage.appliedMigrations(at: path) == SQLiteHubStorage.knownMigrations)
    }

    @Test("a backup is the database at one moment, readable with the same key; an existing file is not overwritten")
    func backup() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try #require(try await hubStore(in: folder) as? SQLiteHubStorage)
        let device = DeviceRecord(id: "door-b12", room: "B12")
        let events = (0..<5).map { index in
            DeviceEvent(
                id: UUID().uuidString.lowercased(),
                event: .checkin(session: "s-math", person: "p-\(index)", at: t0 + 60, status: .present, minutesLate: 0),
                method: "face", source: "signage:door-b12")
        }
        _ = try await store.ingest(EventBatch(events: events), from: device, receivedAt: t0 + 61)
        let copy = folder.appendingPathComponent("copy.sqlite").path
        let fractions = Fractions()
        try await store.backup(to: copy) { fractions.add($0) }
        #expect(fractions.last == 1)
        let key = try PersonSealer.load(
            file: folder.appendingPathComponent("hub.sqlite.key").path, database: copy, environment: [:])
        let restored = try SQLiteHubStorage(path: copy, sealer: key)
        #expect(try await restored.receivedEventCount() == 5)
        #expect(try await restored.checkinRecords(session: "s-math").count == 5)
        #expect(try await restored.galleryDelta(since: 0).upserts.count == 11)
        let error = await #expect(throws: HubError.self) { try await store.backup(to: copy) }
        #expect(error?.code == .conflict)
    }

    @Test("/healthz answers ok without a token, even while tokenless requests are rate limited; /metrics counts")
    func healthAndMetrics() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        var configuration = HubServerConfiguration(adminToken: nil)
        configuration.limits = ServeLimits(requestsPerSecond: 0.1, burst: 2)
        let router = HubServer.router(storage: store, configuration: configuration)
        try await serving(router) { port in
            let base = "http://127.0.0.1:\(port)"
            for _ in 0..<3 { _ = try await call(.GET, base + "/api/v1/device/manifest", token: nil) }
            #expect(try await call(.GET, base + "/api/v1/device/manifest", token: nil).status == 429)
            let health = try await call(.GET, base + "/healthz", token: nil)
            #expect(health.status == 200 && String(decoding: health.body, as: UTF8.self) == "ok\n")
            let batch = EventBatch(events: [
                DeviceEvent(
                    id: UUID().uuidString.lowercased(),
                    event: .checkin(session: "s-math", person: "p-1", at: t0 + 60, status: .present, minutesLate: 0),
                    method: "face", source: "signage:door-b12"),
                DeviceEvent(
                    id: UUID().uuidString.lowercased(),
                    event: .checkin(session: "s-math", person: "nobody", at: t0 + 60, status: .present, minutesLate: 0),
                    method: "face", source: "signage:door-b12"),
            ])
            let posted = try await call(
                .POST, base + "/api/v1/device/events", token: token, body: try DeviceAPI.encoder().encode(batch))
            #expect(posted.status == 200)
            let metrics = try await call(.GET, base + "/metrics", token: nil)
            let text = String(decoding: metrics.body, as: UTF8.self)
            #expect(metrics.status == 200)
            for line in [
                #"rollcall_hub_requests_total{group="device",method="GET",status="401"} 2"#,
                #"rollcall_hub_requests_total{group="device",method="GET",status="429"} 2"#,
                #"rollcall_hub_requests_total{group="device",method="POST",status="200"} 1"#,
                #"rollcall_hub_events_total{outcome="accepted"} 1"#,
                #"rollcall_hub_events_total{outcome="rejected"} 1"#,
            ] {
                #expect(text.contains(line), "no \(line) in:\n\(text)")
            }
            #expect(text.contains(#"rollcall_hub_request_seconds_count{group="device"} 5"#), "\(text)")
        }
    }
}

/// The fractions a backup reports, in order.
final class Fractions: Sendable {
    private let values = Mutex<[Double]>([])
    func add(_ value: Double) { values.withLock { $0.append(value) } }
    var last: Double? { values.withLock { $0.last } }
}
