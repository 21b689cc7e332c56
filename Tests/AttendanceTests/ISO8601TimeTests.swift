import Attendance
import Foundation
import Testing

struct ISO8601TimeTests {
    @Test(
        "times a device or a hub may send that name no instant are refused, never a crash (found by tools/fuzz.py)",
        arguments: [
            "0103-08-08T09:13:09-21:40",  // an offset no time zone has: Foundation's formatter trapped on it
            "2026-11-23T08:00:00+19:00", "2026-11-23T08:00:00+18:00", "2026-11-23T08:00:00-14:01",
            "2026-11-23T08:00:00+01:60",
            "2026-11-23T08:00:00+٠١:٠٠", "2026-02-29T08:00:00Z", "2026-11-23T24:00:00Z", "", "T-",
        ])
    func refused(text: String) {
        #expect(ISO8601Time.parse(text) == nil)
    }

    @Test("the edges that exist are taken: ±14 h and the year 0062")
    func edges() {
        #expect(ISO8601Time.parse("2026-11-23T08:00:00+14:00") == ISO8601Time.parse("2026-11-22T18:00:00Z"))
        #expect(ISO8601Time.parse("2026-11-23T08:00:00-14:00") == ISO8601Time.parse("2026-11-23T22:00:00Z"))
        #expect(ISO8601Time.parse("0062-04-13T18:56:33-02:42") != nil)
    }
}

struct ISO8601TimeRoundTripTests {
    @Test("a time written and read back is the same to the millisecond (the style alone made .455 .454)")
    func roundTrip() {
        var generator = SystemRandomNumberGenerator()
        for milliseconds in [Int64(1_222_810_722_455), -1, -999, 0, 1_764_000_000_001]
            + (0..<5_000).map({ _ in Int64.random(in: -62_000_000_000_000...4_102_444_800_000, using: &generator) })
        {
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let text = ISO8601Time.format(date)
            let back = ISO8601Time.parse(text)
            #expect(back.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } == milliseconds, "\(text)")
            #expect(back.map(ISO8601Time.format) == text)
        }
    }

    @Test("fractions and zones are read as written: a tenth, microseconds, an offset, lower case")
    func readings() {
        let read = { (text: String) in ISO8601Time.parse(text).map(ISO8601Time.format) }
        #expect(read("2026-11-23T08:00:00.1Z") == "2026-11-23T08:00:00.100Z")
        #expect(read("2026-11-23T08:00:00.123999Z") == "2026-11-23T08:00:00.123Z")
        #expect(read("2026-11-23T08:45:00.250+01:00") == "2026-11-23T07:45:00.250Z")
        #expect(ISO8601Time.parse("2026-11-23t08:00:00z") == ISO8601Time.parse("2026-11-23T08:00:00Z"))
        #expect(ISO8601Time.parse("2026-11-23T08:00:00.Z") == nil)
        #expect(ISO8601Time.parse("2026-11-23T08:00:00") == nil)
        #expect(ISO8601Time.format(Date(timeIntervalSince1970: 1_764_000_000)) == "2025-11-24T16:00:00Z")
    }
}
