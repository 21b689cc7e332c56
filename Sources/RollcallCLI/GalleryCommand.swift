import ArgumentParser
import Attendance
import Foundation
import Recognition

/// `rollcall gallery`: checks of a gallery file.
struct GalleryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gallery",
        abstract: "Check a gallery file.",
        subcommands: [GalleryAuditCommand.self]
    )
}

/// `rollcall gallery audit`: the pairs of people the door could confuse.
struct GalleryAuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List the pairs of people whose templates are within the danger zone of each other.",
        discussion: """
            The danger zone is the operating point's accept distance for a search of the whole gallery \
            (calibrated for --false-match-target) plus --min-margin. A pair within the accept distance is \
            "confusable": a photo of one could be checked in as the other, so the door will refuse to \
            decide between them or, worse, pick one. A pair within the margin beyond it is "close": the \
            door often cannot decide between them and asks them to look again. Lookalikes, twins and one \
            person enrolled under two ids show up here. For each pair: add clearer photos of both \
            (different days and light), or switch the two to badges. Exit status 0 when no pair is in \
            the zone, 1 when some are.
            """
    )

    @Option(help: ArgumentHelp("The gallery file.", valueName: "file"))
    var gallery: String

    @Flag(help: "One JSON object: the operating point and the pairs.")
    var json = false

    @OptionGroup var thresholds: MatchPolicyOptions

    func run() async throws {
        let document = try GalleryFile.load(gallery)
        let matrix = document.gallery
        let calibration = thresholds.point.calibrated(to: matrix)
        let accept = calibration.policy.acceptDistance
        let zone = accept + thresholds.point.minimumMargin
        let pairs = GalleryAudit.pairs(in: matrix, within: zone)
        let findings = pairs.map {
            AuditFinding(
                first: $0.first, second: $0.second, distance: $0.distance,
                level: $0.distance <= accept ? "confusable" : "close")
        }
        if json {
            printLine(
                JSONLine.encode(
                    AuditReport(
                        people: matrix.personIDs.count, templates: matrix.count, acceptDistance: accept,
                        dangerZone: zone, pairs: findings)))
        } else {
            printLine(calibration.summary)
            printLine(
                "\(matrix.personIDs.count) people, \(matrix.count) templates; danger zone: templates of two people "
                    + String(format: "within %.3f (accept distance %.3f plus margin %.3f)", zone, accept, zone - accept)
            )
            if findings.isEmpty {
                printLine("no pair of people is in the danger zone")
            } else {
                for finding in findings {
                    let names = [finding.first, finding.second].map { id in
                        document.person(id).map { "\(id) (\($0.name))" } ?? id
                    }
                    printLine(
                        "\(finding.level): \(names[0]) and \(names[1]), "
                            + String(format: "distance %.3f", finding.distance)
                            + ": add clearer photos of both, or switch them to badges")
                }
            }
        }
        if !findings.isEmpty { throw ExitCode.failure }
    }
}

/// One pair in the danger zone.
struct AuditFinding: Encodable {
    var first: String
    var second: String
    var distance: Float
    /// "confusable" (within the accept distance) or "close" (within the margin beyond it).
    var level: String
}

/// `gallery audit --json`.
struct AuditReport: Encodable {
    var people: Int
    var templates: Int
    var acceptDistance: Float
    var dangerZone: Float
    var pairs: [AuditFinding]

    enum CodingKeys: String, CodingKey {
        case people, templates
        case acceptDistance = "accept_distance"
        case dangerZone = "danger_zone"
        case pairs
    }
}
