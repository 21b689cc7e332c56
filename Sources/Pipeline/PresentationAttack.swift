public import Imaging
public import Vision

/// One frame of a track as the presentation-attack detectors see it: where its face's landmarks were.
public struct TrackFrame: Sendable, Equatable {
    /// The frame's index.
    public var frame: Int
    /// The face's five landmarks and its detection box on that frame.
    public var landmarks: FaceLandmarks
    /// The whole frame in grey, for the newest frames of a track (nil for older ones: it is let go).
    public var grey: GreyImage?
    /// Seconds from the source's start.
    public var t: Double

    public init(frame: Int, landmarks: FaceLandmarks, grey: GreyImage? = nil, t: Double = 0) {
        self.frame = frame
        self.landmarks = landmarks
        self.grey = grey
        self.t = t
    }
}

/// What a presentation-attack detector concluded about a track.
public struct PresentationAssessment: Sendable, Equatable {
    /// Live face, picture of one, or not enough seen yet.
    public enum Verdict: String, Sendable, Equatable {
        case bonaFide = "bona_fide"
        case attack
        case undecided
    }

    public var verdict: Verdict
    /// Why, as a code for the audit (never shown at the door): for attacks `planar_motion`,
    /// `no_depth_seen`, `framing_edges`, `moire` or `glare`.
    public var reason: String
    /// The measurements the verdict rests on, by name.
    public var scores: [String: Double]

    public init(verdict: Verdict, reason: String, scores: [String: Double]) {
        self.verdict = verdict
        self.reason = reason
        self.scores = scores
    }
}

/// Tells a face at the door from a picture of one held up to the camera (a print or a screen): a track's
/// recent frames in, a verdict, a reason and scores out. Detectors are pure: they keep no state between
/// calls and store no image.
public protocol PresentationAttackDetector: Sendable {
    /// Assesses a track from its recent frames (oldest first; the newest is the current frame) and the
    /// current frame's image (nil when the frame has none).
    func assess(frames: [TrackFrame], image: RGBImage?) -> PresentationAssessment
}

/// How the door decides that a face is live before the attendance rules see it.
public struct PresentationAttackConfiguration: Sendable, Equatable {
    /// Whether the stage runs (off: every consensus goes straight to the rules, as before).
    public var enabled = true
    /// The geometry over the track, and whether it decides (off: only measured).
    public var geometry = PlanarMotionDetector()
    public var geometryDecides = true
    /// The screen and print cues on the frames, and whether they decide (off: only measured).
    public var appearance = ScreenAndPrintDetector()
    public var appearanceDecides = true
    /// Frames of a track kept for the geometry (the newest).
    public var window = 30
    /// Of those, how many keep their grey frame (the geometry compares the newest with the oldest kept).
    public var greyFrames = 10
    /// How long (seconds, over 3 frames at least) a track must have been seen before a face is accepted
    /// as live: 4 frames after its first at 30 fps, so that a student is checked in within 5 frames of
    /// reaching the gate. In time, not frames, so that a door that analyses fewer frames (a slow
    /// processor) still decides while the student is at the door. On the presentation set, 0.13 s keeps
    /// the door's figures with both detectors deciding (README, "Presentation attacks"); the appearance
    /// alone, with fewer looks, lets more phone screens through than at 0.23 s.
    public var minimumSeconds = 0.13
    /// Seconds after which a track that has shown no depth is refused (the student can use the badge,
    /// or step back and come again turning their head), once the geometry has had `greyFrames` frames
    /// of it too: a door that analyses a frame a second waits longer, and looks as often.
    public var maximumSeconds = 1.5
    /// Frames whose appearance must show a screen or print for the appearance to refuse a track (of
    /// those assessed while it waited), so that one odd frame does not; as many clean ones let it through.
    public var appearanceFrames = 2

    /// The door's defaults.
    public init() {}

    /// The door's defaults.
    public static let door = PresentationAttackConfiguration()
}
