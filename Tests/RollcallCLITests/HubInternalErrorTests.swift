import Foundation
import GRDB
import TestSupport
import Testing

/// The hub under attack, its ninth finding (README, "Trust model"), on a real `rollcall-hub serve`: a
/// failure of the hub's own answers 500 with a reference and names nothing internal, and the hub goes on
/// answering. (tools/attack.py tries the rest of that finding; a tool does not open the hub's database.)
struct HubInternalErrorTests {
    @Test("a real hub whose database breaks underneath answers 500 with a reference and nothing internal, then goes on")
    func brokenDatabase() async throws {
        let folder = try TestResources.temporaryDirectory()
        let hub = try await RunningHub.start(in: folder)
        do {
            let deviceToken = "internal-error-device-token-0123"
            try await hub.admin("POST", "/rooms", #"{"id": "B12", "timezone": "UTC"}"#)
            try await hub.admin("POST", "/devices", #"{"id": "door-b12", "room": "B12", "token": "\#(deviceToken)"}"#)
            let now = Date()
            try await hub.admin(
                "POST", "/sessions",
                #"{"room": "B12", "sessions": [{"id": "s-1", "group": "7B", "start": "\#((now - 600).formatted(.iso8601))", "end": "\#((now + 600).formatted(.iso8601))", "roster": []}]}"#
            )
            let report = "/api/v1/reports/sessions/s-1"
            #expect(try await hub.call("GET", report, token: RunningHub.adminToken).0 == 200)
            // The check-ins table is gone underneath the running hub.
            try await DatabaseQueue(path: hub.database.path).write { db in
                try db.execute(sql: "DROP TABLE checkinRecord")
            }
            let (status, body) = try await hub.call("GET", report, token: RunningHub.adminToken)
            let text = String(decoding: body, as: UTF8.self)
            #expect(status == 500 && text.contains("reference"), "\(status) \(text)")
            for leak in ["checkinRecord", "no such table", "SQLite", "sqlite", "GRDB", hub.database.path, folder.path] {
                #expect(!text.contains(leak), "the 500 names \(leak): \(text)")
            }
            #expect(try await hub.call("GET", "/api/v1/device/manifest", token: deviceToken).0 == 200)
            #expect(hub.process.process.isRunning, "the hub goes on running")
        } catch {
            await hub.stop()
            throw error
        }
        #expect(await hub.stop() == 0)
        try? FileManager.default.removeItem(at: folder)
    }
}
