import AsyncHTTPClient
import Foundation
import Glibc
import NIOCore
import NIOHTTP1

/// nginx run on loopback in front of the load test's hubs, from the deployment's own configuration
/// file: its upstream servers, listen addresses and certificate are replaced with the test's, the rest
/// (TLS, body limits, timeouts, retries) is used as written.
struct NginxFront {
    let process: Process
    /// https://127.0.0.1:PORT
    let url: String
    /// The self-signed certificate nginx serves (for the client's trust roots).
    let certificate: String

    /// Starts nginx with `configuration` rewritten for `hubs` (http://HOST:PORT each) in `folder`.
    static func start(configuration: String, hubs: [String], folder: URL) throws -> NginxFront {
        guard
            let binary = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else {
            throw LoadError("nginx is not installed (tools/install-deps.sh installs Debian's nginx)")
        }
        guard let text = try? String(contentsOfFile: configuration, encoding: .utf8) else {
            throw LoadError("cannot read the nginx configuration \(configuration)")
        }
        let base = folder.appendingPathComponent("nginx")
        let temporary = base.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        // nginx's workers run as nobody when it is started by root: they write large bodies here.
        try FileManager.default.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: temporary.path)
        let certificate = base.appendingPathComponent("cert.pem").path
        let key = base.appendingPathComponent("key.pem").path
        try run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
            ])
        let (plain, secure) = (try freePort(), try freePort())
        let site = try rewrite(text, hubs: hubs, plain: plain, secure: secure, certificate: certificate, key: key)
        try site.write(to: base.appendingPathComponent("rollcall-hub.conf"), atomically: true, encoding: .utf8)
        let main = """
            worker_processes 1;
            pid \(base.path)/nginx.pid;
            error_log \(base.path)/error.log warn;
            daemon off;
            events { worker_connections 8192; }
            http {
                access_log off;
                client_body_temp_path \(temporary.path)/body;
                proxy_temp_path \(temporary.path)/proxy;
                fastcgi_temp_path \(temporary.path)/fastcgi;
                uwsgi_temp_path \(temporary.path)/uwsgi;
                scgi_temp_path \(temporary.path)/scgi;
                include \(base.path)/rollcall-hub.conf;
            }

            """
        let mainFile = base.appendingPathComponent("nginx.conf").path
        try main.write(toFile: mainFile, atomically: true, encoding: .utf8)
        let log = base.appendingPathComponent("error.log").path
        try run(binary, ["-t", "-q", "-p", base.path, "-e", log, "-c", mainFile])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-p", base.path, "-e", log, "-c", mainFile]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return NginxFront(process: process, url: "https://127.0.0.1:\(secure)", certificate: certificate)
    }

    /// The site configuration with the test's hubs, ports and certificate; throws when a part it must
    /// replace is not there (the file changed shape).
    static func rewrite(
        _ text: String, hubs: [String], plain: Int, secure: Int, certificate: String, key: String
    ) throws -> String {
        var lines: [String] = []
        var found: Set<String> = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let indent = String(line.prefix { $0 == " " })
            if trimmed.hasPrefix("server ") && trimmed.contains("max_fails") {
                // The upstream's servers: the first one's line gives the options, one line per hub.
                if !found.contains("upstream") {
                    let options = trimmed.split(separator: " ").dropFirst(2).joined(separator: " ")
                    for hub in hubs {
                        let address = hub.replacingOccurrences(of: "http://", with: "")
                        lines.append("\(indent)server \(address) \(options)")
                    }
                    found.insert("upstream")
                }
            } else if trimmed.hasPrefix("listen [::]:") {
                continue  // loopback over IPv4 only
            } else if trimmed == "listen 80;" {
                lines.append("\(indent)listen 127.0.0.1:\(plain);")
                found.insert("http")
            } else if trimmed.hasPrefix("listen 443 ") {
                lines.append("\(indent)listen 127.0.0.1:\(secure) " + trimmed.dropFirst("listen 443 ".count))
                found.insert("https")
            } else if trimmed.hasPrefix("ssl_certificate_key ") {
                lines.append("\(indent)ssl_certificate_key \(key);")
                found.insert("key")
            } else if trimmed.hasPrefix("ssl_certificate ") {
                lines.append("\(indent)ssl_certificate \(certificate);")
                found.insert("certificate")
            } else if trimmed.hasPrefix("ssl_session_cache shared:") {
                continue  // shared memory zones by name: a second nginx on the machine may hold the same
            } else {
                lines.append(String(line))
            }
        }
        let missing = ["upstream", "http", "https", "key", "certificate"].filter { !found.contains($0) }
        guard missing.isEmpty else {
            throw LoadError(
                "the nginx configuration lacks what the load test replaces: \(missing.joined(separator: ", "))")
        }
        return lines.joined(separator: "\n")
    }

    /// Waits until nginx answers the hubs' health check over TLS (10 s at most).
    func waitUntilReady(_ client: HTTPClient) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if process.isRunning,
                let response = try? await client.execute(
                    HTTPClientRequest(url: url + "/healthz"), timeout: .seconds(2)),
                response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw LoadError("nginx did not answer at \(url) within 10 s")
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    static func run(_ binary: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let said = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LoadError("\(binary) \(arguments.first ?? "") failed: \(String(decoding: said, as: UTF8.self))")
        }
    }

    /// A loopback TCP port nobody listens on now.
    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw LoadError("no socket: errno \(errno)") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(socket, raw, length) == 0 && getsockname(socket, raw, &length) == 0
            }
        }
        guard bound else { throw LoadError("cannot bind a loopback port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A load test that cannot run, and why.
struct LoadError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
