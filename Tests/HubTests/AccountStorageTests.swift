import Attendance
import Foundation
import GRDB
import Hub
import TestSupport
import Testing

/// The web app's accounts, sessions, throttling, teaching links and audit trail, on both stores.
struct AccountStorageTests {
    @Test(
        "accounts: added once, found with their hash, disabled (ending their sessions), listed",
        arguments: StoreKind.available)
    func accounts(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let teacher = Account(username: "lovelace", role: .teacher, name: "Ada Lovelace")
        try await store.addAccount(teacher, passwordHash: "$2b$04$hash")
        await #expect(throws: HubError.self) { try await store.addAccount(teacher, passwordHash: "x") }
        let mentor = Account(username: "mia", role: .mentor, name: "Mia", groups: ["7B", "8A"])
        try await store.addAccount(mentor, passwordHash: "$2b$04$other")
        let student = Account(username: "pat", role: .student, name: "Pat")
        await #expect(throws: HubError.self) { try await store.addAccount(student, passwordHash: "x") }
        let bad = Account(username: "No Spaces", role: .teacher, name: "X")
        await #expect(throws: HubError.self) { try await store.addAccount(bad, passwordHash: "x") }
        #expect(try await store.accounts() == [teacher, mentor])
        let found = try #require(try await store.credentials(username: "lovelace"))
        #expect(found.account == teacher && found.passwordHash == "$2b$04$hash")
        #expect(try await store.setPasswordHash(username: "lovelace", hash: "$2b$04$new"))
        #expect(try await !store.setPasswordHash(username: "nobody", hash: "x"))

        let now = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
        let session = WebSession(username: "lovelace", csrf: "c", createdAt: now, expiresAt: now + 3600)
        try await store.addWebSession(digest: "d1", session: session)
        try await store.addWebSession(digest: "d2", session: session)
        #expect(try await store.webSession(digest: "d1", now: now) == session)
        #expect(try await store.webSession(digest: "d1", now: now + 3601) == nil)
        try await store.removeWebSessions(username: "lovelace", keeping: "d2")
        #expect(try await store.webSession(digest: "d1", now: now) == nil)
        #expect(try await store.webSession(digest: "d2", now: now) != nil)
        #expect(try await store.setDisabled(username: "lovelace", disabled: true))
        #expect(try await store.webSession(digest: "d2", now: now) == nil)
        #expect(try await store.credentials(username: "lovelace")?.account.disabled == true)
    }

    @Test("sign-in failures are counted per key within a window and cleared", arguments: StoreKind.available)
    func failures(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let now = Date()
        for minutes in [30.0, 10, 5, 1] { try await store.recordSigninFailure(key: "k", at: now - minutes * 60) }
        try await store.recordSigninFailure(key: "other", at: now)
        #expect(try await store.signinFailures(key: "k", since: now - 15 * 60) == 3)
        try await store.clearSigninFailures(key: "k")
        #expect(try await store.signinFailures(key: "k", since: .distantPast) == 0)
        #expect(try await store.signinFailures(key: "other", since: now - 60) == 1)
    }

    @Test("the timetable's teacher column links teachers to sessions and so to groups", arguments: StoreKind.available)
    func teaching(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try await store.importTimetable(
            """
            class,group,room,date,start,end,teacher
            Maths,7B,B12,2026-11-23,09:00,09:45,Lovelace; turing
            Art,8A,C3,2026-11-24,10:00,10:45,
            """)
        #expect(result.problems.isEmpty)
        let maths = try #require(result.sessions.first { $0.group == "7B" }).id
        let art = try #require(result.sessions.first { $0.group == "8A" }).id
        #expect(result.teachers == [maths: ["lovelace", "turing"]])
        #expect(try await store.teaches(username: "lovelace", session: maths))
        #expect(try await !store.teaches(username: "lovelace", session: art))
        #expect(try await store.teachesGroup(username: "turing", group: "7B"))
        #expect(try await !store.teachesGroup(username: "turing", group: "8A"))
        #expect(try await store.sessionGroup(art) == "8A")
        #expect(try await store.sessionGroup("nope") == nil)
        // Imported again without teachers, the link goes.
        _ = try await store.importTimetable("class,group,room,date,start,end\nMaths,7B,B12,2026-11-23,09:00,09:45\n")
        #expect(try await !store.teaches(username: "lovelace", session: maths))
    }

    @Test("the audit trail: appended, read by time, pruned by age", arguments: StoreKind.available)
    func audit(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let now = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
        let old = AuditEntry(
            at: now - 800 * 86_400, actor: "user:a", action: "view", subject: "group:7B", address: "10.0.0.1")
        let new = AuditEntry(
            at: now, actor: "user:b", action: "change", subject: "session:s", detail: "d", address: "::1")
        try await store.appendAudit(old)
        try await store.appendAudit(new)
        #expect(try await store.auditEntries(from: .distantPast, to: .distantFuture, limit: 10) == [old, new])
        #expect(try await store.auditEntries(from: now - 60, to: now + 60, limit: 10) == [new])
        #expect(try await store.pruneAudit(before: now - 730 * 86_400) == 1)
        #expect(try await store.auditEntries(from: .distantPast, to: .distantFuture, limit: 10) == [new])
    }

    @Test("the audit trail is append-only in the SQLite file itself: an UPDATE is refused")
    func appendOnlySQLite() async throws {
        let (store, folder) = try await makeStore(.sqlite)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await store.appendAudit(AuditEntry(at: Date(), actor: "user:a", action: "view", subject: "group:7B"))
        let queue = try DatabaseQueue(path: folder.appendingPathComponent("hub.sqlite").path)
        #expect(throws: (any Error).self) {
            try queue.write { db in try db.execute(sql: "UPDATE audit SET actor = 'someone else'") }
        }
        #expect(
            try await store.auditEntries(from: .distantPast, to: .distantFuture, limit: 10).map(\.actor) == ["user:a"])
    }

    @Test("the audit trail is append-only in PostgreSQL itself: an UPDATE is refused")
    func appendOnlyPostgres() async throws {
        guard PostgresCluster.enabled else { return }
        let cluster = try PostgresCluster.shared()
        let url = try cluster.database()
        let store = try await PostgresHubStorage.open(
            url: url, sealer: try PersonSealer(key: Data(repeating: 7, count: 32)), maximumConnections: 2)
        try await store.appendAudit(AuditEntry(at: Date(), actor: "user:a", action: "view", subject: "group:7B"))
        let answer = try? cluster.query(url, "UPDATE audit SET actor = 'someone else'")
        #expect(answer == nil)
        #expect(
            try await store.auditEntries(from: .distantPast, to: .distantFuture, limit: 10).map(\.actor) == ["user:a"])
        await store.close()
    }
}
