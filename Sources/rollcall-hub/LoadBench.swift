import ArgumentParser
import AsyncHTTPClient
import Attendance
import Foundation
import Hub
import NIOCore
import NIOHTTP1
import NIOSSL
import Recognition
import SyncProtocol
import Synchronization

/// `rollcall-hub bench`: measurements of the hub from outside.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure the hub from outside, over HTTP.", subcommands: [LoadBench.self])
}

/// `rollcall-hub bench load`: real hub processes driven the way doors and staff drive them.
struct LoadBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Drive real hub processes over HTTP the way doors and staff do, and measure them.",
        discussion: """
            Fills the database with --devices rooms (one door each, --students per room, \
            --sessions-per-room past sessions), starts --hubs `rollcall-hub serve` processes on loopback \
            over it, and then: every door syncs its manifest and its gallery pages as a new door does; \
            for --seconds every door posts 500-event batches of its sessions' check-ins and polls its \
            manifest with its ETag while --readers staff clients read session reports; then a reconnect \
            storm (every door sends a 500-event backlog at once). Afterwards it counts what the database \
            holds: every event exactly once. With --nginx, every request goes through nginx over TLS on \
            loopback, run with the given configuration (deploy/nginx/rollcall-hub.conf) in front of the \
            hubs. The last line is JSON.
            """)

    @Option(
        help: ArgumentHelp("The database: a SQLite file or a postgres:// URL (new and empty).", valueName: "file|url"))
    var db: String?
    @Option(help: "Hub processes (the doors are spread over them).") var hubs = 1
    @Option(help: "Doors (one room each).") var devices = 100
    @Option(help: "Students per room (the roster of each of its sessions).") var students = 50
    @Option(help: "Past sessions per room whose check-ins the doors send.") var sessionsPerRoom = 20
    @Option(help: "Seconds of morning traffic.") var seconds = 20
    @Option(help: "Staff clients reading session reports meanwhile.") var readers = 4
    @Option(
        help: ArgumentHelp(
            "Events per second all doors send together during the morning (each door a batch at a steady "
                + "interval); 0: every door sends its next batch as soon as the last is answered.",
            valueName: "events/s"))
    var rate = 0
    @Option(help: "Events per batch during the morning (the storm's are 500).") var batch = 500
    @Option(
        help: ArgumentHelp(
            "Reports per second all readers read together (each reader at a steady interval); 0: each reads "
                + "its next as soon as the last is answered.", valueName: "reports/s"))
    var readRate = 0
    @Option(
        help: ArgumentHelp(
            "The database holds a district made by `rollcall-hub seed` with SCHOOLS schools of GROUPS groups "
                + "(e.g. 40x40) and --weeks weeks: the readers read its reports (a group's term, a session, a "
                + "week's volunteer hours) instead.",
            valueName: "SCHOOLSxGROUPS"))
    var district: String?
    @Option(help: "With --district: the seeded term's weeks.") var weeks = 12
    @Option(
        help: ArgumentHelp(
            "The data key for a PostgreSQL database (made in a temporary folder if not given).", valueName: "file"))
    var dataKeyFile: String?
    @Option(
        help: ArgumentHelp(
            "Send every request through nginx over TLS, run with this configuration in front of the hubs.",
            valueName: "deploy/nginx/rollcall-hub.conf"))
    var nginx: String?
    @Flag(help: "Only the JSON line.") var json = false

    func validate() throws {
        guard (1...16).contains(hubs), (1...5000).contains(devices), (1...1000).contains(students),
            (1...1000).contains(sessionsPerRoom), (1...3600).contains(seconds), (0...5000).contains(readers),
            (0...1_000_000).contains(rate), (0...100_000).contains(readRate),
            (1...DeviceAPI.maximumBatch).contains(batch), (1...52).contains(weeks)
        else {
            throw ValidationError(
                "out of range: hubs 1-16, devices 1-5000, students 1-1000, sessions 1-1000, readers 0-5000, "
                    + "rate 0-1000000, batch 1-\(DeviceAPI.maximumBatch), weeks 1-52")
        }
        if let district, seededDistrict(district) == nil {
            throw ValidationError("--district is SCHOOLSxGROUPS, e.g. 40x40, not \(district)")
        }
    }

    /// The seeded district's shape: schools and groups per school.
    func seededDistrict(_ text: String) -> (schools: Int, groups: Int)? {
        let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, (1...500).contains(parts[0]), (1...1000).contains(parts[1]) else { return nil }
        return (parts[0], parts[1])
    }

    func say(_ line: String) {
        if !json { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rollcall-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = db ?? folder.appendingPathComponent("hub.sqlite").path
        var keyFile = dataKeyFile ?? folder.appendingPathComponent("data.key").path
        if !PostgresHubStorage.isURL(database) { keyFile = dataKeyFile ?? database + ".key" }
        if !FileManager.default.fileExists(atPath: keyFile) {
            _ = FileManager.default.createFile(
                atPath: keyFile, contents: Data((0..<32).map { _ in UInt8.random(in: 0...255) }),
                attributes: [.posixPermissions: 0o600])
        }
        let admin = String(repeating: "a", count: 8) + UUID().uuidString
        let adminFile = folder.appendingPathComponent("admin-token").path
        _ = FileManager.default.createFile(
            atPath: adminFile, contents: Data(admin.utf8), attributes: [.posixPermissions: 0o600])

        // The district in small: rooms with a door, students, past sessions, a staff token.
        let started = Date()
        let plan = try await provision(database, keyFile: keyFile)
        say(
            "load: \(devices) rooms, \(devices * students) students, \(plan.sessions.count) sessions in \(Self.seconds(since: started)) s"
        )

        let processes = try (0..<hubs).map { _ in try startHub(database, keyFile: keyFile, adminFile: adminFile) }
        defer { for (process, _) in processes { process.terminate() } }
        var targets = processes.map(\.1)
        say("load: \(hubs) hub process(es): \(targets.joined(separator: " "))")
        var tls = TLSConfiguration.makeClientConfiguration()
        var front: NginxFront?
        if let nginx {
            let started = try NginxFront.start(configuration: nginx, hubs: targets, folder: folder)
            front = started
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(started.certificate))
            targets = [started.url]
            say("load: nginx \(started.url) in front of them (\(nginx))")
        }
        defer { front?.stop() }
        let urls = targets

        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            timeout: .init(connect: .seconds(10), read: .seconds(60)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 2000))
        configuration.httpVersion = .http1Only
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        if let front { try await front.waitUntilReady(client) }
        let errors = Failures()

        // New doors: the manifest, then the gallery a page at a time.
        let gallery = Samples()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for device in 0..<devices {
                group.addTask {
                    let base = urls[device % urls.count]
                    let start = ContinuousClock.now
                    var ok =
                        await Self.get(client, base + DeviceAPI.manifestPath, token: plan.token(device)).status == 200
                    var after: String?
                    var scope: String?
                    repeat {
                        var path = base + DeviceAPI.galleryPath + "?since=0"
                        if let scope { path += "&scope=\(scope)" }
                        if let after { path += "&after=\(after)" }
                        let answer = await Self.get(client, path, token: plan.token(device))
                        guard answer.status == 200,
                            let page = try? DeviceAPI.decoder().decode(GalleryDelta.self, from: answer.body)
                        else {
                            ok = false
                            break
                        }
                        scope = page.scope
                        after = page.next
                    } while after != nil
                    gallery.add(ContinuousClock.now - start)
                    if !ok { errors.add("gallery sync") }
                }
            }
            try await group.waitForAll()
        }
        say(
            "load: \(devices) new doors synced their gallery: p50 \(gallery.percentile(50)) ms, p99 \(gallery.percentile(99)) ms"
        )

        // The morning: batches from every door, manifest polls with ETags, staff reading reports.
        let batches = Samples()
        let reports = ReportSamples()
        let sent = Tally()
        let cursor = plan.cursors()
        let morning = ContinuousClock.now
        let deadline = morning + .seconds(seconds)
        // When the last batch was answered: the rate is over the time the doors were sending.
        let lastBatch = Latest(morning)
        let (batch, readers) = (batch, readers)
        // With --rate, each door sends a batch every `interval`, the doors' turns spread over it.
        let interval: Duration? = rate > 0 ? .nanoseconds(Int64(1e9 * Double(devices * batch) / Double(rate))) : nil
        let readings = try readingPlan(plan)
        let readInterval: Duration? = readRate > 0 ? .nanoseconds(Int64(1e9 * Double(readers) / Double(readRate))) : nil
        try await withThrowingTaskGroup(of: Void.self) { group in
            for device in 0..<devices {
                group.addTask {
                    let base = urls[device % urls.count]
                    var tag: String?
                    var polled = ContinuousClock.now - .seconds(60)
                    var next = morning + (interval.map { $0 / devices * device } ?? .zero)
                    while ContinuousClock.now < deadline, let events = cursor.next(device, batch, reserve: 500) {
                        if let interval {
                            try? await Task.sleep(until: next, clock: .continuous)
                            next += interval
                        }
                        let start = ContinuousClock.now
                        let answer = await Self.post(
                            client, base + DeviceAPI.eventsPath, token: plan.token(device), events)
                        batches.add(ContinuousClock.now - start)
                        lastBatch.note(ContinuousClock.now)
                        if answer.status == 200,
                            let result = try? DeviceAPI.decoder().decode(EventBatchResult.self, from: answer.body),
                            result.accepted.count + result.duplicate.count == events.count
                        {
                            sent.add(events.count)
                        } else {
                            errors.add("batch: \(answer.status) \(answer.problem)")
                        }
                        // A door polls its manifest every 10 s, with the ETag of the last one.
                        guard ContinuousClock.now - polled >= .seconds(10) else { continue }
                        polled = ContinuousClock.now
                        let poll = await Self.get(
                            client, base + DeviceAPI.manifestPath, token: plan.token(device), etag: tag)
                        if poll.status == 200 {
                            tag = poll.etag
                        } else if poll.status != 304 {
                            errors.add("manifest: \(poll.status) \(poll.problem)")
                        }
                    }
                }
            }
            for reader in 0..<readers {
                group.addTask {
                    var index = reader
                    var next = morning + (readInterval.map { $0 / readers * reader } ?? .zero)
                    while ContinuousClock.now < deadline {
                        if let readInterval {
                            try? await Task.sleep(until: next, clock: .continuous)
                            next += readInterval
                            guard ContinuousClock.now < deadline else { break }
                        }
                        let reading = readings(index)
                        index += readers
                        let start = ContinuousClock.now
                        let answer = await Self.get(client, urls[reader % urls.count] + reading.path, token: plan.staff)
                        reports.add(reading.kind, ContinuousClock.now - start)
                        if answer.status != 200 { errors.add("report: \(answer.status) \(answer.problem)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = Self.seconds(lastBatch.value - morning)
        let morningEvents = sent.value
        say(
            "load: morning: \(morningEvents) events in \(String(format: "%.1f", elapsed)) s, batches p50 \(batches.percentile(50)) ms, "
                + "p99 \(batches.percentile(99)) ms; reports p99 \(reports.all.percentile(99)) ms "
                + "(\(reports.all.count) read by \(readers) readers)")

        // The reconnect storm: every door sends a backlog of 500 at once.
        let storm = ContinuousClock.now
        let stormSent = Tally()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for device in 0..<devices {
                group.addTask {
                    guard let events = cursor.next(device, 500) else { return }
                    let answer = await Self.post(
                        client, urls[device % urls.count] + DeviceAPI.eventsPath, token: plan.token(device), events)
                    if answer.status == 200 {
                        stormSent.add(events.count)
                    } else {
                        errors.add("storm: \(answer.status) \(answer.problem)")
                    }
                }
            }
            try await group.waitForAll()
        }
        let stormSeconds = Self.seconds(ContinuousClock.now - storm)
        say(
            "load: storm: \(stormSent.value) events from \(devices) doors at once in "
                + "\(String(format: "%.1f", stormSeconds)) s")

        try? await client.shutdown()

        // Every event exactly once.
        let store = try await HubStores.open(database, dataKeyFile: keyFile, environment: [:], maximumConnections: 2)
        let stored = try await store.receivedEventCount()
        let expected = plan.before + morningEvents + stormSent.value
        if let postgres = store as? PostgresHubStorage { await postgres.close() }
        let result: [String: Any] = [
            "store": PostgresHubStorage.isURL(database) ? "postgresql" : "sqlite", "hubs": hubs, "devices": devices,
            "events": morningEvents, "events_per_s": Double(morningEvents) / max(elapsed, 0.001),
            "batch_p50_ms": batches.percentile(50), "batch_p99_ms": batches.percentile(99),
            "report_p99_ms": reports.all.percentile(99), "reports": reports.all.count, "readers": readers,
            "session_report_p99_ms": reports.session.percentile(99),
            "group_report_p99_ms": reports.group.percentile(99),
            "volunteer_report_p99_ms": reports.volunteers.percentile(99), "rate": rate, "batch": batch,
            "read_rate": readRate,
            "gallery_sync_p99_ms": gallery.percentile(99), "storm_events": stormSent.value,
            "storm_seconds": stormSeconds, "stored": stored, "nginx": nginx != nil, "exactly_once": stored == expected,
            "errors": errors.count, "error_kinds": errors.kinds,
        ]
        let line = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: line, as: UTF8.self))
        if errors.count > 0 { say("load: errors: \(errors.kinds)") }
        if stored != expected || errors.count > 0 { throw ExitCode(1) }
    }

    /// What the staff readers read, in turn: with --district the seeded district's reports (a group's
    /// term, a session of it, a week of volunteer hours), else the load's own sessions' reports.
    func readingPlan(_ plan: Plan) throws -> @Sendable (Int) -> Reading {
        guard let text = district, let shape = seededDistrict(text) else {
            let sessions = plan.sessions
            return { index in
                Reading(kind: .session, path: "/api/v1/reports/sessions/\(sessions[index % sessions.count])")
            }
        }
        // The same term the seed made (it ends with last week).
        let term = District(
            schools: shape.schools, studentsPerSchool: shape.groups, groupSize: 1, weeks: weeks,
            volunteersPerSchool: 0, timezone: TimeZone(identifier: "UTC")!, seed: 0, now: Date())
        let from = ISO8601Time.format(term.days[0] - 86_400)
        let to = ISO8601Time.format(term.days[term.days.count - 1] + 2 * 86_400)
        return { index in
            var random = SeededDraws(seed: UInt64(index))
            let school = random.below(shape.schools)
            let group = term.groupName(school, random.below(shape.groups))
            switch index % 3 {
            case 0:
                return Reading(kind: .group, path: "/api/v1/reports/groups/\(group)?from=\(from)&to=\(to)")
            case 1:
                // A register of the term: the session ids the timetable import makes.
                let day = term.days[random.below(term.days.count)]
                let (name, time) = random.below(2) == 0 ? ("register-am", "0840") : ("register-pm", "1310")
                let date = String(ISO8601Time.format(day).prefix(10))
                return Reading(kind: .session, path: "/api/v1/reports/sessions/\(name)-\(group)-\(date)-\(time)")
            default:
                let week = term.days[random.below(term.weeks) * 5]
                let end = ISO8601Time.format(week + 7 * 86_400)
                return Reading(
                    kind: .volunteers, path: "/api/v1/reports/volunteers?from=\(ISO8601Time.format(week))&to=\(end)")
            }
        }
    }

    struct Reading: Sendable {
        enum Kind: Sendable { case session, group, volunteers }
        var kind: Kind
        var path: String
    }

    // MARK: The district in small

    struct Plan: Sendable {
        let devices: Int
        let sessions: [String]
        /// Per room, its sessions with their start times and roster.
        let rooms: [[(id: String, start: Date, roster: [String])]]
        let staff: String
        /// The events the database held before the load (a seeded district's).
        let before: Int
        /// This run's mark in every id it makes, so that runs can follow each other on one database.
        let run: String
        func door(_ device: Int) -> String { "load-\(run)-door-\(device)" }
        func token(_ device: Int) -> String { door(device) + "-token-0123456789" }
        func cursors() -> Cursors { Cursors(self) }
    }

    /// Hands each door the next check-ins of its sessions, each (session, person) once.
    final class Cursors: Sendable {
        let plan: Plan
        let positions: Mutex<[Int]>
        init(_ plan: Plan) {
            self.plan = plan
            positions = Mutex([Int](repeating: 0, count: plan.devices))
        }

        /// Up to `count` events of the door's sessions not sent yet, leaving the last `reserve` (the storm's).
        func next(_ device: Int, _ count: Int, reserve: Int = 0) -> [DeviceEvent]? {
            let sessions = plan.rooms[device]
            let perSession = sessions.first?.roster.count ?? 0
            let total = max(0, sessions.count * perSession - reserve)
            let start = positions.withLock { positions -> Int in
                let start = positions[device]
                positions[device] = min(total, start + count)
                return start
            }
            guard start < total else { return nil }
            return (start..<min(total, start + count)).map { index in
                let session = sessions[index / perSession]
                let person = session.roster[index % perSession]
                let at = session.start + Double(index % perSession % 600)
                return DeviceEvent(
                    id: UUID().uuidString.lowercased(),
                    event: .checkin(session: session.id, person: person, at: at, status: .present, minutesLate: 0),
                    method: "face", source: "signage:\(plan.door(device))", confidence: 0.9)
            }
        }
    }

    func provision(_ database: String, keyFile: String) async throws -> Plan {
        if !PostgresHubStorage.isURL(database) {
            // A new SQLite file: the store makes it.
            _ = try SQLiteHubStorage(
                path: database, sealer: try PersonSealer.load(file: keyFile, database: database, environment: [:]))
        }
        let store = try await HubStores.open(database, dataKeyFile: keyFile, environment: [:], maximumConnections: 8)
        let before = try await store.receivedEventCount()
        let run = String(UUID().uuidString.prefix(8)).lowercased()
        let staff = "load-staff-token-\(UUID().uuidString)"
        try await store.addAccessToken(staff, scope: .staff, label: "load")
        // Sessions on the past weekdays at 08:40, one per day, newest first (all within 30 days).
        let today = Calendar(identifier: .gregorian).startOfDay(for: Date())
        // Rooms are made 8 at a time (each room's steps in order): a storm of 1,600 doors needs 1,600.
        let (students, sessionsPerRoom, devices) = (students, sessionsPerRoom, devices)
        let made = Tally()
        let byRoom = try await withThrowingTaskGroup(of: (Int, [(id: String, start: Date, roster: [String])]).self) {
            group in
            @Sendable func room(_ room: Int) async throws -> (Int, [(id: String, start: Date, roster: [String])]) {
                let name = "load-\(run)-room-\(room)"
                try await store.addRoom(name, timezone: "UTC", policy: nil)
                try await store.addDevice(
                    DeviceRecord(id: "load-\(run)-door-\(room)", room: name),
                    token: "load-\(run)-door-\(room)-token-0123456789")
                var roster: [String] = []
                for index in 0..<students {
                    let id = "load-\(run)-\(room)-\(index)"
                    var document = GalleryDocument()
                    document.enroll(
                        Person(
                            id: id, name: "Student \(room)-\(index)", role: .student, groups: ["load-\(run)-\(room)"]),
                        templates: [
                            GalleryDocument.Template(
                                source: nil, encoding: (0..<128).map { _ in Float.random(in: -0.2...0.2) })
                        ])
                    try await store.upsertPerson(
                        document.people[0],
                        consent: ConsentRecord(
                            person: id, state: .granted, givenBy: .guardian, at: Date(),
                            evidence: "generated test data (rollcall-hub bench load)", recordedBy: "cli"))
                    roster.append(id)
                }
                var own: [(id: String, start: Date, roster: [String])] = []
                for day in 0..<sessionsPerRoom {
                    // Several a day when there are more than 20: every 50 minutes from 08:40.
                    let start = today - Double(1 + day / 8) * 86_400 + 8 * 3600 + 40 * 60 + Double(day % 8) * 3000
                    let id = "load-\(run)-\(room)-s\(day)"
                    try await store.putSession(
                        Session(
                            id: id, room: name, group: "load-\(run)-\(room)", start: start, end: start + 2700,
                            roster: roster))
                    own.append((id, start, roster))
                }
                made.add(1)
                if made.value % 100 == 0 { say("load: provisioned \(made.value) of \(devices) rooms") }
                return (room, own)
            }
            var next = 0
            var result: [Int: [(id: String, start: Date, roster: [String])]] = [:]
            while next < min(8, devices) {
                let index = next
                group.addTask { try await room(index) }
                next += 1
            }
            while let (index, own) = try await group.next() {
                result[index] = own
                if next < devices {
                    let index = next
                    group.addTask { try await room(index) }
                    next += 1
                }
            }
            return result
        }
        let rooms = (0..<devices).map { byRoom[$0] ?? [] }
        let sessions = rooms.flatMap { $0.map(\.id) }
        if let postgres = store as? PostgresHubStorage { await postgres.close() }
        return Plan(devices: devices, sessions: sessions, rooms: rooms, staff: staff, before: before, run: run)
    }

    /// Starts `rollcall-hub serve` (this program) on a free loopback port; returns it and its URL.
    func startHub(_ database: String, keyFile: String, adminFile: String) throws -> (Process, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        if !FileManager.default.isExecutableFile(atPath: process.executableURL!.path),
            let path = Bundle.main.executablePath
        {
            process.executableURL = URL(fileURLWithPath: path)
        }
        process.arguments = [
            "serve", "--db", database, "--port", "0", "--data-key-file", keyFile, "--admin-token-file", adminFile,
            "--max-event-age-days", "3650", "--rate-limit", "100000", "--rate-burst", "100000",
            "--max-connections", "10000",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Its first line: "rollcall-hub listening on http://HOST:PORT".
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw ValidationError("a hub process did not start on \(database)") }
            line += chunk
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: "http://") else { throw ValidationError("a hub said: \(text)") }
        return (process, String(text[range.lowerBound...].prefix { !$0.isWhitespace }))
    }

    // MARK: HTTP

    struct Answer {
        var status: Int
        var body: Data
        var etag: String?
        /// The start of the body of an answer that is not 200 (the hub's problem text), for the error list.
        var problem: String { String(decoding: body.prefix(120), as: UTF8.self) }
    }

    static func get(_ client: HTTPClient, _ url: String, token: String, etag: String? = nil) async -> Answer {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let etag { request.headers.add(name: "If-None-Match", value: etag) }
        return await send(client, request)
    }

    static func post(_ client: HTTPClient, _ url: String, token: String, _ events: [DeviceEvent]) async -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        let body = (try? DeviceAPI.encoder().encode(EventBatch(events: events))) ?? Data()
        request.body = .bytes(ByteBuffer(bytes: body))
        return await send(client, request)
    }

    static func send(_ client: HTTPClient, _ request: HTTPClientRequest) async -> Answer {
        do {
            let response = try await client.execute(request, timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 64 << 20)
            return Answer(
                status: Int(response.status.code), body: Data(body.readableBytesView),
                etag: response.headers.first(name: "ETag"))
        } catch {
            return Answer(status: 0, body: Data(String(describing: error).utf8), etag: nil)
        }
    }

    static func seconds(since start: Date) -> Double { (Date().timeIntervalSince(start) * 10).rounded() / 10 }
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// A count several tasks add to.
final class Tally: Sendable {
    private let count = Mutex(0)
    func add(_ amount: Int) { count.withLock { $0 += amount } }
    var value: Int { count.withLock { $0 } }
}

/// The requests that failed, counted by what they were and what came back.
final class Failures: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    func add(_ kind: String) { counts.withLock { $0[kind, default: 0] += 1 } }
    var count: Int { counts.withLock { $0.values.reduce(0, +) } }
    var kinds: [String: Int] { counts.withLock { $0 } }
}

/// The latest of the moments several tasks note.
final class Latest: Sendable {
    private let moment: Mutex<ContinuousClock.Instant>
    init(_ start: ContinuousClock.Instant) { moment = Mutex(start) }
    func note(_ now: ContinuousClock.Instant) { moment.withLock { $0 = max($0, now) } }
    var value: ContinuousClock.Instant { moment.withLock { $0 } }
}

/// The readers' latencies, by report.
final class ReportSamples: Sendable {
    let all = Samples()
    let session = Samples()
    let group = Samples()
    let volunteers = Samples()
    func add(_ kind: LoadBench.Reading.Kind, _ duration: Duration) {
        all.add(duration)
        switch kind {
        case .session: session.add(duration)
        case .group: group.add(duration)
        case .volunteers: volunteers.add(duration)
        }
    }
}

/// Latencies, for percentiles.
final class Samples: Sendable {
    private let values = Mutex<[Double]>([])
    func add(_ duration: Duration) { values.withLock { $0.append(LoadBench.seconds(duration) * 1000) } }
    var count: Int { values.withLock { $0.count } }
    /// The `p`th percentile in whole milliseconds (0 with no samples).
    func percentile(_ p: Double) -> Double {
        let sorted = values.withLock { $0.sorted() }
        guard !sorted.isEmpty else { return 0 }
        let index = min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1)
        return (sorted[max(0, index)] * 10).rounded() / 10
    }
}
