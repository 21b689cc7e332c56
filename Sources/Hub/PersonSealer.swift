import Crypto
public import Foundation
import Recognition

/// The people's records (names, groups and face templates) as the hub keeps them: sealed with
/// ChaCha20-Poly1305 under a key kept outside the database, so that a copied database file yields
/// no template and no name.
///
/// The key is 32 random bytes in a file: `rollcall-hub serve --data-key-file` (or
/// `$ROLLCALL_HUB_DATA_KEY_FILE`), the systemd credential `data-key` (`LoadCredential=`), or, when none
/// is given, `<database>.key` beside the database, made on first use and readable by its owner only. A sealed record starts with `RCS1`; a record
/// written before sealing existed is sealed when the database is opened.
public struct PersonSealer: Sendable {
    static let magic = Data("RCS1".utf8)
    /// The key's bytes (a `SymmetricKey` is made from them for each use: it is not `Sendable`).
    let keyBytes: Data
    var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// A sealer with this key (32 bytes).
    public init(key: Data) throws(HubError) {
        guard key.count == 32 else {
            throw HubError("storage", "the data key must be 32 bytes, not \(key.count)", status: 500)
        }
        self.keyBytes = key
    }

    /// The key in `file`, or, when `file` is nil, the systemd credential `data-key`, or `<database>.key`
    /// (made with 32 random bytes, mode 0600, when it does not exist).
    public static func load(file: String?, database: String, environment: [String: String]) throws(HubError)
        -> PersonSealer
    {
        let path: String
        if let file = file ?? environment["ROLLCALL_HUB_DATA_KEY_FILE"] {
            path = file
        } else if let credentials = environment["CREDENTIALS_DIRECTORY"],
            FileManager.default.fileExists(atPath: credentials + "/data-key")
        {
            path = credentials + "/data-key"
        } else {
            path = database + ".key"
            if !FileManager.default.fileExists(atPath: path) {
                let fresh = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
                guard
                    FileManager.default.createFile(
                        atPath: path, contents: fresh, attributes: [.posixPermissions: 0o600])
                else {
                    throw HubError("storage", "cannot make the data key \(path) beside the database", status: 500)
                }
            }
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HubError("storage", "cannot read the data key \(path)", status: 500)
        }
        do {
            return try PersonSealer(key: data)
        } catch {
            throw HubError(
                "storage", "\(path): \(error.message) (make one with: head -c 32 /dev/urandom > FILE)", status: 500)
        }
    }

    /// A record, sealed.
    func seal(_ plain: Data) throws -> Data {
        Self.magic + (try ChaChaPoly.seal(plain, using: key).combined)
    }

    /// A record's JSON: opened when sealed, as it is when written before sealing.
    func open(_ stored: Data) throws -> Data {
        guard stored.starts(with: Self.magic) else { return stored }
        do {
            return try ChaChaPoly.open(ChaChaPoly.SealedBox(combined: stored.dropFirst(Self.magic.count)), using: key)
        } catch {
            throw HubError(
                "storage", "a person's record does not open with this data key (is it the database's own key?)",
                status: 500)
        }
    }

    /// A stored record as a gallery entry.
    func entry(_ stored: Data) throws -> GalleryDocument.Entry {
        try JSONDecoder().decode(GalleryDocument.Entry.self, from: open(stored))
    }
}
