import Foundation
import Hub
import NIOCore

/// What a bulk enrollment reports, row by row: JSON lines for the page's script (`{"type": "row", ...}`),
/// or the report page, sent in pieces as the rows are enrolled, for a browser without the script.
enum BulkReport {
    enum Format {
        /// One JSON object a line: `start`, then one `row` per row, then `summary`.
        case lines
        /// The report page: its top, a table row per row, its end.
        case page
    }

    /// What is about to be enrolled.
    struct Start: Encodable, Sendable {
        var rows: Int
        /// The photos the rows name.
        var photos: Int
        /// The files in the ZIP.
        var files: Int
    }

    /// One row's outcome, in the words of `rollcall-hub import people`.
    struct Row: Encodable, Sendable {
        enum Outcome: String, Encodable, Sendable {
            /// Stored, with every photo it named.
            case stored
            /// Stored, but some of its photos were refused.
            case partly
            /// Nothing stored.
            case refused
        }

        /// The row's number among the rows (1 is the first under the header).
        var row: Int
        /// Its line in the file.
        var line: Int
        var id: String
        var name: String
        var outcome = Outcome.refused
        var enrolled = 0
        var photos: Int
        /// The photos examined by the vision core (not those missing from the ZIP).
        var checked = 0
        /// Each refused photo with the reason, or why the row was refused.
        var refusals: [String] = []
        /// The consent the row recorded: who gave it and the evidence.
        var consent: String?
        /// The row itself could not be read (no id, no name, an unknown role, a consent without evidence).
        var invalid = false

        /// The row refused for what it holds, before any photo is examined.
        func refused(_ reason: String) -> Row {
            var copy = self
            copy.refusals = [reason]
            copy.invalid = true
            return copy
        }

        /// The line `rollcall-hub import people` prints for it.
        var text: String {
            if invalid { return "line \(line): refused: \(refusals.joined(separator: "; "))" }
            var text = "line \(line) \(id): "
            text += outcome == .refused ? "nothing stored" : "\(enrolled) of \(photos) photos enrolled"
            if !refusals.isEmpty { text += "; refused " + refusals.joined(separator: "; ") }
            return text
        }

        /// What the command line counts as problems: each refused photo, and a row that stored nothing.
        var problems: Int { invalid ? 1 : refusals.count + (outcome == .refused ? 1 : 0) }

        enum CodingKeys: String, CodingKey {
            case row, line, id, name, outcome, enrolled, photos, checked, refusals, consent, text
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(row, forKey: .row)
            try container.encode(line, forKey: .line)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(outcome, forKey: .outcome)
            try container.encode(enrolled, forKey: .enrolled)
            try container.encode(photos, forKey: .photos)
            try container.encode(checked, forKey: .checked)
            try container.encode(refusals, forKey: .refusals)
            try container.encodeIfPresent(consent, forKey: .consent)
            try container.encode(text, forKey: .text)
        }
    }

    /// The whole upload's outcome.
    struct Summary: Encodable, Sendable {
        var rows: Int
        var stored = 0
        var problems = 0
        /// Photos examined by the vision core.
        var checked = 0
        var seconds = 0.0
        /// Why the enrollment stopped before the last row; nil when it did not.
        var stopped: String?
        /// Every row's report, for the CSV.
        var reports: [Row] = []

        mutating func add(_ row: Row) {
            reports.append(row)
            if row.outcome != .refused { stored += 1 }
            problems += row.problems
            checked += row.checked
        }

        /// The command line's last line.
        var text: String { "\(stored) of \(rows) people stored, \(problems) problems" }

        /// The report as a CSV file (one line per row).
        var csv: String {
            CSVWriter.document(
                [["line", "id", "name", "outcome", "enrolled", "photos", "consent recorded", "refused"]]
                    + reports.map {
                        [
                            "\($0.line)", $0.id, $0.name, $0.outcome.rawValue, "\($0.enrolled)", "\($0.photos)",
                            $0.consent ?? "", $0.refusals.joined(separator: "; "),
                        ]
                    })
        }

        enum CodingKeys: String, CodingKey {
            case rows, stored, problems, checked, seconds, stopped, text, csv
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(rows, forKey: .rows)
            try container.encode(stored, forKey: .stored)
            try container.encode(problems, forKey: .problems)
            try container.encode(checked, forKey: .checked)
            try container.encode((seconds * 1000).rounded() / 1000, forKey: .seconds)
            try container.encodeIfPresent(stopped, forKey: .stopped)
            try container.encode(text, forKey: .text)
            try container.encode(csv, forKey: .csv)
        }
    }

    /// What the enrollment sends as it goes.
    enum Event: Encodable, Sendable {
        case started(Start)
        case row(Row)
        case finished(Summary)

        enum CodingKeys: String, CodingKey {
            case type
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .started(let start):
                try container.encode("start", forKey: .type)
                try start.encode(to: encoder)
            case .row(let row):
                try container.encode("row", forKey: .type)
                try row.encode(to: encoder)
            case .finished(let summary):
                try container.encode("summary", forKey: .type)
                try summary.encode(to: encoder)
            }
        }
    }

    /// An event as the bytes of the answer.
    static func render(_ event: Event, format: Format, context: WebRequestContext) throws(HubError) -> ByteBuffer {
        switch format {
        case .lines:
            var line = try HubServer.encoded(event)
            line.append(0x0A)
            return ByteBuffer(bytes: line)
        case .page:
            return ByteBuffer(string: try page(event, context: context))
        }
    }

    /// The report page's piece for an event: its top (with the header), a table row, its end.
    static func page(_ event: Event, context: WebRequestContext) throws(HubError) -> String {
        switch event {
        case .started(let start):
            var data: [String: Any] = [
                "title": "Bulk enrollment", "script": false, "rows": start.rows, "photos": start.photos,
                "files": start.files,
                "account": [
                    "name": context.account.name, "role": context.account.role.rawValue,
                    "username": context.account.username,
                ],
                "csrf": context.caller.session.csrf,
            ]
            data["nav"] = WebApp.navigation(for: context.account, current: "/people")
            return try Pages.shared().render("bulk-top", data)
        case .row(let row):
            var data: [String: Any] = [
                "row": row.row, "line": row.line, "id": row.id, "name": row.name, "outcome": row.outcome.rawValue,
                "label": label(row.outcome), "enrolled": row.enrolled, "photos": row.photos, "refusals": row.refusals,
            ]
            if let consent = row.consent { data["consent"] = consent }
            return try Pages.shared().render("bulk-row", data)
        case .finished(let summary):
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let href =
                "data:text/csv;charset=utf-8,"
                + (summary.csv.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
            var data: [String: Any] = [
                "text": summary.text, "clean": summary.problems == 0 && summary.stopped == nil, "csvHref": href,
                "checked": summary.checked, "seconds": String(format: "%.1f", summary.seconds),
            ]
            if let stopped = summary.stopped { data["stopped"] = stopped }
            return try Pages.shared().render("bulk-end", data)
        }
    }

    /// An outcome in words.
    static func label(_ outcome: Row.Outcome) -> String {
        switch outcome {
        case .stored: "stored"
        case .partly: "stored, some photos refused"
        case .refused: "nothing stored"
        }
    }
}
