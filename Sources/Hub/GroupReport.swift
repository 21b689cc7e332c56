import Attendance
public import Foundation

/// A group over a date range: per person attendance and punctuality, and the sessions missed in a row
/// (the pastoral signal); per session the group's attendance, for the chart.
public struct GroupReport: Sendable, Equatable, Codable {
    /// One person over the range.
    public struct Person: Sendable, Equatable, Codable {
        public var person: String
        public var name: String?
        /// Closed sessions the person was on the roster of.
        public var sessions: Int
        public var present: Int
        public var late: Int
        public var absent: Int
        public var excused: Int
        /// (present + late) / (sessions - excused), or nil without such sessions.
        public var attendance: Double?
        /// present / (present + late), or nil without check-ins.
        public var punctuality: Double?
        public var averageMinutesLate: Double?
        /// Absences in a row up to the latest closed session (excused sessions neither break nor extend it).
        public var missedInARow: Int
        /// Three or more in a row: someone should ask.
        public var pastoral: Bool

        enum CodingKeys: String, CodingKey {
            case person, name, sessions, present, late, absent, excused, attendance, punctuality, pastoral
            case averageMinutesLate = "average_minutes_late"
            case missedInARow = "missed_in_a_row"
        }
    }

    /// One session of the group.
    public struct Point: Sendable, Equatable, Codable {
        public var session: String
        public var start: String
        public var status: SessionStatus
        /// Roster members checked in (present or late) over roster members not excused; nil until closed.
        public var attendance: Double?
        public var present: Int
        public var late: Int
        public var absent: Int
        public var excused: Int
    }

    /// Absences in a row from which a person is flagged for pastoral care.
    public static let pastoralThreshold = 3

    public var group: String
    public var from: String
    public var to: String
    public var people: [Person]
    public var sessions: [Point]

    /// Builds the report from the group's session reports, oldest first.
    public static func make(group: String, from: Date, to: Date, reports: [SessionReport]) -> GroupReport {
        var people: [String: Person] = [:]
        var order: [String] = []
        var lateMinutes: [String: [Int]] = [:]
        var points: [Point] = []
        for report in reports {
            let roster = report.lines.filter(\.onRoster)
            let counts = roster.reduce(into: [SessionReport.Outcome: Int]()) { $0[$1.outcome, default: 0] += 1 }
            let closed = report.status == .closed
            let expected = roster.count - counts[.excused, default: 0]
            let attended = counts[.present, default: 0] + counts[.late, default: 0]
            points.append(
                Point(
                    session: report.session, start: report.start, status: report.status,
                    attendance: closed && expected > 0 ? Double(attended) / Double(expected) : nil,
                    present: counts[.present, default: 0], late: counts[.late, default: 0],
                    absent: counts[.absent, default: 0], excused: counts[.excused, default: 0]))
            guard closed else { continue }
            for line in roster {
                if people[line.person] == nil {
                    order.append(line.person)
                    people[line.person] = Person(
                        person: line.person, name: line.name, sessions: 0, present: 0, late: 0, absent: 0,
                        excused: 0, attendance: nil, punctuality: nil, averageMinutesLate: nil, missedInARow: 0,
                        pastoral: false)
                }
                var person = people[line.person]!
                person.sessions += 1
                switch line.outcome {
                case .present:
                    person.present += 1
                    person.missedInARow = 0
                case .late:
                    person.late += 1
                    person.missedInARow = 0
                    lateMinutes[line.person, default: []].append(line.minutesLate ?? 0)
                case .absent:
                    person.absent += 1
                    person.missedInARow += 1
                case .excused:
                    person.excused += 1
                case .pending:
                    break
                }
                people[line.person] = person
            }
        }
        let lines = order.compactMap { id -> Person? in
            guard var person = people[id] else { return nil }
            let expected = person.sessions - person.excused
            let attended = person.present + person.late
            person.attendance = expected > 0 ? Double(attended) / Double(expected) : nil
            person.punctuality = attended > 0 ? Double(person.present) / Double(attended) : nil
            if let minutes = lateMinutes[id], !minutes.isEmpty {
                // Summed as Double: a device-sent minutes_late near Int.max would trap an Int sum.
                person.averageMinutesLate = minutes.reduce(0.0) { $0 + Double($1) } / Double(minutes.count)
            }
            person.pastoral = person.missedInARow >= pastoralThreshold
            return person
        }
        return GroupReport(
            group: group, from: ISO8601Time.format(from), to: ISO8601Time.format(to), people: lines, sessions: points)
    }

    /// CSV: one line per person.
    public var csv: String {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f", $0 * 100) } ?? "" }
        var rows = [
            [
                "group", "person", "name", "sessions", "present", "late", "absent", "excused", "attendance_percent",
                "punctuality_percent", "average_minutes_late", "missed_in_a_row", "pastoral",
            ]
        ]
        for person in people {
            rows.append([
                group, person.person, person.name ?? "", String(person.sessions), String(person.present),
                String(person.late), String(person.absent), String(person.excused), percent(person.attendance),
                percent(person.punctuality), person.averageMinutesLate.map { String(format: "%.1f", $0) } ?? "",
                String(person.missedInARow), person.pastoral ? "yes" : "no",
            ])
        }
        return CSVWriter.document(rows)
    }
}
