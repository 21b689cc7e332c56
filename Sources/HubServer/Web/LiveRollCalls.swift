import Foundation
import Hub
import Logging
import Synchronization

/// Tells the live roll calls open in this process when their session changes, whichever hub process
/// stored the change: one poll of the store every `interval` for all the sessions being watched (a
/// fingerprint per session: its records, flags and excuses), and only while any is. Every
/// `keepAlive` each watcher is also woken, so that a stream to a browser that has gone is noticed.
final class LiveRollCalls: Sendable {
    enum Wake: Sendable {
        case changed
        case keepAlive
    }

    struct State {
        var watchers: [String: [UUID: AsyncStream<Wake>.Continuation]] = [:]
        var prints: [String: String] = [:]
        var polling = false
        /// Streams open per owner (a sign-in).
        var owned: [String: Int] = [:]
    }

    /// The most streams one sign-in may hold open at once: a stolen session cannot hold every connection.
    static let maximumPerOwner = 8

    let storage: any RollCallStorage
    let interval: Duration
    let keepAlive: Duration
    private let state = Mutex(State())
    private let logger = Logger(label: "rollcall-hub.live")

    init(storage: any RollCallStorage, interval: Duration = .milliseconds(100), keepAlive: Duration = .seconds(15)) {
        self.storage = storage
        self.interval = interval
        self.keepAlive = keepAlive
    }

    /// Wakes for `session`'s changes until `stop` is called with the id; nil when `owner` already holds
    /// `maximumPerOwner` streams.
    func watch(_ session: String, owner: String) -> (id: UUID, wakes: AsyncStream<Wake>)? {
        let id = UUID()
        let (stream, continuation) = AsyncStream<Wake>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let start = state.withLock { state -> Bool? in
            guard state.owned[owner, default: 0] < Self.maximumPerOwner else { return nil }
            state.owned[owner, default: 0] += 1
            state.watchers[session, default: [:]][id] = continuation
            defer { state.polling = true }
            return !state.polling
        }
        guard let start else { return nil }
        if start { Task { await self.poll() } }
        return (id, stream)
    }

    func stop(_ session: String, _ id: UUID, owner: String) {
        state.withLock { state in
            guard let continuation = state.watchers[session]?[id] else { return }
            continuation.finish()
            state.owned[owner, default: 1] -= 1
            if state.owned[owner] == 0 { state.owned[owner] = nil }
            state.watchers[session]?[id] = nil
            if state.watchers[session]?.isEmpty == true {
                state.watchers[session] = nil
                state.prints[session] = nil
            }
        }
    }

    private func poll() async {
        var lastKeepAlive = ContinuousClock.now
        while true {
            let sessions = state.withLock { state -> [String] in
                if state.watchers.isEmpty { state.polling = false }
                return Array(state.watchers.keys)
            }
            if sessions.isEmpty { return }
            do {
                let prints = try await storage.rollCallFingerprints(sessions)
                state.withLock { state in
                    for (session, print) in prints {
                        let before = state.prints[session]
                        state.prints[session] = print
                        // A new watcher is woken by its first poll too: a change between its snapshot and
                        // that poll is not lost.
                        guard before != print else { continue }
                        for continuation in state.watchers[session]?.values ?? [:].values {
                            continuation.yield(.changed)
                        }
                    }
                }
            } catch {
                logger.warning("live roll call: cannot read the store", metadata: ["error": "\(error)"])
            }
            if ContinuousClock.now - lastKeepAlive >= keepAlive {
                lastKeepAlive = .now
                state.withLock { state in
                    for watchers in state.watchers.values {
                        for continuation in watchers.values { continuation.yield(.keepAlive) }
                    }
                }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
