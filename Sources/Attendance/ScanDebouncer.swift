public import Foundation

/// Turns a badge seen on many consecutive frames into one scan.
///
/// A payload is admitted when it was not seen in the `window` seconds before; every sighting, admitted or
/// not, refreshes its last-seen time, so a badge held in view for ten seconds is one scan however long the
/// window. It is admitted again once it has been out of view for `window` seconds.
public struct ScanDebouncer: Sendable, Equatable {
    /// Seconds a payload must be out of view before it counts as a new scan.
    public let window: TimeInterval
    private var lastSeen: [String: Date] = [:]
    /// Table size above which entries older than the window are dropped.
    private var pruneAbove: Int

    /// The table is pruned once it holds more than this many payloads.
    public static let pruneThreshold = 256

    /// Makes a debouncer with an empty memory.
    public init(window: TimeInterval) {
        self.window = window
        self.pruneAbove = Self.pruneThreshold
    }

    /// The number of payloads remembered.
    public var count: Int { lastSeen.count }

    /// True when `payload` was not seen in the `window` seconds before `at` (a sighting exactly `window`
    /// seconds earlier no longer counts); records the sighting either way.
    public mutating func admit(_ payload: String, at: Date) -> Bool {
        let admitted: Bool
        if let last = lastSeen[payload] {
            admitted = at.timeIntervalSince(last) >= window
            // A sighting delivered out of order must not move the last-seen time back.
            lastSeen[payload] = max(last, at)
        } else {
            admitted = true
            lastSeen[payload] = at
        }
        if lastSeen.count > pruneAbove {
            lastSeen = lastSeen.filter { at.timeIntervalSince($0.value) < window }
            // If most entries are still within the window, wait for the table to double before scanning
            // it again, so a crowd of badges costs amortised O(1) per sighting.
            pruneAbove = max(Self.pruneThreshold, 2 * lastSeen.count)
        }
        return admitted
    }
}
