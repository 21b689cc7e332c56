import Foundation
import Recognition

/// The DET curve of a `bench accuracy` run as an SVG image: FNIR against FPIR on log axes from 0.1% to
/// 100% (the way NIST draws them; a rate of zero sits on the axis), the door's operating point marked,
/// and beside it the genuine and impostor distance histograms.
struct DETChart {
    let report: AccuracyReport

    static let floor = 0.001
    let size = (width: 900.0, height: 440.0)
    let plot = (left: 70.0, top: 40.0, side: 340.0)
    let histogram = (left: 500.0, top: 40.0, width: 360.0, height: 340.0)

    /// Where a rate sits on a log axis of `side` points, from `floor` at 0 to 1 at `side`.
    func position(_ rate: Double) -> Double {
        let clipped = min(1, max(Self.floor, rate))
        return (log10(clipped) - log10(Self.floor)) / -log10(Self.floor) * plot.side
    }

    func x(_ fpir: Double) -> Double { plot.left + position(fpir) }
    func y(_ fnir: Double) -> Double { plot.top + plot.side - position(fnir) }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    var svg: String {
        let f = Self.format
        var parts: [String] = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(size.width))\" height=\"\(Int(size.height))\" "
                + "viewBox=\"0 0 \(Int(size.width)) \(Int(size.height))\" font-family=\"sans-serif\" font-size=\"12\">",
            "<title>DET curve: \(Self.escape((report.dataset.directory as NSString).lastPathComponent))</title>",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
        ]
        // Decades and labels.
        for decade in [0.001, 0.01, 0.1, 1] {
            let label = decade >= 0.01 ? String(format: "%.0f%%", decade * 100) : String(format: "%.1f%%", decade * 100)
            parts.append(
                "<line x1=\"\(f(x(decade)))\" y1=\"\(f(plot.top))\" x2=\"\(f(x(decade)))\" y2=\"\(f(plot.top + plot.side))\" stroke=\"#ddd\"/>"
            )
            parts.append(
                "<line x1=\"\(f(plot.left))\" y1=\"\(f(y(decade)))\" x2=\"\(f(plot.left + plot.side))\" y2=\"\(f(y(decade)))\" stroke=\"#ddd\"/>"
            )
            parts.append(
                "<text x=\"\(f(x(decade)))\" y=\"\(f(plot.top + plot.side + 16))\" text-anchor=\"middle\">\(label)</text>"
            )
            parts.append(
                "<text x=\"\(f(plot.left - 6))\" y=\"\(f(y(decade) + 4))\" text-anchor=\"end\">\(label)</text>")
        }
        parts.append(
            "<rect x=\"\(f(plot.left))\" y=\"\(f(plot.top))\" width=\"\(f(plot.side))\" height=\"\(f(plot.side))\" fill=\"none\" stroke=\"black\"/>"
        )
        parts.append(
            "<text x=\"\(f(plot.left + plot.side / 2))\" y=\"\(f(plot.top + plot.side + 34))\" text-anchor=\"middle\">"
                + "FPIR: strangers named as someone (\(report.nonMatedSearches) searches)</text>")
        parts.append(
            "<text transform=\"translate(16 \(f(plot.top + plot.side / 2))) rotate(-90)\" text-anchor=\"middle\">"
                + "FNIR: enrolled people not recognised (\(report.matedSearches) searches)</text>")
        parts.append(
            "<text x=\"\(f(plot.left))\" y=\"24\" font-size=\"14\" font-weight=\"bold\">DET, "
                + "\(report.dataset.people) people, margin \(String(format: "%.2f", report.operatingPoint.minimumMargin))</text>"
        )
        // The curve, as steps.
        var path: [String] = []
        for point in report.det {
            path.append("\(path.isEmpty ? "M" : "L")\(f(x(point.fpir))) \(f(y(point.fnir)))")
        }
        if !path.isEmpty {
            parts.append(
                "<path d=\"\(path.joined(separator: " "))\" fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"2\"/>")
        }
        let point = report.operatingPoint
        parts.append(
            "<circle cx=\"\(f(x(point.fpir)))\" cy=\"\(f(y(point.fnir)))\" r=\"5\" fill=\"#d62728\">"
                + "<title>operating point: FPIR \(String(format: "%.2f%%", point.fpir * 100)), "
                + "FNIR \(String(format: "%.2f%%", point.fnir * 100))</title></circle>")
        parts.append(
            "<text x=\"\(f(x(point.fpir) + 8))\" y=\"\(f(y(point.fnir) - 8))\" fill=\"#d62728\">operating point "
                + "(target \(point.falseMatchTarget))</text>")
        parts += histogramParts()
        parts.append("</svg>")
        return parts.joined(separator: "\n") + "\n"
    }

    /// The genuine and impostor distance histograms, 0 to 1.2, each scaled to its own largest bin.
    func histogramParts() -> [String] {
        let f = Self.format
        let range = 1.2
        var parts = [
            "<text x=\"\(f(histogram.left))\" y=\"24\" font-size=\"14\" font-weight=\"bold\">Distances to the nearest template</text>",
            "<rect x=\"\(f(histogram.left))\" y=\"\(f(histogram.top))\" width=\"\(f(histogram.width))\" height=\"\(f(histogram.height))\" fill=\"none\" stroke=\"black\"/>",
        ]
        for tick in stride(from: 0.0, through: range, by: 0.2) {
            let tx = histogram.left + tick / range * histogram.width
            parts.append(
                "<text x=\"\(f(tx))\" y=\"\(f(histogram.top + histogram.height + 16))\" text-anchor=\"middle\">\(String(format: "%.1f", tick))</text>"
            )
        }
        for (distribution, colour, label, row) in [
            (report.genuine, "#2ca02c", "genuine (own person)", 0),
            (report.impostor, "#ff7f0e", "impostor (strangers)", 1),
        ] {
            let largest = Double(distribution.histogram.max() ?? 0)
            guard largest > 0 else { continue }
            let width = Double(distribution.bin) / range * histogram.width
            for (bin, count) in distribution.histogram.enumerated() where count > 0 {
                let height = Double(count) / largest * (histogram.height - 30)
                let bx = histogram.left + Double(bin) * width
                guard bx < histogram.left + histogram.width else { break }
                parts.append(
                    "<rect x=\"\(f(bx))\" y=\"\(f(histogram.top + histogram.height - height))\" width=\"\(f(width))\" "
                        + "height=\"\(f(height))\" fill=\"\(colour)\" fill-opacity=\"0.55\"/>")
            }
            parts.append(
                "<text x=\"\(f(histogram.left + 8))\" y=\"\(f(histogram.top + 16 + Double(row) * 16))\" fill=\"\(colour)\">"
                    + "\(label): \(distribution.count)</text>")
        }
        for calibration in report.operatingPoint.calibrations.prefix(1) {
            let ax = histogram.left + Double(calibration.acceptDistance) / range * histogram.width
            parts.append(
                "<line x1=\"\(f(ax))\" y1=\"\(f(histogram.top))\" x2=\"\(f(ax))\" y2=\"\(f(histogram.top + histogram.height))\" stroke=\"#d62728\" stroke-dasharray=\"4 3\"/>"
            )
            parts.append(
                "<text x=\"\(f(ax + 4))\" y=\"\(f(histogram.top + 52))\" fill=\"#d62728\">accept \(String(format: "%.3f", calibration.acceptDistance))</text>"
            )
        }
        return parts
    }
}
