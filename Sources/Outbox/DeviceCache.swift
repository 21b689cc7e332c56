public import Foundation
public import Recognition
public import SyncProtocol

/// The manifest the hub last sent, and the `ETag` it came with.
public struct CachedManifest: Sendable, Equatable {
    /// The room's sessions, policy, names and versions.
    public var manifest: DeviceManifest
    /// Sent back as `If-None-Match`, so that the hub answers `304` while the manifest is the same; nil when
    /// the hub sent none.
    public var etag: String?

    /// A cached manifest.
    public init(manifest: DeviceManifest, etag: String?) {
        self.manifest = manifest
        self.etag = etag
    }
}

/// The gallery as the door last merged it, and where it stands in the hub's changes.
public struct CachedGallery: Sendable, Equatable {
    /// The people the door may recognise, with their names and templates.
    public var document: GalleryDocument
    /// The hub's gallery version these people are at: the `since` of the next pull.
    public var version: Int64
    /// The digest of the door's scope the hub last named; nil until it names one.
    public var scope: String?

    /// A cached gallery.
    public init(document: GalleryDocument, version: Int64, scope: String?) {
        self.document = document
        self.version = version
        self.scope = scope
    }
}

/// The names the cached state is kept under (the `deviceState` table), and the only place they are
/// spelled. Doors in the field hold these rows: a name or a value's encoding is never changed in place
/// (a change is a new name, or a migration).
enum CacheKey: String, Sendable, CaseIterable {
    /// The manifest as JSON (`DeviceAPI`'s coding).
    case manifest
    /// The manifest's `ETag`, as UTF-8 text.
    case manifestETag = "manifest-etag"
    /// The gallery file's JSON (`GalleryDocument.encoded()`).
    case gallery
    /// The hub's gallery version, as decimal text.
    case galleryVersion = "gallery-version"
    /// The hub's scope digest, as UTF-8 text.
    case galleryScope = "gallery-scope"
    /// The badge keys as JSON (`DeviceAPI`'s coding).
    case badgeKeys = "badge-keys"
}

// The device's typed cache: what sync pulled from the hub, for the door to decide with. A value that is
// stored but cannot be read is thrown as `OutboxError.unreadableCache`, never taken as absent: the caller
// says what the door does without it. (A value sealed under another key is the exception: `state(_:)`
// logs it and takes it as absent, as the cache is filled again by the next sync.)
extension Outbox {
    /// The cached manifest and its `ETag`; nil when none is cached.
    /// - Throws: `OutboxError` when the outbox cannot be read, or the manifest is stored but cannot be read
    ///   (`unreadableCacheKey` names which value).
    public func cachedManifest() async throws(OutboxError) -> CachedManifest? {
        let values = try await state([.manifest, .manifestETag])
        guard let data = values[.manifest] else { return nil }
        return CachedManifest(
            manifest: try Self.decode(DeviceManifest.self, data, key: .manifest),
            etag: try values[.manifestETag].map { tag throws(OutboxError) in try Self.text(tag, key: .manifestETag) })
    }

    /// Caches the manifest with its `ETag` (nil: the hub sent none, and none is kept).
    public func cacheManifest(_ manifest: DeviceManifest, etag: String?, at time: Date = Date())
        async throws(OutboxError)
    {
        let data = try Self.encode(manifest, key: .manifest)
        try await setState([.manifest: data, .manifestETag: etag.map { Data($0.utf8) }], at: time)
    }

    /// The cached gallery, its version and scope; nil when no gallery is cached.
    /// - Throws: `OutboxError` when the outbox cannot be read, or a value is stored but cannot be read
    ///   (`unreadableCacheKey` names which).
    public func cachedGallery() async throws(OutboxError) -> CachedGallery? {
        let values = try await state([.gallery, .galleryVersion, .galleryScope])
        guard let data = values[.gallery] else { return nil }
        let document: GalleryDocument
        do {
            document = try GalleryDocument.decode(data)
        } catch {
            throw .unreadableCache(CacheKey.gallery.rawValue, reason: error.message)
        }
        var version: Int64 = 0
        if let stored = values[.galleryVersion] {
            let text = try Self.text(stored, key: .galleryVersion)
            guard let number = Int64(text) else {
                throw .unreadableCache(
                    CacheKey.galleryVersion.rawValue, reason: "\"\(text.prefix(40))\" is not a whole number")
            }
            version = number
        }
        return CachedGallery(
            document: document, version: version,
            scope: try values[.galleryScope].map { scope throws(OutboxError) in try Self.text(scope, key: .galleryScope)
            })
    }

    /// Caches the gallery with the version and scope it is at, in one transaction (nil scope: none is kept).
    /// - Throws: `OutboxError` when the outbox cannot be written, or a template holds a value JSON cannot
    ///   carry (the gallery is then not cached, rather than cached unreadable).
    public func cacheGallery(_ document: GalleryDocument, version: Int64, scope: String?, at time: Date = Date())
        async throws(OutboxError)
    {
        let data: Data
        do {
            data = try document.encoded()
        } catch {
            throw OutboxError("cannot cache the gallery: \(error.message)")
        }
        try await setState(
            [.gallery: data, .galleryVersion: Data("\(version)".utf8), .galleryScope: scope.map { Data($0.utf8) }],
            at: time)
    }

    /// The cached badge keys; nil when none are cached.
    /// - Throws: `OutboxError` when the outbox cannot be read, or the keys are stored but cannot be read.
    public func cachedBadgeKeys() async throws(OutboxError) -> BadgeKeys? {
        try await state(.badgeKeys).map { data throws(OutboxError) in
            try Self.decode(BadgeKeys.self, data, key: .badgeKeys)
        }
    }

    /// Caches the badge keys.
    public func cacheBadgeKeys(_ keys: BadgeKeys, at time: Date = Date()) async throws(OutboxError) {
        try await setState(.badgeKeys, try Self.encode(keys, key: .badgeKeys), at: time)
    }

    // MARK: Coding

    /// A value stored with `DeviceAPI`'s coding, as the hub sends it.
    private static func decode<T: Decodable>(_ type: T.Type, _ data: Data, key: CacheKey) throws(OutboxError) -> T {
        do {
            return try DeviceAPI.decoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw .unreadableCache(key.rawValue, reason: error.humanDescription)
        } catch {
            throw .unreadableCache(key.rawValue, reason: "\(error)")
        }
    }

    private static func encode<T: Encodable>(_ value: T, key: CacheKey) throws(OutboxError) -> Data {
        do {
            return try DeviceAPI.encoder().encode(value)
        } catch {
            throw OutboxError("cannot cache the \(key.rawValue): \(error)")
        }
    }

    private static func text(_ data: Data, key: CacheKey) throws(OutboxError) -> String {
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadableCache(key.rawValue, reason: "not UTF-8 text")
        }
        return text
    }
}
