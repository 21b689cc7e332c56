import ArgumentParser
import Foundation
import Hub
import HubServer
import Hummingbird
import Logging
import Recognition

/// `rollcall-hub`: the reference central server.
@main
struct HubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollcall-hub",
        abstract: "The central server rollcall devices sync with.",
        subcommands: [
            Serve.self, EnrollCommand.self, ImportCommand.self, ReportCommand.self, FlagCommand.self,
            ExcuseCommand.self, RetentionCommand.self,
            TokenCommand.self, AccountCommand.self, ExportPersonCommand.self, DeviceCommand.self, BadgeKeyCommand.self,
            MigrateCommand.self,
            BackupCommand.self,
            CopyCommand.self, SeedCommand.self, BenchCommand.self,
        ]
    )
}

/// `rollcall-hub serve`: the device API (and the admin API with a token) over a SQLite store.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the device API over HTTP (plain HTTP only on loopback; put TLS in front otherwise).",
        discussion: """
            Prints one line `rollcall-hub listening on http://HOST:PORT` once it accepts connections (with \
            --port 0 the system picks the port). Stops cleanly on SIGTERM or SIGINT.
            """
    )

    @Option(
        help: ArgumentHelp(
            "The hub's database: a SQLite file (created when missing), or a PostgreSQL database as "
                + "postgres://USER@HOST[:PORT]/DATABASE (?host=/socket/folder for a Unix socket, ?sslmode=require; "
                + "the password from $PGPASSWORD), shared by any number of hub processes.",
            valueName: "file|url"))
    var db = "rollcall-hub.sqlite"

    @Option(help: ArgumentHelp("PostgreSQL connections this process may open at once.", valueName: "count"))
    var poolSize = 20

    @Option(
        help: ArgumentHelp(
            "Reports this process computes at once; more wait their turn, so that doors are not kept waiting "
                + "behind them (the device API never waits for reports).", valueName: "count"))
    var reportConcurrency = 4

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port).")
    var port = 8080

    @Option(
        help: ArgumentHelp(
            "File holding the admin API's bearer token, one line of at least 32 characters, readable by the hub's "
                + "user only (or $ROLLCALL_HUB_ADMIN_TOKEN_FILE, or the systemd credential admin-token); "
                + "without one the admin API is off.",
            valueName: "file"))
    var adminTokenFile: String?

    @Option(
        help: ArgumentHelp(
            "File holding the 32-byte key that seals the people's records (names, templates) in the database "
                + "(or $ROLLCALL_HUB_DATA_KEY_FILE, or the systemd credential data-key); without one, "
                + "<db>.key beside the database, made on first use.",
            valueName: "file"))
    var dataKeyFile: String?

    @Option(
        help: ArgumentHelp(
            "How many days after its time an event from a door is still taken (a door keeps its events while "
                + "the hub cannot be reached); older ones are refused. 1 to 3650.",
            valueName: "days"))
    var maxEventAgeDays = 30

    @Option(
        help: ArgumentHelp(
            "Seconds after which an idle connection, or a request not fully received, is closed. 1 to 60.",
            valueName: "seconds"))
    var idleTimeoutSeconds = 60

    @Option(help: ArgumentHelp("Connections open at once; more wait until one closes.", valueName: "count"))
    var maxConnections = 512

    @Option(
        help: ArgumentHelp(
            "Requests per second each bearer token may make on average (more: 429 with Retry-After).",
            valueName: "rate"))
    var rateLimit = 20.0

    @Option(help: ArgumentHelp("Requests a token may make at once before --rate-limit applies.", valueName: "count"))
    var rateBurst = 100

    /// Refused with the reason: a token on the command line shows in `ps`.
    @Option(
        help: ArgumentHelp(
            "How log lines are written to standard error: text (for the journal) or json (one object a line, "
                + "for a log collector).", valueName: "text|json"))
    var logFormat = "text"

    @Option(help: .hidden) var adminToken: String?

    @Option(
        help: ArgumentHelp(
            "Days the audit trail (who viewed and changed what) is kept; older entries are deleted daily. "
                + "30 to 36500.", valueName: "days"))
    var auditRetentionDays = 730

    @Option(help: ArgumentHelp("Hours a web sign-in lasts. 1 to 168.", valueName: "hours"))
    var sessionHours = 12

    @Option(
        help: ArgumentHelp(
            "Days after which the face templates of someone on no session's roster (and let into no room) are "
                + "erased, daily. 1 to 3650.", valueName: "days"))
    var templateRetentionDays = 60

    @Option(
        help: ArgumentHelp(
            "Days the doors' raw events are kept (the attendance records made from them stay), daily. 30 to 36500.",
            valueName: "days"))
    var eventRetentionDays = 400

    @Option(
        help: ArgumentHelp(
            "Minutes after a session's start when a student on its roster who has not checked in (and is not "
                + "excused) is reported to their guardians. 1 to 240.", valueName: "minutes"))
    var absenceAfterMinutes = 20

    @Option(
        help: ArgumentHelp(
            "Absences in a row (not excused) after which a student's teachers get a pastoral alert by email "
                + "(their accounts' addresses; needs --sendmail). 0 turns them off; 2 to 20.", valueName: "count"))
    var pastoralAfter = 3

    @Flag(
        help: ArgumentHelp(
            "Template refresh: the doors offer the encodings of their surest face check-ins, and the hub adds one "
                + "to a person when every guard holds (at most 3 added per person, one a week, near the enrolled "
                + "templates and far from everyone else; README, \"Template refresh\"). Off by default."))
    var templateRefresh = false

    @Option(
        help: ArgumentHelp(
            "The sendmail command that takes absence emails, recipients from the headers (e.g. "
                + "\"/usr/sbin/sendmail -i -t\", or msmtp's); without it, no email.", valueName: "command"))
    var sendmail: String?

    @Option(help: ArgumentHelp("The absence emails' sender address.", valueName: "address"))
    var mailFrom = "rollcall@localhost"

    @Option(
        help: ArgumentHelp(
            "The school's messaging system: absences are POSTed there as JSON, signed with HMAC-SHA256 "
                + "(https, or http to this machine only).", valueName: "url"))
    var webhookUrl: String?

    @Option(help: ArgumentHelp("The webhook's signing key, in a file only the hub's user can read.", valueName: "file"))
    var webhookSecretFile: String?

    @Option(help: ArgumentHelp("Seconds between looks for absences to report. 1 to 600.", valueName: "seconds"))
    var notifyScanSeconds = 60

    @Option(
        help: ArgumentHelp(
            "The folder of the face models, for enrollment from photos in the web app (default: as rollcall "
                + "finds them: $ROLLCALL_MODELS, beside the program, /usr/share/rollcall/models).", valueName: "dir"))
    var models: String?

    func validate() throws {
        guard (1...3650).contains(maxEventAgeDays) else {
            throw ValidationError("--max-event-age-days \(maxEventAgeDays) is out of range: give 1 to 3650")
        }
        guard (1...60).contains(idleTimeoutSeconds) else {
            throw ValidationError("--idle-timeout-seconds \(idleTimeoutSeconds) is out of range: give 1 to 60")
        }
        guard (1...100_000).contains(maxConnections) else {
            throw ValidationError("--max-connections \(maxConnections) is out of range: give 1 to 100000")
        }
        guard rateLimit.isFinite, rateLimit > 0, rateLimit <= 100_000 else {
            throw ValidationError("--rate-limit \(rateLimit) is out of range: give more than 0, at most 100000")
        }
        guard (1...1000).contains(poolSize) else {
            throw ValidationError("--pool-size \(poolSize) is out of range: give 1 to 1000")
        }
        guard ["text", "json"].contains(logFormat) else {
            throw ValidationError("--log-format is text or json, not \(logFormat)")
        }
        guard (1...1000).contains(reportConcurrency) else {
            throw ValidationError("--report-concurrency \(reportConcurrency) is out of range: give 1 to 1000")
        }
        guard (30...36_500).contains(auditRetentionDays) else {
            throw ValidationError("--audit-retention-days \(auditRetentionDays) is out of range: give 30 to 36500")
        }
        guard (1...168).contains(sessionHours) else {
            throw ValidationError("--session-hours \(sessionHours) is out of range: give 1 to 168")
        }
        guard (1...100_000).contains(rateBurst) else {
            throw ValidationError("--rate-burst \(rateBurst) is out of range: give 1 to 100000")
        }
        guard (1...3650).contains(templateRetentionDays) else {
            throw ValidationError("--template-retention-days \(templateRetentionDays) is out of range: give 1 to 3650")
        }
        guard (30...36_500).contains(eventRetentionDays) else {
            throw ValidationError("--event-retention-days \(eventRetentionDays) is out of range: give 30 to 36500")
        }
        guard (1...240).contains(absenceAfterMinutes) else {
            throw ValidationError("--absence-after-minutes \(absenceAfterMinutes) is out of range: give 1 to 240")
        }
        guard pastoralAfter == 0 || (2...20).contains(pastoralAfter) else {
            throw ValidationError("--pastoral-after \(pastoralAfter) is out of range: give 0 (off) or 2 to 20")
        }
        guard (1...600).contains(notifyScanSeconds) else {
            throw ValidationError("--notify-scan-seconds \(notifyScanSeconds) is out of range: give 1 to 600")
        }
        if let sendmail {
            guard let program = sendmail.split(separator: " ").first, program.hasPrefix("/") else {
                throw ValidationError(
                    "--sendmail starts with the program's absolute path, e.g. /usr/sbin/sendmail -i -t")
            }
        }
        guard OutgoingMessage.isEmailAddress(mailFrom) || mailFrom.hasSuffix("@localhost") else {
            throw ValidationError("--mail-from is an email address, not \(mailFrom)")
        }
        if let webhookUrl {
            guard let url = URL(string: webhookUrl), let host = url.host,
                url.scheme == "https" || (url.scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(host))
            else {
                throw ValidationError("--webhook-url is https (plain http only to this machine), not \(webhookUrl)")
            }
            guard webhookSecretFile != nil else {
                throw ValidationError("--webhook-url needs --webhook-secret-file: the key its messages are signed with")
            }
        }
    }

    func run() async throws {
        if logFormat == "json" { LoggingSystem.bootstrap { JSONLogHandler(label: $0) } }
        if adminToken != nil {
            FileHandle.standardError.write(
                Data(
                    ("rollcall-hub: --admin-token is not accepted (a token on the command line shows in ps): "
                        + "put it in a file only the hub's user can read and give --admin-token-file FILE\n").utf8))
            throw ExitCode(78)
        }
        let token: String?
        do {
            token = try AdminToken.load(file: adminTokenFile, environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("rollcall-hub: \(error)\n".utf8))
            throw ExitCode(78)
        }
        let storage: any HubStorage
        let limits = IngestRules.Limits(maximumDelay: Double(maxEventAgeDays) * 86_400)
        let environment = ProcessInfo.processInfo.environment
        do {
            if PostgresHubStorage.isURL(db) {
                storage = try await HubStores.open(
                    db, dataKeyFile: dataKeyFile, environment: environment, ingestLimits: limits,
                    maximumConnections: poolSize)
            } else {
                let sealer = try PersonSealer.load(file: dataKeyFile, database: db, environment: environment)
                storage = try SQLiteHubStorage(path: db, ingestLimits: limits, sealer: sealer)
            }
        } catch {
            FileHandle.standardError.write(Data("rollcall-hub: \(error)\n".utf8))
            throw ExitCode(error.code == .badRequest ? 78 : 69)
        }
        var configuration = HubServerConfiguration(adminToken: token)
        configuration.limits = ServeLimits(
            idleTimeout: .seconds(idleTimeoutSeconds), maximumConnections: maxConnections, requestsPerSecond: rateLimit,
            burst: Double(rateBurst))
        configuration.reportAdmission = ReportAdmission(limit: reportConcurrency)
        configuration.templateRefresh = templateRefresh ? .standard : nil
        configuration.web.auditRetention = Double(auditRetentionDays) * 86_400
        configuration.web.sessionLifetime = Double(sessionHours) * 3600
        configuration.web.photos = HubPhotoChecker.find(explicitDirectory: models)
        if configuration.web.photos == nil {
            FileHandle.standardError.write(
                Data("rollcall-hub: no face models found: enrollment from photos in the web app is off\n".utf8))
        }
        // The audit trail's retention: old entries go now and every day after.
        let retention = configuration.web.auditRetention
        let policy = RetentionPolicy(
            templatesAfterLeavingDays: templateRetentionDays, rawEventsDays: eventRetentionDays)
        let pruning = Task {
            while !Task.isCancelled {
                do {
                    let removed = try await storage.pruneAudit(before: Date().addingTimeInterval(-retention))
                    if removed > 0 {
                        FileHandle.standardError.write(
                            Data(
                                "rollcall-hub: deleted \(removed) audit entries older than \(auditRetentionDays) days\n"
                                    .utf8))
                    }
                } catch {
                    FileHandle.standardError.write(Data("rollcall-hub: audit retention failed: \(error)\n".utf8))
                }
                // The retention rule: templates of people who left, raw events past the school's period.
                do {
                    let report = try await storage.applyRetentionAudited(
                        policy, now: Date(), dryRun: false, actor: "retention")
                    FileHandle.standardError.write(Data("rollcall-hub: retention: \(report.summary)\n".utf8))
                } catch {
                    FileHandle.standardError.write(Data("rollcall-hub: the retention rule failed: \(error)\n".utf8))
                }
                try? await Task.sleep(for: .seconds(86_400))
            }
        }
        defer { pruning.cancel() }
        // Absence messages to guardians, when email or a webhook is configured.
        var notifications = NotificationSettings()
        notifications.absenceAfter = Double(absenceAfterMinutes) * 60
        notifications.pastoralAfter = pastoralAfter
        notifications.scanInterval = Double(notifyScanSeconds)
        notifications.sendmail = sendmail.map { $0.split(separator: " ").map(String.init) }
        notifications.mailFrom = mailFrom
        notifications.webhookURL = webhookUrl
        if let webhookSecretFile {
            let attributes = try? FileManager.default.attributesOfItem(atPath: webhookSecretFile)
            let text = (try? String(contentsOfFile: webhookSecretFile, encoding: .utf8)) ?? ""
            let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
            let mode = attributes?[.posixPermissions] as? Int ?? 0
            guard attributes != nil, secret.count >= 16, mode & 0o004 == 0 else {
                FileHandle.standardError.write(
                    Data(
                        ("rollcall-hub: \(webhookSecretFile) must be readable by the hub's user only (chmod 0600) "
                            + "and hold one line of at least 16 characters\n").utf8))
                throw ExitCode(78)
            }
            notifications.webhookSecret = Data(secret.utf8)
        }
        let notifier =
            notifications.enabled
            ? Task {
                await Notifier(storage: storage, settings: notifications, logger: Logger(label: "rollcall-hub.notify"))
                    .run()
            } : nil
        defer { notifier?.cancel() }
        let router = HubServer.router(storage: storage, configuration: configuration)
        let host = self.host
        let app = HubServer.application(
            router: router, host: host, port: port, limits: configuration.limits,
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? 0
                FileHandle.standardOutput.write(Data("rollcall-hub listening on http://\(host):\(bound)\n".utf8))
            })
        try await app.runService()
    }
}
