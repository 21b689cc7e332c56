import Attendance
import Foundation
import Hub
import HubServer
import Logging
import TestSupport
import Testing

/// Pastoral alerts: a student absent (not excused) from three of their sessions in a row is reported once,
/// by email, to the teachers of the last one who have an address.
struct PastoralAlertTests {
    func notifier(_ store: any HubStorage) -> Notifier {
        var settings = NotificationSettings()
        settings.sendmail = ["/bin/true"]
        return Notifier(storage: store, settings: settings, logger: Logger(label: "test"))
    }

    func pastoral(_ store: any HubStorage) async throws -> [OutgoingMessage] {
        try await store.messages(person: nil).map(\.message).filter { $0.kind == "pastoral" }
    }

    @Test(
        "three absences in a row reach the teacher with an address once; a check-in or an excuse breaks the run",
        arguments: StoreKind.available)
    func threeInARow(_ kind: StoreKind) async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        // s-math (two hours ago, closed) has p-0...p-9 on its roster and nobody checked in.
        let store = try await hubStore(in: folder, kind)
        let day: TimeInterval = 86_400
        for (id, start) in [("s-mon", t0 - 2 * day), ("s-tue", t0 - day)] {
            try await store.putSession(
                Session(
                    id: id, room: "B12", group: "7B", start: start, end: start + 2700, roster: ["p-0", "p-1", "p-2"]))
        }
        // p-1 was there on Tuesday (marked by staff); p-2's Monday absence was excused.
        try await store.setManualRecord(
            session: "s-tue", person: "p-1", mark: .present, reason: "seen in class", by: "lovelace", at: t0 - day)
        try await store.setExcuse(session: "s-mon", person: "p-2", reason: "dentist")
        try await store.addAccount(
            Account(username: "lovelace", role: .teacher, name: "Ada Lovelace", email: "ada@school.example"),
            passwordHash: "x")
        try await store.addAccount(Account(username: "turing", role: .teacher, name: "Alan Turing"), passwordHash: "x")
        try await store.setTeachers(session: "s-math", usernames: ["lovelace", "turing"])
        #expect(try await store.teachers(session: "s-math").map(\.email) == ["ada@school.example", nil])

        #expect(try await notifier(store).scan(now: Date()) == 1)
        let sent = try await pastoral(store)
        #expect(sent.count == 1)
        let alert = try #require(sent.first)
        #expect(alert.person == "p-0" && alert.recipient == "ada@school.example" && alert.session == "s-math")
        #expect(alert.subject == "p-0: 3 absences in a row")
        // The three sessions, and no one else's name.
        #expect(
            alert.body.contains("Dear Ada Lovelace") && alert.body.components(separatedBy: "- 7B, room B12").count == 4)
        #expect((1...9).allSatisfy { !alert.body.contains("p-\($0)") })

        // Looked at again, by this process or another (a new notifier): nothing new.
        #expect(try await notifier(store).scan(now: Date()) == 0)
        // A fourth absence in the same run sends nothing new either.
        try await store.putSession(
            Session(id: "s-wed", room: "B12", group: "7B", start: t0 + 3000, end: t0 + 3600, roster: ["p-0"]))
        try await store.setTeachers(session: "s-wed", usernames: ["lovelace"])
        #expect(try await notifier(store).scan(now: Date()) == 0)
        #expect(try await pastoral(store).count == 1)

        // An account's address is checked and can be changed or cleared.
        await #expect(throws: HubError.self) {
            try await store.setEmail(username: "turing", email: "turing@school\r\nBcc: x@y.org")
        }
        #expect(try await store.setEmail(username: "turing", email: "alan@school.example"))
        #expect(try await store.setEmail(username: "nobody", email: nil) == false)
        #expect(try await store.accounts().first { $0.username == "turing" }?.email == "alan@school.example")
    }

    @Test("no alert without sendmail, or with the rule turned off", arguments: StoreKind.available)
    func off(_ kind: StoreKind) async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder, kind)
        for (index, id) in ["s-a", "s-b"].enumerated() {
            let start = t0 - Double(index + 1) * 86_400
            try await store.putSession(
                Session(id: id, room: "B12", group: "7B", start: start, end: start + 2700, roster: ["p-0"]))
        }
        try await store.addAccount(
            Account(username: "lovelace", role: .teacher, name: "Ada Lovelace", email: "ada@school.example"),
            passwordHash: "x")
        try await store.setTeachers(session: "s-math", usernames: ["lovelace"])
        var settings = NotificationSettings()
        settings.webhookURL = "http://127.0.0.1:9/hook"
        _ = try await Notifier(storage: store, settings: settings, logger: Logger(label: "test")).scan(now: Date())
        settings.sendmail = ["/bin/true"]
        settings.pastoralAfter = 0
        _ = try await Notifier(storage: store, settings: settings, logger: Logger(label: "test")).scan(now: Date())
        #expect(try await pastoral(store).isEmpty)
        settings.pastoralAfter = 3
        #expect(
            try await Notifier(storage: store, settings: settings, logger: Logger(label: "test")).scan(now: Date()) == 1
        )
    }
}
