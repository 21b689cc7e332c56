import ArgumentParser
import Attendance
import Badges
import Foundation
import Imaging
import QRDrawing
import Vision

/// `rollcall badge`: signing keys, issuing and checking volunteer badges.
struct BadgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "badge",
        abstract: "Make signing keys, issue signed QR badges, and check a badge.",
        discussion: """
            A badge is RC1.<base64url(JSON claims)>.<base64url(Ed25519 signature)> with the claims kid, \
            sub, role, iat and exp (Unix seconds). Devices hold only public keys, so a stolen device \
            cannot make badges. Keep private key files off the devices.
            """,
        subcommands: [BadgeKeygen.self, BadgeIssue.self, BadgeVerify.self]
    )
}

struct BadgeKeygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an Ed25519 signing key: the private key into a file (mode 0600), the public key printed."
    )

    @Option(help: ArgumentHelp("Where to write the private key.", valueName: "file"))
    var out: String

    @Option(help: "Key id badges will name (default: derived from the public key).")
    var kid: String?

    @Option(help: ArgumentHelp("Add the public key to this keyring file (created if missing).", valueName: "file"))
    var keyring: String?

    @Flag(help: "Overwrite an existing key file.")
    var force = false

    func run() throws {
        guard force || !FileManager.default.fileExists(atPath: out) else {
            throw ValidationError(
                "\(out) exists: a key is not overwritten without --force (badges signed by it would stop verifying)")
        }
        let issuer = BadgeIssuer.generate(kid: kid)
        guard
            FileManager.default.createFile(
                atPath: out, contents: Data((issuer.privateKey + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw ValidationError("cannot write \(out)")
        }
        if let keyring {
            var ring = (try? readKeyring(keyring)) ?? BadgeKeyring()
            ring.keys[issuer.kid] = issuer.publicKey
            try writeJSON(ring, to: keyring)
        }
        printLine(JSONLine.encode(["kid": issuer.kid, "public_key": issuer.publicKey]))
    }
}

struct BadgeIssue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Sign a badge; print its payload and optionally draw it as a QR code PNG."
    )

    @Option(help: ArgumentHelp("The private key file (from badge keygen).", valueName: "file"))
    var key: String

    @Option(help: "The key id to name (default: derived from the key, as keygen does).")
    var kid: String?

    @Option(help: "The holder's opaque person id (never a name).")
    var subject: String

    @Option(help: "student, volunteer or staff.")
    var role = PersonRole.volunteer.rawValue

    @Option(help: "Last day of validity, YYYY-MM-DD (valid to the end of that day, UTC), or an ISO 8601 time.")
    var expires: String

    @Option(help: ArgumentHelp("Write the QR code to this PNG file.", valueName: "file.png"))
    var png: String?

    @Flag(help: "Print {\"payload\", \"id\", \"subject\", \"role\", \"expires\"} as JSON.")
    var json = false

    func validate() throws {
        guard PersonRole(rawValue: role) != nil else {
            throw ValidationError("--role must be student, volunteer or staff")
        }
    }

    func run() throws {
        let role = PersonRole(rawValue: role)!
        let issuer = try BadgeIssuer(privateKey: try readFile(key), kid: kid)
        let expiry = try parseDate(expires, endOfDay: true)
        let now = Date()
        guard expiry > now else { throw ValidationError("--expires \(expires) is in the past") }
        let (payload, id) = try issuer.issue(subject: subject, role: role, issued: now, expires: expiry)
        if let png {
            let code = try QRCodeRenderer.render(Data(payload.utf8), scale: 8)
            let rgb = try RGBImage(
                width: code.width, height: code.height, pixels: code.pixels.flatMap { [$0, $0, $0] })
            try rgb.pngData().write(to: URL(fileURLWithPath: png))
        }
        if json {
            printLine(
                JSONLine.encode(IssuedBadge(payload: payload, id: id, subject: subject, role: role, expires: expiry)))
        } else {
            printLine(payload)
            printError(
                "badge \(id) for \(subject) (\(role.rawValue)) until \(expiry)\(png.map { ", QR code in \($0)" } ?? "")"
            )
        }
    }
}

struct BadgeVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a badge payload as a door would: signature, validity, revocation.",
        discussion: "Exit status 0 when the badge is valid, 1 when it is refused (the reason is printed)."
    )

    @Argument(help: "The payload, RC1.<claims>.<signature>.")
    var payload: String

    @Option(
        help: ArgumentHelp("A keyring file: {\"keys\": {KID: PUBLIC_KEY}, \"revoked\": [BADGE_ID]}.", valueName: "file")
    )
    var keyring: String?

    @Option(help: ArgumentHelp("A private key file instead of a keyring (its public key is used).", valueName: "file"))
    var key: String?

    @Option(help: "The key id, with --key (default: derived).")
    var kid: String?

    @Flag(help: "Accept legacy unsigned RC0 badges.")
    var allowUnsigned = false

    @Option(help: "Check as of this time (YYYY-MM-DD or ISO 8601) instead of now.")
    var at: String?

    func validate() throws {
        guard (keyring == nil) != (key == nil) else { throw ValidationError("give exactly one of --keyring and --key") }
    }

    func run() throws {
        let ring = try keyring.map(readKeyring) ?? BadgeIssuer(privateKey: try readFile(key!), kid: kid).keyring
        let verifier = try BadgeVerifier(keyring: ring, allowUnsigned: allowUnsigned)
        let now = try at.map { try parseDate($0, endOfDay: false) } ?? Date()
        switch verifier.verify(payload, now: now) {
        case .success(let badge):
            let expiry = Date(timeIntervalSince1970: TimeInterval(badge.claims.exp))
            printLine(
                "valid: \(badge.claims.role.rawValue) \(badge.claims.sub), key \(badge.claims.kid), badge \(badge.id), until \(expiry)\(badge.unsigned ? " (unsigned)" : "")"
            )
        case .failure(let reason):
            printLine("refused: \(reason.rawValue) (badge not valid: \(reason.message))")
            throw ExitCode.failure
        }
    }
}

private func readFile(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
    return String(decoding: data, as: UTF8.self)
}

func readKeyring(_ path: String) throws -> BadgeKeyring {
    do {
        return try JSONDecoder().decode(BadgeKeyring.self, from: Data(try readFile(path).utf8))
    } catch let error as ValidationError {
        throw error
    } catch {
        throw ValidationError("\(path) is not a keyring ({\"keys\": {...}, \"revoked\": [...]}): \(error)")
    }
}

private func writeJSON(_ value: some Encodable, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try (try encoder.encode(value) + Data("\n".utf8)).write(to: URL(fileURLWithPath: path))
}

/// YYYY-MM-DD (the start of that day in UTC, or with `endOfDay` the start of the next) or ISO 8601.
func parseDate(_ text: String, endOfDay: Bool) throws -> Date {
    let day = DateFormatter()
    day.locale = Locale(identifier: "en_US_POSIX")
    day.timeZone = TimeZone(identifier: "UTC")
    day.dateFormat = "yyyy-MM-dd"
    if let date = day.date(from: text) { return endOfDay ? date.addingTimeInterval(86_400) : date }
    if let date = ISO8601DateFormatter().date(from: text) { return date }
    throw ValidationError("\(text) is not a date: use YYYY-MM-DD or an ISO 8601 time such as 2027-06-30T16:00:00Z")
}

/// What `badge issue --json` prints: the payload, the badge id, its subject and role, and when it expires
/// (Unix seconds).
struct IssuedBadge: Encodable {
    let payload: String
    let id: String
    let subject: String
    let role: PersonRole
    let expires: Date

    enum CodingKeys: String, CodingKey { case payload, id, subject, role, expires }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(payload, forKey: .payload)
        try container.encode(id, forKey: .id)
        try container.encode(subject, forKey: .subject)
        try container.encode(role, forKey: .role)
        try container.encode(Int64(expires.timeIntervalSince1970), forKey: .expires)
    }
}
