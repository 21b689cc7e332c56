import Foundation
import HubServer
import TestSupport
import Testing

/// The admin token comes only from a file only the hub's user can read, and is long enough.
struct AdminTokenTests {
    let good = "x7Qm2pL9vR4sT8wY1zA6bC3dE5fG0hJ2kN"

    func file(_ text: String, mode: Int = 0o600) throws -> (String, URL) {
        let folder = try TestResources.temporaryDirectory()
        let path = folder.appendingPathComponent("admin-token").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return (path, folder)
    }

    @Test("from --admin-token-file, $ROLLCALL_HUB_ADMIN_TOKEN_FILE or the systemd credential; none: admin off")
    func sources() throws {
        let (path, folder) = try file(good + "\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try AdminToken.load(file: path, environment: [:]) == good)
        #expect(try AdminToken.load(file: nil, environment: ["ROLLCALL_HUB_ADMIN_TOKEN_FILE": path]) == good)
        #expect(try AdminToken.load(file: nil, environment: ["CREDENTIALS_DIRECTORY": folder.path]) == good)
        #expect(try AdminToken.load(file: nil, environment: [:]) == nil)
        #expect(try AdminToken.load(file: nil, environment: ["CREDENTIALS_DIRECTORY": "/nonexistent"]) == nil)
    }

    @Test(
        "refused: the token in the environment (even empty), short, several words, readable by all, missing",
        arguments: [
            ("env", "ROLLCALL_HUB_ADMIN_TOKEN is not read"), ("empty-env", "ROLLCALL_HUB_ADMIN_TOKEN is not read"),
            ("short", "at least 32 characters"), ("blank", "at least 32 characters"),
            ("words", "one line"), ("world", "every user"), ("missing", "cannot read"),
        ])
    func refused(case name: String, says: String) throws {
        let (path, folder) = try file(
            name == "short" ? "abc123" : name == "blank" ? "\n" : name == "words" ? good + " " + good : good,
            mode: name == "world" ? 0o644 : 0o600)
        defer { try? FileManager.default.removeItem(at: folder) }
        var environment: [String: String] = [:]
        if name == "env" { environment["ROLLCALL_HUB_ADMIN_TOKEN"] = good }
        if name == "empty-env" { environment["ROLLCALL_HUB_ADMIN_TOKEN"] = "" }
        let error = #expect(throws: AdminToken.Problem.self) {
            try AdminToken.load(file: name == "missing" ? path + ".gone" : path, environment: environment)
        }
        #expect(error?.description.contains(says) == true, "\(error?.description ?? "")")
    }

    @Test("the configuration keeps only a digest; an empty token turns the admin API off")
    func configuration() {
        #expect(HubServerConfiguration(adminToken: good).adminAPI)
        #expect(!HubServerConfiguration(adminToken: "").adminAPI)
        #expect(!HubServerConfiguration(adminToken: nil).adminAPI)
    }
}
