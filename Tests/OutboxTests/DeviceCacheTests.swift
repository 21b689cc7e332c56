import Attendance
import Badges
import Foundation
import GRDB
import Recognition
import SyncProtocol
import Testing

@testable import Outbox

/// A manifest for room B12 with one session.
private let manifest = DeviceManifest(
    schedule: SessionSchedule(
        room: "B12",
        sessions: [Session(id: "s-1", room: "B12", group: "7B", start: start, end: start + 2700, roster: ["p-ada"])]),
    galleryVersion: 7, badgeKeysVersion: 3, names: ["p-ada": "Ada Quillfeather"], templateRefresh: true)

private let keys = BadgeKeys(keyring: BadgeKeyring(keys: ["k1": "AAAA"], revoked: ["b1"]), version: 3)

/// The key of the unreadable cached value `read` throws, or a description of what it did instead.
private func unreadableKey<T>(_ read: () async throws -> T?) async -> String {
    do {
        return "read back \(String(describing: try await read()))"
    } catch let error as OutboxError {
        return error.unreadableCacheKey ?? "another error: \(error)"
    } catch {
        return "not an OutboxError: \(error)"
    }
}

struct DeviceCacheTests {
    @Test("the typed cache reads back the manifest with its ETag, the gallery with its version and scope, the keys")
    func roundTrip() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outbox = try Outbox(path: path, deviceID: "d")
        #expect(try await outbox.cachedManifest() == nil)
        #expect(try await outbox.cachedGallery() == nil)
        #expect(try await outbox.cachedBadgeKeys() == nil)

        try await outbox.cacheManifest(manifest, etag: "\"m-1\"")
        try await outbox.cacheGallery(cachedDocument, version: 7, scope: "scope-1")
        try await outbox.cacheBadgeKeys(keys)
        let reopened = try Outbox(path: path, deviceID: "d")
        #expect(try await reopened.cachedManifest() == CachedManifest(manifest: manifest, etag: "\"m-1\""))
        #expect(
            try await reopened.cachedGallery()
                == CachedGallery(document: cachedDocument, version: 7, scope: "scope-1"))
        #expect(try await reopened.cachedBadgeKeys() == keys)

        // What comes without an ETag or a scope keeps none: the old one is not left beside the new value.
        try await reopened.cacheManifest(manifest, etag: nil)
        try await reopened.cacheGallery(GalleryDocument(), version: 8, scope: nil)
        #expect(try await reopened.cachedManifest() == CachedManifest(manifest: manifest, etag: nil))
        #expect(
            try await reopened.cachedGallery() == CachedGallery(document: GalleryDocument(), version: 8, scope: nil))
    }

    @Test("values as earlier doors stored them (the same keys, JSON, the version as decimal text) read back typed")
    func earlierDoors() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try Outbox(path: path, deviceID: "d")
        // As a door before sealing wrote them (the rows are sealed when the outbox is opened next).
        let rows: [(String, Data)] = [
            ("manifest", try DeviceAPI.encoder().encode(manifest)),
            ("manifest-etag", Data("\"m-1\"".utf8)),
            ("gallery", plainGallery),
            ("gallery-version", Data("42".utf8)),
            ("gallery-scope", Data("scope-1".utf8)),
            ("badge-keys", Data(#"{"keys": {"k1": "AAAA"}, "revoked": ["b1"], "version": 3}"#.utf8)),
        ]
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            for (key, value) in rows {
                try db.execute(
                    sql: "INSERT INTO deviceState (key, value, updatedAt) VALUES (?, ?, 0)", arguments: [key, value])
            }
        }
        try queue.close()
        let outbox = try Outbox(path: path, deviceID: "d")
        #expect(try await outbox.cachedManifest() == CachedManifest(manifest: manifest, etag: "\"m-1\""))
        #expect(
            try await outbox.cachedGallery() == CachedGallery(document: cachedDocument, version: 42, scope: "scope-1"))
        #expect(try await outbox.cachedBadgeKeys() == keys)
    }

    @Test("the typed cache stores the same keys and encodings as before, so no migration is needed")
    func sameEncodings() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outbox = try Outbox(path: path, deviceID: "d")
        try await outbox.cacheManifest(manifest, etag: "\"m-1\"")
        try await outbox.cacheGallery(cachedDocument, version: 42, scope: "scope-1")
        try await outbox.cacheBadgeKeys(keys)
        #expect(
            CacheKey.allCases.map(\.rawValue) == [
                "manifest", "manifest-etag", "gallery", "gallery-version", "gallery-scope", "badge-keys",
            ])
        let manifestData = try #require(try await outbox.state(.manifest))
        #expect(try DeviceAPI.decoder().decode(DeviceManifest.self, from: manifestData) == manifest)
        #expect(try await outbox.state(.manifestETag) == Data("\"m-1\"".utf8))
        #expect(try await outbox.state(.gallery) == plainGallery)
        #expect(try await outbox.state(.galleryVersion) == Data("42".utf8))
        #expect(try await outbox.state(.galleryScope) == Data("scope-1".utf8))
        let keysData = try #require(try await outbox.state(.badgeKeys))
        #expect(try DeviceAPI.decoder().decode(BadgeKeys.self, from: keysData) == keys)
    }

    @Test("a cached value that cannot be read is thrown, naming it, not taken as absent; the next write heals it")
    func unreadable() async throws {
        let (folder, path) = try temporaryOutboxPath()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outbox = try Outbox(path: path, deviceID: "d")

        try await outbox.setState(.manifest, Data("not json".utf8))
        #expect(await unreadableKey { try await outbox.cachedManifest() } == "manifest")
        try await outbox.cacheManifest(manifest, etag: nil)
        #expect(try await outbox.cachedManifest()?.manifest == manifest)

        try await outbox.setState(.gallery, Data(#"{"people": []}"#.utf8))
        #expect(await unreadableKey { try await outbox.cachedGallery() } == "gallery")
        try await outbox.setState([.gallery: plainGallery, .galleryVersion: Data("seven".utf8)])
        #expect(await unreadableKey { try await outbox.cachedGallery() } == "gallery-version")
        try await outbox.cacheGallery(cachedDocument, version: 7, scope: nil)
        #expect(try await outbox.cachedGallery()?.version == 7)

        try await outbox.setState(.badgeKeys, Data("[]".utf8))
        #expect(await unreadableKey { try await outbox.cachedBadgeKeys() } == "badge-keys")

        do {
            _ = try await outbox.cachedBadgeKeys()
        } catch {
            #expect(error.message.contains("badge-keys"), "\(error.message)")
        }
    }
}
