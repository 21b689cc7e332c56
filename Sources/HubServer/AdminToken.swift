import Foundation

/// Where the admin API's token comes from, and what it must be.
///
/// Only from a file: `--admin-token-file FILE`, `$ROLLCALL_HUB_ADMIN_TOKEN_FILE`, or the systemd
/// credential `admin-token` (`LoadCredential=admin-token:/etc/rollcall-hub/admin-token` puts it in
/// `$CREDENTIALS_DIRECTORY`). Never from the command line, where `ps` shows it to every user, nor from
/// `$ROLLCALL_HUB_ADMIN_TOKEN`, which an empty `EnvironmentFile=` line used to turn into an empty
/// token. At least 32 characters; a file that others may read is refused.
public enum AdminToken {
    /// The shortest token accepted.
    public static let minimumLength = 32
    /// The systemd credential's name.
    public static let credentialName = "admin-token"

    /// Why the hub refuses to start: a one-line message naming the fix.
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// The token, or nil when none is configured (the admin API is then off).
    public static func load(file: String?, environment: [String: String]) throws(Problem) -> String? {
        if environment["ROLLCALL_HUB_ADMIN_TOKEN"] != nil {
            throw Problem(
                "ROLLCALL_HUB_ADMIN_TOKEN is not read: put the admin token in a file only the hub's user can read "
                    + "and give --admin-token-file FILE (or LoadCredential=\(credentialName):FILE under systemd)")
        }
        let path: String
        if let file {
            path = file
        } else if let file = environment["ROLLCALL_HUB_ADMIN_TOKEN_FILE"], !file.isEmpty {
            path = file
        } else if let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty,
            FileManager.default.fileExists(atPath: directory + "/" + credentialName)
        {
            path = directory + "/" + credentialName
        } else {
            return nil
        }
        return try read(path)
    }

    static func read(_ path: String) throws(Problem) -> String {
        let attributes: [FileAttributeKey: Any]
        let data: Data
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw Problem("cannot read the admin token file \(path): \((error as NSError).localizedDescription)")
        }
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o004 != 0 {
            throw Problem(
                "the admin token file \(path) can be read by every user (mode \(String(mode, radix: 8))): "
                    + "chmod 0600 it (owned by the hub's user)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Problem("the admin token file \(path) is not text")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.count >= minimumLength, !token.contains(where: \.isWhitespace) else {
            throw Problem(
                "the admin token in \(path) must be one line of at least \(minimumLength) characters "
                    + "(it has \(token.count)); make one with: head -c 32 /dev/urandom | base64")
        }
        return token
    }
}
