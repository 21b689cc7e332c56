import Hummingbird
import Synchronization

/// Reports (and the report pages) are let in a few at a time per hub process; the others wait their
/// turn in order. A report can take many statements and much encoding, and a thousand staff reading at
/// once would otherwise take every core and database connection from the doors, whose batches then
/// wait behind them (measured: 9 s with 1,000 readers). The device API never waits here.
public final class ReportAdmission: Sendable {
    public let limit: Int
    private let state = Mutex<(running: Int, waiting: [CheckedContinuation<Void, Never>])>((0, []))

    public init(limit: Int) { self.limit = max(1, limit) }

    /// Reports running now and waiting for a turn.
    public var counts: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.waiting.count) } }

    public func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state -> Bool in
                guard state.running < limit else {
                    state.waiting.append(continuation)
                    return false
                }
                state.running += 1
                return true
            }
            if admitted { continuation.resume() }
        }
    }

    public func leave() {
        // The turn passes straight to the first waiting report (running stays the same), or is given back.
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}

/// Lets a group's requests through `ReportAdmission`.
struct ReportAdmissionMiddleware<Context: RequestContext>: RouterMiddleware {
    let admission: ReportAdmission

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        await admission.enter()
        defer { admission.leave() }
        return try await next(request, context)
    }
}
