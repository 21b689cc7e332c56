import ArgumentParser
import Attendance
import Foundation
import Imaging
import Recognition
import Vision

/// `rollcall bench accuracy`: open-set 1:N accuracy on a folder of identities.
struct AccuracyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accuracy",
        abstract: "Open-set 1:N accuracy on a folder of identities (person/image...): FNIR at FPIR, DET curve.",
        discussion: """
            Each sub-folder of DIR is one person and holds their photos (JPEG, PNG, PGM, ...). Every photo \
            is searched for faces (the largest is kept); a photo without one is a failure to acquire. A share \
            of the people (--enroll-share) is enrolled from their first --photos photos; the others are \
            strangers. Every other photo of every person is a probe searched against the gallery, as the \
            door searches: a mated search when the person is enrolled, a non-mated one when not.

            Reports the figures of ISO/IEC 19795-1 and NIST FRVT 1:N: FPIR (strangers named as someone), \
            FNIR (enrolled people not named as themselves), the misidentification rate, FNIR at FPIR 1% and \
            0.1% (with whether the number of stranger searches can resolve that rate), the genuine and \
            impostor distance distributions, and the same at the door's operating point (the accept \
            distance calibrated to the gallery for --false-match-target). Tracks: --tracks sequences of 10 \
            frames per person and round, each frame one of the person's probe photos picked at random, go \
            through the door's tracker and its consensus (two agreeing searches of three): FPIR per stranger \
            passing the door.

            Round 1 enrolls the first people in name order (natural order: s2 before s10) and their first \
            photos; with --rounds N, rounds 2..N draw the people and photos at random from --seed.
            """
    )

    @Argument(help: ArgumentHelp("A folder with one sub-folder of photos per person.", valueName: "dir"))
    var directory: String

    @Option(help: "Photos enrolled per enrolled person.")
    var photos = 2

    @Option(help: ArgumentHelp("Share of the people enrolled (the rest are strangers).", valueName: "share"))
    var enrollShare = 0.5

    @Option(help: "Rounds of enrollment and search; each after the first draws people and photos anew.")
    var rounds = 1

    @Option(help: "Seed of the random rounds and of the tracks.")
    var seed: UInt64 = 1

    @Option(help: "Door tracks per person and round (0: none).")
    var tracks = 5

    @Option(help: ArgumentHelp("Write the DET curve here, as an SVG image.", valueName: "file.svg"))
    var det: String?

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    @OptionGroup var detection: UpsampleOption

    @OptionGroup var thresholds: MatchPolicyOptions

    @OptionGroup var models: ModelOptions

    func validate() throws {
        guard photos >= 1 else { throw ValidationError("--photos must be at least 1") }
        guard enrollShare > 0, enrollShare < 1 else { throw ValidationError("--enroll-share must be between 0 and 1") }
        guard (1...1000).contains(rounds) else { throw ValidationError("--rounds must be 1 to 1000") }
        guard (0...1000).contains(tracks) else { throw ValidationError("--tracks must be 0 to 1000") }
    }

    func run() async throws {
        let people = try IdentityFolder.read(directory)
        let images = people.flatMap { person in person.images.map { (person.name, $0) } }
        let workers = try VisionWorkers(
            models: try models.load(), count: max(1, ProcessInfo.processInfo.activeProcessorCount))
        let upsample = detection.upsample
        let progress = ProgressLine(total: images.count, label: "photos searched for faces")
        var encodings: [String: [[Float]]] = [:]
        var failures: [String] = []
        try await withThrowingTaskGroup(of: (Int, [Float]?, String?).self) { group in
            var next = 0
            func submit() {
                guard next < images.count else { return }
                let index = next
                let path = images[index].1
                next += 1
                group.addTask {
                    do {
                        let faces = try await workers.run { engine in
                            try engine.analyze(try RGBImage(contentsOfFile: path), upsample: upsample)
                        }
                        let largest = faces.max { $0.detection.box.area < $1.detection.box.area }
                        return (index, largest?.encoding.values, largest == nil ? "no face found" : nil)
                    } catch let error as VisionError {
                        return (index, nil, error.message)
                    }
                }
            }
            for _ in 0..<(2 * ProcessInfo.processInfo.activeProcessorCount) { submit() }
            var results = [(values: [Float]?, problem: String?)](repeating: (nil, nil), count: images.count)
            while let (index, values, problem) = try await group.next() {
                results[index] = (values, problem)
                progress.advance()
                submit()
            }
            for ((person, path), result) in zip(images, results) {
                if let values = result.values {
                    encodings[person, default: []].append(values)
                } else {
                    failures.append("\(path): \(result.problem ?? "no face found")")
                }
            }
        }
        let acquired = people.map { OpenSetBenchmark.Person(name: $0.name, encodings: encodings[$0.name] ?? []) }
        let run = try OpenSetBenchmark(
            people: acquired, photos: photos, enrollShare: enrollShare, rounds: rounds, seed: seed,
            tracks: tracks, point: thresholds.point)
        let report = run.report(
            directory: directory, images: images.count, failures: failures.count, upsample: upsample)
        if let det {
            do {
                try DETChart(report: report).svg.write(toFile: det, atomically: true, encoding: .utf8)
            } catch {
                printError("cannot write \(det): \(error.localizedDescription)")
                throw ExitCode.failure
            }
        }
        if json {
            printLine(JSONLine.encode(report))
        } else {
            for line in report.lines { printLine(line) }
            for failure in failures.prefix(10) { printError("no face: \(failure)") }
            if failures.count > 10 { printError("... and \(failures.count - 10) more photos without a face") }
            if let det { printLine("DET curve: \(det)") }
        }
    }
}

/// A folder of identities: one sub-folder per person, photos inside.
enum IdentityFolder {
    struct Person {
        var name: String
        var images: [String]
    }

    static let extensions: Set<String> = ["jpg", "jpeg", "png", "pgm", "ppm", "pnm", "bmp", "tif", "tiff", "webp"]

    static func read(_ directory: String) throws -> [Person] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            printError("\(directory) is not a folder: give a folder with one sub-folder of photos per person")
            throw ExitCode.validationFailure
        }
        let root = URL(fileURLWithPath: directory)
        let names = ((try? manager.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { !$0.hasPrefix(".") }
            .sorted { $0.localizedStandardCompare($1) == .orderedAscending }
        var people: [Person] = []
        for name in names {
            let folder = root.appendingPathComponent(name)
            var isFolder: ObjCBool = false
            guard manager.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else { continue }
            let files = ((try? manager.contentsOfDirectory(atPath: folder.path)) ?? [])
                .filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted { $0.localizedStandardCompare($1) == .orderedAscending }
            if !files.isEmpty {
                people.append(Person(name: name, images: files.map { folder.appendingPathComponent($0).path }))
            }
        }
        guard people.count >= 2 else {
            printError(
                "\(directory) holds \(people.count) person folder\(people.count == 1 ? "" : "s") with photos: "
                    + "open-set accuracy needs at least two people (one enrolled, one stranger)")
            throw ExitCode.validationFailure
        }
        return people
    }
}

/// A progress line on standard error, redrawn at most every tenth of the work.
final class ProgressLine {
    private let total: Int
    private let label: String
    private var done = 0
    private var shown = 0

    init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    func advance() {
        done += 1
        let step = max(1, total / 10)
        if done - shown >= step || done == total {
            shown = done
            printError("\(done)/\(total) \(label)")
        }
    }

}

extension FaceBox {
    /// Width times height.
    var area: Int { (right - left + 1) * (bottom - top + 1) }
}
