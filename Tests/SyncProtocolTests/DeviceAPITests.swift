import Attendance
import Badges
import Foundation
import Recognition
import SyncProtocol
import TestSupport
import Testing

/// Sample values of every wire type, with every optional field set.
enum Samples {
    static let start = Date(timeIntervalSince1970: 1_795_420_800)
    static var policy: AttendancePolicy {
        AttendancePolicy(grace: 600)
    }
    static var manifest: DeviceManifest {
        let session = Session(id: "s-1", room: "B14", group: "7B", start: start, end: start + 2700, roster: ["p-1"])
        return DeviceManifest(
            schedule: SessionSchedule(room: "B12", timezone: "Europe/Berlin", policy: policy, sessions: [session]),
            galleryVersion: 7, badgeKeysVersion: 3, templateRefresh: true)
    }
    static var delta: GalleryDelta {
        var document = GalleryDocument()
        document.enroll(
            Person(id: "p-1", name: "Ada", role: .student, groups: ["7B"]),
            templates: [
                GalleryDocument.Template(
                    source: "ada.jpg", encoding: (0..<128).map { Float($0) / 1000 }, model: "dlib_resnet_v1")
            ])
        return GalleryDelta(
            since: 3, version: 7, upserts: document.people, deletes: ["p-9"], scope: "0123456789abcdef", reset: true,
            next: "p-1")
    }
    static var keys: BadgeKeys {
        BadgeKeys(keyring: BadgeKeyring(keys: ["k1": "AAAA"], revoked: ["b1"]), version: 3)
    }
    static var checkin: DeviceEvent {
        DeviceEvent(
            id: "0190b1c2-0000-7000-8000-000000000001",
            event: .checkin(session: "s-1", person: "p-1", at: start + 61.25, status: .late, minutesLate: 1),
            method: "face", source: "signage:door-b12", confidence: 0.9, distance: 0.33, margin: 0.5,
            model: "dlib_resnet_v1")
    }
    static var exit: DeviceEvent {
        DeviceEvent(
            id: "0190b1c2-0000-7000-8000-000000000002",
            event: AttendanceEvent(
                kind: .exit, person: "v-1", at: start + 100, duration: 40, entryAt: start + 60,
                unclosedEntryAt: start - 86_400),
            method: "qr", source: "signage:door-b12")
    }
    static var result: EventBatchResult {
        EventBatchResult(
            accepted: ["a"], duplicate: ["b"],
            rejected: [EventBatchResult.Rejection(id: "c", reason: "unknown session")])
    }
}

struct DeviceAPITests {
    func roundTrip<T: Codable & Equatable>(_ value: T) throws -> T {
        try DeviceAPI.decoder().decode(T.self, from: DeviceAPI.encoder().encode(value))
    }

    @Test("every wire type survives encoding and decoding")
    func roundTrips() throws {
        #expect(try roundTrip(Samples.manifest) == Samples.manifest)
        #expect(try roundTrip(Samples.delta) == Samples.delta)
        #expect(try roundTrip(Samples.keys) == Samples.keys)
        #expect(
            try roundTrip(EventBatch(events: [Samples.checkin, Samples.exit])).events == [
                Samples.checkin, Samples.exit,
            ])
        #expect(try roundTrip(Samples.result) == Samples.result)
        #expect(try roundTrip(APIProblem(error: "unauthorized", message: "no token")).error == "unauthorized")
    }

    @Test("an event is one flat object: the attendance facts and the device's fields side by side")
    func flatEvent() throws {
        let object =
            try JSONSerialization.jsonObject(with: DeviceAPI.encoder().encode(Samples.checkin)) as? [String: Any]
        #expect(object?["id"] as? String == Samples.checkin.id)
        #expect(object?["at"] as? String == "2026-11-23T08:01:01.250Z")
        #expect(object?["minutes_late"] as? Int == 1 && object?["method"] as? String == "face")
        let manifest =
            try JSONSerialization.jsonObject(with: DeviceAPI.encoder().encode(Samples.manifest)) as? [String: Any]
        #expect(manifest?["room"] as? String == "B12" && manifest?["gallery_version"] as? Int == 7)
    }

    @Test("a manifest is a sessions file plus versions: the replay's sessions file format reads it")
    func manifestIsASessionsFile() throws {
        let data = try DeviceAPI.encoder().encode(Samples.manifest)
        #expect(try SessionSchedule.decode(from: data) == Samples.manifest.schedule)
    }
}

/// The OpenAPI document in `openapi/` and the Swift types say the same.
struct OpenAPIDocumentTests {
    let document: [String: Any]

    init() throws {
        let url = TestResources.packageRoot.appendingPathComponent("openapi/device-api.json")
        document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    func schema(_ name: String) throws -> (properties: Set<String>, required: Set<String>) {
        let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any]
        let schema = try #require(schemas?[name] as? [String: Any], "no schema \(name)")
        let properties = Set(((schema["properties"] as? [String: Any]) ?? [:]).keys)
        return (properties, Set(schema["required"] as? [String] ?? []))
    }

    /// The keys a value encodes to.
    func keys(_ value: some Encodable) throws -> Set<String> {
        let object = try JSONSerialization.jsonObject(with: DeviceAPI.encoder().encode(value)) as? [String: Any]
        return Set(object?.keys.map { $0 } ?? [])
    }

    @Test("every path the code uses is in the document, with its method")
    func paths() throws {
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        #expect(paths[DeviceAPI.manifestPath]?["get"] != nil)
        #expect(paths[DeviceAPI.galleryPath]?["get"] != nil)
        #expect(paths[DeviceAPI.badgeKeysPath]?["get"] != nil)
        #expect(paths[DeviceAPI.eventsPath]?["post"] != nil)
        #expect(paths[DeviceAPI.changesPath]?["get"] != nil)
        #expect(paths[DeviceAPI.sightingsPath]?["post"] != nil)
    }

    @Test(
        "each schema lists exactly the keys the Swift type writes (all optional fields set), required ones included",
        arguments: [
            "DeviceManifest", "GalleryDelta", "BadgeKeys", "DeviceEvent", "EventBatchResult", "DeviceChanges",
            "TemplateSighting", "SightingResult", "APIProblem",
        ])
    func schemaMatches(name: String) throws {
        let written: Set<String>
        switch name {
        case "DeviceManifest": written = try keys(Samples.manifest)
        case "GalleryDelta": written = try keys(Samples.delta)
        case "BadgeKeys": written = try keys(Samples.keys)
        case "DeviceEvent": written = try keys(Samples.checkin).union(try keys(Samples.exit))
        case "EventBatchResult": written = try keys(Samples.result)
        case "DeviceChanges": written = try keys(DeviceChanges(fingerprint: "\"0a1b\""))
        case "TemplateSighting":
            written = try keys(TemplateSighting(person: "p-1", encoding: [0.1], distance: 0.3, margin: 0.4))
        case "SightingResult": written = try keys(SightingResult(added: false, reason: "too far"))
        default: written = try keys(APIProblem(error: "e", message: "m"))
        }
        let (properties, required) = try schema(name)
        #expect(
            written == properties, "\(name): code writes \(written.sorted()), document lists \(properties.sorted())")
        #expect(required.isSubset(of: written))
    }

    @Test("nested schemas match too: session, policy, gallery person, template")
    func nestedSchemas() throws {
        let manifest =
            try JSONSerialization.jsonObject(with: DeviceAPI.encoder().encode(Samples.manifest)) as? [String: Any]
        let session = try #require((manifest?["sessions"] as? [[String: Any]])?.first)
        #expect(Set(session.keys) == (try schema("Session")).properties)
        let policy = try #require(manifest?["policy"] as? [String: Any])
        #expect(Set(policy.keys) == (try schema("Policy")).properties)
        let delta = try JSONSerialization.jsonObject(with: DeviceAPI.encoder().encode(Samples.delta)) as? [String: Any]
        let person = try #require((delta?["upserts"] as? [[String: Any]])?.first)
        #expect(Set(person.keys) == (try schema("GalleryPerson")).properties)
        let template = try #require((person["templates"] as? [[String: Any]])?.first)
        #expect(Set(template.keys) == (try schema("Template")).properties)
    }
}
