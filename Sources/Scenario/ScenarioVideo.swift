import Attendance
import Badges
public import Foundation
import Imaging
import Vision

/// The scenario the replay test and benchmark run on: 12 seconds at a classroom door, generated
/// from the face fixtures. A student checks in while a stranger passes; a volunteer badges in and,
/// in poor light, out; the student comes back in poor light; a forged badge is shown; a stranger
/// passes out of focus. Everything is deterministic except the badge keys, which are new each run.
public enum ScenarioVideo {
    /// Frame size in pixels.
    public static let width = 640
    public static let height = 360
    /// Frames per second.
    public static let fps = 30
    /// Number of frames (12 s).
    public static let frameCount = 360
    /// The wall-clock time of frame 0 in the replay: 2026-11-23T08:02:00Z.
    public static let start = Date(timeIntervalSince1970: 1_795_420_920)
    /// The frames `rollcall-scenario --frames-dir` writes out, one in each part of the story.
    public static let inspectionFrames = [15, 60, 125, 190, 240, 300, 340]

    static let room = "B12"
    static let student = "p-obama"
    static let volunteer = "v-ada"
    static let impostor = "v-mallory"
    static let keyID = "scenario"
    /// Badges are valid from 2026-11-01T00:00:00Z to 2026-12-31T00:00:00Z.
    static let badgeIssued = Date(timeIntervalSince1970: 1_793_491_200)
    static let badgeExpires = Date(timeIntervalSince1970: 1_798_675_200)

    /// Generates the scenario into `directory` (created if needed): `scenario.avi`,
    /// `sessions.json`, `badge-keys.json` and `manifest.json`.
    /// - Parameter facesDirectory: the fixture faces folder (`obama3.jpg`, `biden.jpg`).
    /// - Throws: `ScenarioError` naming the file that could not be read or written.
    public static func generate(fixtures facesDirectory: URL, into directory: URL) throws -> ScenarioFiles {
        try generate(fixtures: facesDirectory, into: directory, dumpingFrames: [], to: nil)
    }

    /// Generates the scenario and also writes the given frames as `frame-NNN.png` into
    /// `framesDirectory`, for a human to look at. `playedAt` stamps the same frames at another rate (a
    /// slow door, such as the emulated one of `make guest-test`, then sees the story slowed down, every
    /// move as far between two frames as at 30 fps); the manifest gives that rate.
    public static func generate(
        fixtures facesDirectory: URL, into directory: URL, dumpingFrames frames: [Int], to framesDirectory: URL?,
        playedAt rate: Int = fps
    ) throws -> ScenarioFiles {
        precondition(rate > 0, "a frame rate above 0")
        let issuer = BadgeIssuer.generate(kid: keyID)
        let forger = BadgeIssuer.generate(kid: keyID)
        let valid = try issuer.issue(subject: volunteer, role: .volunteer, issued: badgeIssued, expires: badgeExpires)
        let forged = try forger.issue(subject: impostor, role: .volunteer, issued: badgeIssued, expires: badgeExpires)

        // The fixtures are read before anything is written, so a wrong folder leaves nothing behind.
        let layers = try makeLayers(faces: facesDirectory, validBadge: valid.payload, forgedBadge: forged.payload)
        try makeDirectory(directory)
        if let framesDirectory { try makeDirectory(framesDirectory) }
        let manifest = ScenarioManifest(
            start: start, fps: rate, frames: frameCount, width: width, height: height, gallery: gallery,
            expected: expected, appearances: layers.map { $0.appearance() })

        let files = ScenarioFiles(
            directory: directory, video: directory.appendingPathComponent("scenario.avi"),
            sessions: directory.appendingPathComponent("sessions.json"),
            badgeKeys: directory.appendingPathComponent("badge-keys.json"),
            manifestFile: directory.appendingPathComponent("manifest.json"), manifest: manifest)
        try render(layers: layers, to: files.video, fps: rate, dumping: Set(frames), into: framesDirectory)
        let encoder = ScenarioFiles.encoder()
        try write(try encoder.encode(sessions), to: files.sessions)
        try write(try encoder.encode(issuer.keyring), to: files.badgeKeys)
        try write(try encoder.encode(manifest), to: files.manifestFile)
        return files
    }

    /// The class running in room B12 while the video plays.
    static var sessions: ScenarioSessions {
        ScenarioSessions(
            room: room, policy: .init(qrRepeatSeconds: 1, volunteerDebounceSeconds: 2),
            sessions: [
                .init(
                    id: "s-math-7b", group: "7B", start: Date(timeIntervalSince1970: 1_795_420_800),
                    end: Date(timeIntervalSince1970: 1_795_423_500), roster: [student])
            ])
    }

    /// Whom the replay enrols: photos of the same person the video never shows.
    static let gallery = [
        ScenarioManifest.Person(
            person: student, name: "Barack Obama", role: "student", images: ["obama.jpg", "obama2.jpg"])
    ]

    /// What a correct pipeline decides, and by when.
    static let expected: [ScenarioManifest.Decision] = [
        .init(kind: .checkin, person: student, firstFrame: 15, lastFrame: 25, status: "present"),
        .init(kind: .unknownFace, person: nil, firstFrame: 45, lastFrame: 50),
        .init(kind: .entry, person: volunteer, firstFrame: 120, lastFrame: 130),
        .init(kind: .exit, person: volunteer, firstFrame: 220, lastFrame: 230),
        .init(kind: .rejectedBadge, person: nil, firstFrame: 280, lastFrame: 290, reason: "bad_signature"),
    ]

    /// The story, in drawing order.
    ///
    /// Badge tilts keep yaw and pitch of opposite signs, so the corner nearest the camera is the
    /// top-left or bottom-right one: zbar (0.23.92) misses most codes whose top-right to bottom-left
    /// diagonal is the one turned away, and the video is meant to test the pipeline, not zbar.
    static func makeLayers(faces: URL, validBadge: String, forgedBadge: String) throws -> [any Layer] {
        let obama = try photo(FacePhoto.obama3, in: faces)
        let biden = try photo(FacePhoto.biden, in: faces)
        return [
            try FaceLayer(
                FacePlacement(
                    photo: .obama3, person: student, note: "enrolled student walks left to right: checked in",
                    frames: 15...104, faceWidth: 124, start: SIMD2(150, 168), velocity: SIMD2(1, 0)),
                photo: obama),
            try FaceLayer(
                FacePlacement(
                    photo: .biden, person: nil, note: "stranger walks right to left beside him: unknown face",
                    frames: 45...104, faceWidth: 128, start: SIMD2(500, 172), velocity: SIMD2(-1, 0)),
                photo: biden),
            try BadgeLayer(
                BadgePlacement(
                    payload: validBadge, subject: volunteer, note: "volunteer badge, tilted, slightly blurred: entry",
                    frames: 120...160,
                    pose: CardPose(centre: SIMD2(300, 186), scale: 0.72, yaw: 26, pitch: -12, roll: 6),
                    drift: CardPose(centre: SIMD2(36, -8), scale: 0.02, yaw: -4, pitch: 2, roll: 2),
                    blurSigma: 1)),
            try FaceLayer(
                FacePlacement(
                    photo: .obama3, person: student,
                    note: "the student again, in poor light: recognised, already checked in",
                    frames: 175...205, faceWidth: 130, start: SIMD2(300, 170), velocity: SIMD2(1, 0.2),
                    contrast: 0.55),
                photo: obama),
            try BadgeLayer(
                BadgePlacement(
                    payload: validBadge, subject: volunteer,
                    note: "the same badge in poor light with glare, tilted the other way: exit", frames: 220...260,
                    pose: CardPose(centre: SIMD2(340, 182), scale: 0.76, yaw: -24, pitch: 10, roll: -7),
                    drift: CardPose(centre: SIMD2(-36, 6), scale: 0, yaw: 4, pitch: 2, roll: 2), contrast: 0.6,
                    glare: (centre: SIMD2(252, 286), radius: 64, strength: 0.35), blurSigma: 1)),
            try BadgeLayer(
                BadgePlacement(
                    payload: forgedBadge, subject: impostor,
                    note: "a badge signed by another key under the scenario's key id: rejected, bad signature",
                    frames: 280...320,
                    pose: CardPose(centre: SIMD2(320, 184), scale: 0.74, yaw: 18, pitch: -16, roll: -4),
                    drift: CardPose(centre: SIMD2(-30, 0), scale: 0, yaw: 2, pitch: 2, roll: 3),
                    blurSigma: 1)),
            try FaceLayer(
                FacePlacement(
                    photo: .biden, person: nil, note: "the stranger out of focus: the quality gate refuses to encode",
                    frames: 330...359, faceWidth: 126, start: SIMD2(340, 170), velocity: SIMD2(-1, 0), blurSigma: 5),
                photo: biden),
        ]
    }

    /// Draws every frame and writes the video.
    static func render(
        layers: [any Layer], to video: URL, fps rate: Int, dumping: Set<Int>, into framesDirectory: URL?
    ) throws {
        let background = try Background.render(width: width, height: height)
        let writer = try VideoWriter(path: video.path, fps: Double(rate), width: width, height: height)
        for frame in 0..<frameCount {
            var image = background
            for layer in layers where layer.frames.contains(frame) {
                image = try layer.draw(on: image, frame: frame)
            }
            // Sensor noise, different in every frame and the same on every run.
            image = try image.addingNoise(sigma: 2, seed: 0x5CE1_0000 &+ UInt64(frame))
            try writer.write(image)
            if let framesDirectory, dumping.contains(frame) {
                let name = "frame-" + String(repeating: "0", count: max(0, 3 - String(frame).count)) + "\(frame).png"
                try write(try image.pngData(), to: framesDirectory.appendingPathComponent(name))
            }
        }
    }

    static func photo(_ photo: FacePhoto, in faces: URL) throws -> RGBImage {
        let path = faces.appendingPathComponent(photo.file).path
        do {
            return try RGBImage(contentsOfFile: path)
        } catch {
            throw ScenarioError(
                "\(error.message): the face fixtures are needed (pass --fixtures or set ROLLCALL_FIXTURES)", path: path)
        }
    }

    static func makeDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw ScenarioError("cannot create the folder: \(error.localizedDescription)", path: url.path)
        }
    }

    static func write(_ data: Data, to url: URL) throws {
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw ScenarioError("cannot write the file: \(error.localizedDescription)", path: url.path)
        }
    }
}

/// A scenario that could not be generated: what failed, and on which file.
public struct ScenarioError: Error, Sendable, CustomStringConvertible {
    /// What happened and what to do.
    public var message: String
    /// The file or folder concerned.
    public var path: String?

    init(_ message: String, path: String? = nil) {
        self.message = message
        self.path = path
    }

    public var description: String {
        path.map { "\($0): \(message)" } ?? message
    }
}
