import AsyncHTTPClient
import Attendance
import Foundation
import Hub
import HubServer
import NIOCore
import NIOHTTP1
import Recognition
import SyncProtocol
import TestSupport
import Testing

/// Template refresh at the hub: off unless asked for; a door's sighting is added only when the hub's own
/// checks hold; a forged one changes nothing.
struct TemplateSightingTests {
    func point(_ base: Int, _ offsets: [Int: Float] = [:]) -> [Float] {
        var values = [Float](repeating: 0, count: 128)
        values[base] = 0.9
        for (axis, offset) in offsets { values[axis] += offset }
        return values
    }

    /// The hub store with p-1 and p-2 enrolled from distinct faces (p-3 has no consent on record).
    func store(_ folder: URL, _ kind: StoreKind) async throws -> any HubStorage {
        let store = try await hubStore(in: folder, kind)
        for (id, base) in [("p-1", 0), ("p-2", 1)] {
            var document = GalleryDocument()
            document.enroll(
                Person(id: id, name: id, role: .student),
                templates: [GalleryDocument.Template(source: "\(id).jpg", encoding: point(base))])
            try await store.upsertConsented(document.people[0])
        }
        try await store.recordConsent(
            ConsentRecord(
                person: "p-3", state: .withdrawn, givenBy: .guardian, at: Date(), evidence: "letter", recordedBy: "cli")
        )
        return store
    }

    func post(_ port: Int, _ body: Data) async throws -> (status: Int, result: SightingResult?) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(DeviceAPI.sightingsPath)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let data = Data((try await response.body.collect(upTo: 1 << 16)).readableBytesView)
        return (Int(response.status.code), try? DeviceAPI.decoder().decode(SightingResult.self, from: data))
    }

    @Test("off by default: the manifest says so and a sighting is refused 403", arguments: StoreKind.available)
    func off(_ kind: StoreKind) async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await store(folder, kind)
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: nil))
        try await serving(router) { port in
            let sighting = TemplateSighting(person: "p-1", encoding: point(0, [5: 0.2]), distance: 0.2, margin: 0.9)
            let answer = try await post(port, try DeviceAPI.encoder().encode(sighting))
            #expect(answer.status == 403)
        }
        #expect(try await store.galleryDelta(since: 0).upserts.first { $0.id == "p-1" }?.templates.count == 1)
    }

    @Test(
        "on: a sure sighting is added and reaches the doors; forged, unconsented or off-roster ones are not",
        arguments: StoreKind.available)
    func on(_ kind: StoreKind) async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await store(folder, kind)
        var configuration = HubServerConfiguration(adminToken: nil)
        configuration.templateRefresh = .standard
        let router = HubServer.router(storage: store, configuration: configuration)
        let before = try await store.galleryDelta(since: 0).version
        try await serving(router) { port in
            let good = TemplateSighting(person: "p-1", encoding: point(0, [5: 0.2]), distance: 0.2, margin: 0.9)
            let answer = try await post(port, try DeviceAPI.encoder().encode(good))
            #expect(answer.status == 200 && answer.result == SightingResult(added: true))
            // The next within 5 s from the same door is turned away; a malformed one is a 400.
            let again = try await post(port, try DeviceAPI.encoder().encode(good))
            #expect(again.status == 429)
            var short = good
            short.encoding.removeLast()
            let malformed = try await post(port, try DeviceAPI.encoder().encode(short))
            let wrong = try await post(port, Data("{\"person\":1}".utf8))
            #expect(malformed.status == 400 && wrong.status == 400)
        }
        let delta = try await store.galleryDelta(since: before)
        let ada = try #require(delta.upserts.first { $0.id == "p-1" })
        #expect(ada.templates.count == 2 && TemplateRefreshPolicy.isAdded(ada.templates[1]))
        #expect(ada.templates[1].source?.hasSuffix("/door-b12") == true)
        let audit = try await store.auditEntries(from: Date() - 60, to: Date() + 60, limit: 100)
        #expect(
            audit.contains {
                $0.action == "template-refresh" && $0.subject == "person:p-1" && $0.actor == "device:door-b12"
            })
        // The hub's own checks, whatever the door claims.
        let door = DeviceRecord(id: "door-b12", room: "B12")
        let policy = TemplateRefreshPolicy.standard
        func consider(_ person: String, _ encoding: [Float]) async throws -> SightingResult {
            try await HubServer.considerSighting(
                TemplateSighting(person: person, encoding: encoding, distance: 0.1, margin: 1), from: door,
                policy: policy, storage: store)
        }
        // p-1's face claimed as p-2 (a stolen token): too far from p-2's enrolled template.
        #expect(try await consider("p-2", point(0)).reason?.hasPrefix("too far from the enrolled") == true)
        // p-1 again, within the week: refused.
        #expect(try await consider("p-1", point(0, [6: 0.2])).reason?.hasSuffix("hours ago") == true)
        // No consent (p-3), not on this room's rosters (v-1 is only let in as a volunteer).
        #expect(
            try await consider("p-3", point(3)) == SightingResult(added: false, reason: "no consent for face check-in"))
        #expect(try await consider("v-1", point(0)).reason == "not on a roster of this door's room")
        #expect(try await store.galleryDelta(since: 0).upserts.first { $0.id == "p-2" }?.templates.count == 1)
    }
}
