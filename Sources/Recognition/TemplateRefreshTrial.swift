public import Foundation

/// The template refresh policy played out on known encodings (`rollcall bench refresh` on the fixtures):
/// honest sightings a few days apart, and a drift attack by someone who holds a door's token.
public enum TemplateRefreshTrial {
    /// A sighting offered to the hub on a given day.
    public struct Sighting: Sendable {
        public var label: String
        public var person: String
        public var encoding: [Float]
        public var day: Int

        public init(label: String, person: String, encoding: [Float], day: Int) {
            self.label = label
            self.person = person
            self.encoding = encoding
            self.day = day
        }
    }

    /// What the hub decided on one sighting.
    public struct Row: Sendable {
        public var sighting: Sighting
        /// Distance to the person's nearest enrolled template, and to their nearest template of any kind.
        public var toEnrolled: Float
        public var toOwn: Float
        public var verdict: TemplateRefreshPolicy.Verdict
    }

    /// Offers `sightings` in order to a gallery of `people`; returns each verdict and the gallery after.
    public static func run(
        _ sightings: [Sighting], people: [GalleryDocument.Entry], policy: TemplateRefreshPolicy, start: Date
    ) -> (rows: [Row], people: [GalleryDocument.Entry]) {
        var people = people
        var rows: [Row] = []
        for sighting in sightings {
            let at = start + Double(sighting.day) * 86_400
            guard let index = people.firstIndex(where: { $0.id == sighting.person }) else { continue }
            let templates = people[index].templates
            let distances = templates.map { TemplateRefreshPolicy.distance($0.encoding, sighting.encoding) }
            let toOwn = distances.min() ?? .infinity
            let toEnrolled =
                zip(templates, distances).filter { !TemplateRefreshPolicy.isAdded($0.0) }.map(\.1).min() ?? .infinity
            let verdict = policy.evaluate(sighting.encoding, person: sighting.person, in: people, at: at)
            people[index].templates = TemplateRefreshPolicy.applying(
                verdict, sighting.encoding, to: templates,
                source: TemplateRefreshPolicy.source(at: at, device: "trial"),
                model: GalleryDocument.modelID)
            rows.append(Row(sighting: sighting, toEnrolled: toEnrolled, toOwn: toOwn, verdict: verdict))
        }
        return (rows, people)
    }

    /// The drift attack: a week apart, sightings claimed as `victim` that move in `steps` steps from the
    /// victim's first template straight to `target`. Returns how many were added, and `target`'s distance
    /// to the victim's nearest template before and after (the door accepts under its accept distance).
    public static func drift(
        victim: String, toward target: [Float], steps: Int, people: [GalleryDocument.Entry],
        policy: TemplateRefreshPolicy, start: Date
    ) -> (added: Int, before: Float, after: Float) {
        guard let origin = people.first(where: { $0.id == victim })?.templates.first?.encoding, steps > 0 else {
            return (0, .infinity, .infinity)
        }
        let sightings = (1...steps).map { step -> Sighting in
            let share = Float(step) / Float(steps)
            let encoding = zip(origin, target).map { $0 + ($1 - $0) * share }
            return Sighting(label: "step \(step)", person: victim, encoding: encoding, day: 7 * step)
        }
        func nearest(_ gallery: [GalleryDocument.Entry]) -> Float {
            gallery.first { $0.id == victim }?.templates.map { TemplateRefreshPolicy.distance($0.encoding, target) }
                .min() ?? .infinity
        }
        let (rows, after) = run(sightings, people: people, policy: policy, start: start)
        let added = rows.filter { if case .add = $0.verdict { true } else { false } }.count
        return (added, nearest(people), nearest(after))
    }
}
