import Dispatch
import Synchronization

/// The hand-over between a frame source's thread and its one consumer. It holds at most one
/// frame: a new frame replaces one not yet taken, and carries the count of frames so dropped, so
/// the consumer always gets the newest frame and knows how many it missed.
final class FrameChannel: Sendable {
    /// Signalled each time the consumer takes a frame, for producers that wait instead of dropping;
    /// nil for producers that never wait (the camera), so nothing counts up unseen.
    let taken: DispatchSemaphore?

    init(signallingTaken: Bool = false) {
        taken = signallingTaken ? DispatchSemaphore(value: 0) : nil
    }

    private struct State {
        var frame: Frame?
        var waiter: CheckedContinuation<Frame?, Never>?
        var finished = false
    }
    private let state = Mutex(State())

    /// Offers a frame; returns true when it replaced one the consumer had not taken.
    @discardableResult
    func send(_ frame: Frame) -> Bool {
        var frame = frame
        let (waiter, replaced) = state.withLock { state -> (CheckedContinuation<Frame?, Never>?, Bool) in
            guard !state.finished else { return (nil, false) }
            if let waiter = state.waiter {
                state.waiter = nil
                taken?.signal()
                return (waiter, false)
            }
            var replaced = false
            if let old = state.frame {
                frame.droppedBefore += old.droppedBefore + 1
                replaced = true
            }
            state.frame = frame
            return (nil, replaced)
        }
        waiter?.resume(returning: frame)
        return replaced
    }

    /// Ends the stream; the consumer gets what is held, then nil.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Frame?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.frame == nil ? state.waiter : nil
        }
        waiter?.resume(returning: nil)
    }

    /// The held frame, or the next one; nil when finished or the task is cancelled.
    func next() async -> Frame? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let immediate = state.withLock { state -> Frame?? in
                    if let frame = state.frame {
                        state.frame = nil
                        taken?.signal()
                        return .some(frame)
                    }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    precondition(state.waiter == nil, "a frame stream has one consumer")
                    state.waiter = continuation
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Frame?, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}

/// Frames from a source, newest first: iterate it from one task.
public struct FrameStream: AsyncSequence, Sendable {
    public typealias Element = Frame
    let channel: FrameChannel

    public struct AsyncIterator: AsyncIteratorProtocol {
        let channel: FrameChannel
        public mutating func next() async -> Frame? { await channel.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(channel: channel) }
}
