public import Attendance
public import Badges
public import Foundation
public import Recognition

/// The device API (`openapi/device-api.json`): paths, and the JSON coding both sides use.
public enum DeviceAPI {
    /// `GET`: the room's manifest (`DeviceManifest`), with an `ETag`.
    public static let manifestPath = "/api/v1/device/manifest"
    /// `GET ?since=V&scope=S[&after=ID]`: the people of the device's room (its sessions' rosters and
    /// the volunteers and staff it lets in) changed since version V, a page at a time (`GalleryDelta`).
    public static let galleryPath = "/api/v1/device/gallery"
    /// `GET`: badge public keys and revoked badges (`BadgeKeys`).
    public static let badgeKeysPath = "/api/v1/device/badge-keys"
    /// `POST` an `EventBatch`, answered with an `EventBatchResult`.
    public static let eventsPath = "/api/v1/device/events"
    /// `POST` a `DeviceHeartbeat` every minute: how the door is (the hub's Doors page).
    public static let heartbeatPath = "/api/v1/device/heartbeat"
    /// `GET`: waits (long poll, `?since=FINGERPRINT&wait=SECONDS`) until the room's manifest, gallery or
    /// badge keys differ from what `since` names, or `wait` seconds pass; answers `DeviceChanges`.
    public static let changesPath = "/api/v1/device/changes"
    /// `POST` a `TemplateSighting` (only when the manifest's `templateRefresh` is on), answered with a
    /// `SightingResult`: the hub may add it to the person's templates (`TemplateRefreshPolicy`).
    public static let sightingsPath = "/api/v1/device/sightings"
    /// `POST` a `DoorAuditBatch` (faces the door refused as presentation attacks), answered with a
    /// `DoorAuditBatchResult`; the hub keeps them for its door alerts page.
    public static let auditPath = "/api/v1/device/audit"
    /// The most audit records in one batch.
    public static let maximumAuditBatch = 100
    /// The longest a door's request to `changesPath` waits.
    public static let longestChangeWait = 25
    /// The most events in one batch.
    public static let maximumBatch = 500
    /// rollcall's version, as the doors report it.
    public static let softwareVersion = "0.17.0"
    /// The most people in one page of the gallery.
    public static let galleryPage = 200

    /// The encoder for request and response bodies (the types carry their own key names and times).
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The decoder for request and response bodies.
    public static func decoder() -> JSONDecoder { JSONDecoder() }
}

/// What a device needs to know about its room: the sessions file's content (room, timezone, policy,
/// sessions) plus the versions of the gallery and the badge keys, so it knows when to fetch them.
public struct DeviceManifest: Sendable, Equatable, Codable {
    public var schedule: SessionSchedule
    public var galleryVersion: Int64
    public var badgeKeysVersion: Int64
    /// The display names of the people the room's sessions and access list name, for the door's greeting:
    /// everyone, whether their face is in the gallery or they check in by badge, is greeted alike.
    public var names: [String: String]
    /// Whether the hub takes template refresh sightings (`sightingsPath`); off unless the school opted in.
    public var templateRefresh: Bool

    /// A manifest.
    public init(
        schedule: SessionSchedule, galleryVersion: Int64, badgeKeysVersion: Int64, names: [String: String] = [:],
        templateRefresh: Bool = false
    ) {
        self.schedule = schedule
        self.galleryVersion = galleryVersion
        self.badgeKeysVersion = badgeKeysVersion
        self.names = names
        self.templateRefresh = templateRefresh
    }

    private enum CodingKeys: String, CodingKey {
        case galleryVersion = "gallery_version"
        case badgeKeysVersion = "badge_keys_version"
        case names
        case templateRefresh = "template_refresh"
    }

    /// The schedule's keys and the versions side by side in one object; `names` is absent from a hub
    /// older than it.
    public init(from decoder: any Decoder) throws {
        schedule = try SessionSchedule(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        galleryVersion = try container.decode(Int64.self, forKey: .galleryVersion)
        badgeKeysVersion = try container.decode(Int64.self, forKey: .badgeKeysVersion)
        names = try container.decodeIfPresent([String: String].self, forKey: .names) ?? [:]
        templateRefresh = try container.decodeIfPresent(Bool.self, forKey: .templateRefresh) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        try schedule.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(galleryVersion, forKey: .galleryVersion)
        try container.encode(badgeKeysVersion, forKey: .badgeKeysVersion)
        try container.encode(names, forKey: .names)
        try container.encode(templateRefresh, forKey: .templateRefresh)
    }
}

/// The gallery's changes since a version, for one door: the people it may recognise (the rosters of
/// its room's sessions in the manifest's window, and the volunteers and staff the room lets in), a
/// page of at most `DeviceAPI.galleryPage` people at a time.
///
/// `scope` names who those people are now (a digest of their ids). When the device's `scope` is the
/// hub's, the answer holds who changed since `since`; otherwise (the first sync, or someone joined or
/// left the door's scope) it is a `reset`: every person in scope, over its pages, and the device removes
/// everyone it holds that the pages did not list. `next`, when present, is the `after` of the next page
/// (same `since` and `scope`); the device applies the pages together once it has the last one.
public struct GalleryDelta: Sendable, Equatable, Codable {
    /// The version the device had.
    public var since: Int64
    /// The version after these changes.
    public var version: Int64
    /// People to add or replace, templates included.
    public var upserts: [GalleryDocument.Entry]
    /// Ids of people to remove.
    public var deletes: [String]
    /// The digest of the door's scope these pages were made for.
    public var scope: String?
    /// True when the pages list everyone in scope: the device keeps only them.
    public var reset: Bool?
    /// The `after` of the next page; nil on the last.
    public var next: String?

    /// A delta.
    public init(
        since: Int64, version: Int64, upserts: [GalleryDocument.Entry], deletes: [String], scope: String? = nil,
        reset: Bool? = nil, next: String? = nil
    ) {
        self.since = since
        self.version = version
        self.upserts = upserts
        self.deletes = deletes
        self.scope = scope
        self.reset = reset
        self.next = next
    }
}

/// Badge public keys by key id and revoked badge ids, with their version.
public struct BadgeKeys: Sendable, Equatable, Codable {
    public var keyring: BadgeKeyring
    public var version: Int64

    /// Keys at a version.
    public init(keyring: BadgeKeyring, version: Int64) {
        self.keyring = keyring
        self.version = version
    }

    private enum CodingKeys: String, CodingKey {
        case version
    }

    /// `{"keys": {...}, "revoked": [...], "version": V}`.
    public init(from decoder: any Decoder) throws {
        keyring = try BadgeKeyring(from: decoder)
        version = try decoder.container(keyedBy: CodingKeys.self).decode(Int64.self, forKey: .version)
    }

    public func encode(to encoder: any Encoder) throws {
        try keyring.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
    }
}

/// One event as the device sends it: the attendance facts plus its id, how the person was
/// identified and by which device.
public struct DeviceEvent: Sendable, Equatable, Codable {
    /// UUIDv7 made on the device: the idempotency key.
    public var id: String
    public var event: AttendanceEvent
    /// `face` or `qr`.
    public var method: String
    /// `signage:<device id>`.
    public var source: String
    public var confidence: Double?
    public var distance: Double?
    public var margin: Double?
    public var model: String?

    /// An event to send.
    public init(
        id: String, event: AttendanceEvent, method: String, source: String, confidence: Double? = nil,
        distance: Double? = nil, margin: Double? = nil, model: String? = nil
    ) {
        self.id = id
        self.event = event
        self.method = method
        self.source = source
        self.confidence = confidence
        self.distance = distance
        self.margin = margin
        self.model = model
    }

    private enum CodingKeys: String, CodingKey {
        case id, method, source, confidence, distance, margin, model
    }

    /// The attendance event's keys and the device's side by side in one object.
    public init(from decoder: any Decoder) throws {
        event = try AttendanceEvent(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        method = try container.decode(String.self, forKey: .method)
        source = try container.decode(String.self, forKey: .source)
        confidence = try container.decodeIfPresent(Double.self, forKey: .confidence)
        distance = try container.decodeIfPresent(Double.self, forKey: .distance)
        margin = try container.decodeIfPresent(Double.self, forKey: .margin)
        model = try container.decodeIfPresent(String.self, forKey: .model)
    }

    public func encode(to encoder: any Encoder) throws {
        try event.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(method, forKey: .method)
        try container.encode(source, forKey: .source)
        try container.encodeIfPresent(confidence, forKey: .confidence)
        try container.encodeIfPresent(distance, forKey: .distance)
        try container.encodeIfPresent(margin, forKey: .margin)
        try container.encodeIfPresent(model, forKey: .model)
    }
}

/// A batch of events (at most `DeviceAPI.maximumBatch`), oldest first.
public struct EventBatch: Sendable, Equatable, Codable {
    public var events: [DeviceEvent]

    /// A batch.
    public init(events: [DeviceEvent]) { self.events = events }
}

/// The server's answer to a batch: every event id in exactly one list.
public struct EventBatchResult: Sendable, Equatable, Codable {
    /// An event the server will not take, and why (for a technician: an unknown session, a person not
    /// on the roster...). The device marks it rejected and does not send it again.
    public struct Rejection: Sendable, Equatable, Codable {
        public var id: String
        public var reason: String

        /// A rejection.
        public init(id: String, reason: String) {
            self.id = id
            self.reason = reason
        }
    }

    /// Stored now.
    public var accepted: [String]
    /// Already stored before (a resend after a lost answer): as good as accepted.
    public var duplicate: [String]
    public var rejected: [Rejection]

    /// A result.
    public init(accepted: [String] = [], duplicate: [String] = [], rejected: [Rejection] = []) {
        self.accepted = accepted
        self.duplicate = duplicate
        self.rejected = rejected
    }
}

/// The body of every 4xx and 5xx answer.
public struct APIProblem: Sendable, Equatable, Codable, Error {
    /// A stable code: `unauthorized`, `bad_request`, `too_large`, `not_found`, ...
    public var error: String
    /// What went wrong, for a human.
    public var message: String

    /// A problem.
    public init(error: String, message: String) {
        self.error = error
        self.message = message
    }
}

/// What a door says of itself every minute: its software, its queue and its camera.
public struct DeviceHeartbeat: Codable, Sendable, Equatable {
    /// The daemon's version (at most 64 characters).
    public var version: String
    /// Events committed on the door and not yet acknowledged by the hub.
    public var queued: Int
    /// `ok` while frames come; otherwise the camera's state (`lost`, `starting`...), at most 64 characters.
    public var camera: String

    public init(version: String, queued: Int, camera: String) {
        self.version = version
        self.queued = queued
        self.camera = camera
    }

    /// Checks the lengths and ranges the hub accepts.
    public var problem: String? {
        if version.isEmpty || version.count > 64 { return "version is 1 to 64 characters" }
        if camera.isEmpty || camera.count > 64 { return "camera is 1 to 64 characters" }
        if queued < 0 || queued > 100_000_000 { return "queued is 0 to 100000000" }
        return nil
    }
}

/// What `GET /api/v1/device/changes` answers: the fingerprint of everything the door pulls (its room's
/// manifest, which names the gallery's and the badge keys' versions). A door that sees a new one pulls.
public struct DeviceChanges: Sendable, Equatable, Codable {
    public var fingerprint: String

    public init(fingerprint: String) { self.fingerprint = fingerprint }
}

/// A door's sighting offered for a template refresh: a face check-in's encoding, with the match the door
/// saw. The hub trusts none of it: it recomputes every guard from its own gallery.
public struct TemplateSighting: Sendable, Equatable, Codable {
    public var person: String
    /// The 128-value encoding of the face at the check-in.
    public var encoding: [Float]
    /// The door's distance to the person and margin to the runner-up.
    public var distance: Float
    public var margin: Float

    public init(person: String, encoding: [Float], distance: Float, margin: Float) {
        self.person = person
        self.encoding = encoding
        self.distance = distance
        self.margin = margin
    }

    /// What is wrong with it as a request, or nil.
    public var problem: String? {
        guard (1...128).contains(person.count) else { return "person is 1 to 128 characters" }
        guard encoding.count == 128, encoding.allSatisfy({ $0.isFinite && abs($0) <= 1 }) else {
            return "encoding is 128 finite values in -1...1"
        }
        guard distance.isFinite, margin.isFinite else { return "distance and margin are finite numbers" }
        return nil
    }
}

/// The hub's answer to a `TemplateSighting`.
public struct SightingResult: Sendable, Equatable, Codable {
    /// Whether a template was added.
    public var added: Bool
    /// Why not, when it was not.
    public var reason: String?

    public init(added: Bool, reason: String? = nil) {
        self.added = added
        self.reason = reason
    }
}
