import Attendance
import Badges
import Foundation
import TestSupport
import Testing

let issued = Date(timeIntervalSince1970: 1_790_000_000)
let expires = issued.addingTimeInterval(90 * 86_400)
let now = issued.addingTimeInterval(3600)

struct BadgeTests {
    let issuer = BadgeIssuer.generate(kid: "k1")

    func verifier(revoked: [String] = [], allowUnsigned: Bool = false) throws -> BadgeVerifier {
        var keyring = issuer.keyring
        keyring.revoked = revoked
        return try BadgeVerifier(keyring: keyring, allowUnsigned: allowUnsigned)
    }

    @Test("a badge issued and verified gives back its claims and id")
    func roundTrip() throws {
        let (payload, id) = try issuer.issue(subject: "vol-17", role: .volunteer, issued: issued, expires: expires)
        #expect(payload.hasPrefix("RC1."))
        #expect(payload.split(separator: ".").count == 3)
        let badge = try verifier().verify(payload, now: now).get()
        #expect(
            badge.claims
                == BadgeClaims(kid: "k1", sub: "vol-17", role: .volunteer, iat: 1_790_000_000, exp: 1_797_776_000))
        #expect(badge.id == id && !badge.unsigned)
    }

    @Test("each reason for refusal is told apart")
    func rejections() throws {
        let (payload, id) = try issuer.issue(subject: "vol-17", role: .volunteer, issued: issued, expires: expires)
        let verifier = try verifier()
        #expect(verifier.verify(payload, now: expires).failure == .expired, "valid strictly before exp")
        #expect(verifier.verify(payload, now: issued.addingTimeInterval(-3600)).failure == .notYetValid)
        #expect(verifier.verify(payload, now: issued.addingTimeInterval(-30)).failure == nil, "within the clock skew")
        #expect(try self.verifier(revoked: [id]).verify(payload, now: now).failure == .revoked)

        let stranger = BadgeIssuer.generate(kid: "k2")
        let foreign = try stranger.issue(subject: "vol-17", role: .volunteer, issued: issued, expires: expires).payload
        #expect(verifier.verify(foreign, now: now).failure == .unknownKey)
        // A forger who knows the key id still cannot sign with it.
        let impostor = BadgeIssuer.generate(kid: "k1")
        let forged = try impostor.issue(subject: "vol-17", role: .volunteer, issued: issued, expires: expires).payload
        #expect(verifier.verify(forged, now: now).failure == .badSignature)

        // Claims changed after signing (a role raised, an expiry pushed back).
        let parts = payload.split(separator: ".").map(String.init)
        let claims = try #require(Data(base64URL: parts[1]))
        var json = try #require(String(data: claims, encoding: .utf8))
        json = json.replacingOccurrences(of: "volunteer", with: "staff")
        let altered = [parts[0], Data(json.utf8).base64URL, parts[2]].joined(separator: ".")
        #expect(verifier.verify(altered, now: now).failure == .badSignature)

        #expect(verifier.verify(String(repeating: "A", count: 600), now: now).failure == .oversized)
        for garbage in [
            "", "RC1", "RC1..", "RC2.abc.def", "RC1.!!!.abc", "hello world", "RC1.e30.AAAA", "RC1.\(parts[1])",
        ] {
            #expect(verifier.verify(garbage, now: now).failure == .malformed, "\(garbage)")
        }
    }

    @Test("legacy unsigned badges: refused unless allowed, then checked for expiry and revocation")
    func unsignedBadges() throws {
        let claims = BadgeClaims(kid: "legacy", sub: "vol-3", role: .volunteer, iat: 1_790_000_000, exp: 1_797_776_000)
        let payload = "RC0." + (try JSONEncoder().encode(claims)).base64URL
        #expect(try verifier().verify(payload, now: now).failure == .unsigned)
        let accepted = try verifier(allowUnsigned: true).verify(payload, now: now).get()
        #expect(accepted.unsigned && accepted.claims.sub == "vol-3")
        #expect(try verifier(allowUnsigned: true).verify(payload, now: expires).failure == .expired)
        #expect(try verifier(revoked: [accepted.id], allowUnsigned: true).verify(payload, now: now).failure == .revoked)
    }

    @Test("keys survive being written out and read back; a bad key is refused")
    func keyStorage() throws {
        let restored = try BadgeIssuer(privateKey: issuer.privateKey + "\n", kid: "k1")
        #expect(restored.publicKey == issuer.publicKey)
        let (payload, _) = try restored.issue(subject: "s", role: .staff, issued: issued, expires: expires)
        #expect(try verifier().verify(payload, now: now).failure == nil)
        #expect(throws: BadgeKeyError.self) { try BadgeIssuer(privateKey: "not-a-key") }
        #expect(throws: BadgeKeyError.self) { try BadgeVerifier(keyring: BadgeKeyring(keys: ["x": "AAAA"])) }
        #expect(BadgeIssuer.generate().kid.count == 11, "derived ids are 8 bytes of base64url")
    }

    @Test("issuing refuses what a badge cannot be")
    func issueLimits() {
        #expect(throws: BadgeKeyError.self) {
            try issuer.issue(subject: "", role: .volunteer, issued: issued, expires: expires)
        }
        #expect(throws: BadgeKeyError.self) {
            try issuer.issue(subject: "x", role: .volunteer, issued: expires, expires: issued)
        }
        #expect(throws: BadgeKeyError.self) {
            try issuer.issue(
                subject: String(repeating: "x", count: 129), role: .volunteer, issued: issued, expires: expires)
        }
    }
}

/// The parser under a flood of random and mutated payloads: it never crashes, never accepts a
/// payload that differs from a genuine one, and always gives a reason.
struct BadgeFuzzTests {
    @Test("100,000 random and mutated payloads: nothing forged is accepted")
    func mutations() throws {
        let issuer = BadgeIssuer.generate(kid: "k1")
        let verifier = try BadgeVerifier(keyring: issuer.keyring)
        let genuine = try issuer.issue(subject: "vol-17", role: .volunteer, issued: issued, expires: expires).payload
        let bytes = Array(genuine.utf8)
        var generator = SplitMix64(seed: 0x5EED)
        var reasons: [BadgeRejection: Int] = [:]
        for round in 0..<100_000 {
            var candidate = bytes
            switch round % 6 {
            case 0:  // flip bits
                for _ in 0...(generator.next() % 3) {
                    let index = Int(generator.next() % UInt64(candidate.count))
                    candidate[index] ^= UInt8(1 << (generator.next() % 8))
                }
            case 1:  // truncate
                candidate = Array(candidate.prefix(Int(generator.next() % UInt64(candidate.count))))
            case 2:  // insert random bytes
                let index = Int(generator.next() % UInt64(candidate.count))
                candidate.insert(
                    contentsOf: (0..<(1 + generator.next() % 8)).map { _ in UInt8(truncatingIfNeeded: generator.next())
                    }, at: index)
            case 3:  // swap a character for another base64url character
                let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.".utf8)
                let index = Int(generator.next() % UInt64(candidate.count))
                candidate[index] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
            case 4:  // random bytes of random length, sometimes huge
                let length = Int(generator.next() % (round % 60 == 4 ? 5000 : 300))
                candidate = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            default:  // random printable text with the right prefix and shape
                let length = Int(generator.next() % 200)
                let body = (0..<length).map { _ in UInt8(33 + generator.next() % 94) }
                candidate = Array("RC1.".utf8) + body
            }
            let result = verifier.verify(Data(candidate), now: now)
            if candidate == bytes {
                #expect(result.failure == nil)
                continue
            }
            switch result {
            case .success(let badge):
                // Only an equivalent encoding of the very same signed bytes may pass.
                Issue.record(
                    "accepted a mutated payload for \(badge.claims.sub): \(String(decoding: candidate, as: UTF8.self))")
            case .failure(let reason):
                reasons[reason, default: 0] += 1
            }
        }
        #expect(reasons[.badSignature, default: 0] > 1000)
        #expect(reasons[.malformed, default: 0] > 1000)
        #expect(reasons[.oversized, default: 0] > 0)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

extension Data {
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}

@Test("the claimed subject of a payload is read for audit, forged or not; nonsense gives none")
func claimedSubjectForAudit() throws {
    let issuer = BadgeIssuer.generate(kid: "k1")
    let forger = BadgeIssuer.generate(kid: "k1")
    let now = Date(timeIntervalSince1970: 1_795_420_800)
    let (forged, _) = try forger.issue(subject: "v-mallory", role: .volunteer, issued: now, expires: now + 3600)
    let (valid, _) = try issuer.issue(subject: "v-ada", role: .volunteer, issued: now, expires: now + 3600)
    #expect(BadgeFormat.claimedSubject(of: forged) == "v-mallory")
    #expect(BadgeFormat.claimedSubject(of: valid) == "v-ada")
    #expect(BadgeFormat.claimedSubject(of: "RC1.not-base64!.x") == nil)
    #expect(BadgeFormat.claimedSubject(of: "hello") == nil)
    #expect(BadgeFormat.claimedSubject(of: String(repeating: "A", count: 600)) == nil)
}
