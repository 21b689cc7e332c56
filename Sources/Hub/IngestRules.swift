public import Attendance
public import Foundation
import Recognition
public import SyncProtocol

/// What the hub decides about one event a device sent: the rules, with no storage in them, so that
/// every storage (SQLite today, PostgreSQL next) applies the same ones to the facts it looked up.
///
/// The hub believes nothing a device says that it can work out itself: a check-in's status and
/// minutes late are recomputed from its time, the session and the room's policy; and what it cannot
/// work out it checks:
/// - the event is this device's (`source`), its id is a UUID, its `method` is `face` or `qr`;
/// - its time is at most ``Limits/clockSkew`` ahead of the hub's clock when it arrives, and at most
///   ``Limits/maximumDelay`` behind it (the door keeps events while the hub cannot be reached;
///   `rollcall-hub serve --max-event-age-days` sets it);
/// - a check-in names a session of the device's room, the person is on that session's roster
///   (someone not on it is refused: the door itself never checks them in), its time lies in the
///   session's check-in window. When the person already has a check-in for that session, the first one
///   to arrive stands: a second is kept as received and changes nothing (``Verdict/keep(_:)``), so
///   that a forged earlier "present" sent afterwards cannot replace a genuine "late";
/// - an entry or an exit is a volunteer's or a staff member's whom the room allows
///   (`PUT /api/v1/admin/rooms/{room}/access`), and an exit comes after its entry, within the room's
///   longest visit.
public enum IngestRules {
    /// The bounds on an event's time against the hub's clock when it arrives.
    public struct Limits: Sendable, Equatable {
        /// How far ahead of the hub's clock an event's time may be: a door whose clock runs further
        /// ahead is refused, and `rollcall doctor` shows the offset the door measures against the
        /// hub's `Date` header. 300 s.
        public var clockSkew: TimeInterval
        /// How long after its time an event may arrive. 30 days.
        public var maximumDelay: TimeInterval

        public init(clockSkew: TimeInterval = 300, maximumDelay: TimeInterval = 30 * 86_400) {
            self.clockSkew = clockSkew
            self.maximumDelay = maximumDelay
        }

        /// 300 s ahead, 30 days behind.
        public static let standard = Limits()
    }
    /// The ways a door recognises someone (the OpenAPI document's `method`): `IdentificationMethod`'s
    /// raw values.
    public static let methods = Set(IdentificationMethod.allCases.map(\.rawValue))

    /// What the storage looked up for one event.
    public struct Facts: Sendable {
        /// The person's role, or nil when there is no such person.
        public var role: PersonRole?
        /// The check-in's session (nil for entries and exits, or when it does not exist).
        public var session: Session?
        /// The policy of the device's room.
        public var policy: AttendancePolicy
        /// Whether the device's room allows the person in (volunteers and staff).
        public var allowedInRoom: Bool
        /// The time of the person's check-in to the session the hub already holds, if any.
        public var checkedInAt: Date?

        public init(
            role: PersonRole?, session: Session?, policy: AttendancePolicy, allowedInRoom: Bool,
            checkedInAt: Date? = nil
        ) {
            self.role = role
            self.session = session
            self.policy = policy
            self.allowedInRoom = allowedInRoom
            self.checkedInAt = checkedInAt
        }
    }

    /// A check-in as the hub records it: the device's time, the hub's verdict.
    public struct Checkin: Sendable, Equatable {
        public var status: CheckinStatus
        public var minutesLate: Int

        public init(status: CheckinStatus, minutesLate: Int) {
            self.status = status
            self.minutesLate = minutesLate
        }
    }

    /// What to do with the event.
    public enum Verdict: Sendable, Equatable {
        /// Store it; a check-in with the status the hub computed.
        case accept(Checkin?)
        /// Keep it as received (the device is answered "accepted"), but change no record, for this reason.
        case keep(String)
        /// Refuse it, for this reason (sent back to the device, which keeps it out of its queue).
        case refuse(String)
    }

    /// A batch holds at most `DeviceAPI.maximumBatch` events (the device API's bound; a larger one is refused whole).
    public static func checkSize(_ batch: EventBatch) throws(HubError) {
        guard batch.events.count <= DeviceAPI.maximumBatch else {
            throw HubError(
                .badRequest, "a batch holds at most \(DeviceAPI.maximumBatch) events, this one \(batch.events.count)")
        }
    }

    /// The checks that need no lookup. Nil when the event may go on to ``judge(_:device:receivedAt:facts:)``.
    public static func precheck(
        _ item: DeviceEvent, device: DeviceRecord, receivedAt: Date, limits: Limits = .standard
    ) -> String? {
        guard item.source == "signage:\(device.id)" else {
            return "source \(item.source.prefix(80)) is not this device (signage:\(device.id))"
        }
        guard UUID(uuidString: item.id) != nil else {
            return "an event id is a UUID (the device makes UUIDv7s), not \(item.id.prefix(64))"
        }
        guard methods.contains(item.method) else {
            return "method \(item.method.prefix(40)) is not one of \(methods.sorted().joined(separator: ", "))"
        }
        let event = item.event
        let ahead = event.at.timeIntervalSince(receivedAt)
        guard ahead <= limits.clockSkew else {
            return "the time \(ISO8601Time.format(event.at)) is \(Int(ahead)) s ahead of the hub's clock "
                + "(at most \(Int(limits.clockSkew)) s): check the door's clock (rollcall doctor)"
        }
        guard -ahead <= limits.maximumDelay else {
            return "the time \(ISO8601Time.format(event.at)) is more than \(Int(limits.maximumDelay / 86_400)) days old"
        }
        return nil
    }

    /// The verdict on an event that passed ``precheck(_:device:receivedAt:)``, from the facts looked up.
    public static func judge(
        _ item: DeviceEvent, device: DeviceRecord, receivedAt: Date, facts: Facts, limits: Limits = .standard
    ) -> Verdict {
        if let reason = precheck(item, device: device, receivedAt: receivedAt, limits: limits) {
            return .refuse(reason)
        }
        let event = item.event
        guard let role = facts.role else { return .refuse("unknown person \(event.person.prefix(80))") }
        switch event.kind {
        case .checkin:
            guard let id = event.session else { return .refuse("a check-in needs a session") }
            guard let session = facts.session else { return .refuse("unknown session \(id.prefix(80))") }
            guard session.room == device.room else {
                return .refuse("session \(id) is in room \(session.room), not in this device's room \(device.room)")
            }
            guard session.roster.contains(event.person) else {
                return .refuse("\(event.person) is not on the roster of session \(id)")
            }
            let window = session.checkinWindow(policy: facts.policy)
            guard window.contains(event.at) else {
                return .refuse(
                    "the time \(ISO8601Time.format(event.at)) is outside session \(id)'s check-in window "
                        + "(\(ISO8601Time.format(window.lowerBound)) to \(ISO8601Time.format(window.upperBound)))")
            }
            if let first = facts.checkedInAt {
                return .keep(
                    "\(event.person) is already checked in to session \(id) at \(ISO8601Time.format(first)); "
                        + "the first check-in to arrive stands")
            }
            let arrival = session.arrival(at: event.at, policy: facts.policy)
            return .accept(Checkin(status: arrival.status, minutesLate: arrival.minutesLate))
        case .entry, .exit:
            guard role == .volunteer || role == .staff else {
                return .refuse("\(event.person) is a \(role.rawValue): entries and exits are volunteers' and staff's")
            }
            guard facts.allowedInRoom else {
                return .refuse("\(event.person) is not allowed in room \(device.room) (the room's access list)")
            }
            if event.kind == .exit {
                guard let entry = event.entryAt else { return .refuse("an exit needs the time of its entry") }
                let duration = event.at.timeIntervalSince(entry)
                guard duration >= 0, duration <= facts.policy.maximumVisit else {
                    return .refuse(
                        "an exit \(Int(duration)) s after its entry (a visit lasts 0 to \(Int(facts.policy.maximumVisit)) s)"
                    )
                }
            }
            return .accept(nil)
        }
    }
}
