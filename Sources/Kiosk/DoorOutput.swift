import Attendance
import Foundation
import Logging
import Outbox
import Pipeline
import Prometheus
import Recognition
import Signage
import Sync
import SyncProtocol
import Synchronization

/// The daemon's sink: a committed decision goes to the signage page and the journal, is counted, and a
/// sure face check-in is offered to the hub for a template refresh when the hub asked for them.
final class DoorOutput: DoorSink, Sendable {
    let broadcaster: SignageBroadcaster
    let metrics: KioskMetrics
    let inputs: InputsState
    let settings: Settings
    let activity: DoorActivity
    let sync: SyncClient?
    let logger: Logger
    private let offeringSighting = Mutex(false)

    init(
        broadcaster: SignageBroadcaster, metrics: KioskMetrics, inputs: InputsState, settings: Settings,
        activity: DoorActivity, sync: SyncClient?, logger: Logger
    ) {
        self.broadcaster = broadcaster
        self.metrics = metrics
        self.inputs = inputs
        self.settings = settings
        self.activity = activity
        self.sync = sync
        self.logger = logger
    }

    func show(_ committed: CommittedDecision) async {
        let decision = committed.decision
        count(decision)
        guard decision.kind != .unknownFace else {
            logger.info("an unknown face at the door")
            return
        }
        metrics.commitSeconds.record(committed.commitTime)
        let inputs = inputs.current
        let name = decision.person.flatMap { inputs.names[$0] }
        let group = decision.session.flatMap { inputs.schedule.session(id: $0)?.group }
        broadcaster.publishDecision(
            SignageDecision(
                decision, id: committed.eventID, name: name, group: group, committedAt: committed.committedAt
            )
            .json)
        let fields = Self.fields(decision)
        switch decision {
        case .rejectedBadge: logger.warning("refused a badge", metadata: fields)
        case .refusedFace(let refusal, _):
            metrics.countPresentationAttack(reason: refusal.reason)
            logger.warning("refused a face as a presentation attack", metadata: fields)
        default: logger.info("\(decision.kind.rawValue)", metadata: fields)
        }
        if let name { logger.debug("\(decision.kind.rawValue): \(name)", metadata: fields) }
        offerSighting(decision, inputs: inputs)
    }

    /// A decision that cannot be committed is logged and not shown; the door goes on. The pipeline's
    /// attendance book already counts the check-in or visit: rebuilt from what the outbox holds, it forgets
    /// it, so the person is checked in when seen again once commits succeed (instead of "already checked
    /// in" until a restart).
    func commitFailed(_ decision: DoorDecision, error: OutboxError) async {
        count(decision)
        metrics.commitFailures.increment()
        logger.error("a decision could not be committed and is not shown: \(error)", metadata: Self.fields(decision))
        await inputs.reload(settings.current)
    }

    private func count(_ decision: DoorDecision) {
        metrics.countDecision(decision.kind.rawValue)
        activity.decided(at: decision.at)
    }

    /// The journal's fields for a decision.
    static func fields(_ decision: DoorDecision) -> Logger.Metadata {
        var fields: Logger.Metadata = ["kind": "\(decision.kind.rawValue)"]
        if let person = decision.person { fields["person"] = "\(person)" }
        if let session = decision.session { fields["session"] = "\(session)" }
        if let status = decision.status { fields["status"] = "\(status.rawValue)" }
        if let reason = decision.reason { fields["reason"] = "\(reason)" }
        if let minutes = decision.minutesLate, decision.status == .late { fields["minutes_late"] = "\(minutes)" }
        if let duration = decision.duration { fields["duration_s"] = "\(Int(duration.rounded()))" }
        if case .refusedFace(let refusal, _) = decision {
            // Whom the face matched (untrusted: the attack claims to be them), for the journal only.
            fields["claimed_person"] = "\(refusal.claimedPerson)"
            fields["scores"] = "\(formatted(refusal.scores))"
        }
        return fields
    }

    /// Scores as the journal shows them: `appearance=0.800 planarity=0.012`, by name.
    static func formatted(_ scores: [String: Double]) -> String {
        scores.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.3f", $0.value))" }
            .joined(separator: " ")
    }

    /// Offers a sure face check-in's encoding to the hub for a template refresh, when the hub asked for
    /// them: once at a time, not queued (a lost sighting is simply not added), never stored at the door.
    private func offerSighting(_ decision: DoorDecision, inputs: DoorInputs) {
        guard let sync, case .checkin(let event, .face(let face), _) = decision, let encoding = face.sighting,
            let distance = face.distance, let margin = face.margin
        else { return }
        let person = event.person
        let wanted = offeringSighting.withLock { offering -> Bool in
            guard !offering, inputs.offersSighting(of: person, at: decision.at) else { return false }
            offering = true
            return true
        }
        guard wanted else { return }
        // With one person in the gallery the margin is infinite; JSON has no infinity (the hub recomputes it).
        let sighting = TemplateSighting(
            person: person, encoding: encoding, distance: distance, margin: margin.isFinite ? margin : 4)
        let logger = logger
        Task {
            defer { offeringSighting.withLock { $0 = false } }
            do {
                let result = try await sync.offerSighting(sighting)
                logger.info(
                    "template refresh: the hub \(result.added ? "added" : "did not add") a template",
                    metadata: ["person": "\(person)", "reason": "\(result.reason ?? "-")"])
            } catch {
                logger.info("template refresh: sighting not delivered: \(error)", metadata: ["person": "\(person)"])
            }
        }
    }
}
