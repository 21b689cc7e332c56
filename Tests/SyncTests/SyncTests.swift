import Attendance
import Foundation
import Hub
import HubServer
import Hummingbird
import Outbox
import Recognition
import Sync
import SyncProtocol
import Synchronization
import TestSupport
import Testing

/// Two hours ago, on the minute: the events reach the hub now, and the hub refuses times ahead of its clock
/// or more than 30 days behind it (IngestRules), and a door's gallery holds the rosters of sessions in its
/// manifest's window (the day before to two days ahead), so the tests' times follow the clock.
let t0 = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.down) * 60 - 7200)
let token = "device-token-b12-0123456789"
let faceEvidence = EventEvidence(method: .face, distance: 0.3, margin: 0.5, confidence: 0.9, model: "dlib_resnet_v1")

/// A hub store with room B12, its device, students p-0...p-9 and volunteer v-1 (allowed in B12), and a
/// session with the students on the roster.
func hubStore(in folder: URL, _ kind: StoreKind = .sqlite) async throws -> any HubStorage {
    let store = try await kind.open(in: folder)
    try await store.addRoom("B12", timezone: "Europe/Berlin", policy: nil)
    try await store.addDevice(DeviceRecord(id: "door-b12", room: "B12"), token: token)
    let people = (0..<10).map { "p-\($0)" } + ["v-1"]
    for id in people {
        var document = GalleryDocument()
        document.enroll(
            Person(id: id, name: id, role: id.hasPrefix("v-") ? .volunteer : .student),
            templates: [GalleryDocument.Template(source: nil, encoding: [Float](repeating: 0.01, count: 128))])
        try await store.upsertConsented(document.people[0])
    }
    try await store.putSession(
        Session(id: "s-math", room: "B12", group: "7B", start: t0, end: t0 + 2700, roster: Array(people.prefix(10))))
    try await store.setRoomAccess(room: "B12", people: ["v-1"])
    return store
}

/// Runs a Hummingbird app with `router` on loopback while `body` runs; hands `body` the port.
func serving<Context: RequestContext, T: Sendable>(
    _ router: Router<Context>, port: Int = 0, _ body: @escaping @Sendable (Int) async throws -> T
) async throws -> T where Context.Source == ApplicationRequestContextSource {
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let app = Application(
        router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port)),
        onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) })
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await app.run()
            return nil
        }
        var iterator = ports.makeAsyncIterator()
        let bound = try #require(await iterator.next())
        group.addTask { try await body(bound) }
        while let result = try await group.next() {
            if let result {
                group.cancelAll()
                return result
            }
        }
        throw CancellationError()
    }
}

/// Fills an outbox with `count` events: check-ins of p-0...p-9 (most of them repeats the hub keeps as
/// events) and one volunteer entry.
func filledOutbox(_ folder: URL, count: Int) async throws -> (Outbox, Set<String>) {
    let outbox = try Outbox(path: folder.appendingPathComponent("outbox.sqlite").path, deviceID: "door-b12")
    var ids = Set<String>()
    for index in 0..<(count - 1) {
        let event = AttendanceEvent.checkin(
            session: "s-math", person: "p-\(index % 10)", at: t0 + Double(index), status: .present, minutesLate: 0)
        ids.insert(try await outbox.enqueue(event, evidence: faceEvidence).id)
    }
    ids.insert(try await outbox.enqueue(.entry(person: "v-1", at: t0 + 30), evidence: EventEvidence(method: .qr)).id)
    return (outbox, ids)
}

func fastConfiguration(port: Int) -> SyncConfiguration {
    var configuration = SyncConfiguration(baseURL: "http://127.0.0.1:\(port)", token: token)
    configuration.baseBackoff = 0.02
    configuration.maximumBackoff = 0.2
    configuration.requestTimeout = 2
    return configuration
}

struct SyncTests {
    @Test("1,201 queued events reach a real hub exactly once, in batches of at most 500; the clock offset is known")
    func drainToHub() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        let (outbox, ids) = try await filledOutbox(folder, count: 1201)
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: nil))
        let status = try await serving(router) { port in
            let client = SyncClient(configuration: fastConfiguration(port: port), outbox: outbox)
            #expect(await client.drain(deadline: Date() + 60))
            let manifest = try await client.pullManifest()
            #expect(manifest.schedule.room == "B12" && manifest.galleryVersion == 11)
            let delta = try await client.pullGallery(since: 9)
            #expect(delta.reset == true && delta.upserts.count == 11, "no scope sent: every person in scope")
            let scope = try #require(delta.scope)
            let changes = try await client.pullGalleryPages(since: 9, scope: scope)
            #expect(changes.reset == false && changes.upserts.map(\.id) == ["p-9", "v-1"])
            return await client.status
        }
        #expect(try await store.receivedEventCount() == ids.count)
        #expect(try await outbox.counts() == [.pending: 0, .synced: ids.count, .rejected: 0])
        #expect(try await store.checkinRecords(session: "s-math").count == 10)
        #expect(try await store.visits(person: "v-1").count == 1)
        #expect(abs(status.clockOffset ?? 99) < 2, "same machine: the offset is within the Date header's second")
        let cached = try #require(try await outbox.cachedManifest())
        #expect(cached.manifest.schedule.room == "B12" && cached.etag != nil, "pulled with its ETag")
    }

    @Test("the hub down for a while, then up: everything arrives once")
    func hubDownThenUp() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        let (outbox, ids) = try await filledOutbox(folder, count: 50)
        // A port nobody listens on yet: take one, then free it.
        let port = try await serving(Router()) { port in port }
        let client = SyncClient(configuration: fastConfiguration(port: port), outbox: outbox)
        for _ in 0..<3 {
            if case .failed = await client.pushOnce() {} else { Issue.record("a push to a closed port must fail") }
        }
        #expect(try await outbox.counts()[.pending] == 50)
        #expect(await client.status.failuresInARow == 3)
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: nil))
        try await serving(router, port: port) { _ in
            #expect(await client.drain(deadline: Date() + 30))
        }
        #expect(try await store.receivedEventCount() == ids.count)
        #expect(try await outbox.counts()[.synced] == ids.count)
        #expect(await client.status.failuresInARow == 0)
    }

    @Test("500, 429 with Retry-After, a garbage answer after storing, and a slow answer: nothing lost, no duplicates")
    func faultyHub() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        let (outbox, ids) = try await filledOutbox(folder, count: 120)
        let script = Script(["500", "429", "store-then-garbage", "slow", "ok"])
        let router = Router()
        router.post(RouterPath(stringLiteral: DeviceAPI.eventsPath)) { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 4 << 20)
            let batch = try DeviceAPI.decoder().decode(EventBatch.self, from: Data(body.readableBytesView))
            let device = DeviceRecord(id: "door-b12", room: "B12")
            switch script.next() {
            case "500": return Response(status: .internalServerError)
            case "429": return Response(status: .tooManyRequests, headers: [.retryAfter: "0"])
            case "store-then-garbage":
                // The hub stored the batch but the answer is lost in garbage: the device must resend and
                // the hub must answer duplicate.
                _ = try await store.ingest(batch, from: device, receivedAt: Date())
                return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"accep")))
            case "slow":
                try await Task.sleep(for: .seconds(3))
                return Response(status: .serviceUnavailable)
            default:
                let result = try await store.ingest(batch, from: device, receivedAt: Date())
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: try DeviceAPI.encoder().encode(result))))
            }
        }
        try await serving(router) { port in
            var configuration = fastConfiguration(port: port)
            configuration.batchSize = 100
            let client = SyncClient(configuration: configuration, outbox: outbox)
            #expect(await client.drain(deadline: Date() + 60))
        }
        #expect(try await store.receivedEventCount() == ids.count, "each event stored once")
        #expect(try await outbox.counts() == [.pending: 0, .synced: ids.count, .rejected: 0])
        #expect(script.calls >= 6)
    }

    @Test("refresh: the manifest only when its ETag changed, the gallery's changes applied locally, the badge keys")
    func refresh() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        let outbox = try Outbox(path: folder.appendingPathComponent("outbox.sqlite").path, deviceID: "door-b12")
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: nil))
        try await serving(router) { port in
            // The first manifest builds the whole gallery on a debug hub: under the full suite's load on
            // two cores it took over fast retries' 2 s (the timeout is not what this test is about).
            var configuration = fastConfiguration(port: port)
            configuration.requestTimeout = 30
            let client = SyncClient(configuration: configuration, outbox: outbox)
            let first = try await client.refresh()
            #expect(
                first
                    == SyncClient.Refresh(
                        manifestChanged: true, galleryVersion: 11, peopleChanged: 11, peopleRemoved: 0,
                        badgeKeysChanged: true))
            let second = try await client.refresh()
            #expect(
                second
                    == SyncClient.Refresh(
                        manifestChanged: false, galleryVersion: 11, peopleChanged: 0, peopleRemoved: 0))
            try await store.removePerson("p-3")
            var renamed = try #require(try await store.galleryDelta(since: 0).upserts.first { $0.id == "p-1" })
            renamed.name = "Ada Lovelace"
            try await store.upsertConsented(renamed)
            let third = try await client.refresh()
            // p-3 left the door's scope (removed), so the answer is a reset: everyone in scope, p-3 dropped.
            #expect(
                third
                    == SyncClient.Refresh(
                        manifestChanged: true, galleryVersion: 13, peopleChanged: 10, peopleRemoved: 1))
            let cached = try #require(try await outbox.cachedGallery())
            #expect(cached.version == 13)
            let local = cached.document
            #expect(
                local.people.count == 10 && local.person("p-3") == nil && local.person("p-1")?.name == "Ada Lovelace")
            #expect(try await outbox.cachedBadgeKeys() != nil)
            // A revocation is a change of the badge keys the door must load.
            try await store.revokeBadge("badge-7")
            #expect(try await client.refresh().badgeKeysChanged)
            #expect(try await client.refresh().badgeKeysChanged == false)
        }
    }

    @Test("run(): the daemon's loop refreshes at start, sends events as they are committed, and stops when cancelled")
    func runLoop() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        let outbox = try Outbox(path: folder.appendingPathComponent("outbox.sqlite").path, deviceID: "door-b12")
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: nil))
        try await serving(router) { port in
            // As in refresh(): the loop's first refresh builds the gallery on a debug hub, which under the full
            // suite's load took over fast retries' 2 s; a refresh that times out is tried again only 30 s
            // later, after this test has ended.
            var configuration = fastConfiguration(port: port)
            configuration.requestTimeout = 30
            let client = SyncClient(configuration: configuration, outbox: outbox)
            let loop = Task { await client.run(pollInterval: 0.05) }
            for index in 0..<20 {
                try await outbox.enqueue(
                    .checkin(
                        session: "s-math", person: "p-\(index % 10)", at: t0 + Double(index), status: .present,
                        minutesLate: 0),
                    evidence: faceEvidence)
                try await Task.sleep(for: .milliseconds(10))
            }
            let deadline = Date() + 60
            while Date() < deadline {
                let synced = try await outbox.counts()[.synced] == 20
                if synced, try await outbox.cachedGallery() != nil { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            loop.cancel()
            await loop.value
            #expect(try await outbox.cachedManifest()?.etag != nil)
            #expect(try await outbox.cachedGallery() != nil)
        }
        #expect(try await outbox.counts()[.synced] == 20)
        #expect(try await store.receivedEventCount() == 20)
    }

    @Test("an event the hub refuses is marked rejected with the reason and not sent again")
    func rejected() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        let outbox = try Outbox(path: folder.appendingPathComponent("outbox.sqlite").path, deviceID: "door-b12")
        let bad = try await outbox.enqueue(
            .checkin(session: "s-history", person: "p-1", at: t0, status: .present, minutesLate: 0),
            evidence: faceEvidence)
        try await outbox.enqueue(.entry(person: "v-1", at: t0), evidence: EventEvidence(method: .qr))
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: nil))
        try await serving(router) { port in
            let client = SyncClient(configuration: fastConfiguration(port: port), outbox: outbox)
            #expect(await client.pushOnce() == .delivered(accepted: 1, duplicate: 0, rejected: 1))
            #expect(await client.pushOnce() == .idle)
        }
        let events = try await outbox.allEvents()
        #expect(events.first { $0.id == bad.id }?.state == .rejected)
        #expect(events.first { $0.id == bad.id }?.rejectReason == "unknown session s-history")
    }
}

/// The answers a faulty hub gives, in order; then `ok` for ever.
final class Script: Sendable {
    private let steps: Mutex<(items: [String], calls: Int)>

    init(_ items: [String]) { steps = Mutex((items, 0)) }

    func next() -> String {
        steps.withLock { state in
            state.calls += 1
            return state.items.isEmpty ? "ok" : state.items.removeFirst()
        }
    }

    var calls: Int { steps.withLock { $0.calls } }
}
