import ArgumentParser
import AsyncHTTPClient
import Attendance
import Capture
import Foundation
import Imaging
import Kiosk
import NIOCore
import NIOHTTP1
import Recognition
import Sync
import SyncProtocol
import Vision

/// `rollcall doctor`: checks everything the door needs, each failure with its fix.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the installation: configuration, models, BLAS, camera, permissions, hub, clock, disk.",
        discussion: """
            Each check prints ok, warn or FAIL with what was found and, for a problem, the fix. Exits 1 when \
            a check fails. Run it as the daemon's user to check its permissions: \
            sudo -u rollcall rollcall doctor. While the daemon runs, the camera is checked through it.
            """
    )

    @Option(help: ArgumentHelp("The configuration file.", valueName: "path"))
    var config = "/etc/rollcall/rollcall.toml"

    @OptionGroup var models: ModelOptions

    @Option(help: "Seconds to wait for a camera frame.")
    var timeout = 5

    enum Verdict: String {
        case ok
        case warn = "warn"
        case fail = "FAIL"
    }

    final class Report {
        var failures = 0
        func add(_ verdict: Verdict, _ check: String, _ finding: String, fix: String? = nil) {
            if verdict == .fail { failures += 1 }
            let head = verdict.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)
            printLine("\(head) \(check.padding(toLength: 12, withPad: " ", startingAt: 0)) \(finding)")
            if let fix, verdict != .ok {
                printLine("      \("".padding(toLength: 12, withPad: " ", startingAt: 0)) fix: \(fix)")
            }
        }
    }

    func run() async throws {
        let report = Report()
        // Configuration.
        var settings: KioskConfiguration?
        do {
            settings = try KioskConfiguration.load(path: config)
            report.add(.ok, "config", "\(config) is valid")
        } catch {
            report.add(
                .fail, "config", "\(config): \(error)",
                fix: "edit the key named (see systemd/rollcall.toml), then `rollcall config check \(config)`")
        }
        checkModels(report)
        checkBLAS(report)
        checkMatchKernel(report)
        if let settings, !settings.presentationCheck {
            report.add(
                .warn, "presentation", "recognition.presentation_check is off: a photo of a student checks them in",
                fix: "set presentation_check = true in \(config) (off only for a demonstration with photos)")
        }
        if let settings {
            let running = await StatusCommand.fetch(port: settings.signagePort)?.0
            await checkCamera(settings, running: running, report)
            checkPermissions(settings, report)
            await checkHub(settings, report)
            checkDisk(settings, report)
            if let running {
                report.add(
                    .ok, "daemon",
                    "running on 127.0.0.1:\(settings.signagePort): queue \(running.queue.pending), gallery \(running.gallery.people) people"
                )
            } else {
                report.add(
                    .warn, "daemon", "not running (nothing answers on 127.0.0.1:\(settings.signagePort))",
                    fix: "systemctl enable --now rollcall; then journalctl -u rollcall")
            }
        } else {
            checkClockAlone(report)
        }
        if report.failures > 0 {
            printLine("\(report.failures) check(s) failed")
            throw ExitCode.failure
        }
        printLine("all checks passed")
    }

    private func checkModels(_ report: Report) {
        let locator = ModelLocator(explicitDirectory: models.directory)
        do {
            let directory = try locator.locate()
            try ModelLocator.verify(directory: directory)
            report.add(.ok, "models", "\(directory): both models present, SHA-256 as expected")
        } catch {
            report.add(
                .fail, "models", error.description,
                fix: "sudo make install (or Models/fetch-models.sh --dest /usr/share/rollcall/models)")
        }
    }

    /// The instruction set the matcher's 8-bit search runs on (detected from the CPU at start).
    private func checkMatchKernel(_ report: Report) {
        let best = MatchKernel.best
        let text =
            "matcher kernel \(best.name) (this CPU runs \(MatchKernel.supported.map(\.name).joined(separator: ", ")))"
        if best == .scalar {
            report.add(.warn, "matcher", text + ": no SIMD kernel, large galleries search slowly")
        } else {
            report.add(.ok, "matcher", text)
        }
    }

    /// The BLAS the process actually uses: the library its `sgemm_` resolves to (Debian's alternatives
    /// choose which libblas.so.3 that is).
    private func checkBLAS(_ report: Report) {
        guard let library = FaceModels.blasLibrary else {
            report.add(.warn, "blas", "cannot tell which BLAS this process uses")
            return
        }
        if library.contains("openblas") {
            report.add(.ok, "blas", "OpenBLAS active: \(library)")
        } else {
            report.add(
                .fail, "blas",
                "the reference BLAS is active (\(library)): a descriptor takes ~140 ms instead of ~13 ms",
                fix:
                    "apt-get install libopenblas-dev (as tools/install-deps.sh does; or: update-alternatives --config libblas.so.3-$(uname -m)-linux-gnu)"
            )
        }
    }

    private func checkCamera(_ settings: KioskConfiguration, running: KioskStatus?, _ report: Report) async {
        if let replay = settings.replay {
            let readable = FileManager.default.isReadableFile(atPath: replay)
            report.add(
                readable ? .warn : .fail, "camera", "camera.replay is set: the door plays \(replay), not the camera",
                fix: "remove camera.replay from \(config) on a real door")
            return
        }
        if let running {
            let camera = running.camera
            let healthy = camera.state == .streaming
            report.add(
                healthy ? .ok : .fail, "camera",
                "the daemon's camera \(camera.device) is \(camera.state.rawValue)"
                    + String(format: " (%.1f fps, %d reconnects)", camera.fps, camera.reconnects)
                    + (camera.lastError.map { "; last error: \($0)" } ?? ""),
                fix:
                    "check the cable and `rollcall camera list`; the udev rule names the camera /dev/rollcall-camera (udev/99-rollcall-camera.rules)"
            )
            return
        }
        let camera = V4L2Camera(configuration: settings.cameraSettings)
        camera.start()
        let frame = await first(of: camera, within: .seconds(timeout))
        let status = camera.status
        await camera.shutdown()
        if let frame {
            report.add(
                .ok, "camera",
                "\(settings.cameraDevice) (\(status.node ?? "?"), \(status.card ?? "?")) streams \(frame.width)x\(frame.height) \(frame.format)"
            )
        } else {
            let missing = !FileManager.default.fileExists(atPath: settings.cameraDevice)
            report.add(
                .fail, "camera",
                "no frame from \(settings.cameraDevice) within \(timeout) s: \(status.lastError ?? "the camera sent nothing")",
                fix: missing
                    ? "plug the camera in; `rollcall camera list` shows what is there; adapt udev/99-rollcall-camera.rules (ID_PATH or ID_SERIAL), then udevadm control --reload && udevadm trigger"
                    : "another program may hold it (fuser \(settings.cameraDevice)); try `rollcall camera snapshot --out /tmp/x.png`"
            )
        }
    }

    private func checkPermissions(_ settings: KioskConfiguration, _ report: Report) {
        let user = ProcessInfo.processInfo.environment["USER"] ?? "this user"
        let directory = settings.dataDirectory
        if !FileManager.default.fileExists(atPath: directory) {
            report.add(
                .fail, "data dir", "\(directory) does not exist",
                fix: "systemd's StateDirectory= makes it; by hand: install -d -o rollcall -g rollcall \(directory)")
        } else if access(directory, W_OK) != 0 {
            report.add(
                .fail, "data dir", "\(user) may not write \(directory)",
                fix: "chown -R rollcall:rollcall \(directory) (and run doctor as the rollcall user)")
        } else {
            report.add(.ok, "data dir", "\(directory) is writable")
        }
        if settings.replay == nil {
            let device = settings.cameraDevice
            if FileManager.default.fileExists(atPath: device), access(device, R_OK | W_OK) != 0 {
                report.add(
                    .fail, "camera perm", "\(user) may not open \(device)",
                    fix: "the udev rule gives group video mode 0660; add the user to it: usermod -aG video rollcall")
            } else if FileManager.default.fileExists(atPath: device) {
                report.add(.ok, "camera perm", "\(device) can be opened for reading and writing")
            }
        }
        guard settings.hubURL != nil else { return }
        let token = settings.tokenFile
        if let attributes = try? FileManager.default.attributesOfItem(atPath: token),
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue
        {
            if mode & 0o077 != 0 {
                report.add(
                    .warn, "token file", "\(token) can be read by others (mode \(String(mode, radix: 8)))",
                    fix: "chmod 0600 \(token); chown rollcall \(token)")
            } else {
                report.add(.ok, "token file", "\(token) is private (mode \(String(mode, radix: 8)))")
            }
        }
    }

    private func checkHub(_ settings: KioskConfiguration, _ report: Report) async {
        guard let url = settings.hubURL else {
            report.add(
                .warn, "hub", "no hub.url: events stay in the outbox", fix: "set [hub] url and token_file in \(config)")
            checkClockAlone(report)
            return
        }
        let token: String
        do {
            token = try settings.readHubToken()
        } catch {
            report.add(
                .fail, "hub", "\(error)",
                fix: "write the device's token (from the hub's admin) into \(settings.tokenFile)")
            checkClockAlone(report)
            return
        }
        var request = HTTPClientRequest(url: url + DeviceAPI.manifestPath)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let sent = Date()
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        } catch {
            report.add(
                .fail, "hub", "\(url) cannot be reached: \(error)",
                fix: "check the network, DNS and hub.url; `curl -sS \(url)/healthz`")
            checkClockAlone(report)
            return
        }
        let body = try? await response.body.collect(upTo: 4 << 20)
        let received = Date()
        switch response.status.code {
        case 200:
            let manifest = body.flatMap {
                try? DeviceAPI.decoder().decode(DeviceManifest.self, from: Data($0.readableBytesView))
            }
            if let manifest {
                report.add(
                    .ok, "hub",
                    "\(url) accepts the token: room \(manifest.schedule.room), \(manifest.schedule.sessions.count) sessions, gallery version \(manifest.galleryVersion)"
                )
            } else {
                report.add(
                    .fail, "hub", "\(url) answered 200 with something that is not a manifest",
                    fix: "check hub.url points at rollcall-hub")
            }
        case 401, 403:
            report.add(
                .fail, "hub", "\(url) refused the token (\(response.status.code))",
                fix:
                    "register the device at the hub (POST /api/v1/admin/devices) and put its token in \(settings.tokenFile)"
            )
        default:
            report.add(.fail, "hub", "\(url) answered \(response.status.code)", fix: "check hub.url and the hub's log")
        }
        // Clock: the hub's Date header against ours.
        if let header = response.headers.first(name: "Date"), let date = SyncClient.httpDate(header) {
            let offset = date.timeIntervalSince(sent + received.timeIntervalSince(sent) / 2)
            if abs(offset) > 60 {
                report.add(
                    .fail, "clock", String(format: "this clock is %.0f s off the hub's", -offset),
                    fix: "timedatectl set-ntp true (systemd-timesyncd), then check `timedatectl`")
            } else {
                report.add(.ok, "clock", String(format: "within %.1f s of the hub's", abs(offset)))
            }
        } else {
            checkClockAlone(report)
        }
    }

    private func checkClockAlone(_ report: Report) {
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        if year < 2025 {
            report.add(
                .fail, "clock", "the clock says \(year)", fix: "timedatectl set-ntp true; check the board's RTC battery"
            )
        } else {
            report.add(.warn, "clock", "\(ISO8601DateFormatter().string(from: Date())) (no hub to compare with)")
        }
    }

    private func checkDisk(_ settings: KioskConfiguration, _ report: Report) {
        var stats = statvfs()
        let path = FileManager.default.fileExists(atPath: settings.dataDirectory) ? settings.dataDirectory : "/"
        guard statvfs(path, &stats) == 0 else {
            report.add(.warn, "disk", "cannot read the free space of \(path)")
            return
        }
        let free = Double(stats.f_bavail) * Double(stats.f_frsize)
        let text = String(format: "%.1f GB free", free / 1e9) + " on the file system of \(path)"
        if free < 200e6 {
            report.add(.fail, "disk", text, fix: "free space: journalctl --vacuum-size=100M; remove old files")
        } else if free < 1e9 {
            report.add(.warn, "disk", text, fix: "free some space before it runs out")
        } else {
            report.add(.ok, "disk", text)
        }
    }
}
