import ArgumentParser
import Capture
import Foundation
import Imaging
import QRScanning
import Synchronization
import Vision

/// `rollcall camera`: the technician's camera tools.
struct CameraCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "camera",
        abstract: "List, test and measure cameras.",
        subcommands: [CameraList.self, CameraSnapshot.self, CameraStats.self]
    )
}

/// The camera options every camera command shares.
struct CameraOptions: ParsableArguments {
    @Option(help: "The camera's device path (the udev rule's stable name by default).")
    var device = CameraConfiguration().device

    @Option(help: "Frame size to ask for, WIDTHxHEIGHT (the driver may choose another).")
    var size = "640x480"

    @Option(help: "Frame rate to ask for.")
    var fps = 30

    func validate() throws {
        guard parsedSize != nil else { throw ValidationError("--size must look like 640x480") }
        guard (1...240).contains(fps) else { throw ValidationError("--fps must be between 1 and 240") }
    }

    var parsedSize: (Int, Int)? {
        let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { return nil }
        return (parts[0], parts[1])
    }

    var configuration: CameraConfiguration {
        var configuration = CameraConfiguration()
        configuration.device = device
        if let (width, height) = parsedSize {
            configuration.width = width
            configuration.height = height
        }
        configuration.fps = fps
        return configuration
    }
}

struct CameraList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List video capture devices with driver, bus, formats, sizes and frame rates."
    )

    @Flag(help: "Print a JSON array.")
    var json = false

    func run() throws {
        let cameras = CameraDirectory.list()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            printLine(String(decoding: try encoder.encode(cameras), as: UTF8.self))
            return
        }
        guard !cameras.isEmpty else {
            printLine("no camera found (no video capture device under /dev)")
            return
        }
        for camera in cameras {
            let names = camera.links.isEmpty ? "" : " (" + camera.links.joined(separator: ", ") + ")"
            printLine("\(camera.node)\(names)")
            if let error = camera.error {
                printLine("  error: \(error)")
                continue
            }
            if let caps = camera.capabilities {
                printLine("  \(caps.card), driver \(caps.driver), bus \(caps.bus)")
            }
            for format in camera.formats {
                printLine("  \(format.fourcc) \(format.description)\(format.emulated ? " (converted by libv4l2)" : "")")
                for size in format.sizes {
                    let rates = size.fps.map { String(format: "%g", $0) }.joined(separator: ", ")
                    printLine("    \(size.size)\(rates.isEmpty ? "" : " @ \(rates) fps")")
                }
            }
        }
    }
}

struct CameraSnapshot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Save one frame from the camera as a PNG file."
    )

    @OptionGroup var camera: CameraOptions

    @Option(help: ArgumentHelp("The PNG file to write.", valueName: "file.png"))
    var out: String

    @Option(help: "Seconds to wait for a frame before giving up.")
    var timeout = 10

    func run() async throws {
        let source = V4L2Camera(configuration: camera.configuration)
        source.start()
        let frame = await first(of: source, within: .seconds(timeout))
        let status = source.status
        await source.shutdown()
        guard let frame else {
            printError(
                "no frame from \(camera.device) within \(timeout) s: \(status.lastError ?? "the camera sent nothing")")
            throw ExitCode.failure
        }
        do {
            // Conversion and PNG encoding are OpenCV calls: on a thread of their own, not the pool.
            let encoder = try ThreadPool(name: "rollcall-snapshot", count: 1) { () }
            let png = try await encoder.run { _ in try frame.rgbImage().pngData() }
            try png.write(to: URL(fileURLWithPath: out))
        } catch {
            printError("cannot write \(out): \(error)")
            throw ExitCode.failure
        }
        printLine(
            "\(out): \(frame.width)x\(frame.height) \(frame.format.rawValue) frame from \(status.node ?? camera.device)"
        )
    }
}

/// The first frame of a camera, or nil when none comes within `limit`.
func first(of camera: V4L2Camera, within limit: Duration) async -> Frame? {
    await withTaskGroup(of: Frame?.self) { group in
        group.addTask {
            var frames = camera.frames.makeAsyncIterator()
            return await frames.next()
        }
        group.addTask {
            try? await Task.sleep(for: limit)
            return nil
        }
        let frame = await group.next() ?? nil
        group.cancelAll()
        return frame
    }
}

struct CameraStats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Stream for a while and report frames delivered, fps, drops, frame age and reconnects.",
        discussion: """
            The camera reconnects by itself when it fails or is unplugged, as in the daemon; reconnects \
            are counted. With --json the report is one object with frames, fps, drops, reconnects, \
            frame_age_ms, format and state.
            """
    )

    @OptionGroup var camera: CameraOptions

    @Option(help: "How long to stream (Ctrl-C or SIGTERM stops earlier, with the report).")
    var seconds = 10

    @Flag(help: "Print the report as one JSON object.")
    var json = false

    @Flag(help: "Also read QR codes in every frame and report the payloads seen.")
    var scanQr = false

    @Option(
        help: ArgumentHelp(
            "Append one JSON line per camera state change and per QR code seen to this file.", valueName: "file"))
    var events: String?

    func validate() throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be at least 1") }
    }

    func run() async throws {
        let log = try events.map { try EventLog(path: $0) }
        let source = V4L2Camera(configuration: camera.configuration) { event in
            log?.write(CameraStatsEvent(event))
        }
        let scanner = scanQr ? try ThreadPool(name: "rollcall-qr", count: 1) { QRScanner() } : nil
        let started = ContinuousClock.now
        source.start()
        let stopper = Task {
            try? await Task.sleep(for: .seconds(seconds))
            await source.shutdown()
        }
        // Ctrl-C or SIGTERM ends the measurement early, with the report.
        let interrupts = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let interrupt = DispatchSource.makeSignalSource(signal: number, queue: .global())
            interrupt.setEventHandler { stopper.cancel() }
            interrupt.resume()
            return interrupt
        }
        defer { for interrupt in interrupts { interrupt.cancel() } }
        var frames = 0
        var ages: [Double] = []
        var formats: Set<String> = []
        var payloads: [String] = []
        var inLastFrame: Set<String> = []
        for await frame in source.frames {
            frames += 1
            ages.append(Double(frame.age) / 1e6)
            formats.insert(frame.format.rawValue)
            if let scanner {
                let found = try await scanner.run { try $0.scan(frame.greyImage()) }
                let inFrame = Set(found.map { String(decoding: $0, as: UTF8.self) })
                // Logged when a code comes into view, not on every frame it stays in.
                for payload in inFrame.subtracting(inLastFrame).sorted() {
                    if !payloads.contains(payload) { payloads.append(payload) }
                    log?.write(CameraStatsEvent(qr: payload, sequence: frame.sequence))
                }
                inLastFrame = inFrame
            }
        }
        await stopper.value
        let elapsed = ContinuousClock.now - started
        let status = source.status
        let report = CameraStatsReport(
            device: camera.device, node: status.node, state: status.state.rawValue,
            format: status.format.map { "\($0.pixelFormat.rawValue) \($0.width)x\($0.height)" },
            formats_delivered: formats.sorted(), frames: frames,
            fps: Double(frames) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18),
            drops: status.drops, damaged: status.damaged, reconnects: status.reconnects,
            frame_age_ms: ages.isEmpty ? nil : median(ages), frame_age_max_ms: ages.max(),
            qr: scanQr ? payloads : nil, last_error: status.lastError)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            printLine(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            printLine(report.text)
        }
        if frames == 0 { throw ExitCode.failure }
    }
}

private func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return ((sorted[sorted.count / 2] * 100).rounded()) / 100
}

/// What `rollcall camera stats` reports.
struct CameraStatsReport: Encodable {
    var device: String
    var node: String?
    var state: String
    var format: String?
    var formats_delivered: [String]
    var frames: Int
    var fps: Double
    var drops: Int
    var damaged: Int
    var reconnects: Int
    var frame_age_ms: Double?
    var frame_age_max_ms: Double?
    var qr: [String]?
    var last_error: String?

    var text: String {
        var lines = [
            "camera \(device)\(node.map { " (\($0))" } ?? ""): \(format ?? "no format"), state \(state)",
            String(
                format: "  %d frames, %.1f fps, %d dropped, %d damaged, %d reconnects", frames, fps, drops, damaged,
                reconnects),
        ]
        if let frame_age_ms, let frame_age_max_ms {
            lines.append(String(format: "  frame age: median %.1f ms, max %.1f ms", frame_age_ms, frame_age_max_ms))
        }
        if let qr { lines.append("  QR codes: " + (qr.isEmpty ? "none" : qr.joined(separator: ", "))) }
        if let last_error { lines.append("  last error: \(last_error)") }
        return lines.joined(separator: "\n")
    }
}

/// One line of the `--events` file.
struct CameraStatsEvent: Encodable {
    var at: Double
    var event: String
    var state: String?
    var node: String?
    var format: String?
    var error: String?
    var reconnects: Int?
    /// Open file descriptors and mapped video buffers of this process, to show nothing leaks
    /// across reconnects.
    var open_fds: Int?
    var video_mappings: Int?
    var qr: String?
    var sequence: UInt64?

    init(_ event: CameraEvent) {
        at = event.at.timeIntervalSince1970
        self.event = "state"
        state = event.status.state.rawValue
        node = event.status.node
        format = event.status.format.map { "\($0.pixelFormat.rawValue) \($0.width)x\($0.height)" }
        error = event.status.state == .lost ? event.status.lastError : nil
        reconnects = event.status.reconnects
        open_fds = ProcessResources.openFileDescriptors()
        video_mappings = ProcessResources.videoMappings()
    }

    init(qr payload: String, sequence: UInt64) {
        at = Date().timeIntervalSince1970
        event = "qr"
        qr = payload
        self.sequence = sequence
    }
}

/// Appends JSON lines to a file from any thread.
final class EventLog: Sendable {
    private let handle: Mutex<FileHandle>

    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ValidationError("cannot create the events file \(path)")
            }
        }
        guard let file = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("cannot open the events file \(path) for writing")
        }
        file.seekToEndOfFile()
        handle = Mutex(file)
    }

    func write(_ event: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let line = try? encoder.encode(event) else { return }
        handle.withLock { $0.write(line + Data("\n".utf8)) }
    }
}

/// What this process holds, read from /proc.
enum ProcessResources {
    static func openFileDescriptors() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
    }

    static func videoMappings() -> Int {
        let maps = (try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)) ?? ""
        return maps.split(separator: "\n").filter { $0.contains("/dev/video") }.count
    }
}
