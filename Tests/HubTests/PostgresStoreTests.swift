import Attendance
import Foundation
import Hub
import Recognition
import SyncProtocol
import TestSupport
import Testing

/// What only PostgreSQL has to show: several hub processes on one database (here, several stores, each
/// with its own pool of connections, as each process has), and the records sealed in its tables.
@Suite(.enabled(if: PostgresCluster.enabled, "needs PostgreSQL's server (tools/install-deps.sh installs it)"))
struct PostgresStoreTests {
    func key() throws -> PersonSealer { try PersonSealer(key: Data((0..<32).map { UInt8($0) })) }

    @Test("two hubs starting at once on a new database apply each schema step once")
    func concurrentMigrations() async throws {
        let url = try PostgresCluster.shared().database()
        let key = try key()
        async let first = PostgresHubStorage.open(url: url, sealer: key, maximumConnections: 2)
        async let second = PostgresHubStorage.open(url: url, sealer: key, maximumConnections: 2)
        let stores = try await [first, second]
        for store in stores {
            #expect(try await store.appliedMigrations() == PostgresHubStorage.knownMigrations)
            await store.close()
        }
        let again = try await PostgresHubStorage.open(url: url, sealer: key, maximumConnections: 2)
        #expect(try await again.appliedMigrations() == PostgresHubStorage.knownMigrations)
        await again.close()
    }

    @Test("the same batch sent to two hubs at once: every event stored once, one check-in per person")
    func twoHubsOneBatch() async throws {
        let url = try PostgresCluster.shared().database()
        let key = try key()
        let one = try await PostgresHubStorage.open(url: url, sealer: key, maximumConnections: 4)
        let two = try await PostgresHubStorage.open(url: url, sealer: key, maximumConnections: 4)
        try await one.addRoom("B12", timezone: "Europe/Berlin", policy: nil)
        try await one.addDevice(device, token: "secret-token-b12")
        let people = (0..<200).map { "p-\($0)" }
        for id in people { try await one.upsertConsented(person(id)) }
        try await one.putSession(
            Session(id: "s-math", room: "B12", group: "7B", start: t0, end: t0 + 2700, roster: people))
        let batch = EventBatch(
            events: people.enumerated().map { index, id in checkin(eventUUID("e-\(index)"), id, at: 60) })
        async let first = one.ingest(batch, from: device, receivedAt: received)
        async let second = two.ingest(batch, from: device, receivedAt: received)
        let results = try await [first, second]
        for result in results { #expect(result.rejected.isEmpty, "\(result.rejected.prefix(3))") }
        // Each event is accepted by exactly one hub and answered duplicate by the other.
        let accepted = results.flatMap(\.accepted)
        #expect(accepted.count == 200 && Set(accepted).count == 200)
        #expect(results.flatMap(\.duplicate).count == 200)
        #expect(try await two.receivedEventCount() == 200)
        #expect(try await two.checkinRecords(session: "s-math").count == 200)
        await one.close()
        await two.close()
    }

    @Test("the people's records are sealed in the table: no name, no template; another key is refused")
    func sealed() async throws {
        let cluster = try PostgresCluster.shared()
        let url = try cluster.database()
        let store = try await PostgresHubStorage.open(url: url, sealer: try key(), maximumConnections: 2)
        var document = GalleryDocument()
        document.enroll(
            Person(id: "p-ada", name: "Ada Lovelace", role: .student),
            templates: [GalleryDocument.Template(source: nil, encoding: [Float](repeating: 0.123456, count: 128))])
        try await store.upsertConsented(document.people[0])
        let stored = try cluster.query(url, "SELECT encode(entry, 'escape') FROM person")
        #expect(stored.hasPrefix("RCS1") && !stored.contains("Ada") && !stored.contains("0.123456"))
        #expect(try await store.galleryDelta(since: 0).upserts.first?.name == "Ada Lovelace")
        await store.close()
        let other = try PersonSealer(key: Data(repeating: 9, count: 32))
        await #expect(throws: HubError.self) {
            _ = try await PostgresHubStorage.open(url: url, sealer: other, maximumConnections: 2)
        }
    }

    @Test("a SQLite hub copied into PostgreSQL answers the same: reports, pseudonyms, visits, tokens, the gallery")
    func copyFromSQLite() async throws {
        let (source, folder) = try await makeStore(.sqlite)
        defer { try? FileManager.default.removeItem(at: folder) }
        let sqlite = try #require(source as? SQLiteHubStorage)
        try await sqlite.addAccessToken("staff-token-0123456789", scope: .staff, label: "Ms Lovelace")
        _ = try await sqlite.ingest(
            EventBatch(events: [
                checkin(eventUUID("e-1"), "p-1", at: 60), checkin(eventUUID("e-2"), "p-2", at: 720),
                DeviceEvent(
                    id: eventUUID("e-3"), event: .entry(person: "v-1", at: t0 + 100), method: "qr",
                    source: "signage:door-b12"),
            ]), from: device, receivedAt: received)
        try await sqlite.setExcuse(session: "s-art", person: "p-1", reason: "dentist")
        let key = try PersonSealer.load(
            file: folder.appendingPathComponent("hub.sqlite.key").path, database: "", environment: [:])
        let url = try PostgresCluster.shared().database()
        let target = try await PostgresHubStorage.open(url: url, sealer: key, maximumConnections: 2)
        let copied = try await HubCopy.copy(from: sqlite, to: target)
        #expect(copied["receivedEvent"] == 3 && copied["person"] == 3 && copied["session"] == 2)
        for id in ["s-math", "s-art"] {
            #expect(
                try await target.sessionReport(id, now: received) == (try await sqlite.sessionReport(id, now: received))
            )
            #expect(
                try await target.publicSessionReport(id, now: received)
                    == (try await sqlite.publicSessionReport(id, now: received)))
        }
        #expect(try await target.visits(person: "v-1") == (try await sqlite.visits(person: "v-1")))
        #expect(try await target.scope(forToken: "staff-token-0123456789") == .staff)
        #expect(try await target.device(forToken: "secret-token-b12") == device)
        #expect(try await target.galleryDelta(since: 0) == (try await sqlite.galleryDelta(since: 0)))
        #expect(try await target.badgeKeys() == (try await sqlite.badgeKeys()))
        // A second copy into the same database is refused: it is not empty.
        let again = await #expect(throws: HubError.self) { try await HubCopy.copy(from: sqlite, to: target) }
        #expect(again?.code == .conflict)
        await target.close()
    }

    @Test("a URL that is not PostgreSQL's, or names no host, is refused with the reason")
    func badURLs() async throws {
        for url in ["postgres://", "mysql://x/y", "postgres://u@h/db?sslmode=sometimes"] {
            let error = await #expect(throws: HubError.self) {
                _ = try await PostgresHubStorage.open(url: url, sealer: try key())
            }
            #expect(error?.code == .badRequest, "\(url)")
        }
    }
}
