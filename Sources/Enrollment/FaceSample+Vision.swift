public import Recognition
public import Vision

/// The vision core's faces as the recognition core's samples: what the quality gates of enrollment and
/// of the door read.
extension FacePose {
    /// The pose of a face from the vision core's landmarks.
    public init?(_ landmarks: FaceLandmarks) {
        self.init(landmarks: landmarks.points.map { LandmarkPoint(x: Double($0.x), y: Double($0.y)) })
    }
}

extension FaceSample {
    /// What the quality gates need of a detected face.
    public init(_ landmarks: FaceLandmarks, _ measurements: FaceMeasurements) {
        self.init(
            width: landmarks.box.width, brightness: measurements.brightness, contrast: measurements.contrast,
            sharpness: measurements.sharpness, pose: FacePose(landmarks))
    }
}
