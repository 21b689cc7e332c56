import Foundation
import Hub
import HubServer
import NIOHTTP1
import SyncProtocol
import TestSupport
import Testing

/// Every staff endpoint, for the scope it needs and refusing the others.
struct HubScopeTests {
    static let admin = "admin-secret-0123456789-0123456789"
    static let staff = "staff-token-0123456789"
    static let publicToken = "public-token-0123456789"

    @Test("admin, staff, public and device tokens are separate scopes: each endpoint takes only its own")
    func scopes() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: Self.admin))
        try await serving(router) { port in
            let base = "http://127.0.0.1:\(port)"
            func send(_ method: HTTPMethod, _ path: String, _ token: String?, _ json: String? = nil) async throws -> Int
            {
                try await call(method, base + path, token: token, body: json.map { Data($0.utf8) }).status
            }
            // Tokens are made by the admin only.
            let newStaff = #"{"token": "\#(Self.staff)", "scope": "staff", "label": "Ms Lovelace"}"#
            do {
                let status = try await send(.POST, "/api/v1/admin/tokens", nil, newStaff)
                #expect(status == 401)
            }
            do {
                let status = try await send(.POST, "/api/v1/admin/tokens", token, newStaff)
                #expect(status == 403)
            }
            do {
                let status = try await send(.POST, "/api/v1/admin/tokens", Self.admin, newStaff)
                #expect(status == 200)
            }
            let newPublic = #"{"token": "\#(Self.publicToken)", "scope": "public", "label": "dashboard"}"#
            do {
                let status = try await send(.POST, "/api/v1/admin/tokens", Self.staff, newPublic)
                #expect(status == 403)
            }
            do {
                let status = try await send(.POST, "/api/v1/admin/tokens", Self.admin, newPublic)
                #expect(status == 200)
            }
            let adminScope = #"{"token": "another-admin-0123456789", "scope": "admin", "label": "x"}"#
            do {
                let status = try await send(.POST, "/api/v1/admin/tokens", Self.admin, adminScope)
                #expect(status == 400)
            }

            let staffEndpoints: [(HTTPMethod, String, String?)] = [
                (.GET, "/api/v1/reports/sessions/s-math", nil),
                (.GET, "/api/v1/reports/sessions/s-math?format=csv", nil),
                (.GET, "/api/v1/reports/volunteers?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z", nil),
                (.GET, "/api/v1/reports/sessions/s-math/summary", nil),
                (.GET, "/api/v1/reports/groups/7B?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z", nil),
                (.PUT, "/api/v1/staff/sessions/s-math/flags", #"{"person": "p-1", "flag": "LEFT_EARLY"}"#),
                (.DELETE, "/api/v1/staff/sessions/s-math/flags/p-1/LEFT_EARLY", nil),
                (.PUT, "/api/v1/staff/sessions/s-math/excuses", #"{"person": "p-2", "reason": "ill"}"#),
                (.DELETE, "/api/v1/staff/sessions/s-math/excuses/p-2", nil),
            ]
            for (method, path, body) in staffEndpoints {
                do {
                    let status = try await send(method, path, nil, body)
                    #expect(status == 401, "\(method) \(path) without a token")
                }
                do {
                    let status = try await send(method, path, "not-a-token-at-all-0000", body)
                    #expect(status == 401, "\(method) \(path)")
                }
                do {
                    let status = try await send(method, path, token, body)
                    #expect(status == 403, "\(method) \(path) with a device token")
                }
                do {
                    let status = try await send(method, path, Self.publicToken, body)
                    #expect(status == 403, "\(method) \(path) public")
                }
                do {
                    let status = try await send(method, path, Self.staff, body)
                    #expect(status == 200, "\(method) \(path) staff")
                }
                do {
                    let status = try await send(method, path, Self.admin, body)
                    #expect(status == 200, "\(method) \(path) admin")
                }
            }
            // The admin API takes the admin token only.
            let encoding = (0..<128).map { _ in "0.01" }.joined(separator: ",")
            let adminEndpoints: [(HTTPMethod, String, String?)] = [
                (.POST, "/api/v1/admin/rooms", #"{"id": "C3", "timezone": "UTC"}"#),
                (
                    .POST, "/api/v1/admin/devices",
                    #"{"id": "door-c3", "room": "C3", "token": "door-c3-token-0123456789"}"#
                ),
                (
                    .POST, "/api/v1/admin/people",
                    #"{"id": "p-x", "name": "X", "role": "student", "groups": [], "templates": [{"encoding": [\#(encoding)]}], "consent": {"state": "granted", "given_by": "guardian", "evidence": "form 12"}}"#
                ),
                (.GET, "/api/v1/admin/people", nil),
                (.GET, "/api/v1/admin/people/p-x/consent", nil),
                (
                    .PUT, "/api/v1/admin/people/p-x/consent",
                    #"{"state": "withdrawn", "given_by": "guardian", "evidence": "letter 3"}"#
                ),
                (.DELETE, "/api/v1/admin/people/p-x", nil),
                (
                    .POST, "/api/v1/admin/sessions",
                    #"{"room": "C3", "sessions": [{"id": "s-c3", "group": "8A", "start": "2026-11-23T08:00:00Z", "end": "2026-11-23T08:45:00Z", "roster": []}]}"#
                ),
                (
                    .POST, "/api/v1/admin/timetable",
                    "class,group,room,date,start,end\nArt,8A,C3,2026-11-24,10:00,10:45\n"
                ),
                (.PUT, "/api/v1/admin/rooms/C3/access", #"{"people": ["v-1"]}"#),
                (.GET, "/api/v1/admin/rooms/C3/access", nil),
                (.GET, "/api/v1/admin/sessions/s-math/checkins", nil),
                (.PUT, "/api/v1/admin/sessions/s-math/teachers", #"{"teachers": ["lovelace"]}"#),
                (.GET, "/api/v1/admin/people/v-1/visits", nil),
                (.GET, "/api/v1/admin/people/p-1/export", nil),
                (
                    .POST, "/api/v1/admin/badge-keys",
                    #"{"kid": "k9", "public_key": "\#(String(repeating: "A", count: 43))"}"#
                ),
                (.POST, "/api/v1/admin/revocations", #"{"id": "badge-9"}"#),
                (.DELETE, "/api/v1/admin/badge-keys/k9", nil),
                (.PUT, "/api/v1/admin/devices/door-c3/token", #"{"token": "door-c3-new-token-0123456789"}"#),
                (.DELETE, "/api/v1/admin/devices/door-c3", nil),
                (
                    .POST, "/api/v1/admin/tokens",
                    #"{"token": "revoke-me-0123456789abc", "scope": "staff", "label": "to revoke"}"#
                ),
                (.GET, "/api/v1/admin/tokens", nil),
                // The first 16 hexadecimal digits of SHA-256("revoke-me-0123456789abc").
                (.DELETE, "/api/v1/admin/tokens/dd9979eba6a2cbce", nil),
            ]
            for (method, path, body) in adminEndpoints {
                for (bearer, expected) in [(nil, 401), (token, 403), (Self.staff, 403), (Self.publicToken, 403)]
                    as [(String?, Int)]
                {
                    let status = try await send(method, path, bearer, body)
                    #expect(status == expected, "\(method) \(path) with \(bearer ?? "no token")")
                }
                let status = try await send(method, path, Self.admin, body)
                #expect(status == 200, "\(method) \(path) with the admin token")
            }
            // The group page is the web app's: a token, in the query or as a bearer header, opens nothing;
            // the browser is sent to sign in.
            let page = "/reports/groups/7B?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z"
            do {
                let browser = Browser(port: port)
                for (path, bearer) in [(page + "&token=\(Self.staff)", nil), (page, Self.staff), (page, Self.admin)] {
                    let answer = try await browser.get(
                        path, headers: bearer.map { [("Authorization", "Bearer \($0)")] } ?? [])
                    #expect(answer.status == 303, "\(path)")
                    #expect(answer.location?.hasPrefix("/sign-in?next=") == true)
                    #expect(!answer.text.contains("p-1"))
                }
            }
            // The public API takes public (and admin) tokens only.
            let publicPath = "/api/v1/public/sessions/s-math"
            for (bearer, expected) in [
                (nil, 401), (token, 403), (Self.staff, 403), (Self.publicToken, 200), (Self.admin, 200),
            ] as [(String?, Int)] {
                let status = try await send(.GET, publicPath, bearer)
                #expect(status == expected, "public API with \(bearer ?? "no token")")
            }
            // The device API stays the devices' own.
            do {
                let status = try await send(.GET, DeviceAPI.manifestPath, Self.staff)
                #expect(status == 401)
            }
            do {
                let status = try await send(.GET, DeviceAPI.manifestPath, Self.admin)
                #expect(status == 401)
            }
        }
    }

    @Test("the session report through the API, as JSON and CSV, with flags and excuses set by staff")
    func report() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        try await store.addAccessToken(Self.staff, scope: .staff, label: "Ms Lovelace")
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: Self.admin))
        try await serving(router) { port in
            let base = "http://127.0.0.1:\(port)"
            let flag = try await call(
                .PUT, base + "/api/v1/staff/sessions/s-math/flags", token: Self.staff,
                body: Data(#"{"person": "p-1", "flag": "CAMERA_OFF", "note": "no video"}"#.utf8))
            #expect(flag.status == 200)
            let badFlag = try await call(
                .PUT, base + "/api/v1/staff/sessions/s-math/flags", token: Self.staff,
                body: Data(#"{"person": "p-1", "flag": "SLEEPY"}"#.utf8))
            #expect(badFlag.status == 400)
            let notOnRoster = try await call(
                .PUT, base + "/api/v1/staff/sessions/s-math/excuses", token: Self.staff,
                body: Data(#"{"person": "v-1", "reason": "ill"}"#.utf8))
            #expect(
                notOnRoster.status == 400 && problem(notOnRoster.body)?.message.contains("not on the roster") == true)
            let json = try await call(.GET, base + "/api/v1/reports/sessions/s-math", token: Self.staff)
            let report = try DeviceAPI.decoder().decode(SessionReport.self, from: json.body)
            #expect(report.lines.count == 10 && report.lines[1].flags == [.cameraOff])
            let csv = try await call(.GET, base + "/api/v1/reports/sessions/s-math?format=csv", token: Self.staff)
            #expect(csv.headers.first(name: "Content-Type")?.hasPrefix("text/csv") == true)
            #expect(String(decoding: csv.body, as: UTF8.self).hasPrefix("session,group,person,name,outcome"))
            let missing = try await call(.GET, base + "/api/v1/reports/sessions/s-none", token: Self.staff)
            #expect(missing.status == 404)
            let format = try await call(.GET, base + "/api/v1/reports/sessions/s-math?format=xml", token: Self.staff)
            #expect(format.status == 400)
        }
    }
}

/// The public API in the OpenAPI document says what the hub writes.
struct PublicAPIDocumentTests {
    @Test("openapi/device-api.json describes the public session report with exactly the keys the hub writes")
    func document() async throws {
        let url = TestResources.packageRoot.appendingPathComponent("openapi/device-api.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        #expect(paths["/api/v1/public/sessions/{id}"]?["get"] != nil)
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        func properties(_ name: String) -> Set<String> {
            Set((((schemas[name] as? [String: Any])?["properties"]) as? [String: Any] ?? [:]).keys)
        }
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder)
        let report = try await store.publicSessionReport("s-math", now: t0)
        let object = try #require(
            try JSONSerialization.jsonObject(with: DeviceAPI.encoder().encode(report)) as? [String: Any])
        #expect(Set(object.keys) == properties("PublicSessionReport"))
        let line = try #require((object["lines"] as? [[String: Any]])?.first)
        #expect(Set(line.keys) == properties("PublicAttendanceLine"))
    }
}
