import Attendance
import Foundation
import Hub
import Hummingbird
import Logging
import MultipartKit
import NIOCore
import NIOFoundationCompat
import NIOPosix
import Recognition
import ServiceLifecycle
import SyncProtocol
import Synchronization

/// Bulk enrollment in the browser: the office uploads a CSV of people (the columns of `rollcall-hub import
/// people`) and a ZIP of their photos; every row is enrolled as the command line enrolls it, and the answer
/// streams one report line per row as the photos are checked (JSON lines for the page's script, or the
/// report page itself, filled in row by row, without it).
extension WebApp {
    /// The form's address (`FormGuard` lets a larger body through to it, and nginx has a location for it).
    static let bulkEnrollmentPath = "/people/bulk"

    static func addBulkEnrollmentRoute(
        _ group: RouterGroup<WebRequestContext>, storage: any HubStorage, web: WebConfiguration
    ) {
        group.post("people/bulk") { request, context in
            try requirePeople(context)
            guard let checker = web.photos else {
                throw HubError(.badRequest, "this hub cannot examine photos: start it with --models (the face models)")
            }
            guard let parts = context.upload else {
                throw HubError(.badRequest, "choose the CSV file of the people and the ZIP of their photos")
            }
            guard let csvPart = parts.first(where: { $0.name == "csv" && $0.body.readableBytes > 0 }) else {
                throw HubError(.badRequest, "choose the CSV file of the people")
            }
            let limits = web.bulk
            guard csvPart.body.readableBytes <= limits.csvBytes else {
                throw HubError(
                    .badRequest,
                    "the CSV is larger than \(BulkUpload.megabytes(UInt64(limits.csvBytes))): split it into several")
            }
            let csv = Data(csvPart.body.readableBytesView)
            let zipPart = parts.first { $0.name == "photos" && $0.body.readableBytes > 0 }
            // The ZIP's bytes stay where the form's parser put them (no copy of up to 200 MB).
            let zip = zipPart.flatMap {
                $0.body.getData(at: $0.body.readerIndex, length: $0.body.readableBytes, byteTransferStrategy: .noCopy)
            }
            let replace = parts.contains { $0.name == "replace" && String(buffer: $0.body) == "1" }
            let source = BulkSource(
                csv: fileName(csvPart) ?? "the CSV", zip: zipPart.map { fileName($0) ?? "the ZIP" }, replace: replace)
            // Inflating the ZIP is CPU work of up to a few seconds: on NIO's thread pool, not a request's thread.
            let upload: BulkUpload
            do {
                upload = try await NIOThreadPool.singleton.runIfActive {
                    try BulkUpload.read(csv: csv, zip: zip, limits: limits)
                }
            } catch let error as HubError {
                throw error
            } catch {
                throw HubError(.internal, "the upload could not be read: \(error)")
            }
            // The parts (up to 200 MB) are not kept while the rows are enrolled.
            let slim = {
                var copy = context
                copy.upload = nil
                return copy
            }()
            let run = BulkEnrollment(
                storage: storage, checker: checker, upload: upload, source: source, limits: limits, context: slim)
            let format: BulkReport.Format = wantsLines(request) ? .lines : .page
            return Response(
                status: .ok,
                headers: [
                    .contentType: format == .lines ? "application/x-ndjson; charset=utf-8" : "text/html; charset=utf-8",
                    // nginx passes each line on as it comes, not once the whole answer is there.
                    .init("X-Accel-Buffering")!: "no",
                ],
                body: ResponseBody { writer in
                    let (events, continuation) = AsyncStream<BulkReport.Event>.makeStream()
                    async let done: Void = run.perform(continuation)
                    // A browser that goes away stops the report, not the enrollment: the rows go on being
                    // stored (and audited) whether anyone reads them or not.
                    var open = true
                    for await event in events where open {
                        do {
                            try await writer.write(try BulkReport.render(event, format: format, context: slim))
                        } catch {
                            open = false
                        }
                    }
                    await done
                    if open { try await writer.finish(nil) }
                })
        }
    }

    /// Whether the caller asked for JSON lines (the page's script) rather than the report page.
    static func wantsLines(_ request: Request) -> Bool {
        if let format = request.uri.queryParameters.get("format") { return format == "ndjson" }
        return request.headers[.accept]?.contains("application/x-ndjson") == true
    }
}

/// Where an upload came from, for the report and the audit trail.
struct BulkSource: Sendable {
    var csv: String
    var zip: String?
    var replace: Bool
}

/// One bulk enrollment: the rows of an upload, one after the other, each as `rollcall-hub import people`
/// enrolls a row, against the hub's gallery kept up to date between rows (two rows showing one face
/// conflict).
struct BulkEnrollment: Sendable {
    let storage: any HubStorage
    let checker: any PhotoChecker
    let upload: BulkUpload
    let source: BulkSource
    let limits: BulkLimits
    let context: WebRequestContext

    /// Enrolls every row, sending the start, each row's report and the summary into `events` (then
    /// finishing it). Stops early only when the store fails or the hub shuts down; the summary says so.
    func perform(_ events: AsyncStream<BulkReport.Event>.Continuation) async {
        defer { events.finish() }
        let began = ContinuousClock.now
        let photos = upload.rows.reduce(0) { $0 + min($1.list("photos").count, limits.photosPerRow) }
        events.yield(.started(BulkReport.Start(rows: upload.rows.count, photos: photos, files: upload.files)))
        var summary = BulkReport.Summary(rows: upload.rows.count)
        let stopping = Atomic<Bool>(false)
        await withGracefulShutdownHandler {
            do {
                var document = GalleryDocument()
                document.people = try await storage.galleryDelta(since: 0).upserts
                for (index, row) in upload.rows.enumerated() {
                    if stopping.load(ordering: .relaxed) {
                        summary.stopped = "the hub is shutting down: rows from line \(row.line) on were not enrolled"
                        break
                    }
                    let report = try await enroll(row, number: index + 1, document: &document)
                    summary.add(report)
                    events.yield(.row(report))
                }
            } catch {
                let reference = String(UUID().uuidString.prefix(8)).lowercased()
                context.logger.error(
                    "bulk enrollment stopped", metadata: ["reference": "\(reference)", "error": "\(error)"])
                summary.stopped =
                    "the hub could not store the next row and stopped there; its log has the reason under "
                    + "reference \(reference)"
            }
        } onGracefulShutdown: {
            stopping.store(true, ordering: .relaxed)
        }
        let elapsed = ContinuousClock.now - began
        summary.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let detail =
            "bulk enrollment from \(source.csv.prefix(100))\(source.zip.map { " and \($0.prefix(100))" } ?? "")"
            + "\(source.replace ? ", replacing earlier templates" : ""): \(summary.text)"
        do {
            try await WebApp.audit(storage, context, "change", "people", detail)
        } catch {
            // The rows' own lines are in the audit trail already; the summary line is only their sum.
            context.logger.error("bulk enrollment: no summary in the audit trail", metadata: ["error": "\(error)"])
        }
        context.logger.notice(
            "bulk enrollment: \(summary.text)",
            metadata: ["account": "\(context.account.username)", "photos": "\(summary.checked)"])
        events.yield(.finished(summary))
    }

    /// One row: checked, its consent found or recorded, its photos examined, stored (or not) and audited.
    /// A refusal is the row's report; only a failure of the store throws.
    func enroll(_ row: BulkUpload.Row, number: Int, document: inout GalleryDocument) async throws
        -> BulkReport.Row
    {
        let names = row.list("photos")
        var report = BulkReport.Row(
            row: number, line: row.line, id: row.field("id"), name: row.field("name"), photos: names.count)
        guard !report.id.isEmpty, !report.name.isEmpty, let role = PersonRole(rawValue: row.field("role")) else {
            return report.refused("id and name are required, role is student, volunteer or staff")
        }
        guard names.count <= limits.photosPerRow else {
            return report.refused("at most \(limits.photosPerRow) photos a row (this one names \(names.count))")
        }
        let person = Person(id: report.id, name: report.name, role: role, groups: row.list("groups"))
        let consent: ConsentRecord?
        do throws(HubError) {
            consent = try consentGiven(row, person: person.id)
        } catch {
            return report.refused(error.message)
        }
        // Templates need consent, given in the row or on record; without it no photo is examined.
        if !names.isEmpty, consent == nil {
            let onRecord = try await storage.consentHistory(person.id).last?.state
            if onRecord != .granted {
                report.refusals.append(HubError.noConsent(person.id, onRecord).message)
                return report
            }
        }
        var added: [GalleryDocument.Template] = []
        for name in names {
            switch upload.photos[name] ?? .missing {
            case .missing:
                report.refusals.append("\(name): not in the ZIP")
            case .ambiguous(let paths):
                report.refusals.append(
                    "\(name): \(paths.count) files in the ZIP end with this name (\(paths.prefix(3).joined(separator: ", "))): "
                        + "give its path in the ZIP")
            case .found(let data):
                report.checked += 1
                switch await checker.check(data, person: person.id, gallery: document) {
                case .success(let encoding):
                    added.append(
                        GalleryDocument.Template(source: name, encoding: encoding, model: GalleryDocument.modelID))
                case .failure(let refusal):
                    report.refusals.append("\(name): \(refusal.message)")
                }
            }
        }
        report.enrolled = added.count
        // A row whose photos are all refused stores nothing; a row without photos stores the person.
        guard names.isEmpty || !added.isEmpty else { return report }
        // Earlier templates go only when a new one replaces them.
        let earlier = document.people.first { $0.id == person.id }?.templates ?? []
        let replacing = source.replace && !added.isEmpty && !earlier.isEmpty
        var single = GalleryDocument()
        single.enroll(person, templates: (replacing ? [] : earlier) + added)
        do throws(HubError) {
            try await storage.upsertPerson(single.people[0], consent: consent)
        } catch {
            guard error.code.isCallerError else { throw error }
            report.refusals.append(error.message)
            return report
        }
        document.people.removeAll { $0.id == person.id }
        document.people.append(single.people[0])
        report.outcome = report.refusals.isEmpty ? .stored : .partly
        if let consent {
            report.consent = "\(consent.givenBy.rawValue) (\(consent.evidence))"
            try await HubServer.auditConsent(consent, storage: storage, context: context)
        }
        try await WebApp.audit(
            storage, context, "change", "person:\(person.id)",
            "bulk enrollment, line \(row.line): "
                + (names.isEmpty
                    ? "stored without photos"
                    : "\(added.count) face templates enrolled\(replacing ? ", replacing the earlier ones" : "")"))
        return report
    }

    /// The consent a row gives (`consent` guardian or self, with its `evidence`), recorded by the account;
    /// nil when the row gives none.
    func consentGiven(_ row: BulkUpload.Row, person: String) throws(HubError) -> ConsentRecord? {
        let by = row.field("consent")
        guard !by.isEmpty else { return nil }
        guard let giver = ConsentGiver(rawValue: by), giver != .unrecorded else {
            throw HubError(.badRequest, "consent is given by guardian or self, not \(by.prefix(40))")
        }
        return try ConsentRecord(
            person: person, state: .granted, givenBy: giver, at: Date(), evidence: row.field("evidence"),
            recordedBy: context.actor
        ).validated()
    }
}
