import Attendance
import Foundation
import Testing

@Test func checkinOpensExactlyThirtyMinutesBeforeTheStart() {
    var book = book([maths])
    let decision = book.studentIdentified(person: "p-1", at: time(7, 30))
    #expect(
        decision
            == .checkin(session: "s-maths", person: "p-1", at: time(7, 30), status: .present, minutesLate: 0)
    )
}

@Test func aFaceOneSecondBeforeTheWindowOpensIsRefused() {
    var book = book([maths])
    let decision = book.studentIdentified(person: "p-1", at: time(7, 29, 59))
    #expect(decision == .noCheckin(person: "p-1", reason: .noSessionNow))
    #expect(decision.event == nil)
}

@Test func checkinClosesAtTheEndIncluded() {
    var book = book([maths])
    let atTheEnd = book.studentIdentified(person: "p-1", at: time(8, 45))
    #expect(atTheEnd.kind == .checkin)
    let afterTheEnd = book.studentIdentified(person: "p-2", at: time(8, 45, 1))
    #expect(afterTheEnd == .noCheckin(person: "p-2", reason: .noSessionNow))
}

@Test func checkinClosesLaterWhenThePolicySaysSo() {
    var book = book([maths], policy: AttendancePolicy(checkinClosesAfterEnd: 10 * 60))
    let atTheClose = book.studentIdentified(person: "p-1", at: time(8, 55))
    #expect(atTheClose.minutesLate == 55)
    let afterTheClose = book.studentIdentified(person: "p-2", at: time(8, 55, 1))
    #expect(afterTheClose.kind == .noCheckin)
}

@Test func anEarlyArrivalIsPresent() {
    var book = book([maths])
    let decision = book.studentIdentified(person: "p-1", at: time(7, 45))
    #expect(decision.status == .present)
    #expect(decision.minutesLate == 0)
}

@Test func anArrivalExactlyAtTheEndOfGraceIsPresent() {
    var book = book([maths])
    let decision = book.studentIdentified(person: "p-1", at: time(8, 5))
    #expect(
        decision
            == .checkin(session: "s-maths", person: "p-1", at: time(8, 5), status: .present, minutesLate: 0)
    )
}

@Test func anArrivalOneSecondAfterGraceIsLateByFiveMinutes() {
    var book = book([maths])
    let decision = book.studentIdentified(person: "p-1", at: time(8, 5, 1))
    #expect(
        decision
            == .checkin(session: "s-maths", person: "p-1", at: time(8, 5, 1), status: .late, minutesLate: 5)
    )
}

@Test func minutesLateRoundDown() {
    var book = book([maths])
    let almostThirteen = book.studentIdentified(person: "p-1", at: time(8, 12, 59.9))
    #expect(almostThirteen.minutesLate == 12)
    let thirteen = book.studentIdentified(person: "p-2", at: time(8, 13))
    #expect(thirteen.minutesLate == 13)
}

@Test func aCheckinCarriesItsEvent() throws {
    var book = book([maths])
    let decision = book.studentIdentified(person: "p-1", at: time(8, 7))
    let event = try #require(decision.event)
    #expect(
        event
            == AttendanceEvent(
                kind: .checkin, person: "p-1", session: "s-maths", at: time(8, 7), status: .late, minutesLate: 7))
}

@Test func aSecondSightingIsANoOpWithTheFirstTime() {
    var book = book([maths])
    _ = book.studentIdentified(person: "p-1", at: time(7, 58))
    let repeated = book.studentIdentified(person: "p-1", at: time(8, 20))
    #expect(repeated == .alreadyCheckedIn(session: "s-maths", person: "p-1", firstAt: time(7, 58)))
    #expect(repeated.kind.rawValue == "already_checked_in")
    #expect(repeated.event == nil)
    #expect(
        repeated.message == "p-1 is already checked in to session s-maths (since 2026-11-23T07:58:00Z): nothing to do")
    #expect(book.checkinTime(session: "s-maths", person: "p-1") == time(7, 58))
}

@Test func someoneNotOnTheRosterIsRefused() {
    var book = book([maths])
    let decision = book.studentIdentified(person: "p-9", at: time(8, 10))
    #expect(decision == .noCheckin(person: "p-9", reason: .notOnRoster(["s-maths"])))
    #expect(decision.kind.rawValue == "no_checkin")
    #expect(
        decision.message
            == "p-9 was not checked in: not on the roster of the open session s-maths: "
            + "if they belong to that class, add them to its roster on the server"
    )
    #expect(book.checkinTime(session: "s-maths", person: "p-9") == nil)
}

@Test func theRefusalListsEveryOpenSession() {
    var book = book()
    let decision = book.studentIdentified(person: "p-9", at: time(8, 30))
    #expect(
        decision
            == .noCheckin(person: "p-9", reason: .notOnRoster(["s-maths", "s-art"])))
}

@Test func noSessionNowSaysWhatToCheck() {
    var book = book()
    let decision = book.studentIdentified(person: "p-1", at: time(12, 0))
    #expect(decision == .noCheckin(person: "p-1", reason: .noSessionNow))
    #expect(
        decision.message
            == "p-1 was not checked in: no session's check-in window is open now (check-in opens shortly before a "
            + "class starts): if a class is running, check that the device has this room's current schedule"
    )
}

@Test func decisionKindsHaveTheirWireNames() {
    #expect(
        AttendanceDecision.Kind.allCases.map(\.rawValue) == [
            "checkin", "already_checked_in", "no_checkin", "entry", "exit", "ignored_repeat",
        ]
    )
}
