import GRDB

/// The outbox could not do something; the message says what and, where there is one, the fix.
public struct OutboxError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for a technician.
    public var message: String
    /// The disk is full: nothing more can be committed until space is freed.
    public var isDiskFull = false
    /// The file is damaged (its integrity check failed).
    public var isCorruption = false
    /// The cached value (`manifest`, `gallery`, ...) that is stored but cannot be read as what it should be;
    /// nil for every other failure. The cache is filled again by the next sync.
    public var unreadableCacheKey: String?

    /// An error with a message.
    public init(_ message: String) { self.message = message }

    /// A cached value that is there but cannot be read back as what it should be (damaged, or written by
    /// something else).
    /// - Parameters:
    ///   - key: the cached value's name (`manifest`, `gallery-version`, ...).
    ///   - reason: why it cannot be read.
    public static func unreadableCache(_ key: String, reason: String) -> OutboxError {
        var failure = OutboxError("the cached \(key) cannot be read: \(reason)")
        failure.unreadableCacheKey = key
        return failure
    }

    public var description: String { message }

    /// An error from SQLite, in words.
    static func from(_ error: any Error, while what: String, path: String) -> OutboxError {
        guard let database = error as? DatabaseError else { return OutboxError("cannot \(what) in \(path): \(error)") }
        switch database.resultCode {
        case .SQLITE_FULL:
            var failure = OutboxError(
                "cannot \(what): the disk holding \(path) is full; free space (old logs, journal) and the device carries on"
            )
            failure.isDiskFull = true
            return failure
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return OutboxError(
                "cannot \(what): \(path) is locked by another process (is another rollcall running?); "
                    + "the file is left as it is")
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN:
            return OutboxError(
                "cannot \(what): \(path) cannot be written (\(database.message ?? "permission")); check its owner and mode"
            )
        default:
            return OutboxError("cannot \(what) in \(path): \(database.message ?? "\(database.resultCode)")")
        }
    }
}
