public import Attendance
import Crypto
public import Foundation

/// Makes signed badges. Only the server (and a technician's workstation) holds signing keys; a
/// device only verifies.
public struct BadgeIssuer: Sendable {
    // Raw key bytes: swift-crypto's key types are not Sendable.
    private let rawKey: Data
    /// The id badges name as their signer.
    public let kid: String

    /// A new random key, with an id derived from its public key unless one is given.
    public static func generate(kid: String? = nil) -> BadgeIssuer {
        let key = Curve25519.Signing.PrivateKey()
        return BadgeIssuer(key: key, kid: kid ?? derivedKeyID(key.publicKey))
    }

    /// An issuer from a stored private key (base64url of the raw 32 bytes).
    /// - Throws: `BadgeKeyError` when it is not one.
    public init(privateKey encoded: String, kid: String? = nil) throws {
        guard let raw = Base64URL.decode(Substring(encoded.trimmingCharacters(in: .whitespacesAndNewlines))),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else {
            throw BadgeKeyError("not a base64url Ed25519 private key")
        }
        self.init(key: key, kid: kid ?? Self.derivedKeyID(key.publicKey))
    }

    private init(key: Curve25519.Signing.PrivateKey, kid: String) {
        self.rawKey = key.rawRepresentation
        self.kid = kid
    }

    private var key: Curve25519.Signing.PrivateKey {
        // The bytes came from a valid key in init, so this cannot fail.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: rawKey)
    }

    /// base64url of the raw private key, for the key file.
    public var privateKey: String { Base64URL.encode(key.rawRepresentation) }
    /// base64url of the raw public key, for keyrings.
    public var publicKey: String { Base64URL.encode(key.publicKey.rawRepresentation) }

    /// A keyring holding this issuer's public key.
    public var keyring: BadgeKeyring { BadgeKeyring(keys: [kid: publicKey]) }

    /// Signs a badge for `subject` valid from `issued` until `expires`.
    public func issue(subject: String, role: PersonRole, issued: Date, expires: Date) throws -> (
        payload: String, id: String
    ) {
        let claims = BadgeClaims(
            kid: kid, sub: subject, role: role, iat: Int64(issued.timeIntervalSince1970),
            exp: Int64(expires.timeIntervalSince1970))
        guard BadgeVerifier.decodeClaims(try Self.encoder.encode(claims)) != nil else {
            throw BadgeKeyError("a badge needs a subject of 1 to 128 characters and an expiry after its issue time")
        }
        let signingInput = BadgeFormat.signedPrefix + "." + Base64URL.encode(try Self.encoder.encode(claims))
        let signature = try key.signature(for: Data(signingInput.utf8))
        let payload = signingInput + "." + Base64URL.encode(signature)
        guard payload.utf8.count <= BadgeFormat.maximumLength else {
            throw BadgeKeyError(
                "the badge would be longer than \(BadgeFormat.maximumLength) bytes: shorten the subject")
        }
        return (payload, BadgeVerifier.badgeID(of: signature))
    }

    /// The first 8 bytes of the SHA-256 of the public key, base64url.
    static func derivedKeyID(_ key: Curve25519.Signing.PublicKey) -> String {
        Base64URL.encode(Data(SHA256.hash(data: key.rawRepresentation).prefix(8)))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}
