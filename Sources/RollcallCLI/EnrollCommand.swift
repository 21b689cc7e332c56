import ArgumentParser
import Attendance
import Enrollment
import Foundation
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
            Task { () -> Result<PhotoEnrollment.Candidate, PhotoEnrollment.Refusal> in
                do {
                    return try await workers.run { engine in try PhotoEnrollment.examine(file: path, engine) }
                } catch {
                    return .failure(PhotoEnrollment.Refusal("\(error)"))
                }
            }
        }
        var added: [GalleryDocument.Template] = []
        var refused = 0
        for (path, task) in zip(images, pending) {
            switch await task.value {
            case .failure(let refusal):
                refused += 1
                printLine("refused \(path): \(refusal.message)")
            case .success(let candidate):
                if let conflict = PhotoEnrollment.conflict(
                    candidate, person: person, in: document, point: thresholds.point)
                {
                    refused += 1
                    printLine("refused \(path): \(conflict.message)")
                    continue
                }
                added.append(
                    GalleryDocument.Template(
                        source: URL(fileURLWithPath: path).lastPathComponent, encoding: candidate.encoding.values,
                        model: FaceEncoding.modelID))
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
}
