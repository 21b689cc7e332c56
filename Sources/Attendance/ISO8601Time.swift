public import Foundation

/// ISO 8601 timestamps as schedules and events carry them: `2026-11-23T08:00:00Z`,
/// `2026-11-23T08:45:00.250+01:00`, through Foundation's `Date.ISO8601FormatStyle`.
///
/// Every event's and every report line's time passes through here, so the hub's speed under load depends
/// on it. `ISO8601DateFormatter` goes through ICU on every call (reading a time with milliseconds and
/// writing one took 62 µs, a fifth of the hubs' time under load); this takes 4.5 µs. The style keeps whole
/// seconds exactly, and the milliseconds are read and written here, so that a time survives a round trip
/// to the millisecond (the style truncates a fraction's binary value, `.455` would come back `.454`).
public enum ISO8601Time {
    private static let seconds = Date.ISO8601FormatStyle()

    /// Parses a timestamp with a time zone (`Z` or an offset), with or without fractional seconds (kept to
    /// the millisecond, further digits dropped). Dates that do not exist (February 29 of 2026, hour 24)
    /// are refused, not rolled over; so are offsets no place has (beyond ±14 h).
    public static func parse(_ text: String) -> Date? {
        guard let offset = offset(of: text), abs(offset) <= 14 * 3600, let zone = TimeZone(secondsFromGMT: offset)
        else { return nil }
        // RFC 3339 allows a lower-case `t` and `z`; the style reads upper case.
        var text = text.contains(where: { $0 == "t" || $0 == "z" }) ? text.uppercased() : text
        var milliseconds: Int64 = 0
        if let time = text.firstIndex(of: "T"), let dot = text[time...].firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty,
                let thousandths = Int64(digits.prefix(3) + String(repeating: "0", count: max(0, 3 - digits.count)))
            else { return nil }
            milliseconds = thousandths
            text.removeSubrange(dot..<digits.endIndex)
        }
        // The style rolls impossible fields over; writing the date back in the text's own zone shows it.
        guard let whole = try? seconds.parse(text),
            Date.ISO8601FormatStyle(timeZone: zone).format(whole).prefix(19) == text.prefix(19)
        else { return nil }
        let since1970 = Int64(whole.timeIntervalSince1970) * 1000 + milliseconds
        return Date(timeIntervalSince1970: Double(since1970) / 1000)
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
        let reference = date.timeIntervalSinceReferenceDate
        guard reference.rounded(.down) != reference else { return seconds.format(date) }
        return formatMilliseconds(date)
    }

    /// Formats in UTC with `Z` and always three decimals of seconds (`2026-11-23T08:00:00.000Z`).
    public static func formatMilliseconds(_ date: Date) -> String {
        let (whole, fraction) = Int64((date.timeIntervalSince1970 * 1000).rounded()).quotientAndRemainder(
            dividingBy: 1000)
        let (second, thousandths) = fraction < 0 ? (whole - 1, fraction + 1000) : (whole, fraction)
        let digits = String(thousandths)
        return seconds.format(Date(timeIntervalSince1970: Double(second))).dropLast() + "."
            + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }
}
