import Foundation
import Scenario
import TestSupport
import Testing

/// `rollcall bench presentation` on a small generated attack set, as the README runs it on the full one:
/// every clip goes through the door's whole pipeline.
@Suite(
    .enabled(
        if: TestResources.fixturesEnabled && TestResources.modelsEnabled, "needs ../shared/fixtures and the models"))
struct PresentationBenchTests {
    struct Report: Decodable {
        struct Attack: Decodable {
            var kind: String
            var presentations: Int
            var recognised: Int
            var accepted_as_live: Int
            var apcer: Double
        }
        struct Clip: Decodable {
            var kind: String
            var outcome: String
            var reason: String?
            var scores: [String: Double]?
        }
        var attacks: [Attack]
        var genuine: Int
        var genuine_checked_in: Int
        var bpcer: Double
        var stage_ms: Double
        var fps: Double
        var clips: [Clip]?
    }

    @Test("two clips of each kind: the genuine approaches check in, the photos and screens are refused")
    func smallSet() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try PresentationSet.generate(fixtures: TestResources.faces, into: folder, clipsPerKind: 2)
        let result = try await runRollcall([
            "bench", "presentation", folder.path, "--fixtures", TestResources.faces.path, "--json", "--clips",
        ])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.err.contains("6/6 clips replayed"))
        let report = try JSONDecoder().decode(Report.self, from: Data(result.out.utf8))
        #expect(report.attacks.map(\.kind) == ["printed_photo", "phone_screen"])
        for attack in report.attacks {
            #expect(attack.presentations == 2 && attack.recognised == 2, "\(attack.kind): recognised as the person")
            #expect(attack.accepted_as_live == 0 && attack.apcer == 0, "\(attack.kind)")
        }
        #expect(report.genuine == 2 && report.genuine_checked_in == 2 && report.bpcer == 0)
        #expect(report.stage_ms > 0 && report.fps > 0)
        let clips = try #require(report.clips)
        #expect(clips.count == 6)
        for clip in clips where clip.kind != "genuine" {
            #expect(clip.outcome == "refused" && clip.reason != nil)
        }
        for clip in clips where clip.kind == "genuine" {
            #expect(clip.outcome == "checked_in" && (clip.scores?["parallax"] ?? 0) > 0)
        }

        let text = try await runRollcall([
            "bench", "presentation", folder.path, "--fixtures", TestResources.faces.path, "--detectors", "geometry",
        ])
        #expect(text.status == 0, "\(text.err)")
        #expect(text.out.contains("deciding: geometry") && text.out.contains("APCER printed_photo"))
        #expect(text.out.contains("BPCER") && text.out.contains("ms median"))
    }

    @Test("a folder without presentation.json is refused, saying how to make one; a bad --detectors too")
    func refusals() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = try await runRollcall(["bench", "presentation", folder.path])
        #expect(missing.status != 0 && missing.err.contains("rollcall-scenario --presentation"))
        try "{\"clips\": 3}".write(
            to: folder.appendingPathComponent("presentation.json"), atomically: true, encoding: .utf8)
        let garbage = try await runRollcall(["bench", "presentation", folder.path])
        #expect(garbage.status != 0 && garbage.err.contains("presentation.json cannot be read"))
        let wrong = try await runRollcall(["bench", "presentation", folder.path, "--detectors", "magic"])
        #expect(wrong.status != 0 && wrong.err.contains("--detectors must be both, geometry or appearance"))
    }
}
