import Attendance
import Foundation
import Hub
import Hummingbird
import Logging
import MultipartKit
import NIOCore
import NIOHTTP1
import Recognition
import SyncProtocol

/// The office's people pages: everyone with their consent for face check-in, a person's consent history
/// and the form to record a decision, the guardians' addresses, and enrollment from photos (uploaded, or
/// taken with the phone's camera), checked as `rollcall enroll` checks them, then confirmed; and bulk
/// enrollment from a CSV and a ZIP of photos (`BulkEnrollment.swift`).
extension WebApp {
    /// The superadmin and the secretary keep the people's records.
    static func keepsPeople(_ account: Account) -> Bool { account.role == .superadmin || account.role == .secretary }

    static func addPeopleRoutes(_ group: RouterGroup<WebRequestContext>, storage: any HubStorage, web: WebConfiguration)
    {
        group.get("people") { _, context in
            try requirePeople(context)
            let people = try await storage.people()
            try await audit(storage, context, "view", "people", "the people list")
            return try page(
                "people", title: "People", context: context, script: true,
                data: [
                    "people": people.map { listing -> [String: Any] in
                        [
                            "id": listing.person.id, "path": path(listing.person.id), "name": listing.person.name,
                            "role": listing.person.role.rawValue,
                            "groups": listing.person.groups.joined(separator: ", "),
                            "consent": consentLabel(listing.consent),
                            "consentClass": listing.consent?.rawValue ?? "none",
                            "templates": listing.templates,
                        ]
                    },
                    "none": people.isEmpty, "canBulk": web.photos != nil, "noChecker": web.photos == nil,
                    "bulkRows": web.bulk.rows, "bulkPhotoMB": web.bulk.entryBytes >> 20,
                    "bulkUploadMB": FormGuard.bulkUploadLimit >> 20,
                ], current: "/people")
        }
        addBulkEnrollmentRoute(group, storage: storage, web: web)
        group.get("people/:id") { _, context in
            try requirePeople(context)
            let id = HubServer.parameter(context, "id")
            return try await personPage(id, context: context, storage: storage, web: web)
        }
        group.post("people/:id/consent") { request, context in
            try requirePeople(context)
            let id = HubServer.parameter(context, "id")
            let form = try? URLEncodedFormDecoder().decode(ConsentForm.self, from: context.form)
            guard let form, let state = ConsentState(rawValue: form.state ?? ""),
                let giver = ConsentGiver(rawValue: form.by ?? ""), giver != .unrecorded
            else {
                throw HubError(.badRequest, "choose granted, withdrawn or refused, and who gave it: guardian or self")
            }
            let record = try ConsentRecord(
                person: id, state: state, givenBy: giver, at: Date(), evidence: form.evidence ?? "",
                recordedBy: context.actor
            ).validated()
            try await HubServer.recordConsent(record, storage: storage, context: context)
            return done(request, back: "/people/\(path(id))#consent")
        }
        group.post("people/:id/guardians") { request, context in
            try requirePeople(context)
            let id = HubServer.parameter(context, "id")
            let form = try? URLEncodedFormDecoder().decode(GuardiansForm.self, from: context.form)
            let emails = (form?.guardians ?? "").split(whereSeparator: { $0 == "\n" || $0 == "," || $0 == "\r" })
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            try await storage.setGuardianContacts(person: id, emails: emails)
            try await audit(storage, context, "change", "person:\(id)", "guardian contacts set (\(emails.count))")
            return done(request, back: "/people/\(path(id))#guardians")
        }
        group.post("people/:id/photos") { _, context in
            try requirePeople(context)
            let id = HubServer.parameter(context, "id")
            guard let checker = web.photos else {
                throw HubError(.badRequest, "this hub cannot examine photos: start it with --models (the face models)")
            }
            guard let person = try await storage.personRecord(id) else { throw HubServer.unknown("person", id) }
            guard try await storage.consentHistory(id).last?.state == .granted else {
                throw HubError(
                    .conflict, "record the consent for face check-in first; without it, \(person.name) uses a badge")
            }
            guard let parts = context.upload else {
                throw HubError(.badRequest, "choose one or more photos (JPEG or PNG)")
            }
            let photos = parts.filter { $0.name == "photos" && $0.body.readableBytes > 0 }
            guard !photos.isEmpty, photos.count <= 10 else { throw HubError(.badRequest, "choose 1 to 10 photos") }
            var gallery = GalleryDocument()
            gallery.people = try await storage.galleryDelta(since: 0).upserts
            var results: [[String: Any]] = []
            var accepted: [PendingEnrollment.Template] = []
            for (index, part) in photos.enumerated() {
                let label = fileName(part) ?? "photo \(index + 1)"
                switch await checker.check(Data(part.body.readableBytesView), person: id, gallery: gallery) {
                case .success(let encoding):
                    accepted.append(PendingEnrollment.Template(source: label, encoding: encoding))
                    results.append(["label": label, "accepted": true, "reason": "one face, good quality"])
                case .failure(let refusal):
                    results.append(["label": label, "accepted": false, "reason": refusal.message])
                }
            }
            let replace = parts.contains { $0.name == "replace" && String(buffer: $0.body) == "1" }
            let pending = PendingEnrollment(
                person: id, account: context.account.username, expires: Date() + 900, replace: replace,
                templates: accepted)
            let token = try storage.sealForBrowser(try HubServer.encoded(pending)).base64EncodedString()
            try await audit(
                storage, context, "view", "person:\(id)",
                "\(accepted.count) of \(photos.count) enrollment photos passed the checks")
            return try page(
                "photos", title: "Photos of \(person.name)", context: context,
                data: [
                    "id": id, "path": path(id), "name": person.name, "results": results, "token": token,
                    "acceptedCount": accepted.count, "any": !accepted.isEmpty, "replace": replace,
                ], current: "/people")
        }
        group.post("people/:id/photos/confirm") { _, context in
            try requirePeople(context)
            let id = HubServer.parameter(context, "id")
            let form = try? URLEncodedFormDecoder().decode(ConfirmForm.self, from: context.form)
            guard let token = form?.token, let sealed = Data(base64Encoded: token),
                let plain = try? storage.openFromBrowser(sealed),
                let pending = try? JSONDecoder().decode(PendingEnrollment.self, from: plain),
                pending.person == id, pending.account == context.account.username
            else {
                throw HubError(.badRequest, "this enrollment cannot be confirmed: upload the photos again")
            }
            guard pending.expires > Date() else {
                throw HubError(.badRequest, "this enrollment waited more than 15 minutes: upload the photos again")
            }
            guard let person = try await storage.personRecord(id) else { throw HubServer.unknown("person", id) }
            var gallery = GalleryDocument()
            gallery.people = try await storage.galleryDelta(since: 0).upserts
            // The old templates stay until now: a re-enrollment replaces them only once the new are accepted.
            let kept = pending.replace ? [] : (gallery.people.first { $0.id == id }?.templates ?? [])
            let added = pending.templates.map {
                GalleryDocument.Template(source: $0.source, encoding: $0.encoding, model: GalleryDocument.modelID)
            }
            var single = GalleryDocument()
            single.enroll(person, templates: kept + added)
            try await storage.upsertPerson(single.people[0])
            try await audit(
                storage, context, "change", "person:\(id)",
                "\(added.count) face templates enrolled\(pending.replace ? ", replacing the earlier ones" : "")")
            return Response(status: .seeOther, headers: [.location: "/people/\(path(id))#enrollment"])
        }
    }

    static func requirePeople(_ context: WebRequestContext) throws(HubError) {
        guard keepsPeople(context.account) else {
            throw HubError(.forbidden, "the people's records are kept by the office (superadmin, secretary)")
        }
    }

    static func personPage(_ id: String, context: WebRequestContext, storage: any HubStorage, web: WebConfiguration)
        async throws -> Response
    {
        guard let listing = try await storage.people().first(where: { $0.person.id == id }) else {
            throw HubServer.unknown("person", id)
        }
        let history = try await storage.consentHistory(id)
        let guardians = try await storage.guardianContacts(person: id)
        try await audit(storage, context, "view", "person:\(id)", "the person's page")
        let granted = listing.consent == .granted
        return try page(
            "person", title: listing.person.name, context: context,
            data: [
                "id": id, "path": path(id), "name": listing.person.name, "role": listing.person.role.rawValue,
                "groups": listing.person.groups.joined(separator: ", "), "templates": listing.templates,
                "consent": consentLabel(listing.consent), "consentClass": listing.consent?.rawValue ?? "none",
                "history": history.map { record -> [String: Any] in
                    [
                        "state": record.state.rawValue, "by": record.givenBy.rawValue,
                        "at": ISO8601Time.format(record.at), "evidence": record.evidence,
                        "recordedBy": record.recordedBy,
                    ]
                },
                "noHistory": history.isEmpty, "guardians": guardians.joined(separator: "\n"),
                "granted": granted, "canEnroll": granted && web.photos != nil,
                "noChecker": granted && web.photos == nil,
            ], current: "/people")
    }

    static func consentLabel(_ state: ConsentState?) -> String {
        switch state {
        case .granted: "face check-in consented"
        case .withdrawn: "consent withdrawn: badge"
        case .refused: "consent refused: badge"
        case nil: "no consent recorded: badge"
        }
    }

    static func fileName(_ part: MultipartPart) -> String? {
        guard let disposition = part.headers.first(name: "Content-Disposition") else { return nil }
        for piece in disposition.split(separator: ";") {
            let trimmed = piece.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("filename=") {
                let name = trimmed.dropFirst("filename=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                let base = (name as NSString).lastPathComponent
                return base.isEmpty ? nil : String(base.prefix(120))
            }
        }
        return nil
    }

    struct ConsentForm: Decodable {
        var state: String?
        var by: String?
        var evidence: String?
    }

    struct GuardiansForm: Decodable {
        var guardians: String?
    }

    struct ConfirmForm: Decodable {
        var token: String?
    }
}

/// An enrollment waiting for the office's confirmation, sealed under the hub's data key in the page (so
/// any hub process can finish it, and the browser can neither read the templates nor forge them).
struct PendingEnrollment: Codable {
    struct Template: Codable {
        var source: String
        var encoding: [Float]
    }

    var person: String
    var account: String
    var expires: Date
    var replace: Bool
    var templates: [Template]
}
