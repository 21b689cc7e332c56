import Attendance
import Capture
import Foundation
public import Logging
public import Outbox
import Pipeline
import Prometheus
import Recognition
import ServiceLifecycle
import Signage
import Sync
import SyncProtocol
import Synchronization
import Systemd
import UnixSignals
public import Vision

/// The running door: one configuration, the outbox, the vision workers, the signage broadcaster, the
/// sync client, and the state the services share. `KioskDaemon.run()` runs them as one ServiceGroup.
public final class KioskDaemon: Sendable {
    /// What the services share, behind one lock.
    struct Runtime {
        var configuration: KioskConfiguration
        var source: DoorSource?
        var inputs: DoorInputs
        var pendingUpdate: PipelineUpdate?
        var restartSource = false
        var stopping = false
        var processedFrames = 0
        var decisions = 0
        var lastDecisionAt: Date?
        var offeringSighting = false
        var status: KioskStatus?
    }

    public let configurationPath: String
    let outbox: Outbox
    let workers: PipelineWorkers
    let sync: SyncClient?
    let broadcaster = SignageBroadcaster()
    let metrics = KioskMetrics()
    let logger: Logger
    let startedAt = Date()
    let runtime: Mutex<Runtime>
    private let signagePort = Atomic<Int>(0)

    /// The port the signage page is served on, once it is (0 before).
    public var boundSignagePort: Int { signagePort.load(ordering: .relaxed) }
    var signageListening: Bool { boundSignagePort != 0 }
    func listening(port: Int) { signagePort.store(port, ordering: .relaxed) }

    /// The configuration in force.
    public var configuration: KioskConfiguration { runtime.withLock { $0.configuration } }

    /// The status the monitor last computed (refreshed every second).
    public var status: KioskStatus? { runtime.withLock { $0.status } }

    /// Sets the door up: opens the outbox, starts the vision workers over `models`, reads the stored
    /// gallery, schedule and badge keys. Nothing runs before `run()`.
    public init(
        configurationPath: String, configuration: KioskConfiguration, outbox: Outbox, models: FaceModels,
        hubToken: String?, logger: Logger
    ) async throws {
        self.configurationPath = configurationPath
        self.outbox = outbox
        self.logger = logger
        let threads = configuration.workers > 0 ? configuration.workers : ProcessInfo.processInfo.activeProcessorCount
        // One descriptor per worker thread: OpenBLAS's own threads would only fight the workers.
        if threads > 1 { FaceModels.setBLASThreads(1) }
        workers = try PipelineWorkers(pipelineModels: models, count: threads)
        if let url = configuration.hubURL, let hubToken {
            var settings = SyncConfiguration(baseURL: url, token: hubToken)
            settings.refreshInterval = TimeInterval(configuration.refreshSeconds)
            settings.maximumBackoff = 60
            sync = SyncClient(configuration: settings, outbox: outbox, logger: Logger(label: "rollcall.sync"))
        } else {
            sync = nil
        }
        let inputs = await DoorInputs.load(
            from: outbox, allowUnsigned: configuration.allowUnsignedBadges, logger: logger)
        runtime = Mutex(Runtime(configuration: configuration, inputs: inputs))
        logger.info(
            "door ready",
            metadata: [
                "device": "\(configuration.deviceID)", "workers": "\(threads)",
                "gallery_people": "\(inputs.gallery.people.count)", "gallery_version": "\(inputs.galleryVersion)",
                "sessions": "\(inputs.schedule.sessions.count)",
            ])
    }

    /// Runs every service until SIGTERM or SIGINT: then capture stops, the frames being analysed are
    /// decided and committed, sync and the page stop, and the outbox is checkpointed, within a few seconds.
    public func run() async throws {
        let services: [ServiceGroupConfiguration.ServiceConfiguration] =
            [
                .init(service: SignageService(daemon: self), serviceName: "signage"),
                sync.map { .init(service: SyncService(daemon: self, client: $0), serviceName: "sync") },
                .init(service: DoorService(daemon: self), serviceName: "door"),
                .init(service: ReloadService(daemon: self), serviceName: "reload"),
                .init(service: MonitorService(daemon: self), serviceName: "monitor"),
            ].compactMap { $0 }
        var group = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [],
            logger: Logger(label: "rollcall.services"))
        // A slow board (or the emulated one of the systemd guest test) may need longer than the second
        // this takes here to decide the frames in flight; past these the service group gives up with a
        // crash, so they stay just inside systemd's TimeoutStopSec=10 rather than near the usual time.
        group.maximumGracefulShutdownDuration = .seconds(7)
        group.maximumCancellationDuration = .seconds(2)
        try await ServiceGroup(configuration: group).run()
        do {
            try await outbox.checkpoint()
        } catch {
            logger.error("cannot checkpoint the outbox at exit (its events are committed all the same): \(error)")
        }
        logger.notice("stopped")
    }

    // MARK: The door

    /// Captures and decides until asked to stop; restarts the frame source when a reload changes it.
    func runDoor() async throws {
        while true {
            let (configuration, inputs, stopping) = runtime.withLock { state in
                state.restartSource = false
                return (state.configuration, state.inputs, state.stopping)
            }
            if stopping { return }
            let source = DoorSource.make(configuration, logger: logger)
            runtime.withLock { state in
                state.source = source
                state.pendingUpdate = nil
            }
            source.source.start()
            logger.notice("capture started", metadata: ["source": "\(source.description)"])
            var settings = PipelineConfiguration()
            settings.match = configuration.matchPolicy
            settings.upsample = configuration.upsample
            settings.lookahead = workers.count + 1
            let pipeline = DoorPipeline(
                configuration: settings, workers: workers, gallery: inputs.gallery.gallery, book: inputs.book,
                verifier: inputs.verifier)
            let started = Monotonic.nanoseconds()
            let summary = try await pipeline.run(
                frames: source.source.frames,
                clock: { _ in (Double(Monotonic.nanoseconds() - started) / 1e9, Date()) },
                updates: {
                    self.runtime.withLock { state in
                        state.processedFrames += 1
                        defer { state.pendingUpdate = nil }
                        return state.pendingUpdate
                    }
                },
                stopping: { self.runtime.withLock { $0.stopping } },
                emit: { decision in await self.handle(decision) })
            await source.source.shutdown()
            if summary.framesDroppedAtStop > 0 {
                logger.info(
                    "stopping: frames taken but not yet analysed were dropped",
                    metadata: ["frames": "\(summary.framesDroppedAtStop)"])
            }
            // The source ended: stopped for a restart or for good, or a replayed file came to its end.
            while true {
                let (restart, stopping) = runtime.withLock { ($0.restartSource, $0.stopping) }
                if stopping { return }
                if restart { break }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Stops the frame source; the door decides on the frames whose analysis has begun, drops the
    /// rest (none of them was decided, so nothing committed or shown is lost) and returns.
    func stopDoor() {
        let source = runtime.withLock { state in
            state.stopping = true
            return state.source
        }
        if let source { Task.detached { await source.source.shutdown() } }
    }

    /// Commits a decision, then shows it: a decision is on the screen only once it would survive a
    /// power cut. A decision that cannot be committed is logged and not shown; the door goes on.
    func handle(_ decision: DoorDecision) async {
        metrics.countDecision(decision.kind.rawValue)
        let names = runtime.withLock { state in
            state.decisions += 1
            state.lastDecisionAt = decision.at
            return state.inputs.names
        }
        var fields: Logger.Metadata = ["kind": "\(decision.kind.rawValue)"]
        if let person = decision.person { fields["person"] = "\(person)" }
        if let session = decision.session { fields["session"] = "\(session)" }
        if let status = decision.status { fields["status"] = "\(status.rawValue)" }
        if let reason = decision.reason { fields["reason"] = "\(reason)" }
        if let minutes = decision.minutesLate, decision.status == .late { fields["minutes_late"] = "\(minutes)" }
        if let duration = decision.duration { fields["duration_s"] = "\(Int(duration.rounded()))" }
        guard decision.kind != .unknownFace else {
            logger.info("an unknown face at the door")
            return
        }
        let began = ContinuousClock.now
        let id: String?
        do {
            id = try await outbox.commit(decision, model: FaceEncoding.modelID)
        } catch {
            metrics.commitFailures.increment()
            logger.error("a decision could not be committed and is not shown: \(error)", metadata: fields)
            // The pipeline's attendance book already counts this check-in or visit: rebuilt from what the
            // outbox holds, it forgets it, so the person is checked in when seen again once commits succeed
            // (instead of "already checked in" until a restart).
            await refreshInputs()
            return
        }
        let committed = Date()
        metrics.commitSeconds.record(ContinuousClock.now - began)
        let name = decision.person.flatMap { names[$0] }
        broadcaster.publishDecision(
            SignageDecision(decision, id: id, name: name, group: group(of: decision.session), committedAt: committed)
                .json)
        switch decision.kind {
        case .rejectedBadge: logger.warning("refused a badge", metadata: fields)
        default: logger.info("\(decision.kind.rawValue)", metadata: fields)
        }
        if let name { logger.debug("\(decision.kind.rawValue): \(name)", metadata: fields) }
        offerSighting(decision)
    }

    /// Offers a sure face check-in's encoding to the hub for a template refresh, when the hub asked for
    /// them: once at a time, not queued (a lost sighting is simply not added), never stored at the door.
    func offerSighting(_ decision: DoorDecision) {
        guard let sync, let encoding = decision.sighting, let person = decision.person,
            let distance = decision.distance, let margin = decision.margin
        else { return }
        let wanted = runtime.withLock { state -> Bool in
            guard !state.offeringSighting, state.inputs.offersSighting(of: person, at: decision.at) else {
                return false
            }
            state.offeringSighting = true
            return true
        }
        guard wanted else { return }
        // With one person in the gallery the margin is infinite; JSON has no infinity (the hub recomputes it).
        let sighting = TemplateSighting(
            person: person, encoding: encoding, distance: distance, margin: margin.isFinite ? margin : 4)
        Task {
            defer { runtime.withLock { $0.offeringSighting = false } }
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

    private func group(of session: String?) -> String? {
        guard let session else { return nil }
        return runtime.withLock { $0.inputs.schedule.session(id: session)?.group }
    }

    // MARK: Reloading

    /// Re-reads the stored gallery, schedule and badge keys (after a sync brought new ones, or a reload)
    /// and hands them to the running pipeline between two frames.
    func refreshInputs() async {
        let configuration = self.configuration
        let inputs = await DoorInputs.load(
            from: outbox, allowUnsigned: configuration.allowUnsignedBadges, logger: logger)
        runtime.withLock { state in
            state.inputs = inputs
            state.pendingUpdate = inputs.update(match: configuration.matchPolicy)
        }
        logger.info(
            "gallery and schedule loaded",
            metadata: [
                "gallery_people": "\(inputs.gallery.people.count)", "gallery_version": "\(inputs.galleryVersion)",
                "sessions": "\(inputs.schedule.sessions.count)",
            ])
    }

    /// SIGHUP: reads the configuration again; a broken one is refused and the running one kept. The
    /// gallery, schedule and keys are re-read; a changed camera restarts capture (the frames already
    /// taken are decided and committed first: nothing is dropped).
    func reload() async {
        SystemdNotifier.notify("RELOADING=1\nSTATUS=reloading the configuration")
        defer { SystemdNotifier.notify("READY=1") }
        metrics.reloads.increment()
        let new: KioskConfiguration
        do {
            new = try KioskConfiguration.load(path: configurationPath)
        } catch {
            logger.error("reload refused, the running configuration stays: \(error)")
            return
        }
        let (old, source) = runtime.withLock { state in
            defer { state.configuration = new }
            return (state.configuration, state.source)
        }
        JournalLogHandler.level.withLock { $0 = Logger.Level(rawValue: new.logLevel) ?? .info }
        for (key, changed) in [
            ("device.id", old.deviceID != new.deviceID), ("device.data_dir", old.dataDirectory != new.dataDirectory),
            ("hub.url", old.hubURL != new.hubURL), ("hub.token_file", old.tokenFile != new.tokenFile),
            ("hub.refresh_seconds", old.refreshSeconds != new.refreshSeconds),
            ("recognition.workers", old.workers != new.workers), ("signage.port", old.signagePort != new.signagePort),
        ] where changed {
            logger.warning("\(key) changed: it takes effect when the daemon restarts (systemctl restart rollcall)")
        }
        await refreshInputs()
        if !old.sameCapture(as: new) || old.upsample != new.upsample {
            logger.notice("the camera settings changed: capture restarts")
            runtime.withLock { $0.restartSource = true }
            if let source { await source.source.shutdown() }
        }
        logger.notice("configuration reloaded from \(configurationPath)")
    }

    // MARK: Status

    /// What the door tells the hub every minute: version, queue, camera (`ok` while it streams).
    func heartbeat() async -> DeviceHeartbeat {
        let status = await computeStatus(cameraFPS: 0)
        let state = status.camera.state
        return DeviceHeartbeat(
            version: DeviceAPI.softwareVersion, queued: status.queue.pending,
            camera: state == .streaming ? "ok" : state.rawValue)
    }

    /// Computes the status: camera, pipeline, gallery, outbox, hub.
    func computeStatus(cameraFPS: Double) async -> KioskStatus {
        let (configuration, source, inputs, processed, decisions, lastDecision) = runtime.withLock {
            ($0.configuration, $0.source, $0.inputs, $0.processedFrames, $0.decisions, $0.lastDecisionAt)
        }
        var camera =
            source?.status
            ?? KioskStatus.Camera(
                state: .starting, device: configuration.replay ?? configuration.cameraDevice, node: nil, format: nil,
                fps: 0, frames: 0, drops: 0, reconnects: 0, lastError: nil)
        camera.fps = cameraFPS
        let counts = (try? await outbox.counts()) ?? [:]
        let syncStatus = await sync?.status
        let now = Date()
        let session = AttendanceBook(schedule: inputs.schedule).sessionRunning(at: now).map {
            KioskStatus.SessionSummary(
                id: $0.id, group: $0.group, start: ISO8601Time.format($0.start), end: ISO8601Time.format($0.end))
        }
        let online = syncStatus.map { $0.lastSuccess != nil && $0.lastError == nil } ?? false
        var status = KioskStatus(
            device: configuration.deviceID, room: inputs.schedule.room.isEmpty ? nil : inputs.schedule.room,
            startedAt: ISO8601Time.format(startedAt), uptimeSeconds: now.timeIntervalSince(startedAt),
            camera: camera,
            processing: KioskStatus.Processing(
                frames: processed, fps: 0, decisions: decisions, lastDecisionAt: lastDecision.map(ISO8601Time.format)),
            gallery: KioskStatus.GallerySummary(
                version: inputs.galleryVersion, people: inputs.gallery.people.count,
                templates: inputs.gallery.people.reduce(0) { $0 + $1.templates.count }),
            queue: KioskStatus.Queue(
                pending: counts[.pending] ?? 0, synced: counts[.synced] ?? 0, rejected: counts[.rejected] ?? 0),
            sync: KioskStatus.SyncSummary(
                hub: configuration.hubURL, online: online, lastSuccess: syncStatus?.lastSuccess.map(ISO8601Time.format),
                lastError: syncStatus?.lastError, clockOffsetSeconds: syncStatus?.clockOffset),
            session: session, problem: nil)
        switch camera.state {
        case .streaming, .ended: break
        default:
            status.problem = "camera \(camera.state.rawValue)\(camera.lastError.map { ": \($0)" } ?? "")"
        }
        return status
    }

    func setStatus(_ status: KioskStatus) {
        runtime.withLock { $0.status = status }
    }
}

/// The door's frame source: the camera, or a replayed file (`camera.replay`).
struct DoorSource: Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        case camera(V4L2Camera)
        case file(FileFrameSource, path: String)
    }

    let kind: Kind

    var source: any FrameSource {
        switch kind {
        case .camera(let camera): camera
        case .file(let file, _): file
        }
    }

    var description: String {
        switch kind {
        case .camera(let camera): camera.configuration.device
        case .file(_, let path): "replay of \(path)"
        }
    }

    static func make(_ configuration: KioskConfiguration, logger: Logger) -> DoorSource {
        if let path = configuration.replay {
            var isFolder: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
            let source =
                isFolder.boolValue
                ? FileFrameSource(imageFolder: path, fps: Double(configuration.fps), pacing: .realtime())
                : FileFrameSource(video: path, pacing: .realtime())
            return DoorSource(kind: .file(source, path: path))
        }
        return DoorSource(
            kind: .camera(
                V4L2Camera(configuration: configuration.cameraSettings) { event in
                    let status = event.status
                    let fields: Logger.Metadata = [
                        "device": "\(status.device)", "node": "\(status.node ?? "-")",
                        "reconnects": "\(status.reconnects)",
                    ]
                    switch status.state {
                    case .streaming: logger.notice("camera streaming", metadata: fields)
                    case .lost, .reconnecting:
                        logger.warning(
                            "camera \(status.state.rawValue): \(status.lastError ?? "no error given")", metadata: fields
                        )
                    case .starting, .stopped, .ended: logger.info("camera \(status.state.rawValue)", metadata: fields)
                    }
                }))
    }

    var status: KioskStatus.Camera {
        switch kind {
        case .camera(let camera):
            let status = camera.status
            return KioskStatus.Camera(
                state: status.state, device: status.device, node: status.node,
                format: status.format.map { "\($0.pixelFormat) \($0.width)x\($0.height)" }, fps: 0,
                frames: status.frames, drops: status.drops, reconnects: status.reconnects, lastError: status.lastError)
        case .file(let file, let path):
            let status = file.status
            return KioskStatus.Camera(
                state: status.finished ? .ended : status.frames > 0 ? .streaming : .starting, device: path,
                node: nil, format: nil, fps: 0, frames: status.frames, drops: status.drops, reconnects: 0,
                lastError: status.lastError)
        }
    }

    /// A number that changes while the source makes progress: frames, or retries while it is lost.
    var progress: Int {
        switch kind {
        case .camera(let camera):
            let status = camera.status
            return status.frames + status.failedAttempts + status.reconnects
        case .file(let file, _):
            let status = file.status
            return status.finished ? -1 : status.frames
        }
    }
}
