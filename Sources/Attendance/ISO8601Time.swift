public import Foundation

/// ISO 8601 timestamps as schedules and events carry them: `2026-11-23T08:00:00Z`,
/// `2026-11-23T08:45:00.250+01:00`, through Foundation's `ISO8601DateFormatter`.
public enum ISO8601Time {
    /// Parses a timestamp with a time zone (`Z` or an offset), with or without fractional seconds.
    /// Dates that do not exist (February 29 of 2026, hour 24) are refused, not rolled over; so are offsets
    /// no place has (beyond ±14 h).
    public static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        var parsed = formatter.date(from: text)
        if parsed == nil {
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            parsed = formatter.date(from: text)
        }
        // An offset no place has (beyond ±14 h, such as -21:40) is refused: Foundation's formatter traps on
        // a zone that far from UTC.
        guard let date = parsed, let offset = offset(of: text), abs(offset) <= 14 * 3600,
            let zone = TimeZone(secondsFromGMT: offset)
        else { return nil }
        // Foundation rolls impossible fields over; writing the date back in the text's own zone shows it.
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = zone
        return formatter.string(from: date).prefix(19) == text.prefix(19) ? date : nil
    }

    /// The seconds east of UTC a timestamp's zone designator (`Z`, `+01:00`, `+0100`) names.
    private static func offset(of text: String) -> Int? {
        if text.hasSuffix("Z") || text.hasSuffix("z") { return 0 }
        guard let time = text.firstIndex(where: { $0 == "T" || $0 == "t" }),
            let sign = text[time...].lastIndex(where: { $0 == "+" || $0 == "-" })
        else { return nil }
        let digits = text[text.index(after: sign)...].filter { $0 != ":" }
        guard digits.count == 4, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
            let hours = Int(digits.prefix(2)), let minutes = Int(digits.suffix(2)), minutes < 60
        else { return nil }
        return (text[sign] == "-" ? -1 : 1) * (hours * 3600 + minutes * 60)
    }

    /// Formats in UTC with `Z`, with milliseconds when the time has a fraction of a second.
    public static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        let whole = date.timeIntervalSinceReferenceDate.rounded(.down) == date.timeIntervalSinceReferenceDate
        formatter.formatOptions = whole ? [.withInternetDateTime] : [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
