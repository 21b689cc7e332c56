/// A face box in dlib's convention: right and bottom inclusive, in image coordinates, possibly
/// reaching outside the image when the face is cut by its border.
public struct FaceBox: Sendable, Hashable, Codable {
    public var left: Int
    public var top: Int
    public var right: Int
    public var bottom: Int

    /// Makes a box from its four edges.
    public init(left: Int, top: Int, right: Int, bottom: Int) {
        self.left = left
        self.top = top
        self.right = right
        self.bottom = bottom
    }

    /// Width in pixels (right is inclusive).
    public var width: Int { right - left + 1 }
    /// Height in pixels (bottom is inclusive).
    public var height: Int { bottom - top + 1 }

    /// Encodes as `[left, top, right, bottom]`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(contentsOf: [left, top, right, bottom])
    }

    /// Decodes `[left, top, right, bottom]`.
    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        left = try container.decode(Int.self)
        top = try container.decode(Int.self)
        right = try container.decode(Int.self)
        bottom = try container.decode(Int.self)
    }
}

/// A pixel position.
public struct Point: Sendable, Hashable, Codable {
    public var x: Int
    public var y: Int

    /// Makes a point.
    public init(x: Int, y: Int) {
        self.x = x
        self.y = y
    }

    /// Encodes as `[x, y]`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(contentsOf: [x, y])
    }

    /// Decodes `[x, y]`.
    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        x = try container.decode(Int.self)
        y = try container.decode(Int.self)
    }
}

/// A face found by the detector.
public struct FaceDetection: Sendable, Hashable {
    /// Where the face is.
    public var box: FaceBox
    /// The detector's score: higher is more face-like; detections come best first.
    public var score: Double
}

/// The 5 landmarks of a face in dlib's part order (outer and inner corners of the eyes, then the
/// base of the nose), and the box they were predicted in.
public struct FaceLandmarks: Sendable, Hashable {
    /// The box given to the shape predictor.
    public var box: FaceBox
    /// Five points.
    public var points: [Point]
}

/// A 128-dimensional face descriptor of dlib's ResNet v1 model; faces of one person lie within
/// about 0.6 of each other (Euclidean distance).
public struct FaceEncoding: Sendable, Hashable {
    /// Identifies the model that made the descriptor; descriptors of different models never compare.
    public static let modelID = "dlib_resnet_v1"
    /// Number of values.
    public static let length = 128

    /// The 128 values.
    public var values: [Float]

    /// Wraps 128 values.
    public init(values: [Float]) {
        precondition(values.count == Self.length, "a face encoding has 128 values")
        self.values = values
    }

    /// Euclidean distance to another encoding.
    public func distance(to other: FaceEncoding) -> Float {
        var sum: Float = 0
        for index in 0..<Self.length {
            let delta = values[index] - other.values[index]
            sum += delta * delta
        }
        return sum.squareRoot()
    }
}

/// A face with everything the pipeline computes for it.
public struct AnalyzedFace: Sendable, Hashable {
    /// Where the face is, and its score.
    public var detection: FaceDetection
    /// Its landmarks.
    public var landmarks: FaceLandmarks
    /// Its descriptor.
    public var encoding: FaceEncoding
}

/// A face as `rollcall encode` prints it and faces-expected.json stores it:
/// `{"box": [l, t, r, b], "landmarks": [[x, y] x5], "encoding": [128 numbers]}`.
public struct FaceRecord: Sendable, Hashable, Codable {
    public var box: FaceBox
    public var landmarks: [Point]
    public var encoding: [Float]

    /// The record of an analysed face.
    public init(_ face: AnalyzedFace) {
        box = face.detection.box
        landmarks = face.landmarks.points
        encoding = face.encoding.values
    }
}

/// What the quality gates look at in a face, measured on its aligned 150 px chip (the crop the
/// descriptor sees), so the numbers do not depend on how large the face is in the frame.
public struct FaceMeasurements: Sendable, Hashable, Codable {
    /// Mean grey level of the face's centre, 0...255.
    public var brightness: Double
    /// Standard deviation of the grey level of the face's centre.
    public var contrast: Double
    /// Variance of the Laplacian of the face's centre: small when the face is blurred.
    public var sharpness: Double

    /// Measurements with the given values.
    public init(brightness: Double, contrast: Double, sharpness: Double) {
        self.brightness = brightness
        self.contrast = contrast
        self.sharpness = sharpness
    }
}
