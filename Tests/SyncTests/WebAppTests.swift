import AsyncHTTPClient
import Attendance
import Crypto
import Foundation
import Hub
import HubServer
import NIOCore
import NIOHTTP1
import Recognition
import TestSupport
import Testing

/// A browser as far as the web app can tell: a cookie jar, forms with their CSRF token, no redirects
/// followed (the tests look at them).
final class Browser: @unchecked Sendable {
    let base: String
    let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        // Enough connections for the live streams a test holds open at once.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 32
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
    private let lock = NSLock()
    private var jar: [String: String] = [:]
    /// Every Set-Cookie line received, for the tests of its attributes.
    private(set) var setCookies: [String] = []

    init(port: Int) { base = "http://127.0.0.1:\(port)" }

    deinit { try? client.syncShutdown() }

    var cookies: [String: String] { lock.withLock { jar } }

    struct Answer {
        var status: Int
        var text: String
        var headers: HTTPHeaders
        var location: String? { headers.first(name: "Location") }
    }

    func send(
        _ method: HTTPMethod, _ path: String, form: [(String, String)]? = nil, headers extra: [(String, String)] = []
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        let cookie = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        if !cookie.isEmpty { request.headers.add(name: "Cookie", value: cookie) }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let form {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let body = form.map {
                "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
            }.joined(separator: "&")
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(20))
        let body = try await response.body.collect(upTo: 16 << 20)
        let lines = response.headers["Set-Cookie"]
        lock.withLock {
            setCookies += lines
            for line in lines {
                let pair = line.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
                guard pair.count == 2 else { continue }
                if line.contains("Max-Age=0") {
                    jar[String(pair[0])] = nil
                } else {
                    jar[String(pair[0])] = String(pair[1])
                }
            }
        }
        return Answer(status: Int(response.status.code), text: String(buffer: body), headers: response.headers)
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> Answer {
        try await send(.GET, path, headers: headers)
    }

    /// The CSRF token of the page at `path` (its first form's).
    func csrf(_ path: String) async throws -> String {
        let page = try await get(path)
        guard let range = page.text.range(of: #"name="csrf" value="[^"]+""#, options: .regularExpression) else {
            Issue.record("no CSRF token on \(path): \(page.status)")
            return ""
        }
        return String(page.text[range].dropFirst(#"name="csrf" value=""#.count).dropLast())
    }

    /// Signs in; returns the answer to the form.
    @discardableResult
    func signIn(_ username: String, _ password: String, next: String = "/") async throws -> Answer {
        let token = try await csrf("/sign-in")
        return try await send(
            .POST, "/sign-in", form: [("csrf", token), ("username", username), ("password", password), ("next", next)])
    }

    /// Posts a form of the signed-in pages with the session's CSRF token (taken from `page`).
    func post(_ path: String, _ fields: [(String, String)], from page: String = "/account/password") async throws
        -> Answer
    {
        let token = try await csrf(page)
        return try await send(.POST, path, form: [("csrf", token)] + fields)
    }
}

/// The accounts every web test has: one per role, with cheap hashes (bcrypt cost 4; the cost is in the
/// hash, so verifying works the same).
func addAccounts(_ store: any HubStorage) async throws {
    let accounts = [
        Account(username: "root", role: .superadmin, name: "Rosa Root"),
        Account(username: "sec", role: .secretary, name: "Sam Secretary"),
        Account(username: "assist", role: .assistant, name: "Alex Assistant"),
        Account(username: "lovelace", role: .teacher, name: "Ada Lovelace"),
        Account(username: "turing", role: .teacher, name: "Alan Turing"),
        Account(username: "mentor7b", role: .mentor, name: "Mia Mentor", groups: ["7B"]),
        Account(username: "mentor8a", role: .mentor, name: "Max Mentor", groups: ["8A"]),
        Account(username: "pupil", role: .student, name: "Pat Pupil", person: "p-1"),
        Account(username: "helper", role: .volunteer, name: "Val Volunteer", person: "v-1"),
    ]
    for account in accounts {
        try await store.addAccount(account, passwordHash: AccountPasswords.hash(password(account.username), cost: 4))
    }
    // p-0...p-4 are in 7B, p-5...p-9 in 8A (the timetable's rosters).
    for index in 0..<10 {
        var document = GalleryDocument()
        document.enroll(
            Person(id: "p-\(index)", name: "p-\(index)", role: .student, groups: [index < 5 ? "7B" : "8A"]),
            templates: [GalleryDocument.Template(source: nil, encoding: [Float](repeating: 0.01, count: 128))])
        try await store.upsertConsented(document.people[0])
    }
    // Lovelace teaches 7B's maths; Turing teaches 8A only.
    let timetable = """
        class,group,room,date,start,end,teacher
        Maths,7B,B12,2026-11-23,09:00,09:45,lovelace
        Art,8A,B12,2026-11-24,10:00,10:45,turing
        """
    let imported = try await store.importTimetable(timetable)
    #expect(imported.problems.isEmpty && imported.teachers.count == 2)
}

func password(_ username: String) -> String { "pass-of-\(username)-1234" }

struct WebAppTests {
    static func withHub(
        _ kind: StoreKind = .sqlite, configure: (inout HubServerConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (any HubStorage, Int) async throws -> Void
    ) async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder, kind)
        try await addAccounts(store)
        var configuration = HubServerConfiguration(adminToken: nil)
        configure(&configuration)
        let router = HubServer.router(storage: store, configuration: configuration)
        try await serving(router) { port in try await body(store, port) }
    }

    @Test(
        "sign-in sets an HttpOnly, SameSite=Lax session cookie whose id the store keeps only hashed; sign-out ends it")
    func signInAndOut() async throws {
        try await Self.withHub { store, port in
            let browser = Browser(port: port)
            let first = try await browser.get("/reports/groups/7B")
            #expect(first.status == 303 && first.location == "/sign-in?next=%2Freports%2Fgroups%2F7B")
            let wrong = try await browser.signIn("lovelace", "not-her-password-at-all")
            #expect(wrong.status == 401 && wrong.text.contains("The username or password is not right."))
            #expect(browser.cookies["rollcall_session"] == nil)
            let unknown = try await browser.signIn("nobody", "not-a-password-at-all")
            #expect(unknown.status == 401 && unknown.text.contains("The username or password is not right."))
            let right = try await browser.signIn("Lovelace", password("lovelace"), next: "/reports/groups/7B")
            #expect(right.status == 303 && right.location == "/reports/groups/7B")
            let session = try #require(browser.cookies["rollcall_session"])
            let line = try #require(browser.setCookies.first { $0.hasPrefix("rollcall_session=") })
            #expect(line.contains("HttpOnly") && line.contains("SameSite=Lax") && line.contains("Path=/"))
            #expect(!line.contains("Secure"), "plain HTTP on loopback: a Secure cookie would never come back")
            let digest = SHA256.hash(data: Data(session.utf8)).map { String(format: "%02x", $0) }.joined()
            #expect(try await store.webSession(digest: digest, now: Date())?.username == "lovelace")
            #expect(try await store.webSession(digest: session, now: Date()) == nil)
            let page = try await browser.get("/reports/groups/7B")
            #expect(page.status == 200 && page.text.contains("Group 7B") && page.text.contains("Ada Lovelace"))
            // Sign-out is a form like any other: its token is needed.
            let forged = try await browser.send(.POST, "/sign-out", form: [("csrf", "forged")])
            #expect(forged.status == 403)
            let out = try await browser.post("/sign-out", [])
            #expect(out.status == 303 && out.location == "/sign-in")
            #expect(try await store.webSession(digest: digest, now: Date()) == nil)
            // The old cookie, replayed, opens nothing.
            let replay = try await browser.get(
                "/reports/groups/7B", headers: [("Cookie", "rollcall_session=\(session)")])
            #expect(replay.status == 303)
        }
    }

    @Test("cookies are Secure behind a TLS proxy and on any address but loopback")
    func secureCookies() async throws {
        try await Self.withHub { _, port in
            for headers in [[("X-Forwarded-Proto", "https")], [("Host", "hub.school.example")]] {
                let browser = Browser(port: port)
                _ = try await browser.get("/sign-in", headers: headers)
                let line = try #require(browser.setCookies.first { $0.hasPrefix("rollcall_signin=") })
                #expect(line.contains("Secure") && line.contains("HttpOnly"), "\(headers): \(line)")
            }
        }
    }

    @Test(
        "after 5 failed sign-ins for an account from one address the next is refused 429, even with the right password")
    func throttling() async throws {
        try await Self.withHub { store, port in
            let browser = Browser(port: port)
            for _ in 0..<5 {
                let wrong = try await browser.signIn("turing", "guess-guess-guess")
                #expect(wrong.status == 401)
            }
            let blocked = try await browser.signIn("turing", password("turing"))
            #expect(blocked.status == 429 && blocked.headers.first(name: "Retry-After") == "900")
            #expect(browser.cookies["rollcall_session"] == nil)
            // Another account from the same address is not yet held up.
            let other = try await browser.signIn("lovelace", password("lovelace"))
            #expect(other.status == 303)
            let entries = try await store.auditEntries(
                from: Date(timeIntervalSinceNow: -60), to: Date(timeIntervalSinceNow: 60), limit: 100)
            #expect(entries.filter { $0.action == "sign-in-refused" }.count == 5)
            #expect(entries.contains { $0.action == "sign-in-throttled" && $0.subject == "account:turing" })
        }
    }

    @Test("every form needs its session's CSRF token and this site's origin; a sign-in form its own token")
    func csrf() async throws {
        try await Self.withHub { store, port in
            let browser = Browser(port: port)
            try await browser.signIn("root", password("root"))
            let fields = [
                ("username", "mallory"), ("name", "Mallory"), ("role", "superadmin"), ("password", "mallory-pass-123"),
            ]
            let missing = try await browser.send(.POST, "/accounts", form: fields)
            #expect(missing.status == 403 && missing.text.contains("did not come from this site"))
            let refusals = try await store.auditEntries(from: .distantPast, to: .distantFuture, limit: 100)
            #expect(
                refusals.contains {
                    $0.action == "form-refused" && $0.actor == "user:root" && $0.subject == "form:/accounts"
                })
            let wrong = try await browser.send(
                .POST, "/accounts", form: [("csrf", "x" + (try await browser.csrf("/accounts")))] + fields)
            #expect(wrong.status == 403)
            let token = try await browser.csrf("/accounts")
            let crossSite = try await browser.send(
                .POST, "/accounts", form: [("csrf", token)] + fields, headers: [("Origin", "https://evil.example")])
            #expect(crossSite.status == 403)
            #expect(try await store.credentials(username: "mallory") == nil)
            // Another browser's token is not this one's.
            let other = Browser(port: port)
            try await other.signIn("sec", password("sec"))
            let foreign = try await browser.send(
                .POST, "/accounts", form: [("csrf", try await other.csrf("/accounts"))] + fields)
            #expect(foreign.status == 403)
            let good = try await browser.send(.POST, "/accounts", form: [("csrf", token)] + fields)
            #expect(good.status == 200 && good.text.contains("Account mallory created."))
            #expect(try await store.credentials(username: "mallory")?.account.role == .superadmin)
            // Sign-in's own form: without the cookie's token it is refused.
            let fresh = Browser(port: port)
            let noToken = try await fresh.send(
                .POST, "/sign-in", form: [("username", "root"), ("password", password("root"))])
            #expect(noToken.status == 403 && fresh.cookies["rollcall_session"] == nil)
        }
    }

    @Test("after sign-in only a path of this site is followed, never another site")
    func openRedirect() async throws {
        try await Self.withHub { _, port in
            for next in ["//evil.example/x", "https://evil.example", "/\\evil.example", "/sign-out"] {
                let browser = Browser(port: port)
                let answer = try await browser.signIn("root", password("root"), next: next)
                #expect(answer.status == 303 && answer.location == "/", "\(next)")
            }
        }
    }

    @Test("a password change needs the current one and signs out the account's other browsers")
    func passwordChange() async throws {
        try await Self.withHub { store, port in
            let phone = Browser(port: port)
            let desk = Browser(port: port)
            try await phone.signIn("lovelace", password("lovelace"))
            try await desk.signIn("lovelace", password("lovelace"))
            let wrong = try await phone.post(
                "/account/password",
                [("current", "not-it-at-all"), ("new", "a-new-password-1"), ("repeat", "a-new-password-1")],
                from: "/account/password")
            #expect(wrong.status == 400 && wrong.text.contains("current password is not right"))
            let short = try await phone.post(
                "/account/password", [("current", password("lovelace")), ("new", "short"), ("repeat", "short")],
                from: "/account/password")
            #expect(short.status == 400 && short.text.contains("at least 10 characters"))
            let done = try await phone.post(
                "/account/password",
                [("current", password("lovelace")), ("new", "a-new-password-1"), ("repeat", "a-new-password-1")],
                from: "/account/password")
            #expect(done.status == 200 && done.text.contains("Your password is changed"))
            #expect(try await phone.get("/").status == 200)
            #expect(try await desk.get("/").status == 303)
            #expect(try await Browser(port: port).signIn("lovelace", password("lovelace")).status == 401)
            #expect(try await Browser(port: port).signIn("lovelace", "a-new-password-1").status == 303)
            let hash = try #require(try await store.credentials(username: "lovelace")).passwordHash
            #expect(hash.hasPrefix("$2b$12$"), "the web app hashes with bcrypt at cost 12: \(hash.prefix(7))")
        }
    }

    @Test("a disabled account cannot sign in and its open sessions end")
    func disabling() async throws {
        try await Self.withHub { _, port in
            let teacher = Browser(port: port)
            try await teacher.signIn("turing", password("turing"))
            let admin = Browser(port: port)
            try await admin.signIn("sec", password("sec"))
            let done = try await admin.post("/accounts/turing/disable", [], from: "/accounts")
            #expect(done.status == 200 && done.text.contains("Account turing disabled."))
            #expect(try await teacher.get("/").status == 303)
            #expect(try await Browser(port: port).signIn("turing", password("turing")).status == 401)
            // A secretary cannot touch a superadmin, nor make one.
            #expect(try await admin.post("/accounts/root/disable", [], from: "/accounts").status == 403)
            #expect(
                try await admin.post("/accounts/root/password", [("password", "taken-over-123")], from: "/accounts")
                    .status == 403)
            let made = try await admin.post(
                "/accounts",
                [("username", "boss"), ("name", "B"), ("role", "superadmin"), ("password", "boss-pass-1234")],
                from: "/accounts")
            #expect(made.status == 403)
            #expect(try await admin.post("/accounts/turing/enable", [], from: "/accounts").status == 200)
            #expect(try await Browser(port: port).signIn("turing", password("turing")).status == 303)
        }
    }

    static let maths = "maths-7b-2026-11-23-0900"
    static let art = "art-8a-2026-11-24-1000"

    /// The README's role table, route by route: who gets the page (200) and who is refused (403).
    static let roleTable: [(path: String, allowed: Set<String>)] = [
        ("/", ["root", "sec", "assist", "lovelace", "turing", "mentor7b", "mentor8a"]),
        ("/me", ["pupil", "helper"]),
        (
            "/account/password",
            ["root", "sec", "assist", "lovelace", "turing", "mentor7b", "mentor8a", "pupil", "helper"]
        ),
        ("/live/sessions/\(maths)", ["root", "sec", "assist", "lovelace", "mentor7b"]),
        ("/live/sessions/\(art)", ["root", "sec", "assist", "turing", "mentor8a"]),
        ("/reports/sessions/\(maths)", ["root", "sec", "assist", "lovelace", "mentor7b"]),
        ("/reports/sessions/\(maths)?format=csv", ["root", "sec", "assist", "lovelace", "mentor7b"]),
        ("/reports/groups/7B", ["root", "sec", "assist", "lovelace", "mentor7b"]),
        ("/reports/groups/7B?format=csv", ["root", "sec", "assist", "lovelace", "mentor7b"]),
        ("/reports/groups/8A", ["root", "sec", "assist", "turing", "mentor8a"]),
        ("/reports/volunteers", ["root", "sec", "assist"]),
        ("/doors", ["root", "sec", "assist"]),
        ("/alerts", ["root", "sec", "assist", "lovelace", "turing"]),
        ("/accounts", ["root", "sec"]),
        ("/audit", ["root"]),
        ("/people", ["root", "sec"]),
        ("/people/p-1", ["root", "sec"]),
        ("/people/p-1/badge", ["root", "sec"]),
        ("/sessions/new", ["root", "sec", "assist", "lovelace", "turing"]),
    ]

    /// The forms, the same way: who may post them (204 from the page's script) and who is refused (403).
    static let formTable: [(path: String, fields: [(String, String)], allowed: Set<String>)] = [
        (
            "/live/sessions/\(maths)/mark", [("person", "p-1"), ("mark", "late")],
            ["root", "sec", "assist", "lovelace"]
        ),
        ("/live/sessions/\(maths)/absent-rest", [], ["root", "sec", "assist", "lovelace"]),
        (
            "/live/sessions/\(maths)/flag", [("person", "p-1"), ("flag", "LEFT_EARLY"), ("on", "1")],
            ["root", "sec", "assist", "lovelace", "mentor7b"]
        ),
        ("/live/sessions/\(art)/mark", [("person", "p-6"), ("mark", "present")], ["root", "sec", "assist", "turing"]),
        (
            "/people/p-2/consent", [("state", "refused"), ("by", "guardian"), ("evidence", "form 7")],
            ["root", "sec"]
        ),
        ("/people/p-2/guardians", [("guardians", "parent@example.org")], ["root", "sec"]),
    ]

    /// The forms with files, the same way: who may post them (200) and who is refused (403).
    static let uploadTable: [(path: String, csv: String, allowed: Set<String>)] = [
        ("/people/bulk", "id,name,role,groups,photos\nv-9,Vic Nine,volunteer,,\n", ["root", "sec"])
    ]

    @Test("every page: each role gets it or a 403, as the README's role table says, on both stores")
    func roles() async throws {
        // A photo checker, so that the bulk enrollment form answers those allowed (BulkEnrollmentWebTests).
        let checking: (inout HubServerConfiguration) -> Void = { $0.web.photos = FakePhotoChecker() }
        for kind in StoreKind.available {
            try await Self.withHub(kind, configure: checking) { _, port in
                let everyone = [
                    "root", "sec", "assist", "lovelace", "turing", "mentor7b", "mentor8a", "pupil", "helper",
                ]
                for username in everyone {
                    let browser = Browser(port: port)
                    #expect(try await browser.signIn(username, password(username)).status == 303)
                    for (path, allowed) in Self.roleTable {
                        let answer = try await browser.get(path)
                        var expected = allowed.contains(username) ? 200 : 403
                        // The start page of a student or volunteer is their own record.
                        if path == "/" && ["pupil", "helper"].contains(username) { expected = 303 }
                        #expect(answer.status == expected, "\(kind) \(username) GET \(path)")
                        if expected != 200 { #expect(!answer.text.contains("p-1"), "\(username) \(path) leaks") }
                    }
                    for (path, fields, allowed) in Self.formTable {
                        let token = try await browser.csrf("/account/password")
                        let answer = try await browser.send(
                            .POST, path, form: [("csrf", token)] + fields, headers: [("X-Rollcall-Script", "1")])
                        #expect(
                            answer.status == (allowed.contains(username) ? 204 : 403),
                            "\(kind) \(username) POST \(path)")
                    }
                    for (path, csv, allowed) in Self.uploadTable {
                        let token = try await browser.csrf("/account/password")
                        let answer = try await browser.upload(
                            path, fields: [("csrf", token)], files: [("csv", "people.csv", Data(csv.utf8))])
                        #expect(
                            answer.status == (allowed.contains(username) ? 200 : 403),
                            "\(kind) \(username) POST \(path)")
                    }
                    // Forms: creating an account (a valid one) and disabling one.
                    let create = try await browser.post(
                        "/accounts",
                        [
                            ("username", "new-\(username)"), ("name", "N"), ("role", "teacher"),
                            ("password", "new-pass-12345"),
                        ])
                    #expect(
                        create.status == (["root", "sec"].contains(username) ? 200 : 403),
                        "\(kind) \(username) POST /accounts")
                    let disable = try await browser.post("/accounts/helper/enable", [])
                    #expect(disable.status == (["root", "sec"].contains(username) ? 200 : 403), "\(username) enable")
                }
            }
        }
    }

    @Test(
        "the audit trail lists sign-ins, views of a group's records and account changes; CSV too; only for superadmins")
    func auditTrail() async throws {
        try await Self.withHub { store, port in
            let teacher = Browser(port: port)
            try await teacher.signIn("lovelace", password("lovelace"))
            #expect(try await teacher.get("/reports/groups/7B").status == 200)
            let admin = Browser(port: port)
            try await admin.signIn("root", password("root"))
            _ = try await admin.post(
                "/accounts",
                [
                    ("username", "newbie"), ("name", "New Bie"), ("role", "student"), ("person", "p-2"),
                    ("password", "newbie-pass-123"),
                ], from: "/accounts")
            let page = try await admin.get("/audit")
            #expect(page.status == 200)
            for expected in [
                "user:lovelace</td><td>sign-in", "user:lovelace</td><td>view</td><td>group:7B",
                "user:root</td><td>account-create</td><td>account:newbie",
            ] {
                #expect(page.text.contains(expected), "\(expected)")
            }
            let csv = try await admin.get("/audit?format=csv")
            #expect(csv.status == 200 && csv.headers.first(name: "Content-Type")?.hasPrefix("text/csv") == true)
            #expect(csv.text.hasPrefix("time,actor,action,subject,detail,address\r\n"))
            #expect(csv.text.contains(",user:lovelace,view,group:7B,"))
            #expect(csv.text.contains(",127.0.0.1\r\n"))
            let entries = try await store.auditEntries(from: .distantPast, to: .distantFuture, limit: 1000)
            #expect(entries.contains { $0.actor == "user:root" && $0.action == "view" && $0.subject == "audit" })
        }
    }
}
