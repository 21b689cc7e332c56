import Attendance
import Foundation
import Recognition
import Testing

/// The template refresh guards, on made-up encodings whose distances are known exactly.
struct TemplateRefreshTests {
    /// An encoding at `offset` along dimension `axis` from a base point of its own per person.
    func point(_ base: Int, _ offsets: [Int: Float] = [:]) -> [Float] {
        var values = [Float](repeating: 0, count: 128)
        values[base] = 0.9
        for (axis, offset) in offsets { values[axis] += offset }
        return values
    }

    func entry(_ id: String, _ templates: [GalleryDocument.Template]) -> GalleryDocument.Entry {
        var document = GalleryDocument()
        document.enroll(Person(id: id, name: id, role: .student), templates: templates)
        return document.people[0]
    }

    let start = Date(timeIntervalSince1970: 1_788_220_800)

    @Test("a sure sighting near the enrolled template is added; a copy, a far one, another's face are not")
    func guards() {
        let policy = TemplateRefreshPolicy.standard
        let people = [
            entry("ada", [GalleryDocument.Template(source: "ada.jpg", encoding: point(0))]),
            entry("ben", [GalleryDocument.Template(source: "ben.jpg", encoding: point(1))]),
        ]
        // 0.2 from Ada's enrolled template, about 1.27 from Ben's.
        #expect(policy.evaluate(point(0, [5: 0.2]), person: "ada", in: people, at: start) == .add(replacing: nil))
        guard case .refuse(let copy) = policy.evaluate(point(0, [5: 0.05]), person: "ada", in: people, at: start)
        else {
            Issue.record("a near copy was added")
            return
        }
        #expect(copy.hasPrefix("nothing new"))
        guard case .refuse(let far) = policy.evaluate(point(0, [5: 0.35]), person: "ada", in: people, at: start)
        else {
            Issue.record("a sighting 0.35 away was added")
            return
        }
        #expect(far.hasPrefix("too far from the enrolled"))
        // Ben's face offered as Ada's: too far from hers (and near his).
        #expect(policy.evaluate(point(1), person: "ada", in: people, at: start) != .add(replacing: nil))
        // A face between the two, near enough to Ada but within the accept distance of Ben: refused.
        var close = people
        close[1].templates = [GalleryDocument.Template(source: "ben.jpg", encoding: point(0, [7: 0.6]))]
        guard case .refuse(let near) = policy.evaluate(point(0, [7: 0.2]), person: "ada", in: close, at: start)
        else {
            Issue.record("a face within 0.4 of Ben was added to Ada")
            return
        }
        #expect(near.hasPrefix("too near another person"))
        for bad in [[Float](repeating: 0, count: 127), [Float](repeating: .nan, count: 128)] {
            #expect(policy.evaluate(bad, person: "ada", in: people, at: start) != .add(replacing: nil))
        }
        #expect(
            policy.evaluate(point(0, [5: 0.2]), person: "nobody", in: people, at: start) == .refuse("unknown person"))
    }

    @Test("added templates: one a week, at most 3 (the oldest gives way), never near an added one only, enrolled kept")
    func bounds() {
        let policy = TemplateRefreshPolicy.standard
        var people = [entry("ada", [GalleryDocument.Template(source: "ada.jpg", encoding: point(0))])]
        func offer(_ encoding: [Float], day: Double) -> TemplateRefreshPolicy.Verdict {
            let at = start + day * 86_400
            let verdict = policy.evaluate(encoding, person: "ada", in: people, at: at)
            people[0].templates = TemplateRefreshPolicy.applying(
                verdict, encoding, to: people[0].templates, source: TemplateRefreshPolicy.source(at: at, device: "d-1"),
                model: nil)
            return verdict
        }
        #expect(offer(point(0, [10: 0.25]), day: 0) == .add(replacing: nil))
        guard case .refuse(let soon) = offer(point(0, [11: 0.25]), day: 3) else {
            Issue.record("a second template within a week was added")
            return
        }
        #expect(soon.contains("hours ago"))
        #expect(offer(point(0, [11: 0.25]), day: 7) == .add(replacing: nil))
        #expect(offer(point(0, [12: 0.25]), day: 14) == .add(replacing: nil))
        // The fourth replaces the oldest added one (index 1: the enrolled one is index 0 and stays).
        #expect(offer(point(0, [13: 0.25]), day: 21) == .add(replacing: 1))
        #expect(people[0].templates.count == 4)
        #expect(people[0].templates[0].source == "ada.jpg")
        #expect(people[0].templates.filter(TemplateRefreshPolicy.isAdded).count == 3)
        #expect(TemplateRefreshPolicy.addedAt(people[0].templates[3]) == start + 21 * 86_400)
        // A walk away from the enrollment: each step near the last added template, but the guard measures
        // from the enrolled one, so the walk stops at 0.3.
        var added: [Float] = []
        for step in 1...12 {
            let offset = Float(step) * 0.05
            if case .add = offer(point(0, [20: offset]), day: 28 + 7 * Double(step)) { added.append(offset) }
        }
        #expect(!added.isEmpty && added.allSatisfy { $0 <= 0.3 })
        let enrolled = people[0].templates[0].encoding
        #expect(
            people[0].templates.allSatisfy { TemplateRefreshPolicy.distance($0.encoding, enrolled) <= 0.3 + 1e-5 })
    }
}
