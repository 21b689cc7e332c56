import Foundation
public import Hub

/// The group report's page (group.mustache): a participation chart over time (inline SVG, no script)
/// and the per-person table, pastoral cases highlighted.
public enum GroupPage {
    /// The page on its own (`rollcall-hub report group --format html`): no account, no navigation.
    public static func html(_ report: GroupReport) throws(HubError) -> String {
        var data = data(report)
        data["title"] = title(report)
        data["standalone"] = true
        return try Pages.shared().render("group", data)
    }

    static func title(_ report: GroupReport) -> String {
        "Group \(report.group): attendance \(report.from.prefix(10)) to \(report.to.prefix(10))"
    }

    /// What group.mustache shows of a report.
    static func data(_ report: GroupReport) -> [String: Any] {
        [
            "sessionCount": report.sessions.count,
            "threshold": GroupReport.pastoralThreshold,
            "chart": chart(report.sessions),
            "people": report.people.map { person -> [String: Any] in
                [
                    "name": person.name ?? person.person, "sessions": person.sessions,
                    "attendance": percent(person.attendance), "punctuality": percent(person.punctuality),
                    "late": person.late,
                    "averageLate": person.averageMinutesLate.map { String(format: "%.0f min", $0) } ?? "–",
                    "absent": person.absent, "excused": person.excused, "missedInARow": person.missedInARow,
                    "pastoral": person.pastoral,
                ]
            },
        ]
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
            <svg class="chart" id="participation" xmlns="http://www.w3.org/2000/svg" width="100%" \
            viewBox="0 0 \(Int(width)) \(Int(height))" role="img" \
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
