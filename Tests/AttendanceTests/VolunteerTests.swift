import Attendance
import Foundation
import Testing

@Test func theFirstScanIsAnEntryAndTheNextAnExitWithTheDuration() {
    var book = book()
    let entry = book.volunteerScanned(person: "v-1", at: time(7, 0))
    #expect(entry == .entry(person: "v-1", at: time(7, 0), unclosedEntryAt: nil))
    #expect(entry.event == .entry(person: "v-1", at: time(7, 0)))
    #expect(book.openVisit(person: "v-1") == time(7, 0))

    let exit = book.volunteerScanned(person: "v-1", at: time(15, 30))
    #expect(exit == .exit(person: "v-1", at: time(15, 30), entryAt: time(7, 0), duration: 8.5 * 3600))
    #expect(exit.kind.rawValue == "exit")
    #expect(exit.duration == 8.5 * 3600)
    #expect(
        exit.event
            == AttendanceEvent(kind: .exit, person: "v-1", at: time(15, 30), duration: 8.5 * 3600, entryAt: time(7, 0))
    )
    #expect(book.openVisit(person: "v-1") == nil)
}

@Test func aScanWithinTheDebounceIsIgnored() {
    var book = book()
    _ = book.volunteerScanned(person: "v-1", at: time(7, 0))
    let repeated = book.volunteerScanned(person: "v-1", at: time(7, 0, 29.5))
    #expect(repeated == .ignoredRepeat(person: "v-1", at: time(7, 0, 29.5), secondsSinceLast: 29.5))
    #expect(repeated.event == nil)
    #expect(
        repeated.message
            == "v-1 scanned again 29.5 s after their last accepted scan: ignored as a repeat; "
            + "to sign out, scan again a little later"
    )
    #expect(book.openVisit(person: "v-1") == time(7, 0))
}

@Test func aScanExactlyAtTheDebounceIsAccepted() {
    var book = book()
    _ = book.volunteerScanned(person: "v-1", at: time(7, 0))
    let decision = book.volunteerScanned(person: "v-1", at: time(7, 0, 30))
    #expect(decision.duration == 30)
}

@Test func theDebounceCountsFromTheLastAcceptedScanNotTheLastIgnoredOne() {
    var book = book()
    _ = book.volunteerScanned(person: "v-1", at: time(7, 0))
    let ignored = book.volunteerScanned(person: "v-1", at: time(7, 0, 20))
    #expect(ignored.kind == .ignoredRepeat)
    let accepted = book.volunteerScanned(person: "v-1", at: time(7, 0, 40))
    #expect(accepted.kind == .exit)
}

@Test func theDebounceAlsoFollowsAnExit() {
    var book = book()
    _ = book.volunteerScanned(person: "v-1", at: time(7, 0))
    _ = book.volunteerScanned(person: "v-1", at: time(12, 0))
    let ignored = book.volunteerScanned(person: "v-1", at: time(12, 0, 10))
    #expect(ignored.kind == .ignoredRepeat)
    let accepted = book.volunteerScanned(person: "v-1", at: time(12, 0, 30))
    #expect(accepted == .entry(person: "v-1", at: time(12, 0, 30), unclosedEntryAt: nil))
}

@Test func volunteersAreDebouncedSeparately() {
    var book = book()
    _ = book.volunteerScanned(person: "v-1", at: time(7, 0))
    let decision = book.volunteerScanned(person: "v-2", at: time(7, 0, 1))
    #expect(decision.kind == .entry)
}

@Test func aVisitOfExactlyTheMaximumIsClosed() {
    var book = book()
    _ = book.volunteerScanned(person: "v-1", at: time(7, 0))
    let decision = book.volunteerScanned(person: "v-1", at: time(23, 0))
    #expect(decision == .exit(person: "v-1", at: time(23, 0), entryAt: time(7, 0), duration: 16 * 3600))
}

@Test func aVisitOlderThanTheMaximumIsLeftUnclosedAndTheScanIsANewEntry() {
    var book = book()
    _ = book.volunteerScanned(person: "v-1", at: time(7, 0))
    let late = book.volunteerScanned(person: "v-1", at: time(23, 0, 1))
    #expect(late == .entry(person: "v-1", at: time(23, 0, 1), unclosedEntryAt: time(7, 0)))
    #expect(late.unclosedEntryAt == time(7, 0))
    #expect(late.event == .entry(person: "v-1", at: time(23, 0, 1), unclosedEntryAt: time(7, 0)))
    #expect(book.openVisit(person: "v-1") == time(23, 0, 1))
    let exit = book.volunteerScanned(person: "v-1", at: time(8, 0, day: 1))
    #expect(exit.entryAt == time(23, 0, 1))
}
