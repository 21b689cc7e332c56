import Attendance
public import Foundation

/// How a message leaves the hub.
public enum NotificationChannel: String, Sendable, Codable, CaseIterable {
    /// Through the system's `sendmail` interface (postfix, msmtp...).
    case email
    /// A signed POST to the school's messaging system.
    case webhook
}

/// A message to send, as the notifier makes it. `key` makes it once only: a second message with the same
/// key (the same student, day, channel and recipient) is not queued.
public struct OutgoingMessage: Sendable, Equatable, Codable {
    public var key: String
    /// `absence`.
    public var kind: String
    public var channel: NotificationChannel
    public var person: String
    public var session: String
    /// An email address, or the webhook's URL.
    public var recipient: String
    public var subject: String
    /// The email's text, or the webhook's JSON.
    public var body: String

    public init(
        key: String, kind: String, channel: NotificationChannel, person: String, session: String, recipient: String,
        subject: String, body: String
    ) {
        self.key = key
        self.kind = kind
        self.channel = channel
        self.person = person
        self.session = session
        self.recipient = recipient
        self.subject = subject
        self.body = body
    }
}

/// A queued message with its place in the outbox.
public struct QueuedMessage: Sendable, Equatable {
    public var id: Int64
    public var message: OutgoingMessage
    public var attempts: Int
    public var createdAt: Date
    /// When it was sent; nil while it waits (or after it was given up).
    public var sentAt: Date?
    public var lastError: String?
    /// Given up after retrying for a day.
    public var failed: Bool
}

/// The hub's outbox of messages to guardians, and the guardians' addresses. Durable: a message is queued in
/// the database before anything is sent, claimed for a while by one hub process at a time, and marked sent
/// only after the mail system or the webhook took it.
public protocol NotificationStorage: Sendable {
    /// Replaces a person's guardian email addresses (sealed at rest like their name).
    func setGuardianContacts(person: String, emails: [String]) async throws(HubError)
    /// A person's guardian email addresses.
    func guardianContacts(person: String) async throws(HubError) -> [String]
    /// Queues messages; those whose key is already queued (or was sent) are left out. Returns how many
    /// were queued.
    @discardableResult
    func enqueue(_ messages: [OutgoingMessage], at: Date) async throws(HubError) -> Int
    /// Up to `limit` messages due at `now`, each claimed for `lease` seconds so that no other hub process
    /// sends it meanwhile.
    func claimMessages(now: Date, lease: TimeInterval, limit: Int) async throws(HubError) -> [QueuedMessage]
    /// The message was taken by the mail system or the webhook.
    func markSent(_ id: Int64, at: Date) async throws(HubError)
    /// The message could not be sent: tried again at `retryAt`, or given up when it is nil.
    func markFailed(_ id: Int64, error: String, retryAt: Date?) async throws(HubError)
    /// The messages about `person`, oldest first (nil: every message, newest 500).
    func messages(person: String?) async throws(HubError) -> [QueuedMessage]
}

extension QueuedMessage {
    /// One line for the subject-access export.
    public var summary: String {
        "\(message.kind) by \(message.channel.rawValue) to \(message.recipient) about \(message.session), queued "
            + ISO8601Time.format(createdAt)
            + (sentAt.map { ", sent " + ISO8601Time.format($0) } ?? (failed ? ", given up" : ", not sent yet"))
    }
}

extension OutgoingMessage {
    /// An email address as the hub takes it: one `@`, no spaces or control characters, no header tricks.
    public static func isEmailAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return text.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
            && text.unicodeScalars.allSatisfy {
                $0.value > 0x20 && $0.value < 0x7f && !"<>,;:\"()[]\\".unicodeScalars.contains($0)
            }
    }
}
