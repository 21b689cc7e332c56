public import Foundation

/// Whether a student arrived in time.
public enum CheckinStatus: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
    /// Before the start or within the grace period after it.
    case present
    /// After the grace period.
    case late
}

/// What the device commits to its outbox and sends to the server: a check-in, or a volunteer's entry or exit.
///
/// The JSON form has snake_case keys (`minutes_late`, `duration_seconds`, `entry_at`, `unclosed_entry_at`),
/// ISO 8601 UTC times, and leaves out the fields a kind does not use. Ids, method, source and match quality
/// are the caller's to add.
public struct AttendanceEvent: Sendable, Equatable, Hashable, Codable {
    /// The three kinds of events.
    public enum Kind: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
        /// A student checked in to a session.
        case checkin
        /// A volunteer signed in.
        case entry
        /// A volunteer signed out.
        case exit
    }

    /// Which kind of event.
    public var kind: Kind
    /// The person's opaque id.
    public var person: String
    /// The session id (check-ins only).
    public var session: String?
    /// When it happened.
    public var at: Date
    /// Present or late (check-ins only).
    public var status: CheckinStatus?
    /// Whole minutes after the start, 0 when present (check-ins only).
    public var minutesLate: Int?
    /// Seconds between the entry and this exit (exits only).
    public var duration: TimeInterval?
    /// When the visit this exit closes began (exits only).
    public var entryAt: Date?
    /// For an entry: the previous entry of the same person that was never signed out (older than the
    /// policy's `maximumVisit`), so the server can flag the missing sign-out.
    public var unclosedEntryAt: Date?

    /// Makes an event; prefer `checkin(…)`, `entry(…)` and `exit(…)`, which set the fields each kind uses.
    public init(
        kind: Kind,
        person: String,
        session: String? = nil,
        at: Date,
        status: CheckinStatus? = nil,
        minutesLate: Int? = nil,
        duration: TimeInterval? = nil,
        entryAt: Date? = nil,
        unclosedEntryAt: Date? = nil
    ) {
        self.kind = kind
        self.person = person
        self.session = session
        self.at = at
        self.status = status
        self.minutesLate = minutesLate
        self.duration = duration
        self.entryAt = entryAt
        self.unclosedEntryAt = unclosedEntryAt
    }

    /// A check-in of `person` to `session`.
    public static func checkin(
        session: String,
        person: String,
        at: Date,
        status: CheckinStatus,
        minutesLate: Int
    ) -> AttendanceEvent {
        AttendanceEvent(
            kind: .checkin,
            person: person,
            session: session,
            at: at,
            status: status,
            minutesLate: minutesLate
        )
    }

    /// A volunteer's sign-in, with the unclosed previous entry if there was one.
    public static func entry(person: String, at: Date, unclosedEntryAt: Date? = nil) -> AttendanceEvent {
        AttendanceEvent(kind: .entry, person: person, at: at, unclosedEntryAt: unclosedEntryAt)
    }

    /// A volunteer's sign-out closing the visit that began at `entryAt`.
    public static func exit(person: String, at: Date, entryAt: Date) -> AttendanceEvent {
        AttendanceEvent(kind: .exit, person: person, at: at, duration: at.timeIntervalSince(entryAt), entryAt: entryAt)
    }

    private enum CodingKeys: String, CodingKey {
        case kind
        case person
        case session
        case at
        case status
        case minutesLate = "minutes_late"
        case duration = "duration_seconds"
        case entryAt = "entry_at"
        case unclosedEntryAt = "unclosed_entry_at"
    }

    /// Reads the JSON form.
    ///
    /// - Throws: `DecodingError` for a missing field, a wrong type or a time that is not ISO 8601.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            kind: try container.decode(Kind.self, forKey: .kind),
            person: try container.decode(String.self, forKey: .person),
            session: try container.decodeIfPresent(String.self, forKey: .session),
            at: try Self.time(in: container, forKey: .at),
            status: try container.decodeIfPresent(CheckinStatus.self, forKey: .status),
            minutesLate: try container.decodeIfPresent(Int.self, forKey: .minutesLate),
            duration: try container.decodeIfPresent(Double.self, forKey: .duration),
            entryAt: try container.contains(.entryAt) ? Self.time(in: container, forKey: .entryAt) : nil,
            unclosedEntryAt: try container.contains(.unclosedEntryAt)
                ? Self.time(in: container, forKey: .unclosedEntryAt) : nil
        )
    }

    /// Writes the JSON form, leaving out absent fields.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(person, forKey: .person)
        try container.encodeIfPresent(session, forKey: .session)
        try container.encode(ISO8601Time.format(at), forKey: .at)
        try container.encodeIfPresent(status, forKey: .status)
        try container.encodeIfPresent(minutesLate, forKey: .minutesLate)
        try container.encodeIfPresent(duration, forKey: .duration)
        try container.encodeIfPresent(entryAt.map(ISO8601Time.format), forKey: .entryAt)
        try container.encodeIfPresent(unclosedEntryAt.map(ISO8601Time.format), forKey: .unclosedEntryAt)
    }

    private static func time(in container: KeyedDecodingContainer<CodingKeys>, forKey key: CodingKeys) throws -> Date {
        let text = try container.decode(String.self, forKey: key)
        guard let date = ISO8601Time.parse(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key,
                in: container,
                debugDescription: "\"\(text)\" is not an ISO 8601 time such as 2026-11-23T08:00:00Z"
            )
        }
        return date
    }
}
