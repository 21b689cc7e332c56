import ArgumentParser
import Foundation
import Recognition

/// Reading and writing gallery files for the CLI.
enum GalleryFile {
    /// Reads a gallery; a missing file is an empty gallery when `missingIsEmpty`.
    static func load(_ path: String, missingIsEmpty: Bool = false) throws -> GalleryDocument {
        guard FileManager.default.fileExists(atPath: path) else {
            if missingIsEmpty { return GalleryDocument() }
            printError("gallery \(path) does not exist: enroll people first with `rollcall enroll --gallery \(path)`")
            throw ExitCode(EX_CONFIG_UNAVAILABLE)
        }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try GalleryDocument.decode(data)
        } catch let error as GalleryError {
            printError("gallery \(path): \(error.message)")
            throw ExitCode(EX_CONFIG_UNAVAILABLE)
        } catch {
            printError("cannot read gallery \(path): \(error.localizedDescription)")
            throw ExitCode(EX_CONFIG_UNAVAILABLE)
        }
    }

    /// Writes a gallery atomically (a crash leaves the old file or the new one, never half of one).
    static func save(_ document: GalleryDocument, to path: String) throws {
        do {
            try document.encoded().write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch let error as GalleryError {
            printError("gallery \(path) not written: \(error.message)")
            throw ExitCode.failure
        } catch {
            printError("cannot write gallery \(path): \(error.localizedDescription)")
            throw ExitCode.failure
        }
    }
}

/// The operating point, overridable on the command line.
struct MatchPolicyOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The chance that a stranger's face is taken for someone; the accept distance is calibrated to the gallery from it.",
            valueName: "p"))
    var falseMatchTarget: Double = OperatingPoint.door.falseMatchTarget

    @Option(help: "Least margin: the runner-up person's distance minus the best distance.")
    var minMargin: Float = OperatingPoint.door.minimumMargin

    @Option(help: ArgumentHelp("A fixed accept distance instead of the calibrated one (experiments).", valueName: "d"))
    var acceptDistance: Float?

    var point: OperatingPoint {
        OperatingPoint(falseMatchTarget: falseMatchTarget, minimumMargin: minMargin, fixedDistance: acceptDistance)
    }

    func validate() throws {
        guard OperatingPoint.targets.contains(falseMatchTarget) else {
            throw ValidationError(
                "--false-match-target must be in \(OperatingPoint.targets.lowerBound)...\(OperatingPoint.targets.upperBound)"
            )
        }
        if let acceptDistance, !(acceptDistance > 0 && acceptDistance < 2) {
            throw ValidationError("--accept-distance must be in (0, 2)")
        }
        guard minMargin >= 0 else { throw ValidationError("--min-margin must not be negative") }
    }
}

extension CalibratedMatch {
    /// One line: the accept distance, what it was calibrated from, and the margin.
    var summary: String {
        if let fixed = point.fixedDistance {
            return String(
                format: "operating point: fixed accept distance %.3f, margin %.3f", fixed, point.minimumMargin)
        }
        let source =
            measured
            ? "the gallery's \(cohort.pairs) distances between \(cohort.people) people"
            : "the prior (fewer than \(OperatingPoint.minimumCohortPeople) people in the gallery)"
        return String(
            format: "operating point: accept distance %.3f for %d templates, margin %.3f, false-match target %g; "
                + "non-mated mean %.3f, sd %.3f, from ",
            policy.acceptDistance, templates, point.minimumMargin, point.falseMatchTarget, cohort.mean,
            cohort.deviation) + source
    }
}
