public import Foundation

/// The attendance state of one room: who is checked in to which session, which volunteers are on site, and
/// the rules that turn a recognised face or a scanned volunteer badge into a decision.
///
/// Pure: it reads no clock (every call takes the time) and does no I/O. State changes only through the
/// events its decisions carry, so a book rebuilt from those events (`init(schedule:history:)`) decides
/// exactly as the original would have.
public struct AttendanceBook: Sendable, Equatable {
    /// The room's sessions and policy.
    public let schedule: SessionSchedule
    /// The roster of `schedule.sessions[i]` as a set, for the per-sighting lookups.
    private let rosters: [Set<String>]
    /// First check-in time per (session, person).
    private var checkins: [CheckinKey: Date] = [:]
    /// Entry time of each volunteer's open visit.
    private var openVisits: [String: Date] = [:]
    /// Time of each volunteer's last accepted (entry or exit) scan, for the debounce.
    private var lastAcceptedScans: [String: Date] = [:]

    private struct CheckinKey: Hashable {
        var session: String
        var person: String
    }

    /// The schedule's policy.
    public var policy: AttendancePolicy { schedule.policy }

    /// Makes a book for `schedule`, replaying `history`, the events committed before a restart (in any order:
    /// they are applied by time).
    public init(schedule: SessionSchedule, history: [AttendanceEvent] = []) {
        self.schedule = schedule
        self.rosters = schedule.sessions.map { Set($0.roster) }
        let ordered = history.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }
        for (_, event) in ordered {
            apply(event)
        }
    }

    // MARK: Sessions

    /// The session running at `time` (start ≤ time ≤ end); of several, the one that started last.
    public func sessionRunning(at time: Date) -> Session? {
        var running: Session?
        for session in schedule.sessions where session.isRunning(at: time) {
            if running.map({ session.start > $0.start }) ?? true {
                running = session
            }
        }
        return running
    }

    /// The sessions whose check-in window contains `time`, by start time.
    public func openSessions(at time: Date) -> [Session] {
        openIndices(at: time).map { schedule.sessions[$0] }
    }

    /// The person ids on the rosters of the sessions whose check-in window is open at `time`, each once,
    /// in session order: the matcher searches these first.
    public func rosterFirst(at time: Date) -> [String] {
        var seen: Set<String> = []
        var people: [String] = []
        for session in openSessions(at: time) {
            for person in session.roster where seen.insert(person).inserted {
                people.append(person)
            }
        }
        return people
    }

    /// When `person` checked in to session `session`, or nil if they have not.
    public func checkinTime(session: String, person: String) -> Date? {
        checkins[CheckinKey(session: session, person: person)]
    }

    /// When the volunteer's open visit began, or nil if they are not signed in.
    public func openVisit(person: String) -> Date? {
        openVisits[person]
    }

    // MARK: Decisions

    /// Decides what a student identified at the door (by face or by a badge) means at `at`, and records a
    /// new check-in.
    ///
    /// The session is chosen among those whose check-in window contains `at` and whose roster contains
    /// `person`:
    /// 1. the one running now (start ≤ `at` ≤ end; of several, the latest start);
    /// 2. otherwise the upcoming one with the earliest start;
    /// 3. otherwise the one that ended last (its window stays open `checkinClosesAfterEnd` after its end).
    ///
    /// So a student in two consecutive classes who is seen during the first is counted for the first; the
    /// door sees them again for the second, once the first has ended.
    ///
    /// The arrival is `present` up to and including `start + grace` (early arrivals too), otherwise `late`
    /// by ⌊(`at` − start) / 60⌋ whole minutes. A person is checked in once per session: a repeat is
    /// `alreadyCheckedIn` with the first time.
    public mutating func studentIdentified(person: String, at: Date) -> AttendanceDecision {
        let open = openIndices(at: at)
        guard !open.isEmpty else {
            return .noCheckin(person: person, reason: .noSessionNow)
        }
        let candidates = open.filter { rosters[$0].contains(person) }.map { schedule.sessions[$0] }
        guard let session = Self.choose(among: candidates, at: at) else {
            return .noCheckin(person: person, reason: .notOnRoster(open.map { schedule.sessions[$0].id }))
        }
        if let firstAt = checkinTime(session: session.id, person: person) {
            return .alreadyCheckedIn(session: session.id, person: person, firstAt: firstAt)
        }
        let arrival = session.arrival(at: at, policy: policy)
        let decision = AttendanceDecision.checkin(
            session: session.id, person: person, at: at, status: arrival.status, minutesLate: arrival.minutesLate)
        record(decision)
        return decision
    }

    /// Decides what a volunteer's accepted badge scan means at `at`, and records entries and exits.
    ///
    /// - A scan less than `volunteerDebounce` seconds after the person's last accepted scan (or before it,
    ///   should the clock step back) is an `ignoredRepeat` and changes nothing; exactly `volunteerDebounce`
    ///   later is accepted.
    /// - With no open visit, an accepted scan is an `entry`.
    /// - With an open visit, it is an `exit` with the visit's duration, unless the visit is older than
    ///   `maximumVisit`: then the old visit is left unclosed (no exit is invented) and the scan is a new
    ///   `entry` carrying `unclosedEntryAt`, so the server can flag the missing sign-out.
    public mutating func volunteerScanned(person: String, at: Date) -> AttendanceDecision {
        if let last = lastAcceptedScans[person] {
            let sinceLast = at.timeIntervalSince(last)
            if sinceLast < policy.volunteerDebounce {
                return .ignoredRepeat(person: person, at: at, secondsSinceLast: sinceLast)
            }
        }
        let decision: AttendanceDecision
        if let entryAt = openVisits[person] {
            let duration = at.timeIntervalSince(entryAt)
            decision =
                duration > policy.maximumVisit
                ? .entry(person: person, at: at, unclosedEntryAt: entryAt)
                : .exit(person: person, at: at, entryAt: entryAt, duration: duration)
        } else {
            decision = .entry(person: person, at: at, unclosedEntryAt: nil)
        }
        record(decision)
        return decision
    }

    // MARK: State

    private mutating func record(_ decision: AttendanceDecision) {
        if let event = decision.event {
            apply(event)
        }
    }

    /// The only place state changes: live decisions and replayed history go through here alike.
    private mutating func apply(_ event: AttendanceEvent) {
        switch event.kind {
        case .checkin:
            // A check-in without a session cannot be attributed to one; it changes nothing.
            guard let session = event.session else { return }
            let key = CheckinKey(session: session, person: event.person)
            if checkins[key].map({ event.at < $0 }) ?? true {
                checkins[key] = event.at
            }
        case .entry:
            openVisits[event.person] = event.at
            lastAcceptedScans[event.person] = event.at
        case .exit:
            openVisits[event.person] = nil
            lastAcceptedScans[event.person] = event.at
        }
    }

    /// Indices of the sessions whose window contains `time`, ordered by start (ties keep schedule order).
    private func openIndices(at time: Date) -> [Int] {
        schedule.sessions.indices
            .filter { schedule.sessions[$0].checkinWindow(policy: policy).contains(time) }
            .sorted { (schedule.sessions[$0].start, $0) < (schedule.sessions[$1].start, $1) }
    }

    /// The rule documented on `studentIdentified(person:at:)`.
    private static func choose(among sessions: [Session], at time: Date) -> Session? {
        var running: Session?
        var upcoming: Session?
        var ended: Session?
        for session in sessions {
            if session.isRunning(at: time) {
                if running.map({ session.start > $0.start }) ?? true { running = session }
            } else if time < session.start {
                if upcoming.map({ session.start < $0.start }) ?? true { upcoming = session }
            } else {
                if ended.map({ session.end > $0.end }) ?? true { ended = session }
            }
        }
        return running ?? upcoming ?? ended
    }
}
