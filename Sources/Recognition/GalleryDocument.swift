public import Attendance
public import Foundation

/// Someone the door knows. The id is opaque; the name stays in the gallery and never goes on the wire.
public struct Person: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var role: PersonRole
    /// Classes or cohorts the person belongs to.
    public var groups: [String]

    /// A person record.
    public init(id: String, name: String, role: PersonRole, groups: [String] = []) {
        self.id = id
        self.name = name
        self.role = role
        self.groups = groups
    }
}

/// A local gallery file: people and their face templates, as JSON.
///
/// ```json
/// {"format": "rollcall-gallery", "version": 1, "model": "dlib_resnet_v1",
///  "people": [{"id": "p-1", "name": "Ada", "role": "student", "groups": ["7B"],
///              "templates": [{"source": "ada-2026.jpg", "encoding": [0.01, ...128 values]}]}]}
/// ```
/// Encodings are written with the shortest decimal that reads back as the same Float32, so a
/// template survives a save and a load bit for bit.
public struct GalleryDocument: Sendable, Codable, Equatable {
    /// The value of `format`.
    public static let formatName = "rollcall-gallery"
    /// The version this code writes and reads.
    public static let currentVersion = 1
    /// The face model whose encodings the gallery holds.
    public static let modelID = "dlib_resnet_v1"

    /// One face template of a person.
    public struct Template: Sendable, Codable, Equatable {
        /// Where it came from (an image file name), for the people who curate the gallery.
        public var source: String?
        /// The 128-value face encoding.
        public var encoding: [Float]
        /// The face model that computed it (`dlib_resnet_v1`); nil in galleries written before it was kept.
        public var model: String?

        /// A template.
        public init(source: String?, encoding: [Float], model: String? = nil) {
            self.source = source
            self.encoding = encoding
            self.model = model
        }
    }

    /// A person and their templates.
    public struct Entry: Sendable, Codable, Equatable {
        public var id: String
        public var name: String
        public var role: PersonRole
        public var groups: [String]
        public var templates: [Template]

        /// The person part of the entry.
        public var person: Person { Person(id: id, name: name, role: role, groups: groups) }
    }

    public var format: String
    public var version: Int
    public var model: String
    public var people: [Entry]

    /// An empty gallery.
    public init() {
        format = Self.formatName
        version = Self.currentVersion
        model = Self.modelID
        people = []
    }

    /// Reads a gallery file's bytes and checks every template.
    public static func decode(_ data: Data) throws(GalleryError) -> GalleryDocument {
        let document: GalleryDocument
        do {
            document = try JSONDecoder().decode(GalleryDocument.self, from: data)
        } catch let error as DecodingError {
            throw GalleryError("not a gallery file: \(error.humanDescription)")
        } catch {
            throw GalleryError("not a gallery file: \(error)")
        }
        guard document.format == formatName else {
            throw GalleryError("not a gallery file: format is \"\(document.format)\", not \"\(formatName)\"")
        }
        guard document.version == currentVersion else {
            throw GalleryError(
                "gallery version \(document.version) is not supported (this rollcall reads version \(currentVersion))")
        }
        guard document.model == modelID else {
            throw GalleryError(
                "the gallery holds \"\(document.model)\" encodings; this rollcall computes \"\(modelID)\": re-enroll")
        }
        var seen = Set<String>()
        for (index, entry) in document.people.enumerated() {
            guard !entry.id.isEmpty else { throw GalleryError("people[\(index)] has an empty id") }
            guard seen.insert(entry.id).inserted else { throw GalleryError("person \(entry.id) appears twice") }
            for (number, template) in entry.templates.enumerated() {
                guard template.encoding.count == Gallery.dimensions, template.encoding.allSatisfy(\.isFinite) else {
                    throw GalleryError(
                        "person \(entry.id), template \(number): an encoding has \(Gallery.dimensions) finite values, "
                            + "this one has \(template.encoding.count)"
                            + (template.encoding.allSatisfy(\.isFinite) ? "" : " and some are not finite"))
                }
                if let model = template.model, model != modelID {
                    throw GalleryError(
                        "person \(entry.id), template \(number) was computed by \"\(model)\", not \"\(modelID)\": re-enroll"
                    )
                }
            }
        }
        return document
    }

    /// The file's bytes: pretty-printed, keys sorted, one line per person's field.
    /// - Throws: `GalleryError` when a template holds a value JSON cannot carry (NaN, infinity), so
    ///   that a damaged template is never saved as an empty or unreadable file.
    public func encoded() throws(GalleryError) -> Data {
        for entry in people {
            for (number, template) in entry.templates.enumerated() where !template.encoding.allSatisfy(\.isFinite) {
                throw GalleryError(
                    "person \(entry.id), template \(number): an encoding holds a value that is not finite")
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(self)
        } catch {
            throw GalleryError("the gallery cannot be written as JSON: \(error)")
        }
    }

    /// Adds templates to a person, creating them or updating their name, role and groups.
    public mutating func enroll(_ person: Person, templates: [Template]) {
        if let index = people.firstIndex(where: { $0.id == person.id }) {
            people[index].name = person.name
            people[index].role = person.role
            people[index].groups = person.groups
            people[index].templates += templates
        } else {
            people.append(
                Entry(id: person.id, name: person.name, role: person.role, groups: person.groups, templates: templates))
        }
    }

    /// The person with this id.
    public func person(_ id: String) -> Person? { people.first { $0.id == id }?.person }

    /// The matrix the matcher searches.
    public var gallery: Gallery {
        var gallery = Gallery()
        for entry in people where !entry.templates.isEmpty {
            gallery.add(person: entry.id, templates: entry.templates.map(\.encoding))
        }
        return gallery
    }
}

/// A gallery file that cannot be used, and why.
public struct GalleryError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, for a human.
    public var message: String

    /// An error with a message.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

extension DecodingError {
    /// "missing \"name\" at people[0]" rather than Foundation's debug dump; for any JSON a human wrote.
    public var humanDescription: String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch self {
        case .keyNotFound(let key, let context):
            return
                "missing \"\(key.stringValue)\" at \(path(context.codingPath).isEmpty ? "top level" : path(context.codingPath))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(context.debugDescription) at \(path(context.codingPath))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "the file is not valid JSON" : "\(context.debugDescription) at \(path(context.codingPath))"
        @unknown default:
            return "\(self)"
        }
    }
}
