public import Attendance
import Foundation

/// What a badge says: the claims of `RC1.<base64url(JSON claims)>.<base64url(Ed25519 signature)>`.
public struct BadgeClaims: Sendable, Codable, Equatable {
    /// Id of the key that signed it.
    public var kid: String
    /// The person's opaque id.
    public var sub: String
    public var role: PersonRole
    /// Issued at, Unix seconds.
    public var iat: Int64
    /// Expires at, Unix seconds: the badge is valid strictly before this instant.
    public var exp: Int64

    /// Makes claims.
    public init(kid: String, sub: String, role: PersonRole, iat: Int64, exp: Int64) {
        self.kid = kid
        self.sub = sub
        self.role = role
        self.iat = iat
        self.exp = exp
    }
}

/// A badge that passed every check.
public struct VerifiedBadge: Sendable, Equatable {
    public var claims: BadgeClaims
    /// The badge's id, for revocation lists: base64url of the first 12 bytes of the SHA-256 of its
    /// signature (a legacy badge: of its claims).
    public var id: String
    /// True for a legacy unsigned badge accepted because the configuration allows them.
    public var unsigned: Bool
}

/// Why a scanned badge was refused.
public enum BadgeRejection: String, Error, Sendable, Codable, Equatable, CaseIterable {
    /// Not a badge: wrong prefix, wrong number of parts, bad base64 or JSON, missing or wrong claims.
    case malformed
    /// Longer than any badge rollcall issues; not even parsed.
    case oversized
    /// Signed by a key this device does not know.
    case unknownKey = "unknown_key"
    /// The signature does not match: forged or altered.
    case badSignature = "bad_signature"
    /// Past its expiry.
    case expired
    /// Issued in the future (beyond the allowed clock skew).
    case notYetValid = "not_yet_valid"
    /// On the revocation list.
    case revoked
    /// A legacy unsigned badge, and the configuration does not allow them.
    case unsigned

    /// For the door screen: "badge not valid: expired".
    public var message: String {
        switch self {
        case .malformed: "not a rollcall badge"
        case .oversized: "not a rollcall badge (too long)"
        case .unknownKey: "signed by an unknown key"
        case .badSignature: "forged or damaged"
        case .expired: "expired"
        case .notYetValid: "not valid yet"
        case .revoked: "revoked"
        case .unsigned: "unsigned badges are not accepted"
        }
    }
}

/// The badge format's fixed parts.
public enum BadgeFormat {
    /// Prefix of signed badges.
    public static let signedPrefix = "RC1"
    /// Prefix of legacy unsigned badges: `RC0.<base64url(JSON claims)>`, accepted only when the
    /// configuration says `allow_unsigned_badges = true`.
    public static let unsignedPrefix = "RC0"
    /// No badge rollcall issues is longer; anything longer is refused before parsing.
    public static let maximumLength = 512
}

/// base64url without padding (RFC 4648 §5), as in JWS.
enum Base64URL {
    static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: Substring) -> Data? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            return nil
        }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        switch base64.count % 4 {
        case 0: break
        case 2: base64 += "=="
        case 3: base64 += "="
        default: return nil
        }
        // Only the canonical encoding is accepted: otherwise the unused low bits of the last
        // character would let one badge be written several ways.
        guard let data = Data(base64Encoded: base64), encode(data) == text else { return nil }
        return data
    }
}
