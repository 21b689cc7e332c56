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
    /// How the head turns as the person walks (a real head, with depth; nil: a flat cut-out that never
    /// turns, as the first scenarios had).
    var head: HeadMotion? = .natural
    /// Pixels the face grows by each frame (the person coming nearer).
    var growth: Double = 0
}

/// A head's turning over an appearance: yaw and pitch as slow sinusoids in degrees about looking at the
/// camera (someone checking in looks at the door's screen, beside it); with `looksAhead`, about looking
/// straight ahead instead, so that the angle the camera sees the head from changes as the person crosses
/// the frame (a 520-pixel focal length).
struct HeadMotion {
    /// Peak yaw and pitch, degrees.
    var yaw: Double
    var pitch: Double
    /// Frames per full turn (pitch runs 1.3 times slower).
    var period: Double
    var phase: Double = 0
    /// A steady yaw, degrees (the person looking a little aside).
    var bias: Double = 0
    var looksAhead = false

    /// Someone walking to a door and looking at its screen: 7 degrees of yaw, 4 of pitch, over 1.5 s.
    static let natural = HeadMotion(yaw: 7, pitch: 4, period: 45)

    /// Yaw and pitch `elapsed` frames in, for a face centred at `x` in a 640-pixel-wide frame.
    func angles(elapsed: Double, x: Double) -> (yaw: Double, pitch: Double) {
        let view = looksAhead ? atan((x - 320) / CardPose.focalLength) * 180 / .pi : 0
        let turn = 2 * Double.pi * elapsed / period + phase
        return (bias + yaw * sin(turn) - view, pitch * sin(turn / 1.3 + 1))
    }
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

/// A generous crop around a face, scaled and treated, turned as a head turns, pasted with a feathered
/// elliptical edge.
struct FaceLayer: Layer {
    let placement: FacePlacement
    /// The crop at the photo's resolution, and the face box inside it (left, top, right, bottom edges).
    let crop: RGBImage
    let cropFace: SIMD4<Double>

    var frames: ClosedRange<Int> { placement.frames }

    /// Crops the photo to 1.8 face widths by 2.1 face heights (the head, hair and some shoulder,
    /// shifted up a little).
    init(_ placement: FacePlacement, photo: RGBImage) throws(VisionError) {
        self.placement = placement
        (crop, cropFace) = try Self.headCrop(of: photo, face: placement.photo.face)
    }

    /// The head crop of a photo around its face box, and the box inside the crop.
    static func headCrop(of photo: RGBImage, face box: FaceBox) throws(VisionError) -> (RGBImage, SIMD4<Double>) {
        let size = Double(box.width)
        let centre = SIMD2(Double(box.left) + size / 2, Double(box.top) + Double(box.height) / 2 - 0.12 * size)
        let left = max(0, Int((centre.x - 0.9 * size).rounded()))
        let top = max(0, Int((centre.y - 1.05 * size).rounded()))
        let right = min(photo.width, Int((centre.x + 0.9 * size).rounded()))
        let bottom = min(photo.height, Int((centre.y + 1.05 * size).rounded()))
        let crop = try photo.cropped(x: left, y: top, width: right - left, height: bottom - top)
        return (
            crop,
            SIMD4(
                Double(box.left - left), Double(box.top - top), Double(box.right + 1 - left),
                Double(box.bottom + 1 - top))
        )
    }

    private func elapsed(_ frame: Int) -> Double { Double(frame - placement.frames.lowerBound) }

    /// The face box's width in a frame.
    private func faceWidth(frame: Int) -> Double { placement.faceWidth + placement.growth * elapsed(frame) }

    /// The face box's centre in a frame.
    private func centre(frame: Int) -> SIMD2<Double> {
        let sway = placement.sway * sin(2 * .pi * elapsed(frame) / 55)
        return placement.start + placement.velocity * elapsed(frame) + SIMD2(0, sway)
    }

    /// The head's yaw and pitch in a frame (none for a flat cut-out).
    private func angles(frame: Int) -> (yaw: Double, pitch: Double)? {
        placement.head?.angles(elapsed: elapsed(frame), x: centre(frame: frame).x)
    }

    /// The patch for a frame: scaled, treated and turned; with the face box inside it.
    private func patch(frame: Int) throws(VisionError) -> (RGBImage, SIMD4<Double>) {
        let scale = faceWidth(frame: frame) / (cropFace.z - cropFace.x)
        var patch = try crop.resized(
            width: max(2, Int((Double(crop.width) * scale).rounded())),
            height: max(2, Int((Double(crop.height) * scale).rounded())))
        let sx = Double(patch.width) / Double(crop.width)
        let sy = Double(patch.height) / Double(crop.height)
        let face = cropFace * SIMD4(sx, sy, sx, sy)
        if let contrast = placement.contrast {
            patch = try patch.adjusted(contrast: contrast)
        }
        if let sigma = placement.blurSigma {
            patch = try patch.blurred(sigma: sigma)
        }
        if let (yaw, pitch) = angles(frame: frame) {
            patch = try patch.turningHead(face: face, yaw: yaw, pitch: pitch)
        }
        return (patch, face)
    }

    /// Where the patch's top-left corner goes in a frame, for a patch whose face box is `face`.
    private func origin(frame: Int, face: SIMD4<Double>) -> (x: Int, y: Int) {
        let centre = centre(frame: frame)
        let x = centre.x - (face.x + face.z) / 2
        let y = centre.y - (face.y + face.w) / 2
        return (Int(x.rounded()), Int(y.rounded()))
    }

    func draw(on image: RGBImage, frame: Int) throws(VisionError) -> RGBImage {
        let (patch, face) = try patch(frame: frame)
        let (x, y) = origin(frame: frame, face: face)
        let feather = 0.12 * Double(min(patch.width, patch.height))
        return try image.pasting(patch, x: x, y: y, mask: .ellipse(feather: feather))
    }

    func appearance() -> ScenarioManifest.Appearance {
        let boxes = frames.map { frame in
            let scale = faceWidth(frame: frame) / (cropFace.z - cropFace.x)
            let face = cropFace * scale
            let (x, y) = origin(frame: frame, face: face)
            // A turned head's face moves with the turn: its middle stands about 0.45 face widths
            // proud of the head's axis.
            let shift = angles(frame: frame).map { 0.45 * faceWidth(frame: frame) * sin($0.yaw * .pi / 180) } ?? 0
            let dx = Int(shift.rounded())
            return FaceBox(
                left: x + dx + Int(face.x.rounded()), top: y + Int(face.y.rounded()),
                right: x + dx + Int(face.z.rounded()) - 1, bottom: y + Int(face.w.rounded()) - 1)
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
        let boxes = frames.map { quad(frame: $0).boundingBox }
        return ScenarioManifest.Appearance(
            kind: .badge, source: "badge", person: placement.subject, note: placement.note,
            payload: placement.payload, contrast: placement.contrast, blurSigma: placement.blurSigma,
            glare: placement.glare != nil, firstFrame: frames.lowerBound, boxes: boxes)
    }
}

extension Quad {
    /// The smallest box of whole pixels holding the quad.
    var boundingBox: FaceBox {
        let xs = corners.map(\.x)
        let ys = corners.map(\.y)
        return FaceBox(
            left: Int(xs.min()!.rounded(.down)), top: Int(ys.min()!.rounded(.down)), right: Int(xs.max()!.rounded(.up)),
            bottom: Int(ys.max()!.rounded(.up)))
    }
}
