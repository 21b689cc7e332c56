public import Attendance
public import Badges
public import Capture
public import Foundation
import Imaging
public import Recognition
public import Vision

/// How the door turns frames into decisions.
public struct PipelineConfiguration: Sendable {
    /// Pyramid-up steps for detection (0: faces from about 80 px).
    public var upsample = 0
    /// Frames wider than this are downscaled for detection.
    public var detectionWidth = 640
    /// Look for QR badges on every frame.
    public var scanQR = true
    /// Quality gates a face passes before it is encoded.
    public var quality = QualityGate.door
    /// When a face counts as a person: the false-match target, calibrated to the gallery.
    public var match = OperatingPoint.door
    /// Tracking and consensus.
    public var tracker = FaceTracker.Configuration()
    /// Presentation-attack detection between the consensus and the attendance rules.
    public var presentation = PresentationAttackConfiguration.door
    /// Frames analysed ahead, in parallel, while the decisions of earlier frames are made.
    public var lookahead = 3

    /// The door's defaults.
    public init() {}
}

/// What a run of the pipeline measured.
public struct PipelineSummary: Sendable {
    public var frames = 0
    /// Frames per second over the whole run (wall clock).
    public var fps = 0.0
    public var seconds = 0.0
    /// Median milliseconds per stage, over the frames where the stage ran (encode: per batch).
    public var stageMilliseconds: [Stage: Double] = [:]
    public var facesSeen = 0
    public var encodings = 0
    /// Faces the gates kept from being encoded, by reason.
    public var qualityRejections: [QualityRejection: Int] = [:]
    /// Frames that could not be analysed (a corrupt frame), with the first error.
    public var frameErrors = 0
    /// Frames taken but dropped unanalysed because the door was stopping (`run`'s `stopping`).
    public var framesDroppedAtStop = 0
    public var firstFrameError: String?
    public var decisions: [DoorDecision.Kind: Int] = [:]
    /// Time to check-in: for each face check-in, the frames from its track's first frame to it.
    public var framesToCheckin: [Int] = []

    /// The median of `framesToCheckin` (nil without a face check-in).
    public var medianFramesToCheckin: Double? {
        guard !framesToCheckin.isEmpty else { return nil }
        let sorted = framesToCheckin.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? Double(sorted[middle]) : Double(sorted[middle - 1] + sorted[middle]) / 2
    }

    /// One line of JSON: `{"kind": "summary", "frames": N, "fps": F, "stage_ms": {...}, ...}` (keys sorted).
    public var jsonLine: String { JSONLine.encode(self) }
}

extension PipelineSummary: Encodable {
    private enum CodingKeys: String, CodingKey {
        case kind, frames, fps, seconds, faces, encodings, decisions
        case stageMilliseconds = "stage_ms"
        case qualityRejections = "quality_rejections"
        case frameErrors = "frame_errors"
        case framesToCheckin = "checkin_frames"
        case medianFramesToCheckin = "checkin_frames_median"
    }

    /// fps to 0.1, seconds and stage medians to the microsecond; counts by their names.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("summary", forKey: .kind)
        try container.encode(frames, forKey: .frames)
        try container.encode(rounded(fps, 1), forKey: .fps)
        try container.encode(rounded(seconds, 3), forKey: .seconds)
        try container.encode(
            Dictionary(uniqueKeysWithValues: stageMilliseconds.map { ($0.key.rawValue, rounded($0.value, 3)) }),
            forKey: .stageMilliseconds)
        try container.encode(facesSeen, forKey: .faces)
        try container.encode(encodings, forKey: .encodings)
        try container.encode(
            Dictionary(uniqueKeysWithValues: qualityRejections.map { ($0.key.rawValue, $0.value) }),
            forKey: .qualityRejections)
        try container.encode(
            Dictionary(uniqueKeysWithValues: decisions.map { ($0.key.rawValue, $0.value) }), forKey: .decisions)
        try container.encode(frameErrors, forKey: .frameErrors)
        try container.encode(framesToCheckin, forKey: .framesToCheckin)
        try container.encodeIfPresent(medianFramesToCheckin, forKey: .medianFramesToCheckin)
    }
}

/// New inputs for a running pipeline (a reloaded configuration, a gallery or schedule from the hub),
/// taken between two frames. Nil fields stay as they are.
public struct PipelineUpdate: Sendable {
    public var gallery: Gallery?
    /// The attendance book, rebuilt from the committed events under the new schedule.
    public var book: AttendanceBook?
    public var verifier: BadgeVerifier?
    public var match: OperatingPoint?
    /// `match` calibrated to `gallery`, when the sender has done it (nil: the pipeline does).
    public var calibration: CalibratedMatch?

    /// An update.
    public init(
        gallery: Gallery? = nil, book: AttendanceBook? = nil, verifier: BadgeVerifier? = nil,
        match: OperatingPoint? = nil, calibration: CalibratedMatch? = nil
    ) {
        self.gallery = gallery
        self.book = book
        self.verifier = verifier
        self.match = match
        self.calibration = calibration
    }
}

/// Frames in, decisions out: QR badges are verified and debounced; faces are detected, tracked,
/// gated, encoded only while their track needs it, matched (the running session's roster first) and
/// agreed on over several frames; then the attendance rules decide.
///
/// Frames are analysed on the worker threads `lookahead` at a time, in parallel; decisions are made
/// in frame order on the caller's task (`DoorDecider`), which only waits for the workers (encodings run
/// there too).
public final class DoorPipeline {
    public var configuration: PipelineConfiguration { decider.configuration }
    private let workers: PipelineWorkers
    private let decider: DoorDecider

    /// The operating point calibrated to the gallery in force.
    public var calibration: CalibratedMatch { decider.calibration }

    /// A pipeline over a gallery, a room's schedule and the badge keys; `calibration` is the operating point
    /// already calibrated to this gallery (nil: the pipeline calibrates it).
    public init(
        configuration: PipelineConfiguration = PipelineConfiguration(), workers: PipelineWorkers, gallery: Gallery,
        book: AttendanceBook, verifier: BadgeVerifier, calibration: CalibratedMatch? = nil
    ) {
        self.workers = workers
        decider = DoorDecider(
            configuration: configuration, gallery: gallery, book: book, verifier: verifier, calibration: calibration)
    }

    /// Runs every frame of `frames` through the door and hands each decision to `emit` as it is
    /// made. `clock` gives, for a frame's index, its seconds from the start and its wall-clock time.
    /// `updates` is asked before each frame's decisions for new inputs (nil: none).
    ///
    /// `stopping` (asked from any thread) says the door is being stopped: from then on no frame is
    /// taken from the stream, and a frame whose analysis has not begun is dropped (counted in
    /// `framesDroppedAtStop`); the analyses already running are decided and emitted as usual. So a
    /// stop waits for one frame's analysis at most, however slow the processor, and nothing that was
    /// decided is lost. When the stream ends without `stopping` (a restart), every frame is decided.
    public func run(
        frames: FrameStream, clock: (Int) -> (t: Double, at: Date), updates: () -> PipelineUpdate? = { nil },
        stopping: @escaping @Sendable () -> Bool = { false }, emit: (DoorDecision) async throws -> Void
    ) async throws -> PipelineSummary {
        let started = Monotonic.nanoseconds()
        var iterator = frames.makeAsyncIterator()
        var pending: [Task<FrameAnalysis?, any Error>] = []
        var nextIndex = 0
        let workers = self.workers
        let settings = configuration
        func fill() async {
            while pending.count < max(1, settings.lookahead), !stopping(), let frame = await iterator.next() {
                let index = nextIndex
                nextIndex += 1
                pending.append(
                    Task {
                        try await workers.run { worker in
                            if stopping() { return nil }
                            return FrameAnalyzer.analyze(
                                frame, index: index, worker: worker, upsample: settings.upsample,
                                detectionWidth: settings.detectionWidth, scanQR: settings.scanQR)
                        }
                    })
            }
        }
        await fill()
        while !pending.isEmpty {
            guard let analysis = try await pending.removeFirst().value else {
                decider.summary.framesDroppedAtStop += 1
                continue
            }
            // Queue the next frame before deciding on this one, so the workers never idle.
            await fill()
            if let update = updates() { decider.apply(update) }
            let (t, at) = clock(analysis.index)
            let image = analysis.image
            let detectors = settings.presentation
            let decisions = try await decider.decide(
                analysis, t: t, at: at,
                encode: { landmarks in
                    guard let image else { return nil }
                    return try await workers.run { worker in try worker.engine.encode(in: image, faces: landmarks) }
                },
                presentation: { tracks in
                    // Both detectors call OpenCV: on a worker thread, never on the cooperative pool.
                    try await workers.run { _ in
                        tracks.map { frames in
                            PresentationLooks(
                                appearance: image.map { detectors.appearance.assess(frames: frames, image: $0) },
                                geometry: detectors.geometry.assess(frames: frames, image: nil))
                        }
                    }
                })
            for decision in decisions {
                decider.summary.decisions[decision.kind, default: 0] += 1
                if case .checkin = decision, let first = decision.face?.trackFirstFrame {
                    decider.summary.framesToCheckin.append(decision.when.frame - first)
                }
                try await emit(decision)
            }
        }
        return decider.finish(seconds: Double(Monotonic.nanoseconds() - started) / 1e9)
    }

    /// Takes new inputs (between two frames; see `DoorDecider.apply`).
    public func apply(_ update: PipelineUpdate) { decider.apply(update) }
}

/// The decision step of the door, in frame order: badges verified and debounced, faces tracked, gated,
/// encoded (by the caller's `encode`) only while their track needs it, matched (the running session's
/// roster first) and agreed on over several frames, then the attendance rules. It holds the door's state
/// between frames (tracks, the book, the debouncer) and the measurements of the run; it runs no vision
/// itself, so that tests can drive it with made-up frame analyses.
final class DoorDecider {
    private(set) var configuration: PipelineConfiguration
    private var gallery: Gallery
    /// The operating point calibrated to `gallery`, made again when either changes.
    private(set) var calibration: CalibratedMatch
    /// The rule for the roster's templates, kept while their number stays the same.
    private var rosterRule: (templates: Int, policy: MatchPolicy)?
    private var verifier: BadgeVerifier
    private var book: AttendanceBook
    private var tracker: FaceTracker
    private var debouncer: ScanDebouncer
    /// Each followed track's recent frames and where the presentation-attack stage stands with it.
    private var presentation: [Int: PresentationTrack] = [:]
    private var times: [Stage: [Double]] = [:]
    var summary = PipelineSummary()

    init(
        configuration: PipelineConfiguration, gallery: Gallery, book: AttendanceBook, verifier: BadgeVerifier,
        calibration: CalibratedMatch? = nil
    ) {
        self.configuration = configuration
        self.gallery = gallery
        self.calibration = calibration ?? configuration.match.calibrated(to: gallery)
        self.verifier = verifier
        self.book = book
        tracker = FaceTracker(configuration: configuration.tracker)
        debouncer = ScanDebouncer(window: book.policy.qrRepeatWindow)
    }

    /// The run's summary, its stage times the medians over the frames.
    func finish(seconds: Double) -> PipelineSummary {
        summary.seconds = seconds
        summary.fps = summary.seconds > 0 ? Double(summary.frames) / summary.seconds : 0
        for (stage, values) in times where !values.isEmpty {
            summary.stageMilliseconds[stage] = values.sorted()[values.count / 2]
        }
        return summary
    }

    /// Takes new inputs. Tracks and their votes stay: a person recognised under the old gallery is
    /// checked again under the new one at the track's next re-check.
    func apply(_ update: PipelineUpdate) {
        if let gallery = update.gallery { self.gallery = gallery }
        if let verifier = update.verifier { self.verifier = verifier }
        if let match = update.match { configuration.match = match }
        if let calibration = update.calibration {
            self.calibration = calibration
            rosterRule = nil
        } else if update.gallery != nil || update.match != nil {
            calibration = configuration.match.calibrated(to: gallery)
            rosterRule = nil
        }
        if let book = update.book {
            if book.policy.qrRepeatWindow != self.book.policy.qrRepeatWindow {
                debouncer = ScanDebouncer(window: book.policy.qrRepeatWindow)
            }
            self.book = book
        }
    }

    /// The decisions of one frame, in frame order (badges first, then faces). `encode` computes the
    /// descriptors of the faces that need one (nil: the frame has no image to encode them in);
    /// `presentation` runs the presentation-attack stage's detectors on this frame for the tracks given by
    /// their recent frames (nil: the geometry runs here and the appearance not at all, as for frames without
    /// an image).
    func decide(
        _ analysis: FrameAnalysis, t: Double, at: Date,
        encode: ([FaceLandmarks]) async throws -> [FaceEncoding]?,
        presentation detectors: (([[TrackFrame]]) async throws -> [PresentationLooks])? = nil
    ) async throws -> [DoorDecision] {
        summary.frames += 1
        for (stage, value) in analysis.milliseconds { times[stage, default: []].append(value) }
        if let error = analysis.error {
            summary.frameErrors += 1
            if summary.firstFrameError == nil { summary.firstFrameError = error }
        }
        var decisions: [DoorDecision] = []
        var clock = StageClock()
        let when = DecisionTime(frame: analysis.index, t: t, at: at)
        for payload in analysis.payloads {
            if let decision = badge(payload, when: when) { decisions.append(decision) }
        }

        let faces = analysis.faces
        summary.facesSeen += faces.count
        let ids = tracker.update(
            frame: analysis.index, boxes: faces.map { TrackBox($0.landmarks.box) })
        if configuration.presentation.enabled {
            remember(faces, tracks: ids, frame: analysis.index, t: t, grey: analysis.grey)
        }
        var wanted: [(face: FaceObservation, track: Int)] = []
        for (face, track) in zip(faces, ids) where tracker.wantsEncoding(track: track, frame: analysis.index) {
            if let rejection = configuration.quality.check(face.sample) {
                summary.qualityRejections[rejection, default: 0] += 1
            } else {
                wanted.append((face, track))
            }
        }
        var rulesMilliseconds = clock.lap()
        guard !wanted.isEmpty, let encodings = try await encode(wanted.map(\.face.landmarks)) else {
            times[.rules, default: []].append(rulesMilliseconds)
            decisions += try await presentationStage(seen: ids, when: when, detectors: detectors)
            return decisions
        }
        times[.encode, default: []].append(clock.lap())
        summary.encodings += encodings.count
        let roster = book.rosterFirst(at: at)
        let rosterTemplates = calibration.templates(of: roster)
        if rosterRule?.templates != rosterTemplates {
            rosterRule = (rosterTemplates, calibration.policy(templates: rosterTemplates))
        }
        var matchMilliseconds = 0.0
        for ((observation, track), encoding) in zip(wanted, encodings) {
            let identification = calibration.identify(
                Matcher.match(encoding.values, in: gallery, rosterFirst: roster), roster: rosterRule?.policy)
            matchMilliseconds += clock.lap()
            // A sighting good enough to offer the hub as a new template (refresh), should it check in.
            var sighting: [Float]?
            if let match = identification.match,
                TemplateRefreshPolicy.standard.worthOffering(distance: match.distance, margin: match.margin),
                QualityGate.enrollment.check(observation.sample) == nil
            {
                sighting = encoding.values
            }
            if let outcome = tracker.record(identification, track: track, frame: analysis.index),
                let decision = face(outcome, identification, track: track, sighting: sighting, when: when)
            {
                decisions.append(decision)
            }
            rulesMilliseconds += clock.lap()
        }
        times[.match, default: []].append(matchMilliseconds)
        times[.rules, default: []].append(rulesMilliseconds)
        decisions += try await presentationStage(seen: ids, when: when, detectors: detectors)
        return decisions
    }

    /// Adds this frame's faces to their tracks' recent frames, and forgets the tracks no longer followed.
    private func remember(_ faces: [FaceObservation], tracks ids: [Int], frame: Int, t: Double, grey: GreyImage?) {
        let window = max(2, configuration.presentation.window)
        let greyFrames = max(2, configuration.presentation.greyFrames)
        for (face, id) in zip(faces, ids) {
            var state = presentation.removeValue(forKey: id) ?? PresentationTrack(firstSeen: t)
            // Only a consensus waiting for the stage needs the grey frames: the others keep landmarks.
            state.frames.append(
                TrackFrame(frame: frame, landmarks: face.landmarks, grey: state.verdict == nil ? grey : nil, t: t))
            if state.frames.count > window { state.frames.removeFirst(state.frames.count - window) }
            if state.frames.count > greyFrames { state.frames[state.frames.count - greyFrames - 1].grey = nil }
            presentation[id] = state
        }
        let followed = Set(tracker.tracks.map(\.id))
        presentation = presentation.filter { followed.contains($0.key) }
    }

    /// The presentation-attack stage for the tracks seen on this frame whose consensus waits for it: a
    /// verdict once the geometry has seen enough (or the appearance has refused on enough frames, or the
    /// track has waited too long), then the attendance rules for a live face or a refusal for a picture.
    private func presentationStage(
        seen ids: [Int], when: DecisionTime, detectors: (([[TrackFrame]]) async throws -> [PresentationLooks])?
    ) async throws -> [DoorDecision] {
        let settings = configuration.presentation
        let waiting = Set(ids).filter { presentation[$0]?.waiting != nil }.sorted()
        guard settings.enabled, !waiting.isEmpty else { return [] }
        var clock = StageClock()
        let tracks = waiting.map { presentation[$0]!.frames }
        let geometryDetector = settings.geometry
        let looks =
            try await detectors?(tracks)
            ?? tracks.map {
                PresentationLooks(appearance: nil, geometry: geometryDetector.assess(frames: $0, image: nil))
            }
        var decisions: [DoorDecision] = []
        for (index, id) in waiting.enumerated() {
            guard var state = presentation[id], let pending = state.waiting else { continue }
            if let look = looks[index].appearance {
                state.appearance = look
                state.looks += 1
                if look.verdict == .attack {
                    state.appearanceRefusals += 1
                    state.refusingLook = look
                }
            }
            let geometry = looks[index].geometry
            let look = state.refusingLook ?? state.appearance
            let scores = geometry.scores.merging(look?.scores ?? [:]) { first, _ in first }
            // Seconds since the track began, and over how long its kept frames were seen.
            let age = when.t - (state.firstSeen ?? when.t)
            let span = (state.frames.last?.t ?? 0) - (state.frames.first?.t ?? 0)
            let seenEnough = state.frames.count >= 3 && span >= settings.minimumSeconds
            let verdict: PresentationAssessment?
            if settings.appearanceDecides, state.appearanceRefusals >= max(1, settings.appearanceFrames),
                let refusing = state.refusingLook
            {
                verdict = PresentationAssessment(verdict: .attack, reason: refusing.reason, scores: scores)
            } else if settings.appearanceDecides, state.looks < max(1, settings.appearanceFrames) {
                // The appearance has not looked at enough frames to let a face through.
                verdict = nil
            } else if !settings.geometryDecides {
                // The appearance alone: a face it has not refused by the time the geometry would decide.
                verdict =
                    seenEnough
                    ? PresentationAssessment(verdict: .bonaFide, reason: "no_cue", scores: scores) : nil
            } else if seenEnough,
                geometry.verdict == .bonaFide
                    || (geometry.verdict == .attack && state.frames.count >= max(3, settings.greyFrames))
            {
                // Depth seen lets a face through at once; a flat picture is refused on all the grey frames the
                // geometry keeps, never on the first few (a slow turn at a slow door barely moves).
                verdict = PresentationAssessment(verdict: geometry.verdict, reason: geometry.reason, scores: scores)
            } else if age >= settings.maximumSeconds, state.frames.count >= max(3, settings.greyFrames) {
                // Given up in time and in frames, whichever comes later: a slow door gets as many looks.
                verdict = PresentationAssessment(verdict: .attack, reason: "no_depth_seen", scores: scores)
            } else {
                verdict = nil
            }
            if let verdict {
                state.verdict = verdict.verdict
                state.waiting = nil
                if verdict.verdict == .bonaFide {
                    var evidence = pending.evidence
                    evidence.liveness = verdict.scores
                    if let decision = faceAttendance(pending.person, evidence, when: when) {
                        decisions.append(decision)
                    }
                } else {
                    var evidence = pending.evidence
                    evidence.sighting = nil
                    decisions.append(
                        .refusedFace(
                            FaceRefusal(
                                claimedPerson: pending.person, reason: verdict.reason, scores: verdict.scores,
                                evidence: evidence),
                            when: when))
                }
            }
            presentation[id] = state
        }
        times[.presentation, default: []].append(clock.lap())
        return decisions
    }

    /// What a track's new consensus means at the door. A person named on a track whose face the
    /// presentation-attack stage has not found live waits for it (nil now; the stage decides later); on a
    /// track it refused, nothing more is decided.
    private func face(
        _ outcome: FaceTracker.Outcome, _ identification: Identification, track: Int, sighting: [Float]?,
        when: DecisionTime
    ) -> DoorDecision? {
        let evidence = FaceEvidence(
            distance: identification.match?.distance, margin: identification.match?.margin, track: track,
            trackFirstFrame: tracker.track(track)?.firstFrame, sighting: sighting)
        switch outcome {
        case .unknown:
            var unknown = evidence
            unknown.sighting = nil
            return .unknownFace(unknown, when: when)
        case .identified(let person):
            if configuration.presentation.enabled, presentation[track]?.verdict != .bonaFide {
                if presentation[track]?.verdict == nil {
                    presentation[track, default: PresentationTrack()].waiting = PendingFace(
                        person: person, evidence: evidence)
                }
                return nil
            }
            return faceAttendance(person, evidence, when: when)
        }
    }

    /// The rules' decision for a face found live; only a check-in keeps the sighting for a refresh.
    private func faceAttendance(_ person: String, _ evidence: FaceEvidence, when: DecisionTime) -> DoorDecision? {
        var plain = evidence
        plain.sighting = nil
        let decision = attendance(book.studentIdentified(person: person, at: when.at), by: .face(plain), when: when)
        if case .checkin(let event, _, _) = decision, evidence.sighting != nil {
            return .checkin(event, by: .face(evidence), when: when)
        }
        return decision
    }

    /// A QR payload: debounced, verified, then the rules for the badge's role.
    private func badge(_ payload: Data, when: DecisionTime) -> DoorDecision? {
        // The same code on consecutive frames is one scan.
        guard debouncer.admit(payload.base64EncodedString(), at: when.at) else { return nil }
        switch verifier.verify(payload, now: when.at) {
        case .failure(let rejection):
            let text = String(decoding: payload, as: UTF8.self)
            return .rejectedBadge(
                RejectedBadge(
                    reason: rejection.rawValue, payload: text, claimedSubject: BadgeFormat.claimedSubject(of: text)),
                when: when)
        case .success(let badge):
            let person = badge.claims.sub
            switch badge.claims.role {
            case .student:
                return attendance(book.studentIdentified(person: person, at: when.at), by: .badge, when: when)
            case .volunteer, .staff:
                return attendance(book.volunteerScanned(person: person, at: when.at), by: .badge, when: when)
            }
        }
    }

    /// The door's decision for the rules' verdict; nil for no-ops (repeats).
    private func attendance(_ verdict: AttendanceDecision, by: IdentifiedBy, when: DecisionTime) -> DoorDecision? {
        switch verdict {
        case .checkin:
            return verdict.event.map { .checkin($0, by: by, when: when) }
        case .noCheckin(let person, let reason):
            return .noCheckin(person: person, reason: reason.message, by: by, when: when)
        case .entry:
            return verdict.event.map { .entry($0, when: when) }
        case .exit:
            return verdict.event.map { .exit($0, when: when) }
        case .alreadyCheckedIn, .ignoredRepeat:
            return nil
        }
    }
}

/// A track as the presentation-attack stage follows it.
struct PresentationTrack {
    /// When the track was first seen (seconds from the source's start).
    var firstSeen: Double?
    /// Its recent frames, oldest first.
    var frames: [TrackFrame] = []
    /// The stage's verdict, once made: a live face goes on to the rules at every consensus; a refused one
    /// is not decided again.
    var verdict: PresentationAssessment.Verdict?
    /// The consensus waiting for the verdict.
    var waiting: PendingFace?
    /// The newest appearance assessment, and how many frames the appearance refused while waiting.
    var appearance: PresentationAssessment?
    /// Frames the appearance looked at while the consensus waited, and how many of them it refused.
    var looks = 0
    var appearanceRefusals = 0
    /// The newest appearance assessment that refused.
    var refusingLook: PresentationAssessment?
}

/// A consensus waiting for the presentation-attack stage.
struct PendingFace {
    var person: String
    var evidence: FaceEvidence
}

/// What the presentation-attack stage's detectors said about a track on one frame.
struct PresentationLooks: Sendable {
    /// The appearance's verdict (nil: the frame had no image).
    var appearance: PresentationAssessment?
    var geometry: PresentationAssessment
}
