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
/// Keeping the arithmetic loop free of bookkeeping is what lets the compiler keep it in registers.
/// Galleries from `quantizedFrom` templates are searched through their 8-bit copy by the best kernel
/// the CPU runs (`MatchKernel`), then exactly over the few templates that could still matter.
public enum Matcher {
    /// Rows per block: the block's distances stay in L1.
    static let blockRows = 256

    /// The nearest person and the runner-up among `candidates` (person indices), or among everyone
    /// when `candidates` is nil. Nil when no template qualifies.
    /// `kernel` is the 8-bit search's instruction set (the CPU's best unless a test or benchmark forces
    /// another; one the CPU cannot run falls back to `best`).
    public static func match(
        _ probe: [Float], in gallery: Gallery, candidates: Set<Int32>? = nil, kernel: MatchKernel = .best
    ) -> MatchResult? {
        precondition(probe.count == Gallery.dimensions, "a probe has 128 values")
        var nearest = NearestTwo()
        let kernel = kernel.isSupported ? kernel : .best
        if let candidates {
            var allowed = [Bool](repeating: false, count: gallery.personIDs.count)
            for person in candidates where Int(person) < allowed.count { allowed[Int(person)] = true }
            scan(probe, gallery, where: { allowed[Int($0)] }, kernel: kernel, into: &nearest)
        } else {
            scan(probe, gallery, where: nil, kernel: kernel, into: &nearest)
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
        // The roster's own templates first (a few dozen rows, picked out by owner), then one pass over
        // everyone else: each distance is computed once.
        gallery.matrix.withUnsafeBytes { matrix in
            probe.withUnsafeBytes { query in
                var squared: Float = 0
                for (row, owner) in gallery.owners.enumerated() where onRoster[Int(owner)] {
                    squaredDistances(
                        query.baseAddress!, matrix.baseAddress! + row * Gallery.dimensions * 4, 1, &squared)
                    nearest.offer(owner, squared)
                }
            }
        }
        scan(probe, gallery, where: { !onRoster[Int($0)] }, kernel: .best, into: &nearest)
        var result = nearest.result(in: gallery)
        if let person = result?.person, let index = gallery.index(of: person) {
            result?.onRoster = onRoster[Int(index)]
        }
        return result
    }

    /// Offers every row whose owner passes `include` (all rows when nil) to `nearest`.
    private static func scan(
        _ probe: [Float], _ gallery: Gallery, where include: ((Int32) -> Bool)?, kernel: MatchKernel,
        into nearest: inout NearestTwo
    ) {
        if gallery.count >= quantizedFrom, gallery.quantizationScale > 0 {
            scanQuantized(probe, gallery, where: include, kernel: kernel, into: &nearest)
        } else {
            scanExact(probe, gallery, where: include, into: &nearest)
        }
    }

    /// Galleries from this many templates are searched through their 8-bit copy first (a quarter of
    /// the bytes, integer SIMD kernels). Measured on the development machine (AVX-512 VNNI, release
    /// build): 50,000 templates 0.90 ms exact against 0.16 ms through the copy; below a few thousand
    /// templates the Float32 matrix sits in L2 and either search takes microseconds.
    public static let quantizedFrom = 4_096

    /// The exact search: every distance in Float32.
    private static func scanExact(
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

    /// The search of a large gallery: approximate distances from the 8-bit copy (a quarter of the
    /// bytes to stream), then exact Float32 distances for every template that could still be one of
    /// the nearest two people. The answer is the exact search's.
    ///
    /// Why nothing is missed: a quantized value is off by at most half a unit (templates) or by its
    /// known rounding error (the probe), so the quantized difference vector is within
    /// `bound = sqrt(sum((0.5 + probe error)^2))` units of the true one, and by the triangle inequality
    /// every approximate distance is within `bound` of the true distance. The two people nearest by
    /// the approximate distances are both truly within `second + bound`, so a template farther than
    /// `second + 2 * bound` approximately is truly farther than the true runner-up and cannot matter.
    private static func scanQuantized(
        _ probe: [Float], _ gallery: Gallery, where include: ((Int32) -> Bool)?, kernel: MatchKernel,
        into nearest: inout NearestTwo
    ) {
        let rows = gallery.count
        let scale = gallery.quantizationScale
        var query = [Int8](repeating: 0, count: Gallery.dimensions)
        var squaredBound: Float = 0
        for (index, value) in probe.enumerated() {
            query[index] = gallery.quantize(value)
            let error = 0.5 + abs(value * scale - Float(query[index]))
            squaredBound += error * error
        }
        // In quantized units, with a little slack for Float32 rounding of the bound itself.
        let slack = 2 * squaredBound.squareRoot() * 1.001 + 1
        func limit(_ rough: NearestTwo) -> Float {
            let reach = rough.second.squared.squareRoot() + slack
            return reach.isFinite ? reach * reach : .infinity
        }
        // Approximate squared distances a block at a time. Only a template within reach of the rough
        // runner-up seen so far can change the rough search or still matter: it is kept as a
        // candidate, the others are passed over with one comparison. The reach only shrinks, so the
        // candidates hold every template within the final reach.
        var rough = NearestTwo()
        var reach = Float.infinity
        var candidates: [(row: Int, approximate: Float)] = []
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: blockRows) { block in
            gallery.quantized.withUnsafeBufferPointer { matrix in
                gallery.owners.withUnsafeBufferPointer { owners in
                    query.withUnsafeBufferPointer { query in
                        var first = 0
                        while first < rows {
                            let count = min(blockRows, rows - first)
                            kernel.distances(
                                query.baseAddress!, matrix.baseAddress! + first * Gallery.dimensions, count,
                                block.baseAddress!)
                            for offset in 0..<count where Float(block[offset]) <= reach {
                                let owner = owners[first + offset]
                                if let include, !include(owner) { continue }
                                rough.offer(owner, Float(block[offset]))
                                reach = limit(rough)
                                candidates.append((first + offset, Float(block[offset])))
                            }
                            first += count
                        }
                    }
                }
            }
        }
        // Exact Float32 distances for the candidates still within the final reach.
        gallery.matrix.withUnsafeBytes { floats in
            probe.withUnsafeBytes { probe in
                var exact: Float = 0
                for (row, approximate) in candidates where approximate <= reach {
                    squaredDistances(
                        probe.baseAddress!, floats.baseAddress! + row * Gallery.dimensions * 4, 1, &exact)
                    nearest.offer(gallery.owners[row], exact)
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
