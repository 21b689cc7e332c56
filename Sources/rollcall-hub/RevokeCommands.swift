import ArgumentParser
import Foundation
import Hub

/// `rollcall-hub token list`: the staff and public tokens by id, scope and label.
struct TokenList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the staff and public tokens (their ids, never the tokens).")

    @Option(help: ArgumentHelp("The hub's database.", valueName: "file")) var db = "rollcall-hub.sqlite"

    func run() async throws {
        let tokens = try await onStorage(db) { storage throws(HubError) in try await storage.accessTokens() }
        if tokens.isEmpty { print("no staff or public tokens") }
        for token in tokens {
            let scope = token.scope.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
            print("\(token.id)  \(scope)  \(token.label)")
        }
    }
}

/// `rollcall-hub token revoke ID`: the token stops working with its next request.
struct TokenRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke a staff or public token by its id (`token list`).")

    @Argument(help: "The token's id: 16 hexadecimal digits.") var id: String
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file")) var db = "rollcall-hub.sqlite"

    func run() async throws {
        let done = try await onStorage(db) { storage throws(HubError) in try await storage.revokeAccessToken(id: id) }
        guard done else {
            fail("there is no token \(id) (see `token list`)")
        }
        print("revoked token \(id): it no longer works")
    }
}

/// `rollcall-hub device remove|token`: a stolen or retired door loses its access.
struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device", abstract: "Remove a device or replace its token (effective on its next request).",
        subcommands: [DeviceRemove.self, DeviceToken.self])
}

struct DeviceRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a device: its token stops working; what it sent stays.")

    @Argument(help: "The device's id.") var id: String
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file")) var db = "rollcall-hub.sqlite"

    func run() async throws {
        let done = try await onStorage(db) { storage throws(HubError) in try await storage.removeDevice(id) }
        guard done else { fail("there is no device \(id)") }
        print("removed device \(id): its token no longer works")
    }
}

struct DeviceToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Give a device a new token, read from a file; the old one stops working.")

    @Argument(help: "The device's id.") var id: String
    @Option(help: ArgumentHelp("File holding the new token (at least 16 characters).", valueName: "file"))
    var tokenFile: String
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file")) var db = "rollcall-hub.sqlite"

    func run() async throws {
        let token = readToken(tokenFile)
        let done = try await onStorage(db) { storage throws(HubError) in
            try await storage.replaceDeviceToken(id, token: token)
        }
        guard done else { fail("there is no device \(id)") }
        print("replaced the token of device \(id): the old one no longer works")
    }
}

/// `rollcall-hub badge-key remove KID`.
struct BadgeKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "badge-key", abstract: "Remove a badge key.", subcommands: [BadgeKeyRemove.self])
}

struct BadgeKeyRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove a badge key: the doors refuse badges signed with it from their next refresh.")

    @Argument(help: "The key id.") var kid: String
    @Option(help: ArgumentHelp("The hub's database.", valueName: "file")) var db = "rollcall-hub.sqlite"

    func run() async throws {
        let done = try await onStorage(db) { storage throws(HubError) in try await storage.removeBadgeKey(kid: kid) }
        guard done else { fail("there is no badge key \(kid)") }
        print("removed badge key \(kid): doors refuse its badges from their next refresh")
    }
}

/// The token in `path` (one line, at least 16 characters), or the command ends with the reason. Tokens
/// come from files, never from the command line, where `ps` shows them to every user.
func readToken(_ path: String) -> String {
    guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
    let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard token.count >= 16 else { fail("the token in \(path) has fewer than 16 characters") }
    guard !token.contains(where: \.isWhitespace) else { fail("the token in \(path) is not one word") }
    return token
}
