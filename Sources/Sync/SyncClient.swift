public import AsyncHTTPClient
public import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import Outbox
import Recognition
public import SyncProtocol

/// Where the device's hub is and how to talk to it.
public struct SyncConfiguration: Sendable {
    /// The hub's base URL, e.g. `https://hub.school.example` (plain `http` only to loopback).
    public var baseURL: String
    /// The device's bearer token.
    public var token: String
    /// Events per request (the API takes at most 500).
    public var batchSize = DeviceAPI.maximumBatch
    /// First retry delay after a failure; it doubles with each failure in a row ...
    public var baseBackoff: TimeInterval = 1
    /// ... up to this.
    public var maximumBackoff: TimeInterval = 300
    /// Seconds a request may take.
    public var requestTimeout: TimeInterval = 15
    /// Synced events are pruned this long after the hub acknowledged them.
    public var retention: TimeInterval = 7 * 86_400
    /// Seconds between pulls of the manifest, the gallery and the badge keys.
    public var refreshInterval: TimeInterval = 300

    /// A configuration.
    public init(baseURL: String, token: String) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
    }
}

/// What one push did.
public enum PushOutcome: Sendable, Equatable {
    /// Nothing was pending.
    case idle
    /// The hub answered: so many events stored, already there, refused.
    case delivered(accepted: Int, duplicate: Int, rejected: Int)
    /// Nothing was delivered; try again after `retryAfter` seconds (the hub's `Retry-After`, when it sent one).
    case failed(reason: String, retryAfter: TimeInterval?)
}

/// What the sync side reports for `rollcall status`.
public struct SyncStatus: Sendable, Equatable {
    public var lastSuccess: Date?
    public var lastError: String?
    public var failuresInARow = 0
    /// The hub's clock minus ours, in seconds, from the `Date` of its last answer.
    public var clockOffset: TimeInterval?
}

/// The device's side of sync: pushes the outbox's pending events in batches, oldest first, until the hub
/// has acknowledged each one; pulls the manifest, gallery and badge keys.
///
/// Nothing is lost and nothing is sent twice to effect: an event leaves the pending state only when the
/// hub listed it as accepted, duplicate or rejected; a lost answer means the batch is sent again and the
/// hub, which deduplicates on the event id, answers `duplicate`. Network errors, 5xx, 429 and answers that
/// make no sense are retried with full-jitter exponential backoff (capped), honouring `Retry-After`.
public actor SyncClient {
    public let configuration: SyncConfiguration
    let outbox: Outbox
    private let client: HTTPClient
    let logger: Logger
    private var batchSize: Int
    public private(set) var status = SyncStatus()
    /// Set by the push channel (`watchChanges`): the run loop pulls at once instead of at its next refresh.
    private var refreshDue = false

    /// A client pushing `outbox` to the hub, through `client` (by default the shared HTTP client).
    public init(
        configuration: SyncConfiguration, outbox: Outbox, client: HTTPClient = .shared,
        logger: Logger = Logger(label: "rollcall.sync")
    ) {
        self.configuration = configuration
        self.outbox = outbox
        self.client = client
        self.logger = logger
        batchSize = max(1, min(configuration.batchSize, DeviceAPI.maximumBatch))
    }

    /// Sends one batch of pending events and records the hub's answer in the outbox.
    public func pushOnce() async -> PushOutcome {
        let events: [QueuedEvent]
        do {
            events = try await outbox.pending(limit: batchSize)
        } catch {
            return fail("cannot read the outbox: \(error)", retryAfter: nil)
        }
        guard !events.isEmpty else { return .idle }
        let batch = EventBatch(events: events.map(\.deviceEvent))
        let ids = Set(events.map(\.id))
        let answer: (status: Int, body: Data, headers: HTTPHeaders)
        do {
            answer = try await send("POST", DeviceAPI.eventsPath, body: try DeviceAPI.encoder().encode(batch))
        } catch {
            try? await outbox.countAttempt(Array(ids))
            return fail("the hub cannot be reached: \(error)", retryAfter: nil)
        }
        switch answer.status {
        case 200:
            guard let result = try? DeviceAPI.decoder().decode(EventBatchResult.self, from: answer.body) else {
                try? await outbox.countAttempt(Array(ids))
                return fail("the hub answered 200 with something that is not a batch result", retryAfter: nil)
            }
            do {
                // Only ids of this batch count: an answer naming others is not trusted for them.
                try await outbox.markSynced(
                    result.accepted.filter(ids.contains) + result.duplicate.filter(ids.contains))
                for rejection in result.rejected where ids.contains(rejection.id) {
                    try await outbox.markRejected(rejection.id, reason: rejection.reason)
                    logger.error(
                        "the hub refused an event; it is kept, marked rejected",
                        metadata: ["event": "\(rejection.id)", "reason": "\(rejection.reason)"])
                }
            } catch {
                return fail("cannot record the hub's answer in the outbox: \(error)", retryAfter: nil)
            }
            recordSuccess()
            return .delivered(
                accepted: result.accepted.count, duplicate: result.duplicate.count, rejected: result.rejected.count)
        case 413 where batchSize > 1:
            batchSize = max(1, batchSize / 2)
            return fail("the hub found the batch too large; sending \(batchSize) at a time", retryAfter: 0)
        default:
            try? await outbox.countAttempt(Array(ids))
            let retryAfter = answer.headers.first(name: "Retry-After").flatMap(TimeInterval.init)
            let problem = (try? DeviceAPI.decoder().decode(APIProblem.self, from: answer.body))?.message
            return fail("the hub answered \(answer.status)\(problem.map { ": \($0)" } ?? "")", retryAfter: retryAfter)
        }
    }

    /// Pushes until nothing is pending, waiting between failures with full-jitter exponential backoff,
    /// and then waits `pollInterval` before looking again; pulls the manifest, gallery and badge keys at
    /// start and every `refreshInterval`, and hands each successful refresh to `onRefresh`. A refresh
    /// that fails counts as a failure in `status` (so an idle device notices that the hub is gone).
    /// Returns when the task is cancelled.
    public func run(
        pollInterval: TimeInterval = 2, heartbeat: (@Sendable () async -> DeviceHeartbeat)? = nil,
        onRefresh: @Sendable (Refresh) async -> Void = { _ in }
    ) async {
        var nextRefresh = Date()
        var nextHeartbeat = Date()
        while !Task.isCancelled {
            if let heartbeat, Date() >= nextHeartbeat {
                // Every minute, the door tells the hub how it is (its Doors page); a failure is only logged:
                // the pushes and pulls say whether the hub is there.
                nextHeartbeat = Date() + 60
                do {
                    try await sendHeartbeat(await heartbeat())
                } catch {
                    logger.info("sync: heartbeat not delivered: \(error)")
                }
            }
            if Date() >= nextRefresh || refreshDue {
                refreshDue = false
                do {
                    let result = try await refresh()
                    nextRefresh = Date() + configuration.refreshInterval
                    recordSuccess()
                    await onRefresh(result)
                } catch {
                    _ = fail("cannot refresh from the hub: \(error)", retryAfter: nil)
                    nextRefresh = Date() + min(configuration.refreshInterval, 30)
                }
            }
            var outcome = await pushOnce()
            if outcome == .idle {
                // The events first: the door's audit records (refused faces) go once nothing else waits.
                outcome = await pushAuditOnce()
            }
            let delay: TimeInterval
            switch outcome {
            case .delivered: delay = 0
            case .idle:
                delay = pollInterval
                // A failed prune is tried again at the next idle moment; nothing is lost meanwhile.
                _ = try? await outbox.prune(syncedBefore: Date() - configuration.retention)
                _ = try? await outbox.pruneAudit(syncedBefore: Date() - configuration.retention)
            case .failed(_, let retryAfter):
                delay = retryAfter.map { min($0, configuration.maximumBackoff) } ?? backoff()
            }
            if delay > 0 {
                // Wake early for a refresh that falls due, so an idle device notices a hub coming back, and
                // within 100 ms of the push channel saying something changed.
                let wake = Date() + min(delay, max(0.05, nextRefresh.timeIntervalSinceNow))
                while !refreshDue && !Task.isCancelled && Date() < wake {
                    try? await Task.sleep(for: .milliseconds(Int(min(100, max(1, wake.timeIntervalSinceNow * 1000)))))
                }
            }
        }
    }

    /// Asks the run loop to pull the manifest, gallery and badge keys now.
    public func requestRefresh() { refreshDue = true }

    /// The push channel: waits on the hub's `GET /api/v1/device/changes` (a long poll of up to 25 s) and
    /// asks for a refresh whenever the fingerprint of what the door pulls changes, so that a session
    /// created on the hub is open at the door within a second or two. When the hub has no push channel (an
    /// older hub answers 404) or cannot be reached, it tries again after a growing pause (5 s up to 2 min);
    /// the periodic refresh goes on all the while.
    public func watchChanges() async {
        var known: String?
        var failures = 0
        while !Task.isCancelled {
            var path = DeviceAPI.changesPath + "?wait=\(DeviceAPI.longestChangeWait)"
            if let known, let encoded = known.addingPercentEncoding(withAllowedCharacters: .alphanumerics) {
                path += "&since=" + encoded
            }
            var problem: String?
            do {
                let answer = try await send(
                    "GET", path, body: nil, timeout: TimeInterval(DeviceAPI.longestChangeWait + 10))
                if answer.status == 200,
                    let changes = try? DeviceAPI.decoder().decode(DeviceChanges.self, from: answer.body)
                {
                    failures = 0
                    if changes.fingerprint != known {
                        if known != nil { logger.info("sync: the hub has changes for this door: pulling now") }
                        known = changes.fingerprint
                        refreshDue = true
                    }
                } else {
                    problem = "the hub answered \(answer.status)"
                }
            } catch {
                problem = "\(error)"
            }
            if let problem {
                failures += 1
                let pause = min(120, 5 * failures)
                logger.debug("sync: push channel unavailable (\(problem)); again in \(pause) s")
                try? await Task.sleep(for: .seconds(pause))
            }
        }
    }

    /// Sends one heartbeat.
    public func sendHeartbeat(_ beat: DeviceHeartbeat) async throws(SyncError) {
        let body: Data
        do { body = try DeviceAPI.encoder().encode(beat) } catch {
            throw SyncError("cannot encode a heartbeat: \(error)")
        }
        let answer: (status: Int, body: Data, headers: HTTPHeaders)
        do { answer = try await send("POST", DeviceAPI.heartbeatPath, body: body) } catch {
            throw SyncError("cannot reach the hub: \(error)")
        }
        guard answer.status == 200 else { throw SyncError("the hub answered \(answer.status) to the heartbeat") }
    }

    /// Offers a sighting for a template refresh; the hub's answer says whether it added it.
    public func offerSighting(_ sighting: TemplateSighting) async throws(SyncError) -> SightingResult {
        let body: Data
        do { body = try DeviceAPI.encoder().encode(sighting) } catch {
            throw SyncError("cannot encode a sighting: \(error)")
        }
        let answer: (status: Int, body: Data, headers: HTTPHeaders)
        do { answer = try await send("POST", DeviceAPI.sightingsPath, body: body) } catch {
            throw SyncError("cannot reach the hub: \(error)")
        }
        guard answer.status == 200 else { throw SyncError("the hub answered \(answer.status) to the sighting") }
        do { return try DeviceAPI.decoder().decode(SightingResult.self, from: answer.body) } catch {
            throw SyncError("the hub's answer to the sighting cannot be read: \(error)")
        }
    }

    /// The hub answered as it should: the device is online.
    func recordSuccess() {
        if status.failuresInARow > 0 { logger.notice("sync: the hub answers again") }
        status.lastSuccess = Date()
        status.lastError = nil
        status.failuresInARow = 0
    }

    /// Pushes until nothing is pending or `deadline` passes; true when the outbox has nothing pending.
    public func drain(deadline: Date) async -> Bool {
        while Date() < deadline {
            var outcome = await pushOnce()
            if outcome == .idle { outcome = await pushAuditOnce() }
            switch outcome {
            case .idle: return true
            case .delivered: continue
            case .failed(_, let retryAfter):
                let delay = min(
                    retryAfter.map { min($0, configuration.maximumBackoff) } ?? backoff(), deadline.timeIntervalSinceNow
                )
                if delay > 0 { try? await Task.sleep(for: .milliseconds(Int(delay * 1000))) }
            }
        }
        return false
    }

    /// A random delay between 0 and the capped exponential bound ("full jitter"), so that many devices
    /// coming back after an outage do not all knock at once.
    func backoff() -> TimeInterval {
        let exponent = min(status.failuresInARow, 30)
        let bound = min(configuration.maximumBackoff, configuration.baseBackoff * pow(2, Double(exponent - 1)))
        return Double.random(in: 0...max(0, bound))
    }

    // MARK: Pulling

    /// What a refresh changed.
    public struct Refresh: Sendable, Equatable {
        /// The manifest was new (not a `304`).
        public var manifestChanged: Bool
        /// The local gallery's version after applying the hub's changes.
        public var galleryVersion: Int64
        /// People added or changed, and removed, by this refresh.
        public var peopleChanged: Int
        public var peopleRemoved: Int
        /// The badge keys or revocations differ from those stored before.
        public var badgeKeysChanged: Bool

        /// A refresh's result.
        public init(
            manifestChanged: Bool, galleryVersion: Int64, peopleChanged: Int, peopleRemoved: Int,
            badgeKeysChanged: Bool = false
        ) {
            self.manifestChanged = manifestChanged
            self.galleryVersion = galleryVersion
            self.peopleChanged = peopleChanged
            self.peopleRemoved = peopleRemoved
            self.badgeKeysChanged = badgeKeysChanged
        }
    }

    /// Pulls the manifest (only when its `ETag` changed), the gallery's changes since the local
    /// version (applied to the gallery cached in the outbox), and the badge keys.
    public func refresh() async throws(SyncError) -> Refresh {
        var tag: String?
        do {
            tag = try await outbox.cachedManifest()?.etag
        } catch {
            // Asked for without its ETag, the manifest comes whole and replaces what cannot be read.
            logger.warning("sync: \(error); the manifest is pulled again")
        }
        let manifest = try await get(DeviceAPI.manifestPath, ifNoneMatch: tag)
        if manifest.status == 200 {
            let decoded: DeviceManifest
            do {
                decoded = try DeviceAPI.decoder().decode(DeviceManifest.self, from: manifest.body)
            } catch {
                throw SyncError("the hub's manifest is not a manifest")
            }
            do {
                try await outbox.cacheManifest(decoded, etag: manifest.headers.first(name: "ETag"))
            } catch {
                throw SyncError("cannot keep the manifest in the outbox: \(error)")
            }
        }
        var cached = CachedGallery(document: GalleryDocument(), version: 0, scope: nil)
        do {
            if let stored = try await outbox.cachedGallery() { cached = stored }
        } catch {
            // From version 0 and no scope, the hub sends everyone in scope (a reset), which replaces it.
            logger.warning("sync: \(error); the whole gallery is pulled again")
        }
        let delta = try await pullGalleryPages(since: cached.version, scope: cached.scope)
        var removed = 0
        if delta.version != cached.version || !delta.upserts.isEmpty || !delta.deletes.isEmpty
            || delta.scope != cached.scope || delta.reset == true
        {
            var document = cached.document
            removed = document.apply(upserts: delta.upserts, removals: delta.deletes, reset: delta.reset == true)
            do {
                // A hub that names no scope leaves the door's as it was.
                try await outbox.cacheGallery(document, version: delta.version, scope: delta.scope ?? cached.scope)
            } catch {
                throw SyncError("the hub's gallery cannot be kept: \(error.message)")
            }
            if removed > 0 || !delta.upserts.isEmpty {
                // Someone left the gallery, or someone's templates changed (erased, replaced): what the door
                // held before is made to leave the log too, not only the database.
                do {
                    try await outbox.truncateLog()
                } catch {
                    logger.warning("the outbox's log still holds the gallery before this change: \(error)")
                }
            }
        }
        var keysBefore: BadgeKeys?
        do {
            keysBefore = try await outbox.cachedBadgeKeys()
        } catch {
            logger.warning("sync: \(error); the hub's badge keys replace them")
        }
        let keys = try await pullBadgeKeys()
        return Refresh(
            manifestChanged: manifest.status == 200, galleryVersion: delta.version, peopleChanged: delta.upserts.count,
            peopleRemoved: removed, badgeKeysChanged: keysBefore != keys)
    }

    private func get(_ path: String, ifNoneMatch tag: String?) async throws(SyncError) -> (
        status: Int, body: Data, headers: HTTPHeaders
    ) {
        let answer: (status: Int, body: Data, headers: HTTPHeaders)
        do {
            answer = try await send("GET", path, body: nil, headers: tag.map { [("If-None-Match", $0)] } ?? [])
        } catch {
            throw SyncError("the hub cannot be reached for \(path): \(error)")
        }
        guard answer.status == 200 || answer.status == 304 else {
            throw SyncError("the hub answered \(answer.status) for \(path)")
        }
        return answer
    }

    /// The room's manifest, also cached in the outbox with its `ETag` (a failure to cache it is logged).
    public func pullManifest() async throws(SyncError) -> DeviceManifest {
        let (manifest, headers) = try await fetch(DeviceAPI.manifestPath, as: DeviceManifest.self)
        do {
            try await outbox.cacheManifest(manifest, etag: headers.first(name: "ETag"))
        } catch {
            logger.error("sync: cannot keep the manifest in the outbox: \(error)")
        }
        return manifest
    }

    /// The gallery's changes for this door since `version` and `scope`, all pages joined into one delta
    /// (the first page's version, since changes made while paging come again with the next pull).
    public func pullGalleryPages(since version: Int64, scope: String?) async throws(SyncError) -> GalleryDelta {
        func path(_ after: String?) -> String {
            var components = URLComponents()
            components.queryItems =
                [URLQueryItem(name: "since", value: "\(version)")]
                + (scope.map { [URLQueryItem(name: "scope", value: $0)] } ?? [])
                + (after.map { [URLQueryItem(name: "after", value: $0)] } ?? [])
            return DeviceAPI.galleryPath + "?" + (components.percentEncodedQuery ?? "")
        }
        var joined = try await pull(path(nil), as: GalleryDelta.self)
        var next = joined.next
        var pages = 1
        while let after = next {
            let page = try await pull(path(after), as: GalleryDelta.self)
            pages += 1
            guard pages <= 10_000, page.next.map({ $0 > after }) ?? true, page.scope == joined.scope else {
                throw SyncError("the hub's gallery pages do not advance (page \(pages) after \(after.prefix(40)))")
            }
            joined.upserts += page.upserts
            joined.deletes += page.deletes
            next = page.next
        }
        joined.next = nil
        return joined
    }

    /// The gallery's changes since `version` (one page, as the hub answers it).
    public func pullGallery(since version: Int64) async throws(SyncError) -> GalleryDelta {
        try await pull("\(DeviceAPI.galleryPath)?since=\(version)", as: GalleryDelta.self)
    }

    /// The badge keys, also cached in the outbox (a failure to cache them is logged).
    public func pullBadgeKeys() async throws(SyncError) -> BadgeKeys {
        let keys = try await pull(DeviceAPI.badgeKeysPath, as: BadgeKeys.self)
        do {
            try await outbox.cacheBadgeKeys(keys)
        } catch {
            logger.error("sync: cannot keep the badge keys in the outbox: \(error)")
        }
        return keys
    }

    private func pull<T: Decodable>(_ path: String, as type: T.Type) async throws(SyncError) -> T {
        try await fetch(path, as: type).value
    }

    /// A `GET` answered `200` with a `T`, and the answer's headers.
    private func fetch<T: Decodable>(_ path: String, as type: T.Type) async throws(SyncError) -> (
        value: T, headers: HTTPHeaders
    ) {
        let answer: (status: Int, body: Data, headers: HTTPHeaders)
        do {
            answer = try await send("GET", path, body: nil)
        } catch {
            throw SyncError("the hub cannot be reached for \(path): \(error)")
        }
        guard answer.status == 200 else {
            let problem = (try? DeviceAPI.decoder().decode(APIProblem.self, from: answer.body))?.message
            throw SyncError("the hub answered \(answer.status) for \(path)\(problem.map { ": \($0)" } ?? "")")
        }
        guard let value = try? DeviceAPI.decoder().decode(T.self, from: answer.body) else {
            throw SyncError("the hub's answer for \(path) is not a \(T.self)")
        }
        return (value, answer.headers)
    }

    // MARK: Plumbing

    func fail(_ reason: String, retryAfter: TimeInterval?) -> PushOutcome {
        status.lastError = reason
        status.failuresInARow += 1
        if status.failuresInARow == 1 || status.failuresInARow % 20 == 0 {
            logger.warning("sync: \(reason)", metadata: ["failures_in_a_row": "\(status.failuresInARow)"])
        }
        return .failed(reason: reason, retryAfter: retryAfter)
    }

    func send(
        _ method: String, _ path: String, body: Data?, headers extra: [(String, String)] = [],
        timeout: TimeInterval? = nil
    )
        async throws
        -> (status: Int, body: Data, headers: HTTPHeaders)
    {
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.token)")
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let sent = Date()
        let response = try await client.execute(
            request, timeout: .milliseconds(Int64((timeout ?? configuration.requestTimeout) * 1000)))
        let buffer = try await response.body.collect(upTo: 16 << 20)
        let received = Date()
        if let date = response.headers.first(name: "Date").flatMap(Self.httpDate) {
            // The server stamped its answer somewhere between our send and our receipt.
            status.clockOffset = date.timeIntervalSince(sent + received.timeIntervalSince(sent) / 2)
        }
        return (Int(response.status.code), Data(buffer.readableBytesView), response.headers)
    }

    /// An HTTP date (`Sun, 22 Nov 2026 08:00:00 GMT`).
    public static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}

/// Pulling from the hub failed; the message says why.
public struct SyncError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension QueuedEvent {
    /// The event as the device API carries it.
    public var deviceEvent: DeviceEvent {
        DeviceEvent(
            id: id, event: attendanceEvent, method: method, source: source, confidence: confidence, distance: distance,
            margin: margin, model: model)
    }
}
