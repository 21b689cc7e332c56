/// An axis-aligned box in frame pixels.
public struct TrackBox: Sendable, Equatable, Codable {
    public var left: Double
    public var top: Double
    public var right: Double
    public var bottom: Double

    /// A box.
    public init(left: Double, top: Double, right: Double, bottom: Double) {
        self.left = left
        self.top = top
        self.right = right
        self.bottom = bottom
    }

    /// Area (0 for an empty box).
    public var area: Double { max(0, right - left) * max(0, bottom - top) }

    /// Intersection over union, 0...1.
    public func iou(_ other: TrackBox) -> Double {
        let overlap = TrackBox(
            left: max(left, other.left), top: max(top, other.top), right: min(right, other.right),
            bottom: min(bottom, other.bottom)
        ).area
        let union = area + other.area - overlap
        return union > 0 ? overlap / union : 0
    }
}

/// Follows faces from frame to frame by the overlap of their boxes, and decides from the last few
/// encodings of each face who it is.
///
/// A track is encoded while it is new or not yet identified (each frame whose face passes the quality
/// gates); once k of its last n encodings agree on a person, and none of them names someone else, it is
/// identified and only re-checked every `reverifyEvery` frames, in case two people crossed and the track jumped between them. A face that
/// stays unknown for `unknownAfter` encodings in a row is reported once, then retried less often.
/// Pure: frames are numbers, nothing is read from a clock.
public struct FaceTracker: Sendable {
    /// Tracking and consensus settings.
    public struct Configuration: Sendable, Equatable, Codable {
        /// Least overlap for a box to continue a track.
        public var minimumIoU = 0.3
        /// Frames a track survives without a detection (a blink, a missed detection).
        public var maximumMissedFrames = 15
        /// Agreeing encodings needed ...
        public var consensusK = 2
        /// ... among the last this many, none of which may name another person.
        public var consensusN = 3
        /// Consecutive unknown encodings before the face is reported unknown.
        public var unknownAfter = 3
        /// Frames between re-checks of an identified track.
        public var reverifyEvery = 30
        /// Frames between encodings of a face already reported unknown.
        public var unknownRetryEvery = 10

        /// The defaults: 2 of 3, unknown after 3, re-check once a second at 30 fps.
        public init() {}
    }

    /// One face followed across frames.
    public struct Track: Sendable, Equatable {
        /// Unique for the tracker's lifetime, counting from 1.
        public var id: Int
        public var box: TrackBox
        public var firstFrame: Int
        public var lastSeenFrame: Int
        /// Last encodings' outcomes, newest last: a person id, `unknownVote`, or nil (ambiguous).
        public var votes: [String?] = []
        /// The person this track is, once the consensus holds.
        public var identity: String?
        /// Whether the track has been reported as an unknown face.
        public var reportedUnknown = false
        public var lastEncodedFrame: Int?
        public var encodings = 0
    }

    /// What one encoding changed about a track.
    public enum Outcome: Sendable, Equatable {
        /// The consensus now names this person (the first time, or a different person than before).
        case identified(person: String)
        /// The face was unknown `unknownAfter` times in a row (reported once per track).
        case unknown
    }

    /// The vote of an encoding that matched nobody.
    public static let unknownVote = "\u{0}unknown"

    public let configuration: Configuration
    public private(set) var tracks: [Track] = []
    private var nextID = 1

    /// An empty tracker.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Matches this frame's boxes to tracks (greedily, largest overlap first), starts tracks for the
    /// others and forgets tracks not seen for too long. Returns the track id of each box, in order.
    public mutating func update(frame: Int, boxes: [TrackBox]) -> [Int] {
        // Frames without an update count as missed too: a stale track must not pass its identity on to
        // a new face in the same place.
        tracks.removeAll { frame - 1 - $0.lastSeenFrame > configuration.maximumMissedFrames }
        var pairs: [(iou: Double, box: Int, track: Int)] = []
        for (boxIndex, box) in boxes.enumerated() {
            for (trackIndex, track) in tracks.enumerated() {
                let overlap = box.iou(track.box)
                if overlap >= configuration.minimumIoU { pairs.append((overlap, boxIndex, trackIndex)) }
            }
        }
        pairs.sort { $0.iou > $1.iou }
        var assigned = [Int?](repeating: nil, count: boxes.count)
        var taken = Set<Int>()
        for pair in pairs where assigned[pair.box] == nil && !taken.contains(pair.track) {
            assigned[pair.box] = pair.track
            taken.insert(pair.track)
        }
        var ids: [Int] = []
        for (boxIndex, box) in boxes.enumerated() {
            if let trackIndex = assigned[boxIndex] {
                tracks[trackIndex].box = box
                tracks[trackIndex].lastSeenFrame = frame
                ids.append(tracks[trackIndex].id)
            } else {
                tracks.append(Track(id: nextID, box: box, firstFrame: frame, lastSeenFrame: frame))
                ids.append(nextID)
                nextID += 1
            }
        }
        tracks.removeAll { frame - $0.lastSeenFrame > configuration.maximumMissedFrames }
        return ids
    }

    /// The track with this id, if it is still followed.
    public func track(_ id: Int) -> Track? { tracks.first { $0.id == id } }

    /// Whether the face of this track should be encoded on this frame.
    public func wantsEncoding(track id: Int, frame: Int) -> Bool {
        guard let track = track(id) else { return false }
        guard let last = track.lastEncodedFrame else { return true }
        if track.identity != nil { return frame - last >= configuration.reverifyEvery }
        if track.reportedUnknown { return frame - last >= configuration.unknownRetryEvery }
        return true
    }

    /// Records what an encoding of the track's face matched and says what changed.
    public mutating func record(_ identification: Identification, track id: Int, frame: Int) -> Outcome? {
        guard let index = tracks.firstIndex(where: { $0.id == id }) else { return nil }
        var track = tracks[index]
        defer { tracks[index] = track }
        track.lastEncodedFrame = frame
        track.encodings += 1
        let vote: String?
        switch identification {
        case .accepted(let match): vote = match.person
        case .ambiguous: vote = nil
        case .unknown: vote = Self.unknownVote
        }
        track.votes.append(vote)
        let window = max(configuration.consensusN, configuration.unknownAfter)
        if track.votes.count > window { track.votes.removeFirst(track.votes.count - window) }

        let recent = track.votes.suffix(configuration.consensusN)
        // Votes agree only when no other vote among them names someone else: encodings alternating
        // between two people (two faces crossing, lookalikes) must not check both of them in.
        let named = Set(recent.compactMap { $0 }.filter { $0 != Self.unknownVote })
        if named.count == 1, let person = named.first,
            recent.filter({ $0 == person }).count >= configuration.consensusK, person != track.identity
        {
            track.identity = person
            return .identified(person: person)
        }
        let trailingUnknown = track.votes.reversed().prefix { $0 == Self.unknownVote }.count
        if track.identity == nil, !track.reportedUnknown, trailingUnknown >= configuration.unknownAfter {
            track.reportedUnknown = true
            return .unknown
        }
        return nil
    }
}
