public import Attendance
public import Foundation
public import GRDB

/// Where a queued event stands.
public enum DeliveryState: String, Sendable, Codable, CaseIterable {
    /// Committed on the device, not yet acknowledged by the server.
    case pending
    /// The server accepted it (or already had it).
    case synced
    /// The server refused it with a reason; kept, surfaced, not retried.
    case rejected
}

/// How the person was identified, and how sure the device was: what the server's check-in record
/// carries besides the attendance facts.
public struct EventEvidence: Sendable, Equatable {
    public var method: IdentificationMethod
    public var distance: Float?
    public var margin: Float?
    /// 0...1, higher is surer.
    public var confidence: Double?
    /// The face model (`dlib_resnet_v1`) for face events.
    public var model: String?

    /// Evidence for an event.
    public init(
        method: IdentificationMethod, distance: Float? = nil, margin: Float? = nil, confidence: Double? = nil,
        model: String? = nil
    ) {
        self.method = method
        self.distance = distance
        self.margin = margin
        self.confidence = confidence
        self.model = model
    }
}

/// One event in the outbox: a check-in, an entry or an exit, as committed on the device.
public struct QueuedEvent: Sendable, Equatable, Codable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "event"

    /// Insertion order (SQLite's rowid): the order events are sent in.
    public var seq: Int64?
    /// UUIDv7, the idempotency key.
    public var id: String
    public var kind: String
    public var person: String
    public var session: String?
    /// Milliseconds since 1970, UTC.
    public var at: Int64
    public var status: String?
    public var minutesLate: Int?
    public var durationMs: Int64?
    public var entryAt: Int64?
    public var unclosedEntryAt: Int64?
    public var method: String
    /// `signage:<device id>`.
    public var source: String
    public var confidence: Double?
    public var distance: Double?
    public var margin: Double?
    public var model: String?
    public var state: DeliveryState
    public var rejectReason: String?
    /// Delivery attempts so far.
    public var attempts: Int
    public var enqueuedAt: Int64
    public var syncedAt: Int64?

    /// The attendance event this record holds.
    public var attendanceEvent: AttendanceEvent {
        AttendanceEvent(
            kind: AttendanceEvent.Kind(rawValue: kind) ?? .checkin, person: person, session: session,
            at: Date(milliseconds: at), status: status.flatMap(CheckinStatus.init(rawValue:)),
            minutesLate: minutesLate, duration: durationMs.map { Double($0) / 1000 },
            entryAt: entryAt.map(Date.init(milliseconds:)),
            unclosedEntryAt: unclosedEntryAt.map(Date.init(milliseconds:)))
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        seq = inserted.rowID
    }
}

/// A badge the door refused, kept for audit (forged, expired, revoked...).
public struct RejectedScan: Sendable, Equatable, Codable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "rejectedScan"

    public var seq: Int64?
    /// Milliseconds since 1970, UTC.
    public var at: Int64
    /// The refusal's code (`bad_signature`, `expired`, ...).
    public var reason: String
    /// The claimed subject, when the payload could be read (not trusted).
    public var claimedSubject: String?
    /// The first characters of the payload, for an auditor to recognise it.
    public var payloadPrefix: String
    public var state: DeliveryState

    /// A refused scan.
    public init(at: Date, reason: String, claimedSubject: String?, payload: String) {
        self.at = at.milliseconds
        self.reason = reason
        self.claimedSubject = claimedSubject
        payloadPrefix = String(payload.prefix(48))
        state = .pending
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        seq = inserted.rowID
    }
}

extension Date {
    /// Whole milliseconds since 1970, rounded down.
    public var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    /// The time `milliseconds` after 1970.
    public init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
