import Capture
import Foundation
import Imaging
import QRScanning
import TestSupport
import Testing
import Vision

struct BadgeCommandTests {
    @Test("keygen, issue with a PNG, verify: the printed QR code reads back as the payload, which verifies")
    func lifecycle() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = folder.appendingPathComponent("signing.key").path
        let ring = folder.appendingPathComponent("keyring.json").path
        let keygen = try await runRollcall(["badge", "keygen", "--out", key, "--kid", "school-2026", "--keyring", ring])
        #expect(keygen.status == 0, "\(keygen.err)")
        let attributes = try FileManager.default.attributesOfItem(atPath: key)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(keygen.out.contains(#""kid":"school-2026""#))
        #expect(
            try await runRollcall(["badge", "keygen", "--out", key]).status != 0, "a key is never overwritten silently")

        let png = folder.appendingPathComponent("badge.png").path
        let issue = try await runRollcall([
            "badge", "issue", "--key", key, "--kid", "school-2026", "--subject", "vol-17", "--role", "volunteer",
            "--expires", "2099-06-30", "--png", png, "--json",
        ])
        #expect(issue.status == 0, "\(issue.err)")
        let issued = try #require(try JSONSerialization.jsonObject(with: Data(issue.out.utf8)) as? [String: Any])
        let payload = try #require(issued["payload"] as? String)
        let id = try #require(issued["id"] as? String)
        #expect(issued["expires"] as? Int == 4_086_547_200, "valid to the end of 2099-06-30 UTC (2099-07-01T00:00Z)")

        let image = try RGBImage(contentsOfFile: png)
        #expect(QRScanner().scan(try PixelConversion.greyFromRGB(image)) == [Data(payload.utf8)])

        let valid = try await runRollcall(["badge", "verify", payload, "--keyring", ring])
        #expect(valid.status == 0)
        #expect(valid.out.contains("valid: volunteer vol-17"))
        let expired = try await runRollcall(["badge", "verify", payload, "--keyring", ring, "--at", "2099-07-01"])
        #expect(expired.status == 1 && expired.out.contains("expired"))

        // Revoke it in the keyring: refused.
        var keyring = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ring))) as? [String: Any])
        keyring["revoked"] = [id]
        try JSONSerialization.data(withJSONObject: keyring).write(to: URL(fileURLWithPath: ring))
        let revoked = try await runRollcall(["badge", "verify", payload, "--keyring", ring])
        #expect(revoked.status == 1 && revoked.out.contains("revoked"))
    }

    @Test("a badge from another school's key is refused as an unknown key; garbage as malformed")
    func foreignAndGarbage() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let ours = folder.appendingPathComponent("ours.key").path
        let theirs = folder.appendingPathComponent("theirs.key").path
        #expect(try await runRollcall(["badge", "keygen", "--out", ours]).status == 0)
        #expect(try await runRollcall(["badge", "keygen", "--out", theirs]).status == 0)
        let foreign = try await runRollcall([
            "badge", "issue", "--key", theirs, "--subject", "x", "--expires", "2099-01-01",
        ])
        let payload = foreign.out.trimmingCharacters(in: .whitespacesAndNewlines)
        let refused = try await runRollcall(["badge", "verify", payload, "--key", ours])
        #expect(refused.status == 1 && refused.out.contains("unknown_key"))
        let garbage = try await runRollcall(["badge", "verify", "https://example.org/not-a-badge", "--key", ours])
        #expect(garbage.status == 1 && garbage.out.contains("malformed"))
        let past = try await runRollcall(["badge", "issue", "--key", ours, "--subject", "x", "--expires", "2001-01-01"])
        #expect(past.status != 0 && past.err.contains("in the past"))
    }
}
