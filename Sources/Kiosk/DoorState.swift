import Attendance
import Foundation
import Logging
import Outbox
import Pipeline
import Recognition
import Synchronization

/// The configuration in force, and the file it came from: replaced whole by a reload.
final class Settings: Sendable {
    let path: String
    private let value: Mutex<KioskConfiguration>

    init(path: String, configuration: KioskConfiguration) {
        self.path = path
        value = Mutex(configuration)
    }

    var current: KioskConfiguration { value.withLock { $0 } }

    /// Puts `new` in force; returns the configuration it replaces.
    func replace(with new: KioskConfiguration) -> KioskConfiguration {
        value.withLock { current in
            defer { current = new }
            return current
        }
    }
}

/// What the door decides with (the gallery, the schedule, the keys, the book), and the update waiting
/// for the running pipeline to take between two frames.
final class InputsState: Sendable {
    private struct State {
        var inputs: DoorInputs
        var pending: PipelineUpdate?
    }

    private let state: Mutex<State>
    private let outbox: Outbox
    private let logger: Logger

    init(inputs: DoorInputs, outbox: Outbox, logger: Logger) {
        state = Mutex(State(inputs: inputs))
        self.outbox = outbox
        self.logger = logger
    }

    var current: DoorInputs { state.withLock { $0.inputs } }

    /// The update the pipeline has not taken yet, taken (nil: none).
    func takeUpdate() -> PipelineUpdate? {
        state.withLock { state in
            defer { state.pending = nil }
            return state.pending
        }
    }

    /// Forgets an update the pipeline will not take (its capture is starting over with the current inputs).
    func dropUpdate() { state.withLock { $0.pending = nil } }

    /// Re-reads the stored gallery, schedule and badge keys and the committed events (after a sync brought
    /// new ones, a reload, or a failed commit) and hands them to the running pipeline.
    func reload(_ configuration: KioskConfiguration) async {
        let inputs = await DoorInputs.load(
            from: outbox, allowUnsigned: configuration.allowUnsignedBadges, logger: logger)
        let update = inputs.update(match: configuration.operatingPoint)
        state.withLock { state in
            state.inputs = inputs
            state.pending = update
        }
        let calibration = update.calibration
        logger.info(
            "gallery and schedule loaded",
            metadata: [
                "gallery_people": "\(inputs.gallery.people.count)", "gallery_version": "\(inputs.galleryVersion)",
                "sessions": "\(inputs.schedule.sessions.count)",
                "accept_distance": "\(calibration.map { String(format: "%.3f", $0.policy.acceptDistance) } ?? "none")",
                "false_match_target": "\(configuration.falseMatchTarget)",
                "cohort":
                    "\(calibration.map { $0.measured ? "gallery, \($0.cohort.people) people" : "prior" } ?? "none")",
            ])
    }
}

/// What the door is doing, as the monitor and the status read it: the frame source, the frames the
/// pipeline took, the decisions it made.
final class DoorActivity: Sendable {
    struct Snapshot {
        var source: DoorSource?
        var processedFrames = 0
        var decisions = 0
        var lastDecisionAt: Date?
    }

    private let state = Mutex(Snapshot())

    var snapshot: Snapshot { state.withLock { $0 } }

    func started(_ source: DoorSource?) { state.withLock { $0.source = source } }
    func tookFrame() { state.withLock { $0.processedFrames += 1 } }
    func decided(at: Date) {
        state.withLock { state in
            state.decisions += 1
            state.lastDecisionAt = at
        }
    }
}

/// The status the monitor last computed, and the port the signage page listens on.
final class StatusBoard: Sendable {
    private let status = Mutex<KioskStatus?>(nil)
    private let port = Atomic<Int>(0)

    var current: KioskStatus? { status.withLock { $0 } }
    func post(_ new: KioskStatus) { status.withLock { $0 = new } }

    /// The signage page's port once it listens (0 before).
    var signagePort: Int { port.load(ordering: .relaxed) }
    func listening(on bound: Int) { port.store(bound, ordering: .relaxed) }
}

/// What the other services ask of the door, in order: `reloadInputs` re-reads what sync stored (the
/// pipeline takes it between two frames), `restartCapture` lets the frames already taken be decided and
/// committed, then opens the frame source again under the configuration in force.
enum DoorCommand: Sendable {
    case reloadInputs
    case restartCapture
}
