import Foundation
public import Hub

/// The group report as one server-rendered HTML page: a participation chart over time (inline SVG, no
/// script) and the per-person table, pastoral cases highlighted.
public enum GroupPage {
    public static func html(_ report: GroupReport) -> String {
        let title = "Group \(escape(report.group)): attendance \(report.from.prefix(10)) to \(report.to.prefix(10))"
        var rows = ""
        for person in report.people {
            rows += """
                <tr\(person.pastoral ? " class=\"pastoral\"" : "")><td>\(escape(person.name ?? person.person))</td>\
                <td>\(person.sessions)</td><td>\(percent(person.attendance))</td><td>\(percent(person.punctuality))</td>\
                <td>\(person.late)</td><td>\(person.averageMinutesLate.map { String(format: "%.0f min", $0) } ?? "–")</td>\
                <td>\(person.absent)</td><td>\(person.excused)</td><td>\(person.missedInARow)\(person.pastoral ? " ⚑" : "")</td></tr>

                """
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(title)</title>
            <style>
              body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em; color: #1d2733; max-width: 960px; }
              h1 { font-size: 1.4em; } table { border-collapse: collapse; width: 100%; margin-top: 1.5em; }
              th, td { text-align: left; padding: 0.35em 0.6em; border-bottom: 1px solid #d5dbe1; }
              th { background: #eef2f5; } tr.pastoral td { background: #fde8e6; font-weight: bold; }
              .chart text { font-size: 11px; fill: #4a5866; } .note { color: #4a5866; font-size: 0.9em; }
            </style></head>
            <body>
            <h1>\(title)</h1>
            <p class="note">\(report.sessions.count) sessions; attendance counts present and late against everyone \
            not excused, once a session has closed. ⚑ marks \(GroupReport.pastoralThreshold) or more absences in a row.</p>
            \(chart(report.sessions))
            <table id="people"><thead><tr><th>Name</th><th>Sessions</th><th>Attendance</th><th>On time</th>\
            <th>Late</th><th>Average late</th><th>Absent</th><th>Excused</th><th>Missed in a row</th></tr></thead>
            <tbody>
            \(rows)</tbody></table>
            </body></html>

            """
    }

    /// Attendance per closed session: a line over time with a point per session, 0–100 %.
    static func chart(_ points: [GroupReport.Point]) -> String {
        let width = 860.0
        let height = 260.0
        let left = 56.0
        let right = 16.0
        let top = 16.0
        let bottom = 40.0
        let plotted = points.enumerated().compactMap { index, point in point.attendance.map { (index, point, $0) } }
        let step = points.count > 1 ? (width - left - right) / Double(points.count - 1) : 0
        func x(_ index: Int) -> Double { points.count > 1 ? left + Double(index) * step : (left + width - right) / 2 }
        func y(_ value: Double) -> Double { top + (1 - value) * (height - top - bottom) }
        var svg = """
            <svg class="chart" id="participation" xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" \
            height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" \
            aria-label="attendance per session">

            """
        for level in [0.0, 0.5, 1.0] {
            let yy = String(format: "%.1f", y(level))
            svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(yy)\" y2=\"\(yy)\" stroke=\"#d5dbe1\"/>"
            svg += "<text x=\"4\" y=\"\(String(format: "%.1f", y(level) + 4))\">\(Int(level * 100)) %</text>\n"
        }
        if plotted.count > 1 {
            let path = plotted.map { String(format: "%.1f,%.1f", x($0.0), y($0.2)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"#1f6fb2\" stroke-width=\"2\" points=\"\(path)\"/>\n"
        }
        for (index, point, value) in plotted {
            svg += """
                <circle class="point" cx="\(String(format: "%.1f", x(index)))" cy="\(String(format: "%.1f", y(value)))" \
                r="4" fill="\(value < 0.8 ? "#c0392b" : "#1f6fb2")"><title>\(escape(point.session)): \
                \(Int((value * 100).rounded())) %</title></circle>

                """
        }
        let labelEvery = max(1, points.count / 8)
        for (index, point) in points.enumerated() where index % labelEvery == 0 {
            svg +=
                "<text x=\"\(String(format: "%.1f", x(index) - 16))\" y=\"\(Int(height - 12))\">\(point.start.dropFirst(5).prefix(5))</text>\n"
        }
        if plotted.isEmpty {
            svg += "<text x=\"\(left)\" y=\"\(Int(height / 2))\">no closed session in this range yet</text>\n"
        }
        return svg + "</svg>"
    }

    static func percent(_ value: Double?) -> String { value.map { "\(Int(($0 * 100).rounded())) %" } ?? "–" }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
