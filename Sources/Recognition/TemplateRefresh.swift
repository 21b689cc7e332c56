public import Foundation

/// Template refresh: children's faces change over a school year, so a door sighting that was certainly
/// the person may add a template to them. Opt-in (the hub's `serve --template-refresh`), and guarded so
/// that the gallery cannot drift from who was enrolled:
///
/// - the door offers only a face that passed the enrollment quality gates and matched with a margin of at
///   least `minimumMargin` (the door's own accept rule asks for 0.1) within `maximumDistance`;
/// - the hub recomputes everything from its own gallery and adds the template only when it is within
///   `maximumDistance` of one of the person's **enrolled** templates (never of an added one: a chain of
///   sightings cannot walk away from the enrollment), farther than `separation` (the door's accept
///   distance) from every other person's templates, clearly nearer to the person than to anyone else
///   (`minimumMargin`), and not a near copy of a template the person already has (`minimumNovelty`);
/// - at most `perPerson` added templates per person, at most one per `spacing`; when the bound is reached,
///   the oldest added one gives way. Enrolled templates are never replaced or removed by a refresh.
public struct TemplateRefreshPolicy: Sendable, Codable, Equatable {
    /// The least margin to the runner-up, at the door and as the hub recomputes it.
    public var minimumMargin: Float
    /// The farthest a sighting may be from the person's nearest enrolled template.
    public var maximumDistance: Float
    /// The least distance to the person's nearest template of any kind (nearer adds nothing).
    public var minimumNovelty: Float
    /// A sighting no nearer than this to any other person's template (the door's accept distance).
    public var separation: Float
    /// Added templates kept per person.
    public var perPerson: Int
    /// The least time between two added templates of one person.
    public var spacing: TimeInterval

    /// The defaults, chosen on the fixtures (README, "Template refresh").
    public static let standard = TemplateRefreshPolicy(
        minimumMargin: 0.25, maximumDistance: 0.3, minimumNovelty: 0.1, separation: 0.5,
        perPerson: 3, spacing: 7 * 86_400)

    /// The policy with the given guards.
    public init(
        minimumMargin: Float, maximumDistance: Float, minimumNovelty: Float, separation: Float, perPerson: Int,
        spacing: TimeInterval
    ) {
        self.minimumMargin = minimumMargin
        self.maximumDistance = maximumDistance
        self.minimumNovelty = minimumNovelty
        self.separation = separation
        self.perPerson = perPerson
        self.spacing = spacing
    }

    /// An added template's `source`: `refresh:` with the time and the door that saw it.
    public static let sourcePrefix = "refresh:"

    /// Whether a template was added by a refresh (and not enrolled).
    public static func isAdded(_ template: GalleryDocument.Template) -> Bool {
        template.source?.hasPrefix(sourcePrefix) == true
    }

    /// When an added template was added (from its source), nil for an enrolled one.
    public static func addedAt(_ template: GalleryDocument.Template) -> Date? {
        guard isAdded(template), let source = template.source else { return nil }
        let rest = source.dropFirst(sourcePrefix.count)
        guard let end = rest.firstIndex(of: "/") else { return nil }
        return try? Date(String(rest[..<end]), strategy: .iso8601)
    }

    /// The source of a template added at `at` from a sighting by `device`.
    public static func source(at: Date, device: String) -> String {
        sourcePrefix + at.formatted(.iso8601) + "/" + device
    }

    /// Whether the door should offer a sighting: the match's distance and margin (the face passed the
    /// enrollment quality gates; the caller checks that).
    public func worthOffering(distance: Float, margin: Float) -> Bool {
        distance.isFinite && distance <= maximumDistance && margin >= minimumMargin
    }

    /// The hub's verdict on a sighting of `person`.
    public enum Verdict: Sendable, Equatable {
        /// Add it; when `replacing` is set, that added template (an index in the person's templates) goes.
        case add(replacing: Int?)
        /// Not added, and why.
        case refuse(String)
    }

    /// Decides on a sighting (`encoding`) of `person`, recomputed from the hub's gallery (`people`).
    public func evaluate(_ encoding: [Float], person: String, in people: [GalleryDocument.Entry], at now: Date)
        -> Verdict
    {
        guard encoding.count == 128, encoding.allSatisfy(\.isFinite) else {
            return .refuse("the encoding is not 128 finite values")
        }
        guard let entry = people.first(where: { $0.id == person }) else { return .refuse("unknown person") }
        let enrolled = entry.templates.filter { !Self.isAdded($0) }
        guard !enrolled.isEmpty else { return .refuse("the person has no enrolled template") }
        let toEnrolled = enrolled.map { Self.distance($0.encoding, encoding) }.min() ?? .infinity
        guard toEnrolled <= maximumDistance else {
            return .refuse(
                "too far from the enrolled templates (\(Self.format(toEnrolled)) > \(Self.format(maximumDistance)))")
        }
        let toOwn = entry.templates.map { Self.distance($0.encoding, encoding) }.min() ?? .infinity
        guard toOwn >= minimumNovelty else {
            return .refuse("nothing new: \(Self.format(toOwn)) from a template the person has")
        }
        let toOthers =
            people.lazy.filter { $0.id != person }.flatMap(\.templates).map { Self.distance($0.encoding, encoding) }
            .min() ?? .infinity
        guard toOthers > separation else {
            return .refuse("too near another person (\(Self.format(toOthers)) <= \(Self.format(separation)))")
        }
        guard toOthers - toOwn >= minimumMargin else {
            return .refuse("margin \(Self.format(toOthers - toOwn)) under \(Self.format(minimumMargin))")
        }
        let added = entry.templates.indices.filter { Self.isAdded(entry.templates[$0]) }
        let times = added.map { Self.addedAt(entry.templates[$0]) ?? .distantPast }
        if let latest = times.max(), now.timeIntervalSince(latest) < spacing {
            return .refuse("a template was added \(Int(now.timeIntervalSince(latest) / 3600)) hours ago")
        }
        guard perPerson > 0 else { return .refuse("refresh adds no templates (a bound of 0)") }
        guard added.count >= perPerson else { return .add(replacing: nil) }
        let oldest = zip(added, times).min { $0.1 < $1.1 }?.0
        return .add(replacing: oldest)
    }

    /// The person's templates after an accepted sighting.
    public static func applying(
        _ verdict: Verdict, _ encoding: [Float], to templates: [GalleryDocument.Template], source: String,
        model: String?
    ) -> [GalleryDocument.Template] {
        guard case .add(let replacing) = verdict else { return templates }
        var result = templates
        if let replacing, result.indices.contains(replacing), isAdded(result[replacing]) {
            result.remove(at: replacing)
        }
        result.append(GalleryDocument.Template(source: source, encoding: encoding, model: model))
        return result
    }

    /// Euclidean distance between two encodings.
    public static func distance(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        var sum: Float = 0
        for index in a.indices {
            let difference = a[index] - b[index]
            sum += difference * difference
        }
        return sum.squareRoot()
    }

    static func format(_ value: Float) -> String { String(format: "%.3f", Double(value)) }
}
