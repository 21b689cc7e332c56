import ArgumentParser
import Attendance
import Crypto
import Foundation
import Hub
import Recognition
import SyncProtocol
import Synchronization

/// `rollcall-hub seed`: a realistic district in a new database, for load tests and report timings.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Fill a new hub database with a made-up district: schools, timetables and a term of door events.",
        discussion: """
            Every school has one room and one door per group (a form of --group-size students), its \
            students enrolled with a face template each, and --volunteers-per-school volunteers, each \
            allowed into one room. The timetable is imported the way a school imports it (CSV: a morning and \
            an afternoon register every weekday, 08:40 and 13:10 in --timezone) for the --weeks full weeks \
            before this one. Then every door sends its week's events through the hub's own ingest rules: \
            arrivals spread around the register's start (most a few minutes early, a few percent late), a \
            few percent absent (some of them excused by the office), volunteers' visits on two days a week. \
            Names: school sNN, group sNN-gNNN, room sNN-rNNN, door sNN-door-NNN, student sNN-pNNNNN, \
            volunteer sNN-vNN. The same --seed makes the same district. Prints progress on standard error \
            and a JSON line at the end.
            """)

    @Option(
        help: ArgumentHelp(
            "The database: a SQLite file or a postgres:// URL (new, or holding no events).", valueName: "file|url"))
    var db: String
    @Option(
        help: ArgumentHelp(
            "The data key (required for PostgreSQL; for SQLite FILE.key is made when missing).", valueName: "file"))
    var dataKeyFile: String?
    @Option(help: "Schools.") var schools = 40
    @Option(help: "Students per school.") var studentsPerSchool = 1000
    @Option(help: "Students per group (one room and door each).") var groupSize = 25
    @Option(help: "Weeks of term (Monday to Friday), ending last week.") var weeks = 12
    @Option(help: "Volunteers per school.") var volunteersPerSchool = 10
    @Option(help: "The schools' timezone.") var timezone = "Europe/London"
    @Option(help: "Seed of the random choices.") var seed: UInt64 = 1
    @Option(help: "Doors sending at once.") var jobs = 4

    func validate() throws {
        guard (1...500).contains(schools), (1...20_000).contains(studentsPerSchool), (1...200).contains(groupSize),
            (1...52).contains(weeks), (0...500).contains(volunteersPerSchool), (1...64).contains(jobs)
        else {
            throw ValidationError(
                "out of range: schools 1-500, students-per-school 1-20000, group-size 1-200, weeks 1-52, "
                    + "volunteers-per-school 0-500, jobs 1-64")
        }
        guard TimeZone(identifier: timezone) != nil else { throw ValidationError("\(timezone) is not a timezone") }
    }

    func say(_ line: String) { FileHandle.standardError.write(Data(("seed: " + line + "\n").utf8)) }

    func run() async throws {
        let started = ContinuousClock.now
        let environment = ProcessInfo.processInfo.environment
        if !PostgresHubStorage.isURL(db) {
            // A new SQLite file: the store makes it (and, without --data-key-file, its key FILE.key, mode 0600).
            _ = try SQLiteHubStorage(
                path: db, sealer: try PersonSealer.load(file: dataKeyFile, database: db, environment: environment))
        }
        let store = try await HubStores.open(
            db, dataKeyFile: dataKeyFile, environment: environment, maximumConnections: jobs + 2)
        do {
            try await fill(store, started: started)
        } catch {
            if let postgres = store as? PostgresHubStorage { await postgres.close() }
            throw error
        }
        if let postgres = store as? PostgresHubStorage { await postgres.close() }
    }

    func fill(_ store: any HubStorage, started: ContinuousClock.Instant) async throws {
        let held = try await store.receivedEventCount()
        guard held == 0 else {
            throw ValidationError("\(db) already holds \(held) events: seed fills a new database")
        }

        let district = District(
            schools: schools, studentsPerSchool: studentsPerSchool, groupSize: groupSize, weeks: weeks,
            volunteersPerSchool: volunteersPerSchool, timezone: TimeZone(identifier: timezone)!, seed: seed,
            now: Date())
        say(
            "\(schools) schools, \(schools * studentsPerSchool) students in \(schools * district.groups) groups, "
                + "term \(district.dayText(0)) to \(district.dayText(district.days.count - 1)) (\(weeks) weeks)")

        // People, rooms, doors and timetables, a school at a time.
        var sessions: [String: [Session]] = [:]  // by room, in time order
        for school in 0..<schools {
            for group in 0..<district.groups {
                let room = district.room(school, group)
                try await store.addRoom(room, timezone: timezone, policy: nil)
                try await store.addDevice(
                    DeviceRecord(id: district.door(school, group), room: room),
                    token: District.token(school, group, seed: seed))
            }
            try await forEach(Array(0..<studentsPerSchool)) { student in
                let person = district.student(school, student)
                _ = try await store.upsertPerson(
                    Self.entry(person, role: .student, seed: seed),
                    consent: ConsentRecord(
                        person: person.id, state: .granted, givenBy: .guardian, at: Date(),
                        evidence: "generated test data (rollcall-hub seed)", recordedBy: "cli"))
            }
            var allowed: [String: [String]] = [:]
            for volunteer in 0..<volunteersPerSchool {
                let id = district.volunteer(school, volunteer)
                _ = try await store.upsertPerson(
                    Self.entry(
                        (id, district.name(school * 1_000 + volunteer + 500), nil), role: .volunteer, seed: seed),
                    consent: ConsentRecord(
                        person: id, state: .granted, givenBy: .self, at: Date(),
                        evidence: "generated test data (rollcall-hub seed)", recordedBy: "cli"))
                allowed[district.room(school, district.volunteerRoom(volunteer)), default: []].append(id)
            }
            for (room, people) in allowed { try await store.setRoomAccess(room: room, people: people) }
            let imported = try await store.importTimetable(district.timetable(school))
            guard imported.problems.isEmpty else {
                throw ValidationError("the generated timetable was refused: \(imported.problems.prefix(3))")
            }
            for session in imported.sessions { sessions[session.room, default: []].append(session) }
            say(
                "school \(school + 1) of \(schools): \(studentsPerSchool) students, \(volunteersPerSchool) volunteers, "
                    + "\(imported.sessions.count) sessions (\(Self.seconds(since: started)) s)")
        }
        for room in sessions.keys { sessions[room]?.sort { $0.start < $1.start } }

        // A term of events: every door sends each week's at the end of the week, through the ingest rules.
        let doors = (0..<schools).flatMap { school in (0..<district.groups).map { (school, $0) } }
        let totals = SeedTotals()
        let ingestStarted = ContinuousClock.now
        let lastSaid = Mutex(ContinuousClock.now)
        let sessionsByRoom = sessions
        try await forEach(doors, width: jobs) { school, group in
            let room = district.room(school, group)
            let device = DeviceRecord(id: district.door(school, group), room: room)
            var random = SeededDraws(seed: seed ^ UInt64(school * 100_003 + group + 1))
            let weekly = Dictionary(grouping: sessionsByRoom[room] ?? []) { district.week(of: $0.start) }
            for week in 0..<weeks {
                var week = district.events(
                    sessions: weekly[week] ?? [], week: week, school: school, group: group, random: &random)
                week.events.sort { $0.event.at < $1.event.at }
                for start in stride(from: 0, to: week.events.count, by: DeviceAPI.maximumBatch) {
                    let batch = Array(week.events[start..<min(week.events.count, start + DeviceAPI.maximumBatch)])
                    let receivedAt = (batch.last?.event.at ?? Date()) + 600
                    let result = try await store.ingest(EventBatch(events: batch), from: device, receivedAt: receivedAt)
                    guard result.rejected.isEmpty else {
                        throw ValidationError("the hub refused a generated event: \(result.rejected[0].reason)")
                    }
                    totals.add(events: result.accepted.count)
                }
                for (session, person, reason) in week.excused {
                    try await store.setExcuse(session: session, person: person, reason: reason)
                }
                totals.add(excused: week.excused.count)
            }
            totals.add(doors: 1)
            let now = ContinuousClock.now
            let due = lastSaid.withLock { last -> Bool in
                guard now - last >= .seconds(5) else { return false }
                last = now
                return true
            }
            if due {
                let rate = Double(totals.events) / max(0.001, LoadBench.seconds(now - ingestStarted))
                say(
                    "\(totals.doors) of \(doors.count) doors sent their term: \(totals.events) events "
                        + "(\(Int(rate)) events/s)")
            }
        }
        let ingestSeconds = LoadBench.seconds(ContinuousClock.now - ingestStarted)
        // The upkeep a term's worth of inserts calls for is done now, not by autovacuum during the first
        // morning's traffic.
        say("vacuuming and analysing the database (\(Self.seconds(since: started)) s)")
        try await store.tidy()
        let stored = try await store.receivedEventCount()
        say(
            "done: \(stored) events (\(Int(Double(stored) / max(ingestSeconds, 0.001))) events/s), "
                + "\(totals.excused) excused absences, in \(Self.seconds(since: started)) s")
        let summary: [String: Any] = [
            "schools": schools, "students": schools * studentsPerSchool, "groups": schools * district.groups,
            "sessions": sessions.values.reduce(0) { $0 + $1.count }, "events": stored, "excused": totals.excused,
            "first_day": district.dayText(0), "last_day": district.dayText(district.days.count - 1),
            "seconds": Self.seconds(since: started),
        ]
        let line = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
        print(String(decoding: line, as: UTF8.self))
    }

    static func entry(_ person: (id: String, name: String, group: String?), role: PersonRole, seed: UInt64)
        -> GalleryDocument.Entry
    {
        // FNV-1a of the id: the same person gets the same template in every run.
        let hash = person.id.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        var random = SeededDraws(seed: seed ^ hash)
        var document = GalleryDocument()
        let encoding = (0..<128).map { _ in Float(random.unit() * 0.4 - 0.2) }
        document.enroll(
            Person(id: person.id, name: person.name, role: role, groups: person.group.map { [$0] } ?? []),
            templates: [GalleryDocument.Template(source: "seed", encoding: encoding)])
        return document.people[0]
    }

    /// Runs `body` for every item, `width` at a time.
    func forEach<Item: Sendable>(
        _ items: [Item], width: Int? = nil, _ body: @escaping @Sendable (Item) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            for _ in 0..<min(width ?? jobs, items.count) {
                let item = items[next]
                next += 1
                group.addTask { try await body(item) }
            }
            while try await group.next() != nil, next < items.count {
                let item = items[next]
                next += 1
                group.addTask { try await body(item) }
            }
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        (LoadBench.seconds(ContinuousClock.now - start) * 10).rounded() / 10
    }
}

/// The made-up district: its names, its term and its people's habits.
struct District: Sendable {
    let schools: Int
    let studentsPerSchool: Int
    let groupSize: Int
    let weeks: Int
    let volunteersPerSchool: Int
    let timezone: TimeZone
    let seed: UInt64
    /// The term's school days (local midnight), Monday to Friday.
    let days: [Date]
    let calendar: Calendar

    init(
        schools: Int, studentsPerSchool: Int, groupSize: Int, weeks: Int, volunteersPerSchool: Int,
        timezone: TimeZone, seed: UInt64, now: Date
    ) {
        self.schools = schools
        self.studentsPerSchool = studentsPerSchool
        self.groupSize = groupSize
        self.weeks = weeks
        self.volunteersPerSchool = volunteersPerSchool
        self.timezone = timezone
        self.seed = seed
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timezone
        self.calendar = calendar
        // This week's Monday, then the `weeks` before it.
        let today = calendar.startOfDay(for: now)
        let weekday = calendar.component(.weekday, from: today)  // 1 is Sunday
        let monday = calendar.date(byAdding: .day, value: -((weekday + 5) % 7), to: today)!
        days = (0..<weeks).flatMap { week in
            (0..<5).map { day in calendar.date(byAdding: .day, value: (week - weeks) * 7 + day, to: monday)! }
        }
    }

    var groups: Int { (studentsPerSchool + groupSize - 1) / groupSize }

    func room(_ school: Int, _ group: Int) -> String { String(format: "s%02d-r%03d", school + 1, group + 1) }
    func groupName(_ school: Int, _ group: Int) -> String { String(format: "s%02d-g%03d", school + 1, group + 1) }
    func door(_ school: Int, _ group: Int) -> String { String(format: "s%02d-door-%03d", school + 1, group + 1) }
    func volunteer(_ school: Int, _ index: Int) -> String { String(format: "s%02d-v%02d", school + 1, index + 1) }
    /// Volunteers help in every fourth room.
    func volunteerRoom(_ index: Int) -> Int { (index * 4) % groups }
    static func token(_ school: Int, _ group: Int, seed: UInt64) -> String {
        "seed-door-\(school + 1)-\(group + 1)-\(seed)-0123456789"
    }

    static let firstNames = [
        "Amara", "Ben", "Chloe", "Dev", "Elif", "Finn", "Grace", "Hamza", "Isla", "Jack", "Kofi", "Lena", "Maya",
        "Noah", "Olivia", "Priya", "Quinn", "Ravi", "Sofia", "Tom", "Uma", "Victor", "Willow", "Yusuf", "Zara",
    ]
    static let lastNames = [
        "Adams", "Begum", "Clarke", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Iqbal", "Jones", "Khan",
        "Lewis", "Murphy", "Novak", "Okafor", "Patel", "Rossi", "Smith", "Taylor", "Walsh", "Wilson", "Zhang",
    ]

    func student(_ school: Int, _ index: Int) -> (id: String, name: String, group: String?) {
        let id = String(format: "s%02d-p%05d", school + 1, index + 1)
        return (id, name(school * 100_000 + index), groupName(school, index / groupSize))
    }

    /// A made-up name for the `index`th person of the district.
    func name(_ index: Int) -> String {
        let code = index &* 104_729 &+ Int(seed % 7919)
        return "\(Self.firstNames[code % Self.firstNames.count]) \(Self.lastNames[(code / 31) % Self.lastNames.count])"
    }

    func students(_ school: Int, group: Int) -> [String] {
        (group * groupSize..<min(studentsPerSchool, (group + 1) * groupSize)).map { student(school, $0).id }
    }

    func dayText(_ index: Int) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: days[index])
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }

    /// The school's timetable as a school exports it: a morning and an afternoon register for every group.
    func timetable(_ school: Int) -> String {
        var lines = ["class,group,room,weekday,first,last,start,end"]
        for group in 0..<groups {
            for weekday in ["Mon", "Tue", "Wed", "Thu", "Fri"] {
                for (name, start, end) in [("Register AM", "08:40", "09:25"), ("Register PM", "13:10", "13:55")] {
                    lines.append(
                        "\(name),\(groupName(school, group)),\(room(school, group)),\(weekday),"
                            + "\(dayText(0)),\(dayText(days.count - 1)),\(start),\(end)")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The term's week (0-based) a moment falls in.
    func week(of date: Date) -> Int {
        let first = days[0]
        return max(0, min(weeks - 1, Int(date.timeIntervalSince(first) / (7 * 86_400))))
    }

    struct Week {
        var events: [DeviceEvent] = []
        var excused: [(session: String, person: String, reason: String)] = []
    }

    /// One door's week: its sessions' arrivals and absences, and its volunteers' visits.
    func events(sessions: [Session], week: Int, school: Int, group: Int, random: inout SeededDraws) -> Week {
        var result = Week()
        let source = "signage:\(door(school, group))"
        func event(_ kind: AttendanceEvent, method: String) -> DeviceEvent {
            DeviceEvent(
                id: random.uuid(), event: kind, method: method, source: source,
                confidence: method == "face" ? 0.9 : nil)
        }
        for session in sessions {
            let morning = calendar.component(.hour, from: session.start) < 12
            for person in session.roster {
                let roll = random.unit()
                if roll < 0.04 {
                    // Absent: the office excuses about half of them.
                    if random.unit() < 0.5 {
                        result.excused.append(
                            (session.id, person, ["illness", "medical appointment", "family"][random.below(3)]))
                    }
                    continue
                }
                var offset: Double  // seconds after the start
                if roll < 0.08 {
                    offset = 360 + random.unit() * 1_500  // late: 6 to 31 minutes
                } else if morning {
                    offset = min(290, max(-1_750, random.normal() * 240 - 360))  // around 6 minutes early
                } else {
                    offset = min(290, max(-1_750, random.normal() * 120 - 180))
                }
                offset = offset.rounded()
                result.events.append(
                    event(
                        .checkin(
                            session: session.id, person: person, at: session.start + offset, status: .present,
                            minutesLate: 0), method: "face"))
            }
        }
        // Volunteers of this door's room: two visits a week, from mid-morning, one to three hours.
        for index in 0..<volunteersPerSchool where volunteerRoom(index) == group {
            let person = volunteer(school, index)
            let first = random.below(5)
            for day in [first, (first + 2 + random.below(2)) % 5] {
                let midnight = days[week * 5 + day]
                let entry = midnight + 9 * 3600 + Double(random.below(3600))
                let exit = entry + 3600 + Double(random.below(7200))
                result.events.append(event(.entry(person: person, at: entry, unclosedEntryAt: nil), method: "qr"))
                result.events.append(
                    event(.exit(person: person, at: exit, entryAt: entry), method: "qr"))
            }
        }
        return result
    }
}

/// What the seed has sent so far, from several doors at once.
final class SeedTotals: Sendable {
    private let counts = Mutex((events: 0, excused: 0, doors: 0))
    func add(events: Int = 0, excused: Int = 0, doors: Int = 0) {
        counts.withLock {
            $0.events += events
            $0.excused += excused
            $0.doors += doors
        }
    }
    var events: Int { counts.withLock { $0.events } }
    var excused: Int { counts.withLock { $0.excused } }
    var doors: Int { counts.withLock { $0.doors } }
}

/// Draws that depend only on the seed: SHA-256 (swift-crypto) of the seed and a counter, four numbers a
/// hash, so the same --seed makes the same district on every machine.
struct SeededDraws: RandomNumberGenerator {
    private let seed: UInt64
    private var counter: UInt64 = 0
    private var pending: [UInt64] = []

    init(seed: UInt64) { self.seed = seed }

    mutating func next() -> UInt64 {
        if pending.isEmpty {
            let digest = SHA256.hash(
                data: [seed, counter].flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } })
            counter += 1
            pending = stride(from: 0, to: 32, by: 8).map { start in
                digest.prefix(start + 8).suffix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            }
        }
        return pending.removeLast()
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double.random(in: 0..<1, using: &self) }
    mutating func below(_ bound: Int) -> Int { Int.random(in: 0..<bound, using: &self) }
    /// Standard normal (Box-Muller).
    mutating func normal() -> Double {
        let u = max(unit(), 1e-12)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * unit())
    }
    /// A version-4 UUID, lowercase.
    mutating func uuid() -> String {
        var bytes = (0..<2).flatMap { _ in withUnsafeBytes(of: next()) { Array($0) } }
        bytes[6] = (bytes[6] & 0x0f) | 0x40
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        ).uuidString.lowercased()
    }
}
