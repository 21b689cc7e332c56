import Attendance
import Foundation
import Testing

/// A morning at the door: check-ins, repeats, refusals and volunteer visits.
private func morning(_ book: inout AttendanceBook) -> [AttendanceEvent] {
    let sightings: [(String, Date, Bool)] = [
        ("v-1", time(7, 0), true),
        ("p-1", time(7, 50), false),
        ("p-2", time(8, 9), false),
        ("v-2", time(8, 10), true),
        ("p-1", time(8, 15), false),
        ("v-2", time(8, 30), true),
        ("p-9", time(8, 31), false),
        ("v-2", time(8, 40), true),
    ]
    return sightings.compactMap { person, at, isVolunteer in
        let decision =
            isVolunteer ? book.volunteerScanned(person: person, at: at) : book.studentIdentified(person: person, at: at)
        return decision.event
    }
}

/// What happens after the restart.
private func afterRestart(_ book: inout AttendanceBook) -> [AttendanceDecision] {
    [
        book.studentIdentified(person: "p-1", at: time(8, 41)),
        book.studentIdentified(person: "p-2", at: time(8, 42)),
        book.studentIdentified(person: "p-1", at: time(8, 46)),
        book.studentIdentified(person: "p-3", at: time(8, 47)),
        book.volunteerScanned(person: "v-2", at: time(8, 40, 20)),
        book.volunteerScanned(person: "v-2", at: time(8, 41)),
        book.volunteerScanned(person: "v-1", at: time(9, 0)),
        book.volunteerScanned(person: "v-3", at: time(9, 1)),
    ]
}

@Test func aBookRebuiltFromItsEventsHasTheSameState() {
    var original = book()
    let events = morning(&original)
    #expect(events.count == 6)
    #expect(AttendanceBook(schedule: original.schedule, history: events) == original)
}

@Test func aBookRebuiltFromItsEventsDecidesTheSameAfterwards() {
    var original = book()
    let events = morning(&original)
    var restarted = AttendanceBook(schedule: original.schedule, history: events)
    let expected = afterRestart(&original)
    #expect(afterRestart(&restarted) == expected)
    #expect(
        expected.map(\.kind) == [
            .alreadyCheckedIn, .alreadyCheckedIn, .checkin, .checkin, .ignoredRepeat, .exit, .exit, .entry,
        ])
}

@Test func historyInAnyOrderGivesTheSameBook() {
    var original = book()
    let events = morning(&original)
    #expect(AttendanceBook(schedule: original.schedule, history: events.reversed()) == original)
}

@Test func anEntryOlderThanTheMaximumVisitSurvivesARestart() {
    var original = book()
    let events = [original.volunteerScanned(person: "v-1", at: time(7, 0)).event].compactMap { $0 }
    var restarted = AttendanceBook(schedule: original.schedule, history: events)
    let decision = restarted.volunteerScanned(person: "v-1", at: time(7, 0, day: 1))
    #expect(
        decision
            == .entry(person: "v-1", at: time(7, 0, day: 1), unclosedEntryAt: time(7, 0)))
}

@Test func eventsRoundTripThroughJSONWithSnakeCaseKeys() throws {
    let events: [AttendanceEvent] = [
        .checkin(session: "s-maths", person: "p-1", at: time(8, 7, 0.25), status: .late, minutesLate: 7),
        .entry(person: "v-1", at: time(7, 0), unclosedEntryAt: time(6, 0)),
        .exit(person: "v-1", at: time(15, 30), entryAt: time(7, 0)),
    ]
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let data = try encoder.encode(events)
    #expect(try JSONDecoder().decode([AttendanceEvent].self, from: data) == events)
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains(#""at":"2026-11-23T08:07:00.250Z""#))
    #expect(text.contains(#""minutes_late":7"#))
    #expect(text.contains(#""duration_seconds":30600"#))
    #expect(text.contains(#""entry_at":"2026-11-23T07:00:00Z""#))
    #expect(text.contains(#""unclosed_entry_at":"2026-11-23T06:00:00Z""#))
}
