import ArgumentParser
import Foundation
import Pipeline
import Recognition
import Vision

/// `rollcall enroll`: adds a person's face templates to a local gallery file.
struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Add a person's face, from one or more photos, to a gallery file.",
        discussion: """
            Each photo must show exactly one face, large (at least 100 px wide), sharp, lit and looking at \
            the camera; a photo that does not is refused with the reason and adds nothing. A face that \
            already belongs to another person in the gallery is refused too. The other photos are still \
            enrolled; the exit status is 1 when any photo was refused. The gallery file is created when \
            missing and rewritten atomically. Its format is described in the README ("Gallery file").
            """
    )

    @Option(help: ArgumentHelp("The gallery file (created when missing).", valueName: "file"))
    var gallery: String

    @Option(help: ArgumentHelp("The person's id (opaque, as the school's system knows them).", valueName: "id"))
    var person: String

    @Option(help: "The person's display name.")
    var name: String

    @Option(name: .customLong("role"), help: ArgumentHelp("student, volunteer or staff.", valueName: "role"))
    var roleName: String

    var role: PersonRole { PersonRole(rawValue: roleName) ?? .student }

    @Option(
        name: .customLong("group"),
        help: ArgumentHelp("A class or cohort (repeatable; without it, known groups are kept).", valueName: "name"))
    var groups: [String] = []

    @OptionGroup var thresholds: MatchPolicyOptions

    @OptionGroup var models: ModelOptions

    @Argument(help: ArgumentHelp("Photos of the person, one face each.", valueName: "image"))
    var images: [String]

    func validate() throws {
        guard !person.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--person is empty") }
        guard !images.isEmpty else { throw ValidationError("give at least one photo") }
        guard PersonRole(rawValue: roleName) != nil else {
            throw ValidationError("--role must be student, volunteer or staff")
        }
    }

    func run() async throws {
        var document = try GalleryFile.load(gallery, missingIsEmpty: true)
        let workers = try VisionWorkers(
            models: try models.load(), count: min(images.count, ProcessInfo.processInfo.activeProcessorCount))
        let pending = images.map { path in
            Task { () -> Result<Candidate, EnrollRefusal> in
                do {
                    return try await workers.run { engine in try Self.examine(path, engine) }
                } catch {
                    return .failure(EnrollRefusal("\(error)"))
                }
            }
        }
        var added: [GalleryDocument.Template] = []
        var refused = 0
        // Another person's face within the accept distance means the photo is of them, or the two are
        // lookalikes the door could not tell apart: either way, not this person's template.
        var others = document
        others.people.removeAll { $0.id == person }
        let othersMatrix = others.gallery
        for (path, task) in zip(images, pending) {
            switch await task.value {
            case .failure(let refusal):
                refused += 1
                printLine("refused \(path): \(refusal.message)")
            case .success(let candidate):
                if let match = Matcher.match(candidate.encoding.values, in: othersMatrix),
                    match.distance <= thresholds.policy.acceptDistance
                {
                    refused += 1
                    printLine(
                        "refused \(path): this face is already enrolled as \(match.person) "
                            + String(format: "(distance %.3f)", match.distance))
                    continue
                }
                added.append(
                    GalleryDocument.Template(
                        source: URL(fileURLWithPath: path).lastPathComponent, encoding: candidate.encoding.values))
                printLine("enrolled \(path): \(candidate.summary)")
            }
        }
        if !added.isEmpty {
            // Without --group, a person keeps the groups they already have.
            let known = document.person(person)?.groups ?? []
            let newPerson = Person(id: person, name: name, role: role, groups: groups.isEmpty ? known : groups)
            document.enroll(newPerson, templates: added)
            try GalleryFile.save(document, to: gallery)
        }
        let total = document.people.first { $0.id == person }?.templates.count ?? 0
        let templates = document.people.reduce(0) { $0 + $1.templates.count }
        printLine(
            "\(person) (\(name), \(role.rawValue)): \(added.count) template\(added.count == 1 ? "" : "s") added, "
                + "\(total) in total; \(gallery) holds \(document.people.count) people, \(templates) templates")
        if refused > 0 { throw ExitCode.failure }
    }

    /// A face that passed every check, ready to enroll.
    struct Candidate: Sendable {
        var encoding: FaceEncoding
        var summary: String
    }

    /// Finds the one face of a photo, checks its quality and encodes it (on a vision worker).
    static func examine(_ path: String, _ engine: FaceEngine) throws -> Result<Candidate, EnrollRefusal> {
        let image: RGBImage
        do {
            image = try RGBImage(contentsOfFile: path)
        } catch {
            return .failure(EnrollRefusal(error.message))
        }
        // Upsample 1 finds faces down to about 40 px, so a small second face in the background is
        // noticed (and refused) rather than silently ignored.
        let detections = try engine.detect(in: image, upsample: 1)
        guard detections.count == 1 else {
            return .failure(
                EnrollRefusal(
                    detections.isEmpty
                        ? "no face found: use a photo where the face is clearly visible"
                        : "\(detections.count) faces found: use a photo with exactly one face"))
        }
        let landmarks = try engine.landmarks(in: image, boxes: [detections[0].box])
        let measurements = try engine.measure(in: image, faces: landmarks)
        let sample = FaceSample(landmarks[0], measurements[0])
        if let rejection = QualityGate.enrollment.check(sample) {
            return .failure(EnrollRefusal(rejection.message + " (\(describe(sample)))"))
        }
        let encoding = try engine.encode(in: image, faces: landmarks)[0]
        return .success(Candidate(encoding: encoding, summary: describe(sample)))
    }

    static func describe(_ sample: FaceSample) -> String {
        String(
            format: "face %d px wide, sharpness %.0f, brightness %.0f, contrast %.0f, symmetry %.2f, roll %.0f°",
            sample.width, sample.sharpness, sample.brightness, sample.contrast, sample.pose?.symmetry ?? 0,
            sample.pose?.roll ?? 0)
    }
}

/// Why a photo was not enrolled.
struct EnrollRefusal: Error, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
}
