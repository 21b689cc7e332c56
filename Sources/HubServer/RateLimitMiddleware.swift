import Crypto
import Foundation
import Hub
import Hummingbird
import Logging
import Synchronization

/// Requests per bearer token, as a token bucket: `burst` at once, then `requestsPerSecond` on average.
/// A request over the limit is answered `429` with `Retry-After` (whole seconds until the next one is
/// taken; the device waits that long) and an `APIProblem`, before anything else is done for it.
///
/// Tokens are told apart by their SHA-256 (the token itself is not kept); requests without a token
/// share one bucket. The table holds at most `maximumKeys` tokens: when it is full, the buckets that
/// have refilled (nobody used them for a while) are forgotten first, then those with the most requests
/// left, so memory stays bounded however many made-up tokens a client sends, and a limited token is
/// not handed a fresh burst by a flood of others.
final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let requestsPerSecond: Double
    let burst: Double
    let maximumKeys: Int
    private let buckets = Mutex<[Data: Bucket]>([:])

    init(requestsPerSecond: Double, burst: Double, maximumKeys: Int = 10_000) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = max(1, burst)
        self.maximumKeys = maximumKeys
    }

    /// Takes one request for `key`: nil when it may go on, else the seconds to wait.
    func take(_ key: Data, now: ContinuousClock.Instant = .now) -> Int? {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + max(0, seconds) * requestsPerSecond)
            bucket.updated = now
            if buckets[key] == nil, buckets.count >= maximumKeys { Self.forget(&buckets, now: now, limiter: self) }
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                return max(1, Int(((1 - bucket.tokens) / requestsPerSecond).rounded(.up)))
            }
            bucket.tokens -= 1
            buckets[key] = bucket
            return nil
        }
    }

    /// How many tokens are tracked (for tests and the log).
    var count: Int { buckets.withLock { $0.count } }

    private static func forget(_ buckets: inout [Data: Bucket], now: ContinuousClock.Instant, limiter: RateLimiter) {
        let full = limiter.burst / limiter.requestsPerSecond
        buckets = buckets.filter { _, bucket in
            let idle = now - bucket.updated
            let seconds = Double(idle.components.seconds)
            return bucket.tokens + seconds * limiter.requestsPerSecond < limiter.burst && seconds < full
        }
        if buckets.count >= limiter.maximumKeys {
            // Every one of them is busy: keep the half with the fewest requests left (forgetting a limited
            // token would hand it a fresh burst), the most recent first among equals.
            let keep = buckets.sorted {
                $0.value.tokens != $1.value.tokens
                    ? $0.value.tokens < $1.value.tokens : $0.value.updated > $1.value.updated
            }.prefix(limiter.maximumKeys / 2)
            buckets = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
        }
    }
}

struct RateLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limiter: RateLimiter
    /// All the tokenless requests of one address: ten times `limiter`'s rate and burst.
    let addresses: RateLimiter

    init(limiter: RateLimiter) {
        self.limiter = limiter
        addresses = RateLimiter(
            requestsPerSecond: limiter.requestsPerSecond * 10, burst: limiter.burst * 10,
            maximumKeys: limiter.maximumKeys)
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        // The load balancer's health check and Prometheus' scrape carry no token and must not share the
        // tokenless bucket with whoever floods the hub without one.
        if request.uri.path == "/healthz" || request.uri.path == "/metrics" {
            return try await next(request, context)
        }
        // A bearer token is its own bucket. A browser's requests (no token) are counted by its sign-in
        // cookie and its address, so that a school's staff behind one address do not share one bucket;
        // and all of an address's together against ten times the limit, so that made-up cookies do not
        // buy a flood more.
        var keys: [(Data, RateLimiter)] = []
        if let authorization = request.headers[.authorization], !authorization.isEmpty {
            keys.append((Self.key(authorization), limiter))
        } else {
            let address = (context as? HubRequestContext)?.clientAddress ?? ""
            let session = request.cookies[WebSecurity.sessionCookie]?.value ?? ""
            keys.append((Self.key("address \(address)"), addresses))
            keys.append((Self.key("browser \(address) \(session)"), limiter))
        }
        for (key, bucket) in keys {
            guard let wait = bucket.take(key) else { continue }
            context.logger.warning(
                "rate limited", metadata: ["path": "\(request.uri.path)", "retry_after_s": "\(wait)"])
            var response = HubServer.problem(
                HubError(
                    .tooManyRequests,
                    "more than \(Int(limiter.burst)) requests at once or \(limiter.requestsPerSecond) per second "
                        + "with this token; try again in \(wait) s"))
            response.headers[.retryAfter] = "\(wait)"
            return response
        }
        return try await next(request, context)
    }

    static func key(_ identity: String) -> Data { Data(SHA256.hash(data: Data(identity.utf8)).prefix(16)) }
}
