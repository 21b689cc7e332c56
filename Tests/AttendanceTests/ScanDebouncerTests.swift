import Attendance
import Foundation
import Testing

@Test func aNewPayloadIsAdmitted() {
    var debouncer = ScanDebouncer(window: 5)
    let admitted = debouncer.admit("RC1.a.b", at: time(8, 0))
    #expect(admitted)
}

@Test func thePayloadSeenAgainWithinTheWindowIsNotAdmitted() {
    var debouncer = ScanDebouncer(window: 5)
    _ = debouncer.admit("RC1.a.b", at: time(8, 0))
    let admitted = debouncer.admit("RC1.a.b", at: time(8, 0, 4.9))
    #expect(!admitted)
}

@Test func thePayloadSeenExactlyAWindowLaterIsAdmitted() {
    var debouncer = ScanDebouncer(window: 5)
    _ = debouncer.admit("RC1.a.b", at: time(8, 0))
    let admitted = debouncer.admit("RC1.a.b", at: time(8, 0, 5))
    #expect(admitted)
}

@Test func aBadgeHeldInViewForTenSecondsIsOneScan() {
    var debouncer = ScanDebouncer(window: 5)
    // 30 frames a second for ten seconds, the last one at exactly 10 s.
    let frames = (0...300).map { debouncer.admit("RC1.a.b", at: time(8, 0, Double($0) / 30)) }
    #expect(frames.filter { $0 }.count == 1)
    #expect(frames.first == true)
    let aWindowAfterTheLastFrame = debouncer.admit("RC1.a.b", at: time(8, 0, 15))
    #expect(aWindowAfterTheLastFrame)
}

@Test func everySightingRefreshesTheWindow() {
    var debouncer = ScanDebouncer(window: 5)
    _ = debouncer.admit("RC1.a.b", at: time(8, 0, 0))
    _ = debouncer.admit("RC1.a.b", at: time(8, 0, 4))
    let stillInView = debouncer.admit("RC1.a.b", at: time(8, 0, 8))
    #expect(!stillInView)
    let backAfterAWindow = debouncer.admit("RC1.a.b", at: time(8, 0, 13))
    #expect(backAfterAWindow)
}

@Test func differentPayloadsAreDebouncedSeparately() {
    var debouncer = ScanDebouncer(window: 5)
    _ = debouncer.admit("RC1.a.b", at: time(8, 0))
    let admitted = debouncer.admit("RC1.c.d", at: time(8, 0, 1))
    #expect(admitted)
}

@Test func anOutOfOrderSightingDoesNotShortenTheWindow() {
    var debouncer = ScanDebouncer(window: 5)
    _ = debouncer.admit("RC1.a.b", at: time(8, 0, 10))
    _ = debouncer.admit("RC1.a.b", at: time(8, 0, 2))
    let admitted = debouncer.admit("RC1.a.b", at: time(8, 0, 14))
    #expect(!admitted)
}

@Test func memoryStaysBoundedAndRecentPayloadsAreKept() {
    var debouncer = ScanDebouncer(window: 5)
    var largest = 0
    for second in 0..<10_000 {
        _ = debouncer.admit("RC1.\(second).x", at: time(8, 0, Double(second)))
        largest = max(largest, debouncer.count)
    }
    #expect(largest <= ScanDebouncer.pruneThreshold)
    let admitted = debouncer.admit("RC1.9998.x", at: time(8, 0, 9_999.5))
    #expect(!admitted)
}
