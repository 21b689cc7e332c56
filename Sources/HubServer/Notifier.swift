import AsyncHTTPClient
import Attendance
import Crypto
public import Foundation
public import Hub
public import Logging
import NIOCore
import NIOHTTP1
import SyncProtocol
import Synchronization

/// Where absence messages go and when: the settings of `rollcall-hub serve`'s notification options.
public struct NotificationSettings: Sendable {
    /// A student on a session's roster not checked in this long after its start (and not excused) is
    /// reported to their guardians.
    public var absenceAfter: TimeInterval = 20 * 60
    /// How often the sessions are looked at (and the outbox at most every 10 s).
    public var scanInterval: TimeInterval = 60
    /// The `sendmail` command line (program and arguments; the recipients are read from the message's
    /// headers, `-t`), e.g. `/usr/sbin/sendmail -i -t`; nil: no email.
    public var sendmail: [String]?
    /// The sender's address.
    public var mailFrom = "rollcall@localhost"
    /// The school's messaging system; nil: no webhook.
    public var webhookURL: String?
    /// The webhook's HMAC-SHA256 key.
    public var webhookSecret: Data?
    /// Messages not sent within this long are given up (and logged).
    public var giveUpAfter: TimeInterval = 86_400
    /// A student absent (not excused) from this many of their sessions in a row is reported to the teachers
    /// of the last one (their accounts' email addresses); 0: no pastoral alerts.
    public var pastoralAfter = 3

    public init() {}

    /// Whether anything is to be sent at all.
    public var enabled: Bool { sendmail != nil || webhookURL != nil }
}

/// Absence messages to guardians, through an outbox on the hub: every `scanInterval` the sessions that
/// started `absenceAfter` ago (up to 8 hours back) are read, each student on the roster who is pending or
/// absent (not present, late or excused) gets one message per guardian address and per day (the outbox's
/// key), and the outbox is sent: `sendmail` for email, an HMAC-signed POST for the webhook, retried with
/// backoff (1 minute doubling to an hour) for a day. Several hub processes may run it at once: the key
/// queues a message once, a claim sends it from one process.
///
/// Pastoral alerts: when a session has closed, each student on its roster who was absent (not excused) is
/// looked at once: if this is their `pastoralAfter`-th absence in a row (their sessions of the last 60 days,
/// any group), the teachers of this session who have an email address get one message for the run of
/// absences (keyed by its first session, so a fourth absence sends nothing new; a check-in ends the run).
public final class Notifier: Sendable {
    let storage: any HubStorage
    let settings: NotificationSettings
    let logger: Logger
    /// The closed sessions' absences already looked at by this process (`person` and `session`).
    let looked = Mutex<Set<String>>([])

    public init(storage: any HubStorage, settings: NotificationSettings, logger: Logger) {
        self.storage = storage
        self.settings = settings
        self.logger = logger
    }

    /// Scans and sends until cancelled.
    public func run() async {
        var nextScan = Date()
        while !Task.isCancelled {
            if Date() >= nextScan {
                nextScan = Date() + settings.scanInterval
                do {
                    let queued = try await scan(now: Date())
                    if queued > 0 {
                        logger.info("notifications: \(queued) messages queued (absences, pastoral alerts)")
                    }
                } catch {
                    logger.error("notifications: cannot read the sessions: \(error)")
                }
            }
            await deliver(now: Date())
            try? await Task.sleep(for: .seconds(min(settings.scanInterval, 10)))
        }
    }

    /// Queues the absence messages due at `now`; returns how many were new.
    @discardableResult
    public func scan(now: Date) async throws(HubError) -> Int {
        let earliest = now - 8 * 3600
        let sessions = try await storage.sessions(from: earliest, to: now, teacher: nil, groups: nil, limit: 10_000)
        var zones: [String: TimeZone] = [:]
        var messages: [OutgoingMessage] = []
        for summary in sessions {
            let session = summary.session
            guard session.start >= earliest, session.start + settings.absenceAfter <= now else { continue }
            let report = try await storage.sessionReport(session.id, now: now)
            let missing = report.lines.filter { $0.onRoster && ($0.outcome == .pending || $0.outcome == .absent) }
            guard !missing.isEmpty else { continue }
            let zone = try await zone(session.room, now: now, zones: &zones)
            for line in missing {
                let absence = Absence(
                    person: line.person, name: line.name ?? line.person, session: session.id,
                    className: report.className, group: session.group, room: session.room, start: session.start,
                    zone: zone)
                if settings.sendmail != nil {
                    for address in try await storage.guardianContacts(person: line.person) {
                        messages.append(absence.email(to: address))
                    }
                }
                if let url = settings.webhookURL { messages.append(absence.webhook(to: url)) }
            }
        }
        if settings.sendmail != nil, settings.pastoralAfter > 0 {
            messages += try await pastoralAlerts(now: now, zones: &zones)
        }
        return messages.isEmpty ? 0 : try await storage.enqueue(messages, at: now)
    }

    /// The pastoral alerts due for the sessions that closed in the last 8 hours.
    func pastoralAlerts(now: Date, zones: inout [String: TimeZone]) async throws(HubError) -> [OutgoingMessage] {
        let earliest = now - 8 * 3600
        let closed = try await storage.sessions(from: earliest, to: now, teacher: nil, groups: nil, limit: 10_000)
            .map(\.session).filter { $0.end <= now && $0.end >= earliest }
        var reports: [String: SessionReport] = [:]
        func report(_ session: String) async throws(HubError) -> SessionReport {
            if let known = reports[session] { return known }
            let made = try await storage.sessionReport(session, now: now)
            reports[session] = made
            return made
        }
        var messages: [OutgoingMessage] = []
        for session in closed {
            let absent = try await report(session.id).lines.filter { $0.onRoster && $0.outcome == .absent }
            for line in absent {
                let key = "\(line.person)\u{1f}\(session.id)"
                guard !looked.withLock({ $0.contains(key) }) else { continue }
                // The run of absences that ends with this session: back through the student's sessions.
                let history = try await storage.sessions(
                    of: line.person, from: session.end - 60 * 86_400, to: session.end, limit: 10_000
                ).map(\.session).filter { $0.end <= session.end }.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
                var run: [Session] = []
                for earlier in history.reversed() {
                    let outcome = try await report(earlier.id).lines.first { $0.person == line.person }?.outcome
                    guard outcome == .absent else { break }
                    run.insert(earlier, at: 0)
                }
                if run.count >= settings.pastoralAfter, let first = run.first {
                    let teachers = try await storage.teachers(session: session.id).filter { $0.email != nil }
                    if teachers.isEmpty {
                        logger.warning(
                            "notifications: \(run.count) absences in a row, and no teacher of the session has an email",
                            metadata: ["person": "\(line.person)", "session": "\(session.id)"])
                    }
                    var absences: [Absence] = []
                    for missed in run {
                        absences.append(
                            Absence(
                                person: line.person, name: line.name ?? line.person, session: missed.id,
                                className: try await report(missed.id).className, group: missed.group,
                                room: missed.room, start: missed.start,
                                zone: try await zone(missed.room, now: now, zones: &zones)))
                    }
                    for teacher in teachers {
                        guard let address = teacher.email else { continue }
                        messages.append(
                            Absence.pastoral(absences, to: address, teacher: teacher.name, first: first.id))
                    }
                }
                looked.withLock { seen in
                    if seen.count > 100_000 { seen.removeAll() }
                    seen.insert(key)
                }
            }
        }
        return messages
    }

    func zone(_ room: String, now: Date, zones: inout [String: TimeZone]) async throws(HubError) -> TimeZone {
        if let known = zones[room] { return known }
        let timezone = try await storage.manifest(room: room, now: now).schedule.timezone
        let made = timezone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC") ?? .current
        zones[room] = made
        return made
    }

    /// Sends what is due in the outbox.
    public func deliver(now: Date) async {
        let due: [QueuedMessage]
        do {
            due = try await storage.claimMessages(now: now, lease: 120, limit: 100)
        } catch {
            logger.error("notifications: cannot read the outbox: \(error)")
            return
        }
        for queued in due {
            let problem: String?
            switch queued.message.channel {
            case .email: problem = await sendEmail(queued.message)
            case .webhook: problem = await post(queued.message)
            }
            do {
                if let problem {
                    let delay = min(3600, 60 * pow(2, Double(queued.attempts)))
                    let retry = Date() + delay
                    let givenUp = retry > queued.createdAt + settings.giveUpAfter
                    try await storage.markFailed(queued.id, error: problem, retryAt: givenUp ? nil : retry)
                    let metadata: Logger.Metadata = [
                        "person": "\(queued.message.person)", "channel": "\(queued.message.channel.rawValue)",
                        "attempt": "\(queued.attempts + 1)",
                    ]
                    if givenUp {
                        logger.error("notifications: message given up: \(problem)", metadata: metadata)
                    } else {
                        logger.warning(
                            "notifications: not sent, again in \(Int(delay)) s: \(problem)", metadata: metadata)
                    }
                } else {
                    try await storage.markSent(queued.id, at: Date())
                    logger.info(
                        "notifications: \(queued.message.kind) message sent",
                        metadata: [
                            "person": "\(queued.message.person)", "session": "\(queued.message.session)",
                            "channel": "\(queued.message.channel.rawValue)",
                        ])
                }
            } catch {
                logger.error("notifications: cannot note the outcome: \(error)")
            }
        }
    }

    /// Hands the message to `sendmail`; nil when it took it (exit status 0).
    func sendEmail(_ message: OutgoingMessage) async -> String? {
        guard let command = settings.sendmail, let program = command.first else { return "no sendmail command" }
        let text = Absence.mailText(message, from: settings.mailFrom)
        return await withCheckedContinuation { continuation in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(command.dropFirst())
            let input = Pipe()
            let errors = Pipe()
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            process.terminationHandler = { finished in
                let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                continuation.resume(
                    returning: finished.terminationStatus == 0
                        ? nil
                        : "sendmail exited with \(finished.terminationStatus): \(said.prefix(300))")
            }
            do {
                try process.run()
                input.fileHandleForWriting.write(Data(text.utf8))
                try input.fileHandleForWriting.close()
            } catch {
                process.terminationHandler = nil
                continuation.resume(returning: "cannot run \(program): \(error)")
            }
        }
    }

    /// POSTs the message to the webhook, signed; nil when it answered 2xx.
    func post(_ message: OutgoingMessage) async -> String? {
        guard let secret = settings.webhookSecret else { return "no webhook secret" }
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let body = Data(message.body.utf8)
        let signature = HMAC<SHA256>.authenticationCode(
            for: Data((timestamp + ".").utf8) + body, using: SymmetricKey(data: secret))
        var request = HTTPClientRequest(url: message.recipient)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Rollcall-Timestamp", value: timestamp)
        request.headers.add(
            name: "X-Rollcall-Signature", value: "sha256=" + signature.map { String(format: "%02x", $0) }.joined())
        request.headers.add(name: "X-Rollcall-Delivery", value: Absence.digest(message.key))
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
            _ = try? await response.body.collect(upTo: 1 << 16)
            return (200..<300).contains(response.status.code) ? nil : "the webhook answered \(response.status.code)"
        } catch {
            return "cannot reach the webhook: \(error)"
        }
    }
}

/// One student's absence from one session, as the messages tell it: the student's own name, the session,
/// its room and time; nothing about anyone else.
struct Absence {
    var person: String
    var name: String
    var session: String
    var className: String?
    var group: String
    var room: String
    var start: Date
    var zone: TimeZone

    var day: String { format("yyyy-MM-dd") }
    var time: String { format("HH:mm") }
    var what: String { className.map { "\($0) (\(group))" } ?? group }

    func format(_ pattern: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = pattern
        return formatter.string(from: start)
    }

    func email(to address: String) -> OutgoingMessage {
        let body = """
            Dear parent or guardian,

            \(name) has not checked in to \(what) in room \(room), which began at \(time) on \(day), and the \
            school has no reason for the absence.

            If you know why, please tell the school office.

            This message was sent by the school's attendance system.
            """
        return OutgoingMessage(
            key: "absence:\(person):\(day):email:\(Self.digest(address.lowercased()))", kind: "absence",
            channel: .email, person: person, session: session, recipient: address,
            subject: "\(name) has not checked in: \(what), \(time)", body: body)
    }

    func webhook(to url: String) -> OutgoingMessage {
        struct Payload: Encodable {
            var kind = "absence"
            var person: String
            var name: String
            var session: String
            var className: String?
            var group: String
            var room: String
            var start: String
            var day: String
            enum CodingKeys: String, CodingKey {
                case kind, person, name, session, group, room, start, day
                case className = "class"
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let payload = Payload(
            person: person, name: name, session: session, className: className, group: group, room: room,
            start: ISO8601Time.format(start), day: day)
        let body = (try? encoder.encode(payload)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return OutgoingMessage(
            key: "absence:\(person):\(day):webhook", kind: "absence", channel: .webhook, person: person,
            session: session, recipient: url, subject: "absence", body: body)
    }

    /// The pastoral alert to a teacher: the student's run of absences (`absences`, oldest first), keyed by
    /// the run's first session and the address.
    static func pastoral(_ absences: [Absence], to address: String, teacher: String, first: String) -> OutgoingMessage {
        let last = absences[absences.count - 1]
        let lines = absences.map { "- \($0.what), room \($0.room), \($0.day) at \($0.time)" }.joined(separator: "\n")
        let body = """
            Dear \(teacher),

            \(last.name) has been absent, with no reason given to the school, from \(absences.count) sessions in \
            a row:

            \(lines)

            You receive this because you teach \(last.what). Please check in with \(last.name) or their mentor.

            This message was sent by the school's attendance system.
            """
        return OutgoingMessage(
            key: "pastoral:\(last.person):\(first):email:\(digest(address.lowercased()))", kind: "pastoral",
            channel: .email, person: last.person, session: last.session, recipient: address,
            subject: "\(last.name): \(absences.count) absences in a row", body: body)
    }

    static func digest(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    /// The message as `sendmail -t` reads it: headers (the subject encoded when it is not ASCII, no line
    /// breaks from a name), a blank line, the text.
    static func mailText(_ message: OutgoingMessage, from sender: String) -> String {
        let subject = message.subject.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }
            .map(String.init).joined()
        let encodedSubject =
            subject.allSatisfy(\.isASCII) ? subject : "=?UTF-8?B?\(Data(subject.utf8).base64EncodedString())?="
        let date = DateFormatter()
        date.locale = Locale(identifier: "en_US_POSIX")
        date.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return [
            "From: \(sender)", "To: \(message.recipient)", "Subject: \(encodedSubject)",
            "Date: \(date.string(from: Date()))",
            "Message-ID: <\(digest(message.key))@rollcall>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", message.body, "",
        ].joined(separator: "\r\n")
    }
}
