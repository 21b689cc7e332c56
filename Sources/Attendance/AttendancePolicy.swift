public import Foundation

/// When check-in is open around a session, when an arrival counts as late, and how repeated scans are
/// told apart from new ones. Durations are seconds; the JSON form uses the units its keys name.
///
/// Every JSON key is optional and defaults to the value shown:
/// ```json
/// {"checkin_opens_minutes_before": 30, "checkin_closes_minutes_after_end": 0, "grace_minutes": 5,
///  "volunteer_debounce_seconds": 30, "qr_repeat_seconds": 5, "maximum_visit_hours": 16}
/// ```
public struct AttendancePolicy: Sendable, Equatable, Hashable, Codable {
    /// How long before a session starts its check-in opens (JSON: `checkin_opens_minutes_before`).
    public var checkinOpensBefore: TimeInterval
    /// How long after a session ends its check-in stays open (JSON: `checkin_closes_minutes_after_end`).
    public var checkinClosesAfterEnd: TimeInterval
    /// An arrival up to this long after the start is still present, later is late (JSON: `grace_minutes`).
    public var grace: TimeInterval
    /// A volunteer scan this soon after the last accepted one is a repeat (JSON: `volunteer_debounce_seconds`).
    public var volunteerDebounce: TimeInterval
    /// The same QR payload seen again this soon is the same scan (JSON: `qr_repeat_seconds`).
    public var qrRepeatWindow: TimeInterval
    /// A volunteer visit open longer than this was never signed out (JSON: `maximum_visit_hours`).
    public var maximumVisit: TimeInterval

    /// Makes a policy; every duration is in seconds.
    public init(
        checkinOpensBefore: TimeInterval = 30 * 60,
        checkinClosesAfterEnd: TimeInterval = 0,
        grace: TimeInterval = 5 * 60,
        volunteerDebounce: TimeInterval = 30,
        qrRepeatWindow: TimeInterval = 5,
        maximumVisit: TimeInterval = 16 * 3600
    ) {
        self.checkinOpensBefore = checkinOpensBefore
        self.checkinClosesAfterEnd = checkinClosesAfterEnd
        self.grace = grace
        self.volunteerDebounce = volunteerDebounce
        self.qrRepeatWindow = qrRepeatWindow
        self.maximumVisit = maximumVisit
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case checkinOpensBefore = "checkin_opens_minutes_before"
        case checkinClosesAfterEnd = "checkin_closes_minutes_after_end"
        case grace = "grace_minutes"
        case volunteerDebounce = "volunteer_debounce_seconds"
        case qrRepeatWindow = "qr_repeat_seconds"
        case maximumVisit = "maximum_visit_hours"

        /// Seconds per unit of the JSON value.
        var unit: TimeInterval {
            switch self {
            case .checkinOpensBefore, .checkinClosesAfterEnd, .grace: 60
            case .volunteerDebounce, .qrRepeatWindow: 1
            case .maximumVisit: 3600
            }
        }

        var property: WritableKeyPath<AttendancePolicy, TimeInterval> {
            switch self {
            case .checkinOpensBefore: \.checkinOpensBefore
            case .checkinClosesAfterEnd: \.checkinClosesAfterEnd
            case .grace: \.grace
            case .volunteerDebounce: \.volunteerDebounce
            case .qrRepeatWindow: \.qrRepeatWindow
            case .maximumVisit: \.maximumVisit
            }
        }
    }

    /// Reads the JSON form; absent or null keys keep their defaults.
    ///
    /// - Throws: `ScheduleError` with code `invalidValue` for a negative duration; the decoder's errors for a
    ///   value that is not a number.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        for key in CodingKeys.allCases {
            guard let value = try container.decodeIfPresent(Double.self, forKey: key) else { continue }
            guard value >= 0 else {
                let path = ScheduleError.path(container.codingPath + [key])
                throw ScheduleError(
                    code: .invalidValue,
                    path: path,
                    message: "\(path): \(ScheduleError.plain(value)) is negative: use 0 or more"
                )
            }
            self[keyPath: key.property] = value * key.unit
        }
    }

    /// Writes the JSON form with every key.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        for key in CodingKeys.allCases {
            try container.encode(self[keyPath: key.property] / key.unit, forKey: key)
        }
    }
}
