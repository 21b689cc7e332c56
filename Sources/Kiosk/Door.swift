public import Attendance
public import Badges
public import Capture
public import Foundation
public import Outbox
public import Pipeline
public import Recognition
public import Vision

/// The door: frames in, decisions out, each committed to the outbox before anyone sees it. `rollcall run`
/// and `rollcall replay` both run one, so what a replay prints is by construction what the daemon commits
/// and shows; only the sink differs (the screen and the journal, or standard output).
public struct Door {
    let pipeline: DoorPipeline
    /// Where decisions are committed (nil: a replay that commits nothing).
    let outbox: Outbox?

    /// A door over the vision workers, deciding with a gallery, a room's attendance book and the badge keys.
    public init(
        workers: PipelineWorkers, match: OperatingPoint, upsample: Int = 0, gallery: Gallery, book: AttendanceBook,
        verifier: BadgeVerifier, calibration: CalibratedMatch? = nil, presentationCheck: Bool = true,
        outbox: Outbox?
    ) {
        var settings = PipelineConfiguration()
        settings.match = match
        settings.upsample = upsample
        settings.presentation.enabled = presentationCheck
        // One frame ahead per worker and one more: the workers never wait for the decisions.
        settings.lookahead = workers.count + 1
        pipeline = DoorPipeline(
            configuration: settings, workers: workers, gallery: gallery, book: book, verifier: verifier,
            calibration: calibration)
        self.outbox = outbox
    }

    /// The operating point in force, calibrated to the gallery.
    public var calibration: CalibratedMatch { pipeline.calibration }

    /// The daemon's door: the configuration's thresholds, over what sync last brought.
    public init(workers: PipelineWorkers, configuration: KioskConfiguration, inputs: DoorInputs, outbox: Outbox) {
        let update = inputs.update(match: configuration.operatingPoint)
        self.init(
            workers: workers, match: configuration.operatingPoint, upsample: configuration.upsample,
            gallery: update.gallery ?? Gallery(), book: inputs.book, verifier: inputs.verifier,
            calibration: update.calibration, presentationCheck: configuration.presentationCheck, outbox: outbox)
    }

    /// Runs `frames` through the door (see `DoorPipeline.run` for `clock`, `updates` and `stopping`); every
    /// decision goes to `deliver`, in frame order.
    public func run(
        frames: FrameStream, clock: (Int) -> (t: Double, at: Date), updates: () -> PipelineUpdate? = { nil },
        stopping: @escaping @Sendable () -> Bool = { false }, sink: some DoorSink
    ) async throws -> PipelineSummary {
        try await pipeline.run(frames: frames, clock: clock, updates: updates, stopping: stopping) { decision in
            try await deliver(decision, to: sink)
        }
    }

    /// Commits a decision, then hands it to the sink to show: a decision is shown only once it would
    /// survive a power cut. One that cannot be committed goes to the sink's `commitFailed` instead.
    public func deliver(_ decision: DoorDecision, to sink: some DoorSink) async throws {
        let began = ContinuousClock.now
        var id: String?
        if let outbox {
            do {
                id = try await Self.commit(decision, to: outbox)
            } catch {
                try await sink.commitFailed(decision, error: error)
                return
            }
        }
        try await sink.show(
            CommittedDecision(
                decision: decision, eventID: id, committedAt: Date(), commitTime: ContinuousClock.now - began))
    }

    /// Commits what a decision means: its attendance event with the evidence, the audit record of a
    /// refused badge, or that of a face refused as a presentation attack (for the hub's door alerts). Other decisions (a refusal of a known person, an unknown face) commit nothing.
    /// Returns the event's id, if one was made.
    @discardableResult
    public static func commit(_ decision: DoorDecision, to outbox: Outbox) async throws(OutboxError) -> String? {
        switch decision {
        case .checkin(let event, let by, _):
            let face = decision.face
            return try await outbox.enqueue(
                event,
                evidence: EventEvidence(
                    method: by.method, distance: face?.distance,
                    margin: face?.margin.flatMap { $0.isFinite ? $0 : nil },
                    model: face == nil ? nil : FaceEncoding.modelID),
                now: decision.at
            ).id
        case .entry(let event, _), .exit(let event, _):
            return try await outbox.enqueue(event, evidence: EventEvidence(method: .qr), now: decision.at).id
        case .rejectedBadge(let badge, _):
            try await outbox.recordRejectedScan(
                RejectedScan(
                    at: decision.at, reason: badge.reason, claimedSubject: badge.claimedSubject, payload: badge.payload)
            )
            return nil
        case .refusedFace(let refusal, _):
            // The audit record the hub's door alerts show: no image, no encoding.
            try await outbox.recordAudit(
                DoorAuditRecord(
                    kind: DoorAuditRecord.presentationAttack, at: decision.at, reason: refusal.reason,
                    claimedPerson: refusal.claimedPerson, scores: refusal.scores))
            return nil
        case .noCheckin, .unknownFace:
            return nil
        }
    }
}

/// A decision once it is committed: what the screen shows and the journal logs.
public struct CommittedDecision: Sendable {
    public var decision: DoorDecision
    /// The outbox event's id (nil: nothing to commit, or a replay without an outbox).
    public var eventID: String?
    public var committedAt: Date
    /// How long the commit took.
    public var commitTime: Duration
}

/// Where the door's decisions go once committed: the daemon's screen and journal, or replay's output.
public protocol DoorSink {
    /// Shows a committed decision (and one with nothing to commit).
    func show(_ committed: CommittedDecision) async throws
    /// A decision that could not be committed: it is not shown. Throwing stops the door.
    func commitFailed(_ decision: DoorDecision, error: OutboxError) async throws
}
