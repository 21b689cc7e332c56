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

/// The match thresholds, overridable on the command line.
struct MatchPolicyOptions: ParsableArguments {
    @Option(help: "Largest distance to a person's nearest template that can be that person.")
    var acceptDistance: Float = MatchPolicy.door.acceptDistance

    @Option(help: "Least margin: the runner-up person's distance minus the best distance.")
    var minMargin: Float = MatchPolicy.door.minimumMargin

    var policy: MatchPolicy { MatchPolicy(acceptDistance: acceptDistance, minimumMargin: minMargin) }

    func validate() throws {
        guard acceptDistance > 0, acceptDistance < 2 else {
            throw ValidationError("--accept-distance must be in (0, 2)")
        }
        guard minMargin >= 0 else { throw ValidationError("--min-margin must not be negative") }
    }
}
