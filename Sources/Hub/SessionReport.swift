public import Attendance
public import Crypto
public import Foundation

/// Who may call what: staff read reports and set flags and excuses; the public API reads
/// pseudonymous figures; the admin token (given to the hub at start) can do everything; devices have
/// their own tokens (`DeviceRecord`).
public enum TokenScope: String, Sendable, Codable, CaseIterable {
    case admin, staff, `public`
}

/// A mentor's flag on a person in a session.
public enum MentorFlag: String, Sendable, Codable, CaseIterable {
    case leftEarly = "LEFT_EARLY"
    case cameraOff = "CAMERA_OFF"
    case lowParticipation = "LOW_PARTICIPATION"
    case absent = "ABSENT"
}

/// Where a session stands, as the school system defines it: `draft` until check-in opens (30 min before
/// the start, the policy's window), `open` until the end, then `closed`.
public enum SessionStatus: String, Sendable, Codable {
    case draft, open, closed

    /// The status of `session` at `time`.
    public static func of(_ session: Session, at time: Date, policy: AttendancePolicy) -> SessionStatus {
        if time < session.start - policy.checkinOpensBefore { return .draft }
        return time < session.end + policy.checkinClosesAfterEnd ? .open : .closed
    }
}

/// One session's attendance: every roster member with the outcome, the check-in, the excuse and the
/// mentor's flags; check-ins of people not on the roster are listed too.
public struct SessionReport: Sendable, Equatable, Codable {
    /// A person's outcome in the session.
    public enum Outcome: String, Sendable, Codable {
        /// Checked in on time.
        case present
        /// Checked in after the grace period.
        case late
        /// No check-in, and the session has closed.
        case absent
        /// No check-in, excused by staff.
        case excused
        /// No check-in yet; the session has not closed.
        case pending
    }

    /// One person's line.
    public struct Line: Sendable, Equatable, Codable {
        public var person: String
        public var name: String?
        public var onRoster: Bool
        public var outcome: Outcome
        public var minutesLate: Int?
        public var checkinTime: String?
        /// `face`, `qr`, or `manual` when staff set it.
        public var method: String?
        public var excuse: String?
        public var flags: [MentorFlag]
        /// Where the record came from: `signage:<door>`, or `web` for a staff member's mark.
        public var source: String? = nil
        /// The web account that set a manual record.
        public var setBy: String? = nil
        /// When the hub stored the record (not in the JSON: the live roll call measures with it).
        public var storedAt: Date? = nil

        /// A line.
        public init(
            person: String, name: String?, onRoster: Bool, outcome: Outcome, minutesLate: Int?, checkinTime: String?,
            method: String?, excuse: String?, flags: [MentorFlag]
        ) {
            self.person = person
            self.name = name
            self.onRoster = onRoster
            self.outcome = outcome
            self.minutesLate = minutesLate
            self.checkinTime = checkinTime
            self.method = method
            self.excuse = excuse
            self.flags = flags
        }

        enum CodingKeys: String, CodingKey {
            case person, name, outcome, method, excuse, flags, source
            case setBy = "set_by"
            case onRoster = "on_roster"
            case minutesLate = "minutes_late"
            case checkinTime = "checkin_time"
        }
    }

    public var session: String
    /// The class ("Maths"), when the session came from a timetable.
    public var className: String?
    public var group: String
    public var room: String
    public var start: String
    public var end: String
    public var status: SessionStatus
    public var lines: [Line]

    enum CodingKeys: String, CodingKey {
        case session, group, room, start, end, status, lines
        case className = "class_name"
    }

    /// A report.
    public init(
        session: String, group: String, room: String, start: String, end: String, status: SessionStatus,
        lines: [Line]
    ) {
        self.session = session
        self.group = group
        self.room = room
        self.start = start
        self.end = end
        self.status = status
        self.lines = lines
    }

    /// How many lines have each outcome.
    public var counts: [Outcome: Int] { lines.reduce(into: [:]) { $0[$1.outcome, default: 0] += 1 } }

    /// The report as CSV: a header, then one line per person (RFC 4180 quoting; flags joined with `;`;
    /// `source` and `set_by` say where each record came from: a door, or the staff account at `web`).
    public var csv: String {
        var rows = [
            [
                "session", "group", "person", "name", "outcome", "minutes_late", "checkin_time", "method", "excuse",
                "flags", "source", "set_by",
            ]
        ]
        for line in lines {
            rows.append([
                session, group, line.person, line.name ?? "", line.outcome.rawValue,
                line.minutesLate.map(String.init) ?? "",
                line.checkinTime ?? "", line.method ?? "", line.excuse ?? "",
                line.flags.map(\.rawValue).joined(separator: ";"), line.source ?? "", line.setBy ?? "",
            ])
        }
        return CSVWriter.document(rows)
    }

    /// Builds the report from the stored facts.
    public static func make(
        session: Session, policy: AttendancePolicy, now: Date, records: [CheckinRecord], names: [String: String],
        excuses: [String: String], flags: [String: [MentorFlag]]
    ) -> SessionReport {
        let status = SessionStatus.of(session, at: now, policy: policy)
        let byPerson = Dictionary(records.map { ($0.person, $0) }, uniquingKeysWith: { first, _ in first })
        func line(_ person: String, onRoster: Bool) -> Line {
            var line = Line(
                person: person, name: names[person], onRoster: onRoster, outcome: .pending, minutesLate: nil,
                checkinTime: nil, method: nil, excuse: excuses[person],
                flags: (flags[person] ?? []).sorted {
                    $0.rawValue < $1.rawValue
                })
            if let record = byPerson[person] {
                // A staff member's mark may also be absent or excused; it stands against any later door event.
                switch record.status {
                case "late": line.outcome = .late
                case "absent": line.outcome = .absent
                case "excused":
                    line.outcome = .excused
                    line.excuse = record.reason ?? line.excuse
                default: line.outcome = .present
                }
                line.minutesLate = record.status == "late" ? record.minutesLate : nil
                if line.outcome == .present || line.outcome == .late {
                    line.checkinTime = ISO8601Time.format(record.checkinTime)
                }
                line.method = record.method
                line.source = record.source
                line.setBy = record.setBy
                line.storedAt = record.storedAt
            } else if excuses[person] != nil {
                line.outcome = .excused
            } else if status == .closed {
                line.outcome = .absent
            }
            return line
        }
        let roster = Set(session.roster)
        let guests = records.map(\.person).filter { !roster.contains($0) }
        return SessionReport(
            session: session.id, group: session.group, room: session.room, start: ISO8601Time.format(session.start),
            end: ISO8601Time.format(session.end), status: status,
            lines: session.roster.map { line($0, onRoster: true) }
                + Set(guests).sorted().map { line($0, onRoster: false) })
    }
}

/// A session's attendance as the public API gives it: each person only as a pseudonym (an HMAC-SHA256
/// of the person id under the deployment's secret key: stable across reports, not reversible without
/// the key), the outcome and minutes late. No names, photos, excuse reasons or flags.
public struct PublicSessionReport: Sendable, Equatable, Codable {
    /// One person's line.
    public struct Line: Sendable, Equatable, Codable {
        public var subject: String
        public var outcome: SessionReport.Outcome
        public var minutesLate: Int?

        enum CodingKeys: String, CodingKey {
            case subject, outcome
            case minutesLate = "minutes_late"
        }

        /// Every key, `minutes_late` as null when there are none.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(subject, forKey: .subject)
            try container.encode(outcome, forKey: .outcome)
            try container.encode(minutesLate, forKey: .minutesLate)
        }
    }

    public var session: String
    public var group: String
    public var start: String
    public var end: String
    public var status: SessionStatus
    public var lines: [Line]

    /// The public form of `report`, pseudonyms made with `key`.
    public init(_ report: SessionReport, key: SymmetricKey) {
        session = report.session
        group = report.group
        start = report.start
        end = report.end
        status = report.status
        lines = report.lines.filter(\.onRoster).map { line in
            Line(
                subject: Self.pseudonym(line.person, key: key), outcome: line.outcome,
                minutesLate: line.outcome == .late ? line.minutesLate : nil)
        }
    }

    /// `anon-` and the first 16 bytes of HMAC-SHA256(key, person id), in hex.
    public static func pseudonym(_ person: String, key: SymmetricKey) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(person.utf8), using: key)
        return "anon-" + code.prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}

extension SessionReport {
    /// A few lines about the session, for a chat post: who came, who was late, who is missing, flags.
    public var summary: String {
        let roster = lines.filter(\.onRoster)
        func names(_ outcome: Outcome) -> [String] {
            roster.filter { $0.outcome == outcome }.map { $0.name ?? $0.person }
        }
        let attended = roster.filter { $0.outcome == .present || $0.outcome == .late }.count
        let day = start.prefix(10)
        var text =
            (className.map { "\($0) " } ?? "")
            + "\(group), \(day) \(start.dropFirst(11).prefix(5))–\(end.dropFirst(11).prefix(5)) UTC (room \(room)): "
        text += "\(attended) of \(roster.count) came"
        let late = roster.filter { $0.outcome == .late }
        if !late.isEmpty {
            // Summed and printed as Double: Int arithmetic on a device-sent minutes_late could trap.
            let average = late.compactMap(\.minutesLate).reduce(0.0) { $0 + Double($1) } / Double(late.count)
            text += ", \(late.count) late (on average \(String(format: "%.0f", average)) min)"
        }
        text += "."
        switch status {
        case .closed:
            let absent = names(.absent)
            if !absent.isEmpty { text += " Absent: \(absent.joined(separator: ", "))." }
        case .open, .draft:
            let pending = names(.pending)
            if !pending.isEmpty { text += " Not in yet: \(pending.joined(separator: ", "))." }
        }
        let excused = names(.excused)
        if !excused.isEmpty { text += " Excused: \(excused.joined(separator: ", "))." }
        let flagged = roster.filter { !$0.flags.isEmpty }.map {
            "\($0.name ?? $0.person) (\($0.flags.map { $0.rawValue.lowercased().replacingOccurrences(of: "_", with: " ") }.joined(separator: ", ")))"
        }
        if !flagged.isEmpty { text += " Flags: \(flagged.joined(separator: "; "))." }
        if attended == roster.count && !roster.isEmpty { text += " Everyone was there." }
        return text
    }
}
