import AsyncHTTPClient
import Attendance
import Badges
import Foundation
import GRDB
import Hub
import HubServer
import Hummingbird
import NIOCore
import NIOHTTP1
import SyncProtocol
import TestSupport
import Testing

/// Sends one request to the hub; returns the status, the body and the headers.
func call(
    _ method: HTTPMethod, _ url: String, token: String?, body: Data? = nil, headers extra: [(String, String)] = []
) async throws -> (status: Int, body: Data, headers: HTTPHeaders) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    for (name, value) in extra { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let buffer = try await response.body.collect(upTo: 16 << 20)
    return (Int(response.status.code), Data(buffer.readableBytesView), response.headers)
}

func problem(_ body: Data) -> APIProblem? { try? DeviceAPI.decoder().decode(APIProblem.self, from: body) }

struct HubServerTests {
    static let admin = "admin-secret-0123456789-0123456789"

    @Test("bad requests get a 4xx with a clear problem, and nothing of them is stored")
    func badRequests() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: nil))
        try await serving(router) { port in
            let events = "http://127.0.0.1:\(port)\(DeviceAPI.eventsPath)"
            let noToken = try await call(.POST, events, token: nil, body: Data("{}".utf8))
            #expect(noToken.status == 401 && problem(noToken.body)?.message.contains("Authorization: Bearer") == true)
            let unknown = try await call(.POST, events, token: "not-a-device-token-at-all", body: Data("{}".utf8))
            #expect(unknown.status == 401 && problem(unknown.body)?.error == "unauthorized")
            let malformed = try await call(.POST, events, token: token, body: Data("{\"events\": [{\"id\": 3".utf8))
            #expect(malformed.status == 400 && problem(malformed.body)?.message.contains("nothing was stored") == true)
            let wrongShape = try await call(
                .POST, events, token: token, body: Data("{\"events\": [{\"id\": \"x\"}]}".utf8))
            #expect(wrongShape.status == 400)
            #expect(
                problem(wrongShape.body)?.message.contains("missing") == true,
                "\(String(decoding: wrongShape.body, as: UTF8.self))")
            let huge = try await call(.POST, events, token: token, body: Data(repeating: 0x20, count: 3 << 20))
            #expect(huge.status == 413 && problem(huge.body)?.error == "too_large")
            let tooMany = EventBatch(
                events: (0...500).map { index in
                    DeviceEvent(
                        id: eventUUID("e\(index)"), event: .entry(person: "v-1", at: t0), method: "qr",
                        source: "signage:door-b12")
                })
            let batch = try await call(.POST, events, token: token, body: try DeviceAPI.encoder().encode(tooMany))
            #expect(batch.status == 400 && problem(batch.body)?.message.contains("at most 500") == true)
            let foreign = EventBatch(events: [
                DeviceEvent(
                    id: eventUUID("e-foreign"),
                    event: .checkin(session: "s-other", person: "p-1", at: t0, status: .present, minutesLate: 0),
                    method: "face", source: "signage:door-b12")
            ])
            let refused = try await call(.POST, events, token: token, body: try DeviceAPI.encoder().encode(foreign))
            #expect(refused.status == 200)
            let result = try DeviceAPI.decoder().decode(EventBatchResult.self, from: refused.body)
            #expect(result.rejected.map(\.reason) == ["unknown session s-other"])
        }
        #expect(try await store.receivedEventCount() == 0)
    }

    @Test("a failure of the hub's own is a 500 with a reference, no internal detail; every answer has the safe headers")
    func internalErrorsAndHeaders() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        let staff = "staff-token-0123456789abcdef"
        try await store.addAccessToken(staff, scope: .staff, label: "test")
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: nil))
        let path = folder.appendingPathComponent("hub.sqlite").path
        try await serving(router) { port in
            let base = "http://127.0.0.1:\(port)"
            let page = try await call(.GET, base + "/sign-in", token: nil)
            #expect(page.status == 200 && page.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
            let policy = page.headers.first(name: "Content-Security-Policy") ?? ""
            #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"))
            // Scripts and forms of this site only: no inline script, nothing from elsewhere.
            #expect(policy.contains("script-src 'self';") && policy.contains("form-action 'self'"))
            #expect(!policy.contains("unsafe-eval") && !policy.contains("script-src 'self' 'unsafe-inline'"))
            // The database breaks underneath the running hub: its check-ins table is gone.
            try await DatabaseQueue(path: path).write { db in try db.execute(sql: "DROP TABLE checkinRecord") }
            let failed = try await call(.GET, base + "/api/v1/reports/sessions/s-math", token: staff)
            let text = String(decoding: failed.body, as: UTF8.self)
            #expect(failed.status == 500 && problem(failed.body)?.error == "internal", "\(text)")
            #expect(problem(failed.body)?.message.contains("reference") == true)
            for leak in ["checkinRecord", "no such table", "SQLite", "hub.sqlite", folder.path] {
                #expect(!text.contains(leak), "the 500 names \(leak): \(text)")
            }
            // The hub goes on answering what does not need the table.
            let manifest = try await call(.GET, base + "/api/v1/device/manifest", token: token)
            #expect(manifest.status == 200)
            let missing = try await call(.GET, base + "/no/such/route", token: nil)
            #expect(missing.status == 404)
            #expect(manifest.headers.first(name: "Content-Security-Policy") == nil)
            for answer in [page, failed, manifest, missing] {
                #expect(answer.headers.first(name: "Cache-Control") == "no-store")
                #expect(answer.headers.first(name: "X-Content-Type-Options") == "nosniff")
                #expect(answer.headers.first(name: "Referrer-Policy") == "no-referrer")
            }
        }
    }

    @Test("the admin lists what a door sent, page by page after an id, never the bodies; its token is needed")
    func receivedEventsListing() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        let ids = (1...3).map { eventUUID("listed-\($0)") }
        let batch = EventBatch(
            events: ids.map { id in
                DeviceEvent(
                    id: id,
                    event: .checkin(session: "s-math", person: "p-1", at: t0 + 60, status: .present, minutesLate: 0),
                    method: "face", source: "signage:door-b12", confidence: 0.9)
            })
        #expect(
            try await store.ingest(batch, from: DeviceRecord(id: "door-b12", room: "B12"), receivedAt: t0 + 90)
                .accepted.count == 3)
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: Self.admin))
        try await serving(router) { port in
            let base = "http://127.0.0.1:\(port)/api/v1/admin/devices/door-b12/events"
            #expect(try await call(.GET, base, token: nil).status == 401)
            #expect(try await call(.GET, base, token: token).status == 403, "a device token is not the admin's")
            #expect(try await call(.GET, base + "?limit=0", token: Self.admin).status == 400)
            struct Page: Decodable {
                struct Line: Decodable, Equatable {
                    var id, kind, person, at: String
                    var session: String?
                }
                var events: [Line]
                var next: String?
            }
            let whole = try await call(.GET, base, token: Self.admin)
            #expect(whole.status == 200)
            let text = String(decoding: whole.body, as: UTF8.self)
            #expect(!text.contains("0.9") && text.contains("\"received_at\""), "no body: \(text)")
            let all = try JSONDecoder().decode(Page.self, from: whole.body)
            #expect(all.events.map(\.id) == ids.sorted() && all.next == nil)
            #expect(all.events.allSatisfy { $0.kind == "checkin" && $0.person == "p-1" && $0.session == "s-math" })
            #expect(all.events.first?.at == ISO8601Time.format(t0 + 60))
            let first = try JSONDecoder().decode(
                Page.self, from: try await call(.GET, base + "?limit=2", token: Self.admin).body)
            #expect(first.events.count == 2 && first.next == first.events.last?.id)
            let rest = try JSONDecoder().decode(
                Page.self,
                from: try await call(.GET, base + "?limit=2&after=\(first.next ?? "")", token: Self.admin).body)
            #expect(rest.events.map(\.id) == [ids.sorted()[2]] && rest.next == nil)
            let none = try await call(
                .GET, "http://127.0.0.1:\(port)/api/v1/admin/devices/door-x/events", token: Self.admin)
            #expect(none.status == 200)
            #expect(try JSONDecoder().decode(Page.self, from: none.body).events.isEmpty)
        }
    }

    @Test("the manifest carries an ETag and a Date; asking again with the ETag gives 304")
    func manifestCaching() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: nil))
        try await serving(router) { port in
            let url = "http://127.0.0.1:\(port)\(DeviceAPI.manifestPath)"
            let first = try await call(.GET, url, token: token)
            #expect(first.status == 200)
            let tag = try #require(first.headers.first(name: "ETag"))
            #expect(first.headers.first(name: "Date") != nil)
            let again = try await call(.GET, url, token: token, headers: [("If-None-Match", tag)])
            #expect(again.status == 304)
            let gallery = try await call(
                .GET, "http://127.0.0.1:\(port)\(DeviceAPI.galleryPath)?since=ten", token: token)
            #expect(gallery.status == 400 && problem(gallery.body)?.message.contains("since") == true)
        }
    }

    @Test("the admin API sets up a room, a device, a person, sessions and badge keys; it needs its token")
    func admin() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteHubStorage(path: folder.appendingPathComponent("hub.sqlite").path)
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: Self.admin))
        try await serving(router) { port in
            let base = "http://127.0.0.1:\(port)/api/v1/admin"
            func post(_ path: String, _ json: String, token: String? = Self.admin) async throws -> Int {
                try await call(.POST, base + path, token: token, body: Data(json.utf8)).status
            }
            #expect(try await post("/rooms", #"{"id": "B12", "timezone": "Europe/Berlin"}"#, token: nil) == 401)
            #expect(try await post("/rooms", #"{"id": "B12", "timezone": "Europe/Berlin"}"#) == 200)
            #expect(try await post("/rooms", #"{"id": "B12", "timezone": "Europe/Berlin"}"#) == 409)
            #expect(try await post("/devices", #"{"id": "door-b12", "room": "B12", "token": "short"}"#) == 400)
            #expect(
                try await post("/devices", #"{"id": "door-b12", "room": "B12", "token": "a-long-device-token-123"}"#)
                    == 200)
            let encoding = (0..<128).map { _ in "0.01" }.joined(separator: ",")
            #expect(
                try await post(
                    "/people",
                    #"{"id": "p-1", "name": "Ada", "role": "student", "groups": [], "templates": [{"encoding": [\#(encoding)]}]}"#
                )
                    == 409)
            #expect(
                try await post(
                    "/people",
                    #"{"id": "p-1", "name": "Ada", "role": "student", "groups": [], "templates": [{"encoding": [\#(encoding)]}], "consent": {"state": "granted", "given_by": "guardian", "evidence": "form 12"}}"#
                )
                    == 200)
            #expect(
                try await post(
                    "/sessions",
                    #"{"room": "B12", "sessions": [{"id": "s-1", "group": "7B", "start": "2026-11-23T08:00:00Z", "end": "2026-11-23T08:45:00Z", "roster": ["p-1"]}]}"#
                )
                    == 200)
            #expect(try await post("/badge-keys", #"{"kid": "k1", "public_key": "not-a-key"}"#) == 400)
            #expect(
                try await post("/badge-keys", #"{"kid": "k1", "public_key": "\#(String(repeating: "A", count: 43))"}"#)
                    == 200)
            #expect(try await post("/revocations", #"{"id": "badge-7"}"#) == 200)
            let keys = try await call(
                .GET, "http://127.0.0.1:\(port)\(DeviceAPI.badgeKeysPath)", token: "a-long-device-token-123")
            let decoded = try DeviceAPI.decoder().decode(BadgeKeys.self, from: keys.body)
            #expect(decoded.keyring.keys.keys.sorted() == ["k1"] && decoded.keyring.revoked == ["badge-7"])
            #expect(decoded.version == 2)
        }
        let manifest = try await store.manifest(
            room: "B12", now: try #require(ISO8601Time.parse("2026-11-23T08:00:00Z")))
        #expect(manifest.schedule.sessions.map(\.id) == ["s-1"] && manifest.badgeKeysVersion == 2)
        let off = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: nil))
        try await serving(off) { port in
            let status = try await call(
                .POST, "http://127.0.0.1:\(port)/api/v1/admin/rooms", token: Self.admin,
                body: Data(#"{"id": "C3", "timezone": "UTC"}"#.utf8)
            ).status
            #expect(status == 404)
        }
    }
}
