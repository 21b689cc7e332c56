/// The nearest person to a face, and how far the nearest other person is.
public struct MatchResult: Sendable, Equatable {
    /// The nearest person's id.
    public var person: String
    /// Euclidean distance to that person's nearest template.
    public var distance: Float
    /// The second-nearest *other* person, if the gallery has one.
    public var runnerUp: String?
    /// Distance to the runner-up's nearest template minus `distance` (infinity without one):
    /// a small margin means the face could be either person.
    public var margin: Float
    /// Whether the nearest person is on the roster searched first (`match(_:in:rosterFirst:)`).
    public var onRoster: Bool = false

    /// A result with the given values.
    public init(person: String, distance: Float, runnerUp: String?, margin: Float, onRoster: Bool = false) {
        self.person = person
        self.distance = distance
        self.runnerUp = runnerUp
        self.margin = margin
        self.onRoster = onRoster
    }
}

/// Finds the two nearest distinct people to a face by brute force over the gallery's matrix, with
/// SIMD arithmetic. Pure and synchronous.
///
/// Distances are computed a block of rows at a time by a small kernel (one template = eight 16-lane
/// vectors, one accumulator, one horizontal sum), then the block is scanned for the nearest two people.
/// Keeping the arithmetic loop free of bookkeeping is what lets the compiler keep it in registers; built
/// with AVX it streams a 100,000-template gallery (51 MB) in about 1.6 ms on one core.
public enum Matcher {
    /// Rows per block: the block's distances stay in L1.
    static let blockRows = 256

    /// The nearest person and the runner-up among `candidates` (person indices), or among everyone
    /// when `candidates` is nil. Nil when no template qualifies.
    public static func match(_ probe: [Float], in gallery: Gallery, candidates: Set<Int32>? = nil) -> MatchResult? {
        precondition(probe.count == Gallery.dimensions, "a probe has 128 values")
        var nearest = NearestTwo()
        if let candidates {
            var allowed = [Bool](repeating: false, count: gallery.personIDs.count)
            for person in candidates where Int(person) < allowed.count { allowed[Int(person)] = true }
            scan(probe, gallery, where: { allowed[Int($0)] }, into: &nearest)
        } else {
            scan(probe, gallery, where: nil, into: &nearest)
        }
        return nearest.result(in: gallery)
    }

    /// The nearest person and the runner-up in the whole gallery, searching the people of `roster`
    /// (the session running now) first and then the rest. The answer equals a search of everyone: the
    /// margin must be taken against every other person, or a lookalike from another class could be
    /// checked in here. `onRoster` in the result tells the caller whether the nearest person is one of
    /// them.
    public static func match(_ probe: [Float], in gallery: Gallery, rosterFirst roster: [String]) -> MatchResult? {
        precondition(probe.count == Gallery.dimensions, "a probe has 128 values")
        var onRoster = [Bool](repeating: false, count: gallery.personIDs.count)
        for person in roster { if let index = gallery.index(of: person) { onRoster[Int(index)] = true } }
        var nearest = NearestTwo()
        scan(probe, gallery, where: { onRoster[Int($0)] }, into: &nearest)
        scan(probe, gallery, where: { !onRoster[Int($0)] }, into: &nearest)
        var result = nearest.result(in: gallery)
        if let person = result?.person, let index = gallery.index(of: person) {
            result?.onRoster = onRoster[Int(index)]
        }
        return result
    }

    /// Offers every row whose owner passes `include` (all rows when nil) to `nearest`.
    private static func scan(
        _ probe: [Float], _ gallery: Gallery, where include: ((Int32) -> Bool)?, into nearest: inout NearestTwo
    ) {
        let rows = gallery.count
        guard rows > 0 else { return }
        var distances = [Float](repeating: 0, count: blockRows)
        gallery.matrix.withUnsafeBytes { matrix in
            gallery.owners.withUnsafeBufferPointer { owners in
                probe.withUnsafeBytes { query in
                    distances.withUnsafeMutableBufferPointer { block in
                        var first = 0
                        while first < rows {
                            let count = min(blockRows, rows - first)
                            squaredDistances(
                                query.baseAddress!, matrix.baseAddress! + first * Gallery.dimensions * 4, count,
                                block.baseAddress!)
                            for offset in 0..<count {
                                let owner = owners[first + offset]
                                if let include, !include(owner) { continue }
                                nearest.offer(owner, block[offset])
                            }
                            first += count
                        }
                    }
                }
            }
        }
    }

    /// Squared Euclidean distances from the probe to `count` consecutive templates.
    @inline(__always)
    private static func squaredDistances(
        _ query: UnsafeRawPointer, _ rows: UnsafeRawPointer, _ count: Int, _ out: UnsafeMutablePointer<Float>
    ) {
        for row in 0..<count {
            let template = rows + row * Gallery.dimensions * 4
            var sum = SIMD16<Float>()
            for chunk in 0..<8 {
                let delta =
                    template.loadUnaligned(fromByteOffset: chunk * 64, as: SIMD16<Float>.self)
                    - query.loadUnaligned(fromByteOffset: chunk * 64, as: SIMD16<Float>.self)
                sum += delta * delta
            }
            out[row] = sum.sum()
        }
    }
}

/// The nearest two *people* seen so far (squared distances): a person's second template never
/// pushes another person out of second place.
struct NearestTwo {
    var best: (person: Int32, squared: Float) = (-1, .infinity)
    var second: (person: Int32, squared: Float) = (-1, .infinity)

    @inline(__always)
    mutating func offer(_ owner: Int32, _ squared: Float) {
        if owner == best.person {
            best.squared = min(best.squared, squared)
        } else if squared < best.squared {
            if best.person >= 0 { second = best }
            best = (owner, squared)
        } else if owner == second.person {
            second.squared = min(second.squared, squared)
        } else if squared < second.squared {
            second = (owner, squared)
        }
    }

    func result(in gallery: Gallery) -> MatchResult? {
        guard best.person >= 0 else { return nil }
        let distance = best.squared.squareRoot()
        let runnerUp = second.person >= 0 ? gallery.personIDs[Int(second.person)] : nil
        return MatchResult(
            person: gallery.personIDs[Int(best.person)], distance: distance, runnerUp: runnerUp,
            margin: runnerUp == nil ? .infinity : second.squared.squareRoot() - distance)
    }
}
