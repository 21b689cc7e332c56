public import Foundation
public import GRDB

/// Something the door refused that the hub's door alerts show staff: a face refused as a presentation
/// attack (a photo or a phone screen held up to the camera). Kept until the hub has it, then pruned like
/// the events. Never an image, a face chip or an encoding: only the reason, the detectors' scores and whom
/// the face matched (untrusted: the attack claims to be that person).
public struct DoorAuditRecord: Sendable, Equatable, Codable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "doorAudit"

    /// The kind of a refused face.
    public static let presentationAttack = "presentation_attack"

    /// Insertion order: the order records are sent in.
    public var seq: Int64?
    /// A UUID made when the door records it: the hub stores a record once however often it comes.
    public var id: String
    /// `presentation_attack`.
    public var kind: String
    /// Milliseconds since 1970, UTC.
    public var at: Int64
    /// Which cue refused it (`planar_motion`, `screen_or_print`, ...).
    public var reason: String
    /// The person the face matched (untrusted).
    public var claimedPerson: String?
    /// The detectors' scores by name, a JSON object (finite values only).
    public var scores: String
    public var state: DeliveryState
    /// Why the hub refused it, when it did (kept, surfaced, not sent again).
    public var rejectReason: String?
    /// Delivery attempts so far.
    public var attempts: Int
    public var syncedAt: Int64?

    /// A record made now: a new id, pending. Scores that are not finite numbers are left out (JSON has none).
    public init(
        id: String = EventID.make(), kind: String, at: Date, reason: String, claimedPerson: String?,
        scores: [String: Double]
    ) {
        self.id = id
        self.kind = kind
        self.at = at.milliseconds
        self.reason = reason
        self.claimedPerson = claimedPerson
        self.scores = Self.encode(scores)
        state = .pending
        attempts = 0
    }

    /// The scores as numbers (an unreadable column reads as none).
    public var scoreValues: [String: Double] {
        (try? JSONDecoder().decode([String: Double].self, from: Data(scores.utf8))) ?? [:]
    }

    /// The time it happened.
    public var date: Date { Date(milliseconds: at) }

    static func encode(_ scores: [String: Double]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let finite = scores.filter { $0.value.isFinite }
        // Finite doubles under string keys always encode; "{}" is only a fallback that cannot be reached.
        return (try? encoder.encode(finite)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        seq = inserted.rowID
    }
}
