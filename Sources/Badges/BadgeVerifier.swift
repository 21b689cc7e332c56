import Crypto
public import Foundation

/// Public keys by key id, and the ids of revoked badges: what a device gets from the server.
public struct BadgeKeyring: Sendable, Codable, Equatable {
    /// Key id -> base64url of the raw 32-byte Ed25519 public key.
    public var keys: [String: String]
    /// Ids of revoked badges.
    public var revoked: [String]

    /// Makes a keyring.
    public init(keys: [String: String] = [:], revoked: [String] = []) {
        self.keys = keys
        self.revoked = revoked
    }
}

/// Checks scanned badge payloads: format, signature, validity period, revocation. Pure: the time
/// is a parameter, and nothing is read or written.
public struct BadgeVerifier: Sendable {
    // Raw key bytes: swift-crypto's key types are not Sendable; a key is rebuilt per check (cheap).
    private let keys: [String: Data]
    private let revoked: Set<String>
    /// Accept legacy `RC0.` badges, which anyone can make. Off unless the configuration says so.
    public var allowUnsigned: Bool
    /// How far in the future `iat` may be, for clocks that disagree.
    public var clockSkew: TimeInterval

    /// Makes a verifier.
    /// - Throws: `BadgeKeyError` when a key in the keyring is not a valid Ed25519 public key.
    public init(keyring: BadgeKeyring, allowUnsigned: Bool = false, clockSkew: TimeInterval = 60) throws {
        var keys: [String: Data] = [:]
        for (kid, encoded) in keyring.keys {
            guard let raw = Base64URL.decode(Substring(encoded)),
                (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil
            else {
                throw BadgeKeyError("key \(kid) in the keyring is not a base64url Ed25519 public key")
            }
            keys[kid] = raw
        }
        self.keys = keys
        self.revoked = Set(keyring.revoked)
        self.allowUnsigned = allowUnsigned
        self.clockSkew = clockSkew
    }

    /// Verifies a scanned payload at time `now`.
    public func verify(_ payload: Data, now: Date) -> Result<VerifiedBadge, BadgeRejection> {
        guard payload.count <= BadgeFormat.maximumLength else { return .failure(.oversized) }
        guard let text = String(data: payload, encoding: .utf8) else { return .failure(.malformed) }
        return verify(text, now: now)
    }

    /// Verifies a scanned payload at time `now`.
    public func verify(_ payload: String, now: Date) -> Result<VerifiedBadge, BadgeRejection> {
        guard payload.utf8.count <= BadgeFormat.maximumLength else { return .failure(.oversized) }
        let parts = payload.split(separator: ".", omittingEmptySubsequences: false)
        let claims: BadgeClaims
        let id: String
        switch (parts.first, parts.count) {
        case (BadgeFormat.signedPrefix?, 3):
            guard let claimBytes = Base64URL.decode(parts[1]), let signature = Base64URL.decode(parts[2]),
                let decoded = Self.decodeClaims(claimBytes)
            else { return .failure(.malformed) }
            guard let raw = keys[decoded.kid], let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
            else {
                return .failure(.unknownKey)
            }
            // The signature covers "RC1.<claims>" exactly as scanned, so nothing can be re-encoded.
            let signed = Data(payload.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
            guard key.isValidSignature(signature, for: signed) else { return .failure(.badSignature) }
            claims = decoded
            id = Self.badgeID(of: signature)
        case (BadgeFormat.unsignedPrefix?, 2):
            guard let claimBytes = Base64URL.decode(parts[1]), let decoded = Self.decodeClaims(claimBytes) else {
                return .failure(.malformed)
            }
            guard allowUnsigned else { return .failure(.unsigned) }
            claims = decoded
            id = Self.badgeID(of: claimBytes)
        default:
            return .failure(.malformed)
        }
        let seconds = now.timeIntervalSince1970
        if Double(claims.iat) > seconds + clockSkew { return .failure(.notYetValid) }
        if Double(claims.exp) <= seconds { return .failure(.expired) }
        if revoked.contains(id) { return .failure(.revoked) }
        return .success(VerifiedBadge(claims: claims, id: id, unsigned: parts.count == 2))
    }

    static func decodeClaims(_ data: Data) -> BadgeClaims? {
        guard let claims = try? JSONDecoder().decode(BadgeClaims.self, from: data),
            !claims.kid.isEmpty, !claims.sub.isEmpty, claims.sub.count <= 128, claims.exp > claims.iat
        else { return nil }
        return claims
    }

    static func badgeID(of bytes: Data) -> String {
        Base64URL.encode(Data(SHA256.hash(data: bytes).prefix(12)))
    }
}

/// A key that cannot be used.
public struct BadgeKeyError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension BadgeFormat {
    /// The subject a payload *claims*, read without checking anything else: for the audit record of a
    /// refused badge ("someone showed a forged badge for v-mallory"). Never trust it for anything else.
    public static func claimedSubject(of payload: String) -> String? {
        guard payload.utf8.count <= maximumLength else { return nil }
        let parts = payload.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == signedPrefix || parts[0] == unsignedPrefix,
            let data = Base64URL.decode(parts[1]), let claims = BadgeVerifier.decodeClaims(data)
        else { return nil }
        return claims.sub
    }
}
