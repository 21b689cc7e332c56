import ArgumentParser
import Attendance
import Foundation
import Recognition

/// `rollcall bench refresh`: the template refresh policy on the fixtures' encodings (what the reference
/// computes on each photo, `faces-expected.json`): honest sightings of one person over a month, a stranger
/// claimed as them, and a drift attack by a stolen door's token.
struct RefreshBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh",
        abstract: "Play the template refresh policy on the fixtures' encodings and print what it decides.",
        discussion: """
            Obama is enrolled from obama.jpg and Biden from biden.jpg; the other photos of Obama are offered \
            as door sightings days apart, Biden's second photo is offered as Obama (a forged sighting), then a \
            stolen door's token offers encodings that walk from Obama to Biden, one a week, once with Biden \
            enrolled and once with Biden a stranger to the gallery.
            """)

    @Option(help: ArgumentHelp("The fixtures folder (faces-expected.json).", valueName: "dir"))
    var fixtures = ProcessInfo.processInfo.environment["ROLLCALL_FIXTURES"] ?? "../shared/fixtures"

    func run() throws {
        let encodings: [String: [Float]]
        do {
            encodings = try FixtureEncodings.load(
                URL(fileURLWithPath: fixtures).appendingPathComponent("faces-expected.json"))
        } catch {
            throw ValidationError("\(fixtures): \(error)")
        }
        guard let obama = encodings["obama.jpg"], let biden = encodings["biden.jpg"],
            let bidenAgain = encodings["two_people.jpg#0"]
        else { throw ValidationError("\(fixtures)/faces-expected.json lacks obama.jpg, biden.jpg or two_people.jpg") }
        let policy = TemplateRefreshPolicy.standard
        let start = Date(timeIntervalSince1970: 1_788_220_800)  // 2026-09-01
        func entry(_ id: String, _ encoding: [Float]) -> GalleryDocument.Entry {
            var document = GalleryDocument()
            document.enroll(
                Person(id: id, name: id, role: .student),
                templates: [GalleryDocument.Template(source: "\(id).jpg", encoding: encoding)])
            return document.people[0]
        }
        let people = [entry("obama", obama), entry("biden", biden)]
        let photos = [
            "obama-720p.jpg", "obama2.jpg", "obama3.jpg", "obama_partial_face.jpg", "obama_small.jpg",
            "two_people.jpg#1",
        ]
        var sightings = photos.enumerated().compactMap { index, label in
            encodings[label].map {
                TemplateRefreshTrial.Sighting(label: label, person: "obama", encoding: $0, day: 1 + 4 * index)
            }
        }
        sightings.insert(
            TemplateRefreshTrial.Sighting(
                label: "two_people.jpg#0 (Biden)", person: "obama", encoding: bidenAgain, day: 40),
            at: sightings.count)
        print(
            "policy: margin >= \(policy.minimumMargin), <= \(policy.maximumDistance) from an enrolled template, "
                + ">= \(policy.minimumNovelty) from every own template, > \(policy.separation) from everyone else, "
                + "\(policy.perPerson) added per person, one per \(Int(policy.spacing / 86_400)) days")
        print("day  sighting                     to enrolled  to own  decision")
        let (rows, after) = TemplateRefreshTrial.run(sightings, people: people, policy: policy, start: start)
        for row in rows {
            let decision: String
            switch row.verdict {
            case .add(nil): decision = "added"
            case .add(.some): decision = "added, the oldest added one replaced"
            case .refuse(let reason): decision = "refused: \(reason)"
            }
            print(
                "\(String(format: "%3d", row.sighting.day))  \(row.sighting.label.padding(toLength: 28, withPad: " ", startingAt: 0)) "
                    + String(format: "%6.3f      %6.3f  ", row.toEnrolled, row.toOwn)
                    + decision)
        }
        let kept = after.first { $0.id == "obama" }?.templates.map { $0.source ?? "" } ?? []
        print("obama's templates after: \(kept.count) (\(kept.filter { !$0.hasPrefix("refresh:") }.count) enrolled)")
        // Photos not offered: the distance to obama's nearest template before and after the refresh.
        for label in ["obama_partial_face2.jpg", "obama3.jpg", "32bit.png"] {
            guard let probe = encodings[label] else { continue }
            func nearest(_ gallery: [GalleryDocument.Entry]) -> Float {
                gallery.first { $0.id == "obama" }?.templates.map { TemplateRefreshPolicy.distance($0.encoding, probe) }
                    .min() ?? .infinity
            }
            print(
                "probe \(label.padding(toLength: 24, withPad: " ", startingAt: 0)) "
                    + String(format: "nearest obama template %.3f before, %.3f after", nearest(people), nearest(after)))
        }
        for (title, gallery) in [("Biden enrolled", people), ("Biden a stranger", [people[0]])] {
            let drift = TemplateRefreshTrial.drift(
                victim: "obama", toward: bidenAgain, steps: 20, people: gallery, policy: policy, start: start)
            print(
                "drift attack (\(title)): \(drift.added) of 20 steps added; Biden's distance to obama's nearest "
                    + String(
                        format: "template %.3f before, %.3f after (the door accepts under %.2f)", drift.before,
                        drift.after, TemplateRefreshPolicy.standard.separation))
        }
    }
}

/// The fixtures' encodings as the reference computed them, by image (`name` for the first face, `name#i`
/// for each).
enum FixtureEncodings {
    static func load(_ url: URL) throws -> [String: [Float]] {
        struct Document: Decodable {
            struct Image: Decodable {
                struct Face: Decodable { var encoding: [Float] }
                var faces_upsample1: [Face]?
            }
            var images: [String: Image]
        }
        let document = try JSONDecoder().decode(Document.self, from: Data(contentsOf: url))
        var result: [String: [Float]] = [:]
        for (name, image) in document.images {
            for (index, face) in (image.faces_upsample1 ?? []).enumerated() {
                result["\(name)#\(index)"] = face.encoding
                if index == 0 { result[name] = face.encoding }
            }
        }
        return result
    }
}
