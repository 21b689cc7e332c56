import Foundation
import TestSupport
import Testing

/// `tools/chaos.py`: a real `rollcall-hub serve` on loopback, the device's `rollcall bench sync` killed
/// with SIGKILL at random moments while committing and while syncing, then `rollcall sync` drains the
/// rest; every committed event must reach the hub exactly once. (`make chaos KILLS=N` runs it longer.)
struct ChaosTests {
    @Test("SIGKILL during commit and sync, many times: committed = delivered, no duplicate, nothing lost or invented")
    func sigkill() async throws {
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let script = TestResources.packageRoot.appendingPathComponent("tools/chaos.py").path
        let (status, output) = try await runProcess(
            "/usr/bin/env", ["python3", script, "chaos", "--kills", "6", "--bin", binaries])
        let last = output.split(separator: "\n").last.map(String.init) ?? ""
        #expect(status == 0, "\(output)")
        let fields = Dictionary(
            uniqueKeysWithValues: last.split(separator: " ").compactMap { pair -> (String, Int)? in
                let parts = pair.split(separator: "=")
                return parts.count == 2 ? (String(parts[0]), Int(parts[1]) ?? -1) : nil
            })
        #expect((fields["committed"] ?? 0) > 0, "\(last)")
        #expect(fields["delivered"] == fields["committed"], "\(last)")
        #expect(fields["duplicates"] == 0 && fields["lost"] == 0 && fields["invented"] == 0, "\(last)")
    }
}

/// Runs a program to its end off the cooperative pool; returns its status and its output and errors.
func runProcess(_ executable: String, _ arguments: [String]) async throws -> (Int32, String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(
                with: Result {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: executable)
                    process.arguments = arguments
                    let pipe = Pipe()
                    process.standardOutput = pipe
                    process.standardError = pipe
                    try process.run()
                    let data = pipe.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
                })
        }.start()
    }
}
