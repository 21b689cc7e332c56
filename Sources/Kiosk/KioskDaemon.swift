import Attendance
import Capture
import Foundation
public import Logging
public import Outbox
import Pipeline
import Recognition
import ServiceLifecycle
import Signage
import Sync
import SyncProtocol
import Synchronization
import Systemd
import UnixSignals
public import Vision

/// The running door, put together: the configuration, the outbox, the vision workers, the signage
/// broadcaster, the sync client, and the state the services share (one small lock per concern). `run()`
/// hands each service what it works with and runs them as one ServiceGroup; the services talk to the
/// door through a stream of commands (reload the inputs, restart capture), not through this object.
public final class KioskDaemon: Sendable {
    let settings: Settings
    let outbox: Outbox
    let workers: PipelineWorkers
    let sync: SyncClient?
    let broadcaster: SignageBroadcaster
    let metrics: KioskMetrics
    let logger: Logger
    let inputs: InputsState
    let activity: DoorActivity
    let board = StatusBoard()
    let reporter: StatusReporter
    /// The sink the door's decisions go to.
    let output: DoorOutput

    /// The configuration file (re-read on SIGHUP).
    public var configurationPath: String { settings.path }

    /// The port the signage page is served on, once it is (0 before).
    public var boundSignagePort: Int { board.signagePort }

    /// The configuration in force.
    public var configuration: KioskConfiguration { settings.current }

    /// The status the monitor last computed (refreshed every second).
    public var status: KioskStatus? { board.current }

    /// Sets the door up: opens the outbox, starts the vision workers over `models`, reads the stored
    /// gallery, schedule and badge keys. Nothing runs before `run()`.
    public init(
        configurationPath: String, configuration: KioskConfiguration, outbox: Outbox, models: FaceModels,
        hubToken: String?, logger: Logger
    ) async throws {
        settings = Settings(path: configurationPath, configuration: configuration)
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
        let loaded = await DoorInputs.load(
            from: outbox, allowUnsigned: configuration.allowUnsignedBadges, logger: logger)
        let inputs = InputsState(inputs: loaded, outbox: outbox, logger: logger)
        let activity = DoorActivity()
        let broadcaster = SignageBroadcaster()
        let metrics = KioskMetrics()
        self.inputs = inputs
        self.activity = activity
        self.broadcaster = broadcaster
        self.metrics = metrics
        reporter = StatusReporter(
            settings: settings, outbox: outbox, inputs: inputs, activity: activity, sync: sync, startedAt: Date())
        output = DoorOutput(
            broadcaster: broadcaster, metrics: metrics, inputs: inputs, settings: settings, activity: activity,
            sync: sync, logger: logger)
        logger.info(
            "door ready",
            metadata: [
                "device": "\(configuration.deviceID)", "workers": "\(threads)",
                "gallery_people": "\(loaded.gallery.people.count)", "gallery_version": "\(loaded.galleryVersion)",
                "sessions": "\(loaded.schedule.sessions.count)",
            ])
    }

    /// Runs every service until SIGTERM or SIGINT: then capture stops, the frames being analysed are
    /// decided and committed, sync and the page stop, and the outbox is checkpointed, within a few seconds.
    public func run() async throws {
        let (commands, door) = AsyncStream.makeStream(of: DoorCommand.self)
        let services: [ServiceGroupConfiguration.ServiceConfiguration] =
            [
                .init(
                    service: SignageService(
                        port: settings.current.signagePort, board: board, broadcaster: broadcaster, metrics: metrics,
                        logger: logger),
                    serviceName: "signage"),
                sync.map {
                    .init(
                        service: SyncService(client: $0, door: door, reporter: reporter), serviceName: "sync")
                },
                .init(
                    service: DoorService(
                        workers: workers, outbox: outbox, settings: settings, inputs: inputs, activity: activity,
                        output: output, commands: commands, logger: logger),
                    serviceName: "door"),
                .init(
                    service: ReloadService(settings: settings, door: door, metrics: metrics, logger: logger),
                    serviceName: "reload"),
                .init(
                    service: MonitorService(
                        reporter: reporter, board: board, broadcaster: broadcaster, metrics: metrics,
                        activity: activity, logger: logger),
                    serviceName: "monitor"),
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
        door.finish()
        do {
            try await outbox.checkpoint()
        } catch {
            logger.error("cannot checkpoint the outbox at exit (its events are committed all the same): \(error)")
        }
        logger.notice("stopped")
    }
}

/// Computes the status from the state the services share: camera, pipeline, gallery, outbox, hub.
struct StatusReporter: Sendable {
    let settings: Settings
    let outbox: Outbox
    let inputs: InputsState
    let activity: DoorActivity
    let sync: SyncClient?
    let startedAt: Date

    /// What the door tells the hub every minute: version, queue, camera (`ok` while it streams).
    func heartbeat() async -> DeviceHeartbeat {
        let status = await status(cameraFPS: 0)
        let state = status.camera.state
        return DeviceHeartbeat(
            version: DeviceAPI.softwareVersion, queued: status.queue.pending,
            camera: state == .streaming ? "ok" : state.rawValue)
    }

    /// The status now.
    func status(cameraFPS: Double) async -> KioskStatus {
        let configuration = settings.current
        let inputs = inputs.current
        let activity = activity.snapshot
        var camera =
            activity.source?.status
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
                frames: activity.processedFrames, fps: 0, decisions: activity.decisions,
                lastDecisionAt: activity.lastDecisionAt.map(ISO8601Time.format)),
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
