import Attendance
import Foundation
import Recognition
import Testing

/// 128 values: `head` first, then a fixed filler.
private func encoding(_ head: [Float] = []) -> [Float] {
    head + (0..<(128 - head.count)).map { Float($0) / 256 }
}

/// A gallery file's text with the given header and one person's entry (or `people` verbatim).
private func galleryJSON(
    format: String = "\"rollcall-gallery\"", version: String = "1", model: String = "\"dlib_resnet_v1\"",
    people: String
) -> Data {
    Data(#"{"format": \#(format), "version": \#(version), "model": \#(model), "people": [\#(people)]}"#.utf8)
}

/// One person's entry with one template whose encoding is written as `values` (JSON text).
private func entryJSON(id: String = "p-1", encoding values: String) -> String {
    #"{"id": "\#(id)", "name": "Ada", "role": "student", "groups": ["7B"], "#
        + #""templates": [{"source": "ada.jpg", "encoding": [\#(values)]}]}"#
}

/// The encoding's JSON text: `count` numbers.
private func numbers(_ count: Int) -> String {
    (0..<count).map { "\(Float($0) / 256)" }.joined(separator: ", ")
}

/// The message `decode` throws for this file, or nil when it reads.
private func decodeError(_ data: Data) -> String? {
    do {
        _ = try GalleryDocument.decode(data)
        return nil
    } catch {
        return error.message
    }
}

struct GalleryDocumentTests {
    @Test("saving and loading keeps every Float32 of an encoding bit for bit")
    func roundTripIsBitExact() throws {
        let awkward: [Float] = [
            0.1, 1e-7, -0.3333333, .ulpOfOne, -0.0, 0, 1, -1, 0.2, 0.7, 1.0 / 3, 123_456.79, 3.4e38,
            .leastNormalMagnitude, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
            Float(0.1).nextUp, Float(0.1).nextDown, Float(1).nextUp, Float(1).nextDown,
        ]
        var random = Templates(state: 21)
        var document = GalleryDocument()
        document.enroll(
            Person(id: "p-1", name: "Ada", role: .student, groups: ["7B"]),
            templates: [
                .init(source: "ada.jpg", encoding: encoding(awkward)),
                .init(source: nil, encoding: random.next()),
            ])
        document.enroll(
            Person(id: "p-2", name: "Ben", role: .volunteer), templates: [.init(source: nil, encoding: random.next())])

        let loaded = try GalleryDocument.decode(try document.encoded())
        #expect(loaded == document)
        for (saved, read) in zip(document.people, loaded.people) {
            for (a, b) in zip(saved.templates, read.templates) {
                #expect(a.encoding.map(\.bitPattern) == b.encoding.map(\.bitPattern))
            }
        }
        // Saving what was loaded gives the same bytes.
        #expect(try loaded.encoded() == document.encoded())
    }

    @Test("encodings are written as the shortest decimal that reads back as the same Float32")
    func shortestDecimals() throws {
        var document = GalleryDocument()
        document.enroll(
            Person(id: "p-1", name: "Ada", role: .student),
            templates: [.init(source: nil, encoding: encoding([0.1, 1e-7, -0.3333333]))])
        let text = try #require(String(data: try document.encoded(), encoding: .utf8))
        #expect(text.contains("0.1,"))
        #expect(text.contains("1e-07,") || text.contains("1e-7,"))
        #expect(text.contains("-0.3333333,"))
        #expect(!text.contains("0.100000001"))
    }

    @Test("the file names its format, version and model, with sorted keys")
    func fileHeader() throws {
        let document = GalleryDocument()
        #expect(document.format == "rollcall-gallery" && document.version == 1 && document.model == "dlib_resnet_v1")
        let text = try #require(String(data: try document.encoded(), encoding: .utf8))
        #expect(text.contains(#""format" : "rollcall-gallery""#))
        #expect(text.contains(#""model" : "dlib_resnet_v1""#))
        #expect(text.contains(#""version" : 1"#))
        let keys = ["format", "model", "people", "version"].compactMap { text.range(of: "\"\($0)\"")?.lowerBound }
        #expect(keys.count == 4 && keys == keys.sorted())
        #expect(try GalleryDocument.decode(try document.encoded()) == document)
    }

    @Test("enrolling someone already in the gallery adds templates and updates their name, role and groups")
    func enrollExistingPerson() throws {
        var random = Templates(state: 2)
        let (first, second, third) = (random.next(), random.next(), random.next())
        var document = GalleryDocument()
        document.enroll(
            Person(id: "p-1", name: "Ada", role: .student, groups: ["7B"]),
            templates: [.init(source: "a.jpg", encoding: first)])
        document.enroll(
            Person(id: "p-2", name: "Ben", role: .student), templates: [.init(source: nil, encoding: third)])
        document.enroll(
            Person(id: "p-1", name: "Ada L.", role: .volunteer, groups: ["8A", "club"]),
            templates: [.init(source: "b.jpg", encoding: second)])

        #expect(document.people.map(\.id) == ["p-1", "p-2"])
        let ada = try #require(document.people.first)
        #expect(ada.templates.map(\.encoding) == [first, second])
        #expect(ada.templates.map(\.source) == ["a.jpg", "b.jpg"])
        #expect(document.person("p-1") == Person(id: "p-1", name: "Ada L.", role: .volunteer, groups: ["8A", "club"]))
        #expect(document.person("p-2") == Person(id: "p-2", name: "Ben", role: .student, groups: []))
        #expect(document.person("p-3") == nil)
    }

    @Test("the gallery it builds lets the matcher find each person, and leaves out people without templates")
    func buildsGallery() throws {
        var random = Templates(state: 8)
        let faces = (0..<3).map { _ in random.next() }
        var document = GalleryDocument()
        document.enroll(
            Person(id: "ada", name: "Ada", role: .student), templates: [.init(source: nil, encoding: faces[0])])
        document.enroll(Person(id: "nobody", name: "No Photo", role: .staff), templates: [])
        document.enroll(
            Person(id: "ben", name: "Ben", role: .student),
            templates: [.init(source: nil, encoding: faces[1]), .init(source: nil, encoding: faces[2])])

        let gallery = document.gallery
        #expect(gallery.personIDs == ["ada", "ben"])
        #expect(gallery.count == 3)
        #expect(gallery.index(of: "nobody") == nil)
        #expect(Matcher.match(faces[0], in: gallery)?.person == "ada")
        #expect(Matcher.match(faces[2], in: gallery)?.person == "ben")
        #expect(Matcher.match(faces[2], in: gallery)?.distance == 0)
        #expect(Matcher.match(faces[1].map { $0 * 0.99 }, in: gallery)?.person == "ben")
    }

    @Test("a valid file written by hand reads, with an optional template source")
    func readsHandWrittenFile() throws {
        let data = galleryJSON(
            people: #"{"id": "p-1", "name": "Ada", "role": "staff", "groups": [], "#
                + #""templates": [{"encoding": [\#(numbers(128))]}]}"#)
        let document = try GalleryDocument.decode(data)
        #expect(document.person("p-1") == Person(id: "p-1", name: "Ada", role: .staff))
        #expect(document.people.first?.templates.first?.source == nil)
        #expect(document.people.first?.templates.first?.encoding == encoding())
    }

    @Test("bytes that are not JSON are refused as not a gallery file")
    func notJSON() throws {
        for data in [Data("hello".utf8), Data(), Data("{\"format\": ".utf8)] {
            let message = try #require(decodeError(data))
            #expect(message.contains("not a gallery file"))
            #expect(message.contains("not valid JSON"))
        }
    }

    @Test("another format is refused, naming the format found")
    func wrongFormat() throws {
        let message = try #require(decodeError(galleryJSON(format: "\"some-other-list\"", people: "")))
        #expect(message.contains("not a gallery file"))
        #expect(message.contains(#"format is "some-other-list""#))
    }

    @Test("version 2 is refused, naming both versions")
    func version2() throws {
        let message = try #require(decodeError(galleryJSON(version: "2", people: "")))
        #expect(message.contains("version 2 is not supported"))
        #expect(message.contains("reads version 1"))
        #expect(decodeError(galleryJSON(version: "0", people: ""))?.contains("version 0") == true)
    }

    @Test("encodings of another face model are refused: re-enroll")
    func otherModel() throws {
        let message = try #require(decodeError(galleryJSON(model: "\"facenet_512\"", people: "")))
        #expect(message.contains(#""facenet_512""#))
        #expect(message.contains(#""dlib_resnet_v1""#))
        #expect(message.contains("re-enroll"))
    }

    @Test("a person listed twice is refused, naming them")
    func duplicateID() throws {
        let entry = entryJSON(id: "p-7", encoding: numbers(128))
        let message = try #require(decodeError(galleryJSON(people: entry + ", " + entry)))
        #expect(message.contains("person p-7 appears twice"))

        // The same check holds for a document built in memory and saved.
        var document = GalleryDocument()
        document.enroll(Person(id: "p-7", name: "Ada", role: .student), templates: [])
        document.people.append(document.people[0])
        #expect(decodeError(try document.encoded())?.contains("p-7 appears twice") == true)
    }

    @Test("an empty id is refused, naming the entry's position")
    func emptyID() throws {
        let people = entryJSON(id: "p-1", encoding: numbers(128)) + ", " + entryJSON(id: "", encoding: numbers(128))
        let message = try #require(decodeError(galleryJSON(people: people)))
        #expect(message.contains("people[1] has an empty id"))
    }

    @Test("an encoding of 127 or 129 values is refused, naming the person and template", arguments: [0, 127, 129])
    func wrongLength(count: Int) throws {
        let people =
            #"{"id": "p-3", "name": "Ada", "role": "student", "groups": [], "templates": ["#
            + #"{"encoding": [\#(numbers(128))]}, {"encoding": [\#(numbers(count))]}]}"#
        let message = try #require(decodeError(galleryJSON(people: people)))
        #expect(message.contains("person p-3, template 1"))
        #expect(message.contains("128 finite values"))
    }

    @Test("a value too large for a Float32 (JSON has no NaN or infinity) is refused as not a gallery file")
    func nonFiniteValue() throws {
        // Foundation reports a number out of Float's range as invalid JSON, without saying where.
        for huge in ["1e999", "-1e999", "1e39"] {
            let values = numbers(5) + ", \(huge), " + numbers(122)
            let message = try #require(decodeError(galleryJSON(people: entryJSON(encoding: values))), "\(huge)")
            #expect(message.hasPrefix("not a gallery file"), "\(huge)")
        }
        // NaN and infinity written as strings are not numbers.
        for word in [#""NaN""#, #""inf""#] {
            let values = numbers(5) + ", \(word), " + numbers(122)
            let message = try #require(decodeError(galleryJSON(people: entryJSON(encoding: values))), "\(word)")
            #expect(message.contains("people[0].templates[0].encoding[5]"), "\(word): \(message)")
        }
        // The largest Float32 is finite and reads.
        let values = numbers(5) + ", 3.4028235e38, " + numbers(122)
        #expect(decodeError(galleryJSON(people: entryJSON(encoding: values))) == nil)
    }

    @Test("a missing field is refused, naming the field and where it is missing")
    func missingField() throws {
        let noName = #"{"id": "p-1", "role": "student", "groups": [], "templates": []}"#
        let message = try #require(decodeError(galleryJSON(people: noName)))
        #expect(message.contains("not a gallery file"))
        #expect(message.contains(#"missing "name" at people[0]"#))

        let noEncoding = #"{"id": "p-1", "name": "Ada", "role": "student", "groups": [], "templates": [{}]}"#
        #expect(
            decodeError(galleryJSON(people: noEncoding))?.contains(#"missing "encoding" at people[0].templates[0]"#)
                == true)

        let noModel = Data(#"{"format": "rollcall-gallery", "version": 1, "people": []}"#.utf8)
        #expect(decodeError(noModel)?.contains(#"missing "model" at top level"#) == true)
    }

    @Test("a field of the wrong type or an unknown role is refused, naming where it is")
    func wrongType() throws {
        let message = try #require(decodeError(galleryJSON(version: "\"1\"", people: "")))
        #expect(message.contains("not a gallery file") && message.contains("version"))

        let badRole = #"{"id": "p-1", "name": "Ada", "role": "teacher", "groups": [], "templates": []}"#
        let roleMessage = try #require(decodeError(galleryJSON(people: badRole)))
        #expect(roleMessage.contains("people[0].role"))
    }

    @Test("an error's description is its message")
    func errorDescription() {
        let error = GalleryError("person p-1 appears twice")
        #expect(error.description == "person p-1 appears twice")
        #expect("\(error)" == "person p-1 appears twice")
    }

    @Test("a template holding NaN or infinity is never written: encoding throws and names the template")
    func notFiniteIsNotSaved() {
        var document = GalleryDocument()
        var values = [Float](repeating: 0.01, count: 128)
        values[5] = .nan
        document.enroll(
            Person(id: "p-1", name: "Ada", role: .student),
            templates: [GalleryDocument.Template(source: "a.jpg", encoding: values)])
        #expect {
            _ = try document.encoded()
        } throws: { error in
            (error as? GalleryError)?.message.contains("person p-1, template 0") == true
                && (error as? GalleryError)?.message.contains("not finite") == true
        }
    }
}
