import Attendance
import Recognition
import Testing

/// A gallery entry for `id` named `name`, with one template whose first value is `mark`.
private func entry(_ id: String, _ name: String = "", mark: Float = 0) -> GalleryDocument.Entry {
    var document = GalleryDocument()
    document.enroll(
        Person(id: id, name: name.isEmpty ? id : name, role: .student, groups: ["7B"]),
        templates: [GalleryDocument.Template(source: nil, encoding: [mark] + Array(repeating: 0, count: 127))])
    return document.people[0]
}

/// A gallery holding these people, in this order.
private func gallery(_ ids: [String]) -> GalleryDocument {
    var document = GalleryDocument()
    document.people = ids.map { entry($0) }
    return document
}

struct GalleryChangesTests {
    @Test("an upsert replaces the person with its id and moves them to the end; a new person joins at the end")
    func upserts() {
        var document = gallery(["p-1", "p-2", "p-3"])
        let removed = document.apply(
            upserts: [entry("p-2", "Ada", mark: 0.5), entry("p-4")], removals: [], reset: false)
        #expect(removed == 0, "a replaced person has not left")
        #expect(document.people.map(\.id) == ["p-1", "p-3", "p-2", "p-4"])
        #expect(document.people[2] == entry("p-2", "Ada", mark: 0.5))
        #expect(document.people.filter { $0.id == "p-2" }.count == 1)
    }

    @Test("a removal takes the person out and counts them; an id the gallery does not hold counts for nothing")
    func removals() {
        var document = gallery(["p-1", "p-2", "p-3"])
        #expect(document.apply(upserts: [], removals: ["p-2", "p-9"], reset: false) == 1)
        #expect(document.people.map(\.id) == ["p-1", "p-3"])
    }

    @Test("an id both upserted and removed in the same changes is kept, as upserted")
    func upsertWinsOverRemoval() {
        var document = gallery(["p-1", "p-2"])
        #expect(document.apply(upserts: [entry("p-2", "Ada")], removals: ["p-2"], reset: false) == 0)
        #expect(document.people.map(\.id) == ["p-1", "p-2"] && document.people[1].name == "Ada")
    }

    @Test("a reset (the scope changed) keeps only the people it lists; whoever else was held has left")
    func reset() {
        var document = gallery(["p-1", "p-2", "p-3", "p-4"])
        let removed = document.apply(upserts: [entry("p-3"), entry("p-5")], removals: [], reset: true)
        #expect(removed == 3, "p-1, p-2 and p-4 left; p-3 was replaced, p-5 joined")
        #expect(document.people.map(\.id) == ["p-3", "p-5"])
    }

    @Test("a reset listing nobody empties the gallery; changes with nothing in them change nothing")
    func emptyChanges() {
        var unchanged = gallery(["p-1", "p-2"])
        #expect(unchanged.apply(upserts: [], removals: [], reset: false) == 0)
        #expect(unchanged == gallery(["p-1", "p-2"]))

        var emptied = gallery(["p-1", "p-2"])
        #expect(emptied.apply(upserts: [], removals: [], reset: true) == 2)
        #expect(emptied.people.isEmpty)
    }
}
