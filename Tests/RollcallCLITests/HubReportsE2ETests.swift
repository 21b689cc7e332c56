import Foundation
import Scenario
import TestSupport
import Testing

/// Issue 7's test of the hub's reports, on a real `rollcall-hub serve` process: a term of Maths for group
/// 7B (every Monday from 5 October to 16 November 2026, 08:00-08:45 in Europe/Berlin, across the end of
/// summer time) and a one-off trip on 20 November, imported from a timetable CSV. The events come from a
/// device: the scenario video replayed by `rollcall replay` into an outbox and pushed by `rollcall sync`
/// (the student checks in 12 minutes late on 16 November, the volunteer signs in and out), and further
/// batches through the device API (every other check-in, and two volunteer visits, one across midnight and
/// one across Sunday midnight). Staff excuse one absence and set flags. Then every report is checked
/// against figures worked out by hand: the session report (JSON and CSV), the summary, the group report
/// with the pastoral signal, volunteer hours per week and the public pseudonymous report. (The group
/// page's chart in a browser: tools/hub_group_page_e2e.py.)
@Suite(
    .enabled(
        if: TestResources.fixturesEnabled && TestResources.modelsEnabled, "needs ../shared/fixtures and the models"))
struct HubReportsE2ETests {
    static let staff = "staff-token-e2e-0123456789"
    static let publicToken = "public-token-e2e-0123456789"
    static let deviceToken = "reports-device-token-0123456789"
    static let mondays = [
        "2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16",
    ]
    static let trip = "trip-7b-2026-11-20-0900"
    static let roster = ["p-2", "p-3", "p-4", "p-obama"]

    /// 08:00 in Berlin in UTC: summer time (UTC+2) until 25 October, then UTC+1.
    static func startHour(_ day: String) -> Int { day < "2026-10-26" ? 6 : 7 }
    static func sessionID(_ day: String) -> String { "maths-7b-\(day)-0800" }

    /// A JSON value's bytes.
    static func json(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
    }

    /// A JSON object from an answer.
    static func object(_ data: Data) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(String(decoding: data, as: UTF8.self))")
    }

    static func checkin(_ person: String, _ session: String, _ at: String, late: Int = 0) -> [String: Any] {
        [
            "id": UUID().uuidString.lowercased(), "kind": "checkin", "person": person, "session": session, "at": at,
            "status": late > 0 ? "late" : "present", "minutes_late": late, "method": "face",
            "source": "signage:door-b12",
        ]
    }

    static func visit(_ person: String, _ entry: String, _ exit: String, seconds: Int) -> [[String: Any]] {
        [
            [
                "id": UUID().uuidString.lowercased(), "kind": "entry", "person": person, "at": entry, "method": "qr",
                "source": "signage:door-b12",
            ],
            [
                "id": UUID().uuidString.lowercased(), "kind": "exit", "person": person, "at": exit, "entry_at": entry,
                "duration_seconds": seconds, "method": "qr", "source": "signage:door-b12",
            ],
        ]
    }

    /// The scenario generated from the fixtures, its gallery enrolled from the fixture photos.
    static func scenario(in folder: URL) async throws -> (files: ScenarioFiles, gallery: URL) {
        let files = try ScenarioVideo.generate(fixtures: TestResources.faces, into: folder)
        let gallery = folder.appendingPathComponent("gallery.json")
        for person in files.manifest.gallery {
            let result = try await runRollcall(
                [
                    "enroll", "--gallery", gallery.path, "--person", person.person, "--name", person.name, "--role",
                    person.role,
                ] + person.images.map { TestResources.faces.appendingPathComponent($0).path })
            try #require(result.status == 0, "\(result.out)\(result.err)")
        }
        return (files, gallery)
    }

    @Test("the hub's reports on a real rollcall-hub serve match the figures worked out by hand")
    func reports() async throws {
        let folder = try TestResources.temporaryDirectory()
        let (files, gallery) = try await Self.scenario(in: folder.appendingPathComponent("scenario"))
        // The term lies in the autumn of 2026: the hub takes events up to ten years old here (30 days by default).
        let hub = try await RunningHub.start(in: folder, arguments: ["--max-event-age-days", "3650"])
        do {
            try await Self.check(hub, folder: folder, files: files, gallery: gallery)
        } catch {
            await hub.stop()
            throw error
        }
        #expect(await hub.stop() == 0)
        try? FileManager.default.removeItem(at: folder)
    }

    static func check(_ hub: RunningHub, folder: URL, files: ScenarioFiles, gallery: URL) async throws {
        // People, rooms, tokens, timetable.
        try await hub.admin("POST", "/rooms", #"{"id": "B12", "timezone": "Europe/Berlin"}"#)
        try await hub.admin("POST", "/devices", #"{"id": "door-b12", "room": "B12", "token": "\#(deviceToken)"}"#)
        let people = try #require(try object(try Data(contentsOf: gallery))["people"] as? [[String: Any]])
        var student = try #require(people.first)
        student["groups"] = ["7B"]
        student["consent"] = ["state": "granted", "given_by": "guardian", "evidence": "test consent form 1"]
        try await hub.admin("POST", "/people", try json(student))
        for (person, name) in [("p-2", "Grace Hopper"), ("p-3", "Alan Turing"), ("p-4", "Katherine Johnson")] {
            try await hub.admin(
                "POST", "/people",
                #"{"id": "\#(person)", "name": "\#(name)", "role": "student", "groups": ["7B"], "templates": []}"#)
        }
        try await hub.admin(
            "POST", "/people", #"{"id": "v-ada", "name": "Ada", "role": "volunteer", "groups": [], "templates": []}"#)
        try await hub.admin("PUT", "/rooms/B12/access", #"{"people": ["v-ada"]}"#)
        for (token, scope) in [(staff, "staff"), (publicToken, "public")] {
            try await hub.admin(
                "POST", "/tokens", #"{"token": "\#(token)", "scope": "\#(scope)", "label": "\#(scope)"}"#)
        }
        let keys = try #require(try object(try Data(contentsOf: files.badgeKeys))["keys"] as? [String: String])
        for (kid, publicKey) in keys {
            try await hub.admin("POST", "/badge-keys", #"{"kid": "\#(kid)", "public_key": "\#(publicKey)"}"#)
        }
        let timetable = """
            class,group,room,date,weekday,first,last,start,end
            Maths,7B,B12,,Mon,2026-10-05,2026-11-16,08:00,08:45
            Trip,7B,B12,2026-11-20,,,,09:00,12:00
            Maths,7B,Z9,,Mon,2026-10-05,2026-11-16,08:00,08:45

            """
        let imported = try object(try await hub.admin("POST", "/timetable", timetable))
        let problems = (imported["problems"] as? [[String: Any]] ?? []).map { $0["line"] as? Int }
        #expect(
            imported["sessions"] as? Int == 8 && problems == [4],
            "timetable: 7 Mondays and the trip imported, the line naming an unknown room refused: \(imported)")

        // The device: the scenario replayed on 16 November, 12 minutes into Maths, then synced.
        let policy = try #require(try object(try Data(contentsOf: files.sessions))["policy"])
        let sessions = folder.appendingPathComponent("sessions.json")
        try Data(
            try json([
                "room": "B12", "timezone": "Europe/Berlin", "policy": policy,
                "sessions": [
                    [
                        "id": sessionID("2026-11-16"), "group": "7B", "start": "2026-11-16T07:00:00Z",
                        "end": "2026-11-16T07:45:00Z", "roster": roster,
                    ]
                ],
            ]).utf8
        ).write(to: sessions)
        let outbox = folder.appendingPathComponent("outbox.sqlite").path
        let replay = try await runRollcall([
            "replay", files.video.path, "--gallery", gallery.path, "--sessions", sessions.path, "--badge-keys",
            files.badgeKeys.path, "--start", "2026-11-16T07:12:00Z", "--outbox", outbox, "--device-id", "door-b12",
            "--json",
        ])
        let kinds = replay.out.split(separator: "\n").filter { $0.hasPrefix("{") }.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["kind"] as? String
        }
        #expect(
            replay.status == 0 && kinds.filter { $0 == "checkin" }.count == 1 && kinds.contains("entry")
                && kinds.contains("exit"),
            "the device replays the scenario: a check-in, an entry and an exit committed: \(replay.err.suffix(400))")
        let sync = try await runRollcall([
            "sync", "--hub", hub.url, "--token", deviceToken, "--device-id", "door-b12", "--outbox", outbox,
            "--seconds", "30",
        ])
        #expect(
            sync.status == 0 && sync.out.contains("synced 3, pending 0, rejected 0"),
            "rollcall sync pushes the outbox, nothing refused: \(sync.out)\(sync.err)")

        // Every other event, as device batches.
        var events: [[String: Any]] = []
        for day in mondays {
            let hour = String(format: "%02d", startHour(day))
            func at(_ minutes: Int) -> String { "\(day)T\(hour):\(String(format: "%02d", minutes)):00Z" }
            let session = sessionID(day)
            // p-2: late 7 min on 12 Oct, 20 min on 2 Nov, else on time.
            let late = ["2026-10-12": 7, "2026-11-02": 20][day] ?? 0
            events.append(checkin("p-2", session, at(late > 0 ? late : 1), late: late))
            // p-3: on time until 2 November, then absent.
            if day <= "2026-11-02" { events.append(checkin("p-3", session, at(2))) }
            // p-4: absent (excused) on 5 October, else on time.
            if day != "2026-10-05" { events.append(checkin("p-4", session, at(3))) }
            // p-obama: on time until 9 November (16 November came from the replay).
            if day <= "2026-11-09" { events.append(checkin("p-obama", session, at(0))) }
        }
        events.append(checkin("p-2", trip, "2026-11-20T08:01:00Z"))
        events += visit("v-ada", "2026-11-18T22:30:00Z", "2026-11-19T01:15:00Z", seconds: 9900)
        events += visit("v-ada", "2026-11-15T22:00:00Z", "2026-11-16T00:30:00Z", seconds: 9000)
        let (status, sent) = try await hub.call(
            "POST", "/api/v1/device/events", token: deviceToken, body: Data(try json(["events": events]).utf8))
        let answer = try object(sent)
        #expect(
            status == 200 && (answer["accepted"] as? [String])?.count == events.count
                && (answer["rejected"] as? [Any])?.isEmpty == true,
            "the device's other \(events.count) events are accepted: \(answer)")
        let excuse = try await hub.call(
            "PUT", "/api/v1/staff/sessions/\(sessionID("2026-10-05"))/excuses", token: staff,
            body: Data(#"{"person": "p-4", "reason": "dentist"}"#.utf8))
        #expect(excuse.0 == 200, "staff excuse p-4 on 5 October")
        let last = sessionID("2026-11-16")
        for (person, flag) in [("p-2", "LEFT_EARLY"), ("p-3", "ABSENT")] {
            let flagged = try await hub.call(
                "PUT", "/api/v1/staff/sessions/\(last)/flags", token: staff,
                body: Data(#"{"person": "\#(person)", "flag": "\#(flag)"}"#.utf8))
            #expect(flagged.0 == 200, "staff flag \(person) \(flag)")
        }

        try await checkSessions(hub, last: last)
        try await checkGroup(hub)
        try await checkVolunteersAndPublic(hub, last: last)
    }

    /// The session of 16 November (JSON, CSV, summary) and that of 5 October.
    static func checkSessions(_ hub: RunningHub, last: String) async throws {
        let report = try object(try await hub.call("GET", "/api/v1/reports/sessions/\(last)", token: staff).1)
        let lines = Dictionary(
            uniqueKeysWithValues: (report["lines"] as? [[String: Any]] ?? []).map {
                ($0["person"] as? String ?? "", $0)
            })
        #expect(
            report["status"] as? String == "closed"
                && roster.map { lines[$0]?["outcome"] as? String } == ["present", "absent", "present", "late"],
            "16 November: p-2 present, p-3 absent at close, p-4 present, the replayed student late: \(report)")
        #expect(
            lines["p-obama"]?["minutes_late"] as? Int == 12 && lines["p-obama"]?["method"] as? String == "face",
            "the replayed check-in is 12 minutes late, by face: \(String(describing: lines["p-obama"]))")
        #expect(
            lines["p-2"]?["flags"] as? [String] == ["LEFT_EARLY"] && lines["p-3"]?["flags"] as? [String] == ["ABSENT"],
            "flags in the report")
        let csv = String(
            decoding: try await hub.call("GET", "/api/v1/reports/sessions/\(last)?format=csv", token: staff).1,
            as: UTF8.self)
        let rows = csvRows(csv)
        #expect(
            rows.map { $0["outcome"] } == ["present", "absent", "present", "late"] && rows.count == 4
                && rows[3]["minutes_late"] == "12" && rows[0]["flags"] == "LEFT_EARLY", "the same as CSV: \(csv)")
        #expect(report["class_name"] as? String == "Maths", "the session keeps its class from the timetable")
        let summary = String(
            decoding: try await hub.call("GET", "/api/v1/reports/sessions/\(last)/summary", token: staff).1,
            as: UTF8.self)
        #expect(
            summary.trimmingCharacters(in: .whitespacesAndNewlines)
                == "Maths 7B, 2026-11-16 07:00–07:45 UTC (room B12): 3 of 4 came, 1 late (on average 12 min). "
                + "Absent: Alan Turing. Flags: Grace Hopper (left early); Alan Turing (absent).",
            "the written summary: \(summary)")
        let first = try object(
            try await hub.call("GET", "/api/v1/reports/sessions/\(sessionID("2026-10-05"))", token: staff).1)
        let firstLines = first["lines"] as? [[String: Any]] ?? []
        #expect(
            firstLines.map { $0["outcome"] as? String } == ["present", "present", "excused", "present"]
                && firstLines.count == 4 && firstLines[2]["excuse"] as? String == "dentist",
            "5 October: p-4 excused with the reason: \(first)")
    }

    /// The group over the term, against the figures worked out by hand.
    static func checkGroup(_ hub: RunningHub) async throws {
        let span = "from=2026-10-01T00:00:00Z&to=2026-12-01T00:00:00Z"
        let group = try object(try await hub.call("GET", "/api/v1/reports/groups/7B?\(span)", token: staff).1)
        let people = Dictionary(
            uniqueKeysWithValues: (group["people"] as? [[String: Any]] ?? []).map {
                ($0["person"] as? String ?? "", $0)
            })
        // sessions, present, late, absent, excused, attendance, punctuality, average late, in a row, pastoral
        let expected: [String: [Any?]] = [
            "p-2": [8, 6, 2, 0, 0, 1.0, 0.75, 13.5, 0, false],
            "p-3": [8, 5, 0, 3, 0, 0.625, 1.0, nil, 3, true],
            "p-4": [8, 6, 0, 1, 1, 6.0 / 7, 1.0, nil, 1, false],
            "p-obama": [8, 6, 1, 1, 0, 7.0 / 8, 6.0 / 7, 12.0, 1, false],
        ]
        let keys = [
            "sessions", "present", "late", "absent", "excused", "attendance", "punctuality", "average_minutes_late",
            "missed_in_a_row", "pastoral",
        ]
        for (person, values) in expected.sorted(by: { $0.key < $1.key }) {
            let line = people[person] ?? [:]
            let got = keys.map { line[$0] }
            #expect(zip(got, values).allSatisfy(same), "group 7B, \(person): \(values) expected, got \(got)")
        }
        let points = (group["sessions"] as? [[String: Any]] ?? []).map { ($0["attendance"] as? Double) ?? -1 }
        #expect(
            points.count == 8
                && zip(points, [1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.75, 0.25]).allSatisfy { abs($0 - $1) < 1e-4 },
            "group 7B: attendance per session (5 October counts p-4 as excused): \(points)")
    }

    /// Volunteer hours per week, and the public pseudonymous report.
    static func checkVolunteersAndPublic(_ hub: RunningHub, last: String) async throws {
        let hours = try object(
            try await hub.call(
                "GET", "/api/v1/reports/volunteers?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z", token: staff
            ).1)
        let weeks = (hours["weeks"] as? [[String: Any]] ?? []).map {
            "\($0["week"] as? String ?? "?") \($0["hours"] as? Double ?? -1) \($0["visits"] as? Int ?? -1)"
        }
        #expect(
            weeks == ["2026-W46 1.0 1", "2026-W47 4.25 3"],
            "volunteer hours: across Sunday midnight split (1 h + 1.5 h), across midnight whole (2.75 h), and the replayed 3 s visit: \(weeks)"
        )
        let (status, body) = try await hub.call("GET", "/api/v1/public/sessions/\(last)", token: publicToken)
        let text = String(decoding: body, as: UTF8.self)
        let lines = (try? object(body))?["lines"] as? [[String: Any]] ?? []
        #expect(
            status == 200 && !lines.isEmpty
                && lines.allSatisfy { ($0["subject"] as? String)?.hasPrefix("anon-") == true }
                && !["p-2", "p-obama", "Grace", "Obama", "dentist"].contains(where: text.contains),
            "the public report has pseudonyms and outcomes, no ids or names: \(text.prefix(200))")
        #expect(
            try await hub.call("GET", "/api/v1/public/sessions/\(last)", token: staff).0 == 403,
            "a staff token cannot read the public API (its own scope)")
    }

    /// Two JSON values alike: numbers within 1e-9 (an integer equals the same double), nil with nil.
    static func same(_ got: Any?, _ expected: Any?) -> Bool {
        switch (got, expected) {
        case (nil, nil): return true
        case (let got as Bool, let expected as Bool): return got == expected
        case (let got as NSNumber, let expected as Int): return got.doubleValue == Double(expected)
        case (let got as NSNumber, let expected as Double): return abs(got.doubleValue - expected) < 1e-9
        default: return false
        }
    }

    /// A CSV's rows as dictionaries by header (the report's CSV: a header line, quoted fields where needed).
    static func csvRows(_ text: String) -> [[String: String]] {
        var records: [[String]] = []
        var field = ""
        var record: [String] = []
        var quoted = false
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" {
                        field.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                record.append(field)
                field = ""
            } else if character == "\n" || character == "\r\n" {
                record.append(field)
                records.append(record)
                record = []
                field = ""
            } else if character != "\r" {
                field.append(character)
            }
        }
        if !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        guard let header = records.first else { return [] }
        return records.dropFirst().map { Dictionary(zip(header, $0), uniquingKeysWith: { first, _ in first }) }
    }
}
