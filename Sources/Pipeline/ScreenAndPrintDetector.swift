public import Imaging
import Vision

/// The appearance of a face and its surroundings on the current frame: a phone's bezel or a photo's
/// paper edge framing the face (long straight edges on three or four sides of it) and a screen's moiré in
/// the face's colour refuse it (`RGBImage.presentationCues`). Glare blown out on glass or glossy paper
/// is measured and reported but does not decide: on the generated set a brightly lit face blew out as
/// much of its box as a glossy print did.
public struct ScreenAndPrintDetector: PresentationAttackDetector, Equatable {
    /// Sides of the face with a long straight edge that make a frame (a door frame or a shelf makes one,
    /// a person's shoulders none).
    public var framingSides = 3
    /// The moiré peak above which the face is on a screen (skin measures 25 to 50 on the generated set).
    public var moire = 55.0

    /// The door's thresholds (calibrated on the generated presentation set; see the README).
    public init() {}

    public func assess(frames: [TrackFrame], image: RGBImage?) -> PresentationAssessment {
        guard let image, let box = frames.last?.landmarks.box,
            let cues = try? image.presentationCues(left: box.left, top: box.top, right: box.right, bottom: box.bottom)
        else {
            return PresentationAssessment(verdict: .undecided, reason: "no_image", scores: [:])
        }
        let scores = [
            "framing_sides": Double(cues.framingSides), "framing_length": cues.framingLength, "moire": cues.moire,
            "glare": cues.glare,
        ]
        let reason: String? =
            cues.framingSides >= framingSides ? "framing_edges" : cues.moire >= moire ? "moire" : nil
        return PresentationAssessment(
            verdict: reason == nil ? .bonaFide : .attack, reason: reason ?? "no_cue", scores: scores)
    }
}
