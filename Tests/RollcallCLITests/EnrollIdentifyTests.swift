import Foundation
import Imaging
import TestSupport
import Testing
import Vision

/// `rollcall enroll` and `rollcall identify` on the fixtures, as a technician runs them.
@Suite(
    .enabled(
        if: TestResources.fixturesEnabled && TestResources.modelsEnabled, "needs ../shared/fixtures and the models"))
struct EnrollIdentifyTests {
    struct IdentifiedImage: Decodable {
        struct Face: Decodable {
            var box: [Int]
            var person: String?
            var distance: Float?
            var margin: Float?
            var accepted: Bool
        }
        var image: String
        var faces: [Face]
    }

    func face(_ name: String) -> String { TestResources.faces.appendingPathComponent(name).path }

    /// A gallery with Obama enrolled from one photo and Biden from another.
    func enrolledGallery(in folder: URL) async throws -> String {
        let gallery = folder.appendingPathComponent("gallery.json").path
        let obama = try await runRollcall([
            "enroll", "--gallery", gallery, "--person", "p-obama", "--name", "Barack Obama", "--role", "student",
            "--group", "7B", face("obama.jpg"),
        ])
        #expect(obama.status == 0, "\(obama.out)\(obama.err)")
        let biden = try await runRollcall([
            "enroll", "--gallery", gallery, "--person", "p-biden", "--name", "Joe Biden", "--role", "staff",
            face("biden.jpg"),
        ])
        #expect(biden.status == 0, "\(biden.out)\(biden.err)")
        return gallery
    }

    @Test("every other Obama photo is Obama and never Biden; two_people.jpg is two distinct people")
    func fixtures() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let gallery = try await enrolledGallery(in: folder)
        let obamas = [
            "obama2.jpg", "obama3.jpg", "obama-240p.jpg", "obama-480p.jpg", "obama-720p.jpg", "obama-1080p.jpg",
            "obama_small.jpg", "obama_partial_face.jpg", "obama_partial_face2.jpg", "32bit.png",
        ]
        let result = try await runRollcall(
            ["identify", "--gallery", gallery, "--json"] + obamas.map(face) + [face("two_people.jpg")])
        #expect(result.status == 0, "\(result.err)")
        let lines = try result.out.split(separator: "\n").map {
            try JSONDecoder().decode(IdentifiedImage.self, from: Data($0.utf8))
        }
        try #require(lines.count == obamas.count + 1)
        for line in lines.prefix(obamas.count) {
            #expect(line.faces.count == 1, "\(line.image)")
            #expect(line.faces.allSatisfy { $0.person == "p-obama" && $0.accepted }, "\(line.image): \(line.faces)")
            #expect(line.faces.allSatisfy { ($0.distance ?? 1) < 0.45 && ($0.margin ?? 0) > 0.3 })
        }
        let two = try #require(lines.last)
        #expect(two.faces.count == 2)
        #expect(Set(two.faces.compactMap(\.person)) == ["p-obama", "p-biden"])
        #expect(two.faces.allSatisfy { $0.accepted })
    }

    @Test("the text output names the person, the distance and the margin, and says when a face is not accepted")
    func textOutput() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let gallery = try await enrolledGallery(in: folder)
        let strict = try await runRollcall([
            "identify", "--gallery", gallery, "--accept-distance", "0.2", face("obama3.jpg"), face("obama-480p.jpg"),
        ])
        #expect(strict.status == 0)
        #expect(strict.out.contains("p-obama (Barack Obama), distance 0.3"))
        #expect(strict.out.contains("not accepted, too far"))
        #expect(strict.out.contains(": accepted"))
    }

    @Test("a photo with no face, two faces, a small face, a blurred face or no image is refused with the reason")
    func refusals() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let gallery = folder.appendingPathComponent("gallery.json").path
        let obama = try RGBImage(contentsOfFile: face("obama.jpg"))
        let blurred = folder.appendingPathComponent("blurred.png")
        try obama.blurred(sigma: 4).pngData().write(to: blurred)
        let wall = folder.appendingPathComponent("wall.png")
        try obama.cropped(x: 0, y: 0, width: 300, height: 120).pngData().write(to: wall)
        let notImage = folder.appendingPathComponent("notes.jpg")
        try Data("not a photo".utf8).write(to: notImage)

        let result = try await runRollcall([
            "enroll", "--gallery", gallery, "--person", "p-1", "--name", "Ada", "--role", "student",
            wall.path, face("two_people.jpg"), face("obama-240p.jpg"), blurred.path, notImage.path,
        ])
        #expect(result.status == 1)
        let lines = result.out.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("refused \(wall.path): no face found") }, "\(result.out)")
        #expect(lines.contains { $0.contains("two_people.jpg: 2 faces found") })
        #expect(lines.contains { $0.contains("obama-240p.jpg: the face is too small") })
        #expect(lines.contains { $0.hasPrefix("refused \(blurred.path): the face is blurred") }, "\(result.out)")
        #expect(lines.contains { $0.hasPrefix("refused \(notImage.path):") })
        #expect(lines.last?.contains("0 templates added") == true)
        #expect(!FileManager.default.fileExists(atPath: gallery), "nothing to write, no file")
    }

    @Test("a face already enrolled as someone else is refused; the good photos are still enrolled")
    func duplicates() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let gallery = try await enrolledGallery(in: folder)
        let result = try await runRollcall([
            "enroll", "--gallery", gallery, "--person", "p-new", "--name", "New", "--role", "student",
            face("obama2.jpg"), face("biden.jpg"),
        ])
        #expect(result.status == 1)
        #expect(result.out.contains("obama2.jpg: this face is already enrolled as p-obama"))
        #expect(result.out.contains("biden.jpg: this face is already enrolled as p-biden"))
        // More photos of the same person are welcome.
        let more = try await runRollcall([
            "enroll", "--gallery", gallery, "--person", "p-obama", "--name", "Barack Obama", "--role", "student",
            face("obama2.jpg"), face("obama3.jpg"),
        ])
        #expect(more.status == 0, "\(more.out)")
        #expect(more.out.contains("2 templates added, 3 in total"))
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: gallery)))
        let people = try #require((document as? [String: Any])?["people"] as? [[String: Any]])
        #expect(people.map { $0["id"] as? String } == ["p-obama", "p-biden"])
        #expect((people[0]["groups"] as? [String]) == ["7B"])
    }

    @Test("a missing or broken gallery is a clear error")
    func brokenGallery() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = try await runRollcall([
            "identify", "--gallery", folder.appendingPathComponent("none.json").path, face("obama.jpg"),
        ])
        #expect(missing.status == 69)
        #expect(missing.err.contains("does not exist: enroll people first"))
        let broken = folder.appendingPathComponent("broken.json")
        try Data(
            #"{"format": "rollcall-gallery", "version": 1, "model": "dlib_resnet_v1", "people": [{"id": "x"}]}"#.utf8
        )
        .write(to: broken)
        let result = try await runRollcall(["identify", "--gallery", broken.path, face("obama.jpg")])
        #expect(result.status == 69)
        #expect(result.err.contains("missing \"name\""), "\(result.err)")
    }
}
