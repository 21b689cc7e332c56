import Foundation
import TestSupport
import Testing

/// Issue 5's chaos test: a real `rollcall-hub serve` on loopback, the device's `rollcall bench sync` killed
/// with SIGKILL at random moments once it has begun committing (so kills land while committing and while
/// syncing), then `rollcall sync` drains the rest; every committed event must reach the hub exactly once.
/// What was committed is the outbox as `rollcall outbox list` reads it; what was delivered, the hub's
/// `GET /api/v1/admin/devices/ID/events`. `ROLLCALL_CHAOS_KILLS` sets the number of kills (6 by default;
/// `make chaos KILLS=N`), `ROLLCALL_CHAOS_SEED` the random moments.
struct ChaosTests {
    static let device = "door-b12"
    static let deviceToken = "chaos-device-token-0123456789"

    /// The room, the device, ten consented students p-0 … p-9 with a template each, and a session running
    /// now with all of them on its roster: what `rollcall bench sync` checks them in to.
    static func provision(_ hub: RunningHub) async throws {
        try await hub.admin("POST", "/rooms", #"{"id": "B12", "timezone": "UTC"}"#)
        try await hub.admin("POST", "/devices", #"{"id": "\#(device)", "room": "B12", "token": "\#(deviceToken)"}"#)
        let encoding = [String](repeating: "0.01", count: 128).joined(separator: ",")
        for index in 0..<10 {
            try await hub.admin(
                "POST", "/people",
                #"{"id": "p-\#(index)", "name": "P\#(index)", "role": "student", "groups": [], "templates": [{"encoding": [\#(encoding)]}], "consent": {"state": "granted", "given_by": "guardian", "evidence": "chaos test"}}"#
            )
        }
        let now = Date()
        let roster = (0..<10).map { "\"p-\($0)\"" }.joined(separator: ",")
        try await hub.admin(
            "POST", "/sessions",
            #"{"room": "B12", "sessions": [{"id": "s-bench", "group": "7B", "start": "\#((now - 600).formatted(.iso8601))", "end": "\#((now + 3 * 3600).formatted(.iso8601))", "roster": [\#(roster)]}]}"#
        )
    }

    @Test("SIGKILL during commit and sync, many times: committed = delivered, no duplicate, nothing lost or invented")
    func sigkill() async throws {
        let environment = ProcessInfo.processInfo.environment
        let kills = environment["ROLLCALL_CHAOS_KILLS"].flatMap { Int($0) } ?? 6
        let seed = environment["ROLLCALL_CHAOS_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        let folder = try TestResources.temporaryDirectory()
        let hub = try await RunningHub.start(in: folder)
        let outbox = folder.appendingPathComponent("outbox.sqlite").path
        let deviceArguments = [
            "--hub", hub.url, "--token", Self.deviceToken, "--device-id", Self.device, "--outbox", outbox,
        ]
        var failed = true
        do {
            try await Self.provision(hub)
            var killedRunning = 0
            for kill in 1...kills {
                let run = try BackgroundProcess(
                    "rollcall", ["bench", "sync", "--events", "3000", "--progress"] + deviceArguments,
                    log: folder.appendingPathComponent("device.log"))
                // Kill only once this run has begun committing (a slow start under load must not make every
                // kill land before the first commit), then at a random moment of committing or syncing.
                let began = await run.line(within: 60) { $0.hasPrefix("committed ") }
                try await Task.sleep(for: .milliseconds(Int(random.next() % 1001)))
                let wasRunning = run.process.isRunning
                run.send(SIGKILL)
                let status = await run.wait()
                #expect(began != nil, "kill \(kill): the device committed nothing within 60 s (seed \(seed))")
                if wasRunning && status == SIGKILL && run.process.terminationReason == .uncaughtSignal {
                    killedRunning += 1
                }
            }
            #expect(killedRunning > 0, "no run was still running when its kill came (seed \(seed))")
            let drain = try await runRollcall(["sync", "--seconds", "120"] + deviceArguments)
            #expect(drain.status == 0 && drain.out.contains("pending 0"), "\(drain.out)\(drain.err)")
            let listing = try await OutboxListing.read(outbox)
            let committed = Set(listing.events.map(\.id))
            let delivered = try await hub.receivedIDs(device: Self.device)
            let arrived = Set(delivered)
            let summary =
                "committed=\(committed.count) delivered=\(arrived.count) duplicates=\(delivered.count - arrived.count) "
                + "lost=\(committed.subtracting(arrived).count) invented=\(arrived.subtracting(committed).count)"
            print("chaos: \(kills) kills, \(killedRunning) while running, seed \(seed)")
            print(summary)
            #expect(committed.count == listing.events.count, "the outbox lists an id twice: \(summary)")
            #expect(!committed.isEmpty, "\(summary)")
            #expect(delivered.count == arrived.count, "duplicates: \(summary)")
            #expect(committed == arrived, "lost or invented: \(summary) (seed \(seed))")
            #expect(
                listing.events.allSatisfy { $0.state == "synced" }, "the door knows them delivered: \(listing.counts)")
            failed = false
        } catch {
            await hub.stop()
            throw error
        }
        #expect(await hub.stop() == 0, "the hub exits 0 on SIGTERM")
        if !failed { try? FileManager.default.removeItem(at: folder) }
    }
}
