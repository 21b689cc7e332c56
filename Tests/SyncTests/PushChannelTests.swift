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

/// The push channel (`GET /api/v1/device/changes`): a door's long poll answers as soon as what the door
/// pulls changes, and only then.
struct PushChannelTests {
    @Test(
        "the long poll answers at once without a fingerprint, waits while nothing changes, and wakes on a new session",
        arguments: StoreKind.available)
    func longPoll(_ kind: StoreKind) async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await hubStore(in: folder, kind)
        let router = HubServer.router(storage: store, configuration: HubServerConfiguration(adminToken: nil))
        try await serving(router) { port in
            let base = "http://127.0.0.1:\(port)\(DeviceAPI.changesPath)"
            func changes(_ query: String, as bearer: String = token) async throws -> (status: Int, print: String?) {
                var request = HTTPClientRequest(url: base + query)
                request.headers.add(name: "Authorization", value: "Bearer \(bearer)")
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(180))
                let body = Data((try await response.body.collect(upTo: 1 << 16)).readableBytesView)
                return (
                    Int(response.status.code),
                    try? DeviceAPI.decoder().decode(DeviceChanges.self, from: body).fingerprint
                )
            }
            let first = try await changes("")
            #expect(first.status == 200 && first.print != nil)
            let since = first.print?.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            // Nothing changes: the answer comes when the wait is over, with the same fingerprint.
            let began = ContinuousClock.now
            let quiet = try await changes("?since=\(since)&wait=1")
            #expect(quiet.print == first.print && ContinuousClock.now - began >= .milliseconds(900))
            // A session added for the room while the door waits: the answer comes with a new fingerprint.
            async let woken = changes("?since=\(since)&wait=25")
            try await Task.sleep(for: .milliseconds(300))
            try await store.putSession(
                Session(id: "s-now", room: "B12", group: "7B", start: Date(), end: Date() + 600, roster: ["p-1"]))
            let answer = try await woken
            #expect(answer.status == 200 && answer.print != first.print)
            // Woken by the change, not by the end of the wait: the fingerprint is new (how fast is measured
            // end to end by tools/instant_session_e2e.py; here the suite shares two cores with heavy tests).
            // Out of range, or a stranger.
            #expect(try await changes("?wait=26").status == 400)
            #expect(try await changes("?since=\(String(repeating: "x", count: 65))").status == 400)
            #expect(try await changes("", as: "not-a-device-token-000").status == 401)
        }
    }
}
