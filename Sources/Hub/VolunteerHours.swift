import Attendance
public import Foundation

/// Volunteer hours per person and week, from closed visits (sign-in to sign-out). A visit that runs
/// over a week's boundary (Monday 00:00 in the room's timezone) counts in both weeks, each its part;
/// over midnight within a week it simply counts whole. Open visits are listed apart, uncounted.
public struct VolunteerHours: Sendable, Equatable, Codable {
    /// One person's week.
    public struct Week: Sendable, Equatable, Codable {
        public var person: String
        public var name: String?
        /// ISO week, e.g. `2026-W48`.
        public var week: String
        /// The week's first day (Monday) in the room's timezone, `2026-11-23`.
        public var weekStart: String
        public var hours: Double
        /// Visits that contributed to the week.
        public var visits: Int

        enum CodingKeys: String, CodingKey {
            case person, name, week, hours, visits
            case weekStart = "week_start"
        }
    }

    /// A visit with no sign-out yet.
    public struct OpenVisit: Sendable, Equatable, Codable {
        public var person: String
        public var room: String
        public var since: String
    }

    public var from: String
    public var to: String
    public var weeks: [Week]
    public var open: [OpenVisit]

    /// CSV: a header, then one line per person and week.
    public var csv: String {
        var rows = [["person", "name", "week", "week_start", "hours", "visits"]]
        for week in weeks {
            rows.append([
                week.person, week.name ?? "", week.week, week.weekStart, String(format: "%.2f", week.hours),
                String(week.visits),
            ])
        }
        return CSVWriter.document(rows)
    }

    /// Sums `visits` (with each room's timezone) that overlap [from, to), clipped to it.
    public static func make(
        visits: [Visit], timezones: [String: TimeZone], names: [String: String], from: Date, to: Date
    ) -> VolunteerHours {
        struct Key: Hashable {
            var person: String
            var weekStart: Date
        }
        var seconds: [Key: Double] = [:]
        var counted: [Key: Int] = [:]
        var labels: [Key: (week: String, start: String)] = [:]
        var open: [OpenVisit] = []
        for visit in visits {
            guard let logout = visit.logoutTime else {
                open.append(
                    OpenVisit(person: visit.person, room: visit.room, since: ISO8601Time.format(visit.loginTime)))
                continue
            }
            var calendar = Calendar(identifier: .iso8601)
            calendar.timeZone = timezones[visit.room] ?? TimeZone(identifier: "UTC")!
            var cursor = max(visit.loginTime, from)
            let end = min(logout, to)
            while cursor < end {
                guard let week = calendar.dateInterval(of: .weekOfYear, for: cursor) else { break }
                let partEnd = min(end, week.end)
                let key = Key(person: visit.person, weekStart: week.start)
                seconds[key, default: 0] += partEnd.timeIntervalSince(cursor)
                counted[key, default: 0] += 1
                if labels[key] == nil {
                    let components = calendar.dateComponents(
                        [.yearForWeekOfYear, .weekOfYear, .year, .month, .day], from: week.start)
                    labels[key] = (
                        String(format: "%04d-W%02d", components.yearForWeekOfYear ?? 0, components.weekOfYear ?? 0),
                        String(
                            format: "%04d-%02d-%02d", components.year ?? 0, components.month ?? 0, components.day ?? 0)
                    )
                }
                cursor = partEnd
            }
        }
        let weeks = seconds.keys.sorted { ($0.person, $0.weekStart) < ($1.person, $1.weekStart) }.map { key in
            Week(
                person: key.person, name: names[key.person], week: labels[key]?.week ?? "",
                weekStart: labels[key]?.start ?? "", hours: (seconds[key, default: 0] / 3600 * 100).rounded() / 100,
                visits: counted[key, default: 0])
        }
        return VolunteerHours(
            from: ISO8601Time.format(from), to: ISO8601Time.format(to), weeks: weeks, open: open)
    }
}
