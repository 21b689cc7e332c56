import Attendance
import Foundation
import Testing

@Test func theBriefsExampleIsRefusedBecauseItsSessionEndsBeforeItStarts() {
    // 08:45+01:00 is 07:45Z, a quarter of an hour before the 08:00Z start.
    #expect(
        scheduleError(exampleScheduleJSON.replacingOccurrences(of: "09:45:00+01:00", with: "08:45:00+01:00"))?.message
            == "sessions[0]: end is before start (2026-11-23T07:45:00Z < 2026-11-23T08:00:00Z): fix the session's times"
    )
}

@Test func theDocumentedExampleDecodes() throws {
    let schedule = try SessionSchedule.decode(from: Data(exampleScheduleJSON.utf8))
    #expect(schedule.room == "B12")
    #expect(schedule.timezone == "Europe/Berlin")
    #expect(schedule.policy == AttendancePolicy(grace: 300, volunteerDebounce: 30))
    #expect(
        schedule.sessions == [
            Session(id: "s-1", room: "B12", group: "7B", start: time(8, 0), end: time(8, 45), roster: ["p-1", "p-2"])
        ]
    )
}

@Test func aSessionMayNameItsOwnRoom() throws {
    let json = scheduleJSON(sessions: sessionJSON(["room": #""A01""#]))
    #expect(try SessionSchedule.decode(from: Data(json.utf8)).sessions[0].room == "A01")
}

@Test func timezoneAndPolicyAreOptional() throws {
    let schedule = try SessionSchedule.decode(from: Data(scheduleJSON(sessions: sessionJSON()).utf8))
    #expect(schedule.timezone == nil)
    #expect(schedule.policy == AttendancePolicy())
}

@Test func anEmptySessionListIsAllowed() throws {
    #expect(try SessionSchedule.decode(from: Data(scheduleJSON().utf8)).sessions.isEmpty)
}

@Test func timesMayHaveOffsetsAndFractionalSeconds() throws {
    let json = scheduleJSON(
        sessions: sessionJSON([
            "start": #""2026-11-23T09:00:00.250+01:00""#,
            "end": #""2026-11-23T14:15:00.5+0530""#,
        ])
    )
    let session = try SessionSchedule.decode(from: Data(json.utf8)).sessions[0]
    #expect(session.start == time(8, 0, 0.25))
    #expect(session.end == time(8, 45, 0.5))
}

@Test func aScheduleRoundTripsThroughItsJSON() throws {
    let schedule = SessionSchedule(
        room: "B12",
        timezone: "Europe/Berlin",
        policy: AttendancePolicy(checkinOpensBefore: 900, grace: 150, maximumVisit: 8 * 3600),
        sessions: [
            maths,
            Session(id: "s-x", room: "A01", group: "8A", start: time(10, 0, 0.125), end: time(10, 45, 0.1), roster: []),
        ]
    )
    #expect(try SessionSchedule.decode(from: schedule.encode()) == schedule)
}

@Test func theExampleRoundTrips() throws {
    let schedule = try SessionSchedule.decode(from: Data(exampleScheduleJSON.utf8))
    #expect(try SessionSchedule.decode(from: schedule.encode()) == schedule)
    let text = String(decoding: schedule.encode(), as: UTF8.self)
    #expect(text.contains(#""timezone" : "Europe/Berlin""#))
    #expect(text.contains(#""end" : "2026-11-23T08:45:00Z""#))
}

@Test func wholeDayMakesOneSessionOverTheInterval() {
    let schedule = SessionSchedule.wholeDay(roster: ["p-1", "p-2"], start: time(8, 0), end: time(9, 0))
    #expect(schedule.sessions.count == 1)
    #expect(schedule.sessions[0].id == SessionSchedule.wholeDaySessionID)
    #expect(schedule.sessions[0].start == time(8, 0))
    #expect(schedule.sessions[0].end == time(9, 0))
    #expect(schedule.sessions[0].roster == ["p-1", "p-2"])
    var book = AttendanceBook(schedule: schedule)
    let decision = book.studentIdentified(person: "p-2", at: time(8, 59))
    #expect(decision.sessionID == "whole-day")
}

// MARK: Errors

@Test func dataThatIsNotJSONIsRefused() {
    #expect(
        scheduleError("8 o'clock")
            == ScheduleError(
                code: .notJSON,
                path: "",
                message: "the schedule is not JSON (invalid value around character 2): pass the sessions file, "
                    + #"a JSON object such as {"room": "B12", "sessions": [...]}"#
            )
    )
}

@Test func anEmptyFileIsRefused() {
    #expect(scheduleError("  \n")?.message.hasPrefix("the schedule is empty: pass the sessions file") == true)
}

@Test func jsonThatIsNotAnObjectIsRefused() {
    #expect(
        scheduleError("[]")
            == ScheduleError(
                code: .wrongType,
                path: "",
                message: "the schedule: expected an object, found an array; "
                    + #"the schedule is an object such as {"room": "B12", "sessions": [...]}"#
            )
    )
}

@Test func aMissingRoomIsNamed() {
    #expect(
        scheduleError(#"{"sessions": []}"#)
            == ScheduleError(
                code: .missingField, path: "room", message: "room is missing: the schedule needs room and sessions")
    )
}

@Test func missingSessionsAreNamed() {
    #expect(scheduleError(#"{"room": "B12"}"#)?.message == "sessions is missing: the schedule needs room and sessions")
}

@Test func aMissingSessionFieldIsNamedWithItsPath() {
    #expect(
        scheduleError(scheduleJSON(sessions: sessionJSON(), sessionJSON(["id": #""s-2""#, "group": nil])))
            == ScheduleError(
                code: .missingField,
                path: "sessions[1].group",
                message: "sessions[1].group is missing: every session needs id, group, start, end and roster"
            )
    )
}

@Test func aNullFieldIsNamed() {
    #expect(
        scheduleError(scheduleJSON(sessions: sessionJSON(["start": "null"])))?.message
            == "sessions[0].start is null: every session needs id, group, start, end and roster"
    )
}

@Test func aRosterOfTheWrongTypeIsNamed() {
    #expect(
        scheduleError(scheduleJSON(sessions: sessionJSON(["roster": #""p-1""#])))
            == ScheduleError(
                code: .wrongType,
                path: "sessions[0].roster",
                message: "sessions[0].roster: expected an array of person ids (strings), found a string"
            )
    )
}

@Test func aNumberInTheRosterIsNamed() {
    #expect(
        scheduleError(scheduleJSON(sessions: sessionJSON(["roster": #"["p-1", 7]"#])))?.message
            == "sessions[0].roster[1]: expected a string, found a number"
    )
}

@Test func sessionsThatAreNotAListAreNamed() {
    #expect(
        scheduleError(#"{"room": "B12", "sessions": {}}"#)?.message == "sessions: expected an array, found an object")
}

@Test func aTimeThatIsNotISO8601IsNamed() {
    #expect(
        scheduleError(scheduleJSON(sessions: sessionJSON(), sessionJSON(["id": #""s-2""#, "start": #""8 o'clock""#])))
            == ScheduleError(
                code: .invalidTime,
                path: "sessions[1].start",
                message: #"sessions[1].start: "8 o'clock" is not an ISO 8601 time such as 2026-11-23T08:00:00Z"#
            )
    )
}

@Test func aTimeWithoutAZoneIsRefused() {
    #expect(
        scheduleError(scheduleJSON(sessions: sessionJSON(["end": #""2026-11-23T08:45:00""#])))
            == ScheduleError(
                code: .invalidTime,
                path: "sessions[0].end",
                message:
                    #"sessions[0].end: "2026-11-23T08:45:00" has no time zone: add Z for UTC or an offset such as +01:00"#
            )
    )
}

@Test func aDateThatDoesNotExistIsRefused() {
    #expect(
        scheduleError(scheduleJSON(sessions: sessionJSON(["start": #""2026-02-29T08:00:00Z""#])))?.code == .invalidTime)
    #expect(
        scheduleError(scheduleJSON(sessions: sessionJSON(["start": #""2026-11-23T24:00:00Z""#])))?.code == .invalidTime)
}

@Test func aSessionEndingBeforeItStartsIsRefused() {
    #expect(
        scheduleError(scheduleJSON(sessions: sessionJSON(["end": #""2026-11-23T07:59:59Z""#])))
            == ScheduleError(
                code: .endBeforeStart,
                path: "sessions[0]",
                message: "sessions[0]: end is before start (2026-11-23T07:59:59Z < 2026-11-23T08:00:00Z): "
                    + "fix the session's times"
            )
    )
}

@Test func aDuplicateSessionIDIsRefused() {
    #expect(
        scheduleError(scheduleJSON(sessions: sessionJSON(), sessionJSON(["id": #""s-2""#]), sessionJSON()))
            == ScheduleError(
                code: .duplicateSessionID,
                path: "sessions[2].id",
                message: #"sessions[2].id: "s-1" is also the id of sessions[0]: session ids must be unique"#
            )
    )
}

@Test func anEmptySessionIDIsRefused() {
    #expect(
        scheduleError(scheduleJSON(sessions: sessionJSON(["id": #""""#])))?.message
            == "sessions[0].id is empty: give every session a unique id"
    )
}

@Test func aNegativePolicyValueIsRefused() {
    #expect(
        scheduleError(#"{"room": "B12", "policy": {"grace_minutes": -5}, "sessions": []}"#)
            == ScheduleError(
                code: .invalidValue,
                path: "policy.grace_minutes",
                message: "policy.grace_minutes: -5 is negative: use 0 or more"
            )
    )
}

@Test func aPolicyValueOfTheWrongTypeIsNamed() {
    #expect(
        scheduleError(#"{"room": "B12", "policy": {"qr_repeat_seconds": "5"}, "sessions": []}"#)?.message
            == "policy.qr_repeat_seconds: expected a number, found a string"
    )
}
