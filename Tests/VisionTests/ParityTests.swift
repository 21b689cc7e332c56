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

    /// The door's descriptor comes from the core's own forward pass over dlib's weights: it must give what
    /// dlib's forward pass of the same network gives, on every fixture face and on variations of each
    /// (brighter, darker, flatter, harsher, smaller), one face at a time and in batches across dlib's
    /// batch of 16 (the core splits a large batch into groups of its own).
    @Test("the core's forward pass gives dlib's descriptors, one at a time and in batches of 1 to 17")
    func corePassEqualsDlibPass() throws {
        let engine = try makeEngine()
        var compared = 0
        var worst: Float = 0
        var pool: [(RGBImage, FaceLandmarks)] = []
        for name in try loadExpected().images.keys.sorted() {
            let original = try fixtureImage(name)
            let variants = [
                original,
                try original.adjusted(brightness: 40),
                try original.adjusted(brightness: -50),
                try original.adjusted(contrast: 0.6),
                try original.adjusted(contrast: 1.6),
                try original.resized(width: original.width * 3 / 4, height: original.height * 3 / 4),
            ]
            for image in variants {
                let boxes = try engine.detect(in: image, upsample: 1).map(\.box)
                let shapes = try engine.landmarks(in: image, boxes: boxes)
                guard !shapes.isEmpty else { continue }
                let core = try engine.encode(in: image, faces: shapes)
                let dlib = try engine.encode(in: image, faces: shapes, pass: .dlib)
                for (ours, theirs) in zip(core, dlib) {
                    let distance = ours.distance(to: theirs)
                    worst = max(worst, distance)
                    compared += 1
                    #expect(distance <= 1e-4, "\(name): the core's descriptor is \(distance) from dlib's")
                }
                pool.append((image, shapes[0]))
            }
        }
        #expect(compared >= 72, "only \(compared) faces compared")
        // Batches: the same face many times over, so that each row must equal the single pass.
        let (image, shape) = try #require(pool.first)
        let single = try #require(try engine.encode(in: image, faces: [shape], pass: .dlib).first)
        for count in [1, 2, 7, 16, 17] {
            let batch = try engine.encode(in: image, faces: Array(repeating: shape, count: count))
            #expect(batch.count == count)
            for row in batch {
                worst = max(worst, row.distance(to: single))
                #expect(row.distance(to: single) <= 1e-4, "batch of \(count)")
            }
        }
        #expect(worst < 1e-4)
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
