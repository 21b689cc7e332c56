public import Imaging
import Vision

/// The geometry over a track: a photo or a screen is a plane, a head is not.
///
/// Corners inside the face (its detection box, shrunk a little) are tracked from an earlier frame of the
/// track to the current one, forwards and back, and one homography is fitted to their motion
/// (`GreyImage.planarFit`). A flat picture's points, however it is tilted and moved, follow a homography
/// to within the tracker's noise; a head's do not as soon as it turns: the nose, the cheeks and the outline
/// lie at different depths and sweep across each other (parallax). The residual, as a share of the face's
/// width, is the *parallax*; the homography's own anisotropy, shear and perspective are the *distortion*.
///
/// - Parallax above `liveParallax`: a live face.
/// - Parallax below `flatParallax` while the distortion shows the face turning or tilting: a picture.
/// - Otherwise (a face that has not turned, too little texture): not decided yet.
///
/// The five landmarks alone do not do: dlib's five points (eye corners and the base of the nose) are
/// almost collinear and jitter by about half a pixel, as much as a 10-degree turn moves them against
/// each other at door distance (measured; see the README).
public struct PlanarMotionDetector: PresentationAttackDetector, Equatable {
    /// Parallax (share of the face's width) above which the face is live.
    public var liveParallax = 0.0027
    /// Parallax below which a face that turned or tilted is a picture.
    public var flatParallax = 0.002
    /// Distortion from which a picture's motion would have shown a head's parallax.
    public var minimumDistortion = 0.03

    /// The door's thresholds (calibrated on the generated presentation set; see the README).
    public init() {}

    public func assess(frames: [TrackFrame], image: RGBImage?) -> PresentationAssessment {
        let kept = frames.filter { $0.grey != nil }
        guard let first = kept.first, let last = kept.last, last.frame > first.frame,
            let fit = Self.fit(from: first, to: last), fit.points >= 12
        else {
            return PresentationAssessment(verdict: .undecided, reason: "no_depth_seen", scores: [:])
        }
        let width = Double(max(1, first.landmarks.box.width))
        let parallax = fit.residual / width
        let scores = ["parallax": parallax, "distortion": fit.distortion, "points": Double(fit.points)]
        if parallax >= liveParallax {
            return PresentationAssessment(verdict: .bonaFide, reason: "depth_seen", scores: scores)
        }
        if parallax < flatParallax, fit.distortion >= minimumDistortion {
            return PresentationAssessment(verdict: .attack, reason: "planar_motion", scores: scores)
        }
        return PresentationAssessment(verdict: .undecided, reason: "no_depth_seen", scores: scores)
    }

    /// The planar fit of the face's motion from one frame to another, over the first frame's face box
    /// shrunk by a tenth on each side (to keep the background out).
    static func fit(from first: TrackFrame, to last: TrackFrame) -> PlanarFit? {
        guard let a = first.grey, let b = last.grey else { return nil }
        let box = first.landmarks.box
        let inset = box.width / 10
        return try? a.planarFit(
            to: b, left: box.left + inset, top: box.top + inset, right: box.right - inset, bottom: box.bottom - inset)
    }
}
