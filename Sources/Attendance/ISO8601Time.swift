public import Foundation

/// ISO 8601 timestamps as schedules and events carry them: `2026-11-23T08:00:00Z`,
/// `2026-11-23T08:45:00.250+01:00`, through Foundation's `ISO8601DateFormatter`.
///
/// Making a formatter builds an ICU date format, which took most of the hub's time under load (every
/// event's and every report line's time passes through here), so each thread keeps the few it uses.
public enum ISO8601Time {
    /// This thread's formatter with `options` in the zone `offset` seconds east of UTC.
    private static func formatter(_ options: ISO8601DateFormatter.Options, offset: Int = 0) -> ISO8601DateFormatter {
        let key = "rollcall.ISO8601Time.\(options.rawValue).\(offset)"
        let cache = Thread.current.threadDictionary
        if let formatter = cache[key] as? ISO8601DateFormatter { return formatter }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = options
        if offset != 0, let zone = TimeZone(secondsFromGMT: offset) { formatter.timeZone = zone }
        cache[key] = formatter
        return formatter
    }

    /// Parses a timestamp with a time zone (`Z` or an offset), with or without fractional seconds.
    /// Dates that do not exist (February 29 of 2026, hour 24) are refused, not rolled over; so are offsets
    /// no place has (beyond ±14 h).
    public static func parse(_ text: String) -> Date? {
        var parsed = formatter([.withInternetDateTime]).date(from: text)
        if parsed == nil { parsed = formatter([.withInternetDateTime, .withFractionalSeconds]).date(from: text) }
        // An offset no place has (beyond ±14 h, such as -21:40) is refused: Foundation's formatter traps on
        // a zone that far from UTC.
        guard let date = parsed, let offset = offset(of: text), abs(offset) <= 14 * 3600,
            TimeZone(secondsFromGMT: offset) != nil
        else { return nil }
        // Foundation rolls impossible fields over; writing the date back in the text's own zone shows it.
        return formatter([.withInternetDateTime], offset: offset).string(from: date).prefix(19) == text.prefix(19)
            ? date : nil
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
        let whole = date.timeIntervalSinceReferenceDate.rounded(.down) == date.timeIntervalSinceReferenceDate
        return formatter(whole ? [.withInternetDateTime] : [.withInternetDateTime, .withFractionalSeconds])
            .string(from: date)
    }
}
