import Foundation
import Hub
import TestSupport
import Testing

/// The hub's outbox of messages to guardians, on both stores: once per key, claimed by one sender at a time,
/// retried, given up.
struct NotificationStorageTests {
    func message(_ key: String, person: String = "p-1") -> OutgoingMessage {
        OutgoingMessage(
            key: key, kind: "absence", channel: .email, person: person, session: "s-math",
            recipient: "parent@example.org", subject: "P-1 has not checked in", body: "Dear parent or guardian, ...")
    }

    @Test(
        "a message is queued once per key, claimed by one sender at a time, retried when it failed, and sent once",
        arguments: StoreKind.available)
    func outbox(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try await store.enqueue([message("a"), message("b", person: "p-2")], at: received) == 2)
        #expect(try await store.enqueue([message("a"), message("c")], at: received) == 1)
        // Claimed: a second sender (another hub process) gets nothing until the lease ends.
        let claimed = try await store.claimMessages(now: received, lease: 120, limit: 10)
        #expect(claimed.map(\.message.key) == ["a", "b", "c"])
        #expect(claimed[0].message == message("a"))
        #expect(try await store.claimMessages(now: received + 60, lease: 120, limit: 10).isEmpty)
        try await store.markSent(claimed[0].id, at: received + 1)
        try await store.markFailed(claimed[1].id, error: "connection refused", retryAt: received + 300)
        try await store.markFailed(claimed[2].id, error: "mailbox unknown", retryAt: nil)
        // The lease over: only the failed one comes back, and only once its retry time has come.
        #expect(try await store.claimMessages(now: received + 200, lease: 120, limit: 10).isEmpty)
        let again = try await store.claimMessages(now: received + 300, lease: 120, limit: 10)
        #expect(
            again.map(\.message.key) == ["b"] && again[0].attempts == 1 && again[0].lastError == "connection refused")
        let all = try await store.messages(person: nil)
        #expect(all.count == 3)
        let byKey = Dictionary(uniqueKeysWithValues: all.map { ($0.message.key, $0) })
        #expect(byKey["a"]?.sentAt != nil && byKey["c"]?.failed == true && byKey["b"]?.sentAt == nil)
        // The recipient and the text are sealed at rest, and the export lists the person's messages.
        #expect(try await store.messages(person: "p-2").map(\.message.key) == ["b"])
        #expect(try await store.exportPerson("p-1", at: received)?.messages.count == 2)
    }

    @Test("guardian addresses: checked, replaced, cleared, in the export", arguments: StoreKind.available)
    func contacts(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await store.setGuardianContacts(person: "p-1", emails: ["a@example.org", " b@example.org "])
        #expect(try await store.guardianContacts(person: "p-1") == ["a@example.org", "b@example.org"])
        #expect(try await store.exportPerson("p-1", at: received)?.guardians == ["a@example.org", "b@example.org"])
        for bad in [["not an address"], ["a@b.org\r\nBcc: x@y.org"], ["x@y"], Array(repeating: "a@b.org", count: 6)] {
            await #expect(throws: HubError.self) { try await store.setGuardianContacts(person: "p-1", emails: bad) }
        }
        await #expect(throws: HubError.self) { try await store.setGuardianContacts(person: "p-9", emails: ["a@b.org"]) }
        try await store.setGuardianContacts(person: "p-1", emails: [])
        #expect(try await store.guardianContacts(person: "p-1").isEmpty)
    }
}
