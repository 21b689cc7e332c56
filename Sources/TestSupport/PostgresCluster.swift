public import Foundation
import Synchronization

/// A throwaway PostgreSQL cluster for the tests: Debian's server binaries (`postgresql-15`), a new data
/// folder in the temporary directory, a Unix socket only (no TCP port), trust authentication for its
/// one user. Made once per test process, on first use, and stopped when the process ends (a watcher
/// beside the server stops it when the test process is gone, however it ended). As root it runs as
/// the `postgres` user: the server refuses to run as root.
public final class PostgresCluster: Sendable {
    /// The folder holding the data folder and the socket.
    public let folder: URL
    /// Where the socket is.
    public let socketFolder: String
    private let counter = Mutex(0)

    /// Whether tests that need PostgreSQL should run: its server is installed, or this is CI (and it must be).
    public static var enabled: Bool { TestResources.isCI || binaries() != nil }

    /// The cluster of this test process, started on first use.
    public static func shared() throws -> PostgresCluster {
        try started.withLock { cluster in
            if let cluster { return cluster }
            let made = try PostgresCluster()
            cluster = made
            return made
        }
    }

    private static let started = Mutex<PostgresCluster?>(nil)

    /// The folder of Debian's server binaries (`/usr/lib/postgresql/VERSION/bin`), the newest.
    static func binaries() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.compactMap(Int.init).sorted().last.map { "\(root)/\($0)/bin" }
            .flatMap { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") ? $0 : nil }
    }

    private init() throws {
        guard let bin = Self.binaries() else {
            throw ClusterError(
                "no PostgreSQL server: install Debian's postgresql-15 (tools/install-deps.sh does)")
        }
        folder = try TestResources.temporaryDirectory()
        socketFolder = folder.path
        let data = folder.appendingPathComponent("data").path
        let user = getuid() == 0 ? "postgres" : nil
        if let user {
            // The server's user must own its folder; the tests (root) reach the socket anyway.
            try Self.run("/bin/chown", [user, folder.path])
        }
        try Self.run(
            bin + "/initdb", ["-D", data, "-U", "rollcall", "-A", "trust", "-E", "UTF8", "--no-sync"], as: user)
        // The server and a watcher: when the test process (this one) is gone, the server is stopped.
        let parent = getpid()
        let options =
            "-c listen_addresses='' -c unix_socket_directories='\(socketFolder)' -c fsync=off -c dynamic_shared_memory_type=mmap "
            + "-c max_connections=300 -c shared_buffers=128MB"
        // The server and the watcher outlive this script: they must not keep any descriptor of this
        // process (Foundation learns that a child ended when its descriptors close), so each closes
        // every descriptor above 2 first.
        let closeAll = #"for fd in /proc/$BASHPID/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done"#
        let script = """
            ( \(closeAll) 2>/dev/null
              exec \(bin)/pg_ctl -D '\(data)' -l '\(folder.path)/server.log' -w -o "\(options)" start >/dev/null ) || exit 1
            ( \(closeAll) 2>/dev/null
              while [ -e /proc/\(parent) ]; do sleep 1; done
              \(bin)/pg_ctl -D '\(data)' -m immediate stop ) </dev/null >/dev/null 2>&1 &
            """
        do {
            try Self.run("/bin/bash", ["-c", script], as: user)
        } catch {
            let log = (try? String(contentsOfFile: folder.path + "/server.log", encoding: .utf8)) ?? ""
            throw ClusterError("the test PostgreSQL server did not start: \(error)\n\(log.suffix(2000))")
        }
        try Self.run(
            bin + "/createdb", ["-h", socketFolder, "-U", "rollcall", "rollcall"], as: user)
    }

    /// A new, empty database in the cluster; its URL for `rollcall-hub --db`.
    public func database() throws -> String {
        let number = counter.withLock { count -> Int in
            count += 1
            return count
        }
        let name = "test_\(getpid())_\(number)"
        guard let bin = Self.binaries() else { throw ClusterError("no PostgreSQL server") }
        try Self.run(
            bin + "/createdb", ["-h", socketFolder, "-U", "rollcall", name], as: getuid() == 0 ? "postgres" : nil)
        return url(name)
    }

    /// What `psql` prints for `sql` in the database at `url` (unaligned, tuples only).
    public func query(_ url: String, _ sql: String) throws -> String {
        guard let bin = Self.binaries() else { throw ClusterError("no PostgreSQL server") }
        return try Self.run(bin + "/psql", [url, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
    }

    /// The URL of database `name` in the cluster.
    public func url(_ name: String) -> String { "postgres://rollcall@localhost/\(name)?host=\(socketFolder)" }

    /// Runs a program to its end; throws with its output when it fails. With `user`, as that user (runuser).
    @discardableResult
    static func run(_ program: String, _ arguments: [String], as user: String? = nil) throws -> String {
        let process = Process()
        if let user {
            process.executableURL = URL(fileURLWithPath: "/sbin/runuser")
            process.arguments = ["-u", user, "--", program] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = arguments
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ClusterError(
                "\(program) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): "
                    + String(decoding: text, as: UTF8.self))
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// The test cluster could not be made.
public struct ClusterError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
