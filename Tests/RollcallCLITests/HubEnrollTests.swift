import Foundation
import Hub
import Recognition
import SyncProtocol
import TestSupport
import Testing

/// Enrollment on the hub: the same vision core and the same refusals as at the door's CLI.
@Suite(.enabled(if: TestResources.fixturesEnabled && TestResources.modelsEnabled, "needs the fixtures and models"))
struct HubEnrollTests {
    @Test(
        "rollcall-hub import people: a report line per row, each refused photo with its reason, templates with the model id"
    )
    func importPeople() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("hub.sqlite").path
        _ = try SQLiteHubStorage(path: db)
        let csv = folder.appendingPathComponent("people.csv")
        try Data(
            """
            id,name,role,groups,photos,consent,evidence
            p-obama,Barack Obama,student,7B,obama.jpg;obama2.jpg,guardian,form 2026-14
            p-biden,Joe Biden,student,7B;8A,biden.jpg,self,form 2026-15
            p-two,Two People,student,7B,two_people.jpg,guardian,form 2026-16
            p-missing,Nobody,student,7B,nothere.jpg,guardian,form 2026-17
            v-ada,Ada,volunteer,,,,
            p-bad,Bad Role,teacher,7B,,,
            p-noconsent,No Consent,student,7B,obama3.jpg,,
            p-noevidence,No Evidence,student,7B,obama3.jpg,guardian,

            """.utf8
        ).write(to: csv)
        let run = try await runRollcall(
            ["import", "people", csv.path, "--photos", TestResources.faces.path, "--db", db], executable: "rollcall-hub"
        )
        let lines = run.out.split(separator: "\n").map { String($0.split(separator: " ", maxSplits: 1).last ?? "") }
        #expect(run.status == 1, "\(run.out)\(run.err)")
        #expect(
            lines == [
                "p-obama: 2 of 2 photos enrolled", "p-biden: 1 of 1 photos enrolled",
                "p-two: nothing stored; refused two_people.jpg: 2 faces found: use a photo with exactly one face",
                "p-missing: nothing stored; refused nothere.jpg: no such file",
                "v-ada: 0 of 0 photos enrolled",
                "refused: id and name are required, role is student, volunteer or staff",
                "p-noconsent: nothing stored; refused person p-noconsent has no consent on record for face check-in: "
                    + "record a guardian's (or their own) consent first, or check them in by badge",
                "refused: consent needs its evidence: the reference of the signed form or message",
                "of 8 people stored, 8 problems",
            ], "\(run.out)")
        let store = try SQLiteHubStorage(path: db)
        #expect(try await store.people().map(\.person.id) == ["p-biden", "p-obama", "v-ada"])
        #expect(try await store.consentHistory("p-obama").map(\.evidence) == ["form 2026-14"])
        #expect(try await store.consentHistory("p-biden").map(\.givenBy) == [.self])
        let people = try await store.galleryDelta(since: 0).upserts
        #expect(people.map(\.id).sorted() == ["p-biden", "p-obama"])
        let obama = try #require(people.first { $0.id == "p-obama" })
        #expect(obama.templates.count == 2 && obama.templates.allSatisfy { $0.model == "dlib_resnet_v1" })
        #expect(people.first { $0.id == "p-biden" }?.groups == ["7B", "8A"])

        // Another photo of Obama under another id is refused: the face is someone else's already.
        let again = try await runRollcall(
            [
                "enroll", "--db", db, "--person", "p-other", "--name", "Other", "--consent", "guardian", "--evidence",
                "form 9",
                TestResources.faces.appendingPathComponent("obama3.jpg").path,
            ], executable: "rollcall-hub")
        #expect(again.status == 1 && again.out.contains("this face is already enrolled as p-obama"), "\(again.out)")
        // Re-enrolling with --replace replaces the templates, and the gallery's version moves on for the doors.
        let before = try await store.galleryDelta(since: 0).version
        let replaced = try await runRollcall(
            [
                "enroll", "--db", db, "--person", "p-obama", "--name", "Barack Obama", "--group", "7B", "--replace",
                TestResources.faces.appendingPathComponent("obama3.jpg").path,
            ], executable: "rollcall-hub")
        #expect(replaced.status == 0, "\(replaced.out)\(replaced.err)")
        let delta = try await store.galleryDelta(since: before)
        #expect(delta.upserts.map(\.id) == ["p-obama"] && delta.upserts[0].templates.map(\.source) == ["obama3.jpg"])
    }
}
