import Foundation
import Recognition

/// The summary of `rollcall bench accuracy`, as JSON and as text.
struct AccuracyReport: Encodable {
    struct Dataset: Encodable {
        var directory: String
        var people: Int
        var photos: Int
        /// Photos where no face was found (or that could not be read).
        var failuresToAcquire: Int

        enum CodingKeys: String, CodingKey {
            case directory, people, photos
            case failuresToAcquire = "failures_to_acquire"
        }
    }

    struct Method: Encodable {
        var enrolledPhotos: Int
        var enrollShare: Double
        var rounds: Int
        var seed: UInt64
        var upsample: Int
        var tracksPerPerson: Int
        var trackFrames: Int

        enum CodingKeys: String, CodingKey {
            case enrolledPhotos = "enrolled_photos"
            case enrollShare = "enroll_share"
            case rounds, seed, upsample
            case tracksPerPerson = "tracks_per_person"
            case trackFrames = "track_frames"
        }
    }

    struct Calibration: Encodable {
        var templates: Int
        var acceptDistance: Float
        var cohort: Cohort
        var cohortMeasured: Bool

        enum CodingKeys: String, CodingKey {
            case templates
            case acceptDistance = "accept_distance"
            case cohort
            case cohortMeasured = "cohort_measured"
        }
    }

    struct OperatingFigures: Encodable {
        var falseMatchTarget: Double
        var minimumMargin: Float
        var fixedDistance: Float?
        /// Each round's calibration.
        var calibrations: [Calibration]
        var fpir: Double
        var fnir: Double
        var misidentificationRate: Double
        var strangersAccepted: Int
        var recognised: Int
        var misidentified: Int

        enum CodingKeys: String, CodingKey {
            case falseMatchTarget = "false_match_target"
            case minimumMargin = "min_margin"
            case fixedDistance = "fixed_distance"
            case calibrations, fpir, fnir
            case misidentificationRate = "misidentification_rate"
            case strangersAccepted = "strangers_accepted"
            case recognised, misidentified
        }
    }

    struct FNIRAtFPIR: Encodable {
        var fpir: Double
        var fnir: Double?
        var distance: Float?
        /// Whether there were at least 1/fpir stranger searches, so that this FPIR differs from zero.
        var resolved: Bool
    }

    struct Tracks: Encodable {
        var counts: OpenSetBenchmark.TrackCounts
        var fpir: Double?
        var fnir: Double?

        func encode(to encoder: any Encoder) throws {
            try counts.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(fpir, forKey: .fpir)
            try container.encode(fnir, forKey: .fnir)
        }

        enum Keys: String, CodingKey { case fpir, fnir }
    }

    var dataset: Dataset
    var `protocol`: Method
    var matedSearches: Int
    var nonMatedSearches: Int
    var operatingPoint: OperatingFigures
    var fnirAtFPIR: [FNIRAtFPIR]
    var genuine: DistanceDistribution
    var impostor: DistanceDistribution
    var tracks: Tracks
    var det: [OpenSetEvaluation.Point]

    enum CodingKeys: String, CodingKey {
        case dataset, `protocol`
        case matedSearches = "mated_searches"
        case nonMatedSearches = "non_mated_searches"
        case operatingPoint = "operating_point"
        case fnirAtFPIR = "fnir_at_fpir"
        case genuine, impostor, tracks, det
    }
}

extension OpenSetBenchmark {
    /// Runs the rounds and summarises them.
    func report(directory: String, images: Int, failures: Int, upsample: Int) -> AccuracyReport {
        let outcome = run()
        let evaluation = outcome.evaluation
        let curve = evaluation.curve
        let operating = evaluation.operating
        let mated = evaluation.mated
        let nonMated = evaluation.nonMated
        func atFPIR(_ rate: Double) -> AccuracyReport.FNIRAtFPIR {
            let best = OpenSetEvaluation.fnir(atFPIR: rate, on: curve)
            return AccuracyReport.FNIRAtFPIR(
                fpir: rate, fnir: best?.fnir, distance: best?.distance, resolved: evaluation.resolves(fpir: rate))
        }
        let counts = outcome.tracks
        return AccuracyReport(
            dataset: .init(directory: directory, people: people.count, photos: images, failuresToAcquire: failures),
            protocol: .init(
                enrolledPhotos: photos, enrollShare: enrollShare, rounds: rounds, seed: seed, upsample: upsample,
                tracksPerPerson: tracks, trackFrames: Self.trackFrames),
            matedSearches: mated.count, nonMatedSearches: nonMated.count,
            operatingPoint: .init(
                falseMatchTarget: point.falseMatchTarget, minimumMargin: point.minimumMargin,
                fixedDistance: point.fixedDistance,
                calibrations: outcome.calibrations.map {
                    .init(
                        templates: $0.templates, acceptDistance: $0.policy.acceptDistance, cohort: $0.cohort,
                        cohortMeasured: $0.measured)
                },
                fpir: operating.fpir, fnir: operating.fnir, misidentificationRate: operating.misidentification,
                strangersAccepted: nonMated.count { $0.accepted != nil },
                recognised: mated.count { $0.accepted == $0.mate },
                misidentified: mated.count { $0.accepted != nil && $0.accepted != $0.mate }),
            fnirAtFPIR: [atFPIR(0.01), atFPIR(0.001)],
            genuine: DistanceDistribution(evaluation.genuineDistances),
            impostor: DistanceDistribution(evaluation.impostorDistances),
            tracks: .init(
                counts: counts,
                fpir: counts.strangerTracks > 0 ? Double(counts.strangerAccepted) / Double(counts.strangerTracks) : nil,
                fnir: counts.enrolledTracks > 0
                    ? Double(counts.enrolledTracks - counts.recognised) / Double(counts.enrolledTracks) : nil),
            det: curve)
    }
}

extension AccuracyReport {
    /// The summary as text.
    var lines: [String] {
        func percent(_ value: Double?) -> String {
            guard let value else { return "n/a" }
            return String(format: "%.2f%%", value * 100)
        }
        func number(_ value: Float?) -> String { value.map { String(format: "%.3f", $0) } ?? "n/a" }
        let point = operatingPoint
        var lines = [
            "\(dataset.people) people, \(dataset.photos) photos (\(dataset.failuresToAcquire) without a face); "
                + "\(`protocol`.rounds) round\(`protocol`.rounds == 1 ? "" : "s"), "
                + "\(`protocol`.enrolledPhotos) photo\(`protocol`.enrolledPhotos == 1 ? "" : "s") enrolled a person, "
                + String(format: "%.0f%%", `protocol`.enrollShare * 100) + " of the people enrolled",
            "searches: \(matedSearches) of enrolled people (mated), \(nonMatedSearches) of strangers (non-mated)",
        ]
        for (round, calibration) in point.calibrations.enumerated().prefix(3) {
            let cohort =
                calibration.cohortMeasured
                ? "cohort of \(calibration.cohort.people) people, \(calibration.cohort.pairs) distances"
                : "the prior (too few people for a cohort)"
            lines.append(
                "operating point, round \(round + 1): accept distance \(number(calibration.acceptDistance)) for "
                    + "\(calibration.templates) templates (non-mated mean \(number(calibration.cohort.mean)), "
                    + "sd \(number(calibration.cohort.deviation)): \(cohort)); target \(point.falseMatchTarget), "
                    + "margin \(number(point.minimumMargin))")
        }
        if point.calibrations.count > 3 { lines.append("... and \(point.calibrations.count - 3) more rounds") }
        lines += [
            "at the operating point: FPIR \(percent(point.fpir)) (\(point.strangersAccepted) of \(nonMatedSearches) "
                + "strangers named), FNIR \(percent(point.fnir)) (\(point.recognised) of \(matedSearches) recognised), "
                + "misidentification \(percent(point.misidentificationRate)) (\(point.misidentified))"
        ]
        for entry in fnirAtFPIR {
            let resolution =
                entry.resolved ? "" : " (not resolved: fewer than \(Int(1 / entry.fpir)) stranger searches)"
            lines.append(
                "FNIR at FPIR \(percent(entry.fpir)): \(percent(entry.fnir)) at distance \(number(entry.distance))"
                    + resolution)
        }
        lines += [
            "genuine distances: median \(number(genuine.median)), 95th \(number(genuine.p95)), "
                + "99th \(number(genuine.p99)), max \(number(genuine.max))",
            "impostor distances (nearest enrolled person): min \(number(impostor.min)), "
                + "1st \(number(impostor.p01)), 5th \(number(impostor.p05)), median \(number(impostor.median))",
        ]
        let counts = tracks.counts
        if counts.strangerTracks + counts.enrolledTracks > 0 {
            lines.append(
                "door tracks (\(`protocol`.trackFrames) frames, 2 of 3 agreeing): \(counts.strangerAccepted) of "
                    + "\(counts.strangerTracks) stranger tracks checked in (FPIR \(percent(tracks.fpir))); "
                    + "\(counts.recognised) of \(counts.enrolledTracks) enrolled tracks recognised, "
                    + "\(counts.wrong) as someone else (FNIR \(percent(tracks.fnir)))")
        }
        return lines
    }
}
