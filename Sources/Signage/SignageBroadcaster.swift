import Foundation
import Synchronization

/// Fans the door's news out to every open signage page (Server-Sent Events): the current state to
/// each page as it connects and whenever it changes, and each decision as it is committed.
public final class SignageBroadcaster: Sendable {
    private struct Subscribers {
        var next = 0
        var streams: [Int: AsyncStream<String>.Continuation] = [:]
        var state: String?
        var finished = false
    }

    private let subscribers = Mutex(Subscribers())

    public init() {}

    /// The messages for one page, in SSE framing, starting with the reconnect delay and the state.
    public func subscribe() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(64))
        let id = subscribers.withLock { all -> Int? in
            guard !all.finished else { return nil }
            all.next += 1
            all.streams[all.next] = continuation
            continuation.yield("retry: 1000\n\n")
            if let state = all.state { continuation.yield(Self.frame("state", state)) }
            return all.next
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.streams.removeValue(forKey: id) }
        }
        return stream
    }

    /// How many pages are connected.
    public var count: Int { subscribers.withLock { $0.streams.count } }

    /// Sends the state (a JSON object) to every page, if it differs from the last one sent.
    public func publishState(_ json: String) {
        subscribers.withLock { all in
            guard all.state != json else { return }
            all.state = json
            for continuation in all.streams.values { continuation.yield(Self.frame("state", json)) }
        }
    }

    /// Sends a decision (a JSON object) to every page.
    public func publishDecision(_ json: String) {
        send(Self.frame("decision", json))
    }

    /// A comment line, so that a page that went away is noticed and proxies keep the stream open.
    public func ping() {
        send(": ping\n\n")
    }

    /// Ends every stream (the daemon is stopping); later subscribers get an empty stream.
    public func finish() {
        let streams = subscribers.withLock { all in
            all.finished = true
            defer { all.streams.removeAll() }
            return Array(all.streams.values)
        }
        for continuation in streams { continuation.finish() }
    }

    private func send(_ message: String) {
        subscribers.withLock { all in
            for continuation in all.streams.values { continuation.yield(message) }
        }
    }

    static func frame(_ event: String, _ json: String) -> String {
        "event: \(event)\ndata: \(json)\n\n"
    }
}
