import ArgumentParser
import AsyncHTTPClient
import Attendance
import Foundation
import NIOCore
import NIOHTTP1

/// A throwaway hub for `rollcall bench sync --serve-hub`: `rollcall-hub serve` (beside this executable) on
/// loopback with a new database in a temporary folder, set up through its admin API with what the bench
/// checks in: room B12, the device, the students p-0 … p-9 (consented, one template each) and the session
/// s-bench, running now.
struct BenchHub {
    let process: Process
    let folder: URL
    let url: String
    let deviceToken = "bench-device-token-" + UUID().uuidString
    private let adminToken = "bench-admin-token-" + UUID().uuidString

    /// Starts and sets up the hub; throws with the hub's own words when it does not start.
    init(deviceID: String) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("rollcall-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let tokenFile = folder.appendingPathComponent("admin-token")
        // The hub takes its admin token only from a file no one else may read.
        guard
            FileManager.default.createFile(
                atPath: tokenFile.path, contents: Data(adminToken.utf8), attributes: [.posixPermissions: 0o600])
        else { throw ValidationError("cannot write the hub's admin token into \(folder.path)") }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("rollcall-hub")
        let process = Process()
        process.executableURL = executable
        process.arguments = [
            "serve", "--db", folder.appendingPathComponent("hub.sqlite").path, "--port", "0", "--admin-token-file",
            tokenFile.path,
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ValidationError("cannot start \(executable.path): \(error)")
        }
        self.process = process
        // The first line says where it listens; read on a thread of its own (a blocking read).
        let line = await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            Thread {
                var data = Data()
                while !data.contains(UInt8(ascii: "\n")) {
                    let chunk = out.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    data += chunk
                }
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }.start()
        }
        guard line.contains("listening on"), let address = line.split(separator: " ").last else {
            process.terminate()
            throw ValidationError("rollcall-hub serve did not start: \(line)")
        }
        url = address.trimmingCharacters(in: .whitespacesAndNewlines)
        try await provision(deviceID: deviceID)
    }

    private func provision(deviceID: String) async throws {
        try await admin("/rooms", #"{"id": "B12", "timezone": "UTC"}"#)
        try await admin(
            "/devices", #"{"id": \#(JSONLine.encode(deviceID)), "room": "B12", "token": "\#(deviceToken)"}"#)
        let encoding = [String](repeating: "0.01", count: 128).joined(separator: ",")
        for index in 0..<10 {
            try await admin(
                "/people",
                #"{"id": "p-\#(index)", "name": "P\#(index)", "role": "student", "groups": [], "templates": [{"encoding": [\#(encoding)]}], "consent": {"state": "granted", "given_by": "guardian", "evidence": "bench"}}"#
            )
        }
        let now = Date()
        let roster = (0..<10).map { "\"p-\($0)\"" }.joined(separator: ",")
        try await admin(
            "/sessions",
            #"{"room": "B12", "sessions": [{"id": "s-bench", "group": "7B", "start": "\#(ISO8601Time.format(now - 600))", "end": "\#(ISO8601Time.format(now + 3 * 3600))", "roster": [\#(roster)]}]}"#
        )
    }

    private func admin(_ path: String, _ json: String) async throws {
        var request = HTTPClientRequest(url: url + "/api/v1/admin" + path)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(adminToken)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            throw ValidationError("the bench hub refused POST \(path): \(response.status) \(String(buffer: body))")
        }
    }

    /// Stops the hub (SIGTERM) and removes its folder.
    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }
}
