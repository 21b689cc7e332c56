public import Foundation
import Recognition
import Sealing

/// The people's records (names, groups and face templates) as the hub keeps them: sealed with
/// ChaCha20-Poly1305 (`DataSealer`) under a key kept outside the database, so that a copied database
/// file yields no template and no name.
///
/// The key is 32 random bytes in a file: `rollcall-hub serve --data-key-file` (or
/// `$ROLLCALL_HUB_DATA_KEY_FILE`), the systemd credential `data-key` (`LoadCredential=`), or, when none
/// is given, `<database>.key` beside the database, made on first use and readable by its owner only.
/// A record written before sealing existed is sealed when the database is opened.
public struct PersonSealer: Sendable {
    let sealer: DataSealer

    /// A sealer with this key (32 bytes).
    public init(key: Data) throws(HubError) {
        do {
            sealer = try DataSealer(key: key)
        } catch {
            throw HubError(.storage, error.message)
        }
    }

    /// The key in `file`, or, when `file` is nil, `$ROLLCALL_HUB_DATA_KEY_FILE`, the systemd credential
    /// `data-key`, or `<database>.key` (made with 32 random bytes, mode 0600, when it does not exist).
    public static func load(file: String?, database: String, environment: [String: String]) throws(HubError)
        -> PersonSealer
    {
        do {
            return PersonSealer(
                sealer: try DataSealer.load(
                    file: file, variable: "ROLLCALL_HUB_DATA_KEY_FILE", database: database, environment: environment))
        } catch {
            throw HubError(.storage, error.message)
        }
    }

    private init(sealer: DataSealer) { self.sealer = sealer }

    /// A record, sealed.
    func seal(_ plain: Data) throws(HubError) -> Data {
        do { return try sealer.seal(plain) } catch { throw HubError(.storage, error.message) }
    }

    /// A record's JSON: opened when sealed, as it is when written before sealing.
    func open(_ stored: Data) throws(HubError) -> Data {
        do {
            return try sealer.open(stored)
        } catch {
            throw HubError(.storage, "a person's record does not open: \(error.message)")
        }
    }

    /// A stored record without its templates (most of its bytes, and most of the time it takes to decode):
    /// what reports (names) and the ingest rules (roles) need.
    func person(_ stored: Data) throws -> Person {
        try JSONDecoder().decode(Person.self, from: open(stored))
    }

    /// A stored record as a gallery entry.
    func entry(_ stored: Data) throws -> GalleryDocument.Entry {
        try JSONDecoder().decode(GalleryDocument.Entry.self, from: open(stored))
    }
}
