import Attendance
public import Foundation

/// Something a door refused that the hub's door alerts show staff, as the door sends it: a face refused as
/// a presentation attack (a photo or a phone screen held up to the camera). No image and no encoding ever
/// travel: only the reason, the detectors' scores and whom the face matched (untrusted).
public struct DoorAuditEvent: Sendable, Equatable, Codable {
    /// The kinds the hub takes.
    public static let kinds: Set<String> = ["presentation_attack"]
    /// The reasons doors send today (`planar_motion`: the face moved as a flat picture does;
    /// `screen_or_print`: a bezel, a paper edge, moiré or glare). Others are taken when they are names
    /// (`isName`), so that a newer door is not refused by an older hub.
    public static let knownReasons: Set<String> = ["planar_motion", "screen_or_print"]
    /// The most scores in one event.
    public static let maximumScores = 8

    /// A UUID the door made when it recorded the refusal: the idempotency key (per door).
    public var id: String
    /// `presentation_attack`.
    public var kind: String
    /// When the door refused it.
    public var at: Date
    /// Which cue refused it: a name (lower-case snake_case, at most 64 characters).
    public var reason: String
    /// The person the face matched: whom the attack claims to be (untrusted; the hub keeps it only when
    /// it knows the person).
    public var claimedPerson: String?
    /// The detectors' scores by name (at most 8; names as `reason`; finite numbers).
    public var scores: [String: Double]

    /// An event to send.
    public init(
        id: String, kind: String, at: Date, reason: String, claimedPerson: String?, scores: [String: Double]
    ) {
        self.id = id
        self.kind = kind
        self.at = at
        self.reason = reason
        self.claimedPerson = claimedPerson
        self.scores = scores
    }

    private enum CodingKeys: String, CodingKey {
        case id, kind, at, reason, scores
        case claimedPerson = "claimed_person"
    }

    /// `at` is an ISO 8601 time with its offset, as the events carry it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        kind = try container.decode(String.self, forKey: .kind)
        let text = try container.decode(String.self, forKey: .at)
        guard let at = ISO8601Time.parse(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: .at, in: container,
                debugDescription: "\"\(text.prefix(40))\" is not an ISO 8601 time such as 2026-11-23T08:00:00Z")
        }
        self.at = at
        reason = try container.decode(String.self, forKey: .reason)
        claimedPerson = try container.decodeIfPresent(String.self, forKey: .claimedPerson)
        scores = try container.decodeIfPresent([String: Double].self, forKey: .scores) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(ISO8601Time.format(at), forKey: .at)
        try container.encode(reason, forKey: .reason)
        try container.encode(claimedPerson, forKey: .claimedPerson)
        try container.encode(scores, forKey: .scores)
    }

    /// Whether `text` is a name the hub takes for a reason or a score: 1 to 64 of `a-z`, `0-9` and `_`,
    /// starting with a letter.
    public static func isName(_ text: String) -> Bool {
        guard (1...64).contains(text.utf8.count), let first = text.utf8.first, (97...122).contains(first) else {
            return false
        }
        return text.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }
    }

    /// What is wrong with it, as a hub at `now` sees it, or nil.
    public func problem(now: Date) -> String? {
        let label = "audit event \(id.prefix(40))"
        guard id.count == 36, UUID(uuidString: id) != nil else { return "\(label): id is not a UUID" }
        guard Self.kinds.contains(kind) else {
            return "\(label): kind is one of \(Self.kinds.sorted().joined(separator: ", "))"
        }
        guard Self.isName(reason) else {
            return "\(label): reason is 1 to 64 of a-z, 0-9 and _, starting with a letter"
        }
        guard scores.count <= Self.maximumScores else { return "\(label): at most \(Self.maximumScores) scores" }
        guard scores.allSatisfy({ Self.isName($0.key) && $0.value.isFinite }) else {
            return "\(label): a score is a name (as a reason) and a finite number"
        }
        guard at <= now + 86_400 else { return "\(label): at is more than a day ahead of the hub's clock" }
        guard at.timeIntervalSince1970 >= 0 else { return "\(label): at is before 1970" }
        return nil
    }
}

/// A batch of audit events (at most `DeviceAPI.maximumAuditBatch`), oldest first.
public struct DoorAuditBatch: Sendable, Equatable, Codable {
    public var events: [DoorAuditEvent]

    /// A batch.
    public init(events: [DoorAuditEvent]) { self.events = events }

    /// What is wrong with the batch (its size, or the first event that is wrong), or nil.
    public func problem(now: Date) -> String? {
        guard (1...DeviceAPI.maximumAuditBatch).contains(events.count) else {
            return "a batch holds 1 to \(DeviceAPI.maximumAuditBatch) audit events"
        }
        for event in events {
            if let problem = event.problem(now: now) { return problem }
        }
        return nil
    }
}

/// The hub's answer to an audit batch: every id in one of the lists (a batch with anything wrong in it is
/// refused whole, with `400`, and nothing of it is stored).
public struct DoorAuditBatchResult: Sendable, Equatable, Codable {
    /// Stored now.
    public var accepted: [String]
    /// Already stored before (a resend after a lost answer): as good as accepted.
    public var duplicate: [String]

    /// A result.
    public init(accepted: [String] = [], duplicate: [String] = []) {
        self.accepted = accepted
        self.duplicate = duplicate
    }
}
