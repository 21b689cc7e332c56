import Attendance
import Foundation
import GRDB
import InMemoryLogging
import Logging
import Outbox
import Recognition
import Sealing
import TestSupport
import Testing

/// A cached gallery as the door keeps it: a name and a template whose digits are easy to look for.
let cachedDocument: GalleryDocument = {
    var document = GalleryDocument()
    document.enroll(
        Person(id: "p-ada", name: "Ada Quillfeather", role: .student),
        templates: [.init(source: nil, encoding: [0.123456789, 0.987654321] + Array(repeating: 0, count: 126))])
    return document
}()

/// The cached gallery's bytes, as a door without sealing wrote them.
let plainGallery = try! cachedDocument.encoded()

/// Every byte the outbox has on disk at `path` (the database, its log and shared memory).
func bytesOnDisk(_ path: String) -> Data {
    ["", "-wal", "-shm", "-journal"].reduce(into: Data()) { bytes, suffix in
        bytes += FileManager.default.contents(atPath: path + suffix) ?? Data()
    }
}

func holdsGallery(_ bytes: Data) -> Bool {
    bytes.range(of: Data("Quillfeather".utf8)) != nil || bytes.range(of: Data("\(Float(0.123456789))".utf8)) != nil
}

struct OutboxSealingTests {
    @Test("the cached gallery is sealed: the file holds no name and no template, and reads back with the key")
    func sealedAtRest() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            let outbox = try Outbox(path: path, deviceID: "d")
            try await outbox.cacheGallery(cachedDocument, version: 7, scope: nil)
            try await outbox.checkpoint()
        }
        #expect(holdsGallery(plainGallery), "the marks looked for are in the gallery's bytes")
        #expect(!holdsGallery(bytesOnDisk(path)))
        // The key was made beside the outbox, readable by its owner only.
        let mode = try FileManager.default.attributesOfItem(atPath: path + ".key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(
            try await Outbox(path: path, deviceID: "d").cachedGallery()
                == CachedGallery(document: cachedDocument, version: 7, scope: nil))
    }

    @Test("another key reads no state (logged, taken as absent for the next sync to fill); events are untouched")
    func anotherKey() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            let outbox = try Outbox(path: path, deviceID: "d")
            try await outbox.cacheGallery(cachedDocument, version: 7, scope: nil)
            try await outbox.enqueue(checkin("p-1"), evidence: face)
        }
        let handler = InMemoryLogHandler()
        let other = try DataSealer(key: Data(repeating: 9, count: 32))
        let outbox = try Outbox(
            path: path, deviceID: "d", sealer: other, logger: Logger(label: "test", factory: { _ in handler }))
        #expect(try await outbox.cachedGallery() == nil)
        #expect(handler.entries.contains { $0.level == .error && "\($0.message)".contains("does not open") })
        #expect(try await outbox.allEvents().count == 1)
        try await outbox.cacheGallery(cachedDocument, version: 8, scope: nil)
        #expect(try await outbox.cachedGallery()?.document == cachedDocument, "the next sync's write heals it")
    }

    @Test("state written before sealing existed is sealed when the outbox is opened, leaving no plain copy")
    func sealedOnOpen() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            _ = try Outbox(path: path, deviceID: "d")
            // As an older rollcall wrote it: the value as it is.
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                try db.execute(
                    sql: "INSERT INTO deviceState (key, value, updatedAt) VALUES ('gallery', ?, 0)",
                    arguments: [plainGallery])
            }
            try queue.close()
            #expect(holdsGallery(bytesOnDisk(path)))
        }
        let outbox = try Outbox(path: path, deviceID: "d")
        try await outbox.checkpoint()
        #expect(!holdsGallery(bytesOnDisk(path)), "the plain value's pages are overwritten, not only unlinked")
        #expect(try await outbox.cachedGallery()?.document == cachedDocument)
    }

    @Test("a damaged outbox moved aside keeps its events for recovery but no cached gallery")
    func erasedFromDamagedCopy() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A damaged copy as an older rollcall left it: moved aside, recovered (an empty marker), and
        // still holding the gallery in plain text.
        let old = path + ".corrupt-2026-11-30T080000Z"
        do {
            let outbox = try Outbox(path: old, deviceID: "d")
            try await outbox.enqueue(checkin("p-1"), evidence: face)
            try await outbox.checkpoint()
        }
        let queue = try DatabaseQueue(path: old)
        try await queue.write { db in
            try db.execute(
                sql: "INSERT INTO deviceState (key, value, updatedAt) VALUES ('gallery', ?, 0)",
                arguments: [plainGallery])
        }
        try queue.close()
        #expect(FileManager.default.createFile(atPath: old + ".recovered", contents: Data()))
        #expect(holdsGallery(bytesOnDisk(old)))

        // And a door whose outbox is damaged now, with a gallery cached.
        do {
            let outbox = try Outbox(path: path, deviceID: "d")
            try await outbox.cacheGallery(cachedDocument, version: 7, scope: nil)
            for index in 0..<50 { try await outbox.enqueue(checkin("p-\(index)"), evidence: face) }
            try await outbox.checkpoint()
        }
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: 0)
        handle.write(Data(repeating: 0xC3, count: 100))  // the header: not a database any more
        try handle.close()

        let outbox = try Outbox(path: path, deviceID: "d")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        for name in names where name.contains(".corrupt-") && !name.hasSuffix(".recovered") {
            #expect(!holdsGallery(bytesOnDisk(folder.path + "/" + name)), "\(name) still holds the gallery")
        }
        // The older copy was erased in place: its events are still there to read.
        let erased = try DatabaseQueue(path: old)
        #expect(try await erased.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event") } == 1)
        #expect(try await erased.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM deviceState") } == 0)
        try erased.close()
        #expect(try await outbox.cachedGallery() == nil, "the gallery is fetched again, not recovered")
        #expect(names.filter { $0.hasSuffix(".recovered") }.count == 2)
    }
}
