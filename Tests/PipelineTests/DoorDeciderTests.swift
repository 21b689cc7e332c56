import Attendance
import Badges
import Enrollment
import Foundation
import Recognition
import Testing

@testable import Pipeline
@testable import Vision

/// The door's decision step driven with made-up frame analyses: no models, no images, no threads. The
/// faces' encodings are chosen by the test (a person's template plus a little noise, or a stranger's), so
/// each rule of the step is checked on its own, in milliseconds.
struct DoorDeciderTests {
    static let start = Date(timeIntervalSince1970: 1_790_000_000)
    static let issuer = BadgeIssuer.generate(kid: "k1")

    /// A unit vector in the first dimensions of a 128-d space: people far apart (distance ≥ 1.4).
    static func template(_ axis: Int) -> [Float] {
        var values = [Float](repeating: 0, count: FaceEncoding.length)
        values[axis] = 1
        return values
    }

    /// `template` moved by `by` along another axis (a distance of `by`).
    static func near(_ axis: Int, by: Float) -> FaceEncoding {
        var values = template(axis)
        values[FaceEncoding.length - 1] = by
        return FaceEncoding(values: values)
    }

    /// The door's configuration without the presentation-attack stage (these faces have no images to
    /// judge; PresentationAttackTests drives the stage).
    static var plain: PipelineConfiguration {
        var configuration = PipelineConfiguration()
        configuration.presentation.enabled = false
        return configuration
    }

    /// A decider over two enrolled students (ada, bob) on the roster of a session that started a minute ago.
    func decider(configuration: PipelineConfiguration = DoorDeciderTests.plain) throws -> DoorDecider {
        var gallery = Gallery()
        gallery.add(person: "ada", templates: [Self.template(0)])
        gallery.add(person: "bob", templates: [Self.template(1)])
        let session = Session(
            id: "s-1", room: "B12", group: "7B", start: Self.start - 60, end: Self.start + 2700,
            roster: ["ada", "bob", "cy"])
        let book = AttendanceBook(schedule: SessionSchedule(room: "B12", sessions: [session]))
        return DoorDecider(
            configuration: configuration, gallery: gallery, book: book,
            verifier: try BadgeVerifier(keyring: Self.issuer.keyring))
    }

    /// A frontal, sharp, well-lit face of `width` pixels at `left`.
    func face(left: Int = 100, width: Int = 120, sharpness: Double = 200) -> FaceObservation {
        let box = FaceBox(left: left, top: 100, right: left + width - 1, bottom: 100 + width - 1)
        let eyes = [
            Point(x: left + width * 3 / 4, y: 140), Point(x: left + width * 5 / 8, y: 140),
            Point(x: left + width / 4, y: 140), Point(x: left + width * 3 / 8, y: 140),
            Point(x: left + width / 2, y: 180),
        ]
        let landmarks = FaceLandmarks(box: box, points: eyes)
        return FaceObservation(
            landmarks: landmarks,
            sample: FaceSample(
                width: width, brightness: 130, contrast: 40, sharpness: sharpness, pose: FacePose(landmarks)))
    }

    /// Runs frames through the decider: each frame's faces, encoded as `encodings` says (nil: no image).
    func run(
        _ decider: DoorDecider, frames: Int, faces: (Int) -> [FaceObservation], payloads: (Int) -> [Data] = { _ in [] },
        encodings: @escaping (Int, Int) -> FaceEncoding?
    ) async throws -> (decisions: [DoorDecision], encoded: Int) {
        var decisions: [DoorDecision] = []
        var encoded = 0
        for index in 0..<frames {
            let analysis = FrameAnalysis(index: index, faces: faces(index), payloads: payloads(index))
            let at = Self.start + Double(index) / 30
            decisions += try await decider.decide(analysis, t: Double(index) / 30, at: at) { landmarks in
                encoded += landmarks.count
                let made = landmarks.indices.compactMap { encodings(index, $0) }
                return made.count == landmarks.count ? made : nil
            }
        }
        return (decisions, encoded)
    }

    @Test("an enrolled student's face over a few frames: one check-in, on time, by face, with distance and margin")
    func checkin() async throws {
        let decider = try decider()
        let (decisions, encoded) = try await run(
            decider, frames: 60, faces: { _ in [face()] },
            encodings: { _, _ in Self.near(0, by: 0.2) })
        #expect(decisions.count == 1)
        let decision = try #require(decisions.first)
        #expect(decision.kind == .checkin && decision.person == "ada" && decision.session == "s-1")
        #expect(decision.status == .present && decision.method == .face)
        #expect(abs((decision.face?.distance ?? 0) - 0.2) < 1e-4)
        #expect(decision.event != nil, "a check-in carries the event to commit")
        // Consensus needs two of three frames; after that the track is only re-verified now and then.
        #expect(decision.when.frame == 1)
        #expect(encoded < 60 / 2, "a decided track is not encoded on every frame (\(encoded) encodings)")
    }

    @Test("a stranger (far from everyone) is an unknown face, never a check-in")
    func stranger() async throws {
        let decider = try decider()
        let (decisions, _) = try await run(
            decider, frames: 30, faces: { _ in [face()] },
            encodings: { _, _ in Self.near(5, by: 0.1) })
        #expect(!decisions.isEmpty)
        #expect(decisions.allSatisfy { $0.kind == .unknownFace && $0.person == nil })
    }

    @Test(
        "roster first: a face nearest to a student on the roster is held to the roster's threshold, others to the gallery's"
    )
    func rosterThreshold() async throws {
        var gallery = Gallery()
        for (axis, person) in ["ada", "bob", "dee", "eve", "fay", "gus"].enumerated() {
            gallery.add(person: person, templates: [Self.template(axis)])
        }
        let session = Session(
            id: "s-1", room: "B12", group: "7B", start: Self.start - 60, end: Self.start + 2700, roster: ["ada", "bob"])
        func decider() throws -> DoorDecider {
            DoorDecider(
                configuration: Self.plain, gallery: gallery,
                book: AttendanceBook(schedule: SessionSchedule(room: "B12", sessions: [session])),
                verifier: try BadgeVerifier(keyring: Self.issuer.keyring))
        }
        // Six people: the prior cohort. Two templates on the roster allow more than six.
        let calibration = OperatingPoint.door.calibrated(to: gallery)
        let roster = calibration.policy(templates: 2).acceptDistance
        let everyone = calibration.policy.acceptDistance
        #expect(roster > everyone + 0.02)
        let between = (roster + everyone) / 2
        let onRoster = try await run(
            try decider(), frames: 10, faces: { _ in [face()] }, encodings: { _, _ in Self.near(0, by: between) })
        #expect(onRoster.decisions.map(\.kind) == [.checkin] && onRoster.decisions.first?.person == "ada")
        let offRoster = try await run(
            try decider(), frames: 10, faces: { _ in [face()] }, encodings: { _, _ in Self.near(2, by: between) })
        #expect(!offRoster.decisions.isEmpty && offRoster.decisions.allSatisfy { $0.kind == .unknownFace })
        let nearer = try await run(
            try decider(), frames: 10, faces: { _ in [face()] },
            encodings: { _, _ in Self.near(2, by: everyone - 0.02) })
        #expect(nearer.decisions.map(\.kind) == [.noCheckin] && nearer.decisions.first?.person == "dee")
    }

    @Test("a face between two people (a small margin) is not taken for either")
    func ambiguous() async throws {
        let decider = try decider()
        // Equally far from ada and bob: the margin is 0.
        var values = [Float](repeating: 0, count: FaceEncoding.length)
        values[0] = 0.7
        values[1] = 0.7
        let between = FaceEncoding(values: values)
        let (decisions, _) = try await run(
            decider, frames: 30, faces: { _ in [face()] }, encodings: { _, _ in between })
        #expect(decisions.allSatisfy { $0.kind != .checkin })
    }

    @Test("faces the gates refuse are counted by reason and never encoded")
    func gates() async throws {
        let decider = try decider()
        let (decisions, encoded) = try await run(
            decider, frames: 10, faces: { _ in [face(left: 50, width: 40), face(left: 400, sharpness: 5)] },
            encodings: { _, _ in Self.near(0, by: 0.1) })
        #expect(decisions.isEmpty && encoded == 0)
        let summary = decider.finish(seconds: 1)
        #expect(summary.qualityRejections[.tooSmall] == 10 && summary.qualityRejections[.blurred] == 10)
        #expect(summary.facesSeen == 20 && summary.frames == 10)
    }

    @Test("a frame without an image to encode in decides nothing for its faces")
    func noImage() async throws {
        let decider = try decider()
        let (decisions, _) = try await run(decider, frames: 10, faces: { _ in [face()] }, encodings: { _, _ in nil })
        #expect(decisions.isEmpty)
    }

    @Test("a signed student badge checks in (by QR, once for the same code on many frames); a forged one is refused")
    func badges() async throws {
        let decider = try decider()
        let badge = try Self.issuer.issue(
            subject: "cy", role: .student, issued: Self.start - 86_400, expires: Self.start + 86_400
        ).payload
        let forged = try BadgeIssuer.generate(kid: "k1").issue(
            subject: "bob", role: .student, issued: Self.start - 86_400, expires: Self.start + 86_400
        ).payload
        let (decisions, _) = try await run(
            decider, frames: 20, faces: { _ in [] },
            payloads: { $0 < 10 ? [Data(badge.utf8)] : [Data(forged.utf8)] }, encodings: { _, _ in nil })
        #expect(decisions.count == 2)
        #expect(decisions.first?.kind == .checkin && decisions.first?.person == "cy" && decisions.first?.method == .qr)
        #expect(decisions.last?.kind == .rejectedBadge && decisions.last?.reason == "bad_signature")
        guard case .rejectedBadge(let refused, _) = decisions.last else {
            Issue.record("the forged badge is not refused: \(decisions)")
            return
        }
        #expect(refused.claimedSubject == "bob" && refused.payload == forged && decisions.last?.event == nil)
    }

    @Test("a gallery update between frames: a person removed is no longer recognised")
    func update() async throws {
        let decider = try decider()
        decider.apply(PipelineUpdate(gallery: Gallery()))
        let (decisions, _) = try await run(
            decider, frames: 30, faces: { _ in [face()] },
            encodings: { _, _ in Self.near(0, by: 0.1) })
        #expect(decisions.allSatisfy { $0.kind == .unknownFace })
    }
}
