import ArgumentParser
import AsyncHTTPClient
import Foundation
import Kiosk
import NIOCore
import NIOHTTP1

/// `rollcall status`: what the running daemon says about itself.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Ask the running daemon how the door stands.",
        discussion: """
            Camera state, fps and drops, the pipeline, gallery version and size, queue depth, last sync and \
            clock offset, uptime, and the session running now. It asks the daemon's page on \
            127.0.0.1:signage.port (from the configuration, or --port). Exits 3 when no daemon answers.
            """
    )

    @Option(help: ArgumentHelp("The daemon's configuration file (for signage.port).", valueName: "path"))
    var config = "/etc/rollcall/rollcall.toml"

    @Option(help: "The signage page's port (instead of reading the configuration).")
    var port: Int?

    @Flag(help: "The status as one JSON object.")
    var json = false

    func run() async throws {
        let port: Int
        if let chosen = self.port {
            port = chosen
        } else {
            do {
                port = try KioskConfiguration.load(path: config).signagePort
            } catch {
                printError("\(config): \(error) (or give --port)")
                throw ExitCode(EX_CONFIG)
            }
        }
        guard let (status, raw) = await Self.fetch(port: port) else {
            printError(
                "rollcall is not running: nothing answers on 127.0.0.1:\(port); see `systemctl status rollcall` and `journalctl -u rollcall`"
            )
            throw ExitCode(3)
        }
        if json {
            printLine(raw)
            return
        }
        for line in Self.describe(status) { printLine(line) }
    }

    /// The daemon's `/status`, or nil when nothing answers there.
    static func fetch(port: Int) async -> (KioskStatus, String)? {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/status")
        request.method = .GET
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(3)),
            response.status == .ok,
            let body = try? await response.body.collect(upTo: 1 << 20),
            let status = try? JSONDecoder().decode(KioskStatus.self, from: Data(body.readableBytesView))
        else { return nil }
        return (status, String(buffer: body))
    }

    static func describe(_ status: KioskStatus) -> [String] {
        func label(_ text: String) -> String { text.padding(toLength: 11, withPad: " ", startingAt: 0) }
        let camera = status.camera
        var lines = [
            "rollcall on \(status.device)\(status.room.map { " (room \($0))" } ?? ""), up \(duration(status.uptimeSeconds))"
        ]
        var cameraLine = "\(camera.state) \(camera.device)"
        if let node = camera.node { cameraLine += " (\(node)\(camera.format.map { ", \($0)" } ?? ""))" }
        cameraLine += String(
            format: ": %.1f fps, %d frames, %d dropped, %d reconnects", camera.fps, camera.frames, camera.drops,
            camera.reconnects)
        if let error = camera.lastError { cameraLine += "; last error: \(error)" }
        lines.append(label("camera") + cameraLine)
        lines.append(
            label("processing")
                + "\(status.processing.frames) frames, \(status.processing.decisions) decisions"
                + (status.processing.lastDecisionAt.map { ", last at \($0)" } ?? ""))
        lines.append(
            label("gallery")
                + "version \(status.gallery.version), \(status.gallery.people) people, \(status.gallery.templates) templates"
        )
        lines.append(
            label("queue")
                + "\(status.queue.pending) waiting for the hub, \(status.queue.synced) synced, \(status.queue.rejected) refused by the hub"
        )
        if let hub = status.sync.hub {
            var hubLine = "\(hub): \(status.sync.online ? "online" : "offline")"
            hubLine += ", last sync \(status.sync.lastSuccess ?? "never")"
            if let offset = status.sync.clockOffsetSeconds {
                hubLine += String(format: ", clock offset %+.2f s", offset)
            }
            if let error = status.sync.lastError, !status.sync.online { hubLine += "; \(error)" }
            lines.append(label("hub") + hubLine)
        } else {
            lines.append(label("hub") + "none configured: events stay in the outbox")
        }
        if let session = status.session {
            lines.append(label("session") + "\(session.group) \(session.start) to \(session.end) (\(session.id))")
        } else {
            lines.append(label("session") + "no class in this room now")
        }
        lines.append(label("health") + (status.problem ?? "ok"))
        return lines
    }

    static func duration(_ seconds: Double) -> String {
        let minutes = Int(seconds / 60)
        if minutes < 1 { return "\(Int(seconds)) s" }
        if minutes < 60 { return "\(minutes) min" }
        if minutes < 1440 { return "\(minutes / 60) h \(minutes % 60) min" }
        return "\(minutes / 1440) d \(minutes % 1440 / 60) h"
    }
}
