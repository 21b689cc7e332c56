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
}

/// Finds the two nearest distinct people to a face by brute force over the gallery's matrix, with
/// SIMD arithmetic (8 lanes of 16 floats a template). Pure and synchronous.
public enum Matcher {
    /// The nearest person and the runner-up among `candidates` (person indices), or among everyone
    /// when `candidates` is nil. Nil when no template qualifies.
    public static func match(_ probe: [Float], in gallery: Gallery, candidates: Set<Int32>? = nil) -> MatchResult? {
        precondition(probe.count == Gallery.dimensions, "a probe has 128 values")
        var best: (person: Int32, distance: Float) = (-1, .infinity)
        var second: (person: Int32, distance: Float) = (-1, .infinity)
        gallery.matrix.withUnsafeBufferPointer { matrix in
            gallery.owners.withUnsafeBufferPointer { owners in
                probe.withUnsafeBytes { probeBytes in
                    let query = (0..<8).map {
                        probeBytes.loadUnaligned(fromByteOffset: $0 * 64, as: SIMD16<Float>.self)
                    }
                    let (q0, q1, q2, q3, q4, q5, q6, q7) =
                        (query[0], query[1], query[2], query[3], query[4], query[5], query[6], query[7])
                    let base = UnsafeRawPointer(matrix.baseAddress!)
                    for row in 0..<owners.count {
                        let owner = owners[row]
                        if let candidates, !candidates.contains(owner) { continue }
                        let t = base + row * Gallery.dimensions * 4
                        // Unrolled by hand: with the query in eight registers this loop streams
                        // the matrix at close to memory speed; an array of chunks would not.
                        var delta = t.loadUnaligned(as: SIMD16<Float>.self) - q0
                        var sum = delta * delta
                        delta = t.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self) - q1
                        sum += delta * delta
                        delta = t.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self) - q2
                        sum += delta * delta
                        delta = t.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self) - q3
                        sum += delta * delta
                        delta = t.loadUnaligned(fromByteOffset: 256, as: SIMD16<Float>.self) - q4
                        sum += delta * delta
                        delta = t.loadUnaligned(fromByteOffset: 320, as: SIMD16<Float>.self) - q5
                        sum += delta * delta
                        delta = t.loadUnaligned(fromByteOffset: 384, as: SIMD16<Float>.self) - q6
                        sum += delta * delta
                        delta = t.loadUnaligned(fromByteOffset: 448, as: SIMD16<Float>.self) - q7
                        sum += delta * delta
                        let squared = sum.sum()
                        guard squared < second.distance else { continue }
                        // Keep the nearest two *people*: a person's second template never pushes
                        // another person out of second place.
                        if owner == best.person {
                            best.distance = min(best.distance, squared)
                        } else if squared < best.distance {
                            second = best
                            best = (owner, squared)
                        } else {
                            second = (owner, squared)
                        }
                    }
                }
            }
        }
        guard best.person >= 0 else { return nil }
        let distance = best.distance.squareRoot()
        let runnerUp = second.person >= 0 ? gallery.personIDs[Int(second.person)] : nil
        return MatchResult(
            person: gallery.personIDs[Int(best.person)], distance: distance, runnerUp: runnerUp,
            margin: runnerUp == nil ? .infinity : second.distance.squareRoot() - distance)
    }
}
