import AsyncHTTPClient
import Attendance
import Foundation
import Hub
import HubServer
import NIOCore
import NIOHTTP1
import SyncProtocol
import TestSupport
import Testing

/// The live roll call's stream, My record, and the doors' heartbeats, through a real server.
struct RollCallWebTests {
    /// A Server-Sent Events stream, read as it comes.
    final class Stream {
        var iterator: HTTPClientResponse.Body.AsyncIterator
        init(_ response: HTTPClientResponse) { iterator = response.body.makeAsyncIterator() }

        /// Reads until `until` holds for the text received since the last call (or 10 s pass).
        func read(until: (String) -> Bool) async throws -> String? {
            let deadline = ContinuousClock.now + .seconds(10)
            var text = ""
            while ContinuousClock.now < deadline {
                guard let buffer = try await iterator.next() else { return nil }
                text += String(buffer: buffer)
                if until(text) { return text }
            }
            return nil
        }
    }

    @Test(
        "the live roll call's stream sends the roster, then a door's check-in and a teacher's mark as they are stored")
    func stream() async throws {
        try await WebAppTests.withHub { store, port in
            let teacher = Browser(port: port)
            try await teacher.signIn("lovelace", password("lovelace"))
            var request = HTTPClientRequest(url: teacher.base + "/live/sessions/\(WebAppTests.maths)/stream")
            request.headers.add(
                name: "Cookie", value: "rollcall_session=\(try #require(teacher.cookies["rollcall_session"]))")
            let response = try await teacher.client.execute(request, timeout: .seconds(30))
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "Content-Type")?.hasPrefix("text/event-stream") == true)
            let stream = Stream(response)
            let text = try #require(try await stream.read { $0.contains("event: roster") })
            #expect(text.contains(#""person":"p-0""#) && text.contains(#""outcome":"absent""#))
            // A door's check-in of p-0 (09:01, in the window), stored by the hub...
            let session = try #require(
                try await store.sessions(
                    from: .distantPast, to: .distantFuture, teacher: "lovelace", groups: nil, limit: 5
                ).first
            ).session
            let event = DeviceEvent(
                id: UUID().uuidString.lowercased(),
                event: .checkin(
                    session: session.id, person: "p-0", at: session.start + 60, status: .present, minutesLate: 0),
                method: "face", source: "signage:door-b12", confidence: 0.9, distance: 0.3, margin: 0.5, model: "dlib")
            let result = try await store.ingest(
                EventBatch(events: [event]), from: DeviceRecord(id: "door-b12", room: "B12"), receivedAt: Date())
            #expect(result.accepted.count == 1, "\(result)")
            let seen = try #require(try await stream.read { $0.contains(#""detail":"face at signage:door-b12"#) })
            #expect(seen.contains(#""storedAt":"#))
            // ... and a teacher's mark, from another browser.
            let other = Browser(port: port)
            try await other.signIn("lovelace", password("lovelace"))
            let mark = try await other.post(
                "/live/sessions/\(WebAppTests.maths)/mark",
                [("person", "p-1"), ("mark", "excused"), ("reason", "dentist")],
                from: "/live/sessions/\(WebAppTests.maths)")
            #expect(mark.status == 303 && mark.location == "/live/sessions/\(WebAppTests.maths)#row-p-1")
            #expect(try await stream.read { $0.contains("manual by lovelace at web, reason: dentist") } != nil)
            // The page itself, server-rendered, says the same.
            let page = try await other.get("/live/sessions/\(WebAppTests.maths)")
            #expect(page.text.contains("manual by lovelace at web, reason: dentist"))
            #expect(page.text.contains("face at signage:door-b12"))
        }
    }

    @Test("a student's My record shows their own schedule and attendance and nobody else's")
    func myRecord() async throws {
        try await WebAppTests.withHub { store, port in
            try await store.setManualRecord(
                session: WebAppTests.maths, person: "p-1", mark: .late, reason: nil, by: "lovelace", at: Date())
            let pupil = Browser(port: port)
            try await pupil.signIn("pupil", password("pupil"))
            #expect(try await pupil.get("/").location == "/me")
            let day = try await pupil.get("/me?day=2026-11-23")
            #expect(day.status == 200)
            #expect(day.text.contains("Maths · 7B") && day.text.contains("manual by lovelace at web"))
            let recent = try await pupil.get("/me?day=2026-11-30")
            #expect(recent.text.contains("2026-11-23") && recent.text.contains(">late<"))
            for other in ["p-0", "p-2", "p-3", "p-4"] {
                #expect(!day.text.contains(other) && !recent.text.contains(other), "\(other) on p-1's page")
            }
            #expect(try await pupil.get("/me?day=yesterday").status == 400)
            // A volunteer sees their own visits.
            let helper = Browser(port: port)
            try await helper.signIn("helper", password("helper"))
            let visits = try await helper.get("/me")
            #expect(visits.status == 200 && visits.text.contains("My visits"))
            let entries = try await store.auditEntries(from: .distantPast, to: .distantFuture, limit: 100)
            #expect(entries.contains { $0.actor == "user:pupil" && $0.subject == "person:p-1" })
        }
    }

    @Test("a door's heartbeat reaches the Doors page; a door never heard from shows as silent")
    func doors() async throws {
        try await WebAppTests.withHub { store, port in
            try await store.addDevice(DeviceRecord(id: "door-c3", room: "B12"), token: "door-c3-token-0123456789")
            let base = "http://127.0.0.1:\(port)"
            let beat = try DeviceAPI.encoder().encode(DeviceHeartbeat(version: "0.17.0", queued: 4, camera: "ok"))
            #expect(try await call(.POST, base + DeviceAPI.heartbeatPath, token: token, body: beat).status == 200)
            #expect(try await call(.POST, base + DeviceAPI.heartbeatPath, token: nil, body: beat).status == 401)
            let bad = try DeviceAPI.encoder().encode(DeviceHeartbeat(version: "", queued: -1, camera: "ok"))
            #expect(try await call(.POST, base + DeviceAPI.heartbeatPath, token: token, body: bad).status == 400)
            let garbage = Data("{not json".utf8)
            #expect(try await call(.POST, base + DeviceAPI.heartbeatPath, token: token, body: garbage).status == 400)
            let admin = Browser(port: port)
            try await admin.signIn("assist", password("assist"))
            let page = try await admin.get("/doors")
            #expect(page.status == 200)
            let rows = page.text.components(separatedBy: "<tr")
            let b12 = try #require(rows.first { $0.contains("<td>door-b12</td>") })
            let c3 = try #require(rows.first { $0.contains("<td>door-c3</td>") })
            #expect(
                !b12.contains("silent") && b12.contains("<td>4</td>") && b12.contains("0.17.0") && b12.contains(">ok<"))
            #expect(c3.contains("silent") && c3.contains("never"))
        }
    }

    @Test("a staff token's reads of reports through the API are in the audit trail under the token's id")
    func apiReadsAudited() async throws {
        try await WebAppTests.withHub { store, port in
            let staff = "staff-token-for-audit-0123456789"
            try await store.addAccessToken(staff, scope: .staff, label: "the office's spreadsheet")
            let base = "http://127.0.0.1:\(port)"
            #expect(try await call(.GET, base + "/api/v1/reports/sessions/s-math", token: staff).status == 200)
            let id = try #require(try await store.accessTokens().first { $0.label == "the office's spreadsheet" }).id
            let entries = try await store.auditEntries(from: .distantPast, to: .distantFuture, limit: 100)
            #expect(
                entries.contains {
                    $0.actor == "token:\(id)" && $0.action == "view" && $0.subject == "session:s-math"
                        && $0.address == "127.0.0.1"
                })
        }
    }

    @Test("one sign-in holds at most 8 live streams; the 9th is told so, another sign-in is still served")
    func streamCap() async throws {
        try await WebAppTests.withHub { _, port in
            let teacher = Browser(port: port)
            try await teacher.signIn("lovelace", password("lovelace"))
            let cookie = "rollcall_session=\(try #require(teacher.cookies["rollcall_session"]))"
            func open(_ cookie: String) async throws -> Stream {
                var request = HTTPClientRequest(url: teacher.base + "/live/sessions/\(WebAppTests.maths)/stream")
                request.headers.add(name: "Cookie", value: cookie)
                return Stream(try await teacher.client.execute(request, timeout: .seconds(30)))
            }
            var streams: [Stream] = []
            for _ in 0..<8 {
                let stream = try await open(cookie)
                #expect(try await stream.read { $0.contains("event: roster") } != nil)
                streams.append(stream)
            }
            let ninth = try await open(cookie)
            let refused = try #require(try await ninth.read { $0.contains("event: refused") })
            #expect(refused.contains("too many live roll calls") && !refused.contains("event: roster"))
            let other = Browser(port: port)
            try await other.signIn("root", password("root"))
            let theirs = try await open("rollcall_session=\(try #require(other.cookies["rollcall_session"]))")
            #expect(try await theirs.read { $0.contains("event: roster") } != nil)
        }
    }
}
