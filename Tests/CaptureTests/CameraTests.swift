import CV4L2
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Capture

/// Polls `condition` until it holds or `seconds` pass (conditions, not timings, are asserted; the
/// bound is generous because a loaded CI machine can starve a test for seconds). It sleeps with
/// `Task.sleep`, so a waiting test does not hold one of the few cooperative threads.
func eventually(_ seconds: Double = 30, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

func quickConfiguration() -> CameraConfiguration {
    var configuration = CameraConfiguration()
    configuration.skipFrames = 2
    // Never trips in tests that feed frames by hand, however loaded the machine; the timeout
    // itself is tested on its own.
    configuration.frameTimeout = .seconds(3600)
    configuration.firstRetryDelay = .milliseconds(20)
    configuration.maximumRetryDelay = .milliseconds(200)
    return configuration
}

/// Takes the next frame from a camera's stream, with a bound on the wait.
func nextFrame(_ camera: V4L2Camera, within seconds: Double = 30) async -> Frame? {
    await withDeadline(seconds) {
        var iterator = camera.frames.makeAsyncIterator()
        return await iterator.next()
    }
}

@Suite("V4L2 camera against a simulated device")
struct CameraTests {
    @Test("negotiates YUYV over MJPEG at the size the driver chooses, and streams")
    func negotiatesAndStreams() async throws {
        let device = SimulatedCamera()
        device.with { $0.sizes = [(320, 240)] }
        let camera = V4L2Camera(configuration: quickConfiguration(), system: device)
        camera.start()
        defer { camera.stop() }
        let frame = try #require(await nextFrame(camera))
        #expect(frame.format == .yuyv)
        #expect(frame.width == 320 && frame.height == 240 && frame.bytesPerLine == 640)
        #expect(frame.data.count == 320 * 240 * 2)
        #expect(frame.data[0] == UInt8(truncatingIfNeeded: frame.sequence))
        #expect(frame.sequence >= 2, "the first frames after opening are skipped")
        let status = camera.status
        #expect(status.state == .streaming)
        #expect(status.format?.pixelFormat == .yuyv)
        #expect(status.format?.fps == 15, "the rate is the one the driver reports back")
        #expect(device.with { $0.frameRateSet }, "the interval is set before streaming starts")
        #expect(status.node == "/dev/video0")
        #expect(device.with { $0.controls[CV4L2_CID_EXPOSURE_AUTO_PRIORITY] } == 0)
    }

    @Test("MJPEG when the camera offers nothing else; a camera with no usable format is refused")
    func formatFallbacks() async throws {
        let mjpeg = SimulatedCamera()
        mjpeg.with { $0.formats = [CV4L2_PIX_FMT_MJPEG] }
        let camera = V4L2Camera(configuration: quickConfiguration(), system: mjpeg)
        camera.start()
        let frame = try #require(await nextFrame(camera))
        #expect(frame.format == .mjpeg)
        camera.stop()

        let unusable = SimulatedCamera()
        unusable.with { $0.formats = [PixelFormat.code("RGB3")] }
        let refused = V4L2Camera(configuration: quickConfiguration(), system: unusable)
        refused.start()
        defer { refused.stop() }
        #expect(await eventually { refused.status.lastErrorCode == "unsupported_format" })
        #expect(refused.status.state != .streaming)
        #expect(refused.status.lastError?.contains("YUYV") == true)
    }

    @Test("manual exposure and gain go to the camera when configured")
    func controls() async throws {
        let device = SimulatedCamera()
        var configuration = quickConfiguration()
        configuration.exposure = 150
        configuration.gain = 10  // the simulated camera has no gain control: ignored, not fatal
        let camera = V4L2Camera(configuration: configuration, system: device)
        camera.start()
        defer { camera.stop() }
        _ = try #require(await nextFrame(camera))
        #expect(device.with { $0.controls[CV4L2_CID_EXPOSURE_AUTO] } == Int32(V4L2_EXPOSURE_MANUAL.rawValue))
        #expect(device.with { $0.controls[CV4L2_CID_EXPOSURE_ABSOLUTE] } == 150)
    }

    @Test("the newest frame is delivered; older ready buffers are requeued and counted as drops")
    func newestFrame() async throws {
        let device = SimulatedCamera()
        device.with { $0.framesPerPoll = 0 }
        let camera = V4L2Camera(configuration: quickConfiguration(), system: device)
        camera.start()
        defer { camera.stop() }
        #expect(await eventually { device.with { $0.streaming } })
        device.produce(2)  // skipped while exposure settles
        #expect(await eventually { device.with { $0.filled.isEmpty && $0.queued.count == 4 } })
        device.produce(3)  // three ready at once: only the last is delivered
        let frame = try #require(
            await nextFrame(camera), "\(camera.status) \(device.with { "\($0.filled) \($0.queued)" })")
        #expect(frame.sequence == 4)
        #expect(camera.status.drops == 2)
        #expect(await eventually { device.with { $0.queued.count == 4 } }, "every buffer goes back to the driver")
        // Six frames with no free buffer: the driver's sequence jumps, which counts too.
        device.with { $0.queued.removeAll() }
        device.produce(6)
        device.with { $0.queued = [0, 1, 2, 3] }
        device.produce(1)
        let later = try #require(
            await nextFrame(camera), "\(camera.status) \(device.with { "\($0.filled) \($0.queued) \($0.sequence)" })")
        #expect(later.sequence == 11)
        #expect(camera.status.drops == 2 + 6)
    }

    @Test("buffers are dequeued only when poll says one is ready: no DQBUF finds none (libv4l2 logs each)")
    func noEmptyDequeues() async throws {
        let device = SimulatedCamera()
        let camera = V4L2Camera(configuration: quickConfiguration(), system: device)
        camera.start()
        defer { camera.stop() }
        for _ in 0..<5 { _ = try #require(await nextFrame(camera)) }
        device.with { $0.framesPerPoll = 0 }
        device.produce(3)  // several ready at once: the newest is taken, the others given back
        _ = try #require(await nextFrame(camera))
        #expect(device.with { $0.emptyDequeues } == 0)
    }

    @Test("a busy consumer gets the newest frame, with the frames it missed counted")
    func slowConsumer() async throws {
        let device = SimulatedCamera()
        let camera = V4L2Camera(configuration: quickConfiguration(), system: device)
        camera.start()
        defer { camera.stop() }
        _ = try #require(await nextFrame(camera))
        // Not taking frames: each new one replaces the one waiting. (Frames may have been replaced
        // before the first one was taken too: count from here.)
        let before = camera.status.drops
        #expect(await eventually { camera.status.drops > before + 20 })
        #expect(camera.status.frames == 2, "the first frame, and the one waiting now")
        let frame = try #require(await nextFrame(camera))
        #expect(frame.droppedBefore > 20, "\(camera.status)")
    }

    @Test("a spurious wake-up (POLLIN, then EAGAIN) and a damaged buffer are survived")
    func eagainAndDamagedBuffers() async throws {
        let device = SimulatedCamera()
        device.with { $0.framesPerPoll = 0 }
        let camera = V4L2Camera(configuration: quickConfiguration(), system: device)
        camera.start()
        defer { camera.stop() }
        #expect(await eventually { device.with { $0.streaming } })
        device.produce(2)
        #expect(await eventually { device.with { $0.filled.isEmpty && $0.queued.count == 4 } })
        device.with { $0.spuriousWakeups = 3 }
        #expect(await eventually { device.with { $0.spuriousWakeups == 0 } })
        device.with { $0.damageNext = true }
        device.produce(1)
        #expect(await eventually { camera.status.damaged == 1 })
        device.produce(1)
        let frame = try #require(
            await nextFrame(camera), "\(camera.status) \(device.with { "\($0.filled) \($0.queued) \($0.sequence)" })")
        #expect(frame.sequence == 3)
        #expect(camera.status.state == .streaming)
        #expect(camera.status.reconnects == 0)
    }

    @Test("ENODEV mid-stream: torn down, reopened, streaming again; nothing leaks")
    func unplugMidStream() async throws {
        let device = SimulatedCamera()
        let events = Mutex<[CameraState]>([])
        let camera = V4L2Camera(configuration: quickConfiguration(), system: device) { event in
            events.withLock { $0.append(event.status.state) }
        }
        camera.start()
        _ = try #require(await nextFrame(camera))
        for round in 1...3 {
            device.with { state in
                state.unplugged = true
                state.links = [:]  // the node vanishes, as with a USB camera
            }
            #expect(await eventually { camera.status.state == .lost || camera.status.state == .reconnecting })
            #expect(camera.status.lastErrorCode == "disconnected" || camera.status.lastErrorCode == "device_missing")
            #expect(await eventually { device.with { $0.openFDs.isEmpty && $0.mapped.isEmpty } }, "released while lost")
            device.with { state in
                state.unplugged = false
                state.links = ["/dev/rollcall-camera": "/dev/video0", "/dev/video0": "/dev/video0"]
            }
            #expect(await eventually { camera.status.state == .streaming && camera.status.reconnects == round })
            _ = try #require(await nextFrame(camera))
        }
        await camera.shutdown()
        #expect(camera.status.state == .stopped)
        device.with { state in
            #expect(state.openFDs.isEmpty)
            #expect(state.mapped.isEmpty)
            #expect(state.opens == state.closes)
        }
        let seen = events.withLock { $0 }
        #expect(seen.first == .streaming && seen.last == .stopped)
        #expect(seen.contains(.lost) && seen.contains(.reconnecting))
    }

    @Test("missing at start, then plugged in: streams; the symlink is resolved again each time")
    func missingAtStart() async throws {
        let device = SimulatedCamera()
        device.with { $0.links = [:] }
        let events = Mutex<[CameraState]>([])
        let camera = V4L2Camera(configuration: quickConfiguration(), system: device) { event in
            events.withLock { $0.append(event.status.state) }
        }
        camera.start()
        defer { camera.stop() }
        #expect(await eventually { camera.status.lastErrorCode == "device_missing" })
        #expect(camera.status.lastError?.contains("udev") == true)
        #expect(await eventually { camera.status.failedAttempts >= 5 }, "it keeps trying")
        #expect(events.withLock { $0 } == [.lost], "told once, not at every retry")
        device.with { $0.links = ["/dev/rollcall-camera": "/dev/video3", "/dev/video3": "/dev/video3"] }
        _ = try #require(await nextFrame(camera))
        #expect(camera.status.node == "/dev/video3")
        #expect(camera.status.failedAttempts == 0)
    }

    @Test("busy, then free: it retries and streams")
    func busyThenFree() async throws {
        let device = SimulatedCamera()
        device.with { $0.busy = true }
        let camera = V4L2Camera(configuration: quickConfiguration(), system: device)
        camera.start()
        defer { camera.stop() }
        #expect(await eventually { camera.status.lastErrorCode == "busy" })
        #expect(camera.status.lastError?.contains("another program") == true)
        device.with { $0.busy = false }
        _ = try #require(await nextFrame(camera))
    }

    @Test("no frame within the timeout: reopened")
    func stalledStream() async throws {
        let device = SimulatedCamera()
        var configuration = quickConfiguration()
        configuration.frameTimeout = .milliseconds(300)
        let camera = V4L2Camera(configuration: configuration, system: device)
        camera.start()
        defer { camera.stop() }
        _ = try #require(await nextFrame(camera))
        device.with { $0.framesPerPoll = 0 }
        #expect(await eventually { camera.status.lastErrorCode == "timeout" })
        device.with { $0.framesPerPoll = 1 }
        #expect(await eventually { camera.status.state == .streaming && camera.status.reconnects == 1 })
    }

    @Test("stop ends the frame stream and releases the device")
    func stopEndsStream() async throws {
        let device = SimulatedCamera()
        let camera = V4L2Camera(configuration: quickConfiguration(), system: device)
        camera.start()
        _ = try #require(await nextFrame(camera))
        let consumer = Task {
            var count = 0
            for await _ in camera.frames { count += 1 }
            return count
        }
        try await Task.sleep(for: .milliseconds(50))
        await camera.shutdown()
        let count = await consumer.value
        #expect(count >= 0)
        #expect(camera.status.state == .stopped)
        #expect(device.with { $0.openFDs.isEmpty && $0.mapped.isEmpty })
    }
}
