import Foundation
import Imaging
import TestSupport
import Testing
import Vision

/// The pipeline must equal the reference (face_recognition 1.3.0 on dlib 19.24) on every fixture:
/// boxes and landmarks exactly, encodings within 1e-4 (L2).
@Suite(.needsFixturesAndModels)
struct ParityTests {
    @Test("every fixture image has expectations, and every expectation an image")
    func fixturesAreComplete() throws {
        let expected = try loadExpected()
        let files = try FileManager.default.contentsOfDirectory(atPath: TestResources.faces.path)
        #expect(Set(files) == Set(expected.images.keys))
        #expect(expected.images.count >= 13)
    }

    @Test("boxes at upsample 0 equal the reference's, in the detector's order")
    func boxesAtUpsample0() throws {
        let engine = try makeEngine()
        for (name, expected) in try loadExpected().images.sorted(by: { $0.key < $1.key }) {
            let image = try fixtureImage(name)
            #expect(image.width == expected.width && image.height == expected.height, "\(name): size")
            let boxes = try engine.detect(in: image, upsample: 0).map(\.box)
            #expect(boxes == expected.boxes_upsample0, "\(name)")
        }
    }

    @Test("boxes, landmarks and encodings at upsample 1 equal the reference's")
    func facesAtUpsample1() throws {
        let engine = try makeEngine()
        var worst: Float = 0
        for (name, expected) in try loadExpected().images.sorted(by: { $0.key < $1.key }) {
            let faces = try engine.analyze(try fixtureImage(name), upsample: 1)
            #expect(faces.map(\.detection.box) == expected.boxes_upsample1, "\(name): boxes")
            try #require(faces.count == expected.faces_upsample1.count, "\(name): face count")
            for (face, reference) in zip(faces, expected.faces_upsample1) {
                #expect(face.detection.box == reference.box, "\(name)")
                #expect(face.landmarks.points == reference.landmarks, "\(name): landmarks")
                let distance = face.encoding.distance(to: FaceEncoding(values: reference.encoding))
                worst = max(worst, distance)
                #expect(distance <= 1e-4, "\(name): encoding is \(distance) from the reference's")
            }
        }
        #expect(worst > 0, "encodings are computed, not copied from the expectations")
    }

    @Test("an encoding separates people: the same person is near, another is far")
    func encodingsSeparatePeople() throws {
        let engine = try makeEngine()
        func encoding(_ name: String) throws -> FaceEncoding {
            try #require(try engine.analyze(try fixtureImage(name)).first).encoding
        }
        let obama = try encoding("obama.jpg")
        #expect(obama.distance(to: try encoding("obama2.jpg")) < 0.6)
        #expect(obama.distance(to: try encoding("biden.jpg")) > 0.6)
    }
}
