import Dispatch
public import Foundation
import Imaging
import Synchronization

/// Dedicated threads for blocking C work (dlib, zbar), each with a context of its own that never
/// leaves it (a `FaceEngine`, a `QRScanner`), serving async callers. Such calls block for
/// milliseconds to tens of milliseconds; on Swift's cooperative pool they would stall every other
/// task, so they run here and hand their results back through continuations.
public final class ThreadPool<Context>: Sendable {
    private let queue = JobQueue<Context>()
    /// How many threads (and contexts) there are.
    public let count: Int

    /// Starts `count` threads named `name-N`, each making its own context.
    /// - Throws: the first error a context gave; no thread is left running then.
    public init(name: String, count: Int, makeContext: @escaping @Sendable () throws -> Context) throws {
        precondition(count > 0, "at least one thread")
        self.count = count
        let failures = Mutex<[any Error]>([])
        let ready = DispatchSemaphore(value: 0)
        for index in 0..<count {
            let queue = self.queue
            let thread = Thread {
                let context: Context
                do {
                    context = try makeContext()
                } catch {
                    failures.withLock { $0.append(error) }
                    ready.signal()
                    return
                }
                ready.signal()
                while let job = queue.next() {
                    job(context)
                }
            }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
        for _ in 0..<count { ready.wait() }
        if let failure = failures.withLock({ $0.first }) {
            queue.close(wakingUp: count)
            throw failure
        }
    }

    deinit {
        queue.close(wakingUp: count)
    }

    /// Runs `job` on one of the threads with that thread's context and returns its result.
    public func run<T: Sendable>(_ job: @escaping @Sendable (Context) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = queue.submit { context in
                continuation.resume(with: Result { try job(context) })
            }
            if !accepted {
                continuation.resume(throwing: VisionError(.internal, "the worker threads have stopped"))
            }
        }
    }
}

/// Threads with a `FaceEngine` each, over one set of models.
public typealias VisionWorkers = ThreadPool<FaceEngine>

extension ThreadPool where Context == FaceEngine {
    /// Starts `count` vision threads (by default one per core), each making its own engine.
    public convenience init(models: FaceModels, count: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        try self.init(name: "rollcall-vision", count: count) { try FaceEngine(models: models) }
    }
}

/// A first-in first-out queue of jobs that worker threads block on.
private final class JobQueue<Context>: Sendable {
    typealias Job = @Sendable (Context) -> Void
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
