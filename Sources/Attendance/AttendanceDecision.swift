public import Foundation

/// Why a recognised face was not checked in.
public enum NoCheckinReason: Sendable, Equatable, Hashable {
    /// No session's check-in window is open.
    case noSessionNow
    /// Check-in is open for these sessions, but the person is on none of their rosters.
    case notOnRoster([String])

    /// What happened and what to do.
    public var message: String {
        switch self {
        case .noSessionNow:
            return "no session's check-in window is open now (check-in opens shortly before a class starts): "
                + "if a class is running, check that the device has this room's current schedule"
        case .notOnRoster(let sessionIDs):
            let sessions = sessionIDs.count == 1 ? "session" : "sessions"
            return "not on the roster of the open \(sessions) \(sessionIDs.joined(separator: ", ")): "
                + "if they belong to that class, add them to its roster on the server"
        }
    }
}

/// What the attendance rules made of a sighting or a scan; `event` is what to commit to the outbox.
public enum AttendanceDecision: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// A student's first check-in to a session.
    case checkin(session: String, person: String, at: Date, status: CheckinStatus, minutesLate: Int)
    /// The student is already checked in to this session: nothing to commit.
    case alreadyCheckedIn(session: String, person: String, firstAt: Date)
    /// The face was not checked in: no window open, or not on the open sessions' rosters.
    case noCheckin(person: String, reason: NoCheckinReason)
    /// A volunteer signed in; `unclosedEntryAt` is the previous entry that was never signed out, if any.
    case entry(person: String, at: Date, unclosedEntryAt: Date?)
    /// A volunteer signed out after `duration` seconds on site.
    case exit(person: String, at: Date, entryAt: Date, duration: TimeInterval)
    /// A volunteer scan too soon after the last accepted one: nothing changes.
    case ignoredRepeat(person: String, at: Date, secondsSinceLast: TimeInterval)

    /// The decision kinds, with their wire names as raw values.
    public enum Kind: String, Sendable, Equatable, Hashable, CaseIterable {
        /// `checkin`
        case checkin
        /// `already_checked_in`
        case alreadyCheckedIn = "already_checked_in"
        /// `no_checkin`
        case noCheckin = "no_checkin"
        /// `entry`
        case entry
        /// `exit`
        case exit
        /// `ignored_repeat`
        case ignoredRepeat = "ignored_repeat"
    }

    /// Which kind of decision; `kind.rawValue` is its wire name (`checkin`, `already_checked_in`, …).
    public var kind: Kind {
        switch self {
        case .checkin: .checkin
        case .alreadyCheckedIn: .alreadyCheckedIn
        case .noCheckin: .noCheckin
        case .entry: .entry
        case .exit: .exit
        case .ignoredRepeat: .ignoredRepeat
        }
    }

    /// The person the decision is about.
    public var person: String {
        switch self {
        case .checkin(_, let person, _, _, _), .alreadyCheckedIn(_, let person, _), .noCheckin(let person, _),
            .entry(let person, _, _), .exit(let person, _, _, _), .ignoredRepeat(let person, _, _):
            person
        }
    }

    /// The session of a check-in, new or repeated.
    public var sessionID: String? {
        switch self {
        case .checkin(let session, _, _, _, _), .alreadyCheckedIn(let session, _, _): session
        default: nil
        }
    }

    /// Present or late, for a new check-in.
    public var status: CheckinStatus? {
        if case .checkin(_, _, _, let status, _) = self { status } else { nil }
    }

    /// Whole minutes after the start (0 when present), for a new check-in.
    public var minutesLate: Int? {
        if case .checkin(_, _, _, _, let minutes) = self { minutes } else { nil }
    }

    /// Seconds on site, for an exit.
    public var duration: TimeInterval? {
        if case .exit(_, _, _, let duration) = self { duration } else { nil }
    }

    /// The start of the visit an exit closes.
    public var entryAt: Date? {
        if case .exit(_, _, let entryAt, _) = self { entryAt } else { nil }
    }

    /// For an entry: the earlier entry that was never signed out.
    public var unclosedEntryAt: Date? {
        if case .entry(_, _, let unclosed) = self { unclosed } else { nil }
    }

    /// Why nothing was committed, for the no-ops and the refusal; nil when there is an event.
    public var message: String? {
        switch self {
        case .checkin, .entry, .exit:
            return nil
        case .alreadyCheckedIn(let session, let person, let firstAt):
            return "\(person) is already checked in to session \(session) (since \(ISO8601Time.format(firstAt))): "
                + "nothing to do"
        case .noCheckin(let person, let reason):
            return "\(person) was not checked in: \(reason.message)"
        case .ignoredRepeat(let person, _, let seconds):
            return "\(person) scanned again \(Self.seconds(seconds)) after their last accepted scan: ignored as a "
                + "repeat; to sign out, scan again a little later"
        }
    }

    /// The event to commit to the outbox: only for `checkin`, `entry` and `exit`.
    public var event: AttendanceEvent? {
        switch self {
        case .checkin(let session, let person, let at, let status, let minutesLate):
            .checkin(session: session, person: person, at: at, status: status, minutesLate: minutesLate)
        case .entry(let person, let at, let unclosedEntryAt):
            .entry(person: person, at: at, unclosedEntryAt: unclosedEntryAt)
        case .exit(let person, let at, let entryAt, _):
            .exit(person: person, at: at, entryAt: entryAt)
        case .alreadyCheckedIn, .noCheckin, .ignoredRepeat:
            nil
        }
    }

    /// One line for logs.
    public var description: String {
        switch self {
        case .checkin(let session, let person, let at, let status, let minutesLate):
            let how = status == .late ? "late by \(minutesLate) min" : "present"
            return "\(person) checked in to session \(session) at \(ISO8601Time.format(at)): \(how)"
        case .entry(let person, let at, let unclosed):
            var text = "\(person) signed in at \(ISO8601Time.format(at))"
            if let unclosed {
                text += "; their entry at \(ISO8601Time.format(unclosed)) was never signed out"
            }
            return text
        case .exit(let person, let at, _, let duration):
            return "\(person) signed out at \(ISO8601Time.format(at)) after \(Self.seconds(duration))"
        case .alreadyCheckedIn, .noCheckin, .ignoredRepeat:
            return message ?? ""
        }
    }

    /// `12 s`, `2.5 s`, `1 h 5 min 3 s`.
    private static func seconds(_ interval: TimeInterval) -> String {
        guard interval >= 60 else {
            return "\(ScheduleError.plain((interval * 10).rounded() / 10)) s"
        }
        let total = Int(interval.rounded())
        var parts: [String] = []
        if total >= 3600 { parts.append("\(total / 3600) h") }
        if total % 3600 >= 60 { parts.append("\(total % 3600 / 60) min") }
        if total % 60 > 0 { parts.append("\(total % 60) s") }
        return parts.joined(separator: " ")
    }
}
