/// The protocol of `rollcall bench accuracy`, on encodings already computed: enroll some people from
/// their first photos, search every other photo of everyone, and send generated tracks through the
/// door's tracker. Pure and deterministic for a seed.
public struct OpenSetBenchmark: Sendable {
    /// A person of the identity set and the encodings of the photos where a face was found, in order.
    public struct Person: Sendable {
        public var name: String
        public var encodings: [[Float]]

        /// A person.
        public init(name: String, encodings: [[Float]]) {
            self.name = name
            self.encodings = encodings
        }
    }

    /// Why the benchmark cannot run on these people.
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// Frames of one generated track.
    public static let trackFrames = 10

    public let people: [Person]
    public let photos: Int
    public let enrollShare: Double
    public let rounds: Int
    public let seed: UInt64
    public let tracks: Int
    public let point: OperatingPoint

    /// A benchmark; throws when fewer than two people have enough photos with a face.
    public init(
        people: [Person], photos: Int, enrollShare: Double, rounds: Int, seed: UInt64, tracks: Int,
        point: OperatingPoint
    ) throws {
        let usable = people.filter { $0.encodings.count > photos }
        guard usable.count >= 2 else {
            throw Problem(
                description:
                    "\(usable.count) of \(people.count) people have more than \(photos) photos with a face: "
                    + "each person needs \(photos) to enroll and at least one to search with")
        }
        self.people = usable
        self.photos = photos
        self.enrollShare = enrollShare
        self.rounds = rounds
        self.seed = seed
        self.tracks = tracks
        self.point = point
    }

    /// One round's split: who is enrolled, and which photos (indices) each person enrolls from.
    struct Split {
        var enrolled: Set<String>
        var enrolledPhotos: [String: [Int]]
    }

    func split(round: Int) -> Split {
        let count = min(people.count - 1, max(1, Int((Double(people.count) * enrollShare).rounded())))
        guard round > 0 else {
            // The first round: the first people in name order, their first photos.
            return Split(
                enrolled: Set(people.prefix(count).map(\.name)),
                enrolledPhotos: Dictionary(uniqueKeysWithValues: people.map { ($0.name, Array(0..<photos)) }))
        }
        var generator = SplitMix64(seed: seed &+ UInt64(round))
        let enrolled = Set(people.map(\.name).shuffled(using: &generator).prefix(count))
        var chosen: [String: [Int]] = [:]
        for person in people {
            chosen[person.name] = Array(Array(person.encodings.indices).shuffled(using: &generator).prefix(photos))
        }
        return Split(enrolled: enrolled, enrolledPhotos: chosen)
    }

    /// Track outcomes.
    public struct TrackCounts: Sendable, Codable, Equatable {
        public var strangerTracks = 0
        /// Stranger tracks the door checked in as someone.
        public var strangerAccepted = 0
        public var enrolledTracks = 0
        /// Enrolled people's tracks named as themselves.
        public var recognised = 0
        /// Enrolled people's tracks named as someone else.
        public var wrong = 0

        enum CodingKeys: String, CodingKey {
            case strangerTracks = "stranger_tracks"
            case strangerAccepted = "stranger_accepted"
            case enrolledTracks = "enrolled_tracks"
            case recognised, wrong
        }
    }

    /// What the rounds found.
    public struct Outcome: Sendable {
        public var evaluation: OpenSetEvaluation
        public var tracks: TrackCounts
        /// Each round's calibration.
        public var calibrations: [CalibratedMatch]
    }

    /// Runs every round.
    public func run() -> Outcome {
        var searches: [OpenSetEvaluation.Search] = []
        var counts = TrackCounts()
        var calibrations: [CalibratedMatch] = []
        for round in 0..<rounds {
            let split = split(round: round)
            var gallery = Gallery()
            for person in people where split.enrolled.contains(person.name) {
                gallery.add(
                    person: person.name,
                    templates: split.enrolledPhotos[person.name, default: []].map { person.encodings[$0] })
            }
            let calibration = point.calibrated(to: gallery)
            calibrations.append(calibration)
            var generator = SplitMix64(seed: seed &* 31 &+ UInt64(round))
            for person in people {
                let mate = split.enrolled.contains(person.name) ? person.name : nil
                let enrolledPhotos = Set(split.enrolledPhotos[person.name, default: []])
                let probes = person.encodings.indices.filter { !enrolledPhotos.contains($0) }.map {
                    person.encodings[$0]
                }
                var decisions: [Identification] = []
                for probe in probes {
                    let match = Matcher.match(probe, in: gallery)
                    let identification = calibration.identify(match)
                    decisions.append(identification)
                    searches.append(
                        OpenSetEvaluation.Search(
                            mate: mate, match: match,
                            mateDistance: mate.flatMap { Self.nearest(probe, of: $0, in: gallery) },
                            accepted: identification.person))
                }
                guard !decisions.isEmpty else { continue }
                for _ in 0..<tracks {
                    let named = Self.track(
                        (0..<Self.trackFrames).map { _ in decisions[Int(generator.next() % UInt64(decisions.count))] })
                    if let mate {
                        counts.enrolledTracks += 1
                        if named == mate { counts.recognised += 1 } else if named != nil { counts.wrong += 1 }
                    } else {
                        counts.strangerTracks += 1
                        if named != nil { counts.strangerAccepted += 1 }
                    }
                }
            }
        }
        return Outcome(
            evaluation: OpenSetEvaluation(searches: searches, margin: point.minimumMargin), tracks: counts,
            calibrations: calibrations)
    }

    /// The person a track of these per-frame outcomes is checked in as by the door's tracker (one face,
    /// still, one frame after another), or nil.
    static func track(_ frames: [Identification]) -> String? {
        var tracker = FaceTracker()
        let box = TrackBox(left: 100, top: 100, right: 300, bottom: 300)
        var named: String?
        for (frame, identification) in frames.enumerated() {
            guard let id = tracker.update(frame: frame, boxes: [box]).first,
                tracker.wantsEncoding(track: id, frame: frame)
            else { continue }
            if case .identified(let person) = tracker.record(identification, track: id, frame: frame), named == nil {
                named = person
            }
        }
        return named
    }

    /// The distance from a probe to a person's nearest template.
    static func nearest(_ probe: [Float], of person: String, in gallery: Gallery) -> Float? {
        guard let index = gallery.index(of: person) else { return nil }
        return Matcher.match(probe, in: gallery, candidates: [index])?.distance
    }
}
