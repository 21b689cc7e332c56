import Foundation
import Hub
import TestSupport
import Testing

/// `rollcall-hub seed`: a district made through the hub's own import and ingest rules, on both stores.
struct HubSeedTests {
    /// A small district: 2 schools of 60 students in groups of 20, 2 weeks, 3 volunteers each.
    static let arguments = [
        "--schools", "2", "--students-per-school", "60", "--group-size", "20", "--weeks", "2",
        "--volunteers-per-school", "3", "--seed", "7",
    ]

    /// The store `db` names (a SQLite file or a postgres:// URL), with the seed's key.
    func open(_ db: String, key: String) async throws -> any HubStorage {
        try await HubStores.open(db, dataKeyFile: key, environment: [:], maximumConnections: 2)
    }

    @Test(
        "seed fills a district whose reports read like a school's: every register taken, a few late, absent and excused",
        arguments: StoreKind.available)
    func aDistrict(store kind: StoreKind) async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = folder.appendingPathComponent("data.key").path
        _ = FileManager.default.createFile(
            atPath: key, contents: Data((0..<32).map { _ in UInt8.random(in: 0...255) }),
            attributes: [.posixPermissions: 0o600])
        let db =
            kind == .sqlite
            ? folder.appendingPathComponent("district.sqlite").path : try PostgresCluster.shared().database()
        let run = try await runRollcall(
            ["seed", "--db", db, "--data-key-file", key] + Self.arguments, executable: "rollcall-hub")
        #expect(run.status == 0, "\(run.err)")
        #expect(run.err.contains("school 2 of 2") && run.err.contains("done:"), "progress lines: \(run.err)")
        let last = try #require(run.out.split(separator: "\n").last)
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        // 2 schools x 3 groups x 5 days x 2 weeks x 2 registers.
        #expect(summary["sessions"] as? Int == 120 && summary["students"] as? Int == 120)

        let store = try await open(db, key: key)
        let stored = try await store.receivedEventCount()
        #expect(stored == summary["events"] as? Int)
        // 2,400 places on registers, about 4 % absent; each volunteer 2 visits a week of 2 events.
        let checkins = stored - 2 * 3 * 2 * 2 * 2
        #expect((2_200...2_380).contains(checkins), "\(checkins) check-ins")

        let first = try #require(summary["first_day"] as? String)
        let from = try #require(ISO8601DateFormatter().date(from: first + "T00:00:00Z"))
        let group = try await store.groupReport("s01-g002", from: from, to: from + 14 * 86_400, now: Date())
        #expect(group.sessions.count == 20 && group.people.count == 20)
        #expect(group.people.allSatisfy { $0.present + $0.late + $0.absent + $0.excused == 20 })
        #expect(group.people.allSatisfy { $0.name?.isEmpty == false }, "names come from the sealed records")
        let (late, excused, absent) = group.people.reduce((0, 0, 0)) {
            ($0.0 + $1.late, $0.1 + $1.excused, $0.2 + $1.absent)
        }
        #expect(
            late > 0 && late < 60 && excused + absent > 0 && excused + absent < 60,
            "\(late) late, \(excused) excused, \(absent) absent")
        let hours = try await store.volunteerHours(from: from, to: from + 14 * 86_400)
        #expect(Set(hours.weeks.map(\.person)).count == 6, "every volunteer came")
        if let postgres = store as? PostgresHubStorage { await postgres.close() }

        // A database that holds events is not seeded again.
        let again = try await runRollcall(
            ["seed", "--db", db, "--data-key-file", key] + Self.arguments, executable: "rollcall-hub")
        #expect(again.status != 0 && again.err.contains("already holds \(stored) events"), "\(again.err)")
    }

    @Test("the same --seed makes the same district: the same names, arrivals and excuses")
    func sameSeedSameDistrict() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        var reports: [String] = []
        for copy in ["a", "b"] {
            let db = folder.appendingPathComponent("\(copy).sqlite").path
            let run = try await runRollcall(["seed", "--db", db] + Self.arguments, executable: "rollcall-hub")
            #expect(run.status == 0, "\(run.err)")
            let csv = try await runRollcall(
                [
                    "report", "group", "s02-g003", "--db", db, "--from", "2000-01-01T00:00:00Z", "--to",
                    "2100-01-01T00:00:00Z", "--format", "csv",
                ], executable: "rollcall-hub")
            #expect(csv.status == 0 && csv.out.split(whereSeparator: \.isNewline).count == 21, "\(csv.out)\(csv.err)")
            reports.append(csv.out)
        }
        #expect(reports[0] == reports[1])
    }

    @Test("bench load --nginx refuses a configuration it cannot put in front of the hubs, and says what is missing")
    func nginxConfigurationOfAnotherShape() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let configuration = folder.appendingPathComponent("site.conf")
        try Data("server { listen 8443 ssl; location / { proxy_pass http://127.0.0.1:9; } }\n".utf8).write(
            to: configuration)
        let run = try await runRollcall(
            [
                "bench", "load", "--db", folder.appendingPathComponent("hub.sqlite").path, "--devices", "1",
                "--students", "2", "--sessions-per-room", "1", "--seconds", "1", "--readers", "0",
                "--nginx", configuration.path,
            ], executable: "rollcall-hub")
        #expect(run.status != 0)
        #expect(
            run.err.contains("lacks what the load test replaces: upstream, http, https, key, certificate"), "\(run.err)"
        )
    }
}
