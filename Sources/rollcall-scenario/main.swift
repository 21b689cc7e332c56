import Foundation
import Scenario

/// `rollcall-scenario [--fixtures DIR] [--frames-dir DIR] OUTDIR`: generates the scenario video and
/// its files into OUTDIR; with `--presentation [--clips N]`, the presentation-attack set instead.
let usage = """
    usage: rollcall-scenario [--fixtures DIR] [--frames-dir DIR] [--fps N] OUTDIR
           rollcall-scenario --presentation [--clips N] [--fixtures DIR] OUTDIR

    Generates scenario.avi, sessions.json, badge-keys.json and manifest.json into OUTDIR.
      --fixtures DIR    the face fixtures folder (default: $ROLLCALL_FIXTURES/faces, else
                        ../shared/fixtures/faces from the current folder)
      --frames-dir DIR  also write frames \(ScenarioVideo.inspectionFrames.map(String.init).joined(separator: ", ")) as PNG there
      --fps N           stamp the video at N frames a second (1 to 120; default \(ScenarioVideo.fps)): the
                        same frames, played slower or faster by a door (a slow board sees the
                        story slowed down, every move as far between two frames as at \(ScenarioVideo.fps) fps)
      --presentation    write the presentation-attack set instead: N clips of each kind (genuine
                        approaches, printed photos, phone screens; --clips, default 20) as
                        clip-NNN.avi, and presentation.json (see rollcall bench presentation)
    """

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("rollcall-scenario: \(message)\n".utf8))
    exit(status)
}

var fixtures: String?
var framesDirectory: String?
var output: String?
var presentation = false
var clips = 20
var rate = ScenarioVideo.fps
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--fixtures", "--frames-dir":
        guard let value = arguments.popFirst() else { fail("\(argument) needs a folder\n\(usage)", status: 64) }
        if argument == "--fixtures" { fixtures = value } else { framesDirectory = value }
    case "--fps":
        guard let value = arguments.popFirst(), let number = Int(value), (1...120).contains(number) else {
            fail("--fps needs a number from 1 to 120\n\(usage)", status: 64)
        }
        rate = number
    case "--presentation":
        presentation = true
    case "--clips":
        guard let value = arguments.popFirst(), let count = Int(value), (1...500).contains(count) else {
            fail("--clips needs a number from 1 to 500\n\(usage)", status: 64)
        }
        clips = count
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
if presentation {
    do {
        let manifest = try PresentationSet.generate(
            fixtures: facesDirectory(option: fixtures), into: URL(fileURLWithPath: output), clipsPerKind: clips
        ) { done, total in
            // A line every tenth of the way: a progress line that reads in a log as on a terminal.
            if done == total || done % max(1, total / 10) == 0 {
                FileHandle.standardError.write(Data("rollcall-scenario: \(done)/\(total) clips written\n".utf8))
            }
        }
        print(
            "rollcall-scenario: wrote \(manifest.clips.count) clips of \(manifest.framesPerClip) frames "
                + "(\(PresentationSet.Kind.allCases.map(\.rawValue).joined(separator: ", "))) and presentation.json to "
                + "\(output) in \(String(format: "%.1f", Date().timeIntervalSince(began))) s")
    } catch {
        fail("\(error)", status: 1)
    }
    exit(0)
}
do {
    let files = try ScenarioVideo.generate(
        fixtures: facesDirectory(option: fixtures), into: URL(fileURLWithPath: output),
        dumpingFrames: framesDirectory == nil ? [] : ScenarioVideo.inspectionFrames,
        to: framesDirectory.map { URL(fileURLWithPath: $0) }, playedAt: rate)
    let manifest = files.manifest
    let seconds = Date().timeIntervalSince(began)
    print(
        "rollcall-scenario: wrote \(manifest.frames) frames (\(manifest.width)x\(manifest.height), \(manifest.fps) fps), "
            + "\(manifest.appearances.count) appearances, \(manifest.expected.count) expected decisions to "
            + "\(files.directory.path) in \(String(format: "%.1f", seconds)) s")
} catch {
    fail("\(error)", status: 1)
}
