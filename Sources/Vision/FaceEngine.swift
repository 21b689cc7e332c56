import CVision
public import Imaging

/// Detects, locates and encodes faces. Every call blocks while dlib works (a detection takes tens
/// of milliseconds), so an engine belongs to one thread: run it on a `VisionWorkers` thread, never
/// on Swift's cooperative pool. Make one engine per thread; they share one `FaceModels`.
public final class FaceEngine {
    /// The most pyramid-up steps a detection accepts.
    public static let maximumUpsample = 4

    private let handle: OpaquePointer
    /// The models this engine runs.
    public let models: FaceModels

    /// Makes an engine over loaded models.
    public init(models: FaceModels) throws(VisionError) {
        var engine: OpaquePointer?
        try check { cvision_engine_create(models.handle, &engine, $0) }
        guard let engine else { throw VisionError(.internal, "the core made no engine") }
        self.handle = engine
        self.models = models
    }

    deinit {
        cvision_engine_free(handle)
    }

    /// Finds faces with dlib's HOG detector after `upsample` pyramid-up steps (each finds faces
    /// half as large, at four times the cost). Best first.
    public func detect(in image: RGBImage, upsample: Int = 1) throws(VisionError) -> [FaceDetection] {
        guard (0...Self.maximumUpsample).contains(upsample) else {
            throw VisionError(.argument, "upsample must be between 0 and \(Self.maximumUpsample), got \(upsample)")
        }
        return try image.withView { (view: UnsafePointer<cvision_image_view>) throws(VisionError) in
            var detections: UnsafePointer<cvision_detection>?
            var count = 0
            try check { cvision_detect(handle, view, Int32(upsample), &detections, &count, $0) }
            return UnsafeBufferPointer(start: detections, count: count).map {
                FaceDetection(box: FaceBox($0.box), score: $0.score)
            }
        }
    }

    /// Predicts the 5 landmarks in each box.
    public func landmarks(in image: RGBImage, boxes: [FaceBox]) throws(VisionError) -> [FaceLandmarks] {
        guard !boxes.isEmpty else { return [] }
        let rects = boxes.map(cvision_rect.init)
        var shapes = [cvision_landmarks](repeating: cvision_landmarks(), count: boxes.count)
        try image.withView { (view: UnsafePointer<cvision_image_view>) throws(VisionError) in
            try check { cvision_predict_landmarks(handle, view, rects, rects.count, &shapes, $0) }
        }
        return shapes.map(FaceLandmarks.init)
    }

    /// How a descriptor is computed: the core's own forward pass over dlib's weights (what the door
    /// runs), or dlib's forward pass of the same network (the reference it is tested and timed against).
    public enum DescriptorPass: Sendable {
        case core
        case dlib
    }

    /// Computes one descriptor per face in a single batch (150 px chips, padding 0.25).
    public func encode(
        in image: RGBImage, faces: [FaceLandmarks], pass: DescriptorPass = .core
    ) throws(VisionError) -> [FaceEncoding] {
        guard !faces.isEmpty else { return [] }
        let shapes = faces.map(cvision_landmarks.init)
        var values = [Float](repeating: 0, count: faces.count * FaceEncoding.length)
        try image.withView { (view: UnsafePointer<cvision_image_view>) throws(VisionError) in
            switch pass {
            case .core: try check { cvision_encode(handle, view, shapes, shapes.count, &values, $0) }
            case .dlib: try check { cvision_encode_dlib(handle, view, shapes, shapes.count, &values, $0) }
            }
        }
        return (0..<faces.count).map { face in
            FaceEncoding(values: Array(values[face * FaceEncoding.length..<(face + 1) * FaceEncoding.length]))
        }
    }

    /// Measures brightness, contrast and sharpness of each face on its aligned chip, for the quality
    /// gates. About a tenth of a millisecond a face; needs no model.
    public func measure(in image: RGBImage, faces: [FaceLandmarks]) throws(VisionError) -> [FaceMeasurements] {
        try FaceMeasurements.measure(in: image, faces: faces)
    }

    /// Detects every face, then predicts its landmarks and encodes all faces in one batch.
    public func analyze(_ image: RGBImage, upsample: Int = 1) throws(VisionError) -> [AnalyzedFace] {
        let detections = try detect(in: image, upsample: upsample)
        let shapes = try landmarks(in: image, boxes: detections.map(\.box))
        let encodings = try encode(in: image, faces: shapes)
        return detections.indices.map {
            AnalyzedFace(detection: detections[$0], landmarks: shapes[$0], encoding: encodings[$0])
        }
    }
}

extension FaceBox {
    init(_ rect: cvision_rect) {
        self.init(left: Int(rect.left), top: Int(rect.top), right: Int(rect.right), bottom: Int(rect.bottom))
    }
}

extension cvision_rect {
    init(_ box: FaceBox) {
        self.init(left: Int64(box.left), top: Int64(box.top), right: Int64(box.right), bottom: Int64(box.bottom))
    }
}

extension FaceLandmarks {
    init(_ shape: cvision_landmarks) {
        let points = withUnsafeBytes(of: shape.points) { raw in
            raw.bindMemory(to: cvision_point.self).map { Point(x: Int($0.x), y: Int($0.y)) }
        }
        self.init(box: FaceBox(shape.box), points: points)
    }
}

extension cvision_landmarks {
    init(_ landmarks: FaceLandmarks) {
        self.init()
        box = cvision_rect(landmarks.box)
        withUnsafeMutableBytes(of: &points) { raw in
            let slots = raw.bindMemory(to: cvision_point.self)
            for (index, point) in landmarks.points.prefix(slots.count).enumerated() {
                slots[index] = cvision_point(x: Int64(point.x), y: Int64(point.y))
            }
        }
    }
}

extension FaceMeasurements {
    /// Measures each face of `image` (see `FaceEngine.measure(in:faces:)`); any thread.
    public static func measure(in image: RGBImage, faces: [FaceLandmarks]) throws(VisionError) -> [FaceMeasurements] {
        guard !faces.isEmpty else { return [] }
        let shapes = faces.map(cvision_landmarks.init)
        var results = [cvision_face_quality](repeating: cvision_face_quality(), count: faces.count)
        try image.withView { (view: UnsafePointer<cvision_image_view>) throws(VisionError) in
            try check { cvision_measure_faces(view, shapes, shapes.count, &results, $0) }
        }
        return results.map {
            FaceMeasurements(brightness: $0.brightness, contrast: $0.contrast, sharpness: $0.sharpness)
        }
    }
}
