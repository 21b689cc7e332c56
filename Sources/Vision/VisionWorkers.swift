import Dispatch
public import Foundation
import Synchronization

/// Dedicated threads, each with its own `FaceEngine`, that run blocking vision work for async
/// callers. dlib's calls block for tens of milliseconds; run on Swift's cooperative pool they would
/// stall every other task, so they run here and hand their results back through continuations.
public final class VisionWorkers: Sendable {
    private let queue = JobQueue()
    /// How many threads (and engines) there are.
    public let count: Int

    /// Starts `count` threads, each making its own engine over `models`.
    /// - Throws: the first error an engine gave; no thread is left running then.
    public init(models: FaceModels, count: Int = ProcessInfo.processInfo.activeProcessorCount) throws(VisionError) {
        precondition(count > 0, "at least one vision worker")
        self.count = count
        let started = Mutex<[VisionError]>([])
        let ready = DispatchSemaphore(value: 0)
        for index in 0..<count {
            let queue = self.queue
            let thread = Thread {
                let engine: FaceEngine
                do throws(VisionError) {
                    engine = try FaceEngine(models: models)
                } catch {
                    started.withLock { $0.append(error) }
                    ready.signal()
                    return
                }
                ready.signal()
                while let job = queue.next() {
                    job(engine)
                }
            }
            thread.name = "rollcall-vision-\(index)"
            thread.start()
        }
        for _ in 0..<count { ready.wait() }
        if let failure = started.withLock({ $0.first }) {
            queue.close(wakingUp: count)
            throw failure
        }
    }

    deinit {
        queue.close(wakingUp: count)
    }

    /// Runs `job` on one of the worker threads with that thread's engine and returns its result.
    public func run<T: Sendable>(_ job: @escaping @Sendable (FaceEngine) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = queue.submit { engine in
                continuation.resume(with: Result { try job(engine) })
            }
            if !accepted {
                continuation.resume(throwing: VisionError(.internal, "the vision workers have stopped"))
            }
        }
    }
}

/// A first-in first-out queue of jobs that worker threads block on.
private final class JobQueue: Sendable {
    typealias Job = @Sendable (FaceEngine) -> Void
    private struct State {
        var jobs: [Job] = []
        var head = 0
        var closed = false
    }
    private let state = Mutex(State())
    // Counts queued jobs, plus one wake-up per thread after `close`.
    private let available = DispatchSemaphore(value: 0)

    func submit(_ job: @escaping Job) -> Bool {
        let accepted = state.withLock { state in
            guard !state.closed else { return false }
            state.jobs.append(job)
            return true
        }
        if accepted { available.signal() }
        return accepted
    }

    /// Blocks until a job is queued; nil once the queue is closed and empty.
    func next() -> Job? {
        available.wait()
        return state.withLock { state in
            guard state.head < state.jobs.count else { return nil }
            let job = state.jobs[state.head]
            state.head += 1
            if state.head > 64 && state.head * 2 > state.jobs.count {
                state.jobs.removeFirst(state.head)
                state.head = 0
            }
            return job
        }
    }

    /// Refuses new jobs; the threads finish what is queued, then `next` gives them nil.
    func close(wakingUp threads: Int) {
        let wasOpen = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard wasOpen else { return }
        for _ in 0..<threads { available.signal() }
    }
}
