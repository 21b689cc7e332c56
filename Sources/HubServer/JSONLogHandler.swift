public import Foundation
public import Logging
import Synchronization

/// Log lines as JSON objects, one a line, for a log collector (`rollcall-hub serve --log-format json`):
/// `{"label":"rollcall-hub","level":"notice","message":"...","time":"2026-12-03T08:41:07.250Z",...}` with the
/// line's metadata as further string fields. Written to standard error, whole lines at a time, so
/// that lines from several threads never interleave.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let label: String
    let write: @Sendable (Data) -> Void

    /// A handler for `label` writing to standard error.
    public init(label: String) {
        self.init(label: label) { line in FileHandle.standardError.write(line) }
    }

    /// A handler for `label` handing each line (ending in a newline) to `write`.
    public init(label: String, write: @escaping @Sendable (Data) -> Void) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            fields[key] = "\(value)"
        }
        // The fixed fields win over metadata of the same name.
        fields["time"] = Self.time(Date())
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["message"] = "\(event.message)"
        guard var line = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
        line.append(UInt8(ascii: "\n"))
        Self.lock.withLock { _ in write(line) }
    }

    private static let lock = Mutex(())

    static func time(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }
}
