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
