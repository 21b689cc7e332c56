public import Foundation
import Imaging
import Vision

/// Presentation attacks made from the face fixtures, and as many genuine approaches, one short clip each:
/// what `rollcall bench presentation` measures the door's presentation-attack stage on (ISO/IEC 30107-3's
/// APCER per attack type and BPCER).
///
/// - A genuine approach is a fixture face rendered as a head (`turningHead`: a rounded head model with a
///   nose, so it shows parallax) walking towards the door and across it, glancing about.
/// - A printed photo is the same face on paper with a white margin, held in a moving hand at door distance
///   (perspective, tilts, tremor), printed a little flat and dull, sometimes glossy with a glare spot.
/// - A phone screen is the face on a phone held up to the camera: a black bezel, the screen's moiré and
///   its colour, sometimes a reflection on the glass.
///
/// Every clip has its own seed: the set is the same on every run.
public enum PresentationSet {
    /// What a clip shows.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case genuine
        case printedPhoto = "printed_photo"
        case phoneScreen = "phone_screen"

        /// Whether it is an attack (anything but a genuine approach).
        public var isAttack: Bool { self != .genuine }
    }

    /// One clip: a file of its own, one presentation from its first frame to its last.
    public struct Clip: Sendable, Codable, Equatable {
        /// The clip's video, in the set's folder.
        public var file: String
        public var kind: Kind
        /// Whom the face is (the person the attack claims to be).
        public var person: String
        /// The fixture photo it was made from.
        public var source: String
        /// How it was made, for a human.
        public var note: String
        public var seed: UInt64
    }

    /// `presentation.json`: the clips and whom to enrol.
    public struct Manifest: Sendable, Codable, Equatable {
        public var fps: Int
        public var framesPerClip: Int
        public var width: Int
        public var height: Int
        /// The people to enrol from fixture photos (each in the fixtures' faces folder).
        public var gallery: [ScenarioManifest.Person]
        public var clips: [Clip]

        enum CodingKeys: String, CodingKey {
            case fps, width, height, gallery, clips
            case framesPerClip = "frames_per_clip"
        }
    }

    /// Frames in a clip: 1.8 s at 30 fps.
    public static let framesPerClip = 54

    static let people: [(photo: FacePhoto, person: String)] = [(.obama3, "p-obama"), (.biden, "p-biden")]

    static let gallery = [
        ScenarioManifest.Person(
            person: "p-obama", name: "Barack Obama", role: "student", images: ["obama.jpg", "obama2.jpg"]),
        ScenarioManifest.Person(person: "p-biden", name: "Joe Biden", role: "student", images: ["biden.jpg"]),
    ]

    /// Writes `clipsPerKind` clips of each kind into `directory` (created if needed) as `clip-NNN.avi`,
    /// and `presentation.json`. `progress` is told of each clip written.
    public static func generate(
        fixtures facesDirectory: URL, into directory: URL, clipsPerKind: Int = 20,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> Manifest {
        let photos = try people.map { try ScenarioVideo.photo($0.photo, in: facesDirectory) }
        try ScenarioVideo.makeDirectory(directory)
        let background = try Background.render(width: ScenarioVideo.width, height: ScenarioVideo.height)
        var clips: [Clip] = []
        let total = clipsPerKind * Kind.allCases.count
        for index in 0..<total {
            let kind = Kind.allCases[index % Kind.allCases.count]
            let who = (index / Kind.allCases.count) % people.count
            let seed = 0x0A77_AC00 &+ UInt64(index)
            let layer = try makeLayer(kind: kind, photo: photos[who], face: people[who].photo, seed: seed)
            let clip = Clip(
                file: "clip-\(String(format: "%03d", index)).avi", kind: kind, person: people[who].person,
                source: people[who].photo.file, note: layer.note, seed: seed)
            try render(layer.layer, background: background, to: directory.appendingPathComponent(clip.file), seed: seed)
            clips.append(clip)
            progress(index + 1, total)
        }
        let manifest = Manifest(
            fps: ScenarioVideo.fps, framesPerClip: framesPerClip, width: ScenarioVideo.width,
            height: ScenarioVideo.height, gallery: gallery, clips: clips)
        try ScenarioVideo.write(
            try ScenarioFiles.encoder().encode(manifest), to: directory.appendingPathComponent("presentation.json"))
        return manifest
    }

    /// One clip's layer, drawn from its seed.
    static func makeLayer(kind: Kind, photo: RGBImage, face: FacePhoto, seed: UInt64) throws -> (
        layer: any Layer, note: String
    ) {
        var random = SeededGenerator(seed: seed)
        let frames = 0...(framesPerClip - 1)
        // Where the face starts and how it moves: towards the door, across a little.
        let start = SIMD2(320 + 110 * random.signedUnit(), 176 + 14 * random.signedUnit())
        let drift = SIMD2(1.4 * random.signedUnit(), 0.3 * random.signedUnit())
        let width = 108 + 14 * random.signedUnit()
        let growth = 0.45 + 0.25 * random.signedUnit()
        let light = 1 + 0.25 * random.signedUnit()
        switch kind {
        case .genuine:
            let head = HeadMotion(
                yaw: 9 + 5 * random.signedUnit(), pitch: 4.5 + 2.5 * random.signedUnit(),
                period: 50 + 15 * random.signedUnit(), phase: .pi * random.signedUnit(), bias: 5 * random.signedUnit())
            let placement = FacePlacement(
                photo: face, person: nil, note: "", frames: frames, faceWidth: width, start: start, velocity: drift,
                contrast: light, head: head, growth: growth)
            let note = String(
                format: "a person walking up, yaw %.0f°, pitch %.0f°, contrast %.2f", head.yaw, head.pitch, light)
            return (try FaceLayer(placement, photo: photo), note)
        case .printedPhoto, .phoneScreen:
            let phone = kind == .phoneScreen
            let glare = random.signedUnit() > 0
            let medium = try PresentationMedium(
                photo: photo, face: face.face, kind: phone ? .phone : .print, glare: glare, seed: seed)
            let hand = HandMotion(
                yaw: 10 + 8 * random.signedUnit(), pitch: 7 + 5 * random.signedUnit(), roll: 4 * random.signedUnit(),
                period: 40 + 15 * random.signedUnit(), phase: .pi * random.signedUnit(),
                tremor: 0.8 + 0.5 * random.signedUnit())
            let layer = MediumLayer(
                medium: medium, frames: frames, faceWidth: width, start: start, velocity: drift, growth: growth,
                hand: hand, light: light)
            let note = String(
                format: "%@ in a hand, tilting %.0f°/%.0f°%@, light %.2f", phone ? "a phone screen" : "a printed photo",
                hand.yaw, hand.pitch, glare ? ", with glare" : "", light)
            return (layer, note)
        }
    }

    /// Draws a clip over the background, with sensor noise, and writes it.
    static func render(_ layer: any Layer, background: RGBImage, to url: URL, seed: UInt64) throws {
        let writer = try VideoWriter(
            path: url.path, fps: Double(ScenarioVideo.fps), width: ScenarioVideo.width, height: ScenarioVideo.height)
        for frame in 0..<framesPerClip {
            var image = try layer.draw(on: background, frame: frame)
            image = try image.addingNoise(sigma: 2, seed: seed &* 1000 &+ UInt64(frame))
            try writer.write(image)
        }
    }
}

/// How a hand holds a picture up: slow tilts (degrees) and a tremor (degrees, fast).
struct HandMotion {
    var yaw: Double
    var pitch: Double
    var roll: Double
    var period: Double
    var phase: Double
    var tremor: Double

    /// The picture's tilts `elapsed` frames in.
    func pose(elapsed: Double) -> (yaw: Double, pitch: Double, roll: Double) {
        let turn = 2 * Double.pi * elapsed / period + phase
        let shake = tremor * sin(2 * .pi * elapsed / 7.3)
        return (yaw * sin(turn) + shake, pitch * sin(turn / 1.4 + 0.7) - shake / 2, roll * sin(turn / 1.9) + shake / 3)
    }
}

/// The picture an attacker holds up: a print of the face with its paper margin, or a phone showing it.
struct PresentationMedium {
    enum Kind {
        case print
        case phone
    }

    /// The whole medium (paper or phone, bezel included) and the face box on it.
    let image: RGBImage
    let face: SIMD4<Double>

    init(photo: RGBImage, face box: FaceBox, kind: Kind, glare: Bool, seed: UInt64) throws {
        var random = SeededGenerator(seed: seed ^ 0x5EED)
        // The picture itself: the head crop, at 240 px a face width (a print's or a screen's resolution).
        let (crop, cropFace) = try FaceLayer.headCrop(of: photo, face: box)
        let scale = 240 / (cropFace.z - cropFace.x)
        var picture = try crop.resized(
            width: Int((Double(crop.width) * scale).rounded()), height: Int((Double(crop.height) * scale).rounded()))
        let pictureFace = cropFace * scale
        let margin: (x: Int, top: Int, bottom: Int)
        let edge: RGBImage
        switch kind {
        case .print:
            // Ink on paper: less contrast, a warm cast, a white margin.
            picture = try picture.adjusted(brightness: 6, contrast: 0.82 + 0.08 * random.signedUnit())
            let border = Int(26 + 10 * random.signedUnit())
            margin = (border, border, border + Int(random.next() % 2) * 20)
            edge = try RGBImage(
                width: 1, height: 1, pixels: [UInt8(238 + 10 * random.signedUnit()), 236, UInt8(228)])
        case .phone:
            // A backlit screen: brighter, bluer, with the beat of its pixel grid against the camera's.
            picture = try picture.adjusted(brightness: 14, contrast: 1.05)
            picture = try picture.addingMoire(
                period: 9 + 4 * random.signedUnit(), angle: 20 + 25 * random.signedUnit(),
                strength: 0.14 + 0.05 * random.signedUnit())
            margin = (16, 46, 58)
            edge = try RGBImage(width: 1, height: 1, pixels: [18, 18, 22])
        }
        let width = picture.width + 2 * margin.x
        let height = picture.height + margin.top + margin.bottom
        var medium = try edge.resized(width: width, height: height)
        medium = try medium.pasting(picture, x: margin.x, y: margin.top)
        if glare {
            medium = try medium.addingGlare(
                center: SIMD2(
                    Double(width) * (0.5 + 0.25 * random.signedUnit()),
                    Double(height) * (0.4 + 0.2 * random.signedUnit())),
                radius: Double(width) * (0.18 + 0.06 * random.signedUnit()),
                strength: kind == .phone ? 0.55 : 0.4)
        }
        image = medium
        face =
            pictureFace + SIMD4(Double(margin.x), Double(margin.top), Double(margin.x), Double(margin.top))
    }
}

/// A presentation medium held in a hand, warped into the frame in perspective at its pose of the moment.
struct MediumLayer: Layer {
    let medium: PresentationMedium
    let frames: ClosedRange<Int>
    /// The face's width in the first frame, in frame pixels, and its growth a frame.
    let faceWidth: Double
    let start: SIMD2<Double>
    let velocity: SIMD2<Double>
    let growth: Double
    let hand: HandMotion
    /// A contrast factor for the room's light.
    let light: Double

    private func quad(frame: Int) -> Quad {
        let elapsed = Double(frame - frames.lowerBound)
        let scale = (faceWidth + growth * elapsed) / (medium.face.z - medium.face.x)
        let tilt = hand.pose(elapsed: elapsed)
        // The medium's centre sits so that its face lands on the face's track.
        let faceCentre = SIMD2((medium.face.x + medium.face.z) / 2, (medium.face.y + medium.face.w) / 2)
        let offset = (faceCentre - SIMD2(Double(medium.image.width - 1), Double(medium.image.height - 1)) / 2) * scale
        let centre = start + velocity * elapsed - offset
        return CardPose(centre: centre, scale: scale, yaw: tilt.yaw, pitch: tilt.pitch, roll: tilt.roll)
            .quad(cardWidth: medium.image.width, cardHeight: medium.image.height)
    }

    func draw(on image: RGBImage, frame: Int) throws(VisionError) -> RGBImage {
        try image.drawing(try medium.image.adjusted(contrast: light), onto: quad(frame: frame))
    }

    func appearance() -> ScenarioManifest.Appearance {
        let boxes = frames.map { quad(frame: $0).boundingBox }
        return ScenarioManifest.Appearance(
            kind: .face, source: "medium", person: nil, note: "a picture held up", firstFrame: frames.lowerBound,
            boxes: boxes)
    }
}
