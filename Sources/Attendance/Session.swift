public import Foundation

/// One class occurrence: a group in a room from `start` to `end`, and who belongs to it.
public struct Session: Sendable, Equatable, Hashable {
    /// The server's id for this occurrence, unique within a schedule.
    public var id: String
    /// The room it takes place in.
    public var room: String
    /// The class (group, cohort) name.
    public var group: String
    /// When the class starts.
    public var start: Date
    /// When the class ends.
    public var end: Date
    /// Person ids of the students expected.
    public var roster: [String]

    /// Makes a session.
    public init(id: String, room: String, group: String, start: Date, end: Date, roster: [String]) {
        self.id = id
        self.room = room
        self.group = group
        self.start = start
        self.end = end
        self.roster = roster
    }

    /// The instants at which a face is checked in to this session: from `checkinOpensBefore` before the start
    /// to `checkinClosesAfterEnd` after the end, both ends included.
    public func checkinWindow(policy: AttendancePolicy) -> ClosedRange<Date> {
        let opens = start.addingTimeInterval(-policy.checkinOpensBefore)
        // A session built by hand with its end before its start still gets a (one-instant) window.
        return opens...max(opens, end.addingTimeInterval(policy.checkinClosesAfterEnd))
    }

    /// What an arrival at `at` is: `present` up to and including `start + grace` (early arrivals too),
    /// otherwise `late` by ⌊(`at` − start) / 60⌋ whole minutes. The door decides with it, and the hub
    /// recomputes with it what a door sent.
    public func arrival(at: Date, policy: AttendancePolicy) -> (status: CheckinStatus, minutesLate: Int) {
        let sinceStart = at.timeIntervalSince(start)
        guard sinceStart > policy.grace else { return (.present, 0) }
        let minutes = (sinceStart / 60).rounded(.down)
        return (.late, minutes < Double(Int.max) ? Int(minutes) : Int.max)
    }

    /// True from `start` to `end`, both included.
    public func isRunning(at time: Date) -> Bool {
        start <= time && time <= end
    }
}

/// A room's sessions and the policy that applies to them: what the device downloads from the server, or
/// what a technician passes as a sessions file.
public struct SessionSchedule: Sendable, Equatable, Hashable {
    /// The room this device is in; the default room of every session.
    public var room: String
    /// The room's IANA time zone (such as `Europe/Berlin`), carried for display; every time here is absolute.
    public var timezone: String?
    /// Windows, grace and debounce intervals.
    public var policy: AttendancePolicy
    /// The sessions, in the order given.
    public var sessions: [Session]

    /// Makes a schedule.
    public init(
        room: String, timezone: String? = nil, policy: AttendancePolicy = AttendancePolicy(), sessions: [Session]
    ) {
        self.room = room
        self.timezone = timezone
        self.policy = policy
        self.sessions = sessions
    }

    /// The session with this id, if any.
    public func session(id: String) -> Session? {
        sessions.first { $0.id == id }
    }

    /// The id of the session `wholeDay(roster:start:end:room:policy:)` makes.
    public static let wholeDaySessionID = "whole-day"

    /// A schedule of one session, `whole-day` of group `everyone`, running from `start` to `end` with
    /// `roster` as its roster: for replaying a video without a sessions file (the whole gallery is the
    /// roster, and the session spans the whole video).
    ///
    /// With the default policy an arrival more than five minutes after `start` is late; pass a policy with a
    /// longer `grace` to count everyone present.
    public static func wholeDay(
        roster: [String],
        start: Date,
        end: Date,
        room: String = "replay",
        policy: AttendancePolicy = AttendancePolicy()
    ) -> SessionSchedule {
        let session = Session(
            id: wholeDaySessionID,
            room: room,
            group: "everyone",
            start: start,
            end: max(start, end),
            roster: roster
        )
        return SessionSchedule(room: room, policy: policy, sessions: [session])
    }
}
