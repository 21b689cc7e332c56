import Recognition
import Testing

/// Random vectors of unit length, reproducibly.
struct Templates {
    var state: UInt64
    mutating func next() -> [Float] {
        var values: [Float] = (0..<128).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state) >> 11) / Float(1 << 52)
        }
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for index in values.indices { values[index] /= norm }
        return values
    }
}

func distance(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
}

struct MatcherTests {
    @Test("the nearest two distinct people equal a plain per-person search", arguments: [1, 7, 42])
    func agreesWithPlainSearch(seed: UInt64) {
        var random = Templates(state: seed)
        var gallery = Gallery()
        var byPerson: [String: [[Float]]] = [:]
        for person in 0..<60 {
            let templates = (0..<(1 + person % 4)).map { _ in random.next() }
            gallery.add(person: "p\(person)", templates: templates)
            byPerson["p\(person)"] = templates
        }
        for _ in 0..<25 {
            let probe = random.next()
            let nearest = byPerson.mapValues { $0.map { distance($0, probe) }.min()! }.sorted { $0.value < $1.value }
            let result = Matcher.match(probe, in: gallery)
            #expect(result?.person == nearest[0].key)
            #expect(result?.runnerUp == nearest[1].key)
            #expect(abs((result?.distance ?? 0) - nearest[0].value) < 1e-5)
            #expect(abs((result?.margin ?? 0) - (nearest[1].value - nearest[0].value)) < 1e-5)
        }
    }

    @Test("a person's own templates never count as the runner-up")
    func runnerUpIsAnotherPerson() {
        var random = Templates(state: 9)
        let face = random.next()
        let nearlySame = face.map { $0 * 0.999 }
        var gallery = Gallery()
        gallery.add(person: "ada", templates: [face, nearlySame])
        gallery.add(person: "ben", templates: [random.next()])
        let result = Matcher.match(face, in: gallery)
        #expect(result?.person == "ada" && result?.runnerUp == "ben")
        #expect(result!.margin > 0.5)
    }

    @Test("candidates restrict the search (the roster of the session running now)")
    func candidates() throws {
        var random = Templates(state: 3)
        let probe = random.next()
        var gallery = Gallery()
        gallery.add(person: "near", templates: [probe])
        gallery.add(person: "far", templates: [random.next()])
        gallery.add(person: "farther", templates: [random.next()])
        let roster: Set<Int32> = [try #require(gallery.index(of: "far"))]
        let result = Matcher.match(probe, in: gallery, candidates: roster)
        #expect(result?.person == "far" && result?.runnerUp == nil && result?.margin == .infinity)
        #expect(Matcher.match(probe, in: Gallery()) == nil)
        #expect(Matcher.match(probe, in: gallery, candidates: []) == nil)
    }

    @Test("searching the roster first gives the answer of a search of everyone, and says if it is on the roster")
    func rosterFirst() {
        var random = Templates(state: 11)
        var gallery = Gallery()
        for person in 0..<40 { gallery.add(person: "p\(person)", templates: [random.next(), random.next()]) }
        let roster = (0..<40).filter { $0 % 3 == 0 }.map { "p\($0)" }
        for _ in 0..<30 {
            let probe = random.next()
            let everyone = Matcher.match(probe, in: gallery)
            let first = Matcher.match(probe, in: gallery, rosterFirst: roster)
            #expect(first?.person == everyone?.person && first?.runnerUp == everyone?.runnerUp)
            #expect(first?.distance == everyone?.distance && first?.margin == everyone?.margin)
            #expect(first?.onRoster == roster.contains(everyone?.person ?? ""))
        }
        // A lookalike from another class is the nearest person even when the roster is searched first.
        let face = random.next()
        gallery.add(person: "lookalike", templates: [face])
        gallery.add(person: "rostered", templates: [face.map { $0 * 0.9 }])
        let result = Matcher.match(face, in: gallery, rosterFirst: ["rostered"])
        #expect(result?.person == "lookalike" && result?.runnerUp == "rostered" && result?.onRoster == false)
    }

    @Test("more templates than one block (256 rows) are all searched")
    func severalBlocks() {
        var random = Templates(state: 13)
        var gallery = Gallery()
        for person in 0..<700 { gallery.add(person: "p\(person)", templates: [random.next()]) }
        let probe = random.next()
        gallery.add(person: "last", templates: [probe])
        #expect(Matcher.match(probe, in: gallery)?.person == "last")
        #expect(Matcher.match(probe, in: gallery, rosterFirst: ["p3"])?.person == "last")
    }

    @Test("removing a person removes every template of theirs and keeps the others")
    func remove() {
        var random = Templates(state: 5)
        let (a, b, c) = (random.next(), random.next(), random.next())
        var gallery = Gallery()
        gallery.add(person: "a", templates: [a, a])
        gallery.add(person: "b", templates: [b])
        gallery.add(person: "c", templates: [c])
        gallery.remove(person: "b")
        #expect(gallery.count == 3 && gallery.personIDs == ["a", "c"])
        #expect(Matcher.match(b, in: gallery)?.person != "b")
        #expect(Matcher.match(c, in: gallery)?.person == "c")
        #expect(Matcher.match(c, in: gallery)?.distance == 0)
    }
}

/// Searches of galleries large enough to go through their 8-bit copy.
struct QuantizedMatcherTests {
    /// The nearest two people by a plain exact search over the gallery's Float32 matrix.
    func plainNearestTwo(_ probe: [Float], _ gallery: Gallery) -> (String, Float, String, Float) {
        var best: [Int32: Float] = [:]
        for row in 0..<gallery.count {
            var sum: Float = 0
            for index in 0..<128 {
                let delta = gallery.matrix[row * 128 + index] - probe[index]
                sum += delta * delta
            }
            let owner = gallery.owners[row]
            best[owner] = min(best[owner] ?? .infinity, sum)
        }
        let sorted = best.sorted { $0.value < $1.value }
        return (
            gallery.personIDs[Int(sorted[0].key)], sorted[0].value.squareRoot(),
            gallery.personIDs[Int(sorted[1].key)], sorted[1].value.squareRoot()
        )
    }

    @Test("through the 8-bit copy, the nearest two people and their distances equal an exact search")
    func equalsExactSearch() {
        var random = Templates(state: 21)
        var gallery = Gallery()
        let people = Matcher.quantizedFrom / 2 + 100
        for person in 0..<people { gallery.add(person: "p\(person)", templates: [random.next(), random.next()]) }
        #expect(gallery.count >= Matcher.quantizedFrom)
        // Faces near a template, a second person nearly as near (within the 8-bit error), and a probe
        // with a value larger than any in the gallery (clamped when quantized).
        var probes: [[Float]] = []
        for target in [17, people / 2, people - 1] {
            let template = Array(gallery.matrix[(target * 2 * 128)..<(target * 2 * 128 + 128)])
            probes.append(template.map { $0 + 0.01 * random.next()[0] })
        }
        let shared = random.next()
        gallery.add(person: "twin-a", templates: [shared.map { $0 * 1.001 }])
        gallery.add(person: "twin-b", templates: [shared.map { $0 * 0.999 }])
        probes.append(shared)
        var outlier = random.next()
        outlier[3] = 1.5
        probes.append(outlier)
        for probe in probes {
            let (person, distance, runnerUp, runnerUpDistance) = plainNearestTwo(probe, gallery)
            let scalar = Matcher.match(probe, in: gallery, kernel: .scalar)
            #expect(scalar?.person == person && scalar?.runnerUp == runnerUp)
            #expect(abs((scalar?.distance ?? -1) - distance) < 1e-5)
            #expect(abs((scalar?.margin ?? -1) - (runnerUpDistance - distance)) < 1e-5)
            // Every kernel the CPU runs gives the scalar kernel's answer, to the bit.
            for kernel in MatchKernel.supported {
                #expect(Matcher.match(probe, in: gallery, kernel: kernel) == scalar, "kernel \(kernel)")
            }
        }
        // The 8-bit copy follows removals.
        gallery.remove(person: "twin-a")
        #expect(gallery.quantized.count == gallery.matrix.count)
        #expect(Matcher.match(shared, in: gallery)?.person == "twin-b")
    }
}

@Suite("The 8-bit kernels, each the CPU runs forced in turn, against the scalar reference")
struct MatchKernelTests {
    /// Reproducible 8-bit values over the whole range the gallery uses (-127...127).
    static func values(_ count: Int, seed: UInt64) -> [Int8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int8(Int((state >> 33) % 255) - 127)
        }
    }

    @Test("exact squared distances equal the scalar kernel's, at the extremes and for every row count")
    func exactDistances() throws {
        // 1 to 9 rows exercise the four-row blocks and their remainder; 517 many blocks.
        for count in [1, 2, 3, 4, 5, 7, 9, 517] {
            let query = Self.values(128, seed: UInt64(count))
            var rows = Self.values(128 * count, seed: 99 &+ UInt64(count))
            // The largest difference there is: every value at the opposite extreme.
            for index in 0..<128 { rows[index] = query[index] >= 0 ? -127 : 127 }
            let reference = try #require(MatchKernel.scalar.distances(from: query, to: rows))
            var plain: [Int32] = []
            for row in 0..<count {
                var sum: Int32 = 0
                for index in 0..<128 {
                    let delta = Int32(rows[row * 128 + index]) - Int32(query[index])
                    sum += delta * delta
                }
                plain.append(sum)
            }
            #expect(reference == plain)
            for kernel in MatchKernel.supported {
                let distances = kernel.distances(from: query, to: rows) ?? []
                let difference = zip(distances, reference).enumerated().first { $0.element.0 != $0.element.1 }
                #expect(
                    distances.count == count && difference == nil,
                    "kernel \(kernel), \(count) rows: row \(difference?.offset ?? -1) is \(difference?.element.0 ?? -1), not \(difference?.element.1 ?? -1)"
                )
            }
        }
        let query = [Int8](repeating: 127, count: 128)
        let far = [Int8](repeating: -127, count: 128)
        for kernel in MatchKernel.supported {
            #expect(kernel.distances(from: query, to: far) == [128 * 254 * 254], "kernel \(kernel)")
        }
    }

    @Test("the best kernel is one the CPU runs, and the CPU's widest; scalar always runs; names round-trip")
    func detection() {
        #expect(MatchKernel.best.isSupported)
        #expect(MatchKernel.scalar.isSupported)
        #expect(MatchKernel.supported.allSatisfy { $0.rawValue <= MatchKernel.best.rawValue || $0 == .neon })
        for kernel in MatchKernel.allCases { #expect(MatchKernel(name: kernel.name) == kernel) }
        #expect(MatchKernel(name: "avx3") == nil)
        #if arch(x86_64)
            #expect(!MatchKernel.neon.isSupported)
            #expect(MatchKernel.neon.distances(from: [Int8](repeating: 0, count: 128), to: []) == nil)
        #elseif arch(arm64)
            #expect(MatchKernel.best == .neon)
        #endif
    }
}
