import Foundation
import Imaging
import Recognition
import TestSupport
import Testing
import Vision

/// Runs the built `rollcall` executable, which sits beside the test bundle.
/// The blocking wait happens on a thread of its own, so a test waiting for the program holds none
/// of the few cooperative threads.
func runRollcall(
    _ arguments: [String], environment: [String: String] = [:], executable: String = "rollcall"
) async throws -> (status: Int32, out: String, err: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(
                with: Result { try runRollcallBlocking(arguments, environment: environment, executable: executable) })
        }.start()
    }
}

private func runRollcallBlocking(_ arguments: [String], environment: [String: String], executable: String) throws
    -> (status: Int32, out: String, err: String)
{
    let process = Process()
    let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    process.executableURL = folder.appendingPathComponent(executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["ROLLCALL_MODELS"] = TestResources.models.path
    env["ROLLCALL_FIXTURES"] = TestResources.fixtures.path
    env.merge(environment) { $1 }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes before waiting, so a chatty child cannot block on a full pipe.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (
        process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self)
    )
}

@Suite(
    .enabled(
        if: TestResources.fixturesEnabled && TestResources.modelsEnabled, "needs ../shared/fixtures and the models"))
struct EncodeCommandTests {
    @Test("one JSON line per readable image in argument order; one error line per bad file; exit 1")
    func mixedInputs() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = folder.appendingPathComponent("roster.txt")
        try Data("not an image".utf8).write(to: text)
        let missing = folder.appendingPathComponent("gone.jpg").path
        let two = TestResources.faces.appendingPathComponent("two_people.jpg").path
        let obama = TestResources.faces.appendingPathComponent("obama.jpg").path
        let result = try await runRollcall(["encode", two, missing, text.path, obama])
        #expect(result.status == 1)
        let lines = result.out.split(separator: "\n")
        try #require(lines.count == 2)
        // Keys in the documented order.
        #expect(lines[0].hasPrefix(#"{"image":"\#(two)","width":"#))
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        let faces = try #require(first?["faces"] as? [[String: Any]])
        #expect(faces.count == 2)
        for face in faces {
            #expect((face["box"] as? [Int])?.count == 4)
            #expect((face["landmarks"] as? [[Int]])?.count == 5)
            #expect((face["encoding"] as? [Double])?.count == 128)
        }
        let second = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any]
        #expect(second?["image"] as? String == obama)
        #expect(second?["width"] as? Int == 910 && second?["height"] as? Int == 1137)
        let errors = result.err.split(separator: "\n")
        #expect(errors.count == 2)
        #expect(errors.contains { $0.contains(missing) && $0.contains("no such file") })
        #expect(errors.contains { $0.contains(text.path) && $0.contains("not an image") })
    }

    @Test("all images good: exit 0; upsample 0 misses a 45 px face that upsample 1 finds")
    func upsampleOption() async throws {
        // The detector's window is 80 px; one pyramid-up step halves the smallest face it finds.
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let image = try RGBImage(contentsOfFile: TestResources.faces.appendingPathComponent("obama_small.jpg").path)
            .resized(width: 100, height: 75)
        let small = folder.appendingPathComponent("tiny.png").path
        try PNGWriter.png(width: 100, height: 75, bitDepth: 8, color: .rgb, samples: image.pixels).write(
            to: URL(fileURLWithPath: small))
        let zero = try await runRollcall(["encode", "--upsample", "0", small])
        let one = try await runRollcall(["encode", "--upsample", "1", small])
        #expect(zero.status == 0 && one.status == 0)
        #expect(zero.out.contains(#""faces":[]"#))
        #expect(!one.out.contains(#""faces":[]"#))
    }

    @Test("a bad --upsample is a usage error")
    func badUpsample() async throws {
        let result = try await runRollcall(["encode", "--upsample", "9", "x.jpg"])
        #expect(result.status == 64)
        #expect(result.err.contains("--upsample"))
    }

    @Test("missing models: exit 69 and a message naming the files and the fix")
    func missingModels() async throws {
        let empty = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty) }
        let result = try await runRollcall([
            "encode", "--models", empty.path, TestResources.faces.appendingPathComponent("obama.jpg").path,
        ])
        #expect(result.status == 69)
        #expect(result.out.isEmpty)
        #expect(result.err.contains("dlib_face_recognition_resnet_model_v1.dat"))
        #expect(result.err.contains("make models"))
    }

    @Test("bench vision --json prints its figures, both forward passes, and the reference's when given")
    func benchJSON() async throws {
        let reference = FileManager.default.temporaryDirectory.appendingPathComponent("reference-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: reference) }
        try Data(#"{"detect_ms": 20.0, "landmarks_ms": 1.5, "encode_ms": 80.0}"#.utf8).write(to: reference)
        let result = try await runRollcall(["bench", "vision", "--json", "--runs", "1", "--reference", reference.path])
        #expect(result.status == 0, "\(result.err)")
        let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any]
        for key in [
            "detect_ms", "landmarks_ms", "encode_ms", "batch8_per_face_ms", "encode_dlib_ms", "batch8_dlib_per_face_ms",
        ] {
            let value = try #require(object?[key] as? Double, "\(key)")
            #expect(value > 0)
        }
        #expect((object?["reference"] as? [String: Any])?["encode_ms"] as? Double == 80.0)
        let table = try await runRollcall(["bench", "vision", "--runs", "1", "--reference", reference.path])
        #expect(table.status == 0 && table.out.contains("reference") && table.out.contains("80.00 ms"), "\(table.out)")
        try Data("not json".utf8).write(to: reference)
        let garbage = try await runRollcall(["bench", "vision", "--runs", "1", "--reference", reference.path])
        #expect(garbage.status != 0 && garbage.err.contains("bench_reference.py"), "\(garbage.err)")
    }

    @Test("bench match and bench outbox --json print their figures, and the outbox bench cleans up")
    func otherBenches() async throws {
        let match = try await runRollcall(["bench", "match", "--templates", "2000", "--runs", "5", "--json"])
        #expect(match.status == 0, "\(match.err)")
        let matchFigures = try JSONSerialization.jsonObject(with: Data(match.out.utf8)) as? [String: Any]
        #expect((matchFigures?["median_ms"] as? Double ?? 0) > 0 && matchFigures?["templates"] as? Int == 2000)
        #expect(matchFigures?["kernel"] as? String == MatchKernel.best.name)
        #expect((matchFigures?["read_gb_per_s"] as? Double ?? 0) > 0)
        // Every kernel the CPU runs, on a gallery searched through its 8-bit copy.
        let all = try await runRollcall([
            "bench", "match", "--templates", "\(Matcher.quantizedFrom)", "--runs", "3", "--kernel", "all", "--json",
        ])
        #expect(all.status == 0, "\(all.err)")
        let allFigures = try JSONSerialization.jsonObject(with: Data(all.out.utf8)) as? [String: Any]
        #expect(allFigures?["quantized"] as? Bool == true)
        let kernels = try #require(allFigures?["kernels"] as? [String: Double])
        #expect(Set(kernels.keys) == Set(MatchKernel.supported.map(\.name)))
        #expect(kernels.values.allSatisfy { $0 > 0 })
        let unknown = try await runRollcall(["bench", "match", "--kernel", "avx3"])
        #expect(unknown.status != 0 && unknown.err.contains("not a kernel"), "\(unknown.err)")

        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outbox = try await runRollcall(["bench", "outbox", "--events", "50", "--json", "--dir", folder.path])
        #expect(outbox.status == 0, "\(outbox.err)")
        let figures = try JSONSerialization.jsonObject(with: Data(outbox.out.utf8)) as? [String: Any]
        let median = try #require(figures?["median_ms"] as? Double)
        let p99 = try #require(figures?["p99_ms"] as? Double)
        #expect(median > 0 && p99 >= median && figures?["events"] as? Int == 50)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }
}

@Test("rollcall config check: 0 and a summary for the example, 78 with the key for a broken file")
func configCheck() async throws {
    let example = TestResources.packageRoot.appendingPathComponent("systemd/rollcall.toml").path
    let good = try await runRollcall(["config", "check", example])
    #expect(good.status == 0 && good.out.contains("valid") && good.out.contains("door-b12"), "\(good.err)")
    let folder = try TestResources.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: folder) }
    let broken = folder.appendingPathComponent("rollcall.toml")
    try Data("[device]\nid = \"d\"\n[camera]\nfps = 500\n".utf8).write(to: broken)
    let bad = try await runRollcall(["config", "check", broken.path])
    #expect(bad.status == 78)
    #expect(bad.err.contains("camera.fps: 500 is out of range: use 1 to 120"), "\(bad.err)")
}

@Test("rollcall run refuses a broken configuration with 78 and the key; rollcall status says when no daemon runs")
func runAndStatusRefusals() async throws {
    let folder = try TestResources.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: folder) }
    let broken = folder.appendingPathComponent("rollcall.toml")
    try Data("[device]\nid = \"d\"\n[signage]\nport = \"8081\"\n".utf8).write(to: broken)
    let run = try await runRollcall(["run", "--config", broken.path])
    #expect(run.status == 78 && run.err.contains("signage.port: must be a whole number"), "\(run.err)")
    let token = folder.appendingPathComponent("rollcall-token.toml")
    try Data("[device]\nid = \"d\"\n[hub]\nurl = \"http://127.0.0.1:9\"\ntoken_file = \"/nonexistent/token\"\n".utf8)
        .write(to: token)
    let noToken = try await runRollcall(["run", "--config", token.path])
    #expect(
        noToken.status == 78 && noToken.err.contains("hub.token_file: cannot read /nonexistent/token"), "\(noToken.err)"
    )
    // Port 9 (discard) has nothing listening on loopback.
    let status = try await runRollcall(["status", "--port", "9"])
    #expect(status.status == 3 && status.err.contains("rollcall is not running"), "\(status.err)")
}

@Test(
    "rollcall doctor: each check with its verdict, the fix for a problem, and 1 when a check fails",
    .enabled(if: TestResources.modelsEnabled, "needs the models (make models)"))
func doctor() async throws {
    let folder = try TestResources.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: folder) }
    let video = folder.appendingPathComponent("door.avi")
    try Data("not a video".utf8).write(to: video)
    let config = folder.appendingPathComponent("rollcall.toml")
    try Data(
        "[device]\nid = \"d\"\ndata_dir = \"\(folder.path)\"\n[camera]\nreplay = \"\(video.path)\"\n[signage]\nport = 9\n"
            .utf8
    ).write(to: config)
    let environment = ["ROLLCALL_MODELS": TestResources.models.path]
    let fine = try await runRollcall(["doctor", "--config", config.path], environment: environment)
    let lines = fine.out.split(separator: "\n").map(String.init)
    for (verdict, check) in [
        ("ok", "config"), ("ok", "models"), ("ok", "blas"), ("warn", "camera"), ("ok", "data dir"), ("warn", "hub"),
        ("ok", "disk"), ("warn", "daemon"),
    ] {
        #expect(
            lines.contains { $0.hasPrefix(verdict.padding(toLength: 5, withPad: " ", startingAt: 0) + " " + check) },
            "\(check) is not \(verdict): \(fine.out)")
    }
    #expect(fine.status == 0 && fine.out.hasSuffix("all checks passed\n"), "\(fine.out)\(fine.err)")
    #expect(
        lines.contains { $0.hasPrefix("ok    matcher") && $0.contains("matcher kernel \(MatchKernel.best.name) ") },
        "\(fine.out)")

    let models = folder.appendingPathComponent("models")
    try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
    try Data("damaged".utf8).write(to: models.appendingPathComponent("shape_predictor_5_face_landmarks.dat"))
    try Data("damaged".utf8).write(to: models.appendingPathComponent("dlib_face_recognition_resnet_model_v1.dat"))
    let damaged = try await runRollcall(["doctor", "--config", config.path, "--models", models.path])
    #expect(damaged.status == 1, "\(damaged.out)")
    #expect(damaged.out.contains("FAIL  models") && damaged.out.contains("fix: sudo make install"), "\(damaged.out)")
}
