import Capture
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Pipeline
import ServiceLifecycle
import Signage
import Sync
import Synchronization
import Systemd
import UnixSignals

/// Captures frames and decides (`KioskDaemon.runDoor`); on shutdown, stops capture and decides the
/// frames being analysed.
struct DoorService: Service {
    let daemon: KioskDaemon

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await daemon.runDoor()
        } onGracefulShutdown: {
            daemon.stopDoor()
        }
    }
}

/// Pushes the outbox to the hub and pulls the gallery, schedule and keys; new ones reach the door.
struct SyncService: Service {
    let daemon: KioskDaemon
    let client: SyncClient

    func run() async throws {
        let versions = VersionsSeen()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                // The push channel asks the loop to pull as soon as the hub has changes for this door.
                group.addTask { await client.watchChanges() }
                group.addTask {
                    await client.run(pollInterval: 1, heartbeat: { await daemon.heartbeat() }) { refresh in
                        if await versions.changed(refresh) { await daemon.refreshInputs() }
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

/// SIGHUP: reload the configuration and the gallery.
struct ReloadService: Service {
    let daemon: KioskDaemon

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            await daemon.reload()
        }
    }
}

/// Every second: the status (for `rollcall status`, `/status`, `STATUS=`, `/metrics` and the page's
/// state), and `WATCHDOG=1` while capture and processing make progress.
struct MonitorService: Service {
    let daemon: KioskDaemon

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
            let (source, processed) = daemon.runtime.withLock { ($0.source, $0.processedFrames) }
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
            var status = await daemon.computeStatus(cameraFPS: fps)
            status.processing.fps = fps
            daemon.setStatus(status)
            daemon.metrics.update(from: status)
            if !ready, daemon.signageListening {
                ready = true
                if let starveAfter {
                    starveAt = now + .seconds(starveAfter)
                    daemon.logger.warning(
                        "test switch ROLLCALL_TEST_STARVE_WATCHDOG_AFTER: the watchdog will not be fed after \(starveAfter) s"
                    )
                }
                SystemdNotifier.notify("READY=1\nSTATUS=\(status.line)")
                daemon.logger.notice("ready: \(status.line)")
            }
            if status.line != lastLine {
                lastLine = status.line
                SystemdNotifier.notify("STATUS=\(status.line)")
            }
            let pageState = status.pageState.json
            if pageState != lastPageState {
                lastPageState = pageState
                daemon.broadcaster.publishState(pageState)
            }
            ticks += 1
            if ticks % 15 == 0 { daemon.broadcaster.ping() }
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
                    daemon.logger.error("test switch: watchdog not fed")
                } else if ready && sourceMoved && pipelineMoved {
                    SystemdNotifier.notify("WATCHDOG=1")
                } else {
                    daemon.logger.error(
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
        daemon.logger.notice("stopping: capture ends, the frames being analysed are decided and committed")
    }
}

/// The signage page, its live stream, and the technician's endpoints, on 127.0.0.1 only.
struct SignageService: Service {
    let daemon: KioskDaemon

    func run() async throws {
        let port = daemon.configuration.signagePort
        let app = Application(
            router: Self.router(daemon),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "rollcall"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                daemon.listening(port: bound)
                daemon.logger.notice("signage page on http://127.0.0.1:\(bound)/")
            },
            logger: Logger(label: "rollcall.signage"))
        try await withGracefulShutdownHandler {
            try await app.run()
        } onGracefulShutdown: {
            daemon.broadcaster.finish()
        }
    }

    static func router(_ daemon: KioskDaemon) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: SignagePage.html)))
        }
        router.get("events") { _, _ in
            let stream = daemon.broadcaster.subscribe()
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
            guard let status = daemon.status else {
                return Response(
                    status: .serviceUnavailable, body: ResponseBody(byteBuffer: ByteBuffer(string: "starting\n")))
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: status.json)))
        }
        router.get("healthz") { _, _ in
            guard let status = daemon.status else {
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
                body: ResponseBody(byteBuffer: ByteBuffer(string: daemon.metrics.text())))
        }
        return router
    }
}
