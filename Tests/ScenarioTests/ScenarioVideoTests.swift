import Attendance
import Badges
import Foundation
import Imaging
import QRScanning
import Scenario
import TestSupport
import Testing
import Vision

/// A scenario generated once for the whole suite (it takes a few seconds), read back into memory,
/// and its folder removed.
struct GeneratedScenario: Sendable {
    var files: ScenarioFiles
    var sessions: Data
    var badgeKeys: Data
    var manifest: Data
    /// Frames as decoded from the video, at the frames the tests look at.
    var frames: [Int: RGBImage]
    var frameCount: Int
    var videoSize: (width: Int, height: Int)
    var videoFPS: Double?

    static let sampled: Set<Int> = [5, 16, 46, 60, 125, 176, 190, 240, 300]

    init() throws {
        let directory = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        files = try ScenarioVideo.generate(fixtures: TestResources.faces, into: directory)
        sessions = try Data(contentsOf: files.sessions)
        badgeKeys = try Data(contentsOf: files.badgeKeys)
        manifest = try Data(contentsOf: files.manifestFile)
        let reader = try VideoReader(path: files.video.path)
        videoSize = (reader.width, reader.height)
        videoFPS = reader.fps
        var frames: [Int: RGBImage] = [:]
        var count = 0
        while let frame = try reader.next() {
            if Self.sampled.contains(count) { frames[count] = frame }
            count += 1
        }
        self.frames = frames
        frameCount = count
    }

    func frame(_ index: Int) throws -> RGBImage {
        try #require(frames[index], "frame \(index) was not kept")
    }
}

let generatedScenario = Result { try GeneratedScenario() }

/// Models loaded once for the suite.
let scenarioModels = Result { try FaceModels(directory: TestResources.models.path) }

/// Luma (BT.601 weights), as the daemon feeds zbar.
func luma(_ image: RGBImage) throws -> GreyImage {
    var grey = [UInt8](repeating: 0, count: image.width * image.height)
    image.pixels.withUnsafeBufferPointer { rgb in
        for index in grey.indices {
            let red: UInt32 = 77 * UInt32(rgb[3 * index])
            let green: UInt32 = 150 * UInt32(rgb[3 * index + 1])
            let blue: UInt32 = 29 * UInt32(rgb[3 * index + 2])
            grey[index] = UInt8((red + green + blue + 128) >> 8)
        }
    }
    return try GreyImage(width: image.width, height: image.height, pixels: grey)
}

/// A JSON value written with sorted keys, to compare two values whatever their key order.
func canonical(_ value: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
}

/// Intersection over union of two boxes (right and bottom inclusive).
func overlap(_ a: FaceBox, _ b: FaceBox) -> Double {
    let width = max(0, min(a.right, b.right) - max(a.left, b.left) + 1)
    let height = max(0, min(a.bottom, b.bottom) - max(a.top, b.top) + 1)
    let shared = Double(width * height)
    return shared / (Double(a.width * a.height + b.width * b.height) - shared)
}

@Suite(
    .enabled(
        if: TestResources.fixturesEnabled && TestResources.modelsEnabled,
        "needs ../shared/fixtures and the models (make models)"))
struct ScenarioVideoTests {
    @Test("the video has 360 frames of 640x360 at 30 fps")
    func video() throws {
        let scenario = try generatedScenario.get()
        #expect(scenario.frameCount == 360)
        #expect(scenario.videoSize.width == 640 && scenario.videoSize.height == 360)
        #expect(scenario.videoFPS == 30)
        let manifest = scenario.files.manifest
        let stated: [Int] = [manifest.frames, manifest.width, manifest.height, manifest.fps]
        #expect(stated == [360, 640, 360, 30])
    }

    @Test("sessions.json has exactly the shape the replay's decoder reads")
    func sessionsFile() throws {
        let scenario = try generatedScenario.get()
        let expected: [String: Any] = [
            "room": "B12",
            "policy": ["qr_repeat_seconds": 1, "volunteer_debounce_seconds": 2],
            "sessions": [
                [
                    "id": "s-math-7b", "group": "7B", "start": "2026-11-23T08:00:00Z", "end": "2026-11-23T08:45:00Z",
                    "roster": ["p-obama"],
                ]
            ],
        ]
        #expect(try canonical(try JSONSerialization.jsonObject(with: scenario.sessions)) == canonical(expected))
    }

    @Test("manifest.json: start, gallery plan, expected decisions, and a box per frame of each appearance")
    func manifestFile() throws {
        let scenario = try generatedScenario.get()
        let json = try #require(try JSONSerialization.jsonObject(with: scenario.manifest) as? [String: Any])
        #expect(json["start"] as? String == "2026-11-23T08:02:00Z")
        let gallery: [[String: Any]] = [
            ["person": "p-obama", "name": "Barack Obama", "role": "student", "images": ["obama.jpg", "obama2.jpg"]]
        ]
        #expect(try canonical(try #require(json["gallery"])) == canonical(gallery))
        let expected = try #require(json["expected"] as? [[String: Any]])
        #expect(expected.allSatisfy { $0.keys.contains("person") }, "person is always written, null included")

        let manifest = try ScenarioFiles.decoder().decode(ScenarioManifest.self, from: scenario.manifest)
        #expect(manifest == scenario.files.manifest)
        typealias Decision = ScenarioManifest.Decision
        #expect(
            manifest.expected == [
                Decision(kind: .checkin, person: "p-obama", firstFrame: 15, lastFrame: 25, status: "present"),
                Decision(kind: .unknownFace, person: nil, firstFrame: 45, lastFrame: 50),
                Decision(kind: .entry, person: "v-ada", firstFrame: 120, lastFrame: 130),
                Decision(kind: .exit, person: "v-ada", firstFrame: 220, lastFrame: 230),
                Decision(kind: .rejectedBadge, person: nil, firstFrame: 280, lastFrame: 290, reason: "bad_signature"),
            ])
        let spans = manifest.appearances.map { "\($0.kind.rawValue) \($0.firstFrame)-\($0.lastFrame)" }
        #expect(
            spans == [
                "face 15-104", "face 45-104", "badge 120-160", "face 175-205", "badge 220-260", "badge 280-320",
                "face 330-359",
            ])
        for appearance in manifest.appearances {
            #expect(appearance.boxes.count == appearance.lastFrame - appearance.firstFrame + 1)
            #expect(appearance.boxes.allSatisfy { $0.left >= 0 && $0.top >= 0 && $0.right < 640 && $0.bottom < 360 })
            if appearance.kind == .face {
                #expect(appearance.boxes.allSatisfy { (110...140).contains($0.width) }, "faces are 110-140 px wide")
                let enrolment = ["obama.jpg", "obama2.jpg", "obama_small.jpg", "32bit.png"]
                #expect(!enrolment.contains(appearance.source) && !appearance.source.hasPrefix("obama-"))
            }
        }
        #expect(manifest.time(ofFrame: 30) == manifest.start.addingTimeInterval(1))
    }

    @Test(
        "the detector (upsample 0) finds every face meant to be found, where the manifest says, and nothing else",
        arguments: [5, 16, 46, 60, 125, 176, 190])
    func faces(frame: Int) throws {
        let scenario = try generatedScenario.get()
        let engine = try FaceEngine(models: try scenarioModels.get())
        let found = try engine.detect(in: try scenario.frame(frame), upsample: 0)
        let expected = scenario.files.manifest.appearances(inFrame: frame).filter { $0.kind == .face }
        #expect(found.count == expected.count, "frame \(frame): \(found.map(\.box))")
        for appearance in expected {
            let box = try #require(appearance.box(atFrame: frame))
            let best = found.map { overlap($0.box, box) }.max() ?? 0
            #expect(best > 0.5, "frame \(frame): \(appearance.source) at \(box), found \(found.map(\.box))")
        }
    }

    @Test("two faces are on screen together at frame 60")
    func twoFaces() throws {
        let scenario = try generatedScenario.get()
        let engine = try FaceEngine(models: try scenarioModels.get())
        #expect(try engine.detect(in: try scenario.frame(60), upsample: 0).count == 2)
    }

    @Test("the student's face matches his enrolment photos (in poor light too); the stranger's does not")
    func identities() throws {
        let scenario = try generatedScenario.get()
        let manifest = scenario.files.manifest
        let engine = try FaceEngine(models: try scenarioModels.get())
        let enrolled = try manifest.gallery[0].images.map { name in
            let photo = try RGBImage(contentsOfFile: TestResources.faces.appendingPathComponent(name).path)
            return try #require(try engine.analyze(photo).first).encoding
        }
        for frame in [16, 46, 176] {
            let image = try scenario.frame(frame)
            for appearance in manifest.appearances(inFrame: frame) where appearance.kind == .face {
                let box = try #require(appearance.box(atFrame: frame))
                let encoding = try #require(
                    try engine.encode(in: image, faces: try engine.landmarks(in: image, boxes: [box])).first)
                let distance = try #require(enrolled.map { encoding.distance(to: $0) }.min())
                if appearance.person == "p-obama" {
                    #expect(distance < 0.45, "frame \(frame): the student at \(distance)")
                } else {
                    #expect(distance > 0.65, "frame \(frame): the stranger at \(distance)")
                }
            }
        }
    }

    @Test("the QR scanner reads the valid badge at frames 125 and 240, the forged one at 300, nothing at 5")
    func badges() throws {
        let scenario = try generatedScenario.get()
        let manifest = scenario.files.manifest
        let badges = manifest.appearances.filter { $0.kind == .badge }
        let valid = try #require(badges.first { $0.person == "v-ada" }?.payload)
        let forged = try #require(badges.first { $0.person == "v-mallory" }?.payload)
        #expect(valid != forged)
        let scanner = QRScanner()
        #expect(scanner.scan(try luma(try scenario.frame(5))).isEmpty)
        #expect(scanner.scan(try luma(try scenario.frame(60))).isEmpty)
        #expect(scanner.scan(try luma(try scenario.frame(125))) == [Data(valid.utf8)])
        #expect(scanner.scan(try luma(try scenario.frame(240))) == [Data(valid.utf8)])
        #expect(scanner.scan(try luma(try scenario.frame(300))) == [Data(forged.utf8)])
    }

    @Test("against badge-keys.json the valid badge verifies and the forged one fails with bad_signature")
    func verification() throws {
        let scenario = try generatedScenario.get()
        let manifest = scenario.files.manifest
        let keyring = try JSONDecoder().decode(BadgeKeyring.self, from: scenario.badgeKeys)
        #expect(Array(keyring.keys.keys) == ["scenario"] && keyring.revoked.isEmpty)
        let verifier = try BadgeVerifier(keyring: keyring)
        let badges = manifest.appearances.filter { $0.kind == .badge }
        for badge in badges {
            let payload = try #require(badge.payload)
            let result = verifier.verify(payload, now: manifest.time(ofFrame: badge.firstFrame))
            switch badge.person {
            case "v-ada":
                let verified = try result.get()
                #expect(verified.claims.sub == "v-ada" && verified.claims.role == .volunteer)
                #expect(verified.claims.kid == "scenario")
                // Valid from 2026-11-01 to 2026-12-31.
                #expect(verified.claims.iat == 1_793_491_200 && verified.claims.exp == 1_798_675_200)
            default:
                #expect(result.failure == .badSignature)
            }
        }
        #expect(badges.count == 3)
    }

    @Test(
        "apart from the badge keys, generating again gives the same manifest and the same pixels; --fps 5 stamps the same frames at 5 fps"
    )
    func deterministic() throws {
        let scenario = try generatedScenario.get()
        let directory = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let again = try ScenarioVideo.generate(
            fixtures: TestResources.faces, into: directory, dumpingFrames: [], to: nil, playedAt: 5)
        #expect(again.manifest.fps == 5)
        #expect(again.manifest.time(ofFrame: 10) == ScenarioVideo.start.addingTimeInterval(2))
        var first = scenario.files.manifest
        var second = again.manifest
        second.fps = first.fps
        for index in first.appearances.indices {
            first.appearances[index].payload = nil
            second.appearances[index].payload = nil
        }
        #expect(first == second)
        #expect(try Data(contentsOf: again.sessions) == scenario.sessions)
        // Frame 60 holds no badge, so its pixels do not depend on the keys.
        let reader = try VideoReader(path: again.video.path)
        #expect(reader.fps == 5)
        var frame: RGBImage?
        for _ in 0...60 { frame = try reader.next() }
        #expect(frame == (try scenario.frame(60)))
    }
}

extension Result {
    /// The error, or nil on success.
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
