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
