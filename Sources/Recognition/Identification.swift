/// When a face counts as a known person: near enough to them, and clearly nearer to them than to
/// anyone else. The door does not set these numbers by hand: `OperatingPoint` calibrates the accept
/// distance to the gallery for a false-match target.
public struct MatchPolicy: Sendable, Codable, Equatable {
    /// The largest distance to a person's nearest template that can be that person.
    public var acceptDistance: Float
    /// The least margin accepted: the runner-up's distance minus the best distance.
    public var minimumMargin: Float

    /// A policy.
    public init(acceptDistance: Float, minimumMargin: Float) {
        self.acceptDistance = acceptDistance
        self.minimumMargin = minimumMargin
    }

    /// What a match means under this policy.
    public func identify(_ match: MatchResult?) -> Identification {
        guard let match else { return .unknown(nearest: nil) }
        if match.distance > acceptDistance { return .unknown(nearest: match) }
        if match.margin < minimumMargin { return .ambiguous(match) }
        return .accepted(match)
    }
}

/// The outcome of one encoding of a face.
public enum Identification: Sendable, Equatable {
    /// The face is this person.
    case accepted(MatchResult)
    /// Near enough to someone, but about as near to someone else: no decision.
    case ambiguous(MatchResult)
    /// Nobody in the gallery is near enough (nil nearest: the gallery is empty).
    case unknown(nearest: MatchResult?)

    /// The accepted person's id.
    public var person: String? {
        if case .accepted(let match) = self { return match.person }
        return nil
    }

    /// The match behind the outcome, if any.
    public var match: MatchResult? {
        switch self {
        case .accepted(let match), .ambiguous(let match): return match
        case .unknown(let nearest): return nearest
        }
    }
}
