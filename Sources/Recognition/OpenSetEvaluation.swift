/// The open-set 1:N figures of ISO/IEC 19795-1 and NIST FRVT for a set of searches: each search is a
/// probe face searched against a gallery, either of an enrolled person (mated) or of a stranger
/// (non-mated).
///
/// - FPIR (false positive identification rate): the share of non-mated searches that name someone.
/// - FNIR (false negative identification rate): the share of mated searches that do not name their
///   own person (named no one, or someone else).
/// - Misidentification rate: the share of mated searches that name someone else.
///
/// The DET curve sweeps the accept distance with the operating point's margin kept; the operating point
/// itself is each search's own calibrated decision.
public struct OpenSetEvaluation: Sendable {
    /// One search: who the probe is (nil for a stranger) and what the search found.
    public struct Search: Sendable {
        public var mate: String?
        public var match: MatchResult?
        /// The distance to the mate's nearest template (mated searches).
        public var mateDistance: Float?
        /// The operating point's decision.
        public var accepted: String?

        /// A search.
        public init(mate: String?, match: MatchResult?, mateDistance: Float?, accepted: String?) {
            self.mate = mate
            self.match = match
            self.mateDistance = mateDistance
            self.accepted = accepted
        }
    }

    /// One point of the DET curve.
    public struct Point: Sendable, Codable, Equatable {
        public var distance: Float
        public var fpir: Double
        public var fnir: Double

        /// A point.
        public init(distance: Float, fpir: Double, fnir: Double) {
            self.distance = distance
            self.fpir = fpir
            self.fnir = fnir
        }
    }

    public let searches: [Search]
    public let margin: Float

    /// The figures of these searches, the curve swept with this margin.
    public init(searches: [Search], margin: Float) {
        self.searches = searches
        self.margin = margin
    }

    public var mated: [Search] { searches.filter { $0.mate != nil } }
    public var nonMated: [Search] { searches.filter { $0.mate == nil } }

    /// Whether a search names someone at distance `threshold`, and whom.
    func named(_ search: Search, at threshold: Float) -> String? {
        guard let match = search.match, match.distance <= threshold, match.margin >= margin else { return nil }
        return match.person
    }

    /// The DET curve: one point at each distance where a search changes its answer, from strict to lenient.
    public var curve: [Point] {
        let mated = mated
        let nonMated = nonMated
        guard !mated.isEmpty, !nonMated.isEmpty else { return [] }
        let thresholds = Set(searches.compactMap { $0.match?.distance }.filter(\.isFinite)).sorted()
        var points = [Point(distance: 0, fpir: 0, fnir: 1)]
        for threshold in thresholds {
            let falsePositives = nonMated.count { named($0, at: threshold) != nil }
            let misses = mated.count { named($0, at: threshold) != $0.mate }
            points.append(
                Point(
                    distance: threshold, fpir: Double(falsePositives) / Double(nonMated.count),
                    fnir: Double(misses) / Double(mated.count)))
        }
        return points
    }

    /// The least FNIR on `curve` with FPIR at most `fpir`, and the distance that gives it; nil for an
    /// empty curve.
    public static func fnir(atFPIR fpir: Double, on curve: [Point]) -> Point? {
        curve.filter { $0.fpir <= fpir }.min { ($0.fnir, -$0.distance) < ($1.fnir, -$1.distance) }
    }

    /// Whether a FPIR this small can be told from zero: it needs at least 1/fpir non-mated searches.
    public func resolves(fpir: Double) -> Bool { Double(nonMated.count) * fpir >= 1 }

    /// At the operating point (each search's own decision).
    public var operating: (fpir: Double, fnir: Double, misidentification: Double) {
        let mated = mated
        let nonMated = nonMated
        let falsePositives = nonMated.count { $0.accepted != nil }
        let misses = mated.count { $0.accepted != $0.mate }
        let wrong = mated.count { $0.accepted != nil && $0.accepted != $0.mate }
        return (
            nonMated.isEmpty ? 0 : Double(falsePositives) / Double(nonMated.count),
            mated.isEmpty ? 0 : Double(misses) / Double(mated.count),
            mated.isEmpty ? 0 : Double(wrong) / Double(mated.count)
        )
    }

    /// Genuine distances: each mated probe to its own person's nearest template.
    public var genuineDistances: [Float] { mated.compactMap(\.mateDistance).filter(\.isFinite).sorted() }
    /// Impostor distances: each stranger to the nearest enrolled person.
    public var impostorDistances: [Float] { nonMated.compactMap { $0.match?.distance }.filter(\.isFinite).sorted() }
}

/// A summary of a set of distances: count, quantiles and a histogram.
public struct DistanceDistribution: Sendable, Codable, Equatable {
    public var count: Int
    public var min: Float?
    public var p01: Float?
    public var p05: Float?
    public var median: Float?
    public var p95: Float?
    public var p99: Float?
    public var max: Float?
    /// Bin width of `histogram`.
    public var bin: Float
    /// Counts per bin from 0: bin i holds distances in [i·bin, (i+1)·bin).
    public var histogram: [Int]

    /// The summary of these distances.
    public init(_ values: [Float], bin: Float = 0.02) {
        let sorted = values.sorted()
        func quantile(_ q: Double) -> Float? {
            guard !sorted.isEmpty else { return nil }
            return sorted[Swift.min(sorted.count - 1, Int((q * Double(sorted.count - 1)).rounded()))]
        }
        count = sorted.count
        min = sorted.first
        p01 = quantile(0.01)
        p05 = quantile(0.05)
        median = quantile(0.5)
        p95 = quantile(0.95)
        p99 = quantile(0.99)
        max = sorted.last
        self.bin = bin
        var histogram = [Int](repeating: 0, count: Int((1.4 / bin).rounded()))
        for value in sorted {
            histogram[Swift.min(histogram.count - 1, Swift.max(0, Int(value / bin)))] += 1
        }
        self.histogram = histogram
    }
}
