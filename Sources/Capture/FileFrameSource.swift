import Foundation
import Imaging
import Synchronization

/// How a file source hands out frames.
public enum Pacing: Sendable, Equatable {
    /// At the file's frame rate (or this one), as a camera would: a slow consumer misses frames.
    case realtime(fps: Double? = nil)
    /// As fast as the consumer takes them, none dropped: for replays and measurements.
    case asFastAsPossible
}

/// Where a file source stands.
public struct FileSourceStatus: Sendable, Equatable {
    /// Frames handed out.
    public var frames = 0
    /// Frames not handed out because a newer one was due (realtime pacing only).
    public var drops = 0
    /// Files of a folder that could not be decoded, and were skipped.
    public var skipped = 0
    /// The source has given its last frame.
    public var finished = false
    /// The last error: the file that could not be opened, or the last file skipped.
    public var lastError: String?
    /// The rate the source's frames are stamped at (the video's own, or the folder's), known before its
    /// first frame is handed out.
    public var frameRate: Double?
}

/// Frames from a video file (through OpenCV) or from a folder of images (in name order), as RGB,
/// produced on a thread of their own, for replaying recordings through the camera's pipeline.
public final class FileFrameSource: FrameSource {
    private enum Input {
        case video(String)
        case folder(String, fps: Double)
    }

    private let input: Input
    private let pacing: Pacing
    private let channel: FrameChannel
    private let shared = Mutex(FileSourceStatus())
    private let thread = SourceThread()

    /// The image files a folder source reads.
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "bmp", "tif", "tiff", "webp", "pgm", "ppm"]

    /// A source reading a video file.
    public init(video path: String, pacing: Pacing = .realtime()) {
        input = .video(path)
        self.pacing = pacing
        channel = FrameChannel(signallingTaken: pacing == .asFastAsPossible)
    }

    /// A source reading the images of a folder in name order, `fps` frames a second when paced.
    public init(imageFolder path: String, fps: Double = 30, pacing: Pacing = .realtime()) {
        precondition(fps > 0, "a frame rate above 0")
        input = .folder(path, fps: fps)
        self.pacing = pacing
        channel = FrameChannel(signallingTaken: pacing == .asFastAsPossible)
    }

    /// The frames. One consumer.
    public var frames: FrameStream { FrameStream(channel: channel) }

    /// Where the source stands.
    public var status: FileSourceStatus { shared.withLock { $0 } }

    /// Starts reading on a thread of its own.
    public func start() {
        thread.start(name: "rollcall-file-source") { [self] in
            run()
            shared.withLock { $0.finished = true }
            channel.finish()
        }
    }

    /// Stops reading and ends the stream; waits for the thread.
    public func stop() {
        if !thread.stop() { channel.finish() }
    }

    private var isStopping: Bool { thread.isStopping }

    private func run() {
        switch input {
        case .video(let path):
            let reader: VideoReader
            do {
                reader = try VideoReader(path: path)
            } catch {
                fail(CaptureError(.file, error.message, path: path))
                return
            }
            play(fps: reader.fps ?? 30) { () -> RGBImage?? in
                do {
                    return try reader.next().map { .some($0) } ?? .none
                } catch let error as VisionError {
                    self.fail(CaptureError(.file, error.message, path: path))
                    return .none
                } catch {
                    self.fail(CaptureError(.file, "\(error)", path: path))
                    return .none
                }
            }
        case .folder(let path, let fps):
            let files: [String]
            do {
                files = try FileManager.default.contentsOfDirectory(atPath: path)
                    .filter { Self.imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                    .sorted()
            } catch {
                fail(CaptureError(.file, "cannot list the folder (\(error.localizedDescription))", path: path))
                return
            }
            var remaining = files[...]
            play(fps: fps) { () -> RGBImage?? in
                guard let name = remaining.popFirst() else { return .none }
                do {
                    return .some(try RGBImage(contentsOfFile: path + "/" + name))
                } catch let error as VisionError {
                    // One bad file in a folder is skipped, as a camera's damaged frame is.
                    self.shared.withLock { status in
                        status.skipped += 1
                        status.lastError = error.description
                    }
                    return .some(nil)
                } catch {
                    return .some(nil)
                }
            }
        }
    }

    private func fail(_ error: CaptureError) {
        shared.withLock { $0.lastError = error.description }
    }

    /// Hands out frames from `next` (nil: the end; .some(nil): a frame to skip) at the pace asked for.
    private func play(fps fileRate: Double, _ next: () -> RGBImage??) {
        let clock = ContinuousClock()
        let startedAt = clock.now
        var rate = fileRate
        if case .realtime(let override?) = pacing { rate = override }
        shared.withLock { $0.frameRate = fileRate }
        let interval = Duration.nanoseconds(Int64(1e9 / max(rate, 0.001)))
        var sequence: UInt64 = 0
        while !isStopping, let item = next() {
            defer { sequence += 1 }
            guard let image = item else { continue }
            if case .realtime = pacing {
                let due = startedAt + interval * Int(sequence)
                while clock.now < due && !isStopping {
                    Thread.sleep(forTimeInterval: min(0.05, max(0, Self.seconds(due - clock.now))))
                }
                if isStopping { return }
            }
            let frame = Frame(
                format: .rgb24, width: image.width, height: image.height, bytesPerLine: image.width * 3,
                data: image.pixels, timestamp: Monotonic.nanoseconds(), sequence: sequence)
            let replaced = channel.send(frame)
            shared.withLock { status in
                status.frames += 1
                if replaced { status.drops += 1 }
            }
            if let taken = channel.taken {
                while taken.wait(timeout: .now() + 0.05) == .timedOut {
                    if isStopping { return }
                }
            }
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
