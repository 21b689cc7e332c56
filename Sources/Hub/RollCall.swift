public import Attendance
public import Foundation
public import Recognition

/// What a staff member may set on the live roll call.
public enum ManualMark: String, Sendable, Codable, CaseIterable {
    case present, late, absent, excused
}

/// A session as the Today page lists it.
public struct SessionSummary: Sendable, Equatable {
    public var session: Session
    public var className: String?
}

/// What a door says of itself every minute (`POST /api/v1/device/heartbeat`).
public struct DoorStatus: Sendable, Equatable, Codable {
    public var device: String
    public var room: String
    /// The last time the door reached the hub (any heartbeat); nil: never.
    public var lastContact: Date?
    /// The daemon's version.
    public var version: String?
    /// Events waiting in the door's queue.
    public var queued: Int?
    /// `ok`, or what is wrong with the camera (`lost`, `no frames`...).
    public var camera: String?
    /// Where the heartbeat came from.
    public var address: String?

    public init(
        device: String, room: String, lastContact: Date? = nil, version: String? = nil, queued: Int? = nil,
        camera: String? = nil, address: String? = nil
    ) {
        self.device = device
        self.room = room
        self.lastContact = lastContact
        self.version = version
        self.queued = queued
        self.camera = camera
        self.address = address
    }
}

/// The live roll call, the Today page, a person's own record, and the doors' heartbeats.
public protocol RollCallStorage: Sendable {
    /// A staff member's mark for (session, person): replaces whatever record there was (a door's or
    /// another mark) and stands against any door event that comes later. An excuse needs a reason.
    func setManualRecord(session: String, person: String, mark: ManualMark, reason: String?, by: String, at: Date)
        async throws(HubError)
    /// Marks everyone on the roster with no record yet absent (manual, by `by`); returns how many.
    func markRestAbsent(session: String, by: String, at: Date) async throws(HubError) -> Int
    /// For each of `sessions`, a string that changes whenever what its roll call shows changes (records,
    /// flags, excuses), whichever hub process changed it.
    func rollCallFingerprints(_ sessions: [String]) async throws(HubError) -> [String: String]
    /// Sessions overlapping [from, to), by start: those `teacher` teaches, or of `groups`, or all
    /// (both nil); at most `limit`.
    func sessions(from: Date, to: Date, teacher: String?, groups: [String]?, limit: Int) async throws(HubError)
        -> [SessionSummary]
    /// The sessions overlapping [from, to) whose roster holds `person`, by start; at most `limit`.
    func sessions(of person: String, from: Date, to: Date, limit: Int) async throws(HubError) -> [SessionSummary]
    /// Everything held about `person`; nil when the hub holds nothing about them.
    func exportPerson(_ person: String, at: Date) async throws(HubError) -> SubjectAccessExport?
    /// A person's record without templates; nil when there is none.
    func personRecord(_ id: String) async throws(HubError) -> Person?
    /// Notes a door's heartbeat.
    func recordHeartbeat(_ status: DoorStatus, at: Date) async throws(HubError)
    /// Every door with its last heartbeat, by room and id.
    func doors() async throws(HubError) -> [DoorStatus]
}

/// How a person id appears in a roster's JSON (`"p-1"`): what a roster is searched for.
func rosterNeedle(_ person: String) -> String {
    (try? String(decoding: JSONEncoder().encode([person]), as: UTF8.self).dropFirst().dropLast()).map(String.init)
        ?? person
}

extension ManualMark {
    /// Checks a mark's reason: required for an excuse, at most 300 characters.
    public static func checkReason(_ mark: ManualMark, _ reason: String?) throws(HubError) -> String? {
        let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        let given = (reason?.isEmpty ?? true) ? nil : reason
        if mark == .excused && given == nil { throw HubError(.badRequest, "an excuse needs a reason") }
        guard (given?.count ?? 0) <= 300 else { throw HubError(.badRequest, "a reason has at most 300 characters") }
        return given
    }
}

/// Everything the hub holds about one person (a subject-access request), as JSON.
public struct SubjectAccessExport: Sendable, Codable, Equatable {
    /// One event a door sent about the person, as received.
    public struct Event: Sendable, Codable, Equatable {
        public var device: String
        public var id: String
        public var kind: String
        public var session: String?
        public var at: String
        public var receivedAt: String
        /// The event as the door sent it (JSON).
        public var body: String

        enum CodingKeys: String, CodingKey {
            case device, id, kind, session, at, body
            case receivedAt = "received_at"
        }
    }

    /// One attendance record, with the session's excuse and flags for the person.
    public struct Record: Sendable, Codable, Equatable {
        public var session: String
        public var status: String
        public var checkinTime: String
        public var method: String
        public var source: String
        public var setBy: String?
        public var reason: String?

        enum CodingKeys: String, CodingKey {
            case session, status, method, source, reason
            case checkinTime = "checkin_time"
            case setBy = "set_by"
        }
    }

    public var person: String
    public var exportedAt: String
    /// The person's record as the gallery holds it: name, role, groups, and the face templates.
    public var gallery: GalleryDocument.Entry?
    /// The sessions whose roster holds the person.
    public var rosters: [String]
    public var records: [Record]
    public var excuses: [String: String]
    public var flags: [String: [String]]
    public var visits: [String]
    public var rooms: [String]
    public var events: [Event]
    /// The web accounts that are this person (username, role).
    public var accounts: [String: String]
    /// The audit trail's lines about this person's records.
    public var audit: [AuditEntry]
    /// Every consent decision recorded, oldest first.
    public var consent: [ConsentRecord] = []
    /// The guardians' email addresses on record.
    public var guardians: [String] = []
    /// The messages sent (or waiting) about the person: "absence by email to ADDRESS, queued T, sent T".
    public var messages: [String] = []

    /// The export as JSON for the person who asked: keys sorted, times as ISO 8601 (UTC).
    public func json(pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    enum CodingKeys: String, CodingKey {
        case person, gallery, rosters, records, excuses, flags, visits, rooms, events, accounts, audit, consent
        case guardians, messages
        case exportedAt = "exported_at"
    }
}

extension SubjectAccessExport {
    /// The export from what a store read; empty of everything means the hub holds nothing.
    static func make(
        person: String, at: Date, gallery: GalleryDocument.Entry?, rosters: [String], records: [CheckinRecord],
        excuses: [(String, String)], flags: [(String, String)], visits: [Visit], rooms: [String], events: [Event],
        accounts: [Account], audit: [AuditEntry]
    ) -> SubjectAccessExport? {
        let export = SubjectAccessExport(
            person: person, exportedAt: ISO8601Time.format(at), gallery: gallery, rosters: rosters.sorted(),
            records: records.map {
                Record(
                    session: $0.session, status: $0.status, checkinTime: ISO8601Time.format($0.checkinTime),
                    method: $0.method, source: $0.source, setBy: $0.setBy, reason: $0.reason)
            },
            excuses: Dictionary(excuses, uniquingKeysWith: { first, _ in first }),
            flags: flags.reduce(into: [:]) { $0[$1.0, default: []].append($1.1) },
            visits: visits.map { visit in
                "\(visit.room): \(ISO8601Time.format(visit.loginTime)) to "
                    + (visit.logoutTime.map(ISO8601Time.format) ?? "still in")
            },
            rooms: rooms.sorted(), events: events,
            accounts: Dictionary(
                accounts.map { ($0.username, $0.role.rawValue) }, uniquingKeysWith: { first, _ in first }),
            audit: audit)
        let empty =
            gallery == nil && rosters.isEmpty && records.isEmpty && visits.isEmpty && rooms.isEmpty && events.isEmpty
            && accounts.isEmpty && audit.isEmpty
        return empty ? nil : export
    }
}
