public import Foundation
public import SyncProtocol

/// Something a door refused, as the hub keeps it for its door alerts page: a face refused as a presentation
/// attack. Which door sent it (and so its room) comes from the door's token, never from the body.
public struct DoorAlert: Sendable, Equatable {
    /// The door's own id for it (a UUID; unique per door).
    public var id: String
    public var device: String
    /// The door's room when the alert arrived.
    public var room: String
    /// `presentation_attack`.
    public var kind: String
    /// When the door refused it, as the door said.
    public var at: Date
    public var reason: String
    /// The person the face matched, when the hub knows them; nil otherwise (whatever the door said).
    public var claimedPerson: String?
    public var scores: [String: Double]
    /// When the hub stored it.
    public var receivedAt: Date

    /// An alert.
    public init(
        id: String, device: String, room: String, kind: String, at: Date, reason: String, claimedPerson: String?,
        scores: [String: Double], receivedAt: Date
    ) {
        self.id = id
        self.device = device
        self.room = room
        self.kind = kind
        self.at = at
        self.reason = reason
        self.claimedPerson = claimedPerson
        self.scores = scores
        self.receivedAt = receivedAt
    }
}

/// The doors' audit records: taken from the doors, listed for staff, deleted by the retention rule.
public protocol DoorAlertStorage: Sendable {
    /// Stores a door's batch idempotently (an id once per door). The batch is checked first
    /// (`DoorAlertRules`): anything wrong refuses it whole (`badRequest`) and stores nothing. A claimed
    /// person the hub does not know is stored as nil; the alert is kept.
    func recordDoorAlerts(_ batch: DoorAuditBatch, from device: DeviceRecord, receivedAt: Date) async throws(HubError)
        -> DoorAuditBatchResult
    /// The alerts that happened in [from, to), newest first, at most `limit`.
    func doorAlerts(from: Date, to: Date, limit: Int) async throws(HubError) -> [DoorAlert]
}

/// The hub's checks of a door's audit batch: it trusts no door.
public enum DoorAlertRules {
    /// Throws `badRequest` with what is wrong, or returns.
    public static func check(_ batch: DoorAuditBatch, now: Date) throws(HubError) {
        if let problem = batch.problem(now: now) { throw HubError(.badRequest, problem + "; nothing was stored") }
    }

    /// The claimed person to look up: nil when it cannot be a person id (empty, or longer than an id is).
    static func candidate(_ claimed: String?) -> String? {
        guard let claimed, (1...128).contains(claimed.count) else { return nil }
        return claimed
    }

    /// The scores as the stores keep them: a JSON object, keys sorted.
    static func scoresJSON(_ scores: [String: Double]) throws(HubError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        do {
            return String(decoding: try encoder.encode(scores), as: UTF8.self)
        } catch {
            throw HubError(.badRequest, "the scores cannot be kept: \(error)")
        }
    }

    /// The scores a store kept (an unreadable column reads as none).
    static func scores(_ text: String) -> [String: Double] {
        (try? JSONDecoder().decode([String: Double].self, from: Data(text.utf8))) ?? [:]
    }
}
