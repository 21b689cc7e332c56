import Attendance
public import Foundation
public import Recognition

/// Whether a person's face may be used for check-in. Only `granted` lets the hub hold face templates and
/// send them to doors; everyone else checks in with a badge or is marked by staff.
public enum ConsentState: String, Sendable, Codable, CaseIterable {
    /// Consent given (by a guardian, or by the person themself).
    case granted
    /// Consent given once and taken back: the templates are erased.
    case withdrawn
    /// Asked and refused, or objected to: no templates are taken.
    case refused
}

/// Who gave (or withdrew, or refused) the consent.
public enum ConsentGiver: String, Sendable, Codable, CaseIterable {
    /// A parent or guardian, for a child.
    case guardian
    /// The person themself (an adult, or a student old enough under the school's rules).
    case `self`
    /// Not recorded: consent the hub was told of before it kept consent (a database from an earlier
    /// version). Only the migration writes it; the school confirms such people on the people page.
    case unrecorded
}

/// One consent decision as recorded: the state, who gave it, when, and the evidence (the reference of the
/// signed form or message, never the form itself).
public struct ConsentRecord: Sendable, Codable, Equatable {
    public var person: String
    public var state: ConsentState
    public var givenBy: ConsentGiver
    /// When the consent was given (or withdrawn), as the evidence says.
    public var at: Date
    /// The reference of the evidence: "form 2026-114", "email from guardian, 3 Sep", ...
    public var evidence: String
    /// Who recorded it: `user:<username>`, `token:<id>`, `cli`, or `migration`.
    public var recordedBy: String

    public init(
        person: String, state: ConsentState, givenBy: ConsentGiver, at: Date, evidence: String, recordedBy: String
    ) {
        self.person = person
        self.state = state
        self.givenBy = givenBy
        self.at = at
        self.evidence = evidence
        self.recordedBy = recordedBy
    }

    enum CodingKeys: String, CodingKey {
        case person, state, at, evidence
        case givenBy = "given_by"
        case recordedBy = "recorded_by"
    }

    /// `at` as an ISO 8601 time, like every time on the hub's API.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(person, forKey: .person)
        try container.encode(state, forKey: .state)
        try container.encode(givenBy, forKey: .givenBy)
        try container.encode(ISO8601Time.format(at), forKey: .at)
        try container.encode(evidence, forKey: .evidence)
        try container.encode(recordedBy, forKey: .recordedBy)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        person = try container.decode(String.self, forKey: .person)
        state = try container.decode(ConsentState.self, forKey: .state)
        givenBy = try container.decode(ConsentGiver.self, forKey: .givenBy)
        let text = try container.decode(String.self, forKey: .at)
        guard let time = ISO8601Time.parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: .at, in: container, debugDescription: "not an ISO 8601 time")
        }
        at = time
        evidence = try container.decode(String.self, forKey: .evidence)
        recordedBy = try container.decode(String.self, forKey: .recordedBy)
    }

    /// What the migration records for someone who had templates before the hub kept consent.
    static func fromBeforeConsent(_ person: String, at: Date) -> ConsentRecord {
        ConsentRecord(
            person: person, state: .granted, givenBy: .unrecorded, at: at,
            evidence: "templates held before rollcall kept consent: confirm with the school's records",
            recordedBy: "migration")
    }

    /// `validated()`, and about `person`.
    func validated(for person: String) throws(HubError) -> ConsentRecord {
        guard self.person == person else {
            throw HubError(.badRequest, "the consent is about \(self.person), the record about \(person)")
        }
        return try validated()
    }

    /// Checks the evidence reference: 1 to 300 characters, no control characters.
    public func validated() throws(HubError) -> ConsentRecord {
        var copy = self
        copy.evidence = evidence.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !copy.evidence.isEmpty else {
            throw HubError(.badRequest, "consent needs its evidence: the reference of the signed form or message")
        }
        guard copy.evidence.count <= 300, !copy.evidence.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw HubError(.badRequest, "the evidence reference has at most 300 characters and no control characters")
        }
        guard !person.isEmpty else { throw HubError(.badRequest, "consent needs a person") }
        guard givenBy != .unrecorded else {
            throw HubError(.badRequest, "say who gave the consent: guardian or self")
        }
        return copy
    }
}

/// A person as the people page lists them: no templates, only how many there are.
public struct PersonListing: Sendable, Equatable {
    public var person: Person
    /// The current consent state; nil when none was ever recorded.
    public var consent: ConsentState?
    public var templates: Int
}

/// Consent, and the erasure it commands.
public protocol ConsentStorage: Sendable {
    /// Records a consent decision (the person must exist). `granted` allows templates from now on;
    /// `withdrawn` and `refused` erase the person's templates in the same transaction and take them out
    /// of every door's gallery with its next delta. Returns the gallery version after it.
    @discardableResult
    func recordConsent(_ record: ConsentRecord) async throws(HubError) -> Int64
    /// Every consent decision recorded for `person`, oldest first (the last is the current state).
    func consentHistory(_ person: String) async throws(HubError) -> [ConsentRecord]
    /// Everyone the hub has a record of, by id, with their consent state and template count.
    func people() async throws(HubError) -> [PersonListing]
    /// Seals a value under the hub's data key for a round trip through a browser (an enrollment waiting
    /// to be confirmed): the browser can neither read nor change it, and any hub process can open it.
    func sealForBrowser(_ value: Data) throws(HubError) -> Data
    /// Opens what `sealForBrowser` sealed; throws when it was changed or sealed under another key.
    func openFromBrowser(_ value: Data) throws(HubError) -> Data
}

extension GalleryDocument.Entry {
    /// The entry with its templates erased (what is kept of a person whose consent ended).
    var withoutTemplates: GalleryDocument.Entry {
        var copy = self
        copy.templates = []
        return copy
    }
}

extension HubError {
    /// Templates offered for someone without consent on record.
    public static func noConsent(_ person: String, _ state: ConsentState?) -> HubError {
        HubError(
            .conflict,
            "person \(person) has \(state.map { "\($0.rawValue) consent" } ?? "no consent on record") for face "
                + "check-in: record a guardian's (or their own) consent first, or check them in by badge")
    }
}
