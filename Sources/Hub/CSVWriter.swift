import Foundation

/// Writes the CSV files the hub gives out (reports, exports): RFC 4180 quoting, and every cell that a
/// spreadsheet would read as a formula neutralised as OWASP recommends ("CSV Injection").
///
/// A cell is a formula to Excel, LibreOffice or Google Sheets when it begins with `=`, `+`, `-` or `@`
/// (also after leading spaces), or with a tab or a carriage return. Names, ids, group names, excuse
/// reasons and methods come from people and devices, so any of them may; such a cell gets a leading
/// `'` (shown as text, never run) and is quoted. Plain numbers, negative ones included, stay as they are.
public enum CSVWriter {
    /// The document: the rows joined by CRLF, with a final CRLF.
    public static func document(_ rows: [[String]]) -> String {
        rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    /// One cell, neutralised if it could be a formula and quoted if it needs to be.
    public static func field(_ value: String) -> String {
        var text = value
        if isFormula(value) { text = "'" + value }
        let needsQuotes =
            text != value || text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
        guard needsQuotes else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Whether a spreadsheet could take `value` as a formula (or as the start of one).
    static func isFormula(_ value: String) -> Bool {
        guard let first = value.unicodeScalars.first else { return false }
        if first == "\t" || first == "\r" { return true }
        let trimmed = value.drop(while: { $0 == " " })
        guard let lead = trimmed.first, "=+-@".contains(lead) else { return false }
        return !isPlainNumber(value)
    }

    /// `-12`, `3.5`, `-0.25`: numbers a spreadsheet reads as numbers, not formulas.
    static func isPlainNumber(_ value: String) -> Bool {
        var digits = value.utf8[...]
        if digits.first == UInt8(ascii: "-") { digits = digits.dropFirst() }
        let parts = digits.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        }
    }
}
