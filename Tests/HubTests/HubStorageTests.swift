import Attendance
import Foundation
import Hub
import Recognition
import SyncProtocol
import TestSupport
import Testing

let t0 = Date(timeIntervalSince1970: 1_795_420_800)  // 2026-11-23T08:00:00Z
let device = DeviceRecord(id: "door-b12", room: "B12")
/// When the tests' events reach the hub: the day after (the hub refuses times ahead of its clock).
let received = t0 + 86_400

func person(_ id: String, _ value: Float = 0.01, role: PersonRole = .student) -> GalleryDocument.Entry {
    var document = GalleryDocument()
    document.enroll(
        Person(id: id, name: id.uppercased(), role: role),
        templates: [GalleryDocument.Template(source: nil, encoding: [Float](repeating: value, count: 128))])
    return document.people[0]
}

func checkin(
    _ id: String, _ who: String, session: String = "s-math", at seconds: Double, source: String = "signage:door-b12"
)
    -> DeviceEvent
{
    DeviceEvent(
        id: id,
        event: .checkin(
            session: session, person: who, at: t0 + seconds, status: seconds <= 300 ? .present : .late,
            minutesLate: seconds <= 300 ? 0 : Int(seconds / 60)),
        method: "face", source: source, confidence: 0.9, distance: 0.3, margin: 0.5, model: "dlib_resnet_v1")
}

/// A store with room B12 (device door-b12), room C3, students p-1 and p-2, volunteer v-1 (allowed in B12),
/// and a session in each room.
func makeStore(_ kind: StoreKind = .sqlite) async throws -> (any HubStorage, URL) {
    let folder = try TestResources.temporaryDirectory()
    let store = try await kind.open(in: folder)
    try await store.addRoom("B12", timezone: "Europe/Berlin", policy: nil)
    try await store.addRoom("C3", timezone: "Europe/Berlin", policy: nil)
    try await store.addDevice(device, token: "secret-token-b12")
    for id in ["p-1", "p-2"] { try await store.upsertConsented(person(id)) }
    try await store.upsertConsented(person("v-1", role: .volunteer))
    try await store.setRoomAccess(room: "B12", people: ["v-1"])
    try await store.putSession(
        Session(id: "s-math", room: "B12", group: "7B", start: t0, end: t0 + 2700, roster: ["p-1", "p-2"]))
    try await store.putSession(
        Session(id: "s-art", room: "C3", group: "8A", start: t0, end: t0 + 2700, roster: ["p-1"]))
    return (store, folder)
}

struct HubStorageTests {
    @Test("a device is found by its token; only the token's hash is stored", arguments: StoreKind.available)
    func tokens(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try await store.device(forToken: "secret-token-b12") == device)
        #expect(try await store.device(forToken: "secret-token-b13") == nil)
        guard kind == .sqlite else { return }
        let bytes =
            try Data(contentsOf: folder.appendingPathComponent("hub.sqlite"))
            + ((try? Data(contentsOf: folder.appendingPathComponent("hub.sqlite-wal"))) ?? Data())
        #expect(bytes.range(of: Data("secret-token-b12".utf8)) == nil)
    }

    @Test(
        "a check-in is stored once with its exact time; a resent batch is all duplicates",
        arguments: StoreKind.available)
    func idempotentCheckin(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let batch = EventBatch(events: [
            checkin(eventUUID("e-1"), "p-1", at: 61.25), checkin(eventUUID("e-2"), "p-2", at: 400),
        ])
        let first = try await store.ingest(batch, from: device, receivedAt: t0 + 500)
        #expect(first == EventBatchResult(accepted: [eventUUID("e-1"), eventUUID("e-2")]))
        let again = try await store.ingest(batch, from: device, receivedAt: t0 + 600)
        #expect(again == EventBatchResult(duplicate: [eventUUID("e-1"), eventUUID("e-2")]))
        #expect(try await store.receivedEventCount() == 2)
        let records = try await store.checkinRecords(session: "s-math")
        #expect(records.count == 2)
        #expect(records[0].person == "p-1" && records[0].status == "present" && records[0].checkinTime == t0 + 61.25)
        #expect(records[0].method == "face" && records[0].source == "signage:door-b12" && records[0].confidence == 0.9)
        #expect(records[1].status == "late" && records[1].minutesLate == 6)
    }

    @Test(
        "event ids are per device: another door sending an id first does not make the real event a duplicate",
        arguments: StoreKind.available)
    func idsPerDevice(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let other = DeviceRecord(id: "door-b12-2", room: "B12")
        try await store.addDevice(other, token: "second-door-token-0123456789")
        let stolen = eventUUID("stolen")
        let first = try await store.ingest(
            EventBatch(events: [checkin(stolen, "p-2", at: 10, source: "signage:door-b12-2")]), from: other,
            receivedAt: received)
        #expect(first.accepted == [stolen])
        let real = try await store.ingest(
            EventBatch(events: [checkin(stolen, "p-1", at: 20)]), from: device, receivedAt: received)
        #expect(real.accepted == [stolen], "the real door's event is taken, not answered duplicate")
        let again = try await store.ingest(
            EventBatch(events: [checkin(stolen, "p-1", at: 20)]), from: device, receivedAt: received)
        #expect(again.duplicate == [stolen])
        #expect(try await store.checkinRecords(session: "s-math").map(\.person).sorted() == ["p-1", "p-2"])
        let malformed = try await store.ingest(
            EventBatch(events: [checkin("not-a-uuid", "p-1", at: 30), checkin("", "p-2", at: 30)]), from: device,
            receivedAt: received)
        #expect(malformed.accepted.isEmpty && malformed.rejected.count == 2)
        #expect(malformed.rejected.allSatisfy { $0.reason.contains("an event id is a UUID") })
    }

    @Test(
        "one record per session and person: the first to arrive stands; a forged earlier 'present' sent after a genuine 'late' changes nothing",
        arguments: StoreKind.available
    )
    func firstStands(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let genuine = try await store.ingest(
            EventBatch(events: [checkin(eventUUID("late"), "p-1", at: 900)]), from: device, receivedAt: received)
        #expect(genuine.accepted == [eventUUID("late")])
        let forged = try await store.ingest(
            EventBatch(events: [checkin(eventUUID("early"), "p-1", at: 30)]), from: device, receivedAt: received)
        #expect(forged.accepted == [eventUUID("early")], "kept as received: the door is not made to retry it")
        let records = try await store.checkinRecords(session: "s-math")
        #expect(records.count == 1)
        #expect(records.first?.eventID == eventUUID("late") && records.first?.checkinTime == t0 + 900)
        #expect(records.first?.status == "late" && records.first?.minutesLate == 15)
        #expect(try await store.receivedEventCount() == 2, "every event is kept as received")
    }

    @Test(
        "the hub's status, not the device's: a check-in sent as 'present, 0 minutes' 20 minutes in is late by 20",
        arguments: StoreKind.available)
    func statusRecomputed(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let forged = DeviceEvent(
            id: eventUUID("forged"),
            event: .checkin(session: "s-math", person: "p-2", at: t0 + 1200, status: .present, minutesLate: 0),
            method: "face", source: "signage:door-b12")
        #expect(
            try await store.ingest(EventBatch(events: [forged]), from: device, receivedAt: received).accepted.count == 1
        )
        let record = try #require(try await store.checkinRecords(session: "s-math").first)
        #expect(record.status == "late" && record.minutesLate == 20)
    }

    @Test(
        "events the hub cannot take are rejected with the reason, and nothing of them is stored",
        arguments: StoreKind.available)
    func rejections(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let batch = EventBatch(events: [
            checkin(eventUUID("unknown-session"), "p-1", session: "s-nope", at: 10),
            checkin(eventUUID("other-room"), "p-1", session: "s-art", at: 10),
            checkin(eventUUID("unknown-person"), "p-9", at: 10),
            checkin(eventUUID("wrong-source"), "p-1", at: 10, source: "signage:door-c3"),
            checkin(eventUUID("fine"), "p-2", at: 10),
        ])
        let result = try await store.ingest(batch, from: device, receivedAt: received)
        #expect(result.accepted == [eventUUID("fine")])
        let reasons = Dictionary(uniqueKeysWithValues: result.rejected.map { ($0.id, $0.reason) })
        #expect(reasons[eventUUID("unknown-session")] == "unknown session s-nope")
        #expect(reasons[eventUUID("other-room")]?.contains("is in room C3, not in this device's room B12") == true)
        #expect(reasons[eventUUID("unknown-person")] == "unknown person p-9")
        #expect(reasons[eventUUID("wrong-source")]?.contains("is not this device") == true)
        #expect(try await store.receivedEventCount() == 1)
        #expect(try await store.checkinRecords(session: "s-art").isEmpty)
        #expect(try await store.checkinRecords(session: "s-math").map(\.person) == ["p-2"])
        let tooMany = EventBatch(events: (0...500).map { checkin(eventUUID("x\($0)"), "p-1", at: Double($0)) })
        await #expect(throws: HubError.self) { _ = try await store.ingest(tooMany, from: device, receivedAt: received) }
        #expect(try await store.receivedEventCount() == 1)
    }

    @Test(
        "a device's received events are listed as stored, in id order, page by page; another door's are not",
        arguments: StoreKind.available)
    func receivedEventListing(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        let other = DeviceRecord(id: "door-b12-2", room: "B12")
        try await store.addDevice(other, token: "second-door-token-0123456789")
        let ids = ["e-3", "e-1", "e-2"].map { eventUUID($0) }
        _ = try await store.ingest(
            EventBatch(events: ids.enumerated().map { checkin($1, "p-1", at: Double($0 + 1)) }), from: device,
            receivedAt: received)
        _ = try await store.ingest(
            EventBatch(events: [checkin(eventUUID("e-other"), "p-2", at: 5, source: "signage:door-b12-2")]),
            from: other, receivedAt: received)
        let all = try await store.receivedEvents(device: device.id, after: nil, limit: 10)
        #expect(all.map(\.id) == ids.sorted())
        #expect(all.allSatisfy { $0.device == device.id && $0.kind == "checkin" && $0.session == "s-math" })
        #expect(all.first { $0.id == eventUUID("e-1") }?.at == t0 + 2)
        #expect(all.allSatisfy { $0.receivedAt == received && $0.person == "p-1" })
        let first = try await store.receivedEvents(device: device.id, after: nil, limit: 2)
        let rest = try await store.receivedEvents(device: device.id, after: first.last?.id, limit: 2)
        #expect(first.map(\.id) == Array(ids.sorted().prefix(2)) && rest.map(\.id) == [ids.sorted()[2]])
        #expect(try await store.receivedEvents(device: other.id, after: nil, limit: 10).map(\.person) == ["p-2"])
        #expect(try await store.receivedEvents(device: "door-none", after: nil, limit: 10).isEmpty)
    }

    @Test("visits pair entry and exit, in either arrival order, once", arguments: StoreKind.available)
    func visits(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        func scan(_ id: String, _ event: AttendanceEvent) -> DeviceEvent {
            DeviceEvent(id: id, event: event, method: "qr", source: "signage:door-b12")
        }
        let entry = scan(eventUUID("in-1"), .entry(person: "v-1", at: t0 + 60))
        let exit = scan(eventUUID("out-1"), .exit(person: "v-1", at: t0 + 3660, entryAt: t0 + 60))
        _ = try await store.ingest(EventBatch(events: [entry]), from: device, receivedAt: received)
        _ = try await store.ingest(EventBatch(events: [exit, entry]), from: device, receivedAt: received)
        #expect(
            try await store.visits(person: "v-1") == [
                Visit(person: "v-1", room: "B12", loginTime: t0 + 60, logoutTime: t0 + 3660)
            ])
        // The next visit's exit arrives before its entry.
        let laterExit = scan(eventUUID("out-2"), .exit(person: "v-1", at: t0 + 9000, entryAt: t0 + 7200))
        let laterEntry = scan(eventUUID("in-2"), .entry(person: "v-1", at: t0 + 7200))
        _ = try await store.ingest(EventBatch(events: [laterExit]), from: device, receivedAt: received)
        _ = try await store.ingest(EventBatch(events: [laterEntry]), from: device, receivedAt: received)
        let all = try await store.visits(person: "v-1")
        #expect(all.count == 2 && all[1].loginTime == t0 + 7200 && all[1].logoutTime == t0 + 9000)
    }

    @Test(
        "the gallery's versions: a delta holds the people changed since, and the people removed",
        arguments: StoreKind.available)
    func galleryDeltas(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        // p-1, p-2, v-1 are versions 1, 2, 3.
        #expect(try await store.upsertConsented(person("p-1", 0.02)) == 4)
        #expect(try await store.removePerson("p-2") == 5)
        let all = try await store.galleryDelta(since: 0)
        #expect(all.version == 5 && all.upserts.map(\.id) == ["v-1", "p-1"] && all.deletes == ["p-2"])
        #expect(all.upserts.last?.templates.first?.encoding.first == 0.02)
        let recent = try await store.galleryDelta(since: 4)
        #expect(recent.upserts.isEmpty && recent.deletes == ["p-2"])
        let none = try await store.galleryDelta(since: 5)
        #expect(none.upserts.isEmpty && none.deletes.isEmpty)
        var broken = person("p-3")
        broken.templates[0].encoding.removeLast()
        await #expect(throws: HubError.self) { try await store.upsertConsented(broken) }
        await #expect(throws: HubError.self) { try await store.removePerson("p-nobody") }
    }

    @Test(
        "a room's manifest holds its sessions from yesterday to tomorrow and the gallery version",
        arguments: StoreKind.available)
    func manifest(_ kind: StoreKind) async throws {
        let (store, folder) = try await makeStore(kind)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await store.putSession(
            Session(
                id: "s-next-week", room: "B12", group: "7B", start: t0 + 7 * 86_400, end: t0 + 7 * 86_400 + 60,
                roster: []))
        let manifest = try await store.manifest(room: "B12", now: t0 + 600)
        #expect(manifest.schedule.room == "B12" && manifest.schedule.timezone == "Europe/Berlin")
        #expect(manifest.schedule.sessions.map(\.id) == ["s-math"])
        #expect(manifest.schedule.sessions.first?.roster == ["p-1", "p-2"])
        #expect(manifest.galleryVersion == 3)
        await #expect(throws: HubError.self) { _ = try await store.manifest(room: "Z9", now: t0) }
        #expect(manifest.schedule.policy == AttendancePolicy())
        // A room's own policy reaches its devices with the manifest.
        var policy = AttendancePolicy()
        policy.grace = 600
        try await store.addRoom("L1", timezone: "UTC", policy: policy)
        #expect(try await store.manifest(room: "L1", now: t0).schedule.policy.grace == 600)
    }
}
