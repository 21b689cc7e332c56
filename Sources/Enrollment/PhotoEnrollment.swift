public import Foundation
import Imaging
public import Recognition
public import Vision

/// Enrollment from photos, as `rollcall enroll` and the hub do it: exactly one face per photo, of
/// enrollment quality (size, sharpness, light, pose), encoded; and not a face already enrolled as
/// someone else.
public enum PhotoEnrollment {
    /// A face that passed every check, ready to enroll.
    public struct Candidate: Sendable {
        public var encoding: FaceEncoding
        /// Size, sharpness, brightness, contrast and pose, for the report.
        public var summary: String
    }

    /// Why a photo was not enrolled.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// Finds the one face of a photo file, checks its quality and encodes it (call on a vision worker).
    public static func examine(file path: String, _ engine: FaceEngine) throws -> Result<Candidate, Refusal> {
        let image: RGBImage
        do {
            image = try RGBImage(contentsOfFile: path)
        } catch {
            return .failure(Refusal(error.message))
        }
        return try examine(image, engine)
    }

    /// The same for an encoded photo (JPEG or PNG bytes).
    public static func examine(data: Data, _ engine: FaceEngine) throws -> Result<Candidate, Refusal> {
        let image: RGBImage
        do {
            image = try RGBImage(decoding: data)
        } catch {
            return .failure(Refusal(error.message))
        }
        return try examine(image, engine)
    }

    static func examine(_ image: RGBImage, _ engine: FaceEngine) throws -> Result<Candidate, Refusal> {
        // Upsample 1 finds faces down to about 40 px, so a small second face in the background is
        // noticed (and refused) rather than silently ignored.
        let detections = try engine.detect(in: image, upsample: 1)
        guard detections.count == 1 else {
            return .failure(
                Refusal(
                    detections.isEmpty
                        ? "no face found: use a photo where the face is clearly visible"
                        : "\(detections.count) faces found: use a photo with exactly one face"))
        }
        let landmarks = try engine.landmarks(in: image, boxes: [detections[0].box])
        let measurements = try engine.measure(in: image, faces: landmarks)
        let sample = FaceSample(landmarks[0], measurements[0])
        if let rejection = QualityGate.enrollment.check(sample) {
            return .failure(Refusal(rejection.message + " (\(describe(sample)))"))
        }
        let encoding = try engine.encode(in: image, faces: landmarks)[0]
        return .success(Candidate(encoding: encoding, summary: describe(sample)))
    }

    /// Another person's face within the accept distance (the operating point's, for a search of the
    /// whole gallery) means the photo is of them, or the two are lookalikes the door could not tell
    /// apart: either way, not this person's template.
    public static func conflict(
        _ candidate: Candidate, person: String, in document: GalleryDocument, point: OperatingPoint
    ) -> Refusal? {
        var others = document
        others.people.removeAll { $0.id == person }
        let gallery = others.gallery
        guard let match = Matcher.match(candidate.encoding.values, in: gallery),
            match.distance <= point.calibrated(to: document.gallery).policy.acceptDistance
        else { return nil }
        return Refusal(
            "this face is already enrolled as \(match.person) " + String(format: "(distance %.3f)", match.distance))
    }

    static func describe(_ sample: FaceSample) -> String {
        String(
            format: "face %d px wide, sharpness %.0f, brightness %.0f, contrast %.0f, symmetry %.2f, roll %.0f°",
            sample.width, sample.sharpness, sample.brightness, sample.contrast, sample.pose?.symmetry ?? 0,
            sample.pose?.roll ?? 0)
    }
}
