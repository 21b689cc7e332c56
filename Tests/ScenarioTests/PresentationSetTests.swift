import Foundation
import Imaging
import Scenario
import TestSupport
import Testing
import Vision

/// The presentation-attack set: the same clips on every run, one presentation each, the face findable in
/// all of them, and the screen and print cues present on the attacks only.
@Suite(
    .enabled(
        if: TestResources.fixturesEnabled && TestResources.modelsEnabled, "needs ../shared/fixtures and the models"))
struct PresentationSetTests {
    @Test("one clip of each kind: files, manifest, a face on every tenth frame, framing edges on the attacks only")
    func clips() throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        var seen: [Int] = []
        let manifest = try PresentationSet.generate(fixtures: TestResources.faces, into: folder, clipsPerKind: 1) {
            done, total in
            seen.append(done)
            #expect(total == 3)
        }
        #expect(seen == [1, 2, 3])
        #expect(manifest.clips.map(\.kind) == [.genuine, .printedPhoto, .phoneScreen])
        #expect(manifest.gallery.map(\.person) == ["p-obama", "p-biden"])
        let written = try ScenarioFiles.decoder().decode(
            PresentationSet.Manifest.self, from: Data(contentsOf: folder.appendingPathComponent("presentation.json")))
        #expect(written == manifest)

        let engine = try FaceEngine(models: try FaceModels(directory: TestResources.models.path))
        for clip in manifest.clips {
            let reader = try VideoReader(path: folder.appendingPathComponent(clip.file).path)
            var index = 0
            var framingSides: [Int] = []
            while let frame = try reader.next() {
                defer { index += 1 }
                guard index % 10 == 0 else { continue }
                let faces = try engine.detect(in: frame, upsample: 0)
                #expect(faces.count == 1, "\(clip.file) frame \(index): \(faces.map(\.box))")
                if let box = faces.first?.box {
                    framingSides.append(
                        try frame.presentationCues(left: box.left, top: box.top, right: box.right, bottom: box.bottom)
                            .framingSides)
                }
            }
            #expect(index == PresentationSet.framesPerClip)
            if clip.kind.isAttack {
                #expect(
                    framingSides.filter { $0 >= 3 }.count >= framingSides.count / 2, "\(clip.file): \(framingSides)")
            } else {
                #expect(framingSides.allSatisfy { $0 < 3 }, "\(clip.file): \(framingSides)")
            }
        }

        // The same seeds make the same clips.
        let again = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: again) }
        _ = try PresentationSet.generate(fixtures: TestResources.faces, into: again, clipsPerKind: 1)
        for clip in manifest.clips {
            let first = try VideoReader(path: folder.appendingPathComponent(clip.file).path).next()
            let second = try VideoReader(path: again.appendingPathComponent(clip.file).path).next()
            #expect(first?.pixels == second?.pixels, "\(clip.file)")
        }
    }

    @Test("a missing fixtures folder is an error naming it, and nothing is written")
    func missingFixtures() throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("set")
        #expect(throws: ScenarioError.self) {
            try PresentationSet.generate(fixtures: folder.appendingPathComponent("none"), into: target)
        }
        #expect(!FileManager.default.fileExists(atPath: target.path))
    }
}
