import ArgumentParser
import Foundation
import Imaging
import Vision

/// Where the face models come from; shared by every command that runs the vision core.
struct ModelOptions: ParsableArguments {
    @Option(
        name: .customLong("models"),
        help: ArgumentHelp(
            "Folder holding the dlib model files.",
            discussion:
                "Without it: $ROLLCALL_MODELS, then models/ next to the executable, then /usr/share/rollcall/models.",
            valueName: "dir"))
    var directory: String?

    /// Loads the models, or stops the command with a one-line error naming the file and the fix.
    func load() throws -> FaceModels {
        do {
            return try FaceModels(locator: ModelLocator(explicitDirectory: directory))
        } catch {
            printError(error.description)
            throw ExitCode(EX_CONFIG_UNAVAILABLE)
        }
    }
}

/// Exit status for missing or unusable models or installation files (sysexits' EX_UNAVAILABLE).
let EX_CONFIG_UNAVAILABLE: Int32 = 69

/// Writes one line to standard error, prefixed with the program's name.
func printError(_ message: String) {
    try? FileHandle.standardError.write(contentsOf: Data("rollcall: \(message)\n".utf8))
}

/// Writes one line to standard output at once, so a reader sees results as they come. When the
/// reader has gone (`rollcall doctor | head -3`), the command ends quietly, as Unix tools do.
func printLine(_ line: String) {
    do {
        try FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
    } catch {
        exit(0)
    }
}

/// Pyramid-up steps before detection; shared by the commands that detect faces in photos.
struct UpsampleOption: ParsableArguments {
    @Option(help: "Pyramid-up steps before detection (0-4): each finds faces half as small, at four times the cost.")
    var upsample = 1

    func validate() throws {
        guard (0...FaceEngine.maximumUpsample).contains(upsample) else {
            throw ValidationError("--upsample must be between 0 and \(FaceEngine.maximumUpsample)")
        }
    }
}
