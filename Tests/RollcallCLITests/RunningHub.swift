import Foundation
import FoundationNetworking
import TestSupport
import Testing

/// The folder of the built executables: beside the test runner.
let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()

/// A program started in the background whose standard output is read line by line on a thread of its own
/// (blocking reads never hold one of the cooperative threads); its errors go to a file.
///
/// `@unchecked Sendable`: after `init`, the `Process` is only signalled and waited for, which it allows from
/// any thread, and the lines come through an `AsyncStream`, which is `Sendable`.
final class BackgroundProcess: @unchecked Sendable {
    let process: Process
    private let lines: AsyncStream<String>

    /// Starts `executable` (a name in `binaries`) with `arguments`; its standard error is appended to `log`.
    init(_ executable: String, _ arguments: [String], log: URL) throws {
        let process = Process()
        process.executableURL = binaries.appendingPathComponent(executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        // Made when missing (a second process appends to the first one's log); opening it says when that failed.
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        let errors = try FileHandle(forWritingTo: log)
        errors.seekToEndOfFile()
        process.standardError = errors
        let (lines, continuation) = AsyncStream<String>.makeStream()
        try process.run()
        let reader = out.fileHandleForReading
        Thread {
            var pending = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                pending += chunk
                while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    continuation.yield(String(decoding: pending[pending.startIndex..<end], as: UTF8.self))
                    pending = Data(pending[(end + 1)...])
                }
            }
            if !pending.isEmpty { continuation.yield(String(decoding: pending, as: UTF8.self)) }
            continuation.finish()
        }.start()
        self.process = process
        self.lines = lines
    }

    /// The first line of output `matching` takes, or nil when the output ends or `seconds` pass first.
    func line(within seconds: Double, where matching: @escaping @Sendable (String) -> Bool) async -> String? {
        let lines = self.lines
        return await withDeadline(seconds) {
            for await line in lines where matching(line) { return line }
            return nil
        }
    }

    /// Sends `signal` to the process (nothing when it has ended).
    func send(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for the process to end, on a thread of its own; its exit status (or the signal that ended it).
    func wait() async -> Int32 {
        let process = self.process
        return await withCheckedContinuation { continuation in
            Thread {
                process.waitUntilExit()
                continuation.resume(returning: process.terminationStatus)
            }.start()
        }
    }
}

/// A real `rollcall-hub serve` on loopback (`--port 0`) with a fresh database in `folder`, its admin token
/// in a file only this user reads (as the hub requires). Its address is what it prints once listening.
struct RunningHub: Sendable {
    static let adminToken = "tests-admin-token-0123456789abcdef"
    let process: BackgroundProcess
    let url: String
    let database: URL

    /// Starts the hub; `arguments` are added to `serve`'s.
    static func start(in folder: URL, arguments: [String] = []) async throws -> RunningHub {
        let database = folder.appendingPathComponent("hub.sqlite")
        let tokenFile = folder.appendingPathComponent("hub.admin-token")
        try #require(
            FileManager.default.createFile(
                atPath: tokenFile.path, contents: Data((adminToken + "\n").utf8),
                attributes: [.posixPermissions: 0o600]))
        let process = try BackgroundProcess(
            "rollcall-hub",
            ["serve", "--db", database.path, "--port", "0", "--admin-token-file", tokenFile.path] + arguments,
            log: folder.appendingPathComponent("hub.log"))
        let line = await process.line(within: 60) { $0.contains("listening on") }
        guard let url = line?.split(separator: " ").last.map(String.init) else {
            process.send(SIGKILL)
            _ = await process.wait()
            let log = (try? String(contentsOf: folder.appendingPathComponent("hub.log"), encoding: .utf8)) ?? ""
            throw HubStartError(log: String(log.suffix(2000)))
        }
        return RunningHub(process: process, url: url, database: database)
    }

    /// The hub did not say it was listening.
    struct HubStartError: Error, CustomStringConvertible {
        var log: String
        var description: String { "rollcall-hub serve did not start listening; its log ends:\n\(log)" }
    }

    /// Stops the hub with SIGTERM, as systemd does, and waits for it; its exit status.
    @discardableResult
    func stop() async -> Int32 {
        process.send(SIGTERM)
        return await process.wait()
    }

    /// One request; the status and the body. `body` is sent as it is (JSON, or CSV for the timetable).
    func call(_ method: String, _ path: String, token: String?, body: Data? = nil) async throws -> (Int, Data) {
        var request = URLRequest(url: try #require(URL(string: url + path)))
        request.httpMethod = method
        request.timeoutInterval = 30
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// An admin API call (`/api/v1/admin` + `path`) that must succeed; its JSON body.
    @discardableResult
    func admin(_ method: String, _ path: String, _ json: String? = nil) async throws -> Data {
        let (status, data) = try await call(
            method, "/api/v1/admin" + path, token: Self.adminToken, body: json.map { Data($0.utf8) })
        try #require(status == 200, "\(method) \(path): \(status) \(String(decoding: data, as: UTF8.self))")
        return data
    }

    /// The id of every event the hub stored from `device`, one per stored row (a duplicate would appear
    /// twice), read page by page from `GET /api/v1/admin/devices/ID/events`.
    func receivedIDs(device: String) async throws -> [String] {
        struct Page: Decodable {
            struct Event: Decodable { var id: String }
            var events: [Event]
            var next: String?
        }
        var ids: [String] = []
        var after: String?
        repeat {
            let query = "?limit=10000" + (after.map { "&after=\($0)" } ?? "")
            let page = try JSONDecoder().decode(
                Page.self, from: try await admin("GET", "/devices/\(device)/events\(query)"))
            ids += page.events.map(\.id)
            after = page.next
        } while after != nil
        return ids
    }
}

/// The events of a door's outbox as `rollcall outbox list --json` lists them.
struct OutboxListing: Decodable {
    struct Event: Decodable {
        var id, kind, person, state: String
        var session: String?
    }
    var events: [Event]
    var counts: [String: Int]

    /// Runs `rollcall outbox list --json` on `outbox`.
    static func read(_ outbox: String) async throws -> OutboxListing {
        let result = try await runRollcall(["outbox", "list", "--json", "--outbox", outbox])
        try #require(result.status == 0, "rollcall outbox list: \(result.err)")
        return try JSONDecoder().decode(OutboxListing.self, from: Data(result.out.utf8))
    }
}
