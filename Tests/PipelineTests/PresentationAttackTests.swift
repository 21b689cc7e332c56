import Attendance
import Badges
import Enrollment
import Foundation
import Imaging
import Recognition
import Testing

@testable import Pipeline
@testable import Vision

/// The presentation-attack stage: its geometry on grey frames made here (a textured picture tilted as a
/// hand tilts it, and the same texture with a middle that moves against its edges as a turning head's
/// does), and the stage in the door's decision step (waiting for it, checking in, refusing).
struct PresentationAttackTests {
    static let size = (width: 320, height: 240)
    /// The face's box in every frame.
    static let box = FaceBox(left: 100, top: 60, right: 219, bottom: 179)

    /// A smooth texture with corners to track (products of sines and a few blobs), at a real position.
    static func texture(_ x: Double, _ y: Double) -> Double {
        var value = 128 + 50 * sin(x / 4.1) * sin(y / 5.3) + 30 * sin((x + 2 * y) / 7.7)
        for (cx, cy) in [(130.0, 90.0), (190.0, 150.0), (160.0, 120.0), (120.0, 160.0), (200.0, 80.0)] {
            value += 40 * exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / 60)
        }
        return value
    }

    /// A frame whose pixel (x, y) shows the texture at `source(x, y)`.
    static func frame(_ source: (Double, Double) -> (Double, Double)) throws -> GreyImage {
        var pixels = [UInt8](repeating: 0, count: size.width * size.height)
        for y in 0..<size.height {
            for x in 0..<size.width {
                let (u, v) = source(Double(x), Double(y))
                pixels[y * size.width + x] = UInt8(max(0, min(255, texture(u, v).rounded())))
            }
        }
        return try GreyImage(width: size.width, height: size.height, pixels: pixels)
    }

    /// A flat picture turning about its vertical axis by `step` a frame: foreshortened across, in perspective.
    static func flat(_ index: Int, step: Double = 0.008) throws -> GreyImage {
        let squeeze = 1 - step * Double(index)
        let perspective = 0.00005 * Double(index)
        return try frame { x, y in
            let dx = x - 160
            let w = 1 + perspective * dx
            return (160 + dx / squeeze / w, 120 + (y - 120) / w)
        }
    }

    /// A head turning by a small step a frame: its middle (the nose and cheeks) slides across against its
    /// edges, by up to 0.5 px a frame.
    static func head(_ index: Int) throws -> GreyImage {
        try frame { x, y in
            let bulge = exp(-((x - 160) * (x - 160) + (y - 120) * (y - 120)) / (2 * 30 * 30))
            return (x - 0.5 * Double(index) * bulge, y)
        }
    }

    static func trackFrames(_ count: Int, _ make: (Int) throws -> GreyImage) throws -> [TrackFrame] {
        try (0..<count).map { index in
            TrackFrame(
                frame: index, landmarks: FaceLandmarks(box: box, points: DoorDeciderTests().face().landmarks.points),
                grey: try make(index))
        }
    }

    @Test("the geometry: a tilting flat picture is planar motion, a turning head shows depth, a still face waits")
    func geometry() throws {
        let detector = PlanarMotionDetector()
        let flat = detector.assess(frames: try Self.trackFrames(9, { try Self.flat($0) }), image: nil)
        #expect(flat.verdict == .attack, "\(flat)")
        #expect(flat.reason == "planar_motion")
        #expect((flat.scores["parallax"] ?? 1) < detector.flatParallax)
        #expect((flat.scores["distortion"] ?? 0) >= detector.minimumDistortion)

        let head = detector.assess(frames: try Self.trackFrames(9, Self.head), image: nil)
        #expect(head.verdict == .bonaFide, "\(head)")
        #expect((head.scores["parallax"] ?? 0) >= detector.liveParallax)

        let still = detector.assess(frames: try Self.trackFrames(9, { _ in try Self.flat(0) }), image: nil)
        #expect(still.verdict == .undecided, "\(still)")
        // Without grey frames there is nothing to measure.
        let blind = detector.assess(
            frames: try Self.trackFrames(9, Self.head).map { TrackFrame(frame: $0.frame, landmarks: $0.landmarks) },
            image: nil)
        #expect(blind.verdict == .undecided)
    }

    @Test("the planar fit refuses frames of different sizes and a region too small, and measures nothing on a blank")
    func planarFitErrors() throws {
        let a = try Self.flat(0)
        let small = try GreyImage(width: 100, height: 100, pixels: [UInt8](repeating: 9, count: 10_000))
        #expect(throws: VisionError.self) { try a.planarFit(to: small, left: 0, top: 0, right: 50, bottom: 50) }
        #expect(throws: VisionError.self) { try a.planarFit(to: a, left: 10, top: 10, right: 12, bottom: 12) }
        let blank = try GreyImage(width: 100, height: 100, pixels: [UInt8](repeating: 90, count: 10_000))
        #expect(try blank.planarFit(to: blank, left: 10, top: 10, right: 90, bottom: 90).points == 0)
    }

    /// Runs `frames` frames of ada's face through a decider with the stage on; `grey` makes each frame's
    /// grey image, `look` is the appearance's verdict on each frame.
    func run(
        frames: Int, fps: Double = 30, grey: @escaping (Int) throws -> GreyImage?,
        look: @escaping (Int) -> PresentationAssessment = { _ in
            PresentationAssessment(verdict: .bonaFide, reason: "no_cue", scores: ["moire": 20])
        }
    ) async throws -> [DoorDecision] {
        let decider = try DoorDeciderTests().decider(configuration: PipelineConfiguration())
        var decisions: [DoorDecision] = []
        for index in 0..<frames {
            var face = DoorDeciderTests().face()
            face.landmarks.box = Self.box
            let analysis = FrameAnalysis(index: index, grey: try grey(index), faces: [face])
            let at = DoorDeciderTests.start + Double(index) / fps
            decisions += try await decider.decide(
                analysis, t: Double(index) / fps, at: at,
                encode: { landmarks in landmarks.map { _ in DoorDeciderTests.near(0, by: 0.1) } },
                presentation: { tracks in
                    tracks.map {
                        PresentationLooks(
                            appearance: look(index), geometry: PlanarMotionDetector().assess(frames: $0, image: nil))
                    }
                })
        }
        return decisions
    }

    @Test("a turning head is checked in once the geometry has seen its depth, a few frames after the consensus")
    func liveCheckin() async throws {
        let decisions = try await run(frames: 20, grey: Self.head)
        #expect(decisions.map(\.kind) == [.checkin])
        let checkin = try #require(decisions.first)
        // 30 fps: frames 0 to 4 span the 0.13 s the stage waits for, so the check-in comes on frame 4.
        #expect(checkin.when.frame == 4, "decided at frame \(checkin.when.frame)")
        #expect((checkin.face?.liveness?["parallax"] ?? 0) > 0)
        #expect(checkin.person == "ada")
    }

    @Test("a door that analyses 5 frames a second still decides within half a second of the consensus")
    func slowDoor() async throws {
        // The head turns as fast as at 30 fps: six times as far between two analysed frames.
        let decisions = try await run(frames: 10, fps: 5, grey: { try Self.head(6 * $0) })
        #expect(decisions.map(\.kind) == [.checkin])
        #expect(try #require(decisions.first).when.frame <= 3, "decided at frame \(decisions.first?.when.frame ?? -1)")
    }

    @Test("a tilting flat picture of a student is refused: no check-in, the claimed person and reason kept")
    func flatRefused() async throws {
        let decisions = try await run(frames: 30, grey: { try Self.flat($0) })
        #expect(decisions.map(\.kind) == [.refusedFace])
        guard case .refusedFace(let refusal, _) = decisions.first else { return }
        #expect(refusal.claimedPerson == "ada")
        #expect(refusal.reason == "planar_motion")
        #expect(refusal.scores["parallax"] != nil)
        #expect(refusal.evidence.sighting == nil)
        #expect(decisions.first?.person == nil, "whom an attack claims to be is not believed")
        let line = try #require(decisions.first?.jsonLine)
        #expect(line.contains("\"claimed_person\":\"ada\"") && line.contains("\"reason\":\"planar_motion\""))
    }

    @Test("a bezel or paper edge on two frames refuses at once, whatever the geometry")
    func appearanceRefuses() async throws {
        let decisions = try await run(
            frames: 20, grey: Self.head,
            look: { _ in
                PresentationAssessment(verdict: .attack, reason: "framing_edges", scores: ["framing_sides": 4])
            })
        #expect(decisions.map(\.kind) == [.refusedFace])
        #expect(decisions.first?.reason == "framing_edges")
        #expect(try #require(decisions.first).when.frame < 7)
    }

    @Test("a face that never shows depth (a picture held still) is refused after the longest wait")
    func stillRefused() async throws {
        let decisions = try await run(frames: 60, grey: { _ in try Self.flat(0) })
        #expect(decisions.map(\.kind) == [.refusedFace])
        #expect(decisions.first?.reason == "no_depth_seen")
        // 1.5 s at 30 fps.
        #expect(decisions.first?.when.frame == 45)
    }

    @Test("a door that analyses a frame a second looks at a still picture 10 times before refusing it, not 2")
    func slowDoorGivesUpInFrames() async throws {
        let decisions = try await run(frames: 15, fps: 1, grey: { _ in try Self.flat(0) })
        #expect(decisions.map(\.kind) == [.refusedFace])
        #expect(decisions.first?.reason == "no_depth_seen")
        // 1.5 s passed at frame 2; the 10th frame of the track is frame 9.
        #expect(decisions.first?.when.frame == 9)
    }

    @Test("with the stage off, the consensus goes straight to the rules")
    func stageOff() async throws {
        let decider = try DoorDeciderTests().decider()
        var decisions: [DoorDecision] = []
        for index in 0..<5 {
            let analysis = FrameAnalysis(index: index, faces: [DoorDeciderTests().face()])
            decisions += try await decider.decide(
                analysis, t: 0, at: DoorDeciderTests.start + Double(index) / 30,
                encode: { $0.map { _ in DoorDeciderTests.near(0, by: 0.1) } })
        }
        #expect(decisions.map(\.kind) == [.checkin])
        #expect(decisions.first?.face?.liveness == nil)
    }
}
