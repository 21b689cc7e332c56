import Attendance
import Foundation
import Testing

@Test func thePolicyDefaults() {
    let policy = AttendancePolicy()
    #expect(policy.checkinOpensBefore == 30 * 60)
    #expect(policy.checkinClosesAfterEnd == 0)
    #expect(policy.grace == 5 * 60)
    #expect(policy.volunteerDebounce == 30)
    #expect(policy.qrRepeatWindow == 5)
    #expect(policy.maximumVisit == 16 * 3600)
}

@Test func anEmptyPolicyObjectKeepsTheDefaults() throws {
    #expect(try JSONDecoder().decode(AttendancePolicy.self, from: Data("{}".utf8)) == AttendancePolicy())
}

@Test func policyKeysAreReadInTheUnitsTheyName() throws {
    let json = """
        {"checkin_opens_minutes_before": 15, "checkin_closes_minutes_after_end": 2, "grace_minutes": 2.5,
         "volunteer_debounce_seconds": 10, "qr_repeat_seconds": 3, "maximum_visit_hours": 12}
        """
    #expect(
        try JSONDecoder().decode(AttendancePolicy.self, from: Data(json.utf8))
            == AttendancePolicy(
                checkinOpensBefore: 900,
                checkinClosesAfterEnd: 120,
                grace: 150,
                volunteerDebounce: 10,
                qrRepeatWindow: 3,
                maximumVisit: 12 * 3600
            )
    )
}

@Test func aPolicyIsWrittenWithEveryKey() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    #expect(
        String(decoding: try encoder.encode(AttendancePolicy()), as: UTF8.self)
            == #"{"checkin_closes_minutes_after_end":0,"checkin_opens_minutes_before":30,"grace_minutes":5,"#
            + #""maximum_visit_hours":16,"qr_repeat_seconds":5,"volunteer_debounce_seconds":30}"#
    )
}
