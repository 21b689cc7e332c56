public import Attendance
public import Foundation
import SwiftCSV

/// A timetable in CSV, as schools export it: one line per class, either one date or a weekday repeated
/// over a term. Columns (header names, any order):
///
///     class,group,room,date,weekday,first,last,start,end,teacher
///     Maths,7B,B12,,Mon,2026-09-07,2026-12-18,08:00,08:45,lovelace
///     Science trip,7B,B12,2026-10-02,,,,09:00,12:00,lovelace;turing
///
/// `teacher` (optional) names the web accounts that teach the class, separated by `;`: they see and
/// take the roll of its sessions, and the reports of its group.
/// `start` and `end` are local times in the room's timezone. The roster of each session is the group's
/// members (people whose groups include it) when imported. Session ids are made from the class, the
/// group and the local start (`maths-7b-2026-09-07-0800`), so importing the same timetable again
/// updates the same sessions instead of adding new ones.
public enum Timetable {
    /// A line that was not imported, and why.
    public struct Problem: Sendable, Equatable, Codable {
        /// 1-based line of the file (the header is line 1).
        public var line: Int
        public var message: String
    }

    /// What a file holds: the sessions it makes and the lines refused.
    public struct Import: Sendable, Equatable {
        public var sessions: [Session]
        public var problems: [Problem]
        /// The class of each session, by session id.
        public var classNames: [String: String] = [:]
        /// The teachers' usernames of each session that names any, by session id.
        public var teachers: [String: [String]] = [:]
    }

    static let weekdays = ["mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7, "sun": 1]

    /// Reads `text`. `timezones` are the rooms' (a line naming an unknown room is refused); `members`
    /// gives a group's roster.
    public static func parse(
        _ text: String, timezones: [String: TimeZone], members: (String) -> [String]
    ) -> Import {
        let csv: CSV<Named>
        do {
            // SwiftCSV drops the byte-order mark spreadsheets put before a UTF-8 export.
            csv = try CSV<Named>(string: text, delimiter: .comma, loadColumns: false)
        } catch {
            return Import(sessions: [], problems: [Problem(line: 1, message: "not CSV: \(error)")])
        }
        let required = ["class", "group", "room", "start", "end"]
        let missing = required.filter { !csv.header.contains($0) }
        guard missing.isEmpty else {
            return Import(
                sessions: [],
                problems: [Problem(line: 1, message: "the header lacks \(missing.joined(separator: ", "))")])
        }
        var sessions: [Session] = []
        var problems: [Problem] = []
        var classNames: [String: String] = [:]
        var teachers: [String: [String]] = [:]
        for (index, row) in csv.rows.enumerated() {
            let line = index + 2
            func field(_ name: String) -> String { (row[name] ?? "").trimmingCharacters(in: .whitespaces) }
            let name = field("class")
            let group = field("group")
            let room = field("room")
            guard !name.isEmpty, !group.isEmpty else {
                problems.append(Problem(line: line, message: "class and group are required"))
                continue
            }
            guard let timezone = timezones[room] else {
                problems.append(Problem(line: line, message: "no room \(room): add it first"))
                continue
            }
            guard let start = clock(field("start")), let end = clock(field("end")), end > start else {
                problems.append(
                    Problem(line: line, message: "start and end are times such as 08:00 and 08:45, end after start"))
                continue
            }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timezone
            let days: [DateComponents]
            if !field("date").isEmpty {
                guard let day = date(field("date")) else {
                    problems.append(
                        Problem(line: line, message: "date \(field("date")) is not a date such as 2026-10-02"))
                    continue
                }
                days = [day]
            } else {
                guard let weekday = weekdays[String(field("weekday").lowercased().prefix(3))],
                    let first = date(field("first")), let last = date(field("last")),
                    let firstDay = calendar.date(from: first), let lastDay = calendar.date(from: last),
                    firstDay <= lastDay
                else {
                    problems.append(
                        Problem(
                            line: line,
                            message: "give a date, or a weekday (Mon to Sun) with the term's first and last dates"))
                    continue
                }
                var found: [DateComponents] = []
                var cursor = firstDay
                while cursor <= lastDay {
                    if calendar.component(.weekday, from: cursor) == weekday {
                        found.append(calendar.dateComponents([.year, .month, .day], from: cursor))
                    }
                    guard let next = calendar.date(byAdding: .day, value: 1, to: cursor) else { break }
                    cursor = next
                }
                days = found
            }
            let teaching = field("teacher").lowercased().split(separator: ";")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard teaching.count <= 20, teaching.allSatisfy({ $0.count <= 64 }) else {
                problems.append(Problem(line: line, message: "teacher names at most 20 usernames of 64 characters"))
                continue
            }
            let roster = members(group)
            for day in days {
                var begin = day
                begin.hour = start.hour
                begin.minute = start.minute
                var finish = day
                finish.hour = end.hour
                finish.minute = end.minute
                guard let from = calendar.date(from: begin), let to = calendar.date(from: finish) else { continue }
                let id = [
                    slug(name), slug(group),
                    String(format: "%04d-%02d-%02d", day.year ?? 0, day.month ?? 0, day.day ?? 0),
                    String(format: "%02d%02d", start.hour, start.minute),
                ].joined(separator: "-")
                sessions.append(Session(id: id, room: room, group: group, start: from, end: to, roster: roster))
                classNames[id] = name
                if !teaching.isEmpty { teachers[id] = Array(Set(teaching)).sorted() }
            }
        }
        return Import(sessions: sessions, problems: problems, classNames: classNames, teachers: teachers)
    }

    static func clock(_ text: String) -> (hour: Int, minute: Int)? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<24).contains(hour),
            (0..<60).contains(minute)
        else { return nil }
        return (hour, minute)
    }

    static func date(_ text: String) -> DateComponents? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1...12).contains(parts[1]), (1...31).contains(parts[2]) else { return nil }
        return DateComponents(year: parts[0], month: parts[1], day: parts[2])
    }

    static func slug(_ text: String) -> String {
        let lowered = text.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        return String(lowered).split(separator: "-").joined(separator: "-")
    }
}
