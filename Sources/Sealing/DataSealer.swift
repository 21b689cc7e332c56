import Crypto
public import Foundation

/// Seals data at rest with ChaCha20-Poly1305 under a 32-byte key kept outside the database, so that a
/// copied database file yields nothing readable: the hub's people records (names, groups, face
/// templates) and the door's cached state (its gallery, manifest and badge keys).
///
/// A sealed value starts with `RCS1`; a value written before sealing existed is taken as it is (and
/// sealed by its owner when it next writes it).
public struct DataSealer: Sendable {
    /// What a sealed value starts with.
    public static let magic = Data("RCS1".utf8)
    /// The key's bytes (a `SymmetricKey` is made from them for each use: it is not `Sendable`).
    let keyBytes: Data
    var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    /// Where the key came from, for messages.
    public let origin: String

    /// A sealer with this key (32 bytes).
    public init(key: Data, origin: String = "the data key") throws(SealingError) {
        guard key.count == 32 else {
            throw SealingError(
                "\(origin) must hold 32 bytes, not \(key.count) (make one with: head -c 32 /dev/urandom > FILE)")
        }
        self.keyBytes = key
        self.origin = origin
    }

    /// The key in `file`; when `file` is nil, the file named by `$<variable>`, else the systemd
    /// credential `data-key` (`LoadCredential=data-key:…` or `LoadCredentialEncrypted=`), else
    /// `<database>.key` beside the database, made with 32 random bytes and mode 0600 when it does not
    /// exist.
    public static func load(file: String?, variable: String, database: String, environment: [String: String])
        throws(SealingError) -> DataSealer
    {
        let path: String
        if let file = file ?? environment[variable] {
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
                    throw SealingError("cannot make the data key \(path) beside the database")
                }
            }
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SealingError("cannot read the data key \(path)")
        }
        return try DataSealer(key: data, origin: "the data key \(path)")
    }

    /// Whether a stored value is sealed (rather than written before sealing existed).
    public static func isSealed(_ stored: Data) -> Bool { stored.starts(with: magic) }

    /// A value, sealed.
    public func seal(_ plain: Data) throws(SealingError) -> Data {
        do {
            return Self.magic + (try ChaChaPoly.seal(plain, using: key).combined)
        } catch {
            throw SealingError("cannot seal a value: \(error)")
        }
    }

    /// A stored value, opened when sealed and as it is when written before sealing.
    /// - Throws: when it is sealed under another key or has been altered.
    public func open(_ stored: Data) throws(SealingError) -> Data {
        guard Self.isSealed(stored) else { return stored }
        do {
            return try ChaChaPoly.open(ChaChaPoly.SealedBox(combined: stored.dropFirst(Self.magic.count)), using: key)
        } catch {
            throw SealingError("a sealed value does not open with \(origin) (another key, or the value was altered)")
        }
    }
}

/// A key that cannot be read or made, or a value that does not open.
public struct SealingError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
