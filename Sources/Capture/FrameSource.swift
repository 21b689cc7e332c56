import Dispatch
import Foundation
import Synchronization

/// Something that produces frames on a thread of its own: the camera, a video file, a folder.
public protocol FrameSource: Sendable {
    /// The frames, newest first. One consumer.
    var frames: FrameStream { get }
    /// Starts producing; returns at once.
    func start()
    /// Stops producing, releases what the source holds and ends the stream; waits for its thread.
    func stop()
}

extension FrameSource {
    /// `stop()` without blocking the calling task: the wait happens on a thread of its own.
    public func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                stop()
                continuation.resume()
            }.start()
        }
    }
}

/// The thread a frame source runs on, and the stop request its loop watches.
final class SourceThread: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    /// True once `stop()` was called: the loop returns as soon as it sees it.
    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// Runs `body` on a new thread, the first time only.
    func start(name: String, _ body: @escaping @Sendable () -> Void) {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        let thread = Thread { [done] in
            body()
            done.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Asks the loop to stop and waits for the thread; false when it was never started.
    @discardableResult
    func stop() -> Bool {
        stopping.store(true, ordering: .relaxed)
        guard started.load(ordering: .relaxed) else { return false }
        done.wait()
        done.signal()  // a second stop() returns too
        return true
    }
}
