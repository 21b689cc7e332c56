import ArgumentParser
import Foundation
import Kiosk

/// `rollcall config`: the daemon's configuration file.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check the daemon's configuration file.",
        subcommands: [ConfigCheck.self]
    )
}

/// `rollcall config check PATH`: reads the file as the daemon does and says what is wrong.
struct ConfigCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Read a configuration file as the daemon does: print the settings, or the key that is wrong.",
        discussion: "Exits 0 when the file is usable, 78 (EX_CONFIG) with the key and the fix when it is not."
    )

    @Argument(help: ArgumentHelp("The file (the daemon reads /etc/rollcall/rollcall.toml).", valueName: "path"))
    var path = "/etc/rollcall/rollcall.toml"

    func run() throws {
        let settings: KioskConfiguration
        do {
            settings = try KioskConfiguration.load(path: path)
        } catch {
            printError("\(path): \(error)")
            throw ExitCode(EX_CONFIG)
        }
        printLine("\(path): valid")
        printLine("  device \(settings.deviceID), data in \(settings.dataDirectory)")
        printLine(
            "  camera \(settings.cameraDevice) \(settings.width)x\(settings.height) at \(settings.fps) fps, "
                + "exposure \(settings.exposure.map(String.init) ?? "automatic")")
        printLine(
            "  recognition: false-match target \(settings.falseMatchTarget) per stranger's search, margin \(settings.minimumMargin), "
                + "workers \(settings.workers == 0 ? "one per core" : String(settings.workers))")
        printLine(
            "  hub \(settings.hubURL ?? "none (offline: events stay in the outbox)"), token in \(settings.tokenFile)")
        printLine("  signage on 127.0.0.1:\(settings.signagePort), log level \(settings.logLevel)")
    }
}
