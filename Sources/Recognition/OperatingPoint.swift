import Foundation

/// The door's accept rule, stated as a false-match target rather than a bare distance, and calibrated to
/// the gallery it searches.
///
/// A stranger searched against a gallery of M templates has M chances to fall under the accept distance
/// t. If a non-mated distance is below t with probability F(t), the chance that a stranger's search
/// names someone is
///
///     FPIR(t, M) = 1 - (1 - F(t))^M ≈ M · F(t)
///
/// so the door picks the largest t with FPIR(t, M) at most the target: t = μ + σ · Φ⁻¹(1 - (1 - target)^(1/M)),
/// where F is modelled as a normal distribution with the mean μ and spread σ of the gallery's own
/// non-mated distances (between templates of different people: the cohort). A gallery of similar faces
/// (one age group, one family of looks) has non-mated distances nearer together and gets a stricter
/// threshold, which a fixed distance cannot do. A gallery of fewer than `minimumCohortPeople` people
/// cannot describe its own spread, and uses `prior` instead.
///
/// Roster-first matching makes the effective gallery small: a face whose nearest person is on the
/// session's roster is held to the threshold for the roster's templates, while a face nearest to someone
/// else (who would not be checked in here anyway) is held to the threshold for the whole gallery.
/// The margin to the runner-up person stays: it keeps two enrolled lookalikes apart.
///
/// README, "Strangers and the operating point", gives the figures this was measured on.
public struct OperatingPoint: Sendable, Codable, Equatable {
    /// The chance, per search of a stranger's face, that the search names an enrolled person.
    public var falseMatchTarget: Double
    /// The least margin accepted: the runner-up person's distance minus the best distance.
    public var minimumMargin: Float
    /// A fixed accept distance instead of the calibration (for experiments; nil: calibrated).
    public var fixedDistance: Float?

    /// Targets the configuration may set.
    public static let targets: ClosedRange<Double> = 1e-6...0.1

    /// The door's defaults: 0.3% of strangers' face searches name someone, a margin of 0.05. The track's
    /// consensus (two agreeing encodings of three) makes a wrong check-in much rarer than that.
    public static let door = OperatingPoint(falseMatchTarget: 0.003, minimumMargin: 0.05)

    /// The accept distance is never above this: the descriptor was trained so that 0.6 separates people.
    public static let ceiling: Float = 0.6
    /// ... nor below this, where even photos of one person taken a minute apart stop matching.
    public static let floor: Float = 0.3
    /// Non-mated distances assumed for a gallery too small to measure its own: stricter than every
    /// cohort measured so far (README), so a small gallery is held to a tighter threshold, not a looser one.
    public static let prior = Cohort(mean: 0.70, deviation: 0.08, pairs: 0, people: 0)
    /// People a gallery needs for its own cohort.
    public static let minimumCohortPeople = 8

    /// An operating point.
    public init(falseMatchTarget: Double, minimumMargin: Float, fixedDistance: Float? = nil) {
        self.falseMatchTarget = falseMatchTarget
        self.minimumMargin = minimumMargin
        self.fixedDistance = fixedDistance
    }

    /// The accept distance for a search of `templates` templates, given the non-mated distances.
    public func acceptDistance(templates: Int, cohort: Cohort) -> Float {
        if let fixedDistance { return fixedDistance }
        let searched = Double(max(1, templates))
        // Per comparison: 1 - (1 - target)^(1/M), computed without cancellation.
        let perComparison = -expm1(log1p(-falseMatchTarget) / searched)
        let distance = Double(cohort.mean) + Double(cohort.deviation) * NormalDistribution.quantile(perComparison)
        return min(Self.ceiling, max(Self.floor, Float(distance)))
    }

    /// This operating point calibrated to a gallery.
    public func calibrated(to gallery: Gallery) -> CalibratedMatch {
        CalibratedMatch(point: self, gallery: gallery)
    }
}

/// The distribution of distances between templates of different people.
public struct Cohort: Sendable, Codable, Equatable {
    public var mean: Float
    /// Standard deviation.
    public var deviation: Float
    /// Distances measured (0 for the prior).
    public var pairs: Int
    /// People they were measured between.
    public var people: Int

    /// A cohort.
    public init(mean: Float, deviation: Float, pairs: Int, people: Int) {
        self.mean = mean
        self.deviation = deviation
        self.pairs = pairs
        self.people = people
    }

    /// At most this many distances are measured (a sample, spread evenly over the pairs, for a large gallery).
    public static let maximumPairs = 200_000

    /// The non-mated distances of a gallery; nil when it has fewer than `minimumPeople` people.
    public static func measure(_ gallery: Gallery, minimumPeople: Int = OperatingPoint.minimumCohortPeople)
        -> Cohort?
    {
        guard gallery.personIDs.count >= max(2, minimumPeople) else { return nil }
        let count = gallery.count
        var sum = 0.0
        var squares = 0.0
        var measured = 0
        gallery.matrix.withUnsafeBufferPointer { matrix in
            func offer(_ first: Int, _ second: Int) {
                guard gallery.owners[first] != gallery.owners[second] else { return }
                let distance = Double(Gallery.squaredDistance(matrix, first, second).squareRoot())
                sum += distance
                squares += distance * distance
                measured += 1
            }
            if count * (count - 1) / 2 <= maximumPairs {
                for first in 0..<count {
                    for second in (first + 1)..<count { offer(first, second) }
                }
            } else {
                // A large gallery: a fixed pseudo-random sample of pairs, the same on every door.
                var generator = SplitMix64(seed: 0x726f_6c6c_6361_6c6c)
                for _ in 0..<maximumPairs {
                    let first = Int(generator.next() % UInt64(count))
                    let second = Int(generator.next() % UInt64(count))
                    if first != second { offer(first, second) }
                }
            }
        }
        guard measured >= 2 else { return nil }
        let mean = sum / Double(measured)
        let variance = max(0, squares / Double(measured) - mean * mean)
        return Cohort(
            mean: Float(mean), deviation: Float(variance.squareRoot()), pairs: measured,
            people: gallery.personIDs.count)
    }
}

/// An operating point with the numbers of one gallery: what a match means under it.
public struct CalibratedMatch: Sendable {
    public let point: OperatingPoint
    /// The gallery's non-mated distances, or the prior for a small gallery.
    public let cohort: Cohort
    /// Whether `cohort` was measured on the gallery (false: the prior).
    public let measured: Bool
    /// Templates in the gallery.
    public let templates: Int
    /// The rule for a search of everyone (computed once: the quantile is not for every face).
    public let policy: MatchPolicy
    private let templatesOfPerson: [String: Int]

    /// Calibrates a point to a gallery.
    public init(point: OperatingPoint, gallery: Gallery) {
        self.point = point
        let own = Cohort.measure(gallery)
        cohort = own ?? OperatingPoint.prior
        measured = own != nil
        templates = gallery.count
        var counts: [String: Int] = [:]
        for owner in gallery.owners { counts[gallery.personIDs[Int(owner)], default: 0] += 1 }
        templatesOfPerson = counts
        policy = MatchPolicy(
            acceptDistance: point.acceptDistance(templates: gallery.count, cohort: cohort),
            minimumMargin: point.minimumMargin)
    }

    /// The rule for a search of this many templates.
    public func policy(templates: Int) -> MatchPolicy {
        MatchPolicy(
            acceptDistance: point.acceptDistance(templates: templates, cohort: cohort),
            minimumMargin: point.minimumMargin)
    }

    /// Templates of these people in the gallery.
    public func templates(of people: [String]) -> Int {
        Set(people).reduce(0) { $0 + (templatesOfPerson[$1] ?? 0) }
    }

    /// What a match means: a match on the roster (`MatchResult.onRoster`) is held to `roster` (the rule
    /// for the roster's templates, from `policy(templates:)`), any other to the rule for the whole gallery.
    public func identify(_ match: MatchResult?, roster: MatchPolicy? = nil) -> Identification {
        guard let match else { return .unknown(nearest: nil) }
        return (match.onRoster ? (roster ?? policy) : policy).identify(match)
    }
}

/// The standard normal distribution's quantile function.
public enum NormalDistribution {
    /// Φ(z), from the complementary error function.
    public static func cdf(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    /// The z with Φ(z) = p (0 < p < 1), by bisection on `cdf`: exact to 1e-12, and only ever called when a
    /// gallery changes.
    public static func quantile(_ p: Double) -> Double {
        guard p > 0 else { return -.infinity }
        guard p < 1 else { return .infinity }
        var low = -40.0
        var high = 40.0
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if cdf(middle) < p { low = middle } else { high = middle }
            if high - low < 1e-12 { break }
        }
        return (low + high) / 2
    }
}

/// A small deterministic generator (SplitMix64), for samples that must be the same on every run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator from a seed.
    public init(seed: UInt64) { state = seed }

    /// The next value.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// Pairs of enrolled people whose templates are dangerously near: lookalikes, twins, or one person
/// enrolled twice. Staff add photos to tell them apart or switch them to badges.
public enum GalleryAudit {
    /// Two people and the distance between their nearest templates.
    public struct Pair: Sendable, Equatable, Codable {
        public var first: String
        public var second: String
        public var distance: Float
    }

    /// Every pair of people with two templates at most `within` apart, nearest first. Compares every
    /// template with every other (a few seconds for 5,000 templates on one core).
    public static func pairs(in gallery: Gallery, within: Float) -> [Pair] {
        var nearest: [Int64: Float] = [:]
        let count = gallery.count
        let limit = within * within
        gallery.matrix.withUnsafeBufferPointer { matrix in
            for first in 0..<count {
                let owner = gallery.owners[first]
                for second in (first + 1)..<count where gallery.owners[second] != owner {
                    let squared = Gallery.squaredDistance(matrix, first, second)
                    guard squared <= limit else { continue }
                    let other = gallery.owners[second]
                    let key = Int64(min(owner, other)) << 32 | Int64(max(owner, other))
                    nearest[key] = min(nearest[key] ?? .infinity, squared.squareRoot())
                }
            }
        }
        return nearest.map { key, distance in
            Pair(
                first: gallery.personIDs[Int(key >> 32)], second: gallery.personIDs[Int(key & 0xFFFF_FFFF)],
                distance: distance)
        }
        .sorted { ($0.distance, $0.first, $0.second) < ($1.distance, $1.first, $1.second) }
    }
}

extension Gallery {
    /// The squared distance between two templates (rows) of a gallery's matrix.
    static func squaredDistance(_ matrix: UnsafeBufferPointer<Float>, _ first: Int, _ second: Int) -> Float {
        var squared: Float = 0
        for value in 0..<dimensions {
            let difference = matrix[first * dimensions + value] - matrix[second * dimensions + value]
            squared += difference * difference
        }
        return squared
    }
}
