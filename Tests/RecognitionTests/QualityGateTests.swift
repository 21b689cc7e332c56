import Foundation
import Recognition
import Testing

/// dlib's 5 landmarks of an upright face looking at the camera, as the detector gives them: the outer
/// and inner corner of the eye on the right of the image, the outer and inner corner of the other eye,
/// then the base of the nose.
private let frontal = [
    LandmarkPoint(x: 160, y: 100), LandmarkPoint(x: 130, y: 100),
    LandmarkPoint(x: 40, y: 100), LandmarkPoint(x: 70, y: 100),
    LandmarkPoint(x: 100, y: 150),
]

/// The points turned by `degrees` about (100, 120) (clockwise on screen, as y grows downwards).
private func rotated(_ points: [LandmarkPoint], by degrees: Double) -> [LandmarkPoint] {
    let angle = degrees * Double.pi / 180
    return points.map { point in
        let (x, y) = (point.x - 100, point.y - 120)
        return LandmarkPoint(x: 100 + x * cos(angle) - y * sin(angle), y: 120 + x * sin(angle) + y * cos(angle))
    }
}

/// The points with the nose moved by `dx` sideways and `dy` down.
private func noseShifted(by dx: Double, down dy: Double = 0) -> [LandmarkPoint] {
    var points = frontal
    points[4].x += dx
    points[4].y += dy
    return points
}

/// A face that passes every door gate, exactly at each threshold.
private func borderlineFace() throws -> FaceSample {
    var pose = try #require(FacePose(landmarks: frontal))
    pose.symmetry = 0.45
    pose.roll = 25
    return FaceSample(width: 80, brightness: 40, contrast: 12, sharpness: 40, pose: pose)
}

struct FacePoseTests {
    @Test("a frontal face with symmetric landmarks has symmetry 1 and roll 0")
    func frontalFace() throws {
        let pose = try #require(FacePose(landmarks: frontal))
        #expect(pose.symmetry == 1)
        #expect(pose.roll == 0)
        #expect(pose.eyeDistance == 90)
        // The eyes in the other order (as a mirrored image gives them) describe the same pose.
        let swapped = try #require(FacePose(landmarks: [frontal[2], frontal[3], frontal[0], frontal[1], frontal[4]]))
        #expect(swapped == pose)
    }

    @Test("a face turned aside (the nose nearer one eye) has a lower symmetry, the same either way")
    func turnedFace() throws {
        let slightly = try #require(FacePose(landmarks: noseShifted(by: 10)))
        let more = try #require(FacePose(landmarks: noseShifted(by: 25)))
        let otherWay = try #require(FacePose(landmarks: noseShifted(by: -25)))
        // Inner eye corners at x = 130 and 70: the centre is 100, half the gap 30.
        #expect(abs(slightly.symmetry - (1 - 10.0 / 30)) < 1e-12)
        #expect(more.symmetry < slightly.symmetry && slightly.symmetry < 1)
        #expect(abs(more.symmetry - (1 - 25.0 / 30)) < 1e-12)
        #expect(abs(otherWay.symmetry - more.symmetry) < 1e-12)
        #expect(more.roll == 0 && otherWay.roll == 0)
        // The nose's height does not hide a turn: only its place along the eye line counts.
        let high = try #require(FacePose(landmarks: noseShifted(by: 25, down: -40)))
        let low = try #require(FacePose(landmarks: noseShifted(by: 25, down: 60)))
        #expect(abs(high.symmetry - more.symmetry) < 1e-12 && abs(low.symmetry - more.symmetry) < 1e-12)
        // At an inner corner or beyond, the symmetry is 0.
        let atCorner = try #require(FacePose(landmarks: noseShifted(by: 30)))
        let beyond = try #require(FacePose(landmarks: noseShifted(by: 45)))
        #expect(abs(atCorner.symmetry) < 1e-12 && beyond.symmetry == 0)
    }

    @Test("a head tilted by 20 degrees has a roll of 20, whichever eye comes first", arguments: [20.0, -20.0])
    func tiltedFace(degrees: Double) throws {
        let points = rotated(frontal, by: degrees)
        let pose = try #require(FacePose(landmarks: points))
        let swapped = try #require(FacePose(landmarks: [points[2], points[3], points[0], points[1], points[4]]))
        #expect(abs(pose.roll - degrees) < 1e-9)
        #expect(abs(swapped.roll - degrees) < 1e-9)
        #expect(abs(pose.symmetry - 1) < 1e-12, "turning the whole face in the image plane keeps it frontal")
        #expect(abs(pose.eyeDistance - 90) < 1e-9)
    }

    @Test("a roll stays within -90...90 however the head is tilted")
    func rollRange() throws {
        for degrees in stride(from: -85.0, through: 85, by: 5) {
            let pose = try #require(FacePose(landmarks: rotated(frontal, by: degrees)))
            #expect(abs(pose.roll - degrees) < 1e-9, "\(degrees)")
        }
    }

    @Test("any number of points but 5 gives no pose", arguments: [0, 4, 6, 68])
    func wrongPointCount(count: Int) {
        let points = (0..<count).map { LandmarkPoint(x: Double($0), y: Double($0)) }
        #expect(FacePose(landmarks: points) == nil)
    }

    @Test("landmarks all in one point give symmetry 0, not a division by zero")
    func degenerate() throws {
        let pose = try #require(FacePose(landmarks: Array(repeating: LandmarkPoint(x: 5, y: 5), count: 5)))
        #expect(pose.symmetry == 0 && pose.eyeDistance == 0)
    }
}

struct QualityGateTests {
    @Test("a face exactly at every door threshold passes")
    func passesAtThresholds() throws {
        let face = try borderlineFace()
        #expect(QualityGate.door.check(face) == nil)
        var tiltedOtherWay = face
        tiltedOtherWay.pose?.roll = -25
        #expect(QualityGate.door.check(tiltedOtherWay) == nil)
        var bright = face
        bright.brightness = 220
        #expect(QualityGate.door.check(bright) == nil)
        let typical = FaceSample(
            width: 160, brightness: 120, contrast: 45, sharpness: 300, pose: FacePose(landmarks: frontal))
        #expect(QualityGate.door.check(typical) == nil)
    }

    @Test("a face 79 px wide is too small")
    func tooSmall() throws {
        var face = try borderlineFace()
        face.width = 79
        #expect(QualityGate.door.check(face) == .tooSmall)
    }

    @Test("a face just under the brightness range is dark, just over it overexposed")
    func brightness() throws {
        var face = try borderlineFace()
        face.brightness = 39.99
        #expect(QualityGate.door.check(face) == .dark)
        face.brightness = 220.01
        #expect(QualityGate.door.check(face) == .overexposed)
    }

    @Test("a face just under the contrast threshold is low contrast")
    func lowContrast() throws {
        var face = try borderlineFace()
        face.contrast = 11.99
        #expect(QualityGate.door.check(face) == .lowContrast)
    }

    @Test("a face just under the symmetry threshold, tilted just over 25 degrees, or without a pose is not frontal")
    func notFrontal() throws {
        let face = try borderlineFace()
        var turned = face
        turned.pose?.symmetry = 0.4499
        #expect(QualityGate.door.check(turned) == .notFrontal)
        for roll in [25.01, -25.01] {
            var tilted = face
            tilted.pose?.roll = roll
            #expect(QualityGate.door.check(tilted) == .notFrontal, "\(roll)")
        }
        var noPose = face
        noPose.pose = nil
        #expect(QualityGate.door.check(noPose) == .notFrontal)
        // From landmarks: the nose beside one eye, and a head tilted by 30 degrees.
        var aside = face
        aside.pose = FacePose(landmarks: noseShifted(by: 25, down: -40))
        #expect(QualityGate.door.check(aside) == .notFrontal)
        var tilted = face
        tilted.pose = FacePose(landmarks: rotated(frontal, by: 30))
        #expect(QualityGate.door.check(tilted) == .notFrontal)
        tilted.pose = FacePose(landmarks: rotated(frontal, by: 20))
        #expect(QualityGate.door.check(tilted) == nil)
    }

    @Test("a face just under the sharpness threshold is blurred")
    func blurred() throws {
        var face = try borderlineFace()
        face.sharpness = 39.99
        #expect(QualityGate.door.check(face) == .blurred)
    }

    @Test("the first failing gate is reported: size, brightness, contrast, pose, then sharpness")
    func orderOfChecks() throws {
        var face = FaceSample(width: 20, brightness: 10, contrast: 2, sharpness: 1, pose: nil)
        #expect(QualityGate.door.check(face) == .tooSmall)
        face.width = 120
        #expect(QualityGate.door.check(face) == .dark)
        face.brightness = 250
        #expect(QualityGate.door.check(face) == .overexposed)
        face.brightness = 128
        #expect(QualityGate.door.check(face) == .lowContrast)
        face.contrast = 40
        #expect(QualityGate.door.check(face) == .notFrontal)
        face.pose = FacePose(landmarks: frontal)
        #expect(QualityGate.door.check(face) == .blurred)
        face.sharpness = 200
        #expect(QualityGate.door.check(face) == nil)
    }

    @Test(
        "enrollment photos must be at least 100 px wide and a little more frontal; otherwise the gates are the door's")
    func enrollmentGate() throws {
        var face = try borderlineFace()
        face.width = 100
        face.pose?.symmetry = 0.5
        #expect(QualityGate.enrollment.check(face) == nil)
        face.width = 99
        #expect(QualityGate.enrollment.check(face) == .tooSmall)
        #expect(QualityGate.door.check(face) == nil)
        face.width = 100
        face.pose?.symmetry = 0.49
        #expect(QualityGate.enrollment.check(face) == .notFrontal)
        #expect(QualityGate.door.check(face) == nil)
        var enrollment = QualityGate.enrollment
        enrollment.minimumWidth = QualityGate.door.minimumWidth
        enrollment.minimumSymmetry = QualityGate.door.minimumSymmetry
        #expect(enrollment == QualityGate.door)
    }

    @Test("every rejection has a stable name for summaries and a message for people")
    func rejectionNames() {
        #expect(
            QualityRejection.allCases.map(\.rawValue) == [
                "too_small", "blurred", "dark", "overexposed", "low_contrast", "not_frontal",
            ])
        for rejection in QualityRejection.allCases {
            #expect(rejection.message.hasPrefix("the face is"), "\(rejection)")
        }
    }
}
