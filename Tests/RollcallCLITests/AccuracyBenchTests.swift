import Foundation
import TestSupport
import Testing

/// `rollcall bench accuracy` and `rollcall gallery audit` on the fixtures, as a technician runs them.
@Suite(
    .enabled(
        if: TestResources.fixturesEnabled && TestResources.modelsEnabled, "needs ../shared/fixtures and the models"))
struct AccuracyBenchTests {
    struct Report: Decodable {
        struct OperatingPoint: Decodable {
            var fpir: Double
            var fnir: Double
            var recognised: Int
            var strangers_accepted: Int
            var misidentified: Int
            var calibrations: [Calibration]
        }
        struct Calibration: Decodable {
            var accept_distance: Double
            var cohort_measured: Bool
        }
        struct Dataset: Decodable {
            var people: Int
            var photos: Int
            var failures_to_acquire: Int
        }
        struct Tracks: Decodable {
            var stranger_tracks: Int
            var stranger_accepted: Int
            var enrolled_tracks: Int
            var recognised: Int
        }
        var dataset: Dataset
        var mated_searches: Int
        var non_mated_searches: Int
        var operating_point: OperatingPoint
        var tracks: Tracks
        var det: [[String: Double]]
    }

    func face(_ name: String) -> URL { TestResources.faces.appendingPathComponent(name) }

    /// Obama (six photos) and Biden (his portrait, and the photo of the two where his face is the larger).
    func identities(in folder: URL) throws -> URL {
        let root = folder.appendingPathComponent("identities")
        let people = [
            "obama": ["obama.jpg", "obama2.jpg", "obama3.jpg", "obama-480p.jpg", "obama-720p.jpg", "32bit.png"],
            "biden": ["biden.jpg", "two_people.jpg"],
        ]
        for (person, photos) in people {
            let directory = root.appendingPathComponent(person)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for photo in photos {
                try FileManager.default.createSymbolicLink(
                    at: directory.appendingPathComponent(photo), withDestinationURL: face(photo))
            }
        }
        try "not a photo".write(to: root.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        return root
    }

    @Test("bench accuracy enrolls Biden, searches Obama as a stranger, and draws the DET curve")
    func accuracy() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try identities(in: folder)
        let det = folder.appendingPathComponent("det.svg").path
        let result = try await runRollcall([
            "bench", "accuracy", root.path, "--photos", "1", "--tracks", "4", "--det", det, "--json",
        ])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.err.contains("8/8 photos searched for faces"))
        let report = try JSONDecoder().decode(Report.self, from: Data(result.out.utf8))
        #expect(report.dataset.people == 2 && report.dataset.photos == 8 && report.dataset.failures_to_acquire == 0)
        // Biden (first by name) is enrolled from his portrait and searched with the photo of the two;
        // Obama's five photos after his first are strangers' searches.
        #expect(report.mated_searches == 1 && report.non_mated_searches == 5)
        #expect(report.operating_point.recognised == 1 && report.operating_point.strangers_accepted == 0)
        #expect(report.operating_point.fpir == 0 && report.operating_point.fnir == 0)
        #expect(report.operating_point.misidentified == 0)
        let calibration = try #require(report.operating_point.calibrations.first)
        #expect(!calibration.cohort_measured && calibration.accept_distance > 0.3 && calibration.accept_distance < 0.6)
        #expect(report.tracks.stranger_tracks == 4 && report.tracks.stranger_accepted == 0)
        #expect(report.tracks.enrolled_tracks == 4 && report.tracks.recognised == 4)
        #expect(report.det.first?["fnir"] == 1 && report.det.last?["fpir"] == 1)

        let svg = try String(contentsOfFile: det, encoding: .utf8)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.hasSuffix("</svg>\n"))
        // The curve: one vertex per point of the JSON's curve; the operating point as a dot.
        let path = try #require(svg.split(separator: "\n").first { $0.hasPrefix("<path d=\"M") })
        #expect(
            path.split(separator: " ").filter { $0.hasPrefix("L") || $0.contains("d=\"M") }.count == report.det.count)
        #expect(svg.contains("<circle") && svg.contains("operating point"))
        #expect(svg.count { $0 == "<" } == svg.count { $0 == ">" }, "tags are balanced")

        let text = try await runRollcall(["bench", "accuracy", root.path, "--photos", "1", "--rounds", "3"])
        #expect(text.status == 0, "\(text.err)")
        #expect(text.out.contains("2 people, 8 photos (0 without a face); 3 rounds"))
        #expect(text.out.contains("at the operating point: FPIR"))
        #expect(text.out.contains("FNIR at FPIR 0.10%") && text.out.contains("not resolved"))
    }

    @Test("bench accuracy refuses a folder that is not a set of identities, saying why")
    func refusals() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = try await runRollcall(["bench", "accuracy", folder.appendingPathComponent("none").path])
        #expect(missing.status != 0 && missing.err.contains("is not a folder"))
        let one = folder.appendingPathComponent("one/obama")
        try FileManager.default.createDirectory(at: one, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: one.appendingPathComponent("a.jpg"), withDestinationURL: face("obama.jpg"))
        let single = try await runRollcall(["bench", "accuracy", one.deletingLastPathComponent().path])
        #expect(single.status != 0 && single.err.contains("needs at least two people"))
        let root = try identities(in: folder)
        let few = try await runRollcall(["bench", "accuracy", root.path, "--photos", "2"])
        #expect(few.status != 0 && few.err.contains("1 of 2 people have more than 2 photos with a face"), "\(few.err)")
        let share = try await runRollcall(["bench", "accuracy", root.path, "--enroll-share", "1"])
        #expect(share.status != 0 && share.err.contains("--enroll-share"))
    }

    @Test("gallery audit names two ids enrolled with the same face, and passes a gallery without them")
    func audit() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let gallery = folder.appendingPathComponent("gallery.json").path
        func enroll(_ person: String, _ photo: String, _ extra: [String] = []) async throws {
            let result = try await runRollcall(
                ["enroll", "--gallery", gallery, "--person", person, "--name", person, "--role", "student"] + extra
                    + [face(photo).path])
            #expect(result.status == 0, "\(result.err)")
        }
        try await enroll("obama", "obama.jpg")
        try await enroll("biden", "biden.jpg")
        let clean = try await runRollcall(["gallery", "audit", "--gallery", gallery])
        #expect(clean.status == 0 && clean.out.contains("no pair of people is in the danger zone"), "\(clean.out)")
        // The same man under a second id (enroll's own check is loosened to let it in).
        try await enroll("obama-again", "obama2.jpg", ["--accept-distance", "0.05"])
        let audit = try await runRollcall(["gallery", "audit", "--gallery", gallery])
        #expect(audit.status == 1)
        #expect(
            audit.out.contains("confusable: obama (obama) and obama-again (obama-again), distance 0.3"), "\(audit.out)")
        #expect(!audit.out.contains("biden ("))
        let json = try await runRollcall(["gallery", "audit", "--gallery", gallery, "--json"])
        struct Audit: Decodable {
            struct Pair: Decodable {
                var first: String
                var second: String
                var level: String
                var distance: Double
            }
            var people: Int
            var accept_distance: Double
            var pairs: [Pair]
        }
        let parsed = try JSONDecoder().decode(Audit.self, from: Data(json.out.utf8))
        #expect(parsed.people == 3 && parsed.pairs.count == 1)
        #expect(parsed.pairs[0].first == "obama" && parsed.pairs[0].second == "obama-again")
        #expect(parsed.pairs[0].level == "confusable" && parsed.pairs[0].distance < parsed.accept_distance)
    }
}
