import Capture
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Outbox
import Pipeline
import Prometheus
import Recognition
import ServiceLifecycle
import Signage
import Sync
import Synchronization
import Systemd
import UnixSignals

/// The door: captures frames and decides, with the frame source the configuration names, until the
/// source ends (a replayed file) or a command restarts it; takes the other services' commands in order.
/// On shutdown, stops capture and decides the frames being analysed.
struct DoorService: Service {
    let workers: PipelineWorkers
    let outbox: Outbox
    let settings: Settings
    let inputs: InputsState
    let activity: DoorActivity
    let output: DoorOutput
    let commands: AsyncStream<DoorCommand>
    let logger: Logger

    func run() async throws {
        let (restarts, restart) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let stop = StopFlag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await command in commands {
                    switch command {
                    case .reloadInputs:
                        await inputs.reload(settings.current)
                    case .restartCapture:
                        // The frames already taken are decided and committed before the source opens again.
                        // The source running now, read before the capture loop may open the next one.
                        let running = activity.snapshot.source
                        restart.yield()
                        await running?.source.shutdown()
                    }
                }
            }
            try await withGracefulShutdownHandler {
                try await capture(restarts: restarts, stop: stop)
            } onGracefulShutdown: {
                // The door decides on the frames whose analysis has begun, drops the rest (none of them was
                // decided, so nothing committed or shown is lost) and returns.
                stop.set()
                restart.finish()
                if let source = activity.snapshot.source { Task.detached { await source.source.shutdown() } }
            }
            group.cancelAll()
        }
    }

    /// Captures and decides until stopped; after the source ends, waits for a restart.
    private func capture(restarts: AsyncStream<Void>, stop: StopFlag) async throws {
        var waiting = restarts.makeAsyncIterator()
        while !stop.isSet {
            let configuration = settings.current
            let source = DoorSource.make(configuration, logger: logger)
            // The new door starts from the inputs in force: an update waiting for the old one is moot.
            inputs.dropUpdate()
            let door = Door(workers: workers, configuration: configuration, inputs: inputs.current, outbox: outbox)
            activity.started(source)
            source.source.start()
            logger.notice(
                "capture started",
                metadata: [
                    "source": "\(source.description)",
                    "accept_distance": "\(String(format: "%.3f", door.calibration.policy.acceptDistance))",
                    "false_match_target": "\(configuration.falseMatchTarget)",
                    "presentation_check": "\(configuration.presentationCheck ? "on" : "off")",
                ])
            if !configuration.presentationCheck {
                logger.warning(
                    "the presentation-attack check is off (recognition.presentation_check = false): a photo of a student checks them in"
                )
            }
            let started = Monotonic.nanoseconds()
            let summary = try await door.run(
                frames: source.source.frames,
                clock: { _ in (Double(Monotonic.nanoseconds() - started) / 1e9, Date()) },
                updates: {
                    activity.tookFrame()
                    return inputs.takeUpdate()
                },
                stopping: { stop.isSet }, sink: output)
            await source.source.shutdown()
            if summary.framesDroppedAtStop > 0 {
                logger.info(
                    "stopping: frames taken but not yet analysed were dropped",
                    metadata: ["frames": "\(summary.framesDroppedAtStop)"])
            }
            // The source ended: stopped for a restart or for good, or a replayed file came to its end.
            if stop.isSet { return }
            guard await waiting.next() != nil else { return }
        }
    }
}

/// Set once, read from any thread: the door is stopping.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}

/// Pushes the outbox to the hub and pulls the gallery, schedule and keys; when they bring anything new,
/// the door reloads its inputs.
struct SyncService: Service {
    let client: SyncClient
    let door: AsyncStream<DoorCommand>.Continuation
    let reporter: StatusReporter

    func run() async throws {
        let versions = VersionsSeen()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                // The push channel asks the loop to pull as soon as the hub has changes for this door.
                group.addTask { await client.watchChanges() }
                group.addTask {
                    await client.run(pollInterval: 1, heartbeat: { await reporter.heartbeat() }) { refresh in
                        if await versions.changed(refresh) { door.yield(.reloadInputs) }
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Whether a refresh brought anything the door has not loaded.
    actor VersionsSeen {
        private var seen: (gallery: Int64, count: Int)?

        func changed(_ refresh: SyncClient.Refresh) -> Bool {
            defer { seen = (refresh.galleryVersion, (seen?.count ?? 0) + 1) }
            return seen == nil || refresh.manifestChanged || refresh.peopleChanged > 0 || refresh.peopleRemoved > 0
                || refresh.galleryVersion != seen?.gallery || refresh.badgeKeysChanged
        }
    }
}

/// SIGHUP: reads the configuration again; a broken one is refused and the running one kept. The door
/// re-reads the gallery, schedule and keys; a changed camera restarts capture (the frames already taken
/// are decided and committed first: nothing is dropped).
struct ReloadService: Service {
    let settings: Settings
    let door: AsyncStream<DoorCommand>.Continuation
    let metrics: KioskMetrics
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            reload()
        }
    }

    func reload() {
        SystemdNotifier.notify("RELOADING=1\nSTATUS=reloading the configuration")
        defer { SystemdNotifier.notify("READY=1") }
        metrics.reloads.increment()
        let new: KioskConfiguration
        do {
            new = try KioskConfiguration.load(path: settings.path)
        } catch {
            logger.error("reload refused, the running configuration stays: \(error)")
            return
        }
        let old = settings.replace(with: new)
        JournalLogHandler.level.withLock { $0 = Logger.Level(rawValue: new.logLevel) ?? .info }
        for (key, changed) in [
            ("device.id", old.deviceID != new.deviceID), ("device.data_dir", old.dataDirectory != new.dataDirectory),
            ("hub.url", old.hubURL != new.hubURL), ("hub.token_file", old.tokenFile != new.tokenFile),
            ("hub.refresh_seconds", old.refreshSeconds != new.refreshSeconds),
            ("recognition.workers", old.workers != new.workers), ("signage.port", old.signagePort != new.signagePort),
        ] where changed {
            logger.warning("\(key) changed: it takes effect when the daemon restarts (systemctl restart rollcall)")
        }
        door.yield(.reloadInputs)
        if !old.sameCapture(as: new) || old.upsample != new.upsample {
            logger.notice("the camera settings changed: capture restarts")
            door.yield(.restartCapture)
        }
        logger.notice("configuration reloaded from \(settings.path)")
    }
}

/// Every second: the status (for `rollcall status`, `/status`, `STATUS=`, `/metrics` and the page's
/// state), and `WATCHDOG=1` while capture and processing make progress.
struct MonitorService: Service {
    let reporter: StatusReporter
    let board: StatusBoard
    let broadcaster: SignageBroadcaster
    let metrics: KioskMetrics
    let activity: DoorActivity
    let logger: Logger

    func run() async throws {
        let watchdog = SystemdNotifier.watchdogInterval()
        // Test only: ROLLCALL_TEST_STARVE_WATCHDOG_AFTER=N stops feeding the watchdog N seconds after
        // READY=1, as a hung daemon would, so that a test can see systemd kill and restart it.
        let starveAfter = ProcessInfo.processInfo.environment["ROLLCALL_TEST_STARVE_WATCHDOG_AFTER"].flatMap(Int.init)
        var starveAt: ContinuousClock.Instant?
        var lastPing = ContinuousClock.now
        var lastProgress: (source: Int, processed: Int)?
        var lastLine = ""
        var lastPageState = ""
        var cameraFrames: [(at: ContinuousClock.Instant, frames: Int)] = []
        var ticks = 0
        var ready = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = ContinuousClock.now
            let snapshot = activity.snapshot
            let (source, processed) = (snapshot.source, snapshot.processedFrames)
            // Frames a second over the last 5 s.
            let frames = source?.status.frames ?? 0
            if let last = cameraFrames.last, frames < last.frames { cameraFrames.removeAll() }
            cameraFrames.append((now, frames))
            cameraFrames.removeAll { now - $0.at > .seconds(5) }
            var fps = 0.0
            if let first = cameraFrames.first, now > first.at {
                let span = now - first.at
                fps =
                    Double(frames - first.frames)
                    / (Double(span.components.seconds) + Double(span.components.attoseconds) / 1e18)
            }
            var status = await reporter.status(cameraFPS: fps)
            status.processing.fps = fps
            board.post(status)
            metrics.update(from: status)
            if !ready, board.signagePort != 0 {
                ready = true
                if let starveAfter {
                    starveAt = now + .seconds(starveAfter)
                    logger.warning(
                        "test switch ROLLCALL_TEST_STARVE_WATCHDOG_AFTER: the watchdog will not be fed after \(starveAfter) s"
                    )
                }
                SystemdNotifier.notify("READY=1\nSTATUS=\(status.line)")
                logger.notice("ready: \(status.line)")
            }
            if status.line != lastLine {
                lastLine = status.line
                SystemdNotifier.notify("STATUS=\(status.line)")
            }
            let pageState = status.pageState.json
            if pageState != lastPageState {
                lastPageState = pageState
                broadcaster.publishState(pageState)
            }
            ticks += 1
            if ticks % 15 == 0 { broadcaster.ping() }
            // Progress: the source delivered frames (or, while the camera is lost, kept retrying), and
            // the pipeline took frames since the last check; a replay at its end is idle, not stuck.
            if let watchdog, now - lastPing >= watchdog / 2 {
                let progress = (source: source?.progress ?? 0, processed: processed)
                let sourceMoved =
                    lastProgress == nil || progress.source != lastProgress?.source || progress.source == -1
                let cameraDelivering = status.camera.state == .streaming && progress.source != -1
                let pipelineMoved =
                    lastProgress == nil || !cameraDelivering || progress.processed != lastProgress?.processed
                if let starveAt, now >= starveAt {
                    logger.error("test switch: watchdog not fed")
                } else if ready && sourceMoved && pipelineMoved {
                    SystemdNotifier.notify("WATCHDOG=1")
                } else {
                    logger.error(
                        "no progress: watchdog not fed",
                        metadata: ["camera": "\(status.camera.state.rawValue)", "processed_frames": "\(processed)"])
                }
                lastProgress = progress
                lastPing = now
            }
            // Woken early by a shutdown: the services stop one after the other, this one first.
            await cancelWhenGracefulShutdown { try? await Task.sleep(for: .seconds(1)) }
        }
        SystemdNotifier.notify("STOPPING=1\nSTATUS=stopping")
        logger.notice("stopping: capture ends, the frames being analysed are decided and committed")
    }
}

/// The signage page, its live stream, and the technician's endpoints, on 127.0.0.1 only.
struct SignageService: Service {
    let port: Int
    let board: StatusBoard
    let broadcaster: SignageBroadcaster
    let metrics: KioskMetrics
    let logger: Logger

    func run() async throws {
        let (port, board, logger) = (port, board, logger)
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "rollcall"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                board.listening(on: bound)
                logger.notice("signage page on http://127.0.0.1:\(bound)/")
            },
            logger: Logger(label: "rollcall.signage"))
        try await withGracefulShutdownHandler {
            try await app.run()
        } onGracefulShutdown: {
            broadcaster.finish()
        }
    }

    func router() -> Router<BasicRequestContext> {
        let (board, broadcaster, metrics) = (board, broadcaster, metrics)
        let router = Router()
        router.get("/") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: SignagePage.html)))
        }
        router.get("events") { _, _ in
            let stream = broadcaster.subscribe()
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                body: ResponseBody { writer in
                    for await message in stream {
                        try await writer.write(ByteBuffer(string: message))
                    }
                    try await writer.finish(nil)
                })
        }
        router.get("status") { _, _ in
            guard let status = board.current else {
                return Response(
                    status: .serviceUnavailable, body: ResponseBody(byteBuffer: ByteBuffer(string: "starting\n")))
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: status.json)))
        }
        router.get("healthz") { _, _ in
            guard let status = board.current else {
                return Response(
                    status: .serviceUnavailable, body: ResponseBody(byteBuffer: ByteBuffer(string: "starting\n")))
            }
            if let problem = status.problem {
                return Response(
                    status: .serviceUnavailable, body: ResponseBody(byteBuffer: ByteBuffer(string: problem + "\n")))
            }
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.text())))
        }
        return router
    }
}
