import CV4L2
public import Foundation
import Synchronization
import SystemPackage

/// How to run the camera.
public struct CameraConfiguration: Sendable, Equatable {
    /// The device path; the udev rule's stable name by default. Resolved again at every reconnect.
    public var device: String = "/dev/rollcall-camera"
    public var width = 640
    public var height = 480
    public var fps = 30
    /// Manual exposure (the driver's units, usually 100 µs), or nil to leave auto exposure on.
    public var exposure: Int?
    /// Gain, or nil to leave the camera's own.
    public var gain: Int?
    /// Frames thrown away after opening, while exposure settles.
    public var skipFrames = 5
    /// A stream without a frame for this long is taken as lost.
    public var frameTimeout: Duration = .seconds(2)
    /// Waits between reconnect attempts: the first, doubling up to the cap.
    public var firstRetryDelay: Duration = .milliseconds(250)
    public var maximumRetryDelay: Duration = .seconds(2)
    /// mmap buffers.
    public var bufferCount = 4

    /// The defaults: /dev/rollcall-camera, 640x480 at 30 fps.
    public init() {}
}

/// Where the camera stands.
public enum CameraState: String, Sendable, Codable {
    /// Opening the device for the first time.
    case starting
    /// Frames are arriving.
    case streaming
    /// The device failed or went away; waiting to retry.
    case lost
    /// Trying to open the device again.
    case reconnecting
    /// Stopped on request.
    case stopped
    /// A replayed file came to its end (never a camera).
    case ended
}

/// A snapshot of the camera for status pages, `rollcall status` and the journal.
public struct CameraStatus: Sendable, Codable, Equatable {
    public var state: CameraState = .starting
    /// The configured path.
    public var device: String
    /// The node it led to last time.
    public var node: String?
    /// The driver and card of the open device.
    public var card: String?
    public var format: NegotiatedFormat?
    /// Frames delivered to the consumer (or waiting for it to take them).
    public var frames = 0
    /// Frames captured but not delivered (a newer one was ready, or the consumer was busy), plus
    /// gaps in the driver's sequence.
    public var drops = 0
    /// Buffers the driver flagged as damaged.
    public var damaged = 0
    /// Times the camera came back after being lost.
    public var reconnects = 0
    /// Opens that failed since the camera was last streaming.
    public var failedAttempts = 0
    /// The last error, for a technician.
    public var lastError: String?
    public var lastErrorCode: String?
    /// CLOCK_MONOTONIC nanoseconds of the last frame delivered.
    public var lastFrameTimestamp: UInt64?
}

/// A change a technician or a test wants to see.
public struct CameraEvent: Sendable {
    public var status: CameraStatus
    /// Wall-clock time of the change.
    public var at: Date
}

/// The door camera: V4L2 mmap streaming on a dedicated thread that delivers the newest frame, and
/// that tears everything down and reopens the device by itself when it fails or is unplugged.
public final class V4L2Camera: FrameSource {
    /// The settings it runs with.
    public let configuration: CameraConfiguration
    private let system: any V4L2Syscalls
    private let channel = FrameChannel()
    private let shared: Mutex<CameraStatus>
    private let thread = SourceThread()
    private let announced = Mutex<Set<String>>([])
    private let onEvent: (@Sendable (CameraEvent) -> Void)?

    /// Makes a camera; nothing is opened before `start()`.
    /// - Parameter onEvent: called on the capture thread at every change of state; while the camera
    ///   stays lost, each state is told once per kind of error, not at every retry.
    public init(
        configuration: CameraConfiguration, system: any V4L2Syscalls = LinuxV4L2Syscalls(),
        onEvent: (@Sendable (CameraEvent) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.system = system
        self.onEvent = onEvent
        self.shared = Mutex(CameraStatus(device: configuration.device))
    }

    /// The frames, newest first. One consumer.
    public var frames: FrameStream { FrameStream(channel: channel) }

    /// Where the camera stands now.
    public var status: CameraStatus { shared.withLock { $0 } }

    /// Starts the capture thread. Returns at once: the camera opens, retries and streams on its own.
    public func start() {
        thread.start(name: "rollcall-camera") { [self] in run() }
    }

    /// Stops streaming, releases the device and ends the frame stream; waits for the thread.
    public func stop() {
        if !thread.stop() { channel.finish() }
    }

    private var isStopping: Bool { thread.isStopping }

    /// Changes the status; with `announce`, tells `onEvent` about it unless the same state with the
    /// same error was already told since the camera last streamed (a camera missing for hours
    /// retries every 2 s, and the journal should say so once).
    private func update(announce: Bool = false, _ change: (inout CameraStatus) -> Void) {
        let snapshot = shared.withLock { status in
            change(&status)
            return status
        }
        guard announce else { return }
        let key = "\(snapshot.state.rawValue) \(snapshot.lastErrorCode ?? "")"
        let fresh = announced.withLock { told in
            if snapshot.state == .streaming || snapshot.state == .stopped { told.removeAll() }
            return told.insert(key).inserted
        }
        if fresh { onEvent?(CameraEvent(status: snapshot, at: Date())) }
    }

    // MARK: The capture thread

    private func run() {
        var delay = configuration.firstRetryDelay
        var everStreamed = false
        while !isStopping {
            do {
                try stream(afterLoss: everStreamed) { everStreamed = true }
            } catch {
                update(announce: true) { status in
                    status.state = .lost
                    status.lastError = error.description
                    status.lastErrorCode = error.code.rawValue
                    status.failedAttempts += 1
                }
                if waitBeforeRetry(delay) {
                    delay = configuration.firstRetryDelay
                } else {
                    delay = min(delay * 2, configuration.maximumRetryDelay)
                }
                continue
            }
            delay = configuration.firstRetryDelay
        }
        update(announce: true) { $0.state = .stopped }
        channel.finish()
    }

    /// Sleeps for `delay`, or less when asked to stop or when the device node, missing at first,
    /// appears (so a replugged camera streams again at once). Returns true when the node appeared.
    private func waitBeforeRetry(_ delay: Duration) -> Bool {
        let missingAtFirst = system.resolve(configuration.device) == nil
        let deadline = ContinuousClock.now + delay
        while ContinuousClock.now < deadline && !isStopping {
            Thread.sleep(forTimeInterval: 0.05)
            if missingAtFirst && system.resolve(configuration.device) != nil { return true }
        }
        return false
    }

    /// Opens, configures and streams until stopped (returns) or the device fails (throws).
    private func stream(afterLoss: Bool, onStreaming: () -> Void) throws(CaptureError) {
        update(announce: afterLoss) { $0.state = afterLoss ? .reconnecting : .starting }
        guard let node = system.resolve(configuration.device) else {
            throw CaptureError.device(configuration.device, "open", .noSuchFileOrDirectory)
        }
        let device = try V4L2Device(path: node, system: system)
        defer { device.close() }
        let capabilities = try device.capabilities()
        guard capabilities.canCaptureAndStream else {
            throw CaptureError(
                .notACamera, "\(capabilities.card) (\(capabilities.driver)) is not a video capture device that streams",
                path: node)
        }
        var format = try negotiate(device)
        // The frame interval is set before streaming: drivers such as uvcvideo refuse it after.
        format.fps = try? device.setFrameRate(configuration.fps)
        configureControls(device)
        try device.startStreaming(bufferCount: configuration.bufferCount)

        var firstSequence: UInt32?
        var lastSequence: UInt32?
        var lastFrameAt = ContinuousClock.now
        var announced = false
        while !isStopping {
            let events = try poll(device)
            if events & Int16(POLLERR | POLLHUP) != 0 {
                throw CaptureError(
                    .disconnected, "the camera went away (poll reported an error or hang-up)", path: node)
            }
            if events & Int16(POLLIN) != 0, let buffer = try newestBuffer(device) {
                defer { try? device.requeue(buffer.index) }
                if buffer.flags & UInt32(V4L2_BUF_FLAG_ERROR) != 0 {
                    update { $0.damaged += 1 }
                    continue
                }
                lastFrameAt = .now
                // The first frames after opening are dark or badly exposed: skip them by count.
                let first = firstSequence ?? buffer.sequence
                firstSequence = first
                // Frames between this one and the last taken: older ready buffers, and gaps in the
                // driver's sequence (it had no free buffer).
                let dropped = lastSequence.map { max(Int(buffer.sequence &- $0) - 1, 0) } ?? 0
                lastSequence = buffer.sequence
                if buffer.sequence &- first < UInt32(configuration.skipFrames) { continue }
                let frame = Frame(
                    format: format.pixelFormat, width: format.width, height: format.height,
                    bytesPerLine: format.pixelFormat == .mjpeg ? 0 : format.bytesPerLine,
                    data: Array(device.contents(of: buffer)),
                    timestamp: buffer.monotonicNanoseconds ?? Monotonic.nanoseconds(),
                    sequence: UInt64(buffer.sequence), droppedBefore: dropped)
                let replaced = channel.send(frame)
                if !announced {
                    announced = true
                    onStreaming()
                    update(announce: true) { status in
                        if afterLoss { status.reconnects += 1 }
                        status.state = .streaming
                        status.node = node
                        status.card = "\(capabilities.card) (\(capabilities.driver), \(capabilities.bus))"
                        status.format = format
                        status.failedAttempts = 0
                    }
                }
                update { status in
                    status.frames += 1
                    status.drops += dropped
                    if replaced {
                        // The frame it replaced was counted when sent, but never reached the consumer.
                        status.frames -= 1
                        status.drops += 1
                    }
                    status.lastFrameTimestamp = frame.timestamp
                }
            }
            if ContinuousClock.now - lastFrameAt > configuration.frameTimeout {
                throw CaptureError(
                    .timeout, "no frame for \(configuration.frameTimeout) (is the camera covered, or stalled?)",
                    path: node)
            }
        }
    }

    /// Picks YUYV, then GREY, then MJPEG (decoded later), among the formats the camera itself
    /// delivers (not libv4l2's software conversions), and reads back what the driver chose.
    private func negotiate(_ device: V4L2Device) throws(CaptureError) -> NegotiatedFormat {
        let offered = try device.formats(withSizes: false).filter { !$0.emulated }.map(\.fourcc)
        let preference: [PixelFormat] = [.yuyv, .grey, .mjpeg]
        guard
            let wanted = preference.first(where: {
                offered.contains($0.rawValue) || ($0 == .mjpeg && offered.contains("JPEG"))
            })
        else {
            throw CaptureError(
                .unsupportedFormat,
                "the camera offers \(offered.joined(separator: ", ")); rollcall needs YUYV, GREY or MJPEG",
                path: device.path)
        }
        let format = try device.setFormat(wanted, width: configuration.width, height: configuration.height)
        guard preference.contains(format.pixelFormat) else {
            throw CaptureError(.unsupportedFormat, "the driver chose \(format.pixelFormat.rawValue)", path: device.path)
        }
        return format
    }

    private func configureControls(_ device: V4L2Device) {
        // Auto-exposure priority lets a camera lower its frame rate in dim light; the door needs
        // the frame rate more than the brightness.
        _ = try? device.setControl(CV4L2_CID_EXPOSURE_AUTO_PRIORITY, 0)
        if let exposure = configuration.exposure {
            _ = try? device.setControl(CV4L2_CID_EXPOSURE_AUTO, Int32(V4L2_EXPOSURE_MANUAL.rawValue))
            _ = try? device.setControl(CV4L2_CID_EXPOSURE_ABSOLUTE, Int32(clamping: exposure))
        }
        if let gain = configuration.gain {
            _ = try? device.setControl(CV4L2_CID_GAIN, Int32(clamping: gain))
        }
    }

    private func poll(_ device: V4L2Device, timeout: Int32 = 100) throws(CaptureError) -> Int16 {
        do {
            return try system.poll(device.fd, events: Int16(POLLIN | POLLPRI), timeout: timeout)
        } catch {
            throw CaptureError.device(device.path, "poll", error)
        }
    }

    /// Dequeues every ready buffer and gives all but the newest straight back to the driver. A
    /// buffer is asked for only when poll says one is ready, not until DQBUF answers EAGAIN: libv4l2
    /// writes a line to stderr (the journal, under systemd) for every DQBUF that finds none.
    private func newestBuffer(_ device: V4L2Device) throws(CaptureError) -> DequeuedBuffer? {
        var newest = try device.dequeue()  // poll said POLLIN; nil after a spurious wake-up
        while let previous = newest, try poll(device, timeout: 0) & Int16(POLLIN) != 0,
            let buffer = try device.dequeue()
        {
            try device.requeue(previous.index)
            newest = buffer
        }
        return newest
    }
}
