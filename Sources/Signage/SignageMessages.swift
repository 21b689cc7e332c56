import Attendance
public import Foundation
public import Pipeline

/// The page's `state` event: what the idle screen and the offline indicator show.
public struct PageState<Session: Encodable>: Encodable {
    public var online: Bool
    public var queue: Int
    public var session: Session?
    public var room: String?
    public var camera: String

    public init(online: Bool, queue: Int, session: Session?, room: String?, camera: String) {
        self.online = online
        self.queue = queue
        self.session = session
        self.room = room
        self.camera = camera
    }

    public var json: String { JSONLine.encode(self) }
}

/// The page's `decision` event: who, what, and when it was committed (for the page's latency).
public struct SignageDecision: Encodable {
    var id: String?
    var kind: String
    var name: String?
    var status: String?
    var minutesLate: Int?
    var durationSeconds: Double?
    var reason: String?
    var group: String?
    var committedAtMs: Int64

    /// The page's message for a decision. A refused face (a presentation attack) carries nothing but its
    /// kind: no name, no reason, no group, so that the screen tells whoever holds up a photo neither whom
    /// it matched nor which cue gave it away.
    public init(_ decision: DoorDecision, id: String?, name: String?, group: String?, committedAt: Date) {
        let neutral = decision.kind == .refusedFace
        self.id = id
        kind = decision.kind.rawValue
        self.name = neutral ? nil : name
        status = decision.status?.rawValue
        minutesLate = decision.minutesLate
        durationSeconds = decision.duration
        reason = neutral ? nil : decision.reason
        self.group = neutral ? nil : group
        committedAtMs = Int64(committedAt.timeIntervalSince1970 * 1000)
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, name, status, reason, group
        case minutesLate = "minutes_late"
        case durationSeconds = "duration_seconds"
        case committedAtMs = "committed_at_ms"
    }

    public var json: String { JSONLine.encode(self) }

    /// Explicit nulls, so the page sees every key.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(name, forKey: .name)
        try container.encode(status, forKey: .status)
        try container.encode(minutesLate, forKey: .minutesLate)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(reason, forKey: .reason)
        try container.encode(group, forKey: .group)
        try container.encode(committedAtMs, forKey: .committedAtMs)
    }
}
