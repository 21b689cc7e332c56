import Attendance
import Foundation
import Hub
import HubServer
import Logging
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
            #expect(text.contains("rollcall_hub_reports_running 0") && text.contains("rollcall_hub_reports_waiting 0"))
        }
    }

    @Test("reports take turns: never more at once than the limit, and every one is admitted in the end")
    func reportsTakeTurns() async throws {
        let admission = ReportAdmission(limit: 3)
        final class Watch: Sendable {
            let state = Mutex((now: 0, most: 0, order: [Int]()))
        }
        let watch = Watch()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask {
                    await admission.enter()
                    watch.state.withLock {
                        $0.now += 1
                        $0.most = max($0.most, $0.now)
                        $0.order.append(index)
                    }
                    try? await Task.sleep(for: .milliseconds(5))
                    watch.state.withLock { $0.now -= 1 }
                    admission.leave()
                }
            }
        }
        let (most, order) = watch.state.withLock { ($0.most, $0.order) }
        #expect(most == 3)
        #expect(Set(order) == Set(0..<40))
        #expect(admission.counts.running == 0 && admission.counts.waiting == 0)
    }

    @Test("--log-format json: one JSON object a line, with time, level, label, message and the metadata as strings")
    func jsonLogLines() throws {
        final class Lines: Sendable {
            let lines = Mutex<[Data]>([])
        }
        let captured = Lines()
        var logger = Logger(label: "rollcall-hub.test") { label in
            JSONLogHandler(label: label) { line in captured.lines.withLock { $0.append(line) } }
        }
        logger[metadataKey: "process"] = "hub-1"
        logger.notice("admin: device removed", metadata: ["device": "door-b12", "message": "not this one"])
        logger.debug("below the level: not written")
        let lines = captured.lines.withLock { $0 }
        #expect(lines.count == 1 && lines[0].last == UInt8(ascii: "\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: lines[0]) as? [String: String])
        #expect(object["level"] == "notice" && object["label"] == "rollcall-hub.test")
        #expect(object["message"] == "admin: device removed" && object["device"] == "door-b12")
        #expect(object["process"] == "hub-1")
        #expect(ISO8601Time.parse(object["time"] ?? "") != nil, "\(object)")
    }
}

/// The fractions a backup reports, in order.
final class Fractions: Sendable {
    private let values = Mutex<[Double]>([])
    func add(_ value: Double) { values.withLock { $0.append(value) } }
    var last: Double? { values.withLock { $0.last } }
}
