import Recognition
import Testing

/// A match of `person` with the runner-up "ben".
private func match(_ person: String = "ada", distance: Float, margin: Float) -> MatchResult {
    MatchResult(person: person, distance: distance, runnerUp: "ben", margin: margin)
}

struct IdentificationTests {
    /// A fixed rule: 0.5, and a margin of 0.1.
    let rule = MatchPolicy(acceptDistance: 0.5, minimumMargin: 0.1)

    @Test("the door accepts a face at exactly 0.5 with a margin of exactly 0.1")
    func acceptsAtTheBoundary() {
        let atBoundary = match(distance: 0.5, margin: 0.1)
        #expect(rule.identify(atBoundary) == .accepted(atBoundary))
        let close = match(distance: 0.2, margin: 0.6)
        #expect(rule.identify(close) == .accepted(close))
    }

    @Test("a face farther than 0.5 is unknown, and the nearest person is kept")
    func unknownAboveDistance() {
        let justAbove = match(distance: Float(0.5).nextUp, margin: 0.3)
        #expect(rule.identify(justAbove) == .unknown(nearest: justAbove))
        let far = match(distance: 0.9, margin: 0.01)
        #expect(rule.identify(far) == .unknown(nearest: far), "distance is checked before margin")
    }

    @Test("a face near enough but with a margin under 0.1 is ambiguous")
    func ambiguousBelowMargin() {
        let justUnder = match(distance: 0.5, margin: Float(0.1).nextDown)
        #expect(rule.identify(justUnder) == .ambiguous(justUnder))
        let tie = match(distance: 0.3, margin: 0)
        #expect(rule.identify(tie) == .ambiguous(tie))
        let justOver = match(distance: 0.3, margin: Float(0.1).nextUp)
        #expect(rule.identify(justOver) == .accepted(justOver))
    }

    @Test("a margin computed the way the matcher does it (0.6 - 0.5 in Float32) is accepted")
    func computedMargin() {
        let computed = match(distance: 0.5, margin: Float(0.6) - Float(0.5))
        #expect(rule.identify(computed) == .accepted(computed))
    }

    @Test("with nobody else in the gallery the margin is infinite and a near face is accepted")
    func noRunnerUp() {
        let alone = MatchResult(person: "ada", distance: 0.4, runnerUp: nil, margin: .infinity)
        #expect(rule.identify(alone) == .accepted(alone))
    }

    @Test("no match at all (an empty gallery) is unknown with no nearest person")
    func noMatch() {
        #expect(rule.identify(nil) == .unknown(nearest: nil))
        #expect(MatchPolicy(acceptDistance: 2, minimumMargin: 0).identify(nil) == .unknown(nearest: nil))
    }

    @Test("other thresholds move the boundaries")
    func customPolicy() {
        let lenient = MatchPolicy(acceptDistance: 0.6, minimumMargin: 0)
        let result = match(distance: 0.55, margin: 0)
        #expect(lenient.identify(result) == .accepted(result))
        #expect(rule.identify(result) == .unknown(nearest: result))
    }

    @Test("only an accepted identification names a person; each keeps its match")
    func accessors() {
        let result = match(distance: 0.3, margin: 0.2)
        #expect(Identification.accepted(result).person == "ada")
        #expect(Identification.ambiguous(result).person == nil)
        #expect(Identification.unknown(nearest: result).person == nil)
        #expect(Identification.unknown(nearest: nil).person == nil)

        #expect(Identification.accepted(result).match == result)
        #expect(Identification.ambiguous(result).match == result)
        #expect(Identification.unknown(nearest: result).match == result)
        #expect(Identification.unknown(nearest: nil).match == nil)
    }

    @Test("a policy applied to the matcher's answer on real vectors")
    func withMatcher() {
        var random = Templates(state: 4)
        let (ada, ben) = (random.next(), random.next())
        var gallery = Gallery()
        gallery.add(person: "ada", templates: [ada])
        gallery.add(person: "ben", templates: [ben])
        #expect(rule.identify(Matcher.match(ada, in: gallery)).person == "ada")
        let stranger = random.next()
        let outcome = rule.identify(Matcher.match(stranger, in: gallery))
        #expect(outcome.person == nil)
        #expect(outcome == .unknown(nearest: Matcher.match(stranger, in: gallery)))
        #expect(rule.identify(Matcher.match(ada, in: Gallery())) == .unknown(nearest: nil))
    }
}
