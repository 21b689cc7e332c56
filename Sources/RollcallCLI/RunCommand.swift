import ArgumentParser
import Foundation
import Imaging
import Kiosk
import Logging
import Outbox
import Systemd
import Vision

/// `rollcall run`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the door: capture, recognise, commit, show, and sync to the hub (the systemd service).",
        discussion: """
            Reads the configuration (every key checked: a bad one exits 78, EX_CONFIG, naming the key), opens \
            the outbox in device.data_dir, loads the models, then runs capture, the vision workers, the rules, \
            sync and the signage page on 127.0.0.1:signage.port until SIGTERM or SIGINT, which stop capture, \
            commit the last decisions and close the database within 5 s. SIGHUP reloads the configuration and \
            the gallery without dropping events. Under systemd (Type=notify) it reports READY=1, a one-line \
            STATUS= and WATCHDOG=1 while capture and processing make progress; logs go to the journal with \
            their priorities. The page also serves /status (JSON, for rollcall status), /metrics (Prometheus) \
            and /healthz.
            """
    )

    @Option(help: ArgumentHelp("The configuration file.", valueName: "path"))
    var config = "/etc/rollcall/rollcall.toml"

    @OptionGroup var models: ModelOptions

    func run() async throws {
        let settings: KioskConfiguration
        do {
            settings = try KioskConfiguration.load(path: config)
        } catch {
            printError("\(config): \(error)")
            throw ExitCode(EX_CONFIG)
        }
        JournalLogHandler.bootstrap(level: Logger.Level(rawValue: settings.logLevel) ?? .info)
        let logger = Logger(label: "rollcall")
        var token: String?
        if settings.hubURL != nil {
            do {
                token = try settings.readHubToken()
            } catch {
                logger.critical("\(config): \(error)")
                throw ExitCode(EX_CONFIG)
            }
        } else {
            logger.warning("no hub.url: events are kept in the outbox until a hub is configured")
        }
        let outbox: Outbox
        do {
            try FileManager.default.createDirectory(
                atPath: settings.dataDirectory, withIntermediateDirectories: true)
            outbox = try await settings.openOutbox(logger: Logger(label: "rollcall.outbox"))
        } catch {
            logger.critical(
                "cannot open the outbox in \(settings.dataDirectory) (device.data_dir): \(error); check that it exists and the rollcall user may write it"
            )
            throw ExitCode(EX_CANTCREAT)
        }
        let faceModels: FaceModels
        do {
            faceModels = try FaceModels(locator: ModelLocator(explicitDirectory: models.directory))
        } catch {
            logger.critical("\(error.description)")
            throw ExitCode(EX_CONFIG_UNAVAILABLE)
        }
        let daemon = try await KioskDaemon(
            configurationPath: config, configuration: settings, outbox: outbox, models: faceModels, hubToken: token,
            logger: logger)
        try await daemon.run()
    }
}

/// Exit status for a data directory that cannot be written (sysexits' EX_CANTCREAT).
let EX_CANTCREAT: Int32 = 73
