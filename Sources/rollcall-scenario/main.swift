import Foundation
import Scenario

/// `rollcall-scenario [--fixtures DIR] [--frames-dir DIR] OUTDIR`: generates the scenario video and
/// its files into OUTDIR.
let usage = """
    usage: rollcall-scenario [--fixtures DIR] [--frames-dir DIR] OUTDIR

    Generates scenario.avi, sessions.json, badge-keys.json and manifest.json into OUTDIR.
      --fixtures DIR    the face fixtures folder (default: $ROLLCALL_FIXTURES/faces, else
                        ../shared/fixtures/faces from the current folder)
      --frames-dir DIR  also write frames \(ScenarioVideo.inspectionFrames.map(String.init).joined(separator: ", ")) as PNG there
    """

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("rollcall-scenario: \(message)\n".utf8))
    exit(status)
}

var fixtures: String?
var framesDirectory: String?
var output: String?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--fixtures", "--frames-dir":
        guard let value = arguments.popFirst() else { fail("\(argument) needs a folder\n\(usage)", status: 64) }
        if argument == "--fixtures" { fixtures = value } else { framesDirectory = value }
    case "-h", "--help":
        print(usage)
        exit(0)
    default:
        guard !argument.hasPrefix("-"), output == nil else {
            fail("unexpected argument \(argument)\n\(usage)", status: 64)
        }
        output = argument
    }
}
guard let output else { fail("no output folder\n\(usage)", status: 64) }

/// The faces folder: the option (or the folder holding `faces/` that it names), else
/// `$ROLLCALL_FIXTURES/faces`, else `../shared/fixtures/faces`.
func facesDirectory(option fixtures: String?) -> URL {
    if let fixtures {
        let url = URL(fileURLWithPath: fixtures)
        let nested = url.appendingPathComponent("faces")
        var isDirectory: ObjCBool = false
        let hasNested = FileManager.default.fileExists(atPath: nested.path, isDirectory: &isDirectory)
        return hasNested && isDirectory.boolValue ? nested : url
    }
    if let root = ProcessInfo.processInfo.environment["ROLLCALL_FIXTURES"], !root.isEmpty {
        return URL(fileURLWithPath: root).appendingPathComponent("faces")
    }
    return URL(fileURLWithPath: "../shared/fixtures/faces")
}

let began = Date()
do {
    let files = try ScenarioVideo.generate(
        fixtures: facesDirectory(option: fixtures), into: URL(fileURLWithPath: output),
        dumpingFrames: framesDirectory == nil ? [] : ScenarioVideo.inspectionFrames,
        to: framesDirectory.map { URL(fileURLWithPath: $0) })
    let manifest = files.manifest
    let seconds = Date().timeIntervalSince(began)
    print(
        "rollcall-scenario: wrote \(manifest.frames) frames (\(manifest.width)x\(manifest.height), \(manifest.fps) fps), "
            + "\(manifest.appearances.count) appearances, \(manifest.expected.count) expected decisions to "
            + "\(files.directory.path) in \(String(format: "%.1f", seconds)) s")
} catch {
    fail("\(error)", status: 1)
}
