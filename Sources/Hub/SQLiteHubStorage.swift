public import Attendance
public import Badges
import Crypto
public import Foundation
import GRDB
public import Recognition
import Sealing
public import SyncProtocol

/// The hub's storage in one SQLite file (WAL, synchronous=FULL), through GRDB.
public final class SQLiteHubStorage: HubStorage {
    let pool: DatabasePool
    /// The bounds on an event's time (IngestRules).
    public let ingestLimits: IngestRules.Limits
    /// Seals the people's records (names, templates) at rest.
    let sealer: PersonSealer

    /// Opens or creates the store at `path`. The people's records are sealed with `sealer`; without one,
    /// with the key `PersonSealer.load` finds (`<path>.key`, made on first use).
    public init(path: String, ingestLimits: IngestRules.Limits = .standard, sealer given: PersonSealer? = nil)
        throws(HubError)
    {
        self.ingestLimits = ingestLimits
        let sealer: PersonSealer
        if let given {
            sealer = given
        } else {
            sealer = try PersonSealer.load(file: nil, database: path, environment: [:])
        }
        self.sealer = sealer
        do {
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // What is deleted (an erased template, say) is overwritten in the file, not only unlinked.
                try db.execute(sql: "PRAGMA secure_delete = ON")
            }
            // Another process may be writing (a second hub, `rollcall-hub token add` while the hub
            // serves): wait for it rather than fail with "database is locked".
            configuration.busyMode = .timeout(10)
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
            // Records written before sealing existed are sealed now; one that does not open stops here.
            try pool.write { db in
                for row in try Row.fetchAll(db, sql: "SELECT id, entry FROM person") {
                    let stored: Data = row["entry"]
                    let plain = try sealer.open(stored)
                    if !DataSealer.isSealed(stored) {
                        try db.execute(
                            sql: "UPDATE person SET entry = ? WHERE id = ?",
                            arguments: [try sealer.seal(plain), row["id"]])
                    }
                }
                try Self.recordConsentOnRecord(db, sealer: sealer)
            }
        } catch let error as HubError {
            throw HubError(.storage, "cannot open the hub's database \(path): \(error.message)")
        } catch {
            throw HubError(.storage, "cannot open the hub's database \(path): \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 rooms, devices, gallery, sessions, events, records, visits") { db in
            try db.create(table: "room") { table in
                table.primaryKey("id", .text)
                table.column("timezone", .text).notNull()
            }
            try db.create(table: "device") { table in
                table.primaryKey("id", .text)
                table.column("room", .text).notNull().references("room")
                table.column("tokenHash", .text).notNull().unique()
            }
            try db.create(table: "meta") { table in
                table.primaryKey("key", .text)
                table.column("value", .integer).notNull()
            }
            try db.create(table: "person") { table in
                table.primaryKey("id", .text)
                table.column("entry", .blob).notNull()
                table.column("version", .integer).notNull()
            }
            try db.create(table: "personTombstone") { table in
                table.primaryKey("id", .text)
                table.column("version", .integer).notNull()
            }
            try db.create(table: "session") { table in
                table.primaryKey("id", .text)
                table.column("room", .text).notNull().references("room")
                table.column("groupName", .text).notNull()
                table.column("start", .integer).notNull()
                table.column("end", .integer).notNull()
                table.column("roster", .blob).notNull()
            }
            try db.create(table: "receivedEvent") { table in
                table.primaryKey("id", .text)
                table.column("device", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("person", .text).notNull()
                table.column("session", .text)
                table.column("at", .integer).notNull()
                table.column("receivedAt", .integer).notNull()
                table.column("body", .blob).notNull()
            }
            try db.create(table: "checkinRecord") { table in
                table.column("session", .text).notNull()
                table.column("person", .text).notNull()
                table.column("status", .text).notNull()
                table.column("checkinTime", .integer).notNull()
                table.column("minutesLate", .integer)
                table.column("method", .text).notNull()
                table.column("source", .text).notNull()
                table.column("confidence", .double)
                table.column("eventID", .text).notNull()
                table.primaryKey(["session", "person"])
            }
            try db.create(table: "badgeKey") { table in
                table.primaryKey("kid", .text)
                table.column("publicKey", .text).notNull()
            }
            try db.create(table: "revokedBadge") { table in
                table.primaryKey("id", .text)
            }
            try db.create(table: "visit") { table in
                table.autoIncrementedPrimaryKey("rowid")
                table.column("person", .text).notNull()
                table.column("room", .text).notNull()
                table.column("loginTime", .integer).notNull()
                table.column("logoutTime", .integer)
                table.uniqueKey(["person", "loginTime"])
            }
        }
        migrator.registerMigration("v2 room policy") { db in
            // The room's attendance policy (JSON, the sessions file's `policy`); null: the defaults.
            try db.alter(table: "room") { table in table.add(column: "policy", .blob) }
        }
        migrator.registerMigration("v3 staff and public tokens, excuses, mentor flags") { db in
            try db.create(table: "accessToken") { table in
                table.primaryKey("tokenHash", .text)
                table.column("scope", .text).notNull()
                table.column("label", .text).notNull()
            }
            try db.create(table: "excuse") { table in
                table.column("session", .text).notNull().references("session")
                table.column("person", .text).notNull()
                table.column("reason", .text).notNull()
                table.primaryKey(["session", "person"])
            }
            try db.create(table: "flag") { table in
                table.column("session", .text).notNull().references("session")
                table.column("person", .text).notNull()
                table.column("flag", .text).notNull()
                table.column("note", .text)
                table.primaryKey(["session", "person", "flag"])
            }
        }
        migrator.registerMigration("v4 deployment secret for pseudonyms") { db in
            try db.create(table: "deploymentSecret") { table in
                table.primaryKey("name", .text)
                table.column("value", .blob).notNull()
            }
            // The key of the public API's pseudonyms: random, made once per deployment, never served.
            let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            try db.execute(sql: "INSERT INTO deploymentSecret (name, value) VALUES ('pseudonym', ?)", arguments: [key])
        }
        migrator.registerMigration("v5 class names") { db in
            // The class a session is of ("Maths"), from the timetable; null for sessions made otherwise.
            try db.alter(table: "session") { table in table.add(column: "className", .text) }
        }
        migrator.registerMigration("v6 event ids per device") { db in
            // An event id is the device's own (a UUIDv7 it made): unique per device, not across devices,
            // so that a device that learns another's id cannot send it first and have the real one
            // answered "duplicate".
            try db.create(table: "receivedEventByDevice") { table in
                table.column("id", .text).notNull()
                table.column("device", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("person", .text).notNull()
                table.column("session", .text)
                table.column("at", .integer).notNull()
                table.column("receivedAt", .integer).notNull()
                table.column("body", .blob).notNull()
                table.primaryKey(["device", "id"])
            }
            try db.execute(
                sql:
                    "INSERT INTO receivedEventByDevice SELECT id, device, kind, person, session, at, receivedAt, body FROM receivedEvent"
            )
            try db.drop(table: "receivedEvent")
            try db.rename(table: "receivedEventByDevice", to: "receivedEvent")
        }
        migrator.registerMigration("v7 room access") { db in
            // The volunteers and staff a room lets in: the hub refuses entries and exits of anyone else.
            try db.create(table: "roomAccess") { table in
                table.column("room", .text).notNull().references("room", onDelete: .cascade)
                table.column("person", .text).notNull()
                table.primaryKey(["room", "person"])
            }
        }
        migrator.registerMigration("v8 web accounts, sessions, sign-in failures, teachers, audit trail") { db in
            try db.create(table: "account") { table in
                table.primaryKey("username", .text)
                table.column("role", .text).notNull()
                table.column("name", .text).notNull()
                table.column("person", .text)
                table.column("cohorts", .blob).notNull()
                table.column("passwordHash", .text).notNull()
                table.column("disabled", .boolean).notNull().defaults(to: false)
            }
            try db.create(table: "webSession") { table in
                table.primaryKey("digest", .text)
                table.column("username", .text).notNull().references("account", onDelete: .cascade).indexed()
                table.column("csrf", .text).notNull()
                table.column("createdAt", .integer).notNull()
                table.column("expiresAt", .integer).notNull()
            }
            try db.create(table: "signinFailure") { table in
                table.column("key", .text).notNull().indexed()
                table.column("at", .integer).notNull()
            }
            try db.create(table: "sessionTeacher") { table in
                table.column("session", .text).notNull()
                table.column("username", .text).notNull().indexed()
                table.primaryKey(["session", "username"])
            }
            try db.create(table: "audit") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("at", .integer).notNull().indexed()
                table.column("actor", .text).notNull()
                table.column("action", .text).notNull()
                table.column("subject", .text).notNull()
                table.column("detail", .text).notNull()
                table.column("address", .text).notNull()
            }
            // Append-only: a line once written is never changed (retention deletes whole old lines).
            try db.execute(
                sql: """
                    CREATE TRIGGER auditAppendOnly BEFORE UPDATE ON audit
                    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END
                    """)
        }
        migrator.registerMigration("v9 manual records, door heartbeats") { db in
            // A staff member's mark: who set it and why; and when the hub stored each record.
            try db.alter(table: "checkinRecord") { table in
                table.add(column: "setBy", .text)
                table.add(column: "reason", .text)
                table.add(column: "storedAt", .integer)
            }
            try db.create(table: "deviceStatus") { table in
                table.primaryKey("device", .text)
                table.column("lastContact", .integer).notNull()
                table.column("version", .text).notNull()
                table.column("queued", .integer).notNull()
                table.column("camera", .text).notNull()
                table.column("address", .text).notNull()
            }
        }
        migrator.registerMigration("v10 consent") { db in
            // The current consent state and template count beside the sealed record, so that the gallery
            // is chosen without opening every record; the history of decisions is kept apart, append-only.
            try db.alter(table: "person") { table in
                table.add(column: "consent", .text)
                table.add(column: "templateCount", .integer)
            }
            try db.create(table: "consentEvent") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("person", .text).notNull().indexed()
                table.column("state", .text).notNull()
                table.column("givenBy", .text).notNull()
                table.column("at", .integer).notNull()
                table.column("evidence", .text).notNull()
                table.column("recordedBy", .text).notNull()
            }
            try db.execute(
                sql: """
                    CREATE TRIGGER consentAppendOnly BEFORE UPDATE ON consentEvent
                    BEGIN SELECT RAISE(ABORT, 'the consent history is append-only'); END
                    """)
        }
        migrator.registerMigration("v11 guardian contacts, notification outbox") { db in
            try db.create(table: "guardianContact") { table in
                table.primaryKey("person", .text)
                table.column("payload", .blob).notNull()
            }
            try db.create(table: "notification") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("key", .text).notNull().unique()
                table.column("kind", .text).notNull()
                table.column("channel", .text).notNull()
                table.column("person", .text).notNull().indexed()
                table.column("session", .text).notNull()
                // Recipient, subject and body, sealed like the people's records.
                table.column("payload", .blob).notNull()
                table.column("createdAt", .integer).notNull()
                table.column("attempts", .integer).notNull().defaults(to: 0)
                table.column("nextAttemptAt", .integer).notNull()
                table.column("claimedUntil", .integer).notNull().defaults(to: 0)
                table.column("sentAt", .integer)
                table.column("failed", .integer).notNull().defaults(to: 0)
                table.column("lastError", .text)
            }
        }
        migrator.registerMigration("v12 staff email addresses") { db in
            try db.alter(table: "account") { table in table.add(column: "email", .text) }
        }
        migrator.registerMigration("v13 door alerts") { db in
            // Faces the doors refused as presentation attacks: one row per (door, id), no image, no encoding.
            try db.create(table: "doorAlert") { table in
                table.column("device", .text).notNull()
                table.column("id", .text).notNull()
                table.column("room", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("at", .integer).notNull().indexed()
                table.column("reason", .text).notNull()
                table.column("claimedPerson", .text)
                table.column("scores", .text).notNull()
                table.column("receivedAt", .integer).notNull().indexed()
                table.primaryKey(["device", "id"])
            }
        }
        return migrator
    }

    /// Records from before consent was kept (`templateCount` not yet set): their templates are counted, and
    /// a person who already has templates is recorded as consented by the migration, with evidence saying
    /// so, for the school to confirm (the people page lists them).
    static func recordConsentOnRecord(_ db: Database, sealer: PersonSealer) throws {
        for row in try Row.fetchAll(db, sql: "SELECT id, entry FROM person WHERE templateCount IS NULL") {
            let id: String = row["id"]
            let count = try sealer.entry(row["entry"]).templates.count
            try db.execute(sql: "UPDATE person SET templateCount = ? WHERE id = ?", arguments: [count, id])
            guard count > 0 else { continue }
            try db.execute(sql: "UPDATE person SET consent = 'granted' WHERE id = ?", arguments: [id])
            let record = ConsentRecord.fromBeforeConsent(id, at: Date())
            try insertConsent(db, record)
        }
    }

    static func insertConsent(_ db: Database, _ record: ConsentRecord) throws {
        try db.execute(
            sql: """
                INSERT INTO consentEvent (person, state, givenBy, at, evidence, recordedBy) VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                record.person, record.state.rawValue, record.givenBy.rawValue, ms(record.at), record.evidence,
                record.recordedBy,
            ])
    }

    // MARK: Administration

    public func addRoom(_ room: String, timezone: String, policy: AttendancePolicy?) async throws(HubError) {
        let encoded = try policy.map { policy throws(HubError) in
            do { return try JSONEncoder().encode(policy) } catch {
                throw HubError(.badRequest, "cannot keep the policy: \(error)")
            }
        }
        try await write { db in
            try db.execute(
                sql: "INSERT INTO room (id, timezone, policy) VALUES (?, ?, ?)",
                arguments: [room, timezone, encoded])
            try Self.bump("schedule", db)
        }
    }

    public func setRoomAccess(room: String, people: [String]) async throws(HubError) {
        try await write { db in
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM room WHERE id = ?", arguments: [room]) != nil else {
                throw HubError(.notFound, "no room \(room)")
            }
            for person in Set(people) {
                guard
                    let entry = try Data.fetchOne(db, sql: "SELECT entry FROM person WHERE id = ?", arguments: [person])
                else { throw HubError(.notFound, "no person \(person.prefix(80))") }
                let role = try self.sealer.person(entry).role
                guard role != .student else {
                    throw HubError(
                        .badRequest,
                        "\(person) is a student: a room's access list holds volunteers and staff; students come with their sessions' rosters"
                    )
                }
            }
            try Self.bump("schedule", db)
            try db.execute(sql: "DELETE FROM roomAccess WHERE room = ?", arguments: [room])
            for person in Set(people).sorted() {
                try db.execute(sql: "INSERT INTO roomAccess (room, person) VALUES (?, ?)", arguments: [room, person])
            }
        }
    }

    public func roomAccess(room: String) async throws(HubError) -> [String]? {
        try await read { db in
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM room WHERE id = ?", arguments: [room]) != nil else {
                return nil
            }
            return try String.fetchAll(
                db, sql: "SELECT person FROM roomAccess WHERE room = ? ORDER BY person", arguments: [room])
        }
    }

    public func addDevice(_ device: DeviceRecord, token: String) async throws(HubError) {
        let hash = Self.hash(token)
        try await write { db in
            try db.execute(
                sql: "INSERT INTO device (id, room, tokenHash) VALUES (?, ?, ?)",
                arguments: [device.id, device.room, hash])
        }
    }

    public func device(forToken token: String) async throws(HubError) -> DeviceRecord? {
        let hash = Self.hash(token)
        return try await read { db in
            try Row.fetchOne(db, sql: "SELECT id, room FROM device WHERE tokenHash = ?", arguments: [hash]).map {
                DeviceRecord(id: $0["id"], room: $0["room"])
            }
        }
    }

    public func removeDevice(_ id: String) async throws(HubError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM device WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func replaceDeviceToken(_ id: String, token: String) async throws(HubError) -> Bool {
        let hash = Self.hash(token)
        return try await write { db in
            try db.execute(sql: "UPDATE device SET tokenHash = ? WHERE id = ?", arguments: [hash, id])
            return db.changesCount > 0
        }
    }

    /// The digest that names a door's scope: the sorted ids of the people in it.
    /// The people a gallery may hold: consent granted, and templates to match.
    static let inGallery = "WHERE consent = 'granted' AND templateCount > 0"

    static func scopeDigest(_ members: [String]) -> String {
        SHA256.hash(data: Data(members.joined(separator: "\n").utf8)).prefix(16)
            .map { String(format: "%02x", $0) }.joined()
    }

    /// Tokens are kept as their SHA-256: a stolen database gives no usable token.
    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    @discardableResult
    public func upsertPerson(_ person: GalleryDocument.Entry, consent: ConsentRecord?) async throws(HubError)
        -> Int64
    {
        try Self.check(person)
        let consent = try consent.map { record throws(HubError) in try record.validated(for: person.id) }
        let entry: Data
        do {
            entry = try sealer.seal(try encode(person))
        } catch {
            throw HubError(.storage, "cannot seal the record of \(person.id): \(error)")
        }
        return try await write { db in
            let state =
                try consent?.state
                ?? String.fetchOne(db, sql: "SELECT consent FROM person WHERE id = ?", arguments: [person.id])
                .flatMap(ConsentState.init(rawValue:))
            if !person.templates.isEmpty && state != .granted { throw HubError.noConsent(person.id, state) }
            let version = try Self.nextGalleryVersion(db)
            try db.execute(
                sql: "INSERT INTO person (id, entry, version, templateCount, consent) VALUES (?, ?, ?, ?, ?) "
                    + "ON CONFLICT(id) DO UPDATE SET entry = excluded.entry, version = excluded.version, "
                    + "templateCount = excluded.templateCount, consent = excluded.consent",
                arguments: [person.id, entry, version, person.templates.count, state?.rawValue])
            if let consent { try Self.insertConsent(db, consent) }
            if person.templates.isEmpty {
                // Not in any gallery now: doors that held the person remove them with their next delta.
                try db.execute(
                    sql: "INSERT INTO personTombstone (id, version) VALUES (?, ?) "
                        + "ON CONFLICT(id) DO UPDATE SET version = excluded.version",
                    arguments: [person.id, version])
            } else {
                try db.execute(sql: "DELETE FROM personTombstone WHERE id = ?", arguments: [person.id])
            }
            return version
        }
    }

    /// A person the gallery can take: an id, and templates of 128 finite values from the doors' model.
    static func check(_ person: GalleryDocument.Entry) throws(HubError) {
        guard !person.id.isEmpty else { throw HubError(.badRequest, "a person needs an id") }
        guard
            person.templates.allSatisfy({
                $0.encoding.count == Gallery.dimensions && $0.encoding.allSatisfy(\.isFinite)
            })
        else {
            throw HubError(.badRequest, "person \(person.id): every template has 128 finite values")
        }
        if let other = person.templates.compactMap(\.model).first(where: { $0 != GalleryDocument.modelID }) {
            throw HubError(
                .badRequest,
                "person \(person.id): a template was computed by \(other); the devices match \(GalleryDocument.modelID) encodings"
            )
        }
    }

    @discardableResult
    public func removePerson(_ id: String) async throws(HubError) -> Int64 {
        let version = try await write { db in
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM person WHERE id = ?", arguments: [id]) != nil else {
                throw HubError(.notFound, "no person \(id)")
            }
            let version = try Self.nextGalleryVersion(db)
            try db.execute(sql: "DELETE FROM person WHERE id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM roomAccess WHERE person = ?", arguments: [id])
            // Door alerts stay (a door was attacked), but no longer name whom the picture showed.
            try db.execute(sql: "UPDATE doorAlert SET claimedPerson = NULL WHERE claimedPerson = ?", arguments: [id])
            try db.execute(
                sql: "INSERT INTO personTombstone (id, version) VALUES (?, ?) "
                    + "ON CONFLICT(id) DO UPDATE SET version = excluded.version",
                arguments: [id, version])
            return version
        }
        await truncateLog()
        return version
    }

    static func nextGalleryVersion(_ db: Database) throws -> Int64 {
        let next = (try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'gallery'") ?? 0) + 1
        try db.execute(
            sql: "INSERT INTO meta (key, value) VALUES ('gallery', ?) ON CONFLICT(key) DO UPDATE SET value = ?",
            arguments: [next, next])
        return next
    }

    public func putSession(_ session: Session) async throws(HubError) {
        guard session.end >= session.start else {
            throw HubError(.badRequest, "session \(session.id) ends before it starts")
        }
        let roster = try encode(session.roster)
        try await write { db in
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM room WHERE id = ?", arguments: [session.room]) != nil else {
                throw HubError(.notFound, "no room \(session.room): add it first")
            }
            try db.execute(
                sql: "INSERT INTO session (id, room, groupName, start, \"end\", roster) VALUES (?, ?, ?, ?, ?, ?) "
                    + "ON CONFLICT(id) DO UPDATE SET room = excluded.room, groupName = excluded.groupName, "
                    + "start = excluded.start, \"end\" = excluded.\"end\", roster = excluded.roster",
                arguments: [
                    session.id, session.room, session.group, Self.ms(session.start), Self.ms(session.end), roster,
                ])
            try Self.bump("schedule", db)
        }
    }

    // MARK: Device API

    public func manifest(room: String, now: Date) async throws(HubError) -> DeviceManifest {
        let from = Self.ms(now - 86_400)
        let until = Self.ms(now + 2 * 86_400)
        return try await read { db in
            guard let roomRow = try Row.fetchOne(db, sql: "SELECT * FROM room WHERE id = ?", arguments: [room]) else {
                throw HubError(.notFound, "no room \(room)")
            }
            let timezone: String = roomRow["timezone"]
            let policy = try (roomRow["policy"] as Data?).map {
                try JSONDecoder().decode(AttendancePolicy.self, from: $0)
            }
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM session WHERE room = ? AND \"end\" >= ? AND start <= ? ORDER BY start, id",
                arguments: [room, from, until])
            let sessions = try rows.map(Self.session)
            let version = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'gallery'") ?? 0
            let keys = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'badgeKeys'") ?? 0
            var named = Set(sessions.flatMap(\.roster))
            named.formUnion(
                try String.fetchAll(db, sql: "SELECT person FROM roomAccess WHERE room = ?", arguments: [room]))
            var names: [String: String] = [:]
            for id in named.sorted() {
                guard let entry = try Data.fetchOne(db, sql: "SELECT entry FROM person WHERE id = ?", arguments: [id])
                else { continue }
                names[id] = try self.sealer.person(entry).name
            }
            return DeviceManifest(
                schedule: SessionSchedule(
                    room: room, timezone: timezone, policy: policy ?? AttendancePolicy(), sessions: sessions),
                galleryVersion: version,
                badgeKeysVersion: keys, names: names)
        }
    }

    public func galleryDelta(since: Int64) async throws(HubError) -> GalleryDelta {
        try await read { db in
            let version = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'gallery'") ?? 0
            let upserts = try Data.fetchAll(
                db, sql: "SELECT entry FROM person \(Self.inGallery) AND version > ? ORDER BY version",
                arguments: [since]
            ).map { try self.sealer.entry($0) }
            let deletes = try String.fetchAll(
                db, sql: "SELECT id FROM personTombstone WHERE version > ? ORDER BY version", arguments: [since])
            return GalleryDelta(since: since, version: version, upserts: upserts, deletes: deletes)
        }
    }

    public func galleryPage(room: String, since: Int64, scope requested: String?, after: String?, now: Date)
        async throws(HubError) -> GalleryDelta
    {
        let from = Self.ms(now - 86_400)
        let until = Self.ms(now + 2 * 86_400)
        let page = DeviceAPI.galleryPage
        return try await read { db in
            let version = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'gallery'") ?? 0
            // Who this door may recognise: its room's rosters in the manifest's window, and whom the room lets in.
            var wanted = Set(
                try String.fetchAll(db, sql: "SELECT person FROM roomAccess WHERE room = ?", arguments: [room]))
            for roster in try Data.fetchAll(
                db, sql: "SELECT roster FROM session WHERE room = ? AND \"end\" >= ? AND start <= ?",
                arguments: [room, from, until])
            {
                wanted.formUnion(try JSONDecoder().decode([String].self, from: roster))
            }
            // Only those whose face the school may use, and who have templates: no one else reaches a door.
            let members = try String.fetchAll(db, sql: "SELECT id FROM person \(Self.inGallery) ORDER BY id")
                .filter(wanted.contains)
            let scope = Self.scopeDigest(members)
            let reset = requested != scope || since <= 0 || since > version
            var upserts: [GalleryDocument.Entry] = []
            var next: String?
            let inScope = Set(members)
            // Read in id order and stop once the page is full: a page costs its own rows, not the school's.
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT id, entry FROM person WHERE id > ? AND (? OR version > ?) ORDER BY id",
                arguments: [after ?? "", reset, since])
            while let row = try rows.next() {
                guard inScope.contains(row["id"]) else { continue }
                if upserts.count == page {
                    next = upserts.last?.id
                    break
                }
                upserts.append(try self.sealer.entry(row["entry"] as Data))
            }
            // Removals since the device's version, once (on the first page); a reset removes by omission.
            let deletes =
                reset || after != nil
                ? []
                : try String.fetchAll(
                    db, sql: "SELECT id FROM personTombstone WHERE version > ? ORDER BY id", arguments: [since])
            return GalleryDelta(
                since: since, version: version, upserts: upserts, deletes: deletes, scope: scope, reset: reset,
                next: next)
        }
    }

    public func ingest(_ batch: EventBatch, from device: DeviceRecord, receivedAt: Date) async throws(HubError)
        -> EventBatchResult
    {
        try IngestRules.checkSize(batch)
        var encoded: [Data] = []
        for event in batch.events { encoded.append(try encode(event)) }
        let bodies = encoded
        let limits = ingestLimits
        return try await write { db in
            var result = EventBatchResult()
            var lookup = try IngestLookup(room: device.room, sealer: self.sealer, db)
            for (event, body) in zip(batch.events, bodies) {
                let seen = try Int.fetchOne(
                    db, sql: "SELECT 1 FROM receivedEvent WHERE device = ? AND id = ?",
                    arguments: [device.id, event.id])
                if seen != nil {
                    result.duplicate.append(event.id)
                    continue
                }
                let verdict: IngestRules.Verdict
                if let reason = IngestRules.precheck(event, device: device, receivedAt: receivedAt, limits: limits) {
                    verdict = .refuse(reason)
                } else {
                    let facts = try lookup.facts(for: event.event, db)
                    verdict = IngestRules.judge(
                        event, device: device, receivedAt: receivedAt, facts: facts, limits: limits)
                }
                switch verdict {
                case .refuse(let reason):
                    result.rejected.append(EventBatchResult.Rejection(id: event.id, reason: reason))
                case .accept(let checkin):
                    try Self.store(event, checkin: checkin, body: body, from: device, receivedAt: receivedAt, db)
                    result.accepted.append(event.id)
                case .keep:
                    try Self.keep(event, body: body, from: device, receivedAt: receivedAt, db)
                    result.accepted.append(event.id)
                }
            }
            return result
        }
    }

    /// What the ingest rules need, looked up once per batch and person.
    private struct IngestLookup {
        let policy: AttendancePolicy
        let allowed: Set<String>
        let sealer: PersonSealer
        var roles: [String: PersonRole?] = [:]
        var sessions: [String: Session?] = [:]

        init(room: String, sealer: PersonSealer, _ db: Database) throws {
            self.sealer = sealer
            policy =
                try (Data.fetchOne(db, sql: "SELECT policy FROM room WHERE id = ?", arguments: [room])).map {
                    try JSONDecoder().decode(AttendancePolicy.self, from: $0)
                } ?? AttendancePolicy()
            allowed = Set(
                try String.fetchAll(db, sql: "SELECT person FROM roomAccess WHERE room = ?", arguments: [room]))
        }

        mutating func facts(for event: AttendanceEvent, _ db: Database) throws -> IngestRules.Facts {
            if roles[event.person] == nil {
                roles[event.person] = try Data.fetchOne(
                    db, sql: "SELECT entry FROM person WHERE id = ?", arguments: [event.person]
                ).map { try sealer.person($0).role }
            }
            var session: Session?
            var checkedInAt: Date?
            if let id = event.session {
                checkedInAt = try Int64.fetchOne(
                    db, sql: "SELECT checkinTime FROM checkinRecord WHERE session = ? AND person = ?",
                    arguments: [id, event.person]
                ).map(SQLiteHubStorage.date)
                if sessions[id] == nil {
                    sessions[id] = try Row.fetchOne(db, sql: "SELECT * FROM session WHERE id = ?", arguments: [id])
                        .map(SQLiteHubStorage.session)
                }
                session = sessions[id] ?? nil
            }
            return IngestRules.Facts(
                role: roles[event.person] ?? nil, session: session, policy: policy,
                allowedInRoom: allowed.contains(event.person), checkedInAt: checkedInAt)
        }
    }

    /// The event as received, and nothing else.
    private static func keep(
        _ item: DeviceEvent, body: Data, from device: DeviceRecord, receivedAt: Date, _ db: Database
    ) throws {
        let event = item.event
        try db.execute(
            sql: "INSERT INTO receivedEvent (id, device, kind, person, session, at, receivedAt, body) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                item.id, device.id, event.kind.rawValue, event.person, event.session, ms(event.at), ms(receivedAt),
                body,
            ])
    }

    private static func store(
        _ item: DeviceEvent, checkin: IngestRules.Checkin?, body: Data, from device: DeviceRecord, receivedAt: Date,
        _ db: Database
    ) throws {
        let event = item.event
        try keep(item, body: body, from: device, receivedAt: receivedAt, db)
        switch event.kind {
        case .checkin:
            // One record per (session, person): the first to arrive (IngestRules keeps the others as received,
            // changing nothing). The status and the minutes late are the hub's (IngestRules), not the device's.
            try db.execute(
                sql: """
                    INSERT INTO checkinRecord
                        (session, person, status, checkinTime, minutesLate, method, source, confidence, eventID,
                         storedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    event.session, event.person, checkin?.status.rawValue, ms(event.at), checkin?.minutesLate,
                    item.method,
                    item.source, item.confidence, item.id, ms(receivedAt),
                ])
        case .entry:
            try db.execute(
                sql: "INSERT OR IGNORE INTO visit (person, room, loginTime) VALUES (?, ?, ?)",
                arguments: [event.person, device.room, ms(event.at)])
        case .exit:
            let entry = ms(event.entryAt ?? event.at)
            // The exit may arrive before its entry (another batch, a lost answer): the visit is made
            // from the exit, and the entry, when it comes, finds it there.
            try db.execute(
                sql: "INSERT INTO visit (person, room, loginTime, logoutTime) VALUES (?, ?, ?, ?) "
                    + "ON CONFLICT(person, loginTime) DO UPDATE SET logoutTime = excluded.logoutTime",
                arguments: [event.person, device.room, entry, ms(event.at)])
        }
    }

    // MARK: Reports

    public func checkinRecords(session: String) async throws(HubError) -> [CheckinRecord] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM checkinRecord WHERE session = ? ORDER BY checkinTime", arguments: [session]
            )
            .map(Self.checkinRecord)
        }
    }

    static func checkinRecord(_ row: Row) -> CheckinRecord {
        CheckinRecord(
            session: row["session"], person: row["person"], status: row["status"],
            checkinTime: date(row["checkinTime"]), minutesLate: row["minutesLate"], method: row["method"],
            source: row["source"], confidence: row["confidence"], eventID: row["eventID"], setBy: row["setBy"],
            reason: row["reason"], storedAt: (row["storedAt"] as Int64?).map(date))
    }

    public func visits(person: String) async throws(HubError) -> [Visit] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM visit WHERE person = ? ORDER BY loginTime", arguments: [person])
                .map(Self.visit)
        }
    }

    static func visit(_ row: Row) -> Visit {
        Visit(
            person: row["person"], room: row["room"], loginTime: date(row["loginTime"]),
            logoutTime: (row["logoutTime"] as Int64?).map(date))
    }

    public func receivedEventCount() async throws(HubError) -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM receivedEvent") ?? 0 }
    }

    public func receivedEvents(device: String, after: String?, limit: Int) async throws(HubError)
        -> [ReceivedEvent]
    {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, device, kind, person, session, at, receivedAt FROM receivedEvent
                    WHERE device = ? AND id > ? ORDER BY id LIMIT ?
                    """,
                arguments: [device, after ?? "", max(0, limit)]
            ).map {
                ReceivedEvent(
                    id: $0["id"], device: $0["device"], kind: $0["kind"], person: $0["person"],
                    session: $0["session"], at: Self.date($0["at"]), receivedAt: Self.date($0["receivedAt"]))
            }
        }
    }

    public func tidy() async throws(HubError) {
        try await write { db in try db.execute(sql: "ANALYZE") }
    }

    // MARK: Operations

    public func ping() async throws(HubError) {
        try await read { db in try db.execute(sql: "SELECT 1") }
    }

    /// The schema steps applied to the database, oldest first (opening the store applies any missing).
    public func appliedMigrations() async throws(HubError) -> [String] {
        try await read { db in try Self.migrator.appliedMigrations(db) }
    }

    /// The schema steps applied to the database file at `path`, read without changing it.
    public static func appliedMigrations(at path: String) throws(HubError) -> [String] {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            return try queue.read { db in
                try db.tableExists("grdb_migrations") ? try migrator.appliedMigrations(db) : []
            }
        } catch {
            throw HubError(.storage, "cannot read the schema of \(path): \(error)")
        }
    }

    /// Every schema step this version knows, oldest first.
    public static var knownMigrations: [String] { migrator.migrations }

    /// Copies the database to a new file at `destination` while the hub keeps serving (SQLite's online
    /// backup, a page batch at a time); `progress` is told the fraction done. The people's records stay
    /// sealed in the copy: it needs the same data key to be read.
    public func backup(to destination: String, progress: @escaping @Sendable (Double) -> Void = { _ in })
        async throws(HubError)
    {
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw HubError(.conflict, "\(destination) exists: give a new file (a backup never overwrites one)")
        }
        let pool = pool
        let copied: Result<Void, any Error> = await withCheckedContinuation { continuation in
            // SQLite's backup blocks: on a thread of its own, not on Swift's cooperative pool.
            Thread {
                do {
                    let target = try DatabaseQueue(path: destination)
                    try pool.backup(to: target, pagesPerStep: 256) { step in
                        progress(
                            step.totalPageCount == 0
                                ? 1 : Double(step.completedPageCount) / Double(step.totalPageCount))
                    }
                    try target.close()
                    continuation.resume(returning: .success(()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }.start()
        }
        if case .failure(let error) = copied {
            try? FileManager.default.removeItem(atPath: destination)
            throw HubError(.storage, "cannot back the database up to \(destination): \(error)")
        }
    }

    // MARK: Badge keys

    public func putBadgeKey(kid: String, publicKey: String) async throws(HubError) {
        guard !kid.isEmpty, (try? BadgeVerifier(keyring: BadgeKeyring(keys: [kid: publicKey]))) != nil else {
            throw HubError(.badRequest, "a badge key is a key id and 32 bytes of Ed25519 public key in base64url")
        }
        try await write { db in
            try db.execute(
                sql: "INSERT INTO badgeKey (kid, publicKey) VALUES (?, ?) "
                    + "ON CONFLICT(kid) DO UPDATE SET publicKey = excluded.publicKey",
                arguments: [kid, publicKey])
            try Self.bump("badgeKeys", db)
        }
    }

    public func hubBadgeIssuer() async throws(HubError) -> BadgeIssuer {
        let sealer = sealer
        let fresh = BadgeIssuer.generate()
        let sealedFresh = try sealer.seal(Data(fresh.privateKey.utf8))
        let stored = try await write { db -> Data in
            if let existing = try Data.fetchOne(
                db, sql: "SELECT value FROM deploymentSecret WHERE name = 'badge-signing'"),
                let kid = try? Self.hubKeyID(existing, sealer),
                try Int.fetchOne(db, sql: "SELECT 1 FROM badgeKey WHERE kid = ?", arguments: [kid]) != nil
            {
                return existing
            }
            try db.execute(
                sql: "INSERT INTO deploymentSecret (name, value) VALUES ('badge-signing', ?) "
                    + "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                arguments: [sealedFresh])
            try db.execute(
                sql: "INSERT INTO badgeKey (kid, publicKey) VALUES (?, ?) "
                    + "ON CONFLICT(kid) DO UPDATE SET publicKey = excluded.publicKey",
                arguments: ["hub-" + fresh.kid, fresh.publicKey])
            try Self.bump("badgeKeys", db)
            return sealedFresh
        }
        return try Self.hubIssuer(stored, sealer)
    }

    /// The key id of the hub's sealed signing key.
    static func hubKeyID(_ sealed: Data, _ sealer: PersonSealer) throws -> String {
        try hubIssuer(sealed, sealer).kid
    }

    static func hubIssuer(_ sealed: Data, _ sealer: PersonSealer) throws(HubError) -> BadgeIssuer {
        let key = String(decoding: try sealer.open(sealed), as: UTF8.self)
        do {
            return try BadgeIssuer(privateKey: key, kid: "hub-" + BadgeIssuer(privateKey: key).kid)
        } catch {
            throw HubError(.storage, "the hub's badge signing key does not open: \(error)")
        }
    }

    public func revokeBadge(_ id: String) async throws(HubError) {
        guard !id.isEmpty else { throw HubError(.badRequest, "a revocation needs a badge id") }
        try await write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO revokedBadge (id) VALUES (?)", arguments: [id])
            try Self.bump("badgeKeys", db)
        }
    }

    public func removeBadgeKey(kid: String) async throws(HubError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM badgeKey WHERE kid = ?", arguments: [kid])
            guard db.changesCount > 0 else { return false }
            try Self.bump("badgeKeys", db)
            return true
        }
    }

    public func badgeKeys() async throws(HubError) -> BadgeKeys {
        try await read { db in
            let keys = Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT kid, publicKey FROM badgeKey").map {
                    ($0["kid"] as String, $0["publicKey"] as String)
                })
            let revoked = try String.fetchAll(db, sql: "SELECT id FROM revokedBadge ORDER BY id")
            let version = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'badgeKeys'") ?? 0
            return BadgeKeys(keyring: BadgeKeyring(keys: keys, revoked: revoked), version: version)
        }
    }

    public func changeMark() async throws(HubError) -> String {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT key, value FROM meta WHERE key IN ('gallery', 'badgeKeys', 'schedule') ORDER BY key"
            ).map { "\($0["key"] as String)=\($0["value"] as Int64)" }.joined(separator: ",")
        }
    }

    static func bump(_ key: String, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO meta (key, value) VALUES (?, 1) ON CONFLICT(key) DO UPDATE SET value = value + 1",
            arguments: [key])
    }

    // MARK: Plumbing

    static func ms(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    private func encode(_ value: some Encodable) throws(HubError) -> Data {
        do {
            return try DeviceAPI.encoder().encode(value)
        } catch {
            throw HubError(.badRequest, "cannot encode: \(error)")
        }
    }

    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws(HubError) -> T {
        do {
            return try await pool.write(work)
        } catch let error as HubError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw HubError(.conflict, "already exists or refers to something unknown: \(error.message ?? "")")
        } catch {
            throw HubError(.storage, "the hub's database failed: \(error)")
        }
    }

    func read<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws(HubError) -> T {
        do {
            return try await pool.read(work)
        } catch let error as HubError {
            throw error
        } catch {
            throw HubError(.storage, "the hub's database failed: \(error)")
        }
    }
}
