import Attendance
import Foundation
import Testing

@Test func theRunningSessionIsPreferredWhenTheNextOneIsAlreadyOpen() {
    var book = book()
    let decision = book.studentIdentified(person: "p-1", at: time(8, 30))
    #expect(decision.sessionID == "s-maths")
}

@Test func theUpcomingSessionIsChosenWhenNoneRunningHasThePerson() {
    var book = book()
    let decision = book.studentIdentified(person: "p-3", at: time(8, 30))
    #expect(
        decision
            == .checkin(session: "s-art", person: "p-3", at: time(8, 30), status: .present, minutesLate: 0)
    )
}

@Test func aStudentInTwoConsecutiveClassesIsCountedForEachInTurn() {
    var book = book()
    let duringMaths = book.studentIdentified(person: "p-1", at: time(8, 2))
    #expect(duringMaths.sessionID == "s-maths")
    let laterInMaths = book.studentIdentified(person: "p-1", at: time(8, 40))
    #expect(laterInMaths == .alreadyCheckedIn(session: "s-maths", person: "p-1", firstAt: time(8, 2)))
    let betweenClasses = book.studentIdentified(person: "p-1", at: time(8, 46))
    #expect(
        betweenClasses
            == .checkin(session: "s-art", person: "p-1", at: time(8, 46), status: .present, minutesLate: 0)
    )
}

@Test func ofTwoUpcomingSessionsTheEarlierIsChosen() {
    let first = Session(id: "s-a", room: "B12", group: "7B", start: time(9, 0), end: time(9, 20), roster: ["p-1"])
    let second = Session(id: "s-b", room: "B12", group: "7B", start: time(9, 30), end: time(9, 50), roster: ["p-1"])
    var book = book([second, first], policy: AttendancePolicy(checkinOpensBefore: 60 * 60))
    let decision = book.studentIdentified(person: "p-1", at: time(8, 45))
    #expect(decision.sessionID == "s-a")
}

@Test func ofTwoRunningSessionsTheLaterStartIsChosen() {
    let long = Session(id: "s-long", room: "B12", group: "7B", start: time(8, 0), end: time(10, 0), roster: ["p-1"])
    let short = Session(id: "s-short", room: "B12", group: "7B", start: time(9, 0), end: time(9, 45), roster: ["p-1"])
    var book = book([long, short])
    let decision = book.studentIdentified(person: "p-1", at: time(9, 10))
    #expect(decision.sessionID == "s-short")
}

@Test func theUpcomingSessionWinsOverOneThatHasJustEnded() {
    var book = book(policy: AttendancePolicy(checkinClosesAfterEnd: 10 * 60))
    let inBoth = book.studentIdentified(person: "p-1", at: time(8, 47))
    #expect(inBoth.sessionID == "s-art")
    let onlyInMaths = book.studentIdentified(person: "p-2", at: time(8, 47))
    #expect(onlyInMaths.sessionID == "s-maths")
}

@Test func sessionRunningIsTheOneBetweenStartAndEnd() {
    let book = book()
    #expect(book.sessionRunning(at: time(7, 59, 59)) == nil)
    #expect(book.sessionRunning(at: time(8, 0)) == maths)
    #expect(book.sessionRunning(at: time(8, 45)) == maths)
    #expect(book.sessionRunning(at: time(8, 47)) == nil)
    #expect(book.sessionRunning(at: time(9, 0)) == art)
}

@Test func openSessionsAreThoseWhoseWindowIsOpen() {
    let book = book()
    #expect(book.openSessions(at: time(7, 29, 59)).isEmpty)
    #expect(book.openSessions(at: time(8, 10)) == [maths])
    #expect(book.openSessions(at: time(8, 30)) == [maths, art])
    #expect(book.openSessions(at: time(8, 47)) == [art])
}

@Test func rosterFirstListsTheOpenSessionsPeopleOnce() {
    let book = book()
    #expect(book.rosterFirst(at: time(8, 10)) == ["p-1", "p-2"])
    #expect(book.rosterFirst(at: time(8, 30)) == ["p-1", "p-2", "p-3"])
    #expect(book.rosterFirst(at: time(12, 0)).isEmpty)
}
