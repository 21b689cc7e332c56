import Attendance
import Foundation
import Hub
import SyncProtocol
import TestSupport
import Testing

struct SessionReportTests {
    /// s-lab in B12, 08:00 to 08:45, roster p-1 to p-4: p-1 on time, p-2 12 min late, p-3 nothing (then
    /// excused), p-4 nothing; p-5, not on the roster, is refused (IngestRules).
    func labStore(_ kind: StoreKind) async throws -> (any HubStorage, URL) {
        let (store, folder) = try await makeStore(kind)
        for id in ["p-3", "p-4", "p-5"] { try await store.upsertConsented(person(id)) }
        try await store.putSession(
            Session(
                id: "s-lab", room: "B12", group: "7B", start: t0, end: t0 + 2700, roster: ["p-1", "p-2", "p-3", "p-4"]))
        let result = try await store.ingest(
            EventBatch(events: [
                checkin(eventUUID("e-1"), "p-1", session: "s-lab", at: -120),
                checkin(eventUUID("e-2"), "p-2", session: "s-lab", at: 720),
                checkin(eventUUID("e-5"), "p-5", session: "s-lab", at: 60),
            ]), from: device, receivedAt: t0 + 800)
        #expect(result.accepted == [eventUUID("e-1"), eventUUID("e-2")])
        #expect(result.rejected.map(\.reason) == ["p-5 is not on the roster of session s-lab"])
        return (store, folder)
    }

    @Test("draft before check-in opens (30 min before), open until the end, closed after it")
    func status() async throws {
        let session = Session(id: "s", room: "B12", group: "7B", start: t0, end: t0 + 2700, roster: [])
        let policy = AttendancePolicy()
        #expect(SessionStatus.of(session, at: t0 - 1801, policy: policy) == .draft)
        #expect(SessionStatus.of(session, at: t0 - 1800, policy: policy) == .open)
        #expect(SessionStatus.of(session, at: t0 + 2699, policy: policy) == .open)
        #expect(SessionStatus.of(session, at: t0 + 2700, policy: policy) == .closed)
    }

    @Test("while open: present, late with minutes, and pending for those not yet in", arguments: StoreKind.available)
    func open(_ kind: StoreKind) async throws {
        let (store, folder) = try await labStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let report = try await store.sessionReport("s-lab", now: t0 + 900)
        #expect(report.status == .open && report.group == "7B" && report.start == "2026-11-23T08:00:00Z")
        let outcomes = report.lines.map {
            "\($0.person) \($0.outcome.rawValue) \($0.minutesLate.map(String.init) ?? "-")"
        }
        #expect(outcomes == ["p-1 present -", "p-2 late 12", "p-3 pending -", "p-4 pending -"])
        #expect(report.lines.map(\.onRoster) == [true, true, true, true])
        #expect(report.lines[0].checkinTime == "2026-11-23T07:58:00Z" && report.lines[0].name == "P-1")
    }

    @Test(
        "when the session closes, roster members without a check-in are absent unless excused; flags show",
        arguments: StoreKind.available)
    func closed(_ kind: StoreKind) async throws {
        let (store, folder) = try await labStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await store.setExcuse(session: "s-lab", person: "p-3", reason: "dentist")
        try await store.setFlag(session: "s-lab", person: "p-2", flag: .leftEarly, note: "left 08:30", on: true)
        try await store.setFlag(session: "s-lab", person: "p-2", flag: .cameraOff, note: nil, on: true)
        try await store.setFlag(session: "s-lab", person: "p-4", flag: .absent, note: nil, on: true)
        try await store.setFlag(session: "s-lab", person: "p-4", flag: .lowParticipation, note: nil, on: true)
        try await store.setFlag(session: "s-lab", person: "p-4", flag: .lowParticipation, note: nil, on: false)
        let report = try await store.sessionReport("s-lab", now: t0 + 2700)
        #expect(report.status == .closed)
        #expect(report.lines.map(\.outcome) == [.present, .late, .excused, .absent])
        #expect(report.lines[2].excuse == "dentist")
        #expect(report.lines[1].flags == [.cameraOff, .leftEarly] && report.lines[3].flags == [.absent])
        #expect(report.counts == [.present: 1, .late: 1, .excused: 1, .absent: 1])
        #expect(
            report.csv.split(separator: "\r\n").map(String.init) == [
                "session,group,person,name,outcome,minutes_late,checkin_time,method,excuse,flags,source,set_by",
                "s-lab,7B,p-1,P-1,present,,2026-11-23T07:58:00Z,face,,,signage:door-b12,",
                "s-lab,7B,p-2,P-2,late,12,2026-11-23T08:12:00Z,face,,CAMERA_OFF;LEFT_EARLY,signage:door-b12,",
                "s-lab,7B,p-3,P-3,excused,,,,dentist,,,",
                "s-lab,7B,p-4,P-4,absent,,,,,ABSENT,,",
            ])
        // Taking the excuse back makes p-3 absent again.
        try await store.setExcuse(session: "s-lab", person: "p-3", reason: nil)
        #expect(try await store.sessionReport("s-lab", now: t0 + 2700).lines[2].outcome == .absent)
    }

    @Test(
        "a group's report is its sessions' reports: excuses, flags, a guest's check-in, nothing else",
        arguments: StoreKind.available)
    func groupThroughTheStore(_ kind: StoreKind) async throws {
        let (store, folder) = try await labStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await store.putSession(
            Session(
                id: "s-lab-2", room: "B12", group: "7B", start: t0 + 86_400, end: t0 + 86_400 + 2700,
                roster: ["p-1", "p-2", "p-3", "p-4"]))
        try await store.putSession(
            Session(id: "s-other", room: "B12", group: "8A", start: t0 + 3600, end: t0 + 6300, roster: ["p-5"]))
        _ = try await store.ingest(
            EventBatch(events: [checkin(eventUUID("e-7"), "p-4", session: "s-lab-2", at: 86_400 + 60)]),
            from: device, receivedAt: t0 + 86_400 + 100)
        try await store.setExcuse(session: "s-lab-2", person: "p-3", reason: "dentist")
        try await store.setFlag(session: "s-lab-2", person: "p-4", flag: .leftEarly, note: nil, on: true)
        // p-2 leaves the group after checking in to s-lab: the check-in stays, shown off the roster.
        try await store.putSession(
            Session(id: "s-lab", room: "B12", group: "7B", start: t0, end: t0 + 2700, roster: ["p-1", "p-3", "p-4"]))
        let now = t0 + 2 * 86_400
        let report = try await store.groupReport("7B", from: t0 - 3600, to: t0 + 2 * 86_400, now: now)
        // s-math is the fixture's, of group 7B too; s-other is 8A's.
        #expect(report.sessions.map(\.session) == ["s-lab", "s-math", "s-lab-2"])
        let first = try await store.sessionReport("s-lab", now: now)
        let math = try await store.sessionReport("s-math", now: now)
        let second = try await store.sessionReport("s-lab-2", now: now)
        #expect(first.lines.map(\.person) == ["p-1", "p-3", "p-4", "p-2"] && first.lines[3].onRoster == false)
        #expect(first.lines[3].name == "P-2", "a guest's name is shown too")
        #expect(second.lines.map(\.outcome) == [.absent, .absent, .excused, .present])
        #expect(second.lines[2].excuse == "dentist" && second.lines[3].flags == [.leftEarly])
        #expect(
            report
                == GroupReport.make(group: "7B", from: t0 - 3600, to: t0 + 2 * 86_400, reports: [first, math, second]))
        let later = try await store.groupReport("7B", from: t0 + 3600, to: t0 + 2 * 86_400, now: now)
        #expect(later.sessions.map(\.session) == ["s-lab-2"])
    }

    @Test(
        "flags and excuses only for the roster of a known session; CSV fields are quoted when they must be",
        arguments: StoreKind.available)
    func refusals(_ kind: StoreKind) async throws {
        let (store, folder) = try await labStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        await #expect(throws: HubError.self) {
            try await store.setFlag(session: "s-lab", person: "p-5", flag: .absent, note: nil, on: true)
        }
        await #expect(throws: HubError.self) {
            try await store.setExcuse(session: "s-none", person: "p-1", reason: "ill")
        }
        await #expect(throws: HubError.self) { _ = try await store.sessionReport("s-none", now: t0) }
        try await store.setExcuse(session: "s-lab", person: "p-4", reason: "ill, \"flu\"")
        let csv = try await store.sessionReport("s-lab", now: t0 + 2700).csv
        #expect(csv.contains("p-4,P-4,excused,,,,\"ill, \"\"flu\"\"\","))
    }

    @Test("staff and public tokens: only hashes kept; the admin scope is never stored", arguments: StoreKind.available)
    func tokens(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await store.addAccessToken("staff-token-0123456789", scope: .staff, label: "Ms Lovelace")
        try await store.addAccessToken("public-token-0123456789", scope: .public, label: "dashboard")
        #expect(try await store.scope(forToken: "staff-token-0123456789") == .staff)
        #expect(try await store.scope(forToken: "public-token-0123456789") == .public)
        #expect(try await store.scope(forToken: "secret-token-b12") == nil)
        await #expect(throws: HubError.self) {
            try await store.addAccessToken("admin-token-0123456789", scope: .admin, label: "x")
        }
        await #expect(throws: HubError.self) { try await store.addAccessToken("short", scope: .staff, label: "x") }
    }
}

struct VolunteerHoursTests {
    func visit(_ person: String, _ login: String, _ logout: String?) -> Visit {
        Visit(
            person: person, room: "B12", loginTime: ISO8601Time.parse(login)!,
            logoutTime: logout.flatMap(ISO8601Time.parse))
    }

    @Test("hours per person and ISO week; a visit across midnight counts whole, one across Sunday night is split")
    func weeks() throws {
        let visits = [
            // Monday 23 Nov 2026, 4 h 12 min.
            visit("v-1", "2026-11-23T08:00:00Z", "2026-11-23T12:12:00Z"),
            // Wednesday 22:00 to Thursday 01:30 (across midnight): 3.5 h in the same week.
            visit("v-1", "2026-11-25T22:00:00Z", "2026-11-26T01:30:00Z"),
            // Sunday 29 Nov 23:00 to Monday 30 Nov 02:00: 1 h in week 48, 2 h in week 49.
            visit("v-1", "2026-11-29T23:00:00Z", "2026-11-30T02:00:00Z"),
            visit("v-2", "2026-11-24T09:00:00Z", "2026-11-24T09:45:00Z"),
            // Still in: listed, not counted.
            visit("v-2", "2026-11-30T09:00:00Z", nil),
        ]
        let hours = VolunteerHours.make(
            visits: visits, timezones: ["B12": TimeZone(identifier: "UTC")!], names: ["v-1": "Ada"],
            from: ISO8601Time.parse("2026-11-01T00:00:00Z")!, to: ISO8601Time.parse("2026-12-31T00:00:00Z")!)
        let lines = hours.weeks.map { "\($0.person) \($0.week) \($0.weekStart) \($0.hours) \($0.visits)" }
        #expect(
            lines == [
                "v-1 2026-W48 2026-11-23 8.7 3", "v-1 2026-W49 2026-11-30 2.0 1", "v-2 2026-W48 2026-11-23 0.75 1",
            ])
        #expect(hours.open.map { "\($0.person) \($0.room) \($0.since)" } == ["v-2 B12 2026-11-30T09:00:00Z"])
        #expect(hours.weeks[0].name == "Ada")
        #expect(
            hours.csv.hasPrefix("person,name,week,week_start,hours,visits\r\nv-1,Ada,2026-W48,2026-11-23,8.70,3\r\n"))
    }

    @Test("the week is the room's: in Europe/Berlin, Sunday 23:30 UTC is already Monday")
    func timezone() throws {
        let hours = VolunteerHours.make(
            visits: [visit("v-1", "2026-11-29T23:30:00Z", "2026-11-30T00:30:00Z")],
            timezones: ["B12": TimeZone(identifier: "Europe/Berlin")!], names: [:],
            from: ISO8601Time.parse("2026-11-01T00:00:00Z")!, to: ISO8601Time.parse("2026-12-31T00:00:00Z")!)
        #expect(hours.weeks.map(\.week) == ["2026-W49"] && hours.weeks[0].hours == 1)
    }

    @Test(
        "through the store: visits from ingested entry and exit events, clipped to the range",
        arguments: StoreKind.available)
    func store(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let entry = DeviceEvent(
            id: eventUUID("e-in"), event: .entry(person: "v-1", at: t0), method: "qr", source: "signage:door-b12")
        let exit = DeviceEvent(
            id: eventUUID("e-out"), event: .exit(person: "v-1", at: t0 + 4 * 3600 + 720, entryAt: t0), method: "qr",
            source: "signage:door-b12")
        _ = try await store.ingest(EventBatch(events: [entry, exit]), from: device, receivedAt: t0 + 5 * 3600)
        let hours = try await store.volunteerHours(from: t0 - 86_400, to: t0 + 86_400)
        #expect(hours.weeks.map(\.hours) == [4.2] && hours.weeks[0].week == "2026-W48")
        let clipped = try await store.volunteerHours(from: t0 + 3600, to: t0 + 86_400)
        #expect(clipped.weeks.map(\.hours) == [3.2])
        await #expect(throws: HubError.self) { _ = try await store.volunteerHours(from: t0, to: t0) }
    }
}

struct PublicReportTests {
    @Test(
        "the public report: stable pseudonyms per deployment, outcomes and minutes late, no names or ids",
        arguments: StoreKind.available)
    func pseudonyms(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try await store.ingest(
            EventBatch(events: [checkin(eventUUID("e-2"), "p-2", at: 720)]), from: device, receivedAt: t0 + 800)
        let report = try await store.publicSessionReport("s-math", now: t0 + 2700)
        #expect(report.lines.map(\.outcome) == [.absent, .late] && report.lines[1].minutesLate == 12)
        let subjects = report.lines.map(\.subject)
        #expect(Set(subjects).count == 2 && subjects.allSatisfy { $0.hasPrefix("anon-") && $0.count == 37 })
        #expect(try await store.publicSessionReport("s-math", now: t0 + 2700).lines.map(\.subject) == subjects)
        let text = String(decoding: try DeviceAPI.encoder().encode(report), as: UTF8.self)
        for secret in ["p-1", "p-2", "P-1", "P-2", "name"] { #expect(!text.contains(secret), "\(secret) in \(text)") }
        // Another deployment (another key) gives other pseudonyms for the same people.
        let (other, otherFolder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: otherFolder) }
        let elsewhere = try await other.publicSessionReport("s-math", now: t0 + 2700).lines.map(\.subject)
        #expect(Set(elsewhere).isDisjoint(with: subjects))
    }
}

struct TimetableTests {
    static let berlin = ["B12": TimeZone(identifier: "Europe/Berlin")!]

    @Test(
        "weekly over a term: one session per matching weekday, local times in the room's timezone, roster from the group"
    )
    func weekly() {
        let csv = """
            class,group,room,date,weekday,first,last,start,end
            Maths,7B,B12,,Mon,2026-10-19,2026-11-09,08:00,08:45
            Science trip,7B,B12,2026-10-23,,,,09:00,12:00
            """
        let result = Timetable.parse(csv, timezones: Self.berlin) { $0 == "7B" ? ["p-1", "p-2"] : [] }
        #expect(result.problems.isEmpty)
        #expect(
            result.sessions.map(\.id) == [
                "maths-7b-2026-10-19-0800", "maths-7b-2026-10-26-0800", "maths-7b-2026-11-02-0800",
                "maths-7b-2026-11-09-0800", "science-trip-7b-2026-10-23-0900",
            ])
        // Summer time in Berlin until 25 October: 08:00 local is 06:00Z, then 07:00Z.
        #expect(ISO8601Time.format(result.sessions[0].start) == "2026-10-19T06:00:00Z")
        #expect(ISO8601Time.format(result.sessions[1].start) == "2026-10-26T07:00:00Z")
        #expect(result.sessions[0].end.timeIntervalSince(result.sessions[0].start) == 2700)
        #expect(result.sessions.allSatisfy { $0.roster == ["p-1", "p-2"] && $0.room == "B12" && $0.group == "7B" })
        #expect(result.classNames["maths-7b-2026-10-19-0800"] == "Maths")
        #expect(result.classNames["science-trip-7b-2026-10-23-0900"] == "Science trip")
    }

    @Test("each bad line is refused with its line number and the reason; the good lines are still imported")
    func problems() {
        let csv = """
            class,group,room,date,weekday,first,last,start,end
            Maths,7B,Z9,2026-10-23,,,,08:00,08:45
            Maths,7B,B12,2026-10-23,,,,08:45,08:00
            Maths,7B,B12,,Funday,2026-10-19,2026-11-09,08:00,08:45
            Maths,7B,B12,2026-13-01,,,,08:00,08:45
            Art,7B,B12,2026-10-23,,,,10:00,10:45
            """
        let result = Timetable.parse(csv, timezones: Self.berlin) { _ in [] }
        #expect(result.problems.map(\.line) == [2, 3, 4, 5])
        #expect(result.problems[0].message == "no room Z9: add it first")
        #expect(result.sessions.map(\.id) == ["art-7b-2026-10-23-1000"])
        #expect(
            Timetable.parse("class,room\nx,y", timezones: [:]) { _ in [] }.problems.first?.message.contains("lacks")
                == true)
    }
}

struct GroupReportTests {
    /// Four weekly sessions of 7B: p-1 always on time; p-2 late 10 and 20 min, then on time twice; p-3 on
    /// time once, then absent three times in a row; p-4 absent, excused, then present twice.
    func reports(lastOpen: Bool = false) -> [SessionReport] {
        let outcomes: [[(SessionReport.Outcome, Int?)]] = [
            [(.present, nil), (.late, 10), (.present, nil), (.absent, nil)],
            [(.present, nil), (.late, 20), (.absent, nil), (.excused, nil)],
            [(.present, nil), (.present, nil), (.absent, nil), (.present, nil)],
            [(.present, nil), (.present, nil), (.absent, nil), (.present, nil)],
        ]
        return outcomes.enumerated().map { week, lines in
            SessionReport(
                session: "maths-7b-w\(week)", group: "7B", room: "B12", start: "2026-11-0\(week + 2)T08:00:00Z",
                end: "2026-11-0\(week + 2)T08:45:00Z", status: lastOpen && week == 3 ? .open : .closed,
                lines: lines.enumerated().map { index, outcome in
                    SessionReport.Line(
                        person: "p-\(index + 1)", name: "P\(index + 1)", onRoster: true, outcome: outcome.0,
                        minutesLate: outcome.1, checkinTime: nil, method: nil, excuse: nil, flags: [])
                })
        }
    }

    @Test("attendance, punctuality, average lateness and absences in a row, as computed by hand")
    func people() {
        let report = GroupReport.make(group: "7B", from: t0 - 86_400 * 30, to: t0, reports: reports())
        let byPerson = Dictionary(uniqueKeysWithValues: report.people.map { ($0.person, $0) })
        #expect(byPerson["p-1"]?.attendance == 1 && byPerson["p-1"]?.punctuality == 1)
        #expect(byPerson["p-2"]?.attendance == 1 && byPerson["p-2"]?.punctuality == 0.5)
        #expect(byPerson["p-2"]?.averageMinutesLate == 15 && byPerson["p-2"]?.late == 2)
        #expect(byPerson["p-3"]?.attendance == 0.25 && byPerson["p-3"]?.missedInARow == 3)
        #expect(byPerson["p-3"]?.pastoral == true && byPerson["p-2"]?.pastoral == false)
        #expect(byPerson["p-4"]?.attendance == 2.0 / 3.0 && byPerson["p-4"]?.excused == 1)
        #expect(byPerson["p-4"]?.missedInARow == 0)
        // Per session: week 0 had 3 of 4, week 1 2 of 3 (one excused).
        #expect(report.sessions.map(\.attendance) == [0.75, 2.0 / 3.0, 0.75, 0.75])
        #expect(report.csv.contains("7B,p-3,P3,4,1,0,3,0,25.0,100.0,,3,yes"))
    }

    @Test("an open session is charted without a value and counts for nobody yet")
    func open() {
        let report = GroupReport.make(group: "7B", from: t0 - 86_400 * 30, to: t0, reports: reports(lastOpen: true))
        #expect(report.sessions.last?.attendance == nil && report.people.first?.sessions == 3)
        #expect(report.people.first { $0.person == "p-3" }?.missedInARow == 2)
    }

    @Test("the written summary for a chat post")
    func summary() {
        var report = reports()[1]
        report.lines[0].flags = [.leftEarly]
        #expect(
            report.summary
                == "7B, 2026-11-03 08:00–08:45 UTC (room B12): 2 of 4 came, 1 late (on average 20 min). "
                + "Absent: P3. Excused: P4. Flags: P1 (left early).")
        let all = reports()[0].lines.map { line in
            SessionReport.Line(
                person: line.person, name: line.name, onRoster: true, outcome: .present, minutesLate: nil,
                checkinTime: nil, method: nil, excuse: nil, flags: [])
        }
        var everyone = reports()[0]
        everyone.lines = all
        #expect(everyone.summary.hasSuffix("4 of 4 came. Everyone was there."))
    }
}
