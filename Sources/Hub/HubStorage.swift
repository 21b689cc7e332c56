public import Attendance
public import Badges
public import Foundation
public import Recognition
public import SyncProtocol

/// A device known to the hub: its id and the room it serves.
public struct DeviceRecord: Sendable, Equatable {
    public var id: String
    public var room: String

    /// A device.
    public init(id: String, room: String) {
        self.id = id
        self.room = room
    }
}

/// The school's record of one student in one session: one per (session, person), the earliest
/// check-in kept.
public struct CheckinRecord: Sendable, Equatable {
    public var session: String
    public var person: String
    /// `present` or `late`; a manual record also `absent` or `excused`.
    public var status: String
    /// The exact check-in time.
    public var checkinTime: Date
    public var minutesLate: Int?
    /// `face` or `qr`; `manual` when staff set it.
    public var method: String
    /// `signage:<device id>`; `web` when staff set it.
    public var source: String
    public var confidence: Double?
    /// The event that made this record (`manual:<uuid>` for a staff member's mark).
    public var eventID: String
    /// The web account that set a manual record (`method` is then `manual`, `source` `web`).
    public var setBy: String? = nil
    /// Why: a manual record's reason (an excuse's, say).
    public var reason: String? = nil
    /// When the hub stored the record (for a door's, when its event was received).
    public var storedAt: Date? = nil
}

/// A volunteer's (or staff member's) visit: entry scan to exit scan.
public struct Visit: Sendable, Equatable {
    public var person: String
    public var room: String
    public var loginTime: Date
    /// Nil while the visit is open.
    public var logoutTime: Date?

    /// A visit.
    public init(person: String, room: String, loginTime: Date, logoutTime: Date?) {
        self.person = person
        self.room = room
        self.loginTime = loginTime
        self.logoutTime = logoutTime
    }
}

/// An event as the hub received it from a door, without its body: what `GET
/// /api/v1/admin/devices/{id}/events` lists, so that a technician (or a test) can compare a door's outbox
/// with what arrived.
public struct ReceivedEvent: Sendable, Equatable {
    /// The door's own id for the event (a UUID; unique per device).
    public var id: String
    public var device: String
    /// `checkin`, `entry` or `exit`.
    public var kind: String
    public var person: String
    public var session: String?
    /// When it happened, as the door said.
    public var at: Date
    /// When the hub stored it.
    public var receivedAt: Date

    /// An event as received.
    public init(
        id: String, device: String, kind: String, person: String, session: String?, at: Date, receivedAt: Date
    ) {
        self.id = id
        self.device = device
        self.kind = kind
        self.person = person
        self.session = session
        self.at = at
        self.receivedAt = receivedAt
    }
}

/// A staff or public token as the admin sees it: never the token, an id made from its hash.
public struct AccessTokenRecord: Sendable, Equatable, Codable {
    /// The first 16 hexadecimal digits of the token's SHA-256.
    public var id: String
    public var scope: TokenScope
    public var label: String

    public init(id: String, scope: TokenScope, label: String) {
        self.id = id
        self.scope = scope
        self.label = label
    }
}

/// What the device API needs: a door's identity, its manifest and gallery, the badge keys, and ingest.
public protocol DeviceStorage: Sendable {
    /// The device a bearer token belongs to.
    func device(forToken token: String) async throws(HubError) -> DeviceRecord?
    /// The manifest of a room at `now`: sessions from yesterday to the end of tomorrow.
    func manifest(room: String, now: Date) async throws(HubError) -> DeviceManifest
    /// One page of the gallery for a door of `room` (`GalleryDelta`): only the people it may recognise.
    func galleryPage(room: String, since: Int64, scope: String?, after: String?, now: Date) async throws(HubError)
        -> GalleryDelta
    /// Stores a batch from a device, idempotently; every id comes back in exactly one list.
    func ingest(_ batch: EventBatch, from device: DeviceRecord, receivedAt: Date) async throws(HubError)
        -> EventBatchResult
    /// The keys and revocations, with their version.
    func badgeKeys() async throws(HubError) -> BadgeKeys
    /// A mark that changes whenever any room's schedule, access list or policy, the gallery or the badge
    /// keys change: one cheap read, for doors waiting on `GET /api/v1/device/changes`.
    func changeMark() async throws(HubError) -> String
}

/// What the admin API and the `rollcall-hub` commands need: rooms, devices, people, sessions, tokens,
/// badge keys, and the raw records.
public protocol AdminStorage: Sendable {
    /// Adds a room with its timezone and attendance policy (nil: the defaults).
    func addRoom(_ room: String, timezone: String, policy: AttendancePolicy?) async throws(HubError)
    /// Replaces the volunteers and staff `room` lets in (entries and exits of anyone else are refused).
    func setRoomAccess(room: String, people: [String]) async throws(HubError)
    /// Who `room` lets in, sorted; nil when there is no such room.
    func roomAccess(room: String) async throws(HubError) -> [String]?
    /// Adds a device in a room with its bearer token (only the token's hash is kept).
    func addDevice(_ device: DeviceRecord, token: String) async throws(HubError)
    /// Removes a device: its token stops working with the next request; what it sent stays. False if
    /// there was no such device.
    func removeDevice(_ id: String) async throws(HubError) -> Bool
    /// Gives a device a new token; the old one stops working with the next request. False if there
    /// was no such device.
    func replaceDeviceToken(_ id: String, token: String) async throws(HubError) -> Bool
    /// The staff and public tokens (never the tokens themselves: an id made from the hash, the scope
    /// and the label).
    func accessTokens() async throws(HubError) -> [AccessTokenRecord]
    /// Revokes a staff or public token by its id (`accessTokens`); false if there was none.
    func revokeAccessToken(id: String) async throws(HubError) -> Bool
    /// Removes a badge key; the doors refuse badges signed with it once they have the new key list
    /// (their next refresh). False if there was no such key.
    func removeBadgeKey(kid: String) async throws(HubError) -> Bool
    /// Adds or replaces a person with their templates, recording `consent` first in the same transaction
    /// when given; templates need consent granted (`HubError.Code.conflict` otherwise). Returns the new
    /// gallery version.
    @discardableResult
    func upsertPerson(_ person: GalleryDocument.Entry, consent: ConsentRecord?) async throws(HubError) -> Int64
    /// Removes a person from the gallery; returns the new gallery version.
    @discardableResult
    func removePerson(_ id: String) async throws(HubError) -> Int64
    /// Adds or replaces a session (its room must exist).
    func putSession(_ session: Session) async throws(HubError)
    /// The gallery's changes since a version.
    func galleryDelta(since: Int64) async throws(HubError) -> GalleryDelta
    /// The check-in records of a session.
    func checkinRecords(session: String) async throws(HubError) -> [CheckinRecord]
    /// The visits of a person, oldest first.
    func visits(person: String) async throws(HubError) -> [Visit]
    /// Adds a staff or public token (only its hash is kept).
    func addAccessToken(_ token: String, scope: TokenScope, label: String) async throws(HubError)
    /// Imports a timetable (CSV, see `Timetable`): its sessions are added or updated; the lines
    /// refused are returned with the reason, and the others are imported all the same.
    func importTimetable(_ text: String) async throws(HubError) -> Timetable.Import
    /// How many events have been received in all.
    func receivedEventCount() async throws(HubError) -> Int
    /// The events received from `device`, one row each as stored, in the order of their ids: at most
    /// `limit`, those after the id `after` (nil: from the first). A removed device's events are still listed.
    func receivedEvents(device: String, after: String?, limit: Int) async throws(HubError) -> [ReceivedEvent]
    /// Brings the database's own upkeep up to date after a bulk load (`rollcall-hub seed`): the query
    /// planner's statistics, and on PostgreSQL the vacuum a large insert would otherwise trigger in the
    /// middle of the next morning's traffic.
    func tidy() async throws(HubError)
    /// Adds or replaces a badge public key (base64url, 32 bytes raw Ed25519) under its key id.
    func putBadgeKey(kid: String, publicKey: String) async throws(HubError)
    /// Revokes a badge by its id.
    func revokeBadge(_ id: String) async throws(HubError)
    /// The hub's own badge signing key (for the cards the web app prints): made on first use, kept sealed
    /// under the data key, its public key in the badge keys the doors pull (key id `hub-...`). A key the
    /// admin removed from the badge keys is replaced by a new one.
    func hubBadgeIssuer() async throws(HubError) -> BadgeIssuer
}

extension AdminStorage {
    /// Adds or replaces a person with their templates, under the consent on record.
    @discardableResult
    public func upsertPerson(_ person: GalleryDocument.Entry) async throws(HubError) -> Int64 {
        try await upsertPerson(person, consent: nil)
    }
}

/// What staff and the public API need: reports, corrections (excuses, flags), and the token scopes.
public protocol StaffStorage: Sendable {
    /// The scope of a staff or public token.
    func scope(forToken token: String) async throws(HubError) -> TokenScope?
    /// Excuses a person's absence from a session (replacing an earlier reason); nil removes the excuse.
    func setExcuse(session: String, person: String, reason: String?) async throws(HubError)
    /// Sets (or, with `on` false, removes) a mentor's flag.
    func setFlag(session: String, person: String, flag: MentorFlag, note: String?, on: Bool) async throws(HubError)
    /// A session's attendance report as it stands at `now`.
    func sessionReport(_ session: String, now: Date) async throws(HubError) -> SessionReport
    /// A session's attendance for the public API: pseudonyms, outcomes, minutes late; no names.
    func publicSessionReport(_ session: String, now: Date) async throws(HubError) -> PublicSessionReport
    /// A group's sessions starting in [from, to), with attendance per person and per session.
    func groupReport(_ group: String, from: Date, to: Date, now: Date) async throws(HubError) -> GroupReport
    /// Volunteer hours per person and week over [from, to).
    func volunteerHours(from: Date, to: Date) async throws(HubError) -> VolunteerHours
}

/// Where the hub keeps everything, split by who calls it (devices, admin, staff), so that each route
/// group is handed only what it may use. One protocol, so that a PostgreSQL store can follow the
/// SQLite one.
public protocol HubStorage: DeviceStorage, AdminStorage, StaffStorage, AccountStorage, RollCallStorage, ConsentStorage,
    NotificationStorage, RetentionStorage, DoorAlertStorage
{
    /// Whether the store answers (`/healthz`): throws when it does not.
    func ping() async throws(HubError)
}

/// Something the hub cannot do: a code saying what kind of failure, and a message for a human. The
/// storage knows nothing of HTTP; `HubServer` maps each code to a status.
public struct HubError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure; the raw value is `APIProblem.error` on the wire.
    public enum Code: String, Sendable, CaseIterable {
        /// The caller sent something invalid; nothing was stored.
        case badRequest = "bad_request"
        /// No credentials, or credentials the hub does not know.
        case unauthorized
        /// Known credentials that may not do this.
        case forbidden
        /// Something named that does not exist.
        case notFound = "not_found"
        /// It already exists, or it refers to something unknown.
        case conflict
        /// The request is larger than the hub takes.
        case tooLarge = "too_large"
        /// The caller sends too much too fast.
        case tooManyRequests = "too_many_requests"
        /// The hub's storage failed (its database, its data key).
        case storage
        /// Anything else on the hub's side.
        case `internal`

        /// Whether the caller is at fault (and may be told so in detail), rather than the hub.
        public var isCallerError: Bool { self != .storage && self != .internal }
    }

    /// What kind of failure.
    public var code: Code
    /// For a human.
    public var message: String

    /// An error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
