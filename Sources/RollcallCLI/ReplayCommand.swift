import ArgumentParser
import Attendance
import Badges
import Capture
import Foundation
import Kiosk
import Outbox
import Pipeline
import Recognition
import Vision

/// `rollcall replay`: runs a recording through the whole door pipeline, as fast as it can.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run a video file or an image folder through the door's pipeline and print its decisions.",
        discussion: """
            Every frame goes through the pipeline as fast as both cores allow (none is dropped): QR badges \
            are verified, faces are detected, tracked, gated, encoded while their track needs it, matched \
            and agreed on over several frames, and the attendance rules decide. Frame N is taken to happen \
            N/fps seconds after --start. With --json each decision is one line, e.g. {"kind": "checkin", \
            "person": ID, "frame": N, "t": SECONDS, "distance": D, "margin": M, "status": "present", ...}; \
            kinds are checkin, no_checkin, entry, exit, rejected_badge, unknown_face and refused_face (repeats are \
            no-ops and print nothing). The last line is {"kind": "summary", "frames": N, "fps": F, \
            "stage_ms": {...}} with the median milliseconds of each stage. Without --sessions the whole \
            gallery is the roster of one session open for the whole recording, and everyone is present.
            """
    )

    @Argument(help: ArgumentHelp("A video file (anything OpenCV reads) or a folder of images.", valueName: "source"))
    var source: String

    @Option(help: ArgumentHelp("The gallery file (see rollcall enroll).", valueName: "file"))
    var gallery: String

    @Option(help: ArgumentHelp("The room's sessions and policy (JSON; see the README).", valueName: "file"))
    var sessions: String?

    @Option(
        name: .customLong("badge-keys"),
        help: ArgumentHelp(
            "Badge public keys and revoked badges (a keyring, see rollcall badge keygen).", valueName: "file"))
    var badgeKeys: String?

    @Option(help: ArgumentHelp("Wall-clock time of the first frame, ISO 8601 (default: now).", valueName: "time"))
    var start: String?

    @Option(help: "Frame rate of an image folder (a video's own rate is used for videos).")
    var fps: Double = 30

    @Option(
        help: ArgumentHelp(
            "Commit every decision to this outbox (SQLite; created when missing) before printing it.",
            valueName: "file"))
    var outbox: String?

    @Option(
        name: .customLong("device-id"),
        help: ArgumentHelp(
            "The device the outbox's events come from (their source is signage:<id>), as the hub knows it.",
            valueName: "id"))
    var deviceID = "replay"

    @Flag(help: "Accept unsigned legacy badges (RC0).")
    var allowUnsigned = false

    @Option(help: "Worker threads (default: one per core).")
    var workers: Int?

    @Flag(help: "One JSON object per decision, then the summary.")
    var json = false

    @OptionGroup var thresholds: MatchPolicyOptions

    @OptionGroup var models: ModelOptions

    func validate() throws {
        guard fps > 0 else { throw ValidationError("--fps must be above 0") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if let start, parseTime(start) == nil {
            throw ValidationError("--start \(start) is not an ISO 8601 time such as 2026-11-23T08:02:00Z")
        }
    }

    func run() async throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isFolder) else {
            printError("\(source) does not exist")
            throw ExitCode.failure
        }
        let document = try GalleryFile.load(gallery)
        let startTime = start.flatMap(parseTime) ?? Date()
        let schedule: SessionSchedule
        if let sessions {
            do {
                schedule = try SessionSchedule.decode(from: try Data(contentsOf: URL(fileURLWithPath: sessions)))
            } catch let error as ScheduleError {
                printError("sessions \(sessions): \(error)")
                throw ExitCode(EX_CONFIG)
            } catch {
                printError("cannot read sessions \(sessions): \(error.localizedDescription)")
                throw ExitCode(EX_CONFIG)
            }
        } else {
            var policy = AttendancePolicy()
            policy.grace = 24 * 3600
            schedule = .wholeDay(
                roster: document.people.map(\.id), start: startTime, end: startTime + 24 * 3600, policy: policy)
        }
        let verifier: BadgeVerifier
        do {
            verifier = try BadgeVerifier(
                keyring: try badgeKeys.map(readKeyring) ?? BadgeKeyring(), allowUnsigned: allowUnsigned)
        } catch let error as ValidationError {
            printError(error.message)
            throw ExitCode(EX_CONFIG)
        } catch {
            printError("badge keys \(badgeKeys ?? ""): \(error)")
            throw ExitCode(EX_CONFIG)
        }

        let faceModels = try models.load()
        let threads = workers ?? ProcessInfo.processInfo.activeProcessorCount
        // One descriptor per worker thread: OpenBLAS's own threads would only fight the workers.
        if threads > 1 { FaceModels.setBLASThreads(1) }
        let pool = try PipelineWorkers(pipelineModels: faceModels, count: threads)
        let store: Outbox?
        do {
            if let outbox {
                store = try await Outbox.open(
                    path: outbox, deviceID: deviceID,
                    sealer: try Outbox.sealer(
                        path: outbox, keyFile: nil, environment: ProcessInfo.processInfo.environment))
            } else {
                store = nil
            }
        } catch {
            printError("\(error)")
            throw ExitCode(EX_CONFIG_UNAVAILABLE)
        }
        // The daemon's door, with standard output for a screen.
        let door = Door(
            workers: pool, match: thresholds.point, gallery: document.gallery,
            book: AttendanceBook(schedule: schedule), verifier: verifier, outbox: store)

        // The source's own thread opens the file once and says its frame rate before the first frame.
        let frameSource =
            isFolder.boolValue
            ? FileFrameSource(imageFolder: source, fps: fps, pacing: .asFastAsPossible)
            : FileFrameSource(video: source, pacing: .asFastAsPossible)
        frameSource.start()
        let summary = try await door.run(
            frames: frameSource.frames,
            clock: { index in
                let t = Double(index) / (frameSource.status.frameRate ?? fps)
                return (t, startTime + t)
            },
            sink: ReplayPrinter(
                json: json, names: Dictionary(uniqueKeysWithValues: document.people.map { ($0.id, $0.name) })))
        await frameSource.shutdown()
        if let error = frameSource.status.lastError {
            printError(error)
        }
        if json {
            printLine(summary.jsonLine)
        } else {
            printLine(
                String(
                    format: "%d frames in %.2f s: %.1f fps; %d faces seen, %d encoded", summary.frames,
                    summary.seconds, summary.fps, summary.facesSeen, summary.encodings))
            for stage in Stage.allCases {
                if let value = summary.stageMilliseconds[stage] {
                    printLine(
                        "  " + stage.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
                            + String(format: " %8.2f ms median", value))
                }
            }
            if let median = summary.medianFramesToCheckin {
                printLine(
                    "time to check-in: \(summary.framesToCheckin.map(String.init).joined(separator: ", ")) frames "
                        + String(format: "from the track's first frame (median %.1f)", median))
            }
        }
        if summary.frames == 0 {
            printError("no frame could be read from \(source)")
            throw ExitCode.failure
        }
    }

}

/// Replay's sink: each committed decision on standard output, as a line of text or of JSON. A decision
/// that cannot be committed stops the replay.
struct ReplayPrinter: DoorSink {
    let json: Bool
    let names: [String: String]

    func show(_ committed: CommittedDecision) {
        printLine(json ? committed.decision.jsonLine : describe(committed.decision))
    }

    func commitFailed(_ decision: DoorDecision, error: OutboxError) throws {
        throw error
    }

    func describe(_ decision: DoorDecision) -> String {
        let when = decision.when
        let time = String(format: "%7.2fs frame %5d", when.t, when.frame)
        let who = decision.person.map { person in names[person].map { "\(person) (\($0))" } ?? person } ?? "someone"
        let detail: String
        switch decision {
        case .checkin(let event, _, _):
            let status = event.status == .late ? "late by \(event.minutesLate ?? 0) min" : "present"
            detail = "checked in \(who) to \(event.session ?? "?"): \(status)"
        case .noCheckin(_, let reason, _, _): detail = "did not check in \(who): \(reason)"
        case .entry: detail = "\(who) signed in"
        case .exit(let event, _): detail = "\(who) signed out after " + String(format: "%.0f s", event.duration ?? 0)
        case .rejectedBadge(let badge, _): detail = "refused a badge: \(badge.reason)"
        case .unknownFace: detail = "an unknown face"
        case .refusedFace(let refusal, _):
            let claimed =
                names[refusal.claimedPerson].map { "\(refusal.claimedPerson) (\($0))" } ?? refusal.claimedPerson
            detail = "refused a face claiming to be \(claimed): \(refusal.reason)"
        }
        return "\(time)  \(detail)"
    }
}

/// Exit status for a configuration file that cannot be used (sysexits' EX_CONFIG).
let EX_CONFIG: Int32 = 78

/// An ISO 8601 time with a zone, with or without fractional seconds.
func parseTime(_ text: String) -> Date? {
    let formatter = ISO8601DateFormatter()
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.date(from: text)
}
