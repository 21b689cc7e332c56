import Foundation
import Hub
import HubServer
import SyncProtocol
import TestSupport
import Testing

/// The door alerts page: the office sees every alert, a teacher those about students of the groups they
/// teach, nobody else; in the app's layout, with table headers, names linked where the person page is theirs.
struct DoorAlertWebTests {
    static func alert(_ name: String, _ person: String?, minutesAgo: Double) -> DoorAuditEvent {
        DoorAuditEvent(
            id: eventUUID(name), kind: "presentation_attack", at: Date() - minutesAgo * 60, reason: "planar_motion",
            claimedPerson: person, scores: ["planarity": 0.0123, "appearance": 0.8])
    }

    /// The claimed person of each row of the alerts table, top to bottom ("?" for one the hub does not know).
    static func rows(_ text: String) -> [String] {
        text.components(separatedBy: "<tr><td>").dropFirst().map { row in
            for id in ["p-1", "p-6"] where row.contains(">\(id)<") { return id }
            return row.contains("someone the hub does not know") ? "?" : "-"
        }
    }

    @Test("the office sees every alert, newest first; a teacher only those of their groups; others get 403")
    func scoping() async throws {
        for kind in StoreKind.available {
            try await WebAppTests.withHub(kind) { store, port in
                let door = DeviceRecord(id: "door-b12", room: "B12")
                // p-1 is in 7B (Lovelace's), p-6 in 8A (Turing's); "ghost" is nobody the hub knows.
                _ = try await store.recordDoorAlerts(
                    DoorAuditBatch(events: [
                        Self.alert("a-1", "p-1", minutesAgo: 30), Self.alert("a-2", "p-6", minutesAgo: 20),
                        Self.alert("a-3", "ghost", minutesAgo: 10),
                    ]), from: door, receivedAt: Date())
                let expected: [String: [String]] = [
                    "root": ["?", "p-6", "p-1"], "sec": ["?", "p-6", "p-1"], "assist": ["?", "p-6", "p-1"],
                    "lovelace": ["p-1"], "turing": ["p-6"],
                ]
                for username in ["root", "sec", "assist", "lovelace", "turing", "mentor7b", "pupil", "helper"] {
                    let browser = Browser(port: port)
                    #expect(try await browser.signIn(username, password(username)).status == 303)
                    let page = try await browser.get("/alerts")
                    let start = try await browser.get(username == "pupil" || username == "helper" ? "/me" : "/")
                    guard let rows = expected[username] else {
                        #expect(page.status == 403, "\(kind) \(username)")
                        #expect(!page.text.contains("p-1") && !page.text.contains("planar"))
                        #expect(!start.text.contains("href=\"/alerts\""), "\(username) has no link to it")
                        continue
                    }
                    #expect(page.status == 200, "\(kind) \(username)")
                    #expect(start.text.contains("href=\"/alerts\""), "\(username) has a link to it")
                    #expect(Self.rows(page.text) == rows, "\(kind) \(username)")
                    #expect(page.text.contains("A photo or screen was held up to the camera"))
                    #expect(page.text.contains("<h1>Door alerts</h1>") && page.text.contains(#"<th scope="col">"#))
                    #expect(page.text.contains("B12") && page.text.contains("planar motion"))
                    #expect(page.text.contains("appearance 0.800, planarity 0.012"))
                    // Only those who keep people's records get a link to the person's page.
                    let linked = page.text.contains(#"href="/people/"#)
                    #expect(linked == ["root", "sec"].contains(username), "\(username) links")
                }
                // Reading the alerts is in the audit trail.
                let audited = try await store.auditEntries(from: Date() - 600, to: Date() + 60, limit: 1000)
                #expect(
                    audited.contains {
                        $0.action == "view" && $0.subject == "door-alerts" && $0.actor.contains("lovelace")
                    })
            }
        }
    }
}
