import ArgumentParser
import Attendance
import Foundation
import Imaging
import Recognition
import Vision

/// `rollcall identify`: who the faces in images are, by a gallery.
struct IdentifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identify",
        abstract: "Say who the faces in images are, by a gallery: best person, distance, margin, accepted.",
        discussion: """
            A face is accepted as a person when its distance to that person's nearest template is at most \
            the accept distance and the next person is at least --min-margin farther. The accept distance \
            is calibrated to the gallery for --false-match-target (the chance that a stranger's face is \
            taken for someone); the first line on standard error says what it is. With --json, one line per \
            image: {"image": PATH, "faces": [{"box": [l, t, r, b], "person": ID or null, "distance": D, \
            "margin": M, "accepted": BOOL}]} where person is the nearest person (null for an empty gallery) \
            and margin is null when the gallery holds one person.
            """
    )

    @Option(help: ArgumentHelp("The gallery file (see rollcall enroll).", valueName: "file"))
    var gallery: String

    @Flag(help: "One JSON object per image.")
    var json = false

    @OptionGroup var detection: UpsampleOption

    @OptionGroup var thresholds: MatchPolicyOptions

    @OptionGroup var models: ModelOptions

    @Argument(help: ArgumentHelp("Image files.", valueName: "image"))
    var images: [String]

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
    }

    func run() async throws {
        let document = try GalleryFile.load(gallery)
        let matrix = document.gallery
        let calibration = thresholds.point.calibrated(to: matrix)
        let policy = calibration.policy
        printError(calibration.summary)
        let workers = try VisionWorkers(
            models: try models.load(), count: min(images.count, ProcessInfo.processInfo.activeProcessorCount))
        let upsample = detection.upsample
        let pending = images.map { path in
            Task { () -> Result<[AnalyzedFace], VisionError> in
                do {
                    return .success(
                        try await workers.run { engine in
                            try engine.analyze(try RGBImage(contentsOfFile: path), upsample: upsample)
                        })
                } catch let error as VisionError {
                    return .failure(error)
                } catch {
                    return .failure(VisionError(.internal, "\(error)", path: path))
                }
            }
        }
        var failures = 0
        for (path, task) in zip(images, pending) {
            switch await task.value {
            case .failure(let error):
                failures += 1
                printError(error.description)
            case .success(let faces):
                let results = faces.map { face in
                    (face, policy.identify(Matcher.match(face.encoding.values, in: matrix)))
                }
                if json {
                    printLine(
                        JSONLine.encode(
                            IdentifiedImage(
                                image: path,
                                faces: results.map { face, identification in
                                    IdentifiedImage.Face(
                                        box: face.detection.box, match: identification.match,
                                        accepted: identification.person != nil)
                                })))
                } else {
                    printLine("\(path): \(faces.count) face\(faces.count == 1 ? "" : "s")")
                    for (face, identification) in results {
                        printLine("  " + describe(face.detection.box, identification, in: document))
                    }
                }
            }
        }
        if failures > 0 { throw ExitCode.failure }
    }

    private func describe(_ box: FaceBox, _ identification: Identification, in document: GalleryDocument) -> String {
        let place = "[\(box.left), \(box.top), \(box.right), \(box.bottom)]"
        guard let match = identification.match else { return "\(place): the gallery is empty" }
        let name = document.person(match.person).map { " (\($0.name))" } ?? ""
        let margin =
            match.margin.isFinite ? String(format: "%.3f", match.margin) : "none (one person in the gallery)"
        let numbers = String(format: "distance %.3f, margin ", match.distance) + margin
        switch identification {
        case .accepted: return "\(place): \(match.person)\(name), \(numbers): accepted"
        case .ambiguous:
            return
                "\(place): nearest \(match.person)\(name), \(numbers): not accepted, too close to \(match.runnerUp ?? "another person")"
        case .unknown: return "\(place): nearest \(match.person)\(name), \(numbers): not accepted, too far"
        }
    }
}

/// One line of `identify --json`: the image, and each face's box, nearest person, distance, margin and
/// whether the policy accepts it (null for what is not there or not finite).
struct IdentifiedImage: Encodable {
    struct Face: Encodable {
        let box: FaceBox
        let match: MatchResult?
        let accepted: Bool

        enum CodingKeys: String, CodingKey { case box, person, distance, margin, accepted }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode([box.left, box.top, box.right, box.bottom], forKey: .box)
            try container.encode(match?.person, forKey: .person)
            try container.encode(match.flatMap { $0.distance.isFinite ? $0.distance : nil }, forKey: .distance)
            try container.encode(match.flatMap { $0.margin.isFinite ? $0.margin : nil }, forKey: .margin)
            try container.encode(accepted, forKey: .accepted)
        }
    }

    let image: String
    let faces: [Face]
}
