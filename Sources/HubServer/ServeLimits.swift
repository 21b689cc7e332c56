public import Hummingbird
import HummingbirdCore
import Logging
public import NIOCore
import NIOHTTPTypes

/// What keeps one client from holding or flooding the hub: connections closed when idle or when a
/// request is not fully sent in time, a cap on open connections, smaller header limits, and a rate
/// limit per bearer token (``RateLimitMiddleware``).
public struct ServeLimits: Sendable {
    /// A connection with no request for this long is closed; so is one whose request (headers and
    /// body) is not fully received this long after it began.
    public var idleTimeout: Duration
    /// Connections open at once; more wait in the listen backlog until one closes.
    public var maximumConnections: Int
    /// Requests per second each bearer token may make, on average.
    public var requestsPerSecond: Double
    /// How many requests a token may make at once before the average applies.
    public var burst: Double

    /// 60 s, 512 connections, 20 requests per second per token with bursts of 100.
    public init(
        idleTimeout: Duration = .seconds(60), maximumConnections: Int = 512, requestsPerSecond: Double = 20,
        burst: Double = 100
    ) {
        self.idleTimeout = idleTimeout
        self.maximumConnections = maximumConnections
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
    }
}

extension HubServer {
    /// The hub's HTTP/1.1 server with `limits` applied, serving `router` on `host:port`.
    public static func application(
        router: Router<HubRequestContext>, host: String, port: Int, limits: ServeLimits,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let timeout = limits.idleTimeout
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        return Application(
            router: router,
            server: .http1(
                configuration: HTTP1Channel.Configuration(
                    additionalChannelHandlers: [RequestDeadlineHandler(deadline: .nanoseconds(nanoseconds))],
                    idleTimeout: .nanoseconds(nanoseconds),
                    httpDecoderConfiguration: .init(
                        maxHeaderFieldSize: 8 << 10, maxHeaderListSize: 16 << 10, maxHeaderFieldCount: 100))),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port),
                availableConnectionsDelegate: MaximumAvailableConnections(
                    limits.maximumConnections, logger: Logger(label: "rollcall-hub.connections"))),
            onServerRunning: onServerRunning)
    }
}

/// Closes a connection whose request has begun (its headers arrived) but has not been fully received
/// within `deadline`: a body sent a byte at a time cannot hold a connection. (Headers sent a byte at
/// a time are the idle timeout's: no part of a request exists until its headers are complete.)
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let deadline: TimeAmount
    private var pending: Scheduled<Void>?

    init(deadline: TimeAmount) {
        self.deadline = deadline
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            pending?.cancel()
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            pending = context.eventLoop.scheduleTask(in: deadline) {
                loopBound.value.close(promise: nil)
            }
        case .end:
            pending?.cancel()
            pending = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pending?.cancel()
        pending = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.cancel()
        pending = nil
        context.fireChannelInactive()
    }
}
