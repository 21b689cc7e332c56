import ArgumentParser
import Attendance
import Badges
import Capture
import Foundation
import Imaging
import Pipeline
import Recognition
import Vision

/// `rollcall bench presentation`: the presentation-attack stage on the generated attack set (ISO/IEC
/// 30107-3: APCER per attack type, BPCER).
struct PresentationBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presentation",
        abstract: "Presentation-attack detection on the generated attack set: APCER per attack type and BPCER.",
        discussion: """
            DIR is a set made by `rollcall-scenario --presentation DIR`: short clips of genuine approaches, \
            printed photos and phone screens held up at the door. The people of its presentation.json are \
            enrolled from the fixture photos it names (--fixtures); each clip then runs through the door's \
            whole pipeline on its own, with a fresh attendance book, as a door would see it.

            An attack presentation is classified bona fide when its clip checks the person in; a genuine \
            one is classified an attack when its clip does not (refused, or never recognised). Reports \
            APCER for each attack type and BPCER (ISO/IEC 30107-3), the reasons of the refusals, how many \
            frames the stage added to a genuine check-in (each genuine clip is also run with the stage off), \
            the stage's median milliseconds and the replay's frames per second.
            """
    )

    @Argument(help: ArgumentHelp("The set's folder (presentation.json and its clips).", valueName: "dir"))
    var directory: String

    @Option(
        help: ArgumentHelp(
            "The face fixtures folder (default: $ROLLCALL_FIXTURES/faces, else ../shared/fixtures/faces).",
            valueName: "dir"))
    var fixtures: String?

    @Option(
        help: ArgumentHelp(
            "Which detectors decide: both, geometry or appearance (the other is only measured).",
            valueName: "which"))
    var detectors = "both"

    @Flag(help: "Print every clip's outcome and scores too.")
    var clips = false

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    @OptionGroup var models: ModelOptions

    func validate() throws {
        guard ["both", "geometry", "appearance"].contains(detectors) else {
            throw ValidationError("--detectors must be both, geometry or appearance")
        }
    }

    func run() async throws {
        let folder = URL(fileURLWithPath: directory)
        let manifest: PresentationSetFile
        do {
            manifest = try JSONDecoder().decode(
                PresentationSetFile.self,
                from: try Data(contentsOf: folder.appendingPathComponent("presentation.json")))
        } catch {
            printError(
                "\(directory)/presentation.json cannot be read (\(error.localizedDescription)); "
                    + "make the set with rollcall-scenario --presentation \(directory)")
            throw ExitCode.failure
        }
        let faceModels = try models.load()
        let threads = ProcessInfo.processInfo.activeProcessorCount
        if threads > 1 { FaceModels.setBLASThreads(1) }
        let pool = try PipelineWorkers(pipelineModels: faceModels, count: threads)
        let gallery = try enroll(manifest.gallery, engine: try FaceEngine(models: faceModels))

        let progress = ProgressLine(total: manifest.clips.count, label: "clips replayed")
        var outcomes: [PresentationBenchReport.ClipOutcome] = []
        var presentationTimes: [Double] = []
        var frames = 0
        var seconds = 0.0
        for clip in manifest.clips {
            let path = folder.appendingPathComponent(clip.file).path
            let run = try await replay(path, gallery: gallery, workers: pool, presentation: true)
            frames += run.summary.frames
            seconds += run.summary.seconds
            if let value = run.summary.stageMilliseconds[.presentation] { presentationTimes.append(value) }
            var outcome = PresentationBenchReport.ClipOutcome(clip: clip, decisions: run.decisions)
            if clip.kind == PresentationSetFile.genuine {
                let plain = try await replay(path, gallery: gallery, workers: pool, presentation: false)
                outcome.checkinFrameWithoutStage = plain.decisions.first { $0.kind == .checkin }?.when.frame
            }
            outcomes.append(outcome)
            progress.advance()
        }
        let report = PresentationBenchReport(
            directory: directory, detectors: detectors, outcomes: outcomes,
            stageMilliseconds: median(presentationTimes),
            fps: seconds > 0 ? Double(frames) / seconds : 0, includeClips: clips)
        if json {
            printLine(JSONLine.encode(report))
        } else {
            for line in report.lines { printLine(line) }
        }
    }

    /// The gallery of the set's people, from their fixture photos (the largest face of each).
    private func enroll(_ people: [PresentationSetFile.Person], engine: FaceEngine) throws -> Gallery {
        let faces = facesFolder()
        var gallery = Gallery()
        for person in people {
            var templates: [[Float]] = []
            for image in person.images {
                let path = faces.appendingPathComponent(image).path
                do {
                    let found = try engine.analyze(try RGBImage(contentsOfFile: path), upsample: 1)
                    guard let face = found.max(by: { $0.detection.box.area < $1.detection.box.area }) else {
                        printError("\(path): no face found to enrol \(person.person)")
                        throw ExitCode.failure
                    }
                    templates.append(face.encoding.values)
                } catch let error as VisionError {
                    printError("\(path): \(error.message) (pass --fixtures or set ROLLCALL_FIXTURES)")
                    throw ExitCode.failure
                }
            }
            gallery.add(person: person.person, templates: templates)
        }
        return gallery
    }

    private func facesFolder() -> URL {
        if let fixtures {
            let url = URL(fileURLWithPath: fixtures)
            let nested = url.appendingPathComponent("faces")
            return FileManager.default.fileExists(atPath: nested.path) ? nested : url
        }
        if let root = ProcessInfo.processInfo.environment["ROLLCALL_FIXTURES"], !root.isEmpty {
            return URL(fileURLWithPath: root).appendingPathComponent("faces")
        }
        return URL(fileURLWithPath: "../shared/fixtures/faces")
    }

    /// One clip through the door's pipeline, with a fresh book whose one session has everyone on it.
    private func replay(_ path: String, gallery: Gallery, workers: PipelineWorkers, presentation: Bool) async throws
        -> (decisions: [DoorDecision], summary: PipelineSummary)
    {
        var configuration = PipelineConfiguration()
        configuration.presentation.enabled = presentation
        configuration.presentation.geometryDecides = detectors != "appearance"
        configuration.presentation.appearanceDecides = detectors != "geometry"
        let start = Date(timeIntervalSince1970: 1_795_420_920)
        var policy = AttendancePolicy()
        policy.grace = 24 * 3600
        let book = AttendanceBook(
            schedule: .wholeDay(roster: gallery.personIDs, start: start, end: start + 3600, policy: policy))
        let pipeline = DoorPipeline(
            configuration: configuration, workers: workers, gallery: gallery, book: book,
            verifier: try BadgeVerifier(keyring: BadgeKeyring()))
        let source = FileFrameSource(video: path, pacing: .asFastAsPossible)
        source.start()
        var decisions: [DoorDecision] = []
        let summary = try await pipeline.run(
            frames: source.frames,
            clock: { index in
                let t = Double(index) / (source.status.frameRate ?? 30)
                return (t, start + t)
            },
            emit: { decisions.append($0) })
        await source.shutdown()
        if let error = source.status.lastError {
            printError("\(path): \(error)")
            throw ExitCode.failure
        }
        return (decisions, summary)
    }
}

/// The median of some values (0 for none).
private func median(_ values: [Double]) -> Double {
    values.isEmpty ? 0 : values.sorted()[values.count / 2]
}

/// What `rollcall bench presentation` reports.
struct PresentationBenchReport: Encodable {
    /// One clip and what the door decided on it.
    struct ClipOutcome: Encodable {
        var clip: PresentationSetFile.Clip
        var decisions: [DoorDecision]
        /// The check-in's frame when the stage is off (genuine clips).
        var checkinFrameWithoutStage: Int?

        init(clip: PresentationSetFile.Clip, decisions: [DoorDecision]) {
            self.clip = clip
            self.decisions = decisions
        }

        var checkin: DoorDecision? { decisions.first { $0.kind == .checkin || $0.kind == .noCheckin } }
        var refusal: FaceRefusal? {
            for decision in decisions { if case .refusedFace(let refusal, _) = decision { return refusal } }
            return nil
        }
        /// Classified bona fide: the face checked the person in (or would have, were they on the roster).
        var acceptedAsLive: Bool { checkin != nil }
        /// Frames the stage added to the check-in.
        var addedFrames: Int? {
            guard let with = checkin?.when.frame, let without = checkinFrameWithoutStage else { return nil }
            return with - without
        }

        enum CodingKeys: String, CodingKey {
            case file, kind, note, outcome, reason, frame, scores
            case addedFrames = "added_frames"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(clip.file, forKey: .file)
            try container.encode(clip.kind, forKey: .kind)
            try container.encode(clip.note, forKey: .note)
            let outcome = acceptedAsLive ? "checked_in" : refusal != nil ? "refused" : "not_recognised"
            try container.encode(outcome, forKey: .outcome)
            try container.encodeIfPresent(refusal?.reason, forKey: .reason)
            try container.encodeIfPresent((checkin ?? decisions.first)?.when.frame, forKey: .frame)
            try container.encodeIfPresent(refusal?.scores ?? checkin?.face?.liveness, forKey: .scores)
            try container.encodeIfPresent(addedFrames, forKey: .addedFrames)
        }
    }

    /// One attack type's figures.
    struct AttackFigures: Encodable {
        var kind: String
        var presentations: Int
        /// Attacks the door recognised as the person (so that only the stage stood between them and a check-in).
        var recognised: Int
        var acceptedAsLive: Int
        var apcer: Double
        var reasons: [String: Int]

        enum CodingKeys: String, CodingKey {
            case kind, presentations, recognised, apcer, reasons
            case acceptedAsLive = "accepted_as_live"
        }
    }

    var directory: String
    var detectors: String
    var attacks: [AttackFigures]
    var genuine: Int
    var genuineCheckedIn: Int
    var genuineRefused: Int
    var genuineNotRecognised: Int
    var bpcer: Double
    var refusalReasons: [String: Int]
    /// Frames the stage added to genuine check-ins: median and largest.
    var addedFramesMedian: Int?
    var addedFramesMax: Int?
    var stageMilliseconds: Double
    var fps: Double
    var clips: [ClipOutcome]?

    init(
        directory: String, detectors: String, outcomes: [ClipOutcome], stageMilliseconds: Double, fps: Double,
        includeClips: Bool
    ) {
        self.directory = directory
        self.detectors = detectors
        let kinds = outcomes.map(\.clip.kind).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        attacks = kinds.filter { $0 != PresentationSetFile.genuine }.map { kind in
            let mine = outcomes.filter { $0.clip.kind == kind }
            let accepted = mine.filter(\.acceptedAsLive).count
            return AttackFigures(
                kind: kind, presentations: mine.count,
                recognised: mine.filter { $0.acceptedAsLive || $0.refusal != nil }.count, acceptedAsLive: accepted,
                apcer: mine.isEmpty ? 0 : Double(accepted) / Double(mine.count),
                reasons: Dictionary(grouping: mine.compactMap(\.refusal?.reason)) { $0 }.mapValues(\.count))
        }
        let genuineOutcomes = outcomes.filter { $0.clip.kind == PresentationSetFile.genuine }
        genuine = genuineOutcomes.count
        genuineCheckedIn = genuineOutcomes.filter(\.acceptedAsLive).count
        genuineRefused = genuineOutcomes.filter { $0.refusal != nil }.count
        genuineNotRecognised = genuine - genuineCheckedIn - genuineRefused
        bpcer = genuine == 0 ? 0 : Double(genuine - genuineCheckedIn) / Double(genuine)
        refusalReasons = Dictionary(grouping: genuineOutcomes.compactMap(\.refusal?.reason)) { $0 }.mapValues(\.count)
        let added = genuineOutcomes.compactMap(\.addedFrames).sorted()
        addedFramesMedian = added.isEmpty ? nil : added[added.count / 2]
        addedFramesMax = added.last
        self.stageMilliseconds = stageMilliseconds
        self.fps = fps
        clips = includeClips ? outcomes : nil
    }

    enum CodingKeys: String, CodingKey {
        case directory, detectors, attacks, genuine, bpcer, fps, clips
        case genuineCheckedIn = "genuine_checked_in"
        case genuineRefused = "genuine_refused"
        case genuineNotRecognised = "genuine_not_recognised"
        case refusalReasons = "genuine_refusal_reasons"
        case addedFramesMedian = "added_frames_median"
        case addedFramesMax = "added_frames_max"
        case stageMilliseconds = "stage_ms"
    }

    /// The report as text.
    var lines: [String] {
        var lines = ["presentation-attack detection on \(directory) (ISO/IEC 30107-3), deciding: \(detectors)"]
        for attack in attacks {
            let reasons = attack.reasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            lines.append(
                String(
                    format: "  APCER %-14@ %5.1f%%  (%d of %d accepted as live; %d recognised as the person",
                    attack.kind, 100 * attack.apcer, attack.acceptedAsLive, attack.presentations, attack.recognised)
                    + (reasons.isEmpty ? ")" : "; refused: " + reasons.joined(separator: ", ") + ")"))
        }
        let reasons = refusalReasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        lines.append(
            String(
                format:
                    "  BPCER                %5.1f%%  (%d of %d genuine approaches not checked in: %d refused%@, %d not recognised)",
                100 * bpcer, genuine - genuineCheckedIn, genuine, genuineRefused,
                reasons.isEmpty ? "" : " [" + reasons.joined(separator: ", ") + "]", genuineNotRecognised))
        if let median = addedFramesMedian, let largest = addedFramesMax {
            lines.append("  the stage delayed genuine check-ins by \(median) frames (median), \(largest) at most")
        }
        lines.append(String(format: "  stage %.3f ms median a frame it ran; replay %.1f fps", stageMilliseconds, fps))
        for clip in clips ?? [] {
            lines.append("  " + JSONLine.encode(clip))
        }
        return lines
    }
}

/// What the bench reads of `presentation.json` (written by `rollcall-scenario --presentation`).
struct PresentationSetFile: Decodable {
    /// The kind of the genuine approaches; every other kind is an attack type.
    static let genuine = "genuine"

    struct Person: Decodable {
        var person: String
        var images: [String]
    }

    struct Clip: Decodable, Encodable {
        var file: String
        /// `genuine`, or the attack type (`printed_photo`, `phone_screen`).
        var kind: String
        var person: String
        var note: String
    }

    var gallery: [Person]
    var clips: [Clip]
}
