import Attendance
import Crypto
import Foundation
public import Hub
public import Hummingbird
import Logging
public import Recognition
import ServiceLifecycle
import SyncProtocol
import Synchronization

/// How the hub serves.
public struct HubServerConfiguration: Sendable {
    /// The digest of the admin API's bearer token (the token itself is not kept); nil: the admin API is off.
    let adminTokenDigest: Data?
    /// The largest request body accepted (a batch of 500 events is about 250 KB).
    public var maximumBodyBytes = 2 << 20
    /// The time, connection and rate limits (the rate limit is applied by the router; the others by
    /// ``HubServer/application(router:host:port:limits:onServerRunning:)``).
    public var limits = ServeLimits()
    /// What `/metrics` reports (this process's own counts).
    public var metrics = HubMetrics()
    /// How many reports this process computes at once (`rollcall-hub serve --report-concurrency`); more
    /// wait their turn.
    public var reportAdmission = ReportAdmission(limit: 4)
    /// The web app's sign-in, throttling and audit settings.
    public var web = WebConfiguration()
    /// Template refresh from the doors' sightings (`POST /api/v1/device/sightings`); nil: off (the default).
    public var templateRefresh: TemplateRefreshPolicy?

    /// A configuration; `adminToken` nil (or empty) turns the admin API off. `AdminToken.load` reads
    /// and checks the token as `rollcall-hub serve` takes it.
    public init(adminToken: String?) {
        adminTokenDigest = adminToken.flatMap { $0.isEmpty ? nil : Data(SHA256.hash(data: Data($0.utf8))) }
    }

    /// Whether the admin API is on.
    public var adminAPI: Bool { adminTokenDigest != nil }

    /// Whether `token` is the admin token: the digests are compared in constant time, so the time
    /// taken says nothing about how much of a guess was right.
    func isAdmin(_ token: String) -> Bool {
        guard let adminTokenDigest else { return false }
        return SHA256.hash(data: Data(token.utf8)) == adminTokenDigest  // swift-crypto: constant time
    }
}

/// The hub's HTTP side: the device API (`openapi/device-api.json`), the admin API, and the staff,
/// report and public routes, over a `HubStorage`. Each group of routes has its guard, a middleware
/// that finds the caller from the bearer token before any handler runs: a device for the device API,
/// the admin token for the admin API, a staff (or public) token for the others. Every refusal is a 4xx
/// with an `APIProblem` body; nothing of a refused request is stored.
public enum HubServer {
    /// The routes.
    public static func router(storage: any HubStorage, configuration: HubServerConfiguration)
        -> Router<HubRequestContext>
    {
        let router = Router(context: HubRequestContext.self)
        let metrics = configuration.metrics
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: AnswerMiddleware())
        router.add(middleware: ClientAddressMiddleware())
        router.add(
            middleware: RateLimitMiddleware(
                limiter: RateLimiter(
                    requestsPerSecond: configuration.limits.requestsPerSecond, burst: configuration.limits.burst)))
        // For the load balancer and Prometheus: no token, nothing about anyone, never rate limited.
        router.get("healthz") { _, context in
            var status = HTTPResponse.Status.ok
            var text = "ok\n"
            do {
                try await storage.ping()
            } catch {
                context.logger.error("health check: the database does not answer", metadata: ["error": "\(error)"])
                status = .serviceUnavailable
                text = "the database does not answer\n"
            }
            return Response(
                status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("metrics") { _, _ in
            metrics.setReports(configuration.reportAdmission.counts)
            if let pool = storage as? PostgresHubStorage {
                metrics.setPool(size: pool.poolSize, wanted: pool.connectionsWanted)
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.text())))
        }
        let deviceGroup = router.group(RouterPath("/api/v1/device"))
            .add(middleware: DeviceAuthentication(storage: storage))
            .group(context: DeviceRequestContext.self)
        addDeviceRoutes(deviceGroup, devices: storage, heartbeats: storage, configuration: configuration)
        addSightingRoute(deviceGroup, storage: storage, configuration: configuration)
        addAuditRoute(deviceGroup, storage: storage, configuration: configuration)
        let guarded = { (path: String, allowed: Set<TokenScope>, fromQuery: Bool, needsAdminAPI: Bool) in
            router.group(RouterPath(path))
                .add(
                    middleware: TokenAuthentication(
                        storage: storage, configuration: configuration, allowed: allowed, fromQuery: fromQuery,
                        needsAdminAPI: needsAdminAPI)
                )
                .group(context: ScopedRequestContext.self)
        }
        let staff: Set<TokenScope> = [.admin, .staff]
        // Reports take turns (after their token is checked), so that doors are not kept waiting.
        let admission = configuration.reportAdmission
        let taking = { (group: RouterGroup<ScopedRequestContext>) in
            group.add(middleware: ReportAdmissionMiddleware<ScopedRequestContext>(admission: admission))
        }
        addAdminRoutes(
            guarded("/api/v1/admin", [.admin], false, true), admin: storage, configuration: configuration)
        addReportRoutes(
            reports: taking(guarded("/api/v1/reports", staff, false, false)),
            staff: guarded("/api/v1/staff", staff, false, false),
            publicAPI: taking(guarded("/api/v1/public", [.public, .admin], false, false)),
            storage: storage, configuration: configuration)
        // The staff web app: accounts, signed-in sessions, pages.
        WebApp.add(to: router, storage: storage, configuration: configuration)
        return router
    }

    // MARK: Devices

    /// What a door may do: read its manifest, its share of the gallery and the badge keys, and send events.
    private static func addDeviceRoutes(
        _ device: RouterGroup<DeviceRequestContext>, devices: any DeviceStorage, heartbeats: any RollCallStorage,
        configuration: HubServerConfiguration
    ) {
        // The room's manifest as the doors get it, with whether the hub takes template refresh sightings.
        @Sendable func manifest(_ room: String) async throws(HubError) -> DeviceManifest {
            var manifest = try await devices.manifest(room: room, now: Date())
            manifest.templateRefresh = configuration.templateRefresh != nil
            return manifest
        }
        device.get("manifest") { request, context in
            try cached(try await manifest(context.device.room), request)
        }
        device.get("gallery") { request, context in
            let text = request.uri.queryParameters.get("since") ?? "0"
            guard let since = Int64(text), since >= 0 else {
                throw HubError(
                    .badRequest, "since must be a gallery version (a whole number), not \(text.prefix(40))")
            }
            let scope = request.uri.queryParameters.get("scope")
            let after = request.uri.queryParameters.get("after")
            guard (scope?.count ?? 0) <= 64, (after?.count ?? 0) <= 256 else {
                throw HubError(.badRequest, "scope is at most 64 characters, after at most 256")
            }
            let page = try await devices.galleryPage(
                room: context.device.room, since: since, scope: scope, after: after, now: Date())
            return try cached(page, request)
        }
        device.get("badge-keys") { _, _ in
            try json(try await devices.badgeKeys())
        }
        // The push channel: a door waits here (long poll) and pulls as soon as its room's manifest, the
        // gallery or the badge keys change, whichever hub process stored the change.
        let waiting = Mutex<[String: Int]>([:])
        device.get("changes") { request, context in
            let since = request.uri.queryParameters.get("since").map { String($0) }
            let waitText = request.uri.queryParameters.get("wait") ?? "0"
            guard (since?.count ?? 0) <= 64, let wait = Int(waitText), (0...DeviceAPI.longestChangeWait).contains(wait)
            else {
                throw HubError(
                    .badRequest,
                    "since is a fingerprint (at most 64 characters), wait 0 to \(DeviceAPI.longestChangeWait) seconds")
            }
            let door = context.device
            let admitted = waiting.withLock { counts -> Bool in
                guard counts[door.id, default: 0] < 2 else { return false }
                counts[door.id, default: 0] += 1
                return true
            }
            guard admitted else { throw HubError(.tooManyRequests, "this door already waits for changes twice") }
            defer {
                waiting.withLock { counts in
                    let left = counts[door.id, default: 1] - 1
                    counts[door.id] = left > 0 ? left : nil
                }
            }
            @Sendable func fingerprint() async throws(HubError) -> String {
                try etag(encoded(try await manifest(door.room)))
            }
            // The mark first: a change stored between the two reads then shows as a new mark and is not missed.
            var mark = try await devices.changeMark()
            var print = try await fingerprint()
            let deadline = ContinuousClock.now + .seconds(wait)
            let stopping = Atomic<Bool>(false)
            try await withGracefulShutdownHandler {
                // One small read every 200 ms while the door waits; the manifest only when something changed.
                while print == since && ContinuousClock.now < deadline && !stopping.load(ordering: .relaxed)
                    && !Task.isCancelled
                {
                    try? await Task.sleep(for: .milliseconds(200))
                    let now = try await devices.changeMark()
                    if now != mark {
                        mark = now
                        print = try await fingerprint()
                    }
                }
            } onGracefulShutdown: {
                stopping.store(true, ordering: .relaxed)
            }
            // A last look: the answer names what the store holds as it is sent, even when the wait ran out
            // (or the process was too busy to look in the meantime).
            if print == since, try await devices.changeMark() != mark { print = try await fingerprint() }
            return try json(DeviceChanges(fingerprint: print))
        }
        device.post("heartbeat") { request, context in
            let beat: DeviceHeartbeat = try await decodeBody(request, limit: 4096)
            if let problem = beat.problem { throw HubError(.badRequest, problem) }
            try await heartbeats.recordHeartbeat(
                DoorStatus(
                    device: context.device.id, room: context.device.room, version: beat.version, queued: beat.queued,
                    camera: beat.camera, address: context.address),
                at: Date())
            return try json(Done())
        }
        device.post("events") { request, context in
            let batch: EventBatch = try await decodeBody(request, limit: configuration.maximumBodyBytes)
            let result = try await devices.ingest(batch, from: context.device, receivedAt: Date())
            configuration.metrics.record(result)
            return try json(result)
        }
    }

    // MARK: Admin

    struct NewRoom: Decodable {
        var id: String
        var timezone: String
        var policy: AttendancePolicy?
    }

    /// A session's check-in, as the admin API lists it.
    struct CheckinBody: Encodable {
        var session, person, status: String
        var checkinTime: String
        var minutesLate: Int?
        var method, source, eventID: String

        init(_ record: CheckinRecord) {
            session = record.session
            person = record.person
            status = record.status
            checkinTime = ISO8601Time.format(record.checkinTime)
            minutesLate = record.minutesLate
            method = record.method
            source = record.source
            eventID = record.eventID
        }

        enum CodingKeys: String, CodingKey {
            case session, person, status, method, source
            case checkinTime = "checkin_time"
            case minutesLate = "minutes_late"
            case eventID = "event_id"
        }
    }

    /// An event a door sent, as stored (without its body).
    struct ReceivedEventBody: Encodable {
        var id, kind, person: String
        var session: String?
        var at, receivedAt: String

        init(_ event: ReceivedEvent) {
            id = event.id
            kind = event.kind
            person = event.person
            session = event.session
            at = ISO8601Time.format(event.at)
            receivedAt = ISO8601Time.format(event.receivedAt)
        }

        enum CodingKeys: String, CodingKey {
            case id, kind, person, session, at
            case receivedAt = "received_at"
        }
    }

    /// A page of a device's received events; `next` is the `after` of the next page, absent on the last.
    struct ReceivedEventsBody: Encodable {
        var events: [ReceivedEventBody]
        var next: String?
    }

    /// A volunteer's visit: sign-in, sign-out (nil while open) and the seconds between.
    struct VisitBody: Encodable {
        var person, room: String
        var loginTime: String
        var logoutTime: String?
        var durationSeconds: Double?

        init(_ visit: Visit) {
            person = visit.person
            room = visit.room
            loginTime = ISO8601Time.format(visit.loginTime)
            logoutTime = visit.logoutTime.map(ISO8601Time.format)
            durationSeconds = visit.logoutTime.map { $0.timeIntervalSince(visit.loginTime) }
        }

        enum CodingKeys: String, CodingKey {
            case person, room
            case loginTime = "login_time"
            case logoutTime = "logout_time"
            case durationSeconds = "duration_seconds"
        }
    }

    struct NewDevice: Decodable {
        var id: String
        var room: String
        var token: String
    }

    struct NewBadgeKey: Decodable {
        var kid: String
        var publicKey: String
        enum CodingKeys: String, CodingKey {
            case kid
            case publicKey = "public_key"
        }
    }

    struct ReplacementToken: Decodable {
        var token: String
    }

    /// 404 for something the admin named that is not there.
    /// Records a consent decision and its line in the audit trail (withdrawal and refusal erase templates).
    @discardableResult
    static func recordConsent(
        _ record: ConsentRecord, storage: any ConsentStorage & AccountStorage, context: some ScopedContext
    ) async throws(HubError) -> Int64 {
        let version = try await storage.recordConsent(record)
        try await auditConsent(record, storage: storage, context: context)
        return version
    }

    /// The audit trail's line (and the log's) for a consent decision.
    static func auditConsent(_ record: ConsentRecord, storage: any AccountStorage, context: some ScopedContext)
        async throws(HubError)
    {
        let erased = record.state == .granted ? "" : "; templates erased, doors remove them with their next delta"
        try await storage.appendAudit(
            AuditEntry(
                at: Date(), actor: context.actor, action: "consent", subject: "person:\(record.person)",
                detail: "\(record.state.rawValue) by \(record.givenBy.rawValue) (\(record.evidence))\(erased)",
                address: context.address))
        context.logger.notice(
            "consent \(record.state.rawValue)\(erased)", metadata: ["person": "\(record.person)"])
    }

    static func unknown(_ what: String, _ id: String) -> HubError {
        HubError(.notFound, "there is no \(what) \(id.prefix(100))")
    }

    struct Revocation: Decodable {
        var id: String
    }

    /// The volunteers and staff a room lets in.
    struct RoomAccess: Codable {
        var people: [String]
    }

    struct Teachers: Decodable {
        var teachers: [String]
    }

    struct Done: Encodable {
        var ok = true
    }

    /// The admin API: rooms, devices, people, sessions, badge keys, tokens, the timetable.
    private static func addAdminRoutes(
        _ admin: RouterGroup<ScopedRequestContext>,
        admin storage: any AdminStorage & AccountStorage & RollCallStorage & ConsentStorage & NotificationStorage,
        configuration: HubServerConfiguration
    ) {
        let limit = configuration.maximumBodyBytes
        admin.post("rooms") { request, _ in
            let room: NewRoom = try await decodeBody(request, limit: limit)
            try await storage.addRoom(room.id, timezone: room.timezone, policy: room.policy)
            return try json(Done())
        }
        admin.put("rooms/:id/access") { request, context in
            let room = parameter(context, "id")
            let body: RoomAccess = try await decodeBody(request, limit: limit)
            try await storage.setRoomAccess(room: room, people: body.people)
            context.logger.notice(
                "admin: the room's access list replaced",
                metadata: ["room": "\(room)", "people": "\(body.people.count)"])
            return try json(Done())
        }
        admin.get("rooms/:id/access") { request, context in
            let room = parameter(context, "id")
            guard let people = try await storage.roomAccess(room: room) else { throw unknown("room", room) }
            return try json(RoomAccess(people: people))
        }
        admin.post("devices") { request, _ in
            let device: NewDevice = try await decodeBody(request, limit: limit)
            guard device.token.count >= 16 else {
                throw HubError(.badRequest, "a device token has at least 16 characters")
            }
            try await storage.addDevice(DeviceRecord(id: device.id, room: device.room), token: device.token)
            return try json(Done())
        }
        admin.delete("devices/:id") { request, context in
            let id = parameter(context, "id")
            guard try await storage.removeDevice(id) else { throw unknown("device", id) }
            context.logger.notice("admin: device removed; its token no longer works", metadata: ["device": "\(id)"])
            return try json(Done())
        }
        // What a door has sent, one line per stored event (never its body), in pages of `limit` (at most
        // 10000) after the id `after`: a technician compares it with `rollcall outbox list` on the door.
        admin.get("devices/:id/events") { request, context in
            let query = request.uri.queryParameters
            guard let limit = Int(query.get("limit") ?? "1000"), (1...10_000).contains(limit) else {
                throw HubError(.badRequest, "limit is a whole number from 1 to 10000")
            }
            let events = try await storage.receivedEvents(
                device: parameter(context, "id"), after: query.get("after").map { String($0) }, limit: limit)
            return try json(
                ReceivedEventsBody(
                    events: events.map(ReceivedEventBody.init), next: events.count == limit ? events.last?.id : nil))
        }
        admin.put("devices/:id/token") { request, context in
            let id = parameter(context, "id")
            let body: ReplacementToken = try await decodeBody(request, limit: limit)
            guard body.token.count >= 16 else {
                throw HubError(.badRequest, "a device token has at least 16 characters")
            }
            guard try await storage.replaceDeviceToken(id, token: body.token) else { throw unknown("device", id) }
            context.logger.notice(
                "admin: device token replaced; the old one no longer works", metadata: ["device": "\(id)"])
            return try json(Done())
        }
        admin.post("people") { request, context in
            let body: GalleryPersonBody = try await decodeBody(request, limit: limit)
            let id = body.entry.id
            let consent = try body.consent.map { given throws(HubError) in
                try given.record(person: id, by: context.actor)
            }
            let version = try await storage.upsertPerson(body.entry, consent: consent)
            if let consent { try await Self.auditConsent(consent, storage: storage, context: context) }
            return try json(["gallery_version": version])
        }
        admin.get("people") { _, _ in
            try json(try await storage.people().map(PersonListingBody.init))
        }
        admin.put("people/:id/consent") { request, context in
            let body: ConsentBody = try await decodeBody(request, limit: limit)
            let record = try body.record(person: parameter(context, "id"), by: context.actor)
            return try json([
                "gallery_version": try await Self.recordConsent(record, storage: storage, context: context)
            ])
        }
        admin.put("people/:id/contacts") { request, context in
            let person = parameter(context, "id")
            let body: GuardianContacts = try await decodeBody(request, limit: 16 * 1024)
            try await storage.setGuardianContacts(person: person, emails: body.guardians)
            try await storage.appendAudit(
                AuditEntry(
                    at: Date(), actor: context.actor, action: "change", subject: "person:\(person)",
                    detail: "guardian contacts set (\(body.guardians.count))", address: context.address))
            return try json(Done())
        }
        admin.get("people/:id/contacts") { _, context in
            let person = parameter(context, "id")
            guard try await storage.personRecord(person) != nil else { throw unknown("person", person) }
            return try json(GuardianContacts(guardians: try await storage.guardianContacts(person: person)))
        }
        // The absence messages' outbox: what was sent, what waits, what was given up (never the text).
        admin.get("notifications") { request, _ in
            let person = request.uri.queryParameters.get("person").map { String($0) }
            return try json(try await storage.messages(person: person).map(NotificationBody.init))
        }
        admin.get("people/:id/consent") { _, context in
            let person = parameter(context, "id")
            guard try await storage.personRecord(person) != nil else { throw unknown("person", person) }
            return try json(try await storage.consentHistory(person))
        }
        admin.delete("people/:id") { request, context in
            let id = parameter(context, "id")
            return try json(["gallery_version": try await storage.removePerson(id)])
        }
        admin.post("sessions") { request, _ in
            let body = try await collect(request, limit: limit)
            let schedule: SessionScheduleBody
            do {
                schedule = SessionScheduleBody(try .decode(from: body))
            } catch {
                throw HubError(.badRequest, "\(error)")
            }
            for session in schedule.schedule.sessions { try await storage.putSession(session) }
            return try json(Done())
        }
        // Who teaches a session (the timetable's `teacher` column does the same for its sessions).
        admin.put("sessions/:id/teachers") { request, context in
            let body: Teachers = try await decodeBody(request, limit: limit)
            guard body.teachers.count <= 20, body.teachers.allSatisfy({ (1...64).contains($0.count) }) else {
                throw HubError(.badRequest, "teachers is at most 20 usernames of 1 to 64 characters")
            }
            try await storage.setTeachers(session: parameter(context, "id"), usernames: body.teachers)
            return try json(Done())
        }
        admin.get("sessions/:id/checkins") { request, context in
            let records = try await storage.checkinRecords(session: parameter(context, "id"))
            return try json(records.map(CheckinBody.init))
        }
        // A subject-access request: everything the hub holds about one person, as JSON (audited).
        admin.get("people/:id/export") { _, context in
            let person = parameter(context, "id")
            guard let export = try await storage.exportPerson(person, at: Date()) else {
                throw unknown("person", person)
            }
            try await storage.appendAudit(
                AuditEntry(
                    at: Date(), actor: context.actor, action: "export", subject: "person:\(person)",
                    detail: "subject-access export", address: context.address))
            let data: Data
            do { data = try export.json() } catch { throw HubError(.internal, "cannot encode the export: \(error)") }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        admin.get("people/:id/visits") { request, context in
            return try json(
                try await storage.visits(person: parameter(context, "id")).map(VisitBody.init))
        }
        admin.post("badge-keys") { request, _ in
            let key: NewBadgeKey = try await decodeBody(request, limit: limit)
            try await storage.putBadgeKey(kid: key.kid, publicKey: key.publicKey)
            return try json(Done())
        }
        admin.delete("badge-keys/:kid") { request, context in
            let kid = parameter(context, "kid")
            guard try await storage.removeBadgeKey(kid: kid) else { throw unknown("badge key", kid) }
            context.logger.notice(
                "admin: badge key removed; doors refuse its badges from their next refresh",
                metadata: ["kid": "\(kid)"])
            return try json(Done())
        }
        admin.post("revocations") { request, _ in
            let revocation: Revocation = try await decodeBody(request, limit: limit)
            try await storage.revokeBadge(revocation.id)
            return try json(Done())
        }
        addTokenRoutes(admin, admin: storage, limit: limit)
    }

    // MARK: Plumbing

    static func problem(_ error: HubError) -> Response {
        let data =
            (try? DeviceAPI.encoder().encode(APIProblem(error: error.code.rawValue, message: error.message))) ?? Data()
        return Response(
            status: error.code.httpStatus,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func json(_ value: some Encodable, headers extra: HTTPFields = [:]) throws(HubError) -> Response {
        let data: Data
        do {
            data = try DeviceAPI.encoder().encode(value)
        } catch {
            throw HubError(.internal, "cannot encode the answer: \(error)")
        }
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A JSON answer with an `ETag`; `304 Not Modified` when the client already has it.
    static func encoded(_ value: some Encodable) throws(HubError) -> Data {
        do {
            return try DeviceAPI.encoder().encode(value)
        } catch {
            throw HubError(.internal, "cannot encode the answer: \(error)")
        }
    }

    /// The entity tag of an answer's bytes (what `cached` sends, and the push channel's fingerprint).
    static func etag(_ data: Data) -> String {
        "\"" + SHA256.hash(data: data).prefix(12).map { String(format: "%02x", $0) }.joined() + "\""
    }

    static func cached(_ value: some Encodable, _ request: Request) throws(HubError) -> Response {
        let data = try encoded(value)
        let tag = etag(data)
        if request.headers[.ifNoneMatch] == tag {
            return Response(status: .notModified, headers: [.eTag: tag])
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json", .eTag: tag],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A path parameter, percent-decoded (`/reports/groups/7B%20Maths` is group "7B Maths"); "" if absent.
    static func parameter(_ context: some RequestContext, _ name: String) -> String {
        guard let raw = context.parameters.get(name) else { return "" }
        return raw.removingPercentEncoding ?? raw
    }

    static func bearer(_ request: Request) -> String? {
        guard let value = request.headers[.authorization], value.hasPrefix("Bearer ") else { return nil }
        return String(value.dropFirst("Bearer ".count))
    }

    static func collect(_ request: Request, limit: Int) async throws(HubError) -> Data {
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch {
            throw HubError(.tooLarge, "the body is larger than \(limit) bytes; nothing was stored")
        }
    }

    static func decodeBody<T: Decodable>(_ request: Request, limit: Int) async throws(HubError) -> T {
        let data = try await collect(request, limit: limit)
        do {
            return try DeviceAPI.decoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw HubError(
                .badRequest, "the body is not a valid \(T.self): \(error.humanDescription); nothing was stored")
        } catch {
            throw HubError(.badRequest, "the body is not JSON: \(error); nothing was stored")
        }
    }
}

/// A person as the admin API takes it: the gallery file's person entry.
struct GalleryPersonBody: Decodable {
    var entry: GalleryDocument.Entry
    /// Consent to record before the templates are stored (optional).
    var consent: ConsentBody?

    init(from decoder: any Decoder) throws {
        entry = try GalleryDocument.Entry(from: decoder)
        consent = try decoder.container(keyedBy: Keys.self).decodeIfPresent(ConsentBody.self, forKey: .consent)
    }

    private enum Keys: String, CodingKey { case consent }
}

/// A consent decision as the admin API takes it: `{"state", "given_by", "evidence", "at"?}`.
struct ConsentBody: Decodable {
    var state: ConsentState
    var givenBy: ConsentGiver
    var evidence: String
    var at: String?

    enum CodingKeys: String, CodingKey {
        case state, evidence, at
        case givenBy = "given_by"
    }

    func record(person: String, by actor: String) throws(HubError) -> ConsentRecord {
        var when = Date()
        if let at {
            guard let parsed = ISO8601Time.parse(at) else {
                throw HubError(.badRequest, "consent `at` is an ISO 8601 time with its offset")
            }
            guard parsed <= Date() + 300 else { throw HubError(.badRequest, "consent cannot be given in the future") }
            when = parsed
        }
        return try ConsentRecord(
            person: person, state: state, givenBy: givenBy, at: when, evidence: evidence, recordedBy: actor
        ).validated()
    }
}

/// A person's guardians' email addresses.
struct GuardianContacts: Codable {
    var guardians: [String]
}

/// A message of the outbox as the admin API lists it.
struct NotificationBody: Encodable {
    var id: Int64
    var kind: String
    var channel: String
    var person: String
    var session: String
    var createdAt: String
    var sentAt: String?
    var attempts: Int
    var failed: Bool
    var lastError: String?

    init(_ queued: QueuedMessage) {
        id = queued.id
        kind = queued.message.kind
        channel = queued.message.channel.rawValue
        person = queued.message.person
        session = queued.message.session
        createdAt = ISO8601Time.format(queued.createdAt)
        sentAt = queued.sentAt.map(ISO8601Time.format)
        attempts = queued.attempts
        failed = queued.failed
        lastError = queued.lastError
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, channel, person, session, attempts, failed
        case createdAt = "created_at"
        case sentAt = "sent_at"
        case lastError = "last_error"
    }
}

/// A person as `GET /api/v1/admin/people` lists them: no templates.
struct PersonListingBody: Encodable {
    var id: String
    var name: String
    var role: String
    var groups: [String]
    var consent: String?
    var templates: Int

    init(_ listing: PersonListing) {
        id = listing.person.id
        name = listing.person.name
        role = listing.person.role.rawValue
        groups = listing.person.groups
        consent = listing.consent?.rawValue
        templates = listing.templates
    }
}

/// Sessions as the admin API takes them: a sessions file.
struct SessionScheduleBody {
    var schedule: SessionSchedule
    init(_ schedule: SessionSchedule) { self.schedule = schedule }
}
