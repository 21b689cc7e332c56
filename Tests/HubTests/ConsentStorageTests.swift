import Attendance
import Badges
import Foundation
import GRDB
import Hub
import Recognition
import SyncProtocol
import TestSupport
import Testing

/// Consent as data: no template without it, erasure when it ends, and the door's gallery following it.
struct ConsentStorageTests {
    func consent(_ person: String, _ state: ConsentState, by giver: ConsentGiver = .guardian) -> ConsentRecord {
        ConsentRecord(
            person: person, state: state, givenBy: giver, at: received, evidence: "form 2026-7", recordedBy: "cli")
    }

    @Test(
        "templates need consent on record; a refusal or a withdrawal erases them and takes the person off the door",
        arguments: StoreKind.available)
    func consentGatesTheGallery(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        // p-3 is new and has no consent: no templates, whatever the caller sends; without templates, stored.
        let error = await #expect(throws: HubError.self) { try await store.upsertPerson(person("p-3")) }
        #expect(error?.code == .conflict && error?.message.contains("no consent on record") == true)
        var bare = person("p-3")
        bare.templates = []
        try await store.upsertPerson(bare)
        try await store.putSession(
            Session(id: "s-math", room: "B12", group: "7B", start: t0, end: t0 + 2700, roster: ["p-1", "p-2", "p-3"]))
        // The door's gallery holds the consented people with templates only; the manifest names everyone.
        let page = try await store.galleryPage(room: "B12", since: 0, scope: nil, after: nil, now: t0)
        #expect(page.upserts.map(\.id).sorted() == ["p-1", "p-2", "v-1"])
        let manifest = try await store.manifest(room: "B12", now: t0)
        #expect(manifest.names == ["p-1": "P-1", "p-2": "P-2", "p-3": "P-3", "v-1": "V-1"])
        // A refusal for someone without templates is recorded; templates stay refused.
        try await store.recordConsent(consent("p-3", .refused))
        await #expect(throws: HubError.self) { try await store.upsertPerson(person("p-3")) }
        // A withdrawal erases p-1's templates at once and the door's next delta removes p-1.
        let before = page.version
        let version = try await store.recordConsent(consent("p-1", .withdrawn))
        #expect(version > before)
        let delta = try await store.galleryPage(room: "B12", since: before, scope: page.scope, after: nil, now: t0)
        #expect(!delta.upserts.contains { $0.id == "p-1" })
        #expect(delta.reset == true || delta.deletes.contains("p-1"))
        #expect(try await store.exportPerson("p-1", at: received)?.gallery?.templates == [])
        #expect(try await store.galleryDelta(since: 0).upserts.map(\.id).sorted() == ["p-2", "v-1"])
        let listing = Dictionary(uniqueKeysWithValues: try await store.people().map { ($0.person.id, $0) })
        #expect(listing["p-1"]?.consent == .withdrawn && listing["p-1"]?.templates == 0)
        #expect(listing["p-3"]?.consent == .refused && listing["p-2"]?.consent == .granted)
        // Consent given again: templates may be enrolled again, and the person is back in the gallery.
        try await store.upsertPerson(person("p-1"), consent: consent("p-1", .granted, by: .self))
        #expect(try await store.galleryDelta(since: 0).upserts.map(\.id).sorted() == ["p-1", "p-2", "v-1"])
        let history = try await store.consentHistory("p-1")
        #expect(history.map(\.state) == [.granted, .withdrawn, .granted])
        #expect(history.last?.givenBy == .self && history.last?.evidence == "form 2026-7")
        #expect(try await store.exportPerson("p-1", at: received)?.consent.count == 3)
    }

    @Test("consent needs its evidence, a known person, and someone who gave it", arguments: StoreKind.available)
    func consentIsChecked(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        var blank = consent("p-2", .granted)
        blank.evidence = "  "
        await #expect(throws: HubError.self) { try await store.recordConsent(blank) }
        var unrecorded = consent("p-2", .granted)
        unrecorded.givenBy = .unrecorded
        await #expect(throws: HubError.self) { try await store.recordConsent(unrecorded) }
        let unknown = await #expect(throws: HubError.self) { try await store.recordConsent(consent("p-9", .granted)) }
        #expect(unknown?.code == .notFound)
        // Consent about someone else than the record it comes with is refused.
        await #expect(throws: HubError.self) {
            try await store.upsertPerson(person("p-2"), consent: consent("p-1", .granted))
        }
        #expect(try await store.consentHistory("p-2").count == 1)
    }

    @Test(
        "a database from before consent was kept: people with templates are recorded as consented, unrecorded, to confirm"
    )
    func migration() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("hub.sqlite").path
        do {
            let store = try SQLiteHubStorage(path: path)
            try await store.upsertConsented(person("p-1"))
            var bare = person("v-1", role: .volunteer)
            bare.templates = []
            try await store.upsertPerson(bare)
        }
        // As an earlier version left it: no consent column values, no template count, no history.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE person SET consent = NULL, templateCount = NULL")
            try db.execute(sql: "DROP TRIGGER consentAppendOnly")
            try db.execute(sql: "DELETE FROM consentEvent")
        }
        let store = try SQLiteHubStorage(path: path)
        let listing = Dictionary(uniqueKeysWithValues: try await store.people().map { ($0.person.id, $0) })
        #expect(listing["p-1"]?.consent == .granted && listing["p-1"]?.templates == 1)
        #expect(listing["v-1"]?.consent == nil && listing["v-1"]?.templates == 0)
        let history = try await store.consentHistory("p-1")
        #expect(history.count == 1 && history[0].givenBy == .unrecorded && history[0].recordedBy == "migration")
        #expect(try await store.galleryDelta(since: 0).upserts.map(\.id) == ["p-1"])
    }

    @Test(
        "the hub's own badge key: made once, trusted by the doors, and replaced when the admin removed it",
        arguments: StoreKind.available)
    func hubBadgeKey(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let issuer = try await store.hubBadgeIssuer()
        #expect(issuer.kid.hasPrefix("hub-"))
        #expect(try await store.hubBadgeIssuer().publicKey == issuer.publicKey)
        // A card for p-2, checked as a door checks it with the keys it pulls.
        let card = try issuer.issue(subject: "p-2", role: .student, issued: Date(), expires: Date() + 86_400)
        let keys = try await store.badgeKeys()
        let verifier = try BadgeVerifier(keyring: keys.keyring)
        #expect(try verifier.verify(card.payload, now: Date()).get().claims.sub == "p-2")
        // The admin removes the key (a leak): the next card is signed with a new one.
        #expect(try await store.removeBadgeKey(kid: issuer.kid))
        let next = try await store.hubBadgeIssuer()
        #expect(next.kid != issuer.kid && next.kid.hasPrefix("hub-"))
        #expect(try await store.badgeKeys().keyring.keys[next.kid] == next.publicKey)
    }

    @Test(
        "retention: a dry run changes nothing; then the templates of whoever left and the old raw events go",
        arguments: StoreKind.available)
    func retention(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        // p-3 was on a roster 90 days before `received` only; p-1 and p-2 are on today's; v-1 is let into B12.
        try await store.upsertConsented(person("p-3"))
        try await store.putSession(
            Session(
                id: "s-old", room: "B12", group: "7B", start: t0 - 90 * 86_400, end: t0 - 90 * 86_400 + 2700,
                roster: ["p-3"]))
        _ = try await store.ingest(
            EventBatch(events: [checkin(eventUUID("e-old"), "p-1", at: 60)]), from: device, receivedAt: received)
        let policy = RetentionPolicy(templatesAfterLeavingDays: 60, rawEventsDays: 30)
        // The event was received at `received`; 31 days later it is past the 30 days kept.
        let later = received + 31 * 86_400
        let dry = try await store.applyRetention(policy, now: later - 31 * 86_400 + 86_400, dryRun: true)
        #expect(dry.templatesErased == ["p-3"] && dry.eventsDeleted == 0 && dry.dryRun)
        #expect(try await store.people().first { $0.person.id == "p-3" }?.templates == 1)
        let report = try await store.applyRetentionAudited(policy, now: later, dryRun: false, actor: "cli")
        // 31 days on, p-1 and p-2's session (at t0) is within the 60 days; p-3's is not.
        #expect(report.templatesErased == ["p-3"] && report.eventsDeleted == 1)
        let listing = Dictionary(uniqueKeysWithValues: try await store.people().map { ($0.person.id, $0.templates) })
        #expect(listing == ["p-1": 1, "p-2": 1, "p-3": 0, "v-1": 1])
        #expect(try await store.receivedEventCount() == 0)
        // The record made from the event stays; the audit trail says what was done.
        #expect(try await store.checkinRecords(session: "s-math").map(\.person) == ["p-1"])
        let audit = try await store.auditEntries(from: later - 1, to: later + 1, limit: 10)
        #expect(audit.contains { $0.action == "retention" && $0.detail.contains("erased the templates of 1 people") })
    }
}
