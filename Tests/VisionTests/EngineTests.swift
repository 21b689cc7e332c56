import Foundation
import Imaging
import TestSupport
import Testing
import Vision

@Suite(.needsFixturesAndModels)
struct EngineTests {
    @Test("an engine is reusable: the same image twice gives the same faces")
    func reusable() throws {
        let engine = try makeEngine()
        let image = try fixtureImage("two_people.jpg")
        let first = try engine.analyze(image)
        _ = try engine.analyze(try fixtureImage("obama.jpg"))
        #expect(try engine.analyze(image) == first)
        #expect(first.count == 2)
    }

    @Test("a batch gives the same encodings as one face at a time")
    func batchEqualsSingle() throws {
        let engine = try makeEngine()
        let image = try fixtureImage("two_people.jpg")
        let shapes = try engine.landmarks(in: image, boxes: try engine.detect(in: image).map(\.box))
        let batch = try engine.encode(in: image, faces: shapes)
        for (shape, batched) in zip(shapes, batch) {
            let single = try #require(try engine.encode(in: image, faces: [shape]).first)
            #expect(single.distance(to: batched) < 1e-5)
        }
    }

    @Test("several threads at once give the results of one thread")
    func concurrentWorkers() async throws {
        let models = try sharedModels.get()
        let names = ["obama.jpg", "biden.jpg", "two_people.jpg", "obama_small.jpg"]
        let engine = try FaceEngine(models: models)
        let serial = try names.map { try engine.analyze(try fixtureImage($0)) }
        let workers = try VisionWorkers(models: models, count: 3)
        let parallel = try await withThrowingTaskGroup(of: (Int, [AnalyzedFace]).self) { group in
            for round in 0..<3 {
                for (index, name) in names.enumerated() {
                    group.addTask {
                        (index + round * names.count, try await workers.run { try $0.analyze(try fixtureImage(name)) })
                    }
                }
            }
            return try await group.reduce(into: [Int: [AnalyzedFace]]()) { $0[$1.0] = $1.1 }
        }
        #expect(parallel.count == 12)
        for (key, faces) in parallel {
            let expected = serial[key % names.count]
            #expect(faces.map(\.detection.box) == expected.map(\.detection.box))
            #expect(faces.map(\.landmarks) == expected.map(\.landmarks))
            for (face, reference) in zip(faces, expected) {
                #expect(face.encoding.distance(to: reference.encoding) < 1e-5)
            }
        }
    }

    @Test("an error inside a worker reaches the caller, and the worker keeps working")
    func workerErrors() async throws {
        let workers = try VisionWorkers(models: try sharedModels.get(), count: 1)
        await #expect(throws: VisionError.self) {
            try await workers.run { _ in try RGBImage(contentsOfFile: "/nonexistent/face.jpg") }
        }
        let faces = try await workers.run { try $0.analyze(try fixtureImage("obama.jpg")) }
        #expect(faces.count == 1)
    }

    @Test("an image without a face gives no faces; empty inputs give empty outputs")
    func noFaces() throws {
        let engine = try makeEngine()
        let blank = try RGBImage(width: 320, height: 240, pixels: [UInt8](repeating: 128, count: 320 * 240 * 3))
        #expect(try engine.analyze(blank, upsample: 1).isEmpty)
        #expect(try engine.landmarks(in: blank, boxes: []).isEmpty)
        #expect(try engine.encode(in: blank, faces: []).isEmpty)
    }

    @Test("upsample outside 0...4 is refused", arguments: [-1, 5, 100])
    func upsampleRange(upsample: Int) throws {
        let engine = try makeEngine()
        let image = try RGBImage(width: 8, height: 8, pixels: [UInt8](repeating: 0, count: 192))
        #expect(throws: VisionError.self) { try engine.detect(in: image, upsample: upsample) }
    }

    @Test("faces cut by the border keep their negative coordinates")
    func partialFaces() throws {
        let engine = try makeEngine()
        let box = try #require(try engine.detect(in: try fixtureImage("obama_partial_face.jpg")).first?.box)
        #expect(box.left < 0 || box.top < 0)
    }
}
