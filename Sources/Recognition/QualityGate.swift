import Foundation

/// A point in image coordinates.
public struct LandmarkPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double

    /// A point.
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// How a face is turned, estimated from dlib's 5 landmarks (two corners of each eye, then the base
/// of the nose).
public struct FacePose: Sendable, Equatable {
    /// How centred the nose is between the eyes, along the line through them: 1 when it sits midway
    /// (the face looks at the camera), falling to 0 as the face turns until the nose reaches an inner
    /// eye corner. Measured along the eye line, so the nose's height does not hide a turned head.
    public var symmetry: Double
    /// Angle of the line between the eyes, in degrees (0 when the head is upright).
    public var roll: Double
    /// Distance between the eye centres, in pixels.
    public var eyeDistance: Double

    /// The pose of a face from its 5 landmarks, in dlib's order; nil for another number of points.
    public init?(landmarks points: [LandmarkPoint]) {
        guard points.count == 5 else { return nil }
        func mid(_ a: LandmarkPoint, _ b: LandmarkPoint) -> LandmarkPoint {
            LandmarkPoint(x: (a.x + b.x) / 2, y: (a.y + b.y) / 2)
        }
        func distance(_ a: LandmarkPoint, _ b: LandmarkPoint) -> Double {
            ((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)).squareRoot()
        }
        let (eyeA, eyeB) = (mid(points[0], points[1]), mid(points[2], points[3]))
        let nose = points[4]
        // Positions along the eye line, measured from the midpoint of the inner eye corners.
        let (axisX, axisY) = (eyeB.x - eyeA.x, eyeB.y - eyeA.y)
        let length = (axisX * axisX + axisY * axisY).squareRoot()
        if length > 0 {
            let centre = mid(points[1], points[3])
            func along(_ point: LandmarkPoint) -> Double {
                ((point.x - centre.x) * axisX + (point.y - centre.y) * axisY) / length
            }
            let halfGap = abs(along(points[3]) - along(points[1])) / 2
            symmetry = halfGap > 0 ? max(0, 1 - abs(along(nose)) / halfGap) : 0
        } else {
            symmetry = 0
        }
        var angle = atan2(eyeB.y - eyeA.y, eyeB.x - eyeA.x) * 180 / Double.pi
        // The eyes come in either order: the line's angle is what matters.
        if angle > 90 { angle -= 180 } else if angle < -90 { angle += 180 }
        roll = angle
        eyeDistance = distance(eyeA, eyeB)
    }
}

/// What the gates look at in one face.
public struct FaceSample: Sendable, Equatable {
    /// Width of the detector's box, in pixels of the frame.
    public var width: Int
    /// Mean grey level of the face (0...255).
    public var brightness: Double
    /// Standard deviation of the face's grey level.
    public var contrast: Double
    /// Variance of the Laplacian of the face: small when blurred.
    public var sharpness: Double
    /// Pose from the landmarks.
    public var pose: FacePose?

    /// A sample.
    public init(width: Int, brightness: Double, contrast: Double, sharpness: Double, pose: FacePose?) {
        self.width = width
        self.brightness = brightness
        self.contrast = contrast
        self.sharpness = sharpness
        self.pose = pose
    }
}

/// Why a face is not worth encoding.
public enum QualityRejection: String, Sendable, Codable, Equatable, CaseIterable {
    case tooSmall = "too_small"
    case blurred
    case dark
    case overexposed
    case lowContrast = "low_contrast"
    case notFrontal = "not_frontal"

    /// For a technician or an enrolling teacher.
    public var message: String {
        switch self {
        case .tooSmall: "the face is too small: come closer to the camera or use a larger photo"
        case .blurred: "the face is blurred: hold still, or use a sharper photo"
        case .dark: "the face is too dark: more light on the face"
        case .overexposed: "the face is overexposed: less light behind or on the face"
        case .lowContrast: "the face is washed out (too little contrast)"
        case .notFrontal: "the face is turned away: look straight at the camera"
        }
    }
}

/// The quality gates a face passes before it is encoded: large enough, sharp, lit, and looking at
/// the camera. Encoding costs about 13 ms a face, and a poor face gives a poor encoding, so the door
/// only encodes faces worth it. Thresholds were chosen on the fixtures and the scenario video (README).
public struct QualityGate: Sendable, Codable, Equatable {
    /// Smallest box width, in pixels (dlib's detector finds faces from about 80 px at upsample 0).
    public var minimumWidth: Int
    /// Least Laplacian variance on the 150 px chip (sharp photos measure 100–1000; a 2 px blur
    /// falls under 30).
    public var minimumSharpness: Double
    /// Mean grey level range a face must fall in.
    public var minimumBrightness: Double
    public var maximumBrightness: Double
    /// Least grey-level standard deviation.
    public var minimumContrast: Double
    /// Least pose symmetry (1 is frontal; 0.5 is a nose halfway from the centre to an inner eye corner).
    public var minimumSymmetry: Double
    /// Largest head tilt, in degrees.
    public var maximumRoll: Double

    /// The door's gates, for faces in camera frames.
    public static let door = QualityGate(
        minimumWidth: 80, minimumSharpness: 40, minimumBrightness: 40, maximumBrightness: 220, minimumContrast: 12,
        minimumSymmetry: 0.45, maximumRoll: 25)

    /// Enrollment photos must be at least as good as what the door sees, and larger.
    public static let enrollment = QualityGate(
        minimumWidth: 100, minimumSharpness: 40, minimumBrightness: 40, maximumBrightness: 220, minimumContrast: 12,
        minimumSymmetry: 0.5, maximumRoll: 25)

    /// Gates with the given thresholds.
    public init(
        minimumWidth: Int, minimumSharpness: Double, minimumBrightness: Double, maximumBrightness: Double,
        minimumContrast: Double, minimumSymmetry: Double, maximumRoll: Double
    ) {
        self.minimumWidth = minimumWidth
        self.minimumSharpness = minimumSharpness
        self.minimumBrightness = minimumBrightness
        self.maximumBrightness = maximumBrightness
        self.minimumContrast = minimumContrast
        self.minimumSymmetry = minimumSymmetry
        self.maximumRoll = maximumRoll
    }

    /// The first gate the face fails, or nil when it may be encoded.
    public func check(_ face: FaceSample) -> QualityRejection? {
        if face.width < minimumWidth { return .tooSmall }
        if face.brightness < minimumBrightness { return .dark }
        if face.brightness > maximumBrightness { return .overexposed }
        if face.contrast < minimumContrast { return .lowContrast }
        guard let pose = face.pose, pose.symmetry >= minimumSymmetry, abs(pose.roll) <= maximumRoll else {
            return .notFrontal
        }
        if face.sharpness < minimumSharpness { return .blurred }
        return nil
    }
}
