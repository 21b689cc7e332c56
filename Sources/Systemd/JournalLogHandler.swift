public import Foundation
public import Logging
public import Synchronization

/// Log lines for the journal: under systemd (`JOURNAL_STREAM` set) each line starts with its syslog
/// priority (`<6>` for info), which journald turns into the entry's priority, so `journalctl -p warning`
/// and `systemctl status` show what matters; on a terminal each line starts with the time and level.
///
/// The level can change while the daemon runs (`log.level`, reloaded on SIGHUP) through `level`.
public struct JournalLogHandler: LogHandler {
    /// The level every handler made by `bootstrap` logs at.
    public static let level = Mutex<Logger.Level>(.info)
    private static let output = Mutex<FileHandle>(.standardError)

    private let label: String
    private let prefixed: Bool
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    /// A handler for `label`; `journal` says whether the lines go to journald.
    public init(label: String, journal: Bool = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil) {
        self.label = label
        self.prefixed = journal
    }

    /// Makes every logger of the process log through this handler, at `level`.
    public static func bootstrap(level: Logger.Level) {
        Self.level.withLock { $0 = level }
        LoggingSystem.bootstrap { label in JournalLogHandler(label: label) }
    }

    public var logLevel: Logger.Level {
        get { Self.level.withLock { $0 } }
        set { Self.level.withLock { $0 = newValue } }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let text = "\(event.message)\(fields.isEmpty ? "" : " (\(fields))")"
            .replacingOccurrences(of: "\n", with: " ")
        let line: String
        if prefixed {
            line = "<\(Self.priority(event.level))>\(text)\n"
        } else {
            line = "\(Self.timestamp()) \(event.level.rawValue.uppercased()) [\(label)] \(text)\n"
        }
        Self.output.withLock { $0.write(Data(line.utf8)) }
    }

    /// syslog priorities, as `sd-daemon.h` prefixes them.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
