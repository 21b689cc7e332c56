import Foundation
import Testing

@testable import Hub

struct CSVWriterTests {
    @Test(
        "cells a spreadsheet would run as a formula get a leading ' and quotes; plain text and numbers stay",
        arguments: [
            ("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""),
            ("+1+2", "\"'+1+2\""), ("-2+3", "\"'-2+3\""), ("@SUM(A1)", "\"'@SUM(A1)\""),
            ("  =1+1", "\"'  =1+1\""), ("\t=1", "\"'\t=1\""), ("\r=1", "\"'\r=1\""),
            ("-12", "-12"), ("-0.25", "-0.25"), ("3.5", "3.5"), ("Ada Lovelace", "Ada Lovelace"),
            ("ill, \"flu\"", "\"ill, \"\"flu\"\"\""), ("", ""), ("a=b", "a=b"), ("-", "\"'-\""),
        ])
    func field(value: String, written: String) {
        #expect(CSVWriter.field(value) == written)
    }

    @Test("every CSV the hub writes neutralises a name, an id, a group, an excuse and a method")
    func reports() {
        let line = SessionReport.Line(
            person: "=cmd|' /C calc'!A0", name: "@SUM(1+1)", onRoster: true, outcome: .late, minutesLate: 3,
            checkinTime: nil, method: "+face", excuse: "-1+1", flags: [])
        let session = SessionReport(
            session: "s-1", group: "=7B", room: "B12", start: "2026-11-02T08:00:00Z", end: "2026-11-02T08:45:00Z",
            status: .closed, lines: [line])
        let group = GroupReport.make(
            group: "=7B", from: Date(timeIntervalSince1970: 0), to: Date(), reports: [session])
        for csv in [session.csv, group.csv] {
            let cells = csv.split(separator: "\r\n").dropFirst().flatMap { $0.split(separator: ",") }
            #expect(!cells.isEmpty)
            for cell in cells {
                let text = cell.hasPrefix("\"") ? cell.dropFirst() : cell
                #expect(!"=+@".contains(text.first ?? " "), "a formula cell: \(cell)")
                #expect(text.first != "-" || Double(text) != nil, "a formula cell: \(cell)")
            }
        }
    }

    @Test("a minutes_late near Int.max does not trap the session summary or the group report")
    func hugeLateness() {
        let lines = (1...3).map { index in
            SessionReport.Line(
                person: "p-\(index)", name: nil, onRoster: true, outcome: .late, minutesLate: Int.max,
                checkinTime: nil, method: "face", excuse: nil, flags: [])
        }
        let session = SessionReport(
            session: "s-1", group: "7B", room: "B12", start: "2026-11-02T08:00:00Z", end: "2026-11-02T08:45:00Z",
            status: .closed, lines: lines)
        #expect(session.summary.contains("3 late"))
        let group = GroupReport.make(group: "7B", from: Date(timeIntervalSince1970: 0), to: Date(), reports: [session])
        #expect((group.people.first?.averageMinutesLate ?? 0) > 9e18)
        #expect(group.csv.contains("p-1"))
    }
}
