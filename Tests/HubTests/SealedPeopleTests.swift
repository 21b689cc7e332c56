import Attendance
import Foundation
import GRDB
import Hub
import Recognition
import SyncProtocol
import TestSupport
import Testing

/// The people's records are sealed at rest (issue 15, finding 10): a copied database yields no name and
/// no template without the key, which is kept outside it.
struct SealedPeopleTests {
    func files(_ folder: URL) -> Data {
        ["hub.sqlite", "hub.sqlite-wal"].reduce(into: Data()) { bytes, name in
            bytes += (try? Data(contentsOf: folder.appendingPathComponent(name))) ?? Data()
        }
    }

    func ada() -> GalleryDocument.Entry {
        var document = GalleryDocument()
        document.enroll(
            Person(id: "p-ada", name: "Ada Lovelace", role: .student, groups: ["7B"]),
            templates: [GalleryDocument.Template(source: nil, encoding: [Float](repeating: 0.123456, count: 128))])
        return document.people[0]
    }

    @Test("no name or template in the database's bytes; the key beside it is the owner's only; the records read back")
    func sealed() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("hub.sqlite").path
        let store = try SQLiteHubStorage(path: path)
        try await store.upsertConsented(ada())
        let bytes = files(folder)
        #expect(bytes.range(of: Data("Ada Lovelace".utf8)) == nil)
        #expect(bytes.range(of: Data("0.123456".utf8)) == nil)
        let mode = try FileManager.default.attributesOfItem(atPath: path + ".key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try await store.galleryDelta(since: 0).upserts == [ada()])
    }

    @Test("another key does not open the records: the hub says so instead of serving garbage")
    func wrongKey() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("hub.sqlite").path
        try await SQLiteHubStorage(path: path).upsertConsented(ada())
        let other = try PersonSealer(key: Data(repeating: 7, count: 32))
        let error = #expect(throws: HubError.self) { _ = try SQLiteHubStorage(path: path, sealer: other) }
        #expect(error?.message.contains("does not open with the data key") == true, "\(error?.message ?? "")")
        #expect(throws: HubError.self) { _ = try PersonSealer(key: Data(repeating: 7, count: 16)) }
    }

    @Test("records written before sealing are sealed when the database is opened")
    func migrated() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("hub.sqlite").path
        _ = try SQLiteHubStorage(path: path)
        let plain = try JSONEncoder().encode(ada())
        try await DatabaseQueue(path: path).write { db in
            try db.execute(
                sql: "INSERT INTO person (id, entry, version) VALUES ('p-ada', ?, 1)", arguments: [plain])
        }
        let store = try SQLiteHubStorage(path: path)
        #expect(try await store.galleryDelta(since: 0).upserts.map(\.name) == ["Ada Lovelace"])
        let stored = try await DatabaseQueue(path: path).read { db in
            try Data.fetchOne(db, sql: "SELECT entry FROM person WHERE id = 'p-ada'")
        }
        #expect(stored?.starts(with: Data("RCS1".utf8)) == true)
    }
}
