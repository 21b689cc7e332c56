import ArgumentParser
import Foundation
import Hub
import HubServer

#if canImport(Glibc)
    import Glibc
#endif

/// `rollcall-hub account`: the web app's accounts from the command line (the first superadmin is made
/// here; then superadmins and secretaries manage accounts on the web app's Accounts page).
struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "Add, list, disable or enable web accounts, or set their passwords.",
        discussion: """
            The first superadmin is made here: rollcall-hub account add admin --role superadmin --name "..." \
            (the password is asked for, or read from --password-file or a pipe). Roles: \
            \(StaffRole.allCases.map(\.rawValue).joined(separator: ", ")). Every change is in the audit trail \
            as done by `cli`.
            """,
        subcommands: [
            AccountAdd.self, AccountList.self, AccountDisable.self, AccountEnable.self, AccountPassword.self,
            AccountEmail.self,
        ]
    )
}

/// The new password: from `file`'s first line, from standard input when it is not a terminal, or asked
/// for twice without echo.
func readPassword(file: String?) -> String {
    let password: String
    if let file {
        guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
        password =
            String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .first.map(String.init) ?? ""
    } else if isatty(0) == 0 {
        password = readLine(strippingNewline: true) ?? ""
    } else {
        let first = String(cString: getpass("New password (at least 10 characters): "))
        let second = String(cString: getpass("The same again: "))
        guard first == second else { fail("the two passwords differ") }
        password = first
    }
    do {
        try Account.validatePassword(password)
    } catch {
        fail(error.message)
    }
    return password
}

func auditCLI(_ storage: any HubStorage, _ action: String, _ subject: String, _ detail: String = "")
    async throws(HubError)
{
    try await storage.appendAudit(
        AuditEntry(at: Date(), actor: "cli", action: action, subject: subject, detail: detail, address: "local"))
}

struct AccountAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a web account.")

    @Argument(help: "Sign-in name: 3 to 64 of a-z, 0-9, dot, dash, underscore.") var username: String
    @Option(help: "superadmin, secretary, assistant, teacher, mentor, student or volunteer.") var role: String
    @Option(help: "The name shown on pages.") var name: String
    @Option(help: "Students and volunteers: their person id in the gallery.") var person: String?
    @Option(help: "Mentors: the groups they follow, separated by commas.") var groups: String?
    @Option(help: "Where the hub writes to them (a teacher's pastoral alerts).") var email: String?
    @Option(help: ArgumentHelp("File whose first line is the password.", valueName: "file")) var passwordFile: String?
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file|url")) var db = "rollcall-hub.sqlite"

    func run() async throws {
        guard let parsed = StaffRole(rawValue: role) else {
            fail("--role must be one of \(StaffRole.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let account = Account(
            username: username.lowercased(), role: parsed, name: name, person: person,
            groups: (groups ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }, email: email)
        do {
            try account.validate()
        } catch {
            fail(error.message)
        }
        let password = readPassword(file: passwordFile)
        let hash = AccountPasswords.hash(password)
        try await onStorage(db) { storage throws(HubError) in
            try await storage.addAccount(account, passwordHash: hash)
            try await auditCLI(storage, "account-create", "account:\(account.username)", "role \(parsed.rawValue)")
        }
        print("added the \(parsed.rawValue) account \(account.username)")
    }
}

struct AccountList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the web accounts.")
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file|url")) var db = "rollcall-hub.sqlite"

    func run() async throws {
        let accounts = try await onStorage(db) { storage throws(HubError) in try await storage.accounts() }
        for account in accounts {
            var line = "\(account.username)\t\(account.role.rawValue)\t\(account.name)"
            if let person = account.person { line += "\tperson \(person)" }
            if !account.groups.isEmpty { line += "\tgroups \(account.groups.joined(separator: ","))" }
            if let email = account.email { line += "\temail \(email)" }
            if account.disabled { line += "\tdisabled" }
            print(line)
        }
        if accounts.isEmpty { print("no accounts: add the first with rollcall-hub account add NAME --role superadmin") }
    }
}

struct AccountDisable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable", abstract: "Disable an account: it cannot sign in, and its sessions end.")
    @Argument var username: String
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file|url")) var db = "rollcall-hub.sqlite"

    func run() async throws {
        let name = username.lowercased()
        let done = try await onStorage(db) { storage throws(HubError) in
            let done = try await storage.setDisabled(username: name, disabled: true)
            if done { try await auditCLI(storage, "account-disable", "account:\(name)") }
            return done
        }
        guard done else { fail("there is no account \(name)") }
        print("disabled \(name)")
    }
}

struct AccountEnable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Enable a disabled account.")
    @Argument var username: String
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file|url")) var db = "rollcall-hub.sqlite"

    func run() async throws {
        let name = username.lowercased()
        let done = try await onStorage(db) { storage throws(HubError) in
            let done = try await storage.setDisabled(username: name, disabled: false)
            if done { try await auditCLI(storage, "account-enable", "account:\(name)") }
            return done
        }
        guard done else { fail("there is no account \(name)") }
        print("enabled \(name)")
    }
}

struct AccountPassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password", abstract: "Set an account's password; its browsers are signed out.")
    @Argument var username: String
    @Option(help: ArgumentHelp("File whose first line is the password.", valueName: "file")) var passwordFile: String?
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file|url")) var db = "rollcall-hub.sqlite"

    func run() async throws {
        let name = username.lowercased()
        let hash = AccountPasswords.hash(readPassword(file: passwordFile))
        let done = try await onStorage(db) { storage throws(HubError) in
            guard try await storage.setPasswordHash(username: name, hash: hash) else { return false }
            try await storage.removeWebSessions(username: name, keeping: nil)
            try await auditCLI(storage, "password", "account:\(name)", "set from the command line")
            return true
        }
        guard done else { fail("there is no account \(name)") }
        print("set the password of \(name); it was signed out everywhere")
    }
}

/// `rollcall-hub export-person ID`: a subject-access request answered from the command line.
struct ExportPersonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-person",
        abstract: "Print everything the hub holds about one person as JSON (a subject-access request).",
        discussion: """
            The gallery record with the face templates, the rosters, attendance records with excuses and flags, \
            visits, the rooms that let them in, every event a door sent about them, their web accounts, and the \
            audit trail's lines about their records. The export itself goes into the audit trail.
            """)
    @Argument(help: "The person's id.") var person: String
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file|url")) var db = "rollcall-hub.sqlite"

    func run() async throws {
        let id = person
        let export = try await onStorage(db) { storage throws(HubError) -> SubjectAccessExport? in
            let export = try await storage.exportPerson(id, at: Date())
            if export != nil { try await auditCLI(storage, "export", "person:\(id)", "subject-access export") }
            return export
        }
        guard let export else { fail("the hub holds nothing about \(id)") }
        FileHandle.standardOutput.write(try export.json(pretty: true) + Data("\n".utf8))
    }
}

/// `rollcall-hub retention [--dry-run]`: the retention rule `serve` runs daily, run now (or shown).
struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Apply the retention rule now, or with --dry-run only say what it would do.",
        discussion: """
            The face templates of anyone on no roster of a session that started in the last \
            --template-retention-days (and on none ahead, and let into no room) are erased, from the hub now and \
            from the doors with their next delta; the doors' raw events older than --event-retention-days are \
            deleted (the attendance records and visits stay). `rollcall-hub serve` runs the same rule daily. \
            Either way the audit trail says what was done.
            """)
    @Flag(help: "Only say what would be erased and deleted.") var dryRun = false
    @Option(help: ArgumentHelp("See above (serve's default: 60).", valueName: "days")) var templateRetentionDays = 60
    @Option(help: ArgumentHelp("See above (serve's default: 400).", valueName: "days")) var eventRetentionDays = 400
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file|url")) var db = "rollcall-hub.sqlite"

    func validate() throws {
        guard (1...3650).contains(templateRetentionDays), (30...36_500).contains(eventRetentionDays) else {
            throw ValidationError("--template-retention-days is 1 to 3650, --event-retention-days 30 to 36500")
        }
    }

    func run() async throws {
        let policy = RetentionPolicy(
            templatesAfterLeavingDays: templateRetentionDays, rawEventsDays: eventRetentionDays)
        let dry = dryRun
        let report = try await onStorage(db) { storage throws(HubError) in
            try await storage.applyRetentionAudited(policy, now: Date(), dryRun: dry, actor: "cli")
        }
        print("retention: \(report.summary)")
    }
}

struct AccountEmail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "email",
        abstract: "Set an account's email address (where a teacher's pastoral alerts go), or clear it.")
    @Argument var username: String
    @Argument(help: "The address; leave out with --clear.") var address: String?
    @Flag(help: "Remove the address: the account gets no messages.") var clear = false
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file|url")) var db = "rollcall-hub.sqlite"

    func validate() throws {
        guard (address == nil) == clear else { throw ValidationError("give an address, or --clear") }
    }

    func run() async throws {
        let name = username.lowercased()
        let address = address
        let done = try await onStorage(db) { storage throws(HubError) in
            let done = try await storage.setEmail(username: name, email: address)
            if done {
                try await auditCLI(
                    storage, "account", "account:\(name)", address == nil ? "email cleared" : "email set")
            }
            return done
        }
        guard done else { fail("there is no account \(name)") }
        print(address.map { "\(name) gets messages at \($0)" } ?? "\(name) gets no messages")
    }
}
