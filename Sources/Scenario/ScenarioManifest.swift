public import Foundation
public import Vision

/// What `manifest.json` says about a generated scenario: its timing, whom to enrol, the decisions a
/// correct pipeline must make, and everything placed in the video.
public struct ScenarioManifest: Sendable, Codable, Equatable {
    /// The wall-clock time of frame 0 when the video is replayed.
    public var start: Date
    /// Frames per second.
    public var fps: Int
    /// Number of frames.
    public var frames: Int
    /// Frame size in pixels.
    public var width: Int
    public var height: Int
    /// The people to enrol before the replay, from fixture photos the video does not use.
    public var gallery: [Person]
    /// The decisions a correct pipeline prints, each exactly once.
    public var expected: [Decision]
    /// Every face and badge placed in the video.
    public var appearances: [Appearance]

    /// Makes a manifest.
    public init(
        start: Date, fps: Int, frames: Int, width: Int, height: Int, gallery: [Person], expected: [Decision],
        appearances: [Appearance]
    ) {
        self.start = start
        self.fps = fps
        self.frames = frames
        self.width = width
        self.height = height
        self.gallery = gallery
        self.expected = expected
        self.appearances = appearances
    }

    /// The replay's wall-clock time of a frame.
    public func time(ofFrame frame: Int) -> Date {
        start.addingTimeInterval(Double(frame) / Double(fps))
    }

    /// The appearances on screen in a frame.
    public func appearances(inFrame frame: Int) -> [Appearance] {
        appearances.filter { ($0.firstFrame...$0.lastFrame).contains(frame) }
    }

    /// Someone to enrol: `{"person", "name", "role", "images"}`.
    public struct Person: Sendable, Codable, Equatable {
        /// Opaque person id.
        public var person: String
        /// Display name.
        public var name: String
        /// `student`, `volunteer` or `staff`.
        public var role: String
        /// Fixture file names (in the faces folder) to enrol from.
        public var images: [String]

        /// Makes an entry.
        public init(person: String, name: String, role: String, images: [String]) {
            self.person = person
            self.name = name
            self.role = role
            self.images = images
        }
    }

    /// A decision the pipeline must make once, in a frame of `firstFrame...lastFrame`.
    public struct Decision: Sendable, Codable, Equatable {
        /// What is decided.
        public enum Kind: String, Sendable, Codable, CaseIterable {
            /// A student checked in to the session.
            case checkin
            /// A face seen clearly that matches nobody in the gallery.
            case unknownFace = "unknown_face"
            /// A volunteer's badge scanned on the way in.
            case entry
            /// The same badge scanned again on the way out.
            case exit
            /// A badge refused (`reason` says why).
            case rejectedBadge = "rejected_badge"
        }

        public var kind: Kind
        /// The person decided about; nil for an unknown face or a refused badge (whose claims are
        /// not to be believed).
        public var person: String?
        /// The first frame in which the decision may be made (the thing's first frame).
        public var firstFrame: Int
        /// The last frame by which it must have been made.
        public var lastFrame: Int
        /// For check-ins: `present` or `late`.
        public var status: String?
        /// For refused badges: the `BadgeRejection` raw value, e.g. `bad_signature`.
        public var reason: String?

        /// Makes a decision.
        public init(
            kind: Kind, person: String?, firstFrame: Int, lastFrame: Int, status: String? = nil, reason: String? = nil
        ) {
            self.kind = kind
            self.person = person
            self.firstFrame = firstFrame
            self.lastFrame = lastFrame
            self.status = status
            self.reason = reason
        }

        enum CodingKeys: String, CodingKey {
            case kind, person, status, reason
            case firstFrame = "first_frame"
            case lastFrame = "last_frame"
        }

        /// Writes `person` even when it is null, so every decision has the same keys.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(kind, forKey: .kind)
            try container.encode(person, forKey: .person)
            try container.encode(firstFrame, forKey: .firstFrame)
            try container.encode(lastFrame, forKey: .lastFrame)
            try container.encodeIfPresent(status, forKey: .status)
            try container.encodeIfPresent(reason, forKey: .reason)
        }
    }

    /// A face or badge placed in the video, with its box in every frame it is on screen.
    public struct Appearance: Sendable, Codable, Equatable {
        /// What was placed.
        public enum Kind: String, Sendable, Codable {
            case face
            case badge
        }

        public var kind: Kind
        /// Where it came from: a fixture file name for faces, `badge` for badges.
        public var source: String
        /// Who it is: a gallery person id, a badge's subject, or nil for a stranger.
        public var person: String?
        /// What it is there to test, for a human.
        public var note: String
        /// A badge's QR payload.
        public var payload: String?
        /// The contrast factor applied to it (1 when absent).
        public var contrast: Double?
        /// The blur applied to it, in pixels of the frame (none when absent).
        public var blurSigma: Double?
        /// Whether a glare spot lies over it.
        public var glare: Bool?
        /// Its first and last frames on screen (inclusive).
        public var firstFrame: Int
        public var lastFrame: Int
        /// Its box in each frame from `firstFrame` to `lastFrame`: for a face, where dlib's detector
        /// (upsample 0) puts the face box in the source photo, carried into the frame; for a badge,
        /// the card's bounding box.
        public var boxes: [FaceBox]

        /// Makes an appearance.
        public init(
            kind: Kind, source: String, person: String?, note: String, payload: String? = nil,
            contrast: Double? = nil, blurSigma: Double? = nil, glare: Bool? = nil, firstFrame: Int,
            boxes: [FaceBox]
        ) {
            self.kind = kind
            self.source = source
            self.person = person
            self.note = note
            self.payload = payload
            self.contrast = contrast
            self.blurSigma = blurSigma
            self.glare = glare
            self.firstFrame = firstFrame
            self.lastFrame = firstFrame + boxes.count - 1
            self.boxes = boxes
        }

        /// Its box in a frame, or nil when it is not on screen then.
        public func box(atFrame frame: Int) -> FaceBox? {
            (firstFrame...lastFrame).contains(frame) ? boxes[frame - firstFrame] : nil
        }

        enum CodingKeys: String, CodingKey {
            case kind, source, person, note, payload, contrast, glare, boxes
            case blurSigma = "blur_sigma"
            case firstFrame = "first_frame"
            case lastFrame = "last_frame"
        }
    }
}

/// `sessions.json`: the room, the attendance policy and the sessions the replay runs against.
public struct ScenarioSessions: Sendable, Codable, Equatable {
    public var room: String
    public var policy: Policy
    public var sessions: [Session]

    /// Makes the file's content.
    public init(room: String, policy: Policy, sessions: [Session]) {
        self.room = room
        self.policy = policy
        self.sessions = sessions
    }

    /// Debounce settings, in whole seconds.
    public struct Policy: Sendable, Codable, Equatable {
        /// The same QR code seen again within this time is the same scan.
        public var qrRepeatSeconds: Int
        /// A volunteer's second scan within this time of the first is ignored.
        public var volunteerDebounceSeconds: Int

        /// Makes a policy.
        public init(qrRepeatSeconds: Int, volunteerDebounceSeconds: Int) {
            self.qrRepeatSeconds = qrRepeatSeconds
            self.volunteerDebounceSeconds = volunteerDebounceSeconds
        }

        enum CodingKeys: String, CodingKey {
            case qrRepeatSeconds = "qr_repeat_seconds"
            case volunteerDebounceSeconds = "volunteer_debounce_seconds"
        }
    }

    /// One class occurrence.
    public struct Session: Sendable, Codable, Equatable {
        public var id: String
        /// The class (group) name.
        public var group: String
        public var start: Date
        public var end: Date
        /// Person ids of the students expected.
        public var roster: [String]

        /// Makes a session.
        public init(id: String, group: String, start: Date, end: Date, roster: [String]) {
            self.id = id
            self.group = group
            self.start = start
            self.end = end
            self.roster = roster
        }
    }
}

/// The files of a generated scenario, and what its manifest says.
public struct ScenarioFiles: Sendable {
    /// The folder holding them.
    public var directory: URL
    /// `scenario.avi`: MJPEG, 640x360, 30 fps.
    public var video: URL
    /// `sessions.json`.
    public var sessions: URL
    /// `badge-keys.json`: a `BadgeKeyring` with the scenario's issuing key.
    public var badgeKeys: URL
    /// `manifest.json`.
    public var manifestFile: URL
    /// The manifest as written.
    public var manifest: ScenarioManifest

    /// JSON as the scenario's files are written: ISO 8601 dates, sorted keys, indented.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }

    /// JSON as the scenario's files are read: ISO 8601 dates.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
