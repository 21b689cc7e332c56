public import Attendance
public import Badges
import Crypto
public import Foundation
public import Logging
import NIOSSL
import PostgresNIO
public import Recognition
import Sealing
public import SyncProtocol
import Synchronization

/// The hub's storage in PostgreSQL (postgres-nio, a pool of connections), for a district: any number of
/// `rollcall-hub serve` processes share one database and give the same answers. The same behaviour as
/// `SQLiteHubStorage`: the same ingest rules (`IngestRules`), the same idempotency (an event id per
/// device, inserted once however many processes receive it), the same reports; the people's records are
/// sealed with the same `PersonSealer`.
///
/// What two processes could race on is settled by the database: an event is stored by the insert
/// that wins (`ON CONFLICT DO NOTHING`), the first check-in of a person to a session by the record's
/// primary key, version counters by one atomic `UPDATE ... RETURNING`, and the schema steps under an
/// advisory lock.
public final class PostgresHubStorage: HubStorage {
    let client: PostgresClient
    private let runner: Task<Void, Never>
    let logger: Logger
    /// The bounds on an event's time (IngestRules).
    public let ingestLimits: IngestRules.Limits
    /// Seals the people's records (names, templates) at rest.
    let sealer: PersonSealer
    /// The pool's size (`--pool-size`).
    public let poolSize: Int
    /// Statements or transactions under way in this process: how many of the pool's connections are in
    /// use, or wanted (more than `poolSize` is work waiting for a connection). `/metrics` shows it.
    private let busy = Atomic<Int>(0)
    public var connectionsWanted: Int { busy.load(ordering: .relaxed) }

    /// Connects to the database `url` names (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`, with
    /// `?host=/socket/folder` for a Unix socket and `?sslmode=disable|prefer|require`), applies the schema
    /// steps it lacks, and seals records written before sealing existed.
    public static func open(
        url: String, ingestLimits: IngestRules.Limits = .standard, sealer: PersonSealer,
        maximumConnections: Int = 20, logger: Logger = Logger(label: "rollcall-hub.postgres")
    ) async throws(HubError) -> PostgresHubStorage {
        var configuration = try configuration(url)
        configuration.options.maximumConnections = maximumConnections
        let storage = PostgresHubStorage(
            client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger,
            ingestLimits: ingestLimits, sealer: sealer, poolSize: maximumConnections)
        // A database that cannot be reached is a clear error within seconds, not a pool retrying for minutes.
        let reach = Task { try await storage.ping() }
        let timer = Task {
            try await Task.sleep(for: .seconds(15))
            reach.cancel()
        }
        do {
            try await reach.value
            timer.cancel()
            try await storage.migrate()
        } catch {
            timer.cancel()
            await storage.close()
            if let error = error as? HubError, error.code != .storage { throw error }
            throw HubError(
                .storage,
                "cannot use the PostgreSQL database at \(redacted(url)): \(error) (is the server running, and "
                    + "does the URL name its host or socket folder, user and database?)")
        }
        return storage
    }

    private init(
        client: PostgresClient, logger: Logger, ingestLimits: IngestRules.Limits, sealer: PersonSealer, poolSize: Int
    ) {
        self.client = client
        self.poolSize = poolSize
        self.logger = logger
        self.ingestLimits = ingestLimits
        self.sealer = sealer
        runner = Task.immediate { await client.run() }
    }

    /// Closes the pool's connections.
    public func close() async {
        runner.cancel()
        await runner.value
    }

    /// The URL without its password, for messages.
    static func redacted(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "…"
        return url.string ?? "(the URL)"
    }

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    static func configuration(_ text: String) throws(HubError) -> PostgresClient.Configuration {
        guard isURL(text), let url = URLComponents(string: text) else {
            throw HubError(.badRequest, "not a PostgreSQL URL: give postgres://USER@HOST[:PORT]/DATABASE")
        }
        let query = Dictionary(
            (url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let user = url.user ?? query["user"] ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        // A password in the URL shows in `ps`: give it in $PGPASSWORD, or use a Unix socket and peer
        // authentication.
        let password = url.password ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        let database = url.path.isEmpty || url.path == "/" ? nil : String(url.path.dropFirst())
        if let socket = query["host"], socket.hasPrefix("/") {
            let port = url.port ?? 5432
            return PostgresClient.Configuration(
                unixSocketPath: socket + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        }
        guard let host = url.host, !host.isEmpty else {
            throw HubError(.badRequest, "the PostgreSQL URL names no host (postgres://USER@HOST/DATABASE)")
        }
        let tls: PostgresClient.Configuration.TLS
        switch query["sslmode"] ?? "prefer" {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-full": tls = .require(.makeClientConfiguration())
        case let other:
            throw HubError(.badRequest, "sslmode \(other) is not one of disable, prefer, require, verify-full")
        }
        return PostgresClient.Configuration(
            host: host, port: url.port ?? 5432, username: user, password: password, database: database, tls: tls)
    }

    // MARK: Schema

    /// The schema steps, oldest first: never edited once released (a change is a new step).
    static let migrations: [(name: String, statements: [String])] = [
        (
            "v1 rooms, devices, people, sessions, events, records, visits, tokens, excuses, flags, access",
            [
                "CREATE TABLE room (id text PRIMARY KEY, timezone text NOT NULL, policy bytea)",
                """
                CREATE TABLE device (id text PRIMARY KEY, room text NOT NULL REFERENCES room,
                    tokenHash text NOT NULL UNIQUE)
                """,
                "CREATE TABLE meta (key text PRIMARY KEY, value bigint NOT NULL)",
                "CREATE TABLE person (id text PRIMARY KEY, entry bytea NOT NULL, version bigint NOT NULL)",
                "CREATE INDEX person_version ON person (version)",
                "CREATE TABLE personTombstone (id text PRIMARY KEY, version bigint NOT NULL)",
                """
                CREATE TABLE session (id text PRIMARY KEY, room text NOT NULL REFERENCES room,
                    groupName text NOT NULL, start bigint NOT NULL, "end" bigint NOT NULL, roster bytea NOT NULL,
                    className text)
                """,
                "CREATE INDEX session_room_start ON session (room, start)",
                "CREATE INDEX session_group_start ON session (groupName, start)",
                """
                CREATE TABLE receivedEvent (id text NOT NULL, device text NOT NULL, kind text NOT NULL,
                    person text NOT NULL, session text, at bigint NOT NULL, receivedAt bigint NOT NULL,
                    body bytea NOT NULL, PRIMARY KEY (device, id))
                """,
                """
                CREATE TABLE checkinRecord (session text NOT NULL, person text NOT NULL, status text NOT NULL,
                    checkinTime bigint NOT NULL, minutesLate bigint, method text NOT NULL, source text NOT NULL,
                    confidence double precision, eventID text NOT NULL, PRIMARY KEY (session, person))
                """,
                "CREATE TABLE badgeKey (kid text PRIMARY KEY, publicKey text NOT NULL)",
                "CREATE TABLE revokedBadge (id text PRIMARY KEY)",
                """
                CREATE TABLE visit (id bigserial PRIMARY KEY, person text NOT NULL, room text NOT NULL,
                    loginTime bigint NOT NULL, logoutTime bigint, UNIQUE (person, loginTime))
                """,
                "CREATE INDEX visit_login ON visit (loginTime)",
                "CREATE TABLE accessToken (tokenHash text PRIMARY KEY, scope text NOT NULL, label text NOT NULL)",
                """
                CREATE TABLE excuse (session text NOT NULL REFERENCES session, person text NOT NULL,
                    reason text NOT NULL, PRIMARY KEY (session, person))
                """,
                """
                CREATE TABLE flag (session text NOT NULL REFERENCES session, person text NOT NULL,
                    flag text NOT NULL, note text, PRIMARY KEY (session, person, flag))
                """,
                "CREATE TABLE deploymentSecret (name text PRIMARY KEY, value bytea NOT NULL)",
                """
                CREATE TABLE roomAccess (room text NOT NULL REFERENCES room ON DELETE CASCADE,
                    person text NOT NULL, PRIMARY KEY (room, person))
                """,
            ]
        ),
        (
            "v2 web accounts, sessions, sign-in failures, teachers, audit trail",
            [
                """
                CREATE TABLE account (username text PRIMARY KEY, role text NOT NULL, name text NOT NULL,
                    person text, cohorts bytea NOT NULL, passwordHash text NOT NULL,
                    disabled boolean NOT NULL DEFAULT false)
                """,
                """
                CREATE TABLE webSession (digest text PRIMARY KEY,
                    username text NOT NULL REFERENCES account ON DELETE CASCADE, csrf text NOT NULL,
                    createdAt bigint NOT NULL, expiresAt bigint NOT NULL)
                """,
                "CREATE INDEX webSession_username ON webSession (username)",
                "CREATE TABLE signinFailure (key text NOT NULL, at bigint NOT NULL)",
                "CREATE INDEX signinFailure_key ON signinFailure (key, at)",
                """
                CREATE TABLE sessionTeacher (session text NOT NULL, username text NOT NULL,
                    PRIMARY KEY (session, username))
                """,
                "CREATE INDEX sessionTeacher_username ON sessionTeacher (username)",
                """
                CREATE TABLE audit (id bigserial PRIMARY KEY, at bigint NOT NULL, actor text NOT NULL,
                    action text NOT NULL, subject text NOT NULL, detail text NOT NULL, address text NOT NULL)
                """,
                "CREATE INDEX audit_at ON audit (at)",
                // Append-only: a line once written is never changed (retention deletes whole old lines).
                """
                CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$
                """,
                """
                CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
                    FOR EACH ROW EXECUTE FUNCTION audit_append_only()
                """,
            ]
        ),
        (
            "v3 manual records, door heartbeats",
            [
                "ALTER TABLE checkinRecord ADD COLUMN setBy text, ADD COLUMN reason text, ADD COLUMN storedAt bigint",
                """
                CREATE TABLE deviceStatus (device text PRIMARY KEY, lastContact bigint NOT NULL, version text NOT NULL,
                    queued bigint NOT NULL, camera text NOT NULL, address text NOT NULL)
                """,
            ]
        ),
        (
            "v4 consent",
            [
                "ALTER TABLE person ADD COLUMN consent text, ADD COLUMN templateCount bigint",
                """
                CREATE TABLE consentEvent (id bigserial PRIMARY KEY, person text NOT NULL, state text NOT NULL,
                    givenBy text NOT NULL, at bigint NOT NULL, evidence text NOT NULL, recordedBy text NOT NULL)
                """,
                "CREATE INDEX consentEvent_person ON consentEvent (person)",
                """
                CREATE FUNCTION consent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the consent history is append-only'; END $$
                """,
                """
                CREATE TRIGGER consent_append_only BEFORE UPDATE ON consentEvent
                    FOR EACH ROW EXECUTE FUNCTION consent_append_only()
                """,
            ]
        ),
        (
            "v5 guardian contacts, notification outbox",
            [
                "CREATE TABLE guardianContact (person text PRIMARY KEY, payload bytea NOT NULL)",
                """
                CREATE TABLE notification (id bigserial PRIMARY KEY, key text NOT NULL UNIQUE, kind text NOT NULL,
                    channel text NOT NULL, person text NOT NULL, session text NOT NULL, payload bytea NOT NULL,
                    createdAt bigint NOT NULL, attempts bigint NOT NULL DEFAULT 0, nextAttemptAt bigint NOT NULL,
                    claimedUntil bigint NOT NULL DEFAULT 0, sentAt bigint, failed boolean NOT NULL DEFAULT false,
                    lastError text)
                """,
                "CREATE INDEX notification_person ON notification (person)",
                "CREATE INDEX notification_due ON notification (nextAttemptAt) WHERE sentAt IS NULL AND NOT failed",
            ]
        ),
        ("v6 staff email addresses", ["ALTER TABLE account ADD COLUMN email text"]),
        (
            "v7 door alerts",
            [
                // Faces the doors refused as presentation attacks: one row per (door, id), no image, no encoding.
                """
                CREATE TABLE doorAlert (device text NOT NULL, id text NOT NULL, room text NOT NULL,
                    kind text NOT NULL, at bigint NOT NULL, reason text NOT NULL, claimedPerson text,
                    scores text NOT NULL, receivedAt bigint NOT NULL, PRIMARY KEY (device, id))
                """,
                "CREATE INDEX doorAlert_at ON doorAlert (at)",
                "CREATE INDEX doorAlert_received ON doorAlert (receivedAt)",
            ]
        ),
    ]

    /// Every schema step this version knows, oldest first.
    public static var knownMigrations: [String] { migrations.map(\.name) }

    /// Applies the schema steps the database lacks, in one transaction under an advisory lock, so that
    /// two processes starting at once apply each step once.
    func migrate() async throws(HubError) {
        let sealer = sealer
        try await transaction { connection, logger in
            try await connection.query("SELECT pg_advisory_xact_lock(7260521)", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schemaMigration (name text PRIMARY KEY, appliedAt timestamptz NOT NULL)",
                logger: logger)
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM schemaMigration", logger: logger)
                .decode(String.self)
            {
                applied.insert(name)
            }
            for step in Self.migrations where !applied.contains(step.name) {
                for statement in step.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                if step.name.hasPrefix("v1 ") {
                    // The key of the public API's pseudonyms: random, made once per deployment, never served.
                    let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
                    try await connection.query(
                        "INSERT INTO deploymentSecret (name, value) VALUES ('pseudonym', \(key))", logger: logger)
                }
                let name = step.name
                try await connection.query(
                    "INSERT INTO schemaMigration (name, appliedAt) VALUES (\(name), now())", logger: logger)
            }
            // Records written before sealing existed (an import) are sealed now; one that does not open stops here.
            for try await (id, stored) in try await connection.query("SELECT id, entry FROM person", logger: logger)
                .decode((String, Data).self)
            {
                let plain = try sealer.open(stored)
                if !DataSealer.isSealed(stored) {
                    let sealed = try sealer.seal(plain)
                    try await connection.query("UPDATE person SET entry = \(sealed) WHERE id = \(id)", logger: logger)
                }
            }
            try await Self.recordConsentOnRecord(connection, logger, sealer: sealer)
        }
    }

    /// The schema steps applied, oldest first.
    public func appliedMigrations() async throws(HubError) -> [String] {
        try await strings("SELECT name FROM schemaMigration ORDER BY appliedAt, name")
    }

    public func ping() async throws(HubError) {
        _ = try await strings("SELECT 'ok'")
    }

    // MARK: Administration

    public func addRoom(_ room: String, timezone: String, policy: AttendancePolicy?) async throws(HubError) {
        let encoded = try policy.map { policy throws(HubError) in
            do { return try JSONEncoder().encode(policy) } catch {
                throw HubError(.badRequest, "cannot keep the policy: \(error)")
            }
        }
        try await transaction { connection, logger in
            try await connection.query(
                "INSERT INTO room (id, timezone, policy) VALUES (\(room), \(timezone), \(encoded))", logger: logger)
            _ = try await Self.bump("schedule", connection, logger)
        }
    }

    public func setRoomAccess(room: String, people: [String]) async throws(HubError) {
        let sealer = sealer
        try await transaction { connection, logger in
            guard try await Self.exists(connection, logger, "SELECT 1 FROM room WHERE id = \(room)") else {
                throw HubError(.notFound, "no room \(room)")
            }
            for person in Set(people) {
                let entry = try await Self.first(
                    connection, logger, "SELECT entry FROM person WHERE id = \(person)", as: Data.self)
                guard let entry else { throw HubError(.notFound, "no person \(person.prefix(80))") }
                guard try sealer.person(entry).role != .student else {
                    throw HubError(
                        .badRequest,
                        "\(person) is a student: a room's access list holds volunteers and staff; students come with their sessions' rosters"
                    )
                }
            }
            _ = try await Self.bump("schedule", connection, logger)
            try await connection.query("DELETE FROM roomAccess WHERE room = \(room)", logger: logger)
            for person in Set(people).sorted() {
                try await connection.query(
                    "INSERT INTO roomAccess (room, person) VALUES (\(room), \(person))", logger: logger)
            }
        }
    }

    public func roomAccess(room: String) async throws(HubError) -> [String]? {
        try await transaction { connection, logger in
            guard try await Self.exists(connection, logger, "SELECT 1 FROM room WHERE id = \(room)") else {
                return nil
            }
            return try await Self.all(
                connection, logger, "SELECT person FROM roomAccess WHERE room = \(room) ORDER BY person",
                as: String.self)
        }
    }

    public func addDevice(_ device: DeviceRecord, token: String) async throws(HubError) {
        let hash = SQLiteHubStorage.hash(token)
        try await execute("INSERT INTO device (id, room, tokenHash) VALUES (\(device.id), \(device.room), \(hash))")
    }

    public func device(forToken token: String) async throws(HubError) -> DeviceRecord? {
        let hash = SQLiteHubStorage.hash(token)
        return try await transaction { connection, logger in
            try await Self.first(
                connection, logger, "SELECT id, room FROM device WHERE tokenHash = \(hash)", as: (String, String).self
            ).map { DeviceRecord(id: $0.0, room: $0.1) }
        }
    }

    public func removeDevice(_ id: String) async throws(HubError) -> Bool {
        try await changed("DELETE FROM device WHERE id = \(id) RETURNING 1")
    }

    public func replaceDeviceToken(_ id: String, token: String) async throws(HubError) -> Bool {
        let hash = SQLiteHubStorage.hash(token)
        return try await changed("UPDATE device SET tokenHash = \(hash) WHERE id = \(id) RETURNING 1")
    }

    @discardableResult
    public func upsertPerson(_ person: GalleryDocument.Entry, consent: ConsentRecord?) async throws(HubError)
        -> Int64
    {
        try SQLiteHubStorage.check(person)
        let consent = try consent.map { record throws(HubError) in try record.validated(for: person.id) }
        let entry = try sealer.seal(try Self.encode(person))
        let count = Int64(person.templates.count)
        return try await transaction { connection, logger in
            let id = person.id
            var state = consent?.state
            if consent == nil {
                state = try await Self.first(
                    connection, logger, "SELECT consent FROM person WHERE id = \(id) FOR UPDATE", as: String?.self
                ).flatMap { $0 }.flatMap(ConsentState.init(rawValue:))
            }
            if count > 0 && state != .granted { throw HubError.noConsent(id, state) }
            let version = try await Self.bump("gallery", connection, logger)
            let stateText = state?.rawValue
            try await connection.query(
                """
                INSERT INTO person (id, entry, version, templateCount, consent)
                VALUES (\(id), \(entry), \(version), \(count), \(stateText))
                ON CONFLICT (id) DO UPDATE SET entry = excluded.entry, version = excluded.version,
                    templateCount = excluded.templateCount, consent = excluded.consent
                """, logger: logger)
            if let consent { try await Self.insertConsent(consent, connection, logger) }
            if count == 0 {
                // Not in any gallery now: doors that held the person remove them with their next delta.
                try await connection.query(
                    """
                    INSERT INTO personTombstone (id, version) VALUES (\(id), \(version))
                    ON CONFLICT (id) DO UPDATE SET version = excluded.version
                    """, logger: logger)
            } else {
                try await connection.query("DELETE FROM personTombstone WHERE id = \(id)", logger: logger)
            }
            return version
        }
    }

    @discardableResult
    public func removePerson(_ id: String) async throws(HubError) -> Int64 {
        let version = try await transaction { connection, logger -> Int64 in
            guard try await Self.exists(connection, logger, "SELECT 1 FROM person WHERE id = \(id)") else {
                throw HubError(.notFound, "no person \(id)")
            }
            let version = try await Self.bump("gallery", connection, logger)
            try await connection.query("DELETE FROM person WHERE id = \(id)", logger: logger)
            try await connection.query("DELETE FROM roomAccess WHERE person = \(id)", logger: logger)
            // Door alerts stay (a door was attacked), but no longer name whom the picture showed.
            try await connection.query(
                "UPDATE doorAlert SET claimedPerson = NULL WHERE claimedPerson = \(id)", logger: logger)
            try await connection.query(
                """
                INSERT INTO personTombstone (id, version) VALUES (\(id), \(version))
                ON CONFLICT (id) DO UPDATE SET version = excluded.version
                """, logger: logger)
            return version
        }
        _ = try? await client.query("VACUUM person", logger: logger)
        return version
    }

    public func putSession(_ session: Session) async throws(HubError) {
        guard session.end >= session.start else {
            throw HubError(.badRequest, "session \(session.id) ends before it starts")
        }
        try await transaction { connection, logger in
            guard try await Self.exists(connection, logger, "SELECT 1 FROM room WHERE id = \(session.room)") else {
                throw HubError(.notFound, "no room \(session.room): add it first")
            }
            try await Self.put(session, className: nil, keepClassName: true, connection, logger)
        }
    }

    static func put(
        _ session: Session, className: String?, keepClassName: Bool, _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws {
        let roster = try encode(session.roster)
        _ = try await bump("schedule", connection, logger)
        let (id, room, group) = (session.id, session.room, session.group)
        let (start, end) = (SQLiteHubStorage.ms(session.start), SQLiteHubStorage.ms(session.end))
        if keepClassName {
            try await connection.query(
                """
                INSERT INTO session (id, room, groupName, start, "end", roster)
                VALUES (\(id), \(room), \(group), \(start), \(end), \(roster))
                ON CONFLICT (id) DO UPDATE SET room = excluded.room, groupName = excluded.groupName,
                    start = excluded.start, "end" = excluded."end", roster = excluded.roster
                """, logger: logger)
        } else {
            try await connection.query(
                """
                INSERT INTO session (id, room, groupName, start, "end", roster, className)
                VALUES (\(id), \(room), \(group), \(start), \(end), \(roster), \(className))
                ON CONFLICT (id) DO UPDATE SET room = excluded.room, groupName = excluded.groupName,
                    start = excluded.start, "end" = excluded."end", roster = excluded.roster,
                    className = excluded.className
                """, logger: logger)
        }
    }

    // MARK: Device API

    public func manifest(room: String, now: Date) async throws(HubError) -> DeviceManifest {
        let from = SQLiteHubStorage.ms(now - 86_400)
        let until = SQLiteHubStorage.ms(now + 2 * 86_400)
        let sealer = sealer
        return try await transaction { connection, logger in
            guard
                let (timezone, policyData) = try await Self.first(
                    connection, logger, "SELECT timezone, policy FROM room WHERE id = \(room)",
                    as: (String, Data?).self)
            else { throw HubError(.notFound, "no room \(room)") }
            let policy = try policyData.map { try JSONDecoder().decode(AttendancePolicy.self, from: $0) }
            let sessions = try await Self.sessions(connection, logger, .room(room, from: from, until: until))
            var named = Set(sessions.flatMap(\.session.roster))
            named.formUnion(
                try await Self.all(
                    connection, logger, "SELECT person FROM roomAccess WHERE room = \(room)", as: String.self))
            let ids = Array(named)
            var names: [String: String] = [:]
            for try await (id, entry) in try await connection.query(
                "SELECT id, entry FROM person WHERE id = ANY(\(ids))", logger: logger
            ).decode((String, Data).self) {
                names[id] = try sealer.person(entry).name
            }
            return DeviceManifest(
                schedule: SessionSchedule(
                    room: room, timezone: timezone, policy: policy ?? AttendancePolicy(),
                    sessions: sessions.map(\.session)),
                galleryVersion: try await Self.meta("gallery", connection, logger),
                badgeKeysVersion: try await Self.meta("badgeKeys", connection, logger), names: names)
        }
    }

    public func galleryDelta(since: Int64) async throws(HubError) -> GalleryDelta {
        let sealer = sealer
        return try await transaction { connection, logger in
            let version = try await Self.meta("gallery", connection, logger)
            var upserts: [GalleryDocument.Entry] = []
            for try await entry in try await connection.query(
                "SELECT entry FROM person WHERE consent = 'granted' AND templateCount > 0 AND version > \(since) ORDER BY version",
                logger: logger
            ).decode(Data.self) {
                upserts.append(try sealer.entry(entry))
            }
            let deletes = try await Self.all(
                connection, logger, "SELECT id FROM personTombstone WHERE version > \(since) ORDER BY version",
                as: String.self)
            return GalleryDelta(since: since, version: version, upserts: upserts, deletes: deletes)
        }
    }

    public func galleryPage(room: String, since: Int64, scope requested: String?, after: String?, now: Date)
        async throws(HubError) -> GalleryDelta
    {
        let from = SQLiteHubStorage.ms(now - 86_400)
        let until = SQLiteHubStorage.ms(now + 2 * 86_400)
        let page = DeviceAPI.galleryPage
        let sealer = sealer
        return try await transaction { connection, logger in
            let version = try await Self.meta("gallery", connection, logger)
            // Who this door may recognise: its room's rosters in the manifest's window, and whom the room lets in.
            var wanted = Set(
                try await Self.all(
                    connection, logger, "SELECT person FROM roomAccess WHERE room = \(room)", as: String.self))
            for roster in try await Self.all(
                connection, logger,
                "SELECT roster FROM session WHERE room = \(room) AND \"end\" >= \(from) AND start <= \(until)",
                as: Data.self)
            {
                wanted.formUnion(try JSONDecoder().decode([String].self, from: roster))
            }
            let ids = Array(wanted)
            let members = try await Self.all(
                connection, logger,
                "SELECT id FROM person WHERE id = ANY(\(ids)) AND consent = 'granted' AND templateCount > 0 ORDER BY id",
                as: String.self)
            let scope = SQLiteHubStorage.scopeDigest(members)
            let reset = requested != scope || since <= 0 || since > version
            let start = after ?? ""
            let limit = page + 1
            var upserts: [GalleryDocument.Entry] = []
            for try await entry in try await connection.query(
                """
                SELECT entry FROM person WHERE id = ANY(\(ids)) AND consent = 'granted' AND templateCount > 0
                    AND id > \(start) AND (\(reset) OR version > \(since))
                ORDER BY id LIMIT \(limit)
                """, logger: logger
            ).decode(Data.self) {
                upserts.append(try sealer.entry(entry))
            }
            var next: String?
            if upserts.count > page {
                upserts.removeLast()
                next = upserts.last?.id
            }
            // Removals since the device's version, once (on the first page); a reset removes by omission.
            let deletes =
                reset || after != nil
                ? []
                : try await Self.all(
                    connection, logger, "SELECT id FROM personTombstone WHERE version > \(since) ORDER BY id",
                    as: String.self)
            return GalleryDelta(
                since: since, version: version, upserts: upserts, deletes: deletes, scope: scope, reset: reset,
                next: next)
        }
    }

    public func ingest(_ batch: EventBatch, from device: DeviceRecord, receivedAt: Date) async throws(HubError)
        -> EventBatchResult
    {
        try IngestRules.checkSize(batch)
        var bodies: [Data] = []
        for event in batch.events { bodies.append(try Self.encode(event)) }
        let encoded = bodies
        let limits = ingestLimits
        let sealer = sealer
        // A batch costs a few statements, not a few per event: what the rules need is read for the whole
        // batch at once, the events are judged in order in memory, and what they store is written in one
        // statement per table.
        return try await transaction { connection, logger in
            var lookup = try await IngestLookup(
                batch.events, room: device.room, device: device.id, sealer: sealer, connection, logger)
            var verdicts: [(DeviceEvent, Data, IngestRules.Verdict?)] = []
            for (event, body) in zip(batch.events, encoded) {
                guard !lookup.seen.contains(event.id) else {
                    verdicts.append((event, body, nil))  // sent before: a duplicate
                    continue
                }
                lookup.seen.insert(event.id)
                let verdict: IngestRules.Verdict
                if let reason = IngestRules.precheck(event, device: device, receivedAt: receivedAt, limits: limits) {
                    verdict = .refuse(reason)
                } else {
                    verdict = IngestRules.judge(
                        event, device: device, receivedAt: receivedAt, facts: lookup.facts(for: event.event),
                        limits: limits)
                    if case .accept = verdict, event.event.kind == .checkin, let session = event.event.session {
                        lookup.checkedIn[SessionPerson(session: session, person: event.event.person)] = event.event.at
                    }
                }
                verdicts.append((event, body, verdict))
            }
            // The events as received; another hub process may have stored some a moment ago: the insert
            // that wins stores an event, and the other answers duplicate.
            let kept = verdicts.compactMap { event, body, verdict -> (DeviceEvent, Data)? in
                switch verdict {
                case .accept, .keep: (event, body)
                case .refuse, nil: nil
                }
            }
            let stored = try await Self.keep(kept, from: device, receivedAt: receivedAt, connection, logger)
            var result = EventBatchResult()
            var checkins: [(DeviceEvent, IngestRules.Checkin?)] = []
            for (event, _, verdict) in verdicts {
                switch verdict {
                case nil:
                    result.duplicate.append(event.id)
                case .refuse(let reason):
                    result.rejected.append(EventBatchResult.Rejection(id: event.id, reason: reason))
                case .accept(let checkin):
                    guard stored.contains(event.id) else {
                        result.duplicate.append(event.id)
                        continue
                    }
                    if event.event.kind == .checkin {
                        checkins.append((event, checkin))
                    } else {
                        try await Self.store(event, checkin: checkin, from: device, connection, logger)
                    }
                    result.accepted.append(event.id)
                case .keep:
                    if stored.contains(event.id) {
                        result.accepted.append(event.id)
                    } else {
                        result.duplicate.append(event.id)
                    }
                }
            }
            try await Self.storeCheckins(checkins, receivedAt: receivedAt, connection, logger)
            return result
        }
    }

    struct SessionPerson: Hashable {
        var session: String
        var person: String
    }

    /// What the ingest rules need about a batch, read in a few statements.
    private struct IngestLookup {
        let policy: AttendancePolicy
        let allowed: Set<String>
        var roles: [String: PersonRole] = [:]
        var sessions: [String: Session] = [:]
        var checkedIn: [SessionPerson: Date] = [:]
        /// The ids this device has sent before, and those seen earlier in this batch.
        var seen: Set<String>

        init(
            _ events: [DeviceEvent], room: String, device: String, sealer: PersonSealer,
            _ connection: PostgresConnection, _ logger: Logger
        ) async throws {
            policy =
                try
                (try await PostgresHubStorage.first(
                    connection, logger, "SELECT policy FROM room WHERE id = \(room)", as: Data?.self) ?? nil)
                .map { try JSONDecoder().decode(AttendancePolicy.self, from: $0) } ?? AttendancePolicy()
            allowed = Set(
                try await PostgresHubStorage.all(
                    connection, logger, "SELECT person FROM roomAccess WHERE room = \(room)", as: String.self))
            let ids = events.map(\.id)
            seen = Set(
                try await PostgresHubStorage.all(
                    connection, logger, "SELECT id FROM receivedEvent WHERE device = \(device) AND id = ANY(\(ids))",
                    as: String.self))
            let people = Array(Set(events.map(\.event.person)))
            for try await entry in try await connection.query(
                "SELECT entry FROM person WHERE id = ANY(\(people))", logger: logger
            ).decode(Data.self) {
                let person = try sealer.person(entry)
                roles[person.id] = person.role
            }
            let named = Array(Set(events.compactMap(\.event.session)))
            for found in try await PostgresHubStorage.sessions(connection, logger, .ids(named)) {
                sessions[found.session.id] = found.session
            }
            let pairs = events.compactMap { event in event.event.session.map { ($0, event.event.person) } }
            let (sessionIDs, personIDs) = (pairs.map(\.0), pairs.map(\.1))
            for try await (session, person, time) in try await connection.query(
                """
                SELECT session, person, checkinTime FROM checkinRecord
                WHERE (session, person) IN (SELECT * FROM unnest(\(sessionIDs)::text[], \(personIDs)::text[]))
                """, logger: logger
            ).decode((String, String, Int64).self) {
                checkedIn[SessionPerson(session: session, person: person)] = SQLiteHubStorage.date(time)
            }
        }

        func facts(for event: AttendanceEvent) -> IngestRules.Facts {
            let session = event.session.flatMap { sessions[$0] }
            let checkedInAt = event.session.flatMap { checkedIn[SessionPerson(session: $0, person: event.person)] }
            return IngestRules.Facts(
                role: roles[event.person], session: session, policy: policy,
                allowedInRoom: allowed.contains(event.person), checkedInAt: checkedInAt)
        }
    }

    /// The events as received, in one statement; the ids actually stored (not there already).
    private static func keep(
        _ events: [(DeviceEvent, Data)], from device: DeviceRecord, receivedAt: Date,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Set<String> {
        guard !events.isEmpty else { return [] }
        let received = SQLiteHubStorage.ms(receivedAt)
        let rows = events.map { item, body -> [any PostgresBindable] in
            let event = item.event
            return [
                item.id, device.id, event.kind.rawValue, event.person, event.session, SQLiteHubStorage.ms(event.at),
                received, ByteBuffer(bytes: body),
            ]
        }
        var stored = Set<String>()
        for try await id in try await connection.query(
            insert(
                "receivedEvent", ["id", "device", "kind", "person", "session", "at", "receivedAt", "body"], rows,
                suffix: "ON CONFLICT (device, id) DO NOTHING RETURNING id"),
            logger: logger
        ).decode(String.self) {
            stored.insert(id)
        }
        return stored
    }

    /// The check-in records, in one statement: the first to arrive stands (a later one, from this process
    /// or another, changes nothing). Status and minutes late are the hub's.
    private static func storeCheckins(
        _ checkins: [(DeviceEvent, IngestRules.Checkin?)], receivedAt: Date, _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws {
        guard !checkins.isEmpty else { return }
        let stored = SQLiteHubStorage.ms(receivedAt)
        let rows = checkins.map { item, checkin -> [any PostgresBindable] in
            [
                item.event.session, item.event.person, checkin?.status.rawValue, SQLiteHubStorage.ms(item.event.at),
                checkin?.minutesLate, item.method, item.source, item.confidence, item.id, stored,
            ]
        }
        try await connection.query(
            insert(
                "checkinRecord",
                [
                    "session", "person", "status", "checkinTime", "minutesLate", "method", "source", "confidence",
                    "eventID", "storedAt",
                ],
                rows, suffix: "ON CONFLICT (session, person) DO NOTHING"),
            logger: logger)
    }

    /// One `INSERT` of many rows.
    static func insert(_ table: String, _ columns: [String], _ rows: [[any PostgresBindable]], suffix: String)
        -> PostgresQuery
    {
        var bindings = PostgresBindings(capacity: rows.count * columns.count)
        var tuples: [String] = []
        for row in rows {
            var places: [String] = []
            for value in row {
                value.bind(into: &bindings)
                places.append("$\(bindings.count)")
            }
            tuples.append("(" + places.joined(separator: ", ") + ")")
        }
        return PostgresQuery(
            unsafeSQL: "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                + tuples.joined(separator: ", ") + " " + suffix,
            binds: bindings)
    }

    private static func store(
        _ item: DeviceEvent, checkin: IngestRules.Checkin?, from device: DeviceRecord,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        let event = item.event
        let (person, room, at) = (event.person, device.room, SQLiteHubStorage.ms(event.at))
        let storedAt = SQLiteHubStorage.ms(Date())
        switch event.kind {
        case .checkin:
            // One record per (session, person): the first to arrive stands (a later one, from this process
            // or another, is kept as received and changes nothing). Status and minutes late are the hub's.
            let status = checkin?.status.rawValue
            let minutesLate = checkin?.minutesLate
            try await connection.query(
                """
                INSERT INTO checkinRecord
                    (session, person, status, checkinTime, minutesLate, method, source, confidence, eventID, storedAt)
                VALUES (\(event.session), \(person), \(status), \(at), \(minutesLate), \(item.method),
                    \(item.source), \(item.confidence), \(item.id), \(storedAt))
                ON CONFLICT (session, person) DO NOTHING
                """, logger: logger)
        case .entry:
            try await connection.query(
                """
                INSERT INTO visit (person, room, loginTime) VALUES (\(person), \(room), \(at))
                ON CONFLICT (person, loginTime) DO NOTHING
                """, logger: logger)
        case .exit:
            let entry = SQLiteHubStorage.ms(event.entryAt ?? event.at)
            // The exit may arrive before its entry: the visit is made from the exit, and the entry finds it.
            try await connection.query(
                """
                INSERT INTO visit (person, room, loginTime, logoutTime) VALUES (\(person), \(room), \(entry), \(at))
                ON CONFLICT (person, loginTime) DO UPDATE SET logoutTime = excluded.logoutTime
                """, logger: logger)
        }
    }

    // MARK: Records

    public func checkinRecords(session: String) async throws(HubError) -> [CheckinRecord] {
        try await transaction { connection, logger in
            try await Self.checkinRecords(session, connection, logger)
        }
    }

    static func checkinRecords(_ session: String, _ connection: PostgresConnection, _ logger: Logger) async throws
        -> [CheckinRecord]
    {
        try await checkinRecords(of: [session], connection, logger)
    }

    /// The records of all of `sessions` in one statement, in check-in order.
    static func checkinRecords(of sessions: [String], _ connection: PostgresConnection, _ logger: Logger)
        async throws -> [CheckinRecord]
    {
        var records: [CheckinRecord] = []
        for try await row in try await connection.query(
            """
            SELECT session, person, status, checkinTime, minutesLate, method, source, confidence, eventID, setBy,
                reason, storedAt
            FROM checkinRecord WHERE session = ANY(\(sessions)) ORDER BY checkinTime
            """, logger: logger
        ).decode(
            (String, String, String, Int64, Int?, String, String, Double?, String, String?, String?, Int64?).self
        ) {
            records.append(
                CheckinRecord(
                    session: row.0, person: row.1, status: row.2, checkinTime: SQLiteHubStorage.date(row.3),
                    minutesLate: row.4, method: row.5, source: row.6, confidence: row.7, eventID: row.8,
                    setBy: row.9, reason: row.10, storedAt: row.11.map(SQLiteHubStorage.date)))
        }
        return records
    }

    public func visits(person: String) async throws(HubError) -> [Visit] {
        try await transaction { connection, logger in
            var visits: [Visit] = []
            for try await row in try await connection.query(
                "SELECT person, room, loginTime, logoutTime FROM visit WHERE person = \(person) ORDER BY loginTime",
                logger: logger
            ).decode((String, String, Int64, Int64?).self) {
                visits.append(Self.visit(row))
            }
            return visits
        }
    }

    static func visit(_ row: (String, String, Int64, Int64?)) -> Visit {
        Visit(
            person: row.0, room: row.1, loginTime: SQLiteHubStorage.date(row.2),
            logoutTime: row.3.map(SQLiteHubStorage.date))
    }

    public func receivedEventCount() async throws(HubError) -> Int {
        try await transaction { connection, logger in
            try await Self.first(connection, logger, "SELECT COUNT(*) FROM receivedEvent", as: Int.self) ?? 0
        }
    }

    public func receivedEvents(device: String, after: String?, limit: Int) async throws(HubError)
        -> [ReceivedEvent]
    {
        let after = after ?? ""
        let limit = max(0, limit)
        return try await transaction { connection, logger in
            var events: [ReceivedEvent] = []
            // Byte order (as SQLite's), whatever the database's collation: the `after` cursor relies on it.
            for try await row in try await connection.query(
                """
                SELECT id, device, kind, person, session, at, receivedAt FROM receivedEvent
                WHERE device = \(device) AND id COLLATE "C" > \(after) ORDER BY id COLLATE "C" LIMIT \(limit)
                """, logger: logger
            ).decode((String, String, String, String, String?, Int64, Int64).self) {
                events.append(
                    ReceivedEvent(
                        id: row.0, device: row.1, kind: row.2, person: row.3, session: row.4,
                        at: SQLiteHubStorage.date(row.5), receivedAt: SQLiteHubStorage.date(row.6)))
            }
            return events
        }
    }

    public func tidy() async throws(HubError) {
        // VACUUM cannot run in a transaction block, and `reading` runs its statements outside one.
        try await reading { connection, logger in
            _ = try await connection.query("VACUUM (ANALYZE)", logger: logger)
        }
    }

    // MARK: Badge keys

    public func putBadgeKey(kid: String, publicKey: String) async throws(HubError) {
        guard !kid.isEmpty, (try? BadgeVerifier(keyring: BadgeKeyring(keys: [kid: publicKey]))) != nil else {
            throw HubError(.badRequest, "a badge key is a key id and 32 bytes of Ed25519 public key in base64url")
        }
        try await transaction { connection, logger in
            try await connection.query(
                """
                INSERT INTO badgeKey (kid, publicKey) VALUES (\(kid), \(publicKey))
                ON CONFLICT (kid) DO UPDATE SET publicKey = excluded.publicKey
                """, logger: logger)
            _ = try await Self.bump("badgeKeys", connection, logger)
        }
    }

    public func hubBadgeIssuer() async throws(HubError) -> BadgeIssuer {
        let sealer = sealer
        let fresh = BadgeIssuer.generate()
        let sealedFresh = try sealer.seal(Data(fresh.privateKey.utf8))
        let stored = try await transaction { connection, logger -> Data in
            try await connection.query("SELECT pg_advisory_xact_lock(7260522)", logger: logger)
            if let existing = try await Self.first(
                connection, logger, "SELECT value FROM deploymentSecret WHERE name = 'badge-signing'", as: Data.self),
                let kid = try? SQLiteHubStorage.hubKeyID(existing, sealer),
                try await Self.exists(connection, logger, "SELECT 1 FROM badgeKey WHERE kid = \(kid)")
            {
                return existing
            }
            let (kid, publicKey) = ("hub-" + fresh.kid, fresh.publicKey)
            try await connection.query(
                """
                INSERT INTO deploymentSecret (name, value) VALUES ('badge-signing', \(sealedFresh))
                ON CONFLICT (name) DO UPDATE SET value = excluded.value
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO badgeKey (kid, publicKey) VALUES (\(kid), \(publicKey))
                ON CONFLICT (kid) DO UPDATE SET publicKey = excluded.publicKey
                """, logger: logger)
            _ = try await Self.bump("badgeKeys", connection, logger)
            return sealedFresh
        }
        return try SQLiteHubStorage.hubIssuer(stored, sealer)
    }

    public func revokeBadge(_ id: String) async throws(HubError) {
        guard !id.isEmpty else { throw HubError(.badRequest, "a revocation needs a badge id") }
        try await transaction { connection, logger in
            try await connection.query(
                "INSERT INTO revokedBadge (id) VALUES (\(id)) ON CONFLICT DO NOTHING", logger: logger)
            _ = try await Self.bump("badgeKeys", connection, logger)
        }
    }

    public func removeBadgeKey(kid: String) async throws(HubError) -> Bool {
        try await transaction { connection, logger in
            guard try await Self.exists(connection, logger, "DELETE FROM badgeKey WHERE kid = \(kid) RETURNING 1")
            else { return false }
            _ = try await Self.bump("badgeKeys", connection, logger)
            return true
        }
    }

    public func badgeKeys() async throws(HubError) -> BadgeKeys {
        try await transaction { connection, logger in
            var keys: [String: String] = [:]
            for try await (kid, key) in try await connection.query(
                "SELECT kid, publicKey FROM badgeKey", logger: logger
            ).decode((String, String).self) {
                keys[kid] = key
            }
            let revoked = try await Self.all(
                connection, logger, "SELECT id FROM revokedBadge ORDER BY id", as: String.self)
            return BadgeKeys(
                keyring: BadgeKeyring(keys: keys, revoked: revoked),
                version: try await Self.meta("badgeKeys", connection, logger))
        }
    }

    // MARK: Plumbing

    /// Which sessions `sessions` reads.
    enum SessionFilter {
        /// One session.
        case id(String)
        /// These sessions.
        case ids([String])
        /// A room's sessions that overlap [from, until] (milliseconds), by start.
        case room(String, from: Int64, until: Int64)
    }

    /// Sessions with their class names.
    static func sessions(_ connection: PostgresConnection, _ logger: Logger, _ filter: SessionFilter) async throws
        -> [(session: Session, className: String?)]
    {
        let query: PostgresQuery
        switch filter {
        case .id(let id):
            query = #"SELECT id, room, groupName, start, "end", roster, className FROM session WHERE id = \#(id)"#
        case .ids(let ids):
            query = #"SELECT id, room, groupName, start, "end", roster, className FROM session WHERE id = ANY(\#(ids))"#
        case .room(let room, let from, let until):
            query = """
                SELECT id, room, groupName, start, "end", roster, className FROM session
                WHERE room = \(room) AND "end" >= \(from) AND start <= \(until) ORDER BY start, id
                """
        }
        var sessions: [(Session, String?)] = []
        for try await row in try await connection.query(query, logger: logger)
            .decode((String, String, String, Int64, Int64, Data, String?).self)
        {
            sessions.append(
                (
                    Session(
                        id: row.0, room: row.1, group: row.2, start: SQLiteHubStorage.date(row.3),
                        end: SQLiteHubStorage.date(row.4), roster: try JSONDecoder().decode([String].self, from: row.5)),
                    row.6
                ))
        }
        return sessions
    }

    /// Adds one to a version counter and returns the new value, in one statement (two processes cannot
    /// both get the same version).
    static func bump(_ key: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> Int64 {
        try await first(
            connection, logger,
            """
            INSERT INTO meta (key, value) VALUES (\(key), 1)
            ON CONFLICT (key) DO UPDATE SET value = meta.value + 1 RETURNING value
            """, as: Int64.self) ?? 0
    }

    public func changeMark() async throws(HubError) -> String {
        try await reading { connection, logger in
            var parts: [String] = []
            for try await (key, value) in try await connection.query(
                "SELECT key, value FROM meta WHERE key IN ('gallery', 'badgeKeys', 'schedule') ORDER BY key",
                logger: logger
            ).decode((String, Int64).self) {
                parts.append("\(key)=\(value)")
            }
            return parts.joined(separator: ",")
        }
    }

    static func meta(_ key: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> Int64 {
        try await first(connection, logger, "SELECT value FROM meta WHERE key = \(key)", as: Int64.self) ?? 0
    }

    static func first<Value: PostgresDecodable & Sendable>(
        _ connection: PostgresConnection, _ logger: Logger, _ query: PostgresQuery, as type: Value.Type
    ) async throws -> Value? {
        for try await value in try await connection.query(query, logger: logger).decode(Value.self) {
            return value
        }
        return nil
    }

    static func first<A: PostgresDecodable & Sendable, B: PostgresDecodable & Sendable>(
        _ connection: PostgresConnection, _ logger: Logger, _ query: PostgresQuery, as type: (A, B).Type
    ) async throws -> (A, B)? {
        for try await value in try await connection.query(query, logger: logger).decode((A, B).self) {
            return value
        }
        return nil
    }

    static func all<Value: PostgresDecodable & Sendable>(
        _ connection: PostgresConnection, _ logger: Logger, _ query: PostgresQuery, as type: Value.Type
    ) async throws -> [Value] {
        var values: [Value] = []
        for try await value in try await connection.query(query, logger: logger).decode(Value.self) {
            values.append(value)
        }
        return values
    }

    static func exists(_ connection: PostgresConnection, _ logger: Logger, _ query: PostgresQuery) async throws
        -> Bool
    {
        try await first(connection, logger, query, as: Int32.self) != nil
    }

    static func encode(_ value: some Encodable) throws(HubError) -> Data {
        do {
            return try DeviceAPI.encoder().encode(value)
        } catch {
            throw HubError(.badRequest, "cannot encode: \(error)")
        }
    }

    /// Runs `work` in one transaction on a pooled connection; database failures become `HubError`s
    /// (a broken uniqueness or reference a conflict, anything else a storage failure, its details logged).
    @discardableResult
    func transaction<T: Sendable>(
        _ work: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws(HubError) -> T {
        let logger = logger
        busy.add(1, ordering: .relaxed)
        defer { busy.subtract(1, ordering: .relaxed) }
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await work(connection, logger)
            }
        } catch {
            throw Self.failure(error)
        }
    }

    /// Runs `work` on one connection of the pool, outside a transaction: for reports, which only read,
    /// and so save the two round trips of BEGIN and COMMIT.
    func reading<T: Sendable>(
        _ work: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws(HubError) -> T {
        let logger = logger
        busy.add(1, ordering: .relaxed)
        defer { busy.subtract(1, ordering: .relaxed) }
        do {
            return try await client.withConnection { connection in try await work(connection, logger) }
        } catch {
            throw Self.failure(error)
        }
    }

    static func failure(_ error: any Error) -> HubError {
        if let error = error as? HubError { return error }
        // A transaction's failure is the one inside it: the work's own, or COMMIT's, or BEGIN's.
        if let failed = error as? PostgresTransactionError,
            let inner = failed.closureError ?? failed.commitError ?? failed.beginError
        {
            return failure(inner)
        }
        if let error = error as? PSQLError, let state = error.serverInfo?[.sqlState],
            state == "23505" || state == "23503"
        {
            return HubError(
                .conflict, "already exists or refers to something unknown: \(error.serverInfo?[.message] ?? "")")
        }
        return HubError(.storage, "the hub's database failed: \(String(reflecting: error))")
    }

    private func execute(_ query: PostgresQuery) async throws(HubError) {
        try await transaction { connection, logger in try await connection.query(query, logger: logger) }
    }

    private func changed(_ query: PostgresQuery) async throws(HubError) -> Bool {
        try await transaction { connection, logger in try await Self.exists(connection, logger, query) }
    }

    private func strings(_ query: PostgresQuery) async throws(HubError) -> [String] {
        try await transaction { connection, logger in try await Self.all(connection, logger, query, as: String.self) }
    }
}

/// A value `PostgresHubStorage.insert` can bind: the column types the hub's tables use.
protocol PostgresBindable {
    func bind(into bindings: inout PostgresBindings)
}

extension String: PostgresBindable {
    func bind(into bindings: inout PostgresBindings) { bindings.append(self) }
}

extension Int64: PostgresBindable {
    func bind(into bindings: inout PostgresBindings) { bindings.append(self) }
}

extension Int: PostgresBindable {
    func bind(into bindings: inout PostgresBindings) { bindings.append(self) }
}

extension Double: PostgresBindable {
    func bind(into bindings: inout PostgresBindings) { bindings.append(self) }
}

extension ByteBuffer: PostgresBindable {
    func bind(into bindings: inout PostgresBindings) { bindings.append(self) }
}

extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    func bind(into bindings: inout PostgresBindings) {
        if let value = self { value.bind(into: &bindings) } else { bindings.appendNull() }
    }
}

/// Opening the hub's store as `rollcall-hub` takes it: a file path is SQLite, a `postgres://` URL PostgreSQL.
public enum HubStores {
    /// The store `db` names, its people's records sealed with the data key: `dataKeyFile`,
    /// `$ROLLCALL_HUB_DATA_KEY_FILE` or the systemd credential `data-key`; for SQLite, without those,
    /// `<db>.key` beside the file (made on first use). PostgreSQL needs the key given: every hub process
    /// of a district must use the same one, and there is no file to put it beside.
    public static func open(
        _ db: String, dataKeyFile: String?, environment: [String: String],
        ingestLimits: IngestRules.Limits = .standard, maximumConnections: Int = 20
    ) async throws(HubError) -> any HubStorage {
        guard PostgresHubStorage.isURL(db) else {
            guard FileManager.default.fileExists(atPath: db) else {
                throw HubError(.notFound, "\(db) does not exist (--db)")
            }
            let sealer = try PersonSealer.load(file: dataKeyFile, database: db, environment: environment)
            return try SQLiteHubStorage(path: db, ingestLimits: ingestLimits, sealer: sealer)
        }
        return try await PostgresHubStorage.open(
            url: db, ingestLimits: ingestLimits, sealer: try postgresSealer(dataKeyFile, environment),
            maximumConnections: maximumConnections)
    }

    /// The data key of a PostgreSQL hub, which must be given.
    public static func postgresSealer(_ file: String?, _ environment: [String: String]) throws(HubError)
        -> PersonSealer
    {
        let credential = environment["CREDENTIALS_DIRECTORY"].map { $0 + "/data-key" }
        guard
            file != nil || environment["ROLLCALL_HUB_DATA_KEY_FILE"] != nil
                || credential.map({ FileManager.default.fileExists(atPath: $0) }) == true
        else {
            throw HubError(
                .badRequest,
                "a PostgreSQL hub needs its data key: --data-key-file FILE, $ROLLCALL_HUB_DATA_KEY_FILE or the "
                    + "systemd credential data-key (32 bytes: head -c 32 /dev/urandom > FILE; the same file for "
                    + "every hub process)")
        }
        return try PersonSealer.load(file: file, database: "", environment: environment)
    }
}
