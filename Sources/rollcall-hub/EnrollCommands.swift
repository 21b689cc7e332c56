import ArgumentParser
import Attendance
import Enrollment
import Foundation
import Hub
import Recognition
import SwiftCSV
import SyncProtocol
import Vision

/// Enrollment on the hub: photos through the same vision core as the door, into the hub's gallery, which
/// reaches the devices with their next gallery delta.
enum HubEnrollment {
    /// What enrolling one person did.
    struct Outcome {
        var enrolled = 0
        var refusals: [String] = []
        var stored = false
    }

    /// Examines `photos` (label and path) for `person`; stores the person with the accepted templates
    /// (added to theirs, or replacing them). A person with photos none of which is usable is not stored;
    /// one without photos (a volunteer with a badge) is stored as they are.
    /// `document` is the hub's gallery (`load`), kept up to date here, so that a bulk import reads it once.
    /// Templates need consent: `consent` (recorded with them), or a granted consent on record; without
    /// either, no photo is examined and the person is not stored.
    static func enroll(
        _ person: Person, photos: [(label: String, path: String)], replace: Bool, consent: ConsentRecord?,
        storage: any HubStorage, workers: VisionWorkers, document: inout GalleryDocument
    ) async throws -> Outcome {
        var outcome = Outcome()
        if !photos.isEmpty, consent?.state != .granted {
            var onRecord = consent?.state
            if onRecord == nil { onRecord = try await storage.consentHistory(person.id).last?.state }
            if onRecord != .granted {
                outcome.refusals.append(HubError.noConsent(person.id, onRecord).message)
                return outcome
            }
        }
        var added: [GalleryDocument.Template] = []
        for (label, path) in photos {
            let result: Result<PhotoEnrollment.Candidate, PhotoEnrollment.Refusal>
            do {
                result = try await workers.run { engine in try PhotoEnrollment.examine(file: path, engine) }
            } catch {
                result = .failure(PhotoEnrollment.Refusal("\(error)"))
            }
            switch result {
            case .failure(let refusal): outcome.refusals.append("\(label): \(refusal.message)")
            case .success(let candidate):
                if let conflict = PhotoEnrollment.conflict(
                    candidate, person: person.id, in: document, point: .door)
                {
                    outcome.refusals.append("\(label): \(conflict.message)")
                    continue
                }
                added.append(
                    GalleryDocument.Template(
                        source: label, encoding: candidate.encoding.values, model: FaceEncoding.modelID))
            }
        }
        outcome.enrolled = added.count
        guard photos.isEmpty || !added.isEmpty else { return outcome }
        let existing = replace ? [] : (document.people.first { $0.id == person.id }?.templates ?? [])
        var single = GalleryDocument()
        single.enroll(person, templates: existing + added)
        try await storage.upsertPerson(single.people[0], consent: consent)
        document.people.removeAll { $0.id == person.id }
        document.people.append(single.people[0])
        outcome.stored = true
        return outcome
    }

    /// The hub's whole gallery.
    static func load(_ storage: any HubStorage) async throws -> GalleryDocument {
        var document = GalleryDocument()
        document.people = try await storage.galleryDelta(since: 0).upserts
        return document
    }

    /// The consent a command line or CSV row gives: `guardian` or `self` with the evidence reference.
    static func consent(_ by: String?, evidence: String?, person: String) throws(HubError) -> ConsentRecord? {
        guard let by, !by.isEmpty else { return nil }
        guard let giver = ConsentGiver(rawValue: by), giver != .unrecorded else {
            throw HubError(.badRequest, "consent is given by guardian or self, not \(by)")
        }
        return try ConsentRecord(
            person: person, state: .granted, givenBy: giver, at: Date(), evidence: evidence ?? "", recordedBy: "cli"
        ).validated()
    }

    static func workers(models: String?) throws -> VisionWorkers {
        do {
            return try VisionWorkers(models: try FaceModels(locator: ModelLocator(explicitDirectory: models)))
        } catch {
            fail("\(error)")
        }
    }
}

/// `rollcall-hub enroll --person ID --name N --role R [--group G] PHOTO...`.
struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Create or update a person in the hub's gallery, from photos (one face each).",
        discussion: """
            Each photo must show exactly one face of enrollment quality (large, sharp, lit, looking at the \
            camera) that is not already someone else's; a photo that is not is refused with the reason. The \
            person's templates reach the doors with their next gallery delta. Exits 1 when a photo was refused.
            Templates need consent for face check-in: given here (--consent guardian|self --evidence REF, \
            recorded with the templates and in the audit trail) or already on record.
            """
    )

    @Option(help: "The person's id.") var person: String
    @Option(help: "The display name.") var name: String
    @Option(help: "student, volunteer or staff.") var role = "student"
    @Option(name: .customLong("group"), help: "A group (repeatable).") var groups: [String] = []
    @Flag(help: "Replace the person's templates instead of adding to them.") var replace = false
    @Option(help: ArgumentHelp("The folder of the face models.", valueName: "dir")) var models: String?
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file")) var db = "rollcall-hub.sqlite"
    @Option(help: "Who consented to face check-in: guardian or self.") var consent: String?
    @Option(help: "The consent's evidence: the reference of the signed form or message.") var evidence: String?
    @Argument(help: "Photos of the person.") var photos: [String] = []

    func run() async throws {
        guard let role = PersonRole(rawValue: role) else { fail("--role must be student, volunteer or staff") }
        let given: ConsentRecord?
        do {
            given = try HubEnrollment.consent(consent, evidence: evidence, person: person)
        } catch {
            fail(error.message)
        }
        let storage = try await openStorage(db)
        var document = try await HubEnrollment.load(storage)
        let outcome = try await HubEnrollment.enroll(
            Person(id: person, name: name, role: role, groups: groups),
            photos: photos.map { (URL(fileURLWithPath: $0).lastPathComponent, $0) }, replace: replace,
            consent: given, storage: storage, workers: try HubEnrollment.workers(models: models),
            document: &document)
        if let given, outcome.stored {
            try await storage.appendAudit(
                AuditEntry(
                    at: Date(), actor: "cli", action: "consent", subject: "person:\(person)",
                    detail: "granted by \(given.givenBy.rawValue) (\(given.evidence))"))
        }
        for refusal in outcome.refusals { print("refused \(refusal)") }
        print(
            outcome.stored
                ? "\(person): \(outcome.enrolled) of \(photos.count) photos enrolled"
                : "\(person): nothing enrolled (no usable photo)")
        if !outcome.refusals.isEmpty { throw ExitCode.failure }
    }
}

/// `rollcall-hub import people FILE --photos DIR`.
struct ImportPeopleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "people",
        abstract: "Import people from a CSV file and a folder of their photos.",
        discussion: """
            Columns: id, name, role (student, volunteer or staff), groups and photos (both separated by ;), \
            photos naming files in --photos; optionally consent (guardian or self) and evidence (the reference \
            of the signed form), without which a person's photos are enrolled only if consent is on record. One report line per row: what was enrolled and each photo refused \
            with the reason. A row whose photos are all refused stores nothing; a row without photos (a \
            volunteer with a badge) stores the person without templates. Importing again updates people. \
            Exits 1 when anything was refused.
            """
    )

    @Argument(help: "The CSV file.") var file: String
    @Option(help: ArgumentHelp("The folder holding the photos the file names.", valueName: "dir")) var photos: String
    @Flag(help: "Replace people's templates instead of adding to them.") var replace = false
    @Option(help: ArgumentHelp("The folder of the face models.", valueName: "dir")) var models: String?
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file")) var db = "rollcall-hub.sqlite"

    func run() async throws {
        let csv: CSV<Named>
        do {
            csv = try CSV<Named>(url: URL(fileURLWithPath: file), delimiter: .comma, loadColumns: false)
        } catch {
            fail("\(file): \(error)")
        }
        let missing = ["id", "name", "role", "groups", "photos"].filter { !csv.header.contains($0) }
        guard missing.isEmpty else { fail("\(file): the header lacks \(missing.joined(separator: ", "))") }
        let storage = try await openStorage(db)
        let workers = try HubEnrollment.workers(models: models)
        var document = try await HubEnrollment.load(storage)
        var problems = 0
        var stored = 0
        for (index, row) in csv.rows.enumerated() {
            let line = "\(file):\(index + 2)"
            func field(_ name: String) -> String { (row[name] ?? "").trimmingCharacters(in: .whitespaces) }
            func list(_ name: String) -> [String] {
                field(name).split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                    !$0.isEmpty
                }
            }
            guard !field("id").isEmpty, !field("name").isEmpty, let role = PersonRole(rawValue: field("role")) else {
                print("\(line): refused: id and name are required, role is student, volunteer or staff")
                problems += 1
                continue
            }
            let person = Person(id: field("id"), name: field("name"), role: role, groups: list("groups"))
            let files = list("photos").map { ($0, URL(fileURLWithPath: photos).appendingPathComponent($0).path) }
            let consent: ConsentRecord?
            do {
                consent = try HubEnrollment.consent(field("consent"), evidence: field("evidence"), person: person.id)
            } catch {
                print("\(line): refused: \(error.message)")
                problems += 1
                continue
            }
            let outcome = try await HubEnrollment.enroll(
                person, photos: files, replace: replace, consent: consent, storage: storage, workers: workers,
                document: &document)
            problems += outcome.refusals.count + (outcome.stored ? 0 : 1)
            if outcome.stored { stored += 1 }
            var report = "\(line) \(person.id): "
            report += outcome.stored ? "\(outcome.enrolled) of \(files.count) photos enrolled" : "nothing stored"
            if !outcome.refusals.isEmpty { report += "; refused " + outcome.refusals.joined(separator: "; ") }
            print(report)
        }
        print("\(stored) of \(csv.rows.count) people stored, \(problems) problems")
        if problems > 0 { throw ExitCode.failure }
    }
}
