public import Foundation

/// What a person signed in to the web app may do, as the seeds define the roles.
public enum StaffRole: String, Sendable, Codable, CaseIterable {
    /// All of the school, and every account (superadmins included).
    case superadmin
    /// All of the school, and the accounts of everyone but superadmins.
    case secretary
    /// All of the school's attendance (read, roll call, corrections); no accounts.
    case assistant
    /// The sessions they teach (the timetable's `teacher` column) and those sessions' groups.
    case teacher
    /// The groups of their cohorts (the account's groups): reports and flags.
    case mentor
    /// Their own record and schedule only (the account's person).
    case student
    /// Their own visits and hours only (the account's person).
    case volunteer

    /// Whether the role sees the whole school's attendance.
    public var seesWholeSchool: Bool { self == .superadmin || self == .secretary || self == .assistant }

    /// Whether the role may create and change accounts (a secretary: not superadmins).
    public var managesAccounts: Bool { self == .superadmin || self == .secretary }

    /// Whether the account is bound to one person of the gallery and sees only that person's records.
    public var isSelfOnly: Bool { self == .student || self == .volunteer }
}

/// A web account. The password is kept only as a bcrypt hash, and never in this value.
public struct Account: Sendable, Equatable, Codable {
    /// Sign-in name: 3 to 64 of a–z, 0–9, `.`, `-`, `_` (kept in lower case).
    public var username: String
    public var role: StaffRole
    /// Shown on pages ("Ms Lovelace").
    public var name: String
    /// The gallery person this account is (required for students and volunteers: their records).
    public var person: String?
    /// The groups a mentor follows (cohorts); a teacher's groups also come from the timetable.
    public var groups: [String]
    /// A disabled account cannot sign in, and its sessions end.
    public var disabled: Bool
    /// Where the hub writes to the account's holder: a teacher's pastoral alerts (three absences in a row
    /// of a student they teach). Nil: no messages.
    public var email: String?

    public init(
        username: String, role: StaffRole, name: String, person: String? = nil, groups: [String] = [],
        disabled: Bool = false, email: String? = nil
    ) {
        self.username = username
        self.role = role
        self.name = name
        self.person = person
        self.groups = groups
        self.disabled = disabled
        self.email = email
    }

    /// Checks the fields a new account must have; throws a message for the person making it.
    public func validate() throws(HubError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-_")
        guard (3...64).contains(username.count), username.allSatisfy({ allowed.contains($0) }) else {
            throw HubError(
                .badRequest, "a username is 3 to 64 lower-case letters, digits, dots, dashes or underscores")
        }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= 120 else {
            throw HubError(.badRequest, "give the account's name (at most 120 characters)")
        }
        if role.isSelfOnly {
            guard let person, !person.isEmpty else {
                throw HubError(.badRequest, "a \(role.rawValue) account needs the person it is (their gallery id)")
            }
        }
        guard (person ?? "").count <= 128, groups.count <= 100, groups.allSatisfy({ (1...64).contains($0.count) })
        else {
            throw HubError(.badRequest, "person ids are at most 128 characters; at most 100 groups of 64")
        }
        if let email, !OutgoingMessage.isEmailAddress(email) {
            throw HubError(.badRequest, "not an email address: \(email.prefix(80))")
        }
    }

    /// Checks a new password: bcrypt reads at most 72 bytes, so a longer one is refused rather than cut.
    public static func validatePassword(_ password: String) throws(HubError) {
        guard password.count >= 10 else {
            throw HubError(.badRequest, "a password has at least 10 characters")
        }
        guard password.utf8.count <= 72 else {
            throw HubError(.badRequest, "a password has at most 72 bytes (bcrypt reads no more)")
        }
    }
}

/// A signed-in browser. The cookie holds a random id; the store keeps only its SHA-256.
public struct WebSession: Sendable, Equatable, Codable {
    public var username: String
    /// The token every form of this session must send back (CSRF).
    public var csrf: String
    public var createdAt: Date
    public var expiresAt: Date

    public init(username: String, csrf: String, createdAt: Date, expiresAt: Date) {
        self.username = username
        self.csrf = csrf
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// One line of the audit trail: who did or viewed what, when, from where. Append-only.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var at: Date
    /// `user:<username>`, `token:<token id>`, `device:<id>`, or `cli`.
    public var actor: String
    /// `view`, `change`, `sign-in`, `sign-in-refused`, `sign-out`, `password`, `account`...
    public var action: String
    /// What was viewed or changed: `session:<id>`, `group:<id>`, `person:<id>`, `account:<username>`.
    public var subject: String
    public var detail: String
    /// The client's address as the hub saw it (behind a proxy, the proxy's `X-Forwarded-For`).
    public var address: String

    public init(at: Date, actor: String, action: String, subject: String, detail: String = "", address: String = "") {
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.detail = detail
        self.address = address
    }
}

/// The web app's accounts, signed-in sessions, sign-in throttling, teaching links and audit trail.
public protocol AccountStorage: Sendable {
    /// Adds an account with its bcrypt hash; a conflict when the username is taken.
    func addAccount(_ account: Account, passwordHash: String) async throws(HubError)
    /// An account and its password hash.
    func credentials(username: String) async throws(HubError) -> (account: Account, passwordHash: String)?
    /// Every account, by username.
    func accounts() async throws(HubError) -> [Account]
    /// Replaces an account's password hash; false when there is no such account.
    func setPasswordHash(username: String, hash: String) async throws(HubError) -> Bool
    /// Disables or enables an account (a disabled one's sessions are ended); false when there is none.
    func setDisabled(username: String, disabled: Bool) async throws(HubError) -> Bool
    /// Sets or clears (nil) an account's email address; false if there is no such account.
    func setEmail(username: String, email: String?) async throws(HubError) -> Bool

    /// Keeps a new signed-in session under the digest of its cookie.
    func addWebSession(digest: String, session: WebSession) async throws(HubError)
    /// The session with this digest, if it has not expired at `now`.
    func webSession(digest: String, now: Date) async throws(HubError) -> WebSession?
    /// Ends one session.
    func removeWebSession(digest: String) async throws(HubError)
    /// Ends every session of an account but `keeping` (a password change signs out the other browsers).
    func removeWebSessions(username: String, keeping: String?) async throws(HubError)

    /// Counts a failed sign-in under `key` (a username and address, or an address).
    func recordSigninFailure(key: String, at: Date) async throws(HubError)
    /// How many failures under `key` since `since`.
    func signinFailures(key: String, since: Date) async throws(HubError) -> Int
    /// Forgets the failures under `key` (after a successful sign-in).
    func clearSigninFailures(key: String) async throws(HubError)

    /// Replaces who teaches a session (as the timetable's `teacher` column does); not found when there
    /// is no such session.
    func setTeachers(session: String, usernames: [String]) async throws(HubError)
    /// Whether `username` teaches `session` (the timetable's `teacher` column).
    func teaches(username: String, session: String) async throws(HubError) -> Bool
    /// The accounts that teach `session` (enabled ones only), by username.
    func teachers(session: String) async throws(HubError) -> [Account]
    /// Whether `username` teaches any session of `group`.
    func teachesGroup(username: String, group: String) async throws(HubError) -> Bool
    /// The group of a session; nil when there is no such session.
    func sessionGroup(_ session: String) async throws(HubError) -> String?

    /// Appends to the audit trail (nothing ever changes a line once written).
    func appendAudit(_ entry: AuditEntry) async throws(HubError)
    /// The audit lines in [from, to), oldest first, at most `limit`.
    func auditEntries(from: Date, to: Date, limit: Int) async throws(HubError) -> [AuditEntry]
    /// Deletes the audit lines older than `before` (the retention period); returns how many.
    func pruneAudit(before: Date) async throws(HubError) -> Int
}
