import Foundation
import Imaging
import Vision

/// A fixture photo and where dlib's HOG detector (upsample 0) finds its face, as
/// `faces-expected.json` records it; the scenario's face boxes are carried from these.
struct FacePhoto {
    var file: String
    var face: FaceBox

    static let obama3 = FacePhoto(file: "obama3.jpg", face: FaceBox(left: 646, top: 302, right: 955, bottom: 611))
    static let biden = FacePhoto(file: "biden.jpg", face: FaceBox(left: 439, top: 233, right: 749, bottom: 542))
}

/// A face to place: which photo, when, how large, how it moves and what is done to it.
struct FacePlacement {
    var photo: FacePhoto
    var person: String?
    var note: String
    var frames: ClosedRange<Int>
    /// Width of the face box in the frame, in pixels.
    var faceWidth: Double
    /// The face box's centre in the first frame.
    var start: SIMD2<Double>
    /// Pixels a frame.
    var velocity: SIMD2<Double>
    /// Amplitude of a slow vertical sway, in pixels (a person shifting their weight).
    var sway: Double = 3
    var contrast: Double?
    /// Blur in frame pixels.
    var blurSigma: Double?
}

/// A badge to place: its payload, when, and how the card is held.
struct BadgePlacement {
    var payload: String
    var subject: String
    var note: String
    var frames: ClosedRange<Int>
    /// The card's pose in the first frame; `drift` is added over the appearance, linearly.
    var pose: CardPose
    var drift: CardPose
    var contrast: Double?
    /// A glare spot in card pixels (centre, radius) and its strength.
    var glare: (centre: SIMD2<Double>, radius: Double, strength: Double)?
    /// Blur in frame pixels.
    var blurSigma: Double?
}

/// Something drawn onto frames, prepared once: a face crop or a badge card.
protocol Layer {
    var frames: ClosedRange<Int> { get }
    /// Draws it onto a frame it is on screen in.
    func draw(on image: RGBImage, frame: Int) throws(VisionError) -> RGBImage
    /// What the manifest says about it, with its box in every frame.
    func appearance() -> ScenarioManifest.Appearance
}

/// A generous crop around a face, scaled and treated, pasted with a feathered elliptical edge.
struct FaceLayer: Layer {
    let placement: FacePlacement
    let patch: RGBImage
    /// The face box inside the patch, as continuous edges (left, top, right, bottom).
    let face: SIMD4<Double>

    var frames: ClosedRange<Int> { placement.frames }

    /// Crops the photo to 1.8 face widths by 2.1 face heights (the head, hair and some shoulder,
    /// shifted up a little), scales it so the face is `faceWidth` wide, and applies the treatment.
    init(_ placement: FacePlacement, photo: RGBImage) throws(VisionError) {
        self.placement = placement
        let box = placement.photo.face
        let size = Double(box.width)
        let centre = SIMD2(Double(box.left) + size / 2, Double(box.top) + Double(box.height) / 2 - 0.12 * size)
        let left = max(0, Int((centre.x - 0.9 * size).rounded()))
        let top = max(0, Int((centre.y - 1.05 * size).rounded()))
        let right = min(photo.width, Int((centre.x + 0.9 * size).rounded()))
        let bottom = min(photo.height, Int((centre.y + 1.05 * size).rounded()))
        let crop = try photo.cropped(x: left, y: top, width: right - left, height: bottom - top)
        let scale = placement.faceWidth / size
        var patch = try crop.resized(
            width: Int((Double(crop.width) * scale).rounded()), height: Int((Double(crop.height) * scale).rounded()))
        let sx = Double(patch.width) / Double(crop.width)
        let sy = Double(patch.height) / Double(crop.height)
        face = SIMD4(
            (Double(box.left) - Double(left)) * sx, (Double(box.top) - Double(top)) * sy,
            (Double(box.right + 1) - Double(left)) * sx, (Double(box.bottom + 1) - Double(top)) * sy)
        if let contrast = placement.contrast {
            patch = try patch.adjusted(contrast: contrast)
        }
        if let sigma = placement.blurSigma {
            patch = try patch.blurred(sigma: sigma)
        }
        self.patch = patch
    }

    /// Where the patch's top-left corner goes in a frame.
    private func origin(frame: Int) -> (x: Int, y: Int) {
        let elapsed = Double(frame - placement.frames.lowerBound)
        let sway = placement.sway * sin(2 * .pi * elapsed / 55)
        let centre = placement.start + placement.velocity * elapsed + SIMD2(0, sway)
        let x = centre.x - (face.x + face.z) / 2
        let y = centre.y - (face.y + face.w) / 2
        return (Int(x.rounded()), Int(y.rounded()))
    }

    func draw(on image: RGBImage, frame: Int) throws(VisionError) -> RGBImage {
        let (x, y) = origin(frame: frame)
        let feather = 0.12 * Double(min(patch.width, patch.height))
        return try image.pasting(patch, x: x, y: y, mask: .ellipse(feather: feather))
    }

    func appearance() -> ScenarioManifest.Appearance {
        let boxes = frames.map { frame in
            let (x, y) = origin(frame: frame)
            return FaceBox(
                left: x + Int(face.x.rounded()), top: y + Int(face.y.rounded()),
                right: x + Int(face.z.rounded()) - 1, bottom: y + Int(face.w.rounded()) - 1)
        }
        return ScenarioManifest.Appearance(
            kind: .face, source: placement.photo.file, person: placement.person, note: placement.note,
            contrast: placement.contrast, blurSigma: placement.blurSigma, firstFrame: frames.lowerBound, boxes: boxes)
    }
}

/// A badge card, treated once, warped into the frame at its pose of the moment.
struct BadgeLayer: Layer {
    let placement: BadgePlacement
    let card: RGBImage

    var frames: ClosedRange<Int> { placement.frames }

    init(_ placement: BadgePlacement) throws(VisionError) {
        self.placement = placement
        var card = try BadgeCard.render(payload: placement.payload)
        if let contrast = placement.contrast {
            card = try card.adjusted(contrast: contrast)
        }
        if let glare = placement.glare {
            card = try card.addingGlare(center: glare.centre, radius: glare.radius, strength: glare.strength)
        }
        if let sigma = placement.blurSigma {
            // The blur is given in frame pixels; the card is drawn at `scale` frame pixels a card pixel.
            card = try card.blurred(sigma: sigma / placement.pose.scale)
        }
        self.card = card
    }

    private func quad(frame: Int) -> Quad {
        let span = max(1, placement.frames.count - 1)
        let t = Double(frame - placement.frames.lowerBound) / Double(span)
        let (pose, drift) = (placement.pose, placement.drift)
        let moved = CardPose(
            centre: pose.centre + drift.centre * t, scale: pose.scale + drift.scale * t, yaw: pose.yaw + drift.yaw * t,
            pitch: pose.pitch + drift.pitch * t, roll: pose.roll + drift.roll * t)
        return moved.quad(cardWidth: card.width, cardHeight: card.height)
    }

    func draw(on image: RGBImage, frame: Int) throws(VisionError) -> RGBImage {
        try image.drawing(card, onto: quad(frame: frame))
    }

    func appearance() -> ScenarioManifest.Appearance {
        let boxes = frames.map { frame in
            let corners = quad(frame: frame).corners
            return FaceBox(
                left: Int(corners.map(\.x).min()!.rounded(.down)), top: Int(corners.map(\.y).min()!.rounded(.down)),
                right: Int(corners.map(\.x).max()!.rounded(.up)), bottom: Int(corners.map(\.y).max()!.rounded(.up)))
        }
        return ScenarioManifest.Appearance(
            kind: .badge, source: "badge", person: placement.subject, note: placement.note,
            payload: placement.payload, contrast: placement.contrast, blurSigma: placement.blurSigma,
            glare: placement.glare != nil, firstFrame: frames.lowerBound, boxes: boxes)
    }
}
