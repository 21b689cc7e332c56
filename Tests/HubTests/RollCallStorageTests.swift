import Attendance
import Foundation
import Hub
import Recognition
import SyncProtocol
import TestSupport
import Testing

/// Manual marks against door events, the bulk absent, the live fingerprints, the Today query and the
/// doors' heartbeats, on both stores.
struct RollCallStorageTests {
    @Test(
        "a staff member's mark replaces a door's record, stands against every later door event, and says who set it",
        arguments: StoreKind.available)
    func manualWins(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try await store.ingest(
            EventBatch(events: [checkin(eventUUID("e-1"), "p-1", at: 60)]), from: device, receivedAt: received)
        #expect(first.accepted.count == 1)
        let before = try await store.rollCallFingerprints(["s-math"])
        try await store.setManualRecord(
            session: "s-math", person: "p-1", mark: .excused, reason: "dentist", by: "lovelace", at: received + 10)
        try await store.setManualRecord(
            session: "s-math", person: "p-2", mark: .present, reason: nil, by: "lovelace", at: received + 20)
        #expect(try await store.rollCallFingerprints(["s-math"]) != before)
        // The door sees p-2 later, and p-1 again: both kept as received, neither changes the marks.
        let later = try await store.ingest(
            EventBatch(events: [checkin(eventUUID("e-2"), "p-2", at: 90), checkin(eventUUID("e-3"), "p-1", at: 100)]),
            from: device, receivedAt: received + 30)
        #expect(later.accepted.count == 2 && later.rejected.isEmpty)
        let report = try await store.sessionReport("s-math", now: received)
        let lines = Dictionary(uniqueKeysWithValues: report.lines.map { ($0.person, $0) })
        #expect(lines["p-1"]?.outcome == .excused && lines["p-1"]?.excuse == "dentist")
        #expect(lines["p-1"]?.method == "manual" && lines["p-1"]?.source == "web" && lines["p-1"]?.setBy == "lovelace")
        #expect(lines["p-2"]?.outcome == .present && lines["p-2"]?.method == "manual")
        #expect(lines["p-2"]?.checkinTime == ISO8601Time.format(received + 20))
        let records = try await store.checkinRecords(session: "s-math")
        #expect(records.count == 2 && records.allSatisfy { $0.eventID.hasPrefix("manual:") })
        #expect(report.csv.contains("p-1,P-1,excused,,,manual,dentist,,web,lovelace\r\n"))
        // An excuse needs a reason; a stranger to the roster is refused; so is an unknown session.
        await #expect(throws: HubError.self) {
            try await store.setManualRecord(
                session: "s-math", person: "p-2", mark: .excused, reason: " ", by: "lovelace", at: received)
        }
        await #expect(throws: HubError.self) {
            try await store.setManualRecord(
                session: "s-math", person: "p-9", mark: .present, reason: nil, by: "lovelace", at: received)
        }
        await #expect(throws: HubError.self) {
            try await store.setManualRecord(
                session: "nope", person: "p-1", mark: .present, reason: nil, by: "lovelace", at: received)
        }
    }

    @Test(
        "everyone not yet here is marked absent in one go; those with a record keep it", arguments: StoreKind.available)
    func restAbsent(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try await store.ingest(
            EventBatch(events: [checkin(eventUUID("e-1"), "p-1", at: 60)]), from: device, receivedAt: received)
        #expect(try await store.markRestAbsent(session: "s-math", by: "lovelace", at: received) == 1)
        let report = try await store.sessionReport("s-math", now: t0 + 600)
        #expect(report.status == .open)
        #expect(report.lines.map(\.outcome) == [.present, .absent])
        #expect(report.lines[0].method == "face" && report.lines[0].source == "signage:door-b12")
        #expect(report.lines[1].setBy == "lovelace")
        #expect(try await store.markRestAbsent(session: "s-math", by: "lovelace", at: received) == 0)
    }

    @Test(
        "today's sessions by teacher, by group or all; a person's record; the doors' heartbeats",
        arguments: StoreKind.available)
    func todayAndDoors(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try await store.importTimetable(
            "class,group,room,date,start,end,teacher\nMaths,7B,B12,2026-11-23,10:00,10:45,lovelace\n")
        let all = try await store.sessions(from: t0 - 3600, to: t0 + 86_400, teacher: nil, groups: nil, limit: 10)
        #expect(all.map(\.session.id) == ["s-art", "s-math", "maths-7b-2026-11-23-1000"])
        let taught = try await store.sessions(
            from: t0 - 3600, to: t0 + 86_400, teacher: "lovelace", groups: nil, limit: 10)
        #expect(taught.map(\.session.id) == ["maths-7b-2026-11-23-1000"] && taught[0].className == "Maths")
        let groups = try await store.sessions(from: t0 - 3600, to: t0 + 86_400, teacher: nil, groups: ["8A"], limit: 10)
        #expect(groups.map(\.session.id) == ["s-art"])
        #expect(try await store.sessions(from: t0 - 3600, to: t0 + 86_400, teacher: nil, groups: [], limit: 10).isEmpty)
        #expect(try await store.personRecord("p-1")?.name == "P-1")
        let mine = try await store.sessions(of: "p-1", from: t0 - 3600, to: t0 + 86_400, limit: 10)
        #expect(mine.map(\.session.id) == ["s-art", "s-math"])
        #expect(try await store.sessions(of: "p-", from: t0 - 3600, to: t0 + 86_400, limit: 10).isEmpty)
        #expect(try await store.personRecord("nobody") == nil)

        #expect(try await store.doors() == [DoorStatus(device: "door-b12", room: "B12")])
        try await store.recordHeartbeat(
            DoorStatus(
                device: "door-b12", room: "B12", version: "0.17.0", queued: 3, camera: "ok", address: "10.1.2.3"),
            at: t0)
        try await store.recordHeartbeat(
            DoorStatus(
                device: "door-b12", room: "B12", version: "0.17.0", queued: 0, camera: "lost", address: "10.1.2.3"),
            at: t0 + 60)
        #expect(
            try await store.doors() == [
                DoorStatus(
                    device: "door-b12", room: "B12", lastContact: t0 + 60, version: "0.17.0", queued: 0, camera: "lost",
                    address: "10.1.2.3")
            ])
    }

    @Test(
        "a subject-access export holds everything about the person and nothing about anyone else",
        arguments: StoreKind.available)
    func subjectAccess(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try await store.ingest(
            EventBatch(events: [checkin(eventUUID("e-1"), "p-1", at: 60), checkin(eventUUID("e-2"), "p-2", at: 70)]),
            from: device, receivedAt: received)
        try await store.setManualRecord(
            session: "s-art", person: "p-1", mark: .excused, reason: "dentist", by: "lovelace", at: received)
        try await store.setFlag(session: "s-math", person: "p-1", flag: .leftEarly, note: nil, on: true)
        try await store.setFlag(session: "s-math", person: "p-2", flag: .cameraOff, note: nil, on: true)
        try await store.addAccount(
            Account(username: "pat", role: .student, name: "Pat", person: "p-1"), passwordHash: "$2b$04$x")
        for (subject, detail) in [
            ("session:s-art", "p-1 marked excused (dentist)"), ("session:s-math", "p-10 marked present"),
            ("person:p-1", "own record"), ("person:p-2", "own record"),
        ] {
            try await store.appendAudit(
                AuditEntry(at: received, actor: "user:x", action: "view", subject: subject, detail: detail))
        }
        let export = try #require(try await store.exportPerson("p-1", at: received))
        #expect(export.gallery?.name == "P-1" && export.gallery?.templates.count == 1)
        #expect(export.rosters == ["s-art", "s-math"])
        #expect(
            Set(export.records.map { "\($0.session) \($0.status) \($0.method)" }) == [
                "s-math present face", "s-art excused manual",
            ])
        #expect(export.excuses == ["s-art": "dentist"] && export.flags == ["s-math": ["LEFT_EARLY"]])
        #expect(export.events.map(\.id) == [eventUUID("e-1")] && export.events[0].body.contains("p-1"))
        #expect(export.accounts == ["pat": "student"])
        #expect(export.audit.map(\.detail) == ["p-1 marked excused (dentist)", "own record"])
        let text = String(decoding: try export.json(), as: UTF8.self)
        for other in ["p-2", "P-2", "CAMERA_OFF", "p-10"] { #expect(!text.contains(other), "\(other) in p-1's export") }
        // Times a person can read: the audit line's time as ISO 8601, not seconds since 2001.
        #expect(text.contains("\"at\":\"\(ISO8601DateFormatter().string(from: received))\""))
        let volunteer = try #require(try await store.exportPerson("v-1", at: received))
        #expect(volunteer.rooms == ["B12"] && volunteer.records.isEmpty)
        #expect(try await store.exportPerson("nobody", at: received) == nil)
    }
}
