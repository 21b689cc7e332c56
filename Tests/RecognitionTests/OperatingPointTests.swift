import Foundation
import Recognition
import Testing

/// A synthetic population in the descriptor's space: each person a random centre, each photo the centre
/// plus noise. Different people land about 0.67 apart and photos of one person about 0.2, as dlib's
/// descriptor does on real faces.
struct Population {
    var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func gaussian() -> Float {
        let u = Double(generator.next() % 1_000_000 + 1) / 1_000_001
        let v = Double(generator.next() % 1_000_000) / 1_000_000
        return Float((-2 * log(u)).squareRoot() * cos(2 * .pi * v))
    }

    mutating func person() -> [Float] { (0..<128).map { _ in 0.040 * gaussian() } }

    mutating func photo(of centre: [Float]) -> [Float] { centre.map { $0 + 0.012 * gaussian() } }

    mutating func gallery(people: Int, photos: Int) -> Gallery {
        var gallery = Gallery()
        for index in 0..<people {
            let centre = person()
            gallery.add(person: "p\(index)", templates: (0..<photos).map { _ in photo(of: centre) })
        }
        return gallery
    }
}

struct OperatingPointTests {
    @Test("the normal quantile: 0 at one half, 1.96 at 97.5%, -3.09 at 0.1%")
    func quantile() {
        #expect(abs(NormalDistribution.quantile(0.5)) < 1e-9)
        #expect(abs(NormalDistribution.quantile(0.975) - 1.959964) < 1e-5)
        #expect(abs(NormalDistribution.quantile(0.001) + 3.090232) < 1e-5)
        #expect(NormalDistribution.quantile(0) == -.infinity)
    }

    @Test("the calibrated distance keeps strangers' false matches near the target, and tightens with the gallery")
    func calibrated() {
        var population = Population(seed: 7)
        let gallery = population.gallery(people: 30, photos: 2)
        let point = OperatingPoint(falseMatchTarget: 0.01, minimumMargin: 0)
        let calibration = point.calibrated(to: gallery)
        #expect(calibration.measured && calibration.cohort.people == 30 && calibration.cohort.pairs == 1740)
        #expect(abs(calibration.cohort.mean - 0.67) < 0.05, "\(calibration.cohort)")
        var named = 0
        let strangers = 4000
        for _ in 0..<strangers {
            if calibration.identify(Matcher.match(population.photo(of: population.person()), in: gallery)).person != nil
            {
                named += 1
            }
        }
        let fpir = Double(named) / Double(strangers)
        #expect(fpir > 0.0025 && fpir < 0.02, "FPIR \(fpir) for a target of 0.01")
        // Enrolled people are still recognised.
        var recognised = 0
        for index in 0..<30 {
            let row = index * 2 * Gallery.dimensions
            let template = Array(gallery.matrix[row..<(row + Gallery.dimensions)])
            let probe = template.map { $0 + 0.01 * population.gaussian() }
            if calibration.identify(Matcher.match(probe, in: gallery)).person == "p\(index)" { recognised += 1 }
        }
        #expect(recognised == 30)
        // More templates searched: a stricter distance; a stricter target: stricter still.
        #expect(calibration.policy(templates: 600).acceptDistance < calibration.policy(templates: 60).acceptDistance)
        let strict = OperatingPoint(falseMatchTarget: 0.0001, minimumMargin: 0).calibrated(to: gallery)
        #expect(strict.policy.acceptDistance < calibration.policy.acceptDistance)
    }

    @Test("a match on the roster is held to the roster's threshold, any other to the whole gallery's")
    func roster() {
        var population = Population(seed: 11)
        let gallery = population.gallery(people: 200, photos: 2)
        let calibration = OperatingPoint.door.calibrated(to: gallery)
        #expect(calibration.templates(of: ["p1", "p2", "p2", "nobody"]) == 4)
        let rosterDistance = calibration.policy(templates: 4).acceptDistance
        let galleryDistance = calibration.policy.acceptDistance
        #expect(rosterDistance > galleryDistance)
        let between = (rosterDistance + galleryDistance) / 2
        let onRoster = MatchResult(person: "p1", distance: between, runnerUp: "p2", margin: 0.3, onRoster: true)
        let rule = calibration.policy(templates: 4)
        #expect(calibration.identify(onRoster, roster: rule) == .accepted(onRoster))
        #expect(calibration.identify(onRoster) == .unknown(nearest: onRoster), "without a roster: the whole gallery")
        var offRoster = onRoster
        offRoster.onRoster = false
        #expect(calibration.identify(offRoster, roster: rule) == .unknown(nearest: offRoster))
    }

    @Test("a small gallery uses the prior; a fixed distance overrides; the distance stays within 0.3 and 0.6")
    func limits() {
        var population = Population(seed: 3)
        let small = population.gallery(people: 3, photos: 2)
        let calibration = OperatingPoint.door.calibrated(to: small)
        #expect(!calibration.measured && calibration.cohort == OperatingPoint.prior)
        let fixed = OperatingPoint(falseMatchTarget: 0.003, minimumMargin: 0.1, fixedDistance: 0.42)
        #expect(fixed.calibrated(to: small).policy == MatchPolicy(acceptDistance: 0.42, minimumMargin: 0.1))
        let tight = Cohort(mean: 0.2, deviation: 0.1, pairs: 10, people: 10)
        #expect(OperatingPoint.door.acceptDistance(templates: 100, cohort: tight) == OperatingPoint.floor)
        let loose = Cohort(mean: 2, deviation: 0.01, pairs: 10, people: 10)
        #expect(OperatingPoint.door.acceptDistance(templates: 1, cohort: loose) == OperatingPoint.ceiling)
        #expect(Cohort.measure(Gallery()) == nil)
    }

    @Test("the audit lists the pairs of people within the zone, nearest first, each pair once")
    func audit() {
        var population = Population(seed: 5)
        var gallery = population.gallery(people: 10, photos: 2)
        let twin = Array(gallery.matrix[0..<Gallery.dimensions]).map { $0 + 0.002 }
        gallery.add(person: "twin-of-p0", templates: [twin])
        let lookalike = Array(gallery.matrix[(2 * Gallery.dimensions)..<(3 * Gallery.dimensions)]).map { $0 + 0.02 }
        gallery.add(person: "lookalike-of-p1", templates: [lookalike])
        let pairs = GalleryAudit.pairs(in: gallery, within: 0.4)
        #expect(pairs.map { [$0.first, $0.second] } == [["p0", "twin-of-p0"], ["p1", "lookalike-of-p1"]])
        #expect(pairs[0].distance < pairs[1].distance)
        #expect(GalleryAudit.pairs(in: gallery, within: 0.05).count == 1)
    }
}

struct OpenSetEvaluationTests {
    func search(_ mate: String?, _ person: String, _ distance: Float, margin: Float = 0.3, accepted: String? = nil)
        -> OpenSetEvaluation.Search
    {
        OpenSetEvaluation.Search(
            mate: mate, match: MatchResult(person: person, distance: distance, runnerUp: "x", margin: margin),
            mateDistance: mate == person ? distance : nil, accepted: accepted)
    }

    @Test("FPIR, FNIR and misidentification, at the operating point and along the DET curve")
    func figures() {
        let evaluation = OpenSetEvaluation(
            searches: [
                search("a", "a", 0.2, accepted: "a"), search("a", "a", 0.4, accepted: "a"),
                search("b", "a", 0.3, accepted: "a"),  // misidentified
                search("b", "b", 0.45, margin: 0.01),  // ambiguous: a miss at every distance
                search(nil, "a", 0.5), search(nil, "b", 0.35, accepted: "b"), search(nil, "a", 0.7),
                search(nil, "b", 0.9),
            ], margin: 0.05)
        let operating = evaluation.operating
        #expect(operating.fpir == 0.25 && operating.fnir == 0.5 && operating.misidentification == 0.25)
        let curve = evaluation.curve
        #expect(curve.first == OpenSetEvaluation.Point(distance: 0, fpir: 0, fnir: 1))
        #expect(curve.last?.fpir == 1 && curve.last?.fnir == 0.5)
        // At 0.3 (just before the first stranger at 0.35): a at 0.2 is named; b's probe is named as a.
        let best = OpenSetEvaluation.fnir(atFPIR: 0, on: curve)
        #expect(best?.distance == 0.3 && best?.fnir == 0.75)
        #expect(OpenSetEvaluation.fnir(atFPIR: 0.25, on: curve)?.fnir == 0.5)
        #expect(evaluation.resolves(fpir: 0.25) && !evaluation.resolves(fpir: 0.01))
        #expect(evaluation.genuineDistances == [0.2, 0.4, 0.45])
        #expect(evaluation.impostorDistances == [0.35, 0.5, 0.7, 0.9])
        let distribution = DistanceDistribution(evaluation.impostorDistances, bin: 0.1)
        #expect(distribution.count == 4 && distribution.min == 0.35 && distribution.max == 0.9)
        #expect(distribution.histogram[3] == 1 && distribution.histogram.reduce(0, +) == 4)
    }

    @Test("the benchmark's first round enrolls the first people's first photos; tracks go through the consensus")
    func benchmark() throws {
        var population = Population(seed: 9)
        let people = (0..<20).map { index in
            let centre = population.person()
            return OpenSetBenchmark.Person(
                name: "p\(index)", encodings: (0..<6).map { _ in population.photo(of: centre) })
        }
        let benchmark = try OpenSetBenchmark(
            people: people, photos: 2, enrollShare: 0.5, rounds: 2, seed: 1, tracks: 3, point: .door)
        let outcome = benchmark.run()
        #expect(outcome.calibrations.count == 2 && outcome.calibrations.allSatisfy { $0.templates == 20 })
        #expect(outcome.evaluation.mated.count == 2 * 10 * 4 && outcome.evaluation.nonMated.count == 2 * 10 * 4)
        #expect(outcome.evaluation.operating.fnir < 0.05 && outcome.evaluation.operating.fpir < 0.03)
        #expect(outcome.tracks.strangerTracks == 60 && outcome.tracks.enrolledTracks == 60)
        #expect(outcome.tracks.strangerAccepted <= 1 && outcome.tracks.recognised >= 57 && outcome.tracks.wrong == 0)
        #expect(throws: OpenSetBenchmark.Problem.self) {
            try OpenSetBenchmark(
                people: Array(people.prefix(1)), photos: 2, enrollShare: 0.5, rounds: 1, seed: 1, tracks: 0,
                point: .door)
        }
    }
}
