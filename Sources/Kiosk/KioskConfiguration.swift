public import Capture
public import Foundation
public import Logging
public import Outbox
public import Recognition
import TOMLKit

/// The daemon's configuration (`/etc/rollcall/rollcall.toml`; the commented example is
/// `systemd/rollcall.toml`). Every key is checked when it is read: an unknown key, a wrong type or a
/// bad value is a `ConfigurationError` naming the key and the fix, and the daemon exits with 78.
public struct KioskConfiguration: Sendable, Equatable {
    /// `[device]`
    public var deviceID: String
    public var dataDirectory: String = "/var/lib/rollcall"
    /// The outbox's largest size in MiB (`device.outbox_max_mb`): a door that cannot reach its hub for
    /// weeks fills this, not the SD card; at the cap a commit fails with "the disk is full" in the journal.
    public var outboxMaximumMegabytes = 512
    /// The key that seals the outbox's cached gallery (`device.data_key_file`, 32 bytes); nil: the
    /// systemd credential `data-key`, else `<data_dir>/outbox.sqlite.key` made on first use.
    public var dataKeyFile: String?
    /// `[camera]`
    public var cameraDevice: String = "/dev/rollcall-camera"
    public var width = 640
    public var height = 480
    public var fps = 30
    /// Absolute exposure in 100 µs units; nil leaves the camera's automatic exposure on.
    public var exposure: Int?
    public var gain: Int?
    /// A video file or image folder played at its frame rate instead of the camera (demos, tests).
    public var replay: String?
    /// `[recognition]`
    /// The chance per stranger's face search of naming someone; the accept distance is calibrated from it.
    public var falseMatchTarget = OperatingPoint.door.falseMatchTarget
    public var minimumMargin = Double(OperatingPoint.door.minimumMargin)
    /// Vision worker threads; 0 means one per core.
    public var workers = 0
    public var upsample = 0
    /// `recognition.presentation_check`: the presentation-attack stage (a photo or a screen held up to
    /// the camera is refused). Off only for a demonstration with photos; a change restarts capture.
    public var presentationCheck = true
    /// `[badges]`
    public var allowUnsignedBadges = false
    /// `[hub]`
    public var hubURL: String?
    public var tokenFile: String = "/etc/rollcall/hub-token"
    /// Seconds between pulls of the schedule, gallery and badge keys (and checks that the hub is there).
    public var refreshSeconds = 60
    /// `[signage]`
    public var signagePort = 8081
    /// `[log]`
    public var logLevel = "info"

    /// The defaults, for a device with this id.
    public init(deviceID: String) {
        self.deviceID = deviceID
    }

    /// The log levels `log.level` takes.
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Reads and checks a configuration file.
    public static func load(path: String) throws(ConfigurationError) -> KioskConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(
                key: nil, "cannot read \(path): \(error.localizedDescription); copy systemd/rollcall.toml there")
        }
        return try parse(text)
    }

    /// Checks a configuration's text.
    public static func parse(_ text: String) throws(ConfigurationError) -> KioskConfiguration {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(
                key: nil,
                "not valid TOML at line \(error.source.begin.line), column \(error.source.begin.column): "
                    + error.description)
        } catch {
            throw ConfigurationError(key: nil, "not valid TOML: \(error)")
        }
        let reader = Reader(root: root)
        try reader.onlyTables(["device", "camera", "recognition", "badges", "hub", "signage", "log"])

        try reader.section("device", keys: ["id", "data_dir", "outbox_max_mb", "data_key_file"])
        guard let id = try reader.string("device", "id") else {
            throw ConfigurationError(key: "device.id", "is required: the device's id, as the hub knows it")
        }
        guard !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw ConfigurationError(key: "device.id", "\"\(id)\" must be letters, digits, '-', '_' or '.'")
        }
        var configuration = KioskConfiguration(deviceID: id)
        if let directory = try reader.string("device", "data_dir") {
            guard directory.hasPrefix("/") else {
                throw ConfigurationError(key: "device.data_dir", "\"\(directory)\" must be an absolute path")
            }
            configuration.dataDirectory = directory
        }
        configuration.outboxMaximumMegabytes =
            try reader.int("device", "outbox_max_mb", in: 1...1_048_576) ?? configuration.outboxMaximumMegabytes
        if let file = try reader.string("device", "data_key_file") {
            guard file.hasPrefix("/") else {
                throw ConfigurationError(key: "device.data_key_file", "\"\(file)\" must be an absolute path")
            }
            configuration.dataKeyFile = file
        }

        try reader.section("camera", keys: ["device", "width", "height", "fps", "exposure", "gain", "replay"])
        if let device = try reader.string("camera", "device") {
            guard device.hasPrefix("/dev/") else {
                throw ConfigurationError(
                    key: "camera.device", "\"\(device)\" must be a device node such as /dev/rollcall-camera")
            }
            configuration.cameraDevice = device
        }
        if let replay = try reader.string("camera", "replay") {
            guard FileManager.default.fileExists(atPath: replay) else {
                throw ConfigurationError(
                    key: "camera.replay",
                    "\"\(replay)\" does not exist; give a video file or an image folder, or remove the key to use the camera"
                )
            }
            configuration.replay = replay
        }
        configuration.width = try reader.int("camera", "width", in: 160...4096) ?? configuration.width
        configuration.height = try reader.int("camera", "height", in: 120...4096) ?? configuration.height
        configuration.fps = try reader.int("camera", "fps", in: 1...120) ?? configuration.fps
        configuration.exposure = try reader.int("camera", "exposure", in: 1...100_000)
        configuration.gain = try reader.int("camera", "gain", in: 0...1000)

        try reader.section(
            "recognition",
            keys: ["accept_distance", "false_match_target", "min_margin", "workers", "upsample", "presentation_check"])
        if reader.value("recognition", "accept_distance") != nil {
            throw ConfigurationError(
                key: "recognition.accept_distance",
                "is no longer a setting: the accept distance is calibrated to the gallery for a false-match "
                    + "target. Remove the line and set false_match_target (default "
                    + "\(OperatingPoint.door.falseMatchTarget)) instead (README, \"Strangers and the operating point\")"
            )
        }
        configuration.falseMatchTarget =
            try reader.double("recognition", "false_match_target", in: OperatingPoint.targets)
            ?? configuration.falseMatchTarget
        configuration.minimumMargin =
            try reader.double("recognition", "min_margin", in: 0...1) ?? configuration.minimumMargin
        configuration.workers = try reader.int("recognition", "workers", in: 0...64) ?? configuration.workers
        configuration.upsample = try reader.int("recognition", "upsample", in: 0...2) ?? configuration.upsample
        configuration.presentationCheck =
            try reader.bool("recognition", "presentation_check") ?? configuration.presentationCheck

        try reader.section("badges", keys: ["allow_unsigned"])
        configuration.allowUnsignedBadges = try reader.bool("badges", "allow_unsigned") ?? false

        try reader.section("hub", keys: ["url", "token_file", "refresh_seconds"])
        if let url = try reader.string("hub", "url") {
            try Self.checkHubURL(url)
            configuration.hubURL = url
        }
        if let tokenFile = try reader.string("hub", "token_file") { configuration.tokenFile = tokenFile }
        configuration.refreshSeconds =
            try reader.int("hub", "refresh_seconds", in: 1...86_400) ?? configuration.refreshSeconds

        try reader.section("signage", keys: ["port"])
        configuration.signagePort = try reader.int("signage", "port", in: 1...65535) ?? configuration.signagePort

        try reader.section("log", keys: ["level"])
        if let level = try reader.string("log", "level") {
            guard logLevels.contains(level) else {
                throw ConfigurationError(
                    key: "log.level", "\"\(level)\" is not one of \(logLevels.joined(separator: ", "))")
            }
            configuration.logLevel = level
        }
        return configuration
    }

    /// The camera's settings.
    public var cameraSettings: CameraConfiguration {
        var camera = CameraConfiguration()
        camera.device = cameraDevice
        camera.width = width
        camera.height = height
        camera.fps = fps
        camera.exposure = exposure
        camera.gain = gain
        return camera
    }

    /// Whether the door captures from the same source with the same settings as `other`.
    public func sameCapture(as other: KioskConfiguration) -> Bool {
        cameraSettings == other.cameraSettings && replay == other.replay
            && presentationCheck == other.presentationCheck
    }

    /// The recognition operating point.
    public var operatingPoint: OperatingPoint {
        OperatingPoint(falseMatchTarget: falseMatchTarget, minimumMargin: Float(minimumMargin))
    }

    /// The hub's bearer token, from `hub.token_file`: one line, at least 16 characters.
    public func readHubToken() throws(ConfigurationError) -> String {
        let text: String
        do {
            text = try String(contentsOfFile: tokenFile, encoding: .utf8)
        } catch {
            throw ConfigurationError(
                key: "hub.token_file",
                "cannot read \(tokenFile): \(error.localizedDescription); put the device's token there (chmod 0600, owner rollcall)"
            )
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.count >= 16, !token.contains(where: \.isWhitespace) else {
            throw ConfigurationError(
                key: "hub.token_file", "\(tokenFile) must hold the device's token: one line of at least 16 characters")
        }
        return token
    }

    /// HTTPS anywhere; plain HTTP only to this machine.
    static func checkHubURL(_ text: String) throws(ConfigurationError) {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty
        else {
            throw ConfigurationError(key: "hub.url", "\"\(text)\" is not a URL such as https://hub.school.example")
        }
        switch scheme {
        case "https": return
        case "http" where ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host): return
        case "http":
            throw ConfigurationError(
                key: "hub.url", "\"\(text)\": plain http only to this machine (127.0.0.1); use https for \(host)")
        default:
            throw ConfigurationError(key: "hub.url", "\"\(text)\" must start with https://")
        }
    }
}

/// A configuration that cannot be used: the key, what is wrong, and the fix.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// `table.key`, or nil for the file as a whole.
    public var key: String?
    public var problem: String

    /// An error about `key`.
    public init(key: String?, _ problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String { key.map { "\($0): \(problem)" } ?? problem }
}

/// Typed, checked access to the parsed file, table by table.
private struct Reader {
    let root: TOMLTable

    func onlyTables(_ known: [String]) throws(ConfigurationError) {
        for key in root.keys.sorted() {
            guard known.contains(key) else {
                throw ConfigurationError(key: key, "unknown section; the sections are \(known.joined(separator: ", "))")
            }
            guard root[key]?.table != nil else {
                throw ConfigurationError(key: key, "must be a section ([\(key)]), not a value")
            }
        }
    }

    func section(_ name: String, keys known: [String]) throws(ConfigurationError) {
        guard let table = root[name]?.table else { return }
        for key in table.keys.sorted() where !known.contains(key) {
            throw ConfigurationError(
                key: "\(name).\(key)", "unknown key; [\(name)] takes \(known.joined(separator: ", "))")
        }
    }

    func value(_ table: String, _ key: String) -> (any TOMLValueConvertible)? { root[table]?.table?[key] }

    func mismatch(_ table: String, _ key: String, expected: String, got value: any TOMLValueConvertible)
        -> ConfigurationError
    {
        ConfigurationError(key: "\(table).\(key)", "must be \(expected), not a \(value.type)")
    }

    func string(_ table: String, _ key: String) throws(ConfigurationError) -> String? {
        guard let value = value(table, key) else { return nil }
        guard let string = value.string else { throw mismatch(table, key, expected: "a string in quotes", got: value) }
        return string
    }

    func bool(_ table: String, _ key: String) throws(ConfigurationError) -> Bool? {
        guard let value = value(table, key) else { return nil }
        guard let bool = value.bool else { throw mismatch(table, key, expected: "true or false", got: value) }
        return bool
    }

    func int(_ table: String, _ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let value = value(table, key) else { return nil }
        guard value.type == .int, let int = value.int else {
            throw mismatch(table, key, expected: "a whole number", got: value)
        }
        guard range.contains(int) else {
            throw ConfigurationError(
                key: "\(table).\(key)", "\(int) is out of range: use \(range.lowerBound) to \(range.upperBound)")
        }
        return int
    }

    func double(_ table: String, _ key: String, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double? {
        guard let value = value(table, key) else { return nil }
        let number: Double
        if value.type == .double, let double = value.double {
            number = double
        } else if value.type == .int, let int = value.int {
            number = Double(int)
        } else {
            throw mismatch(table, key, expected: "a number", got: value)
        }
        guard range.contains(number) else {
            throw ConfigurationError(
                key: "\(table).\(key)", "\(number) is out of range: use \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }
}

extension KioskConfiguration {
    /// The outbox at `device.data_dir`/outbox.sqlite, capped at `device.outbox_max_mb`, its cached state
    /// sealed with `device.data_key_file` (or the credential `data-key`, or the key beside it): what
    /// `rollcall run` opens.
    public func openOutbox(
        logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws(OutboxError) -> Outbox {
        let path = dataDirectory + "/outbox.sqlite"
        return try await Outbox.open(
            path: path, deviceID: deviceID, maximumBytes: outboxMaximumMegabytes << 20,
            sealer: try Outbox.sealer(path: path, keyFile: dataKeyFile, environment: environment), logger: logger)
    }
}
