import Foundation
import Testing

@testable import HubServer

struct RateLimitTests {
    let start = ContinuousClock.now

    @Test("a token gets its burst at once, then its rate; the wait is told in whole seconds; tokens are apart")
    func bucket() {
        let limiter = RateLimiter(requestsPerSecond: 2, burst: 3)
        let device = Data("device".utf8)
        let other = Data("other".utf8)
        #expect((0..<3).map { _ in limiter.take(device, now: start) } == [nil, nil, nil])
        #expect(limiter.take(device, now: start) == 1, "the fourth at once waits a second")
        #expect(limiter.take(other, now: start) == nil, "another token is not held up")
        #expect(limiter.take(device, now: start + .milliseconds(600)) == nil, "0.6 s later one more is taken")
        #expect(limiter.take(device, now: start + .milliseconds(600)) == 1)
        #expect(limiter.take(device, now: start + .seconds(10)) == nil, "a rested token has its burst again")
    }

    @Test("memory stays bounded however many made-up tokens come, and a flood does not free a limited token")
    func bounded() {
        let limiter = RateLimiter(requestsPerSecond: 1, burst: 2, maximumKeys: 100)
        let busy = Data("busy".utf8)
        #expect(limiter.take(busy, now: start) == nil && limiter.take(busy, now: start) == nil)
        #expect(limiter.take(busy, now: start) != nil)
        for index in 0..<10_000 {
            _ = limiter.take(Data("guess-\(index)".utf8), now: start + .microseconds(index))
            #expect(limiter.count <= 100)
        }
        #expect(limiter.take(busy, now: start + .microseconds(10_000)) != nil, "still limited: not forgotten")
        #expect(limiter.take(busy, now: start + .seconds(5)) == nil, "and free again once its time has passed")
    }
}
