/// The faces a door knows: people and their templates (128-d encodings), the templates in one
/// contiguous Float32 matrix so that a search streams through memory once, and a copy quantized to
/// 8 bits that a search of a large gallery streams instead (a quarter of the bytes; see `Matcher`).
public struct Gallery: Sendable {
    /// Values in a template.
    public static let dimensions = 128

    /// Person ids, by index; a template's owner is an index into this list.
    public private(set) var personIDs: [String] = []
    private var personIndex: [String: Int32] = [:]
    /// `count * 128` floats, template after template.
    public private(set) var matrix: [Float] = []
    /// The person index of each template.
    public private(set) var owners: [Int32] = []
    /// `count * 128` values: each template value times `quantizationScale`, rounded.
    public private(set) var quantized: [Int8] = []
    /// Quantized units per unit: 127 over the largest magnitude of any template value.
    public private(set) var quantizationScale: Float = 0

    /// An empty gallery.
    public init() {}

    /// Number of templates.
    public var count: Int { owners.count }

    /// The index of a person, if the gallery has them.
    public func index(of person: String) -> Int32? { personIndex[person] }

    /// Adds templates of a person (several per person are normal: different days, light, glasses).
    public mutating func add(person: String, templates: [[Float]]) {
        precondition(templates.allSatisfy { $0.count == Self.dimensions }, "a template has 128 values")
        let index: Int32
        if let known = personIndex[person] {
            index = known
        } else {
            index = Int32(personIDs.count)
            personIDs.append(person)
            personIndex[person] = index
        }
        for template in templates {
            matrix += template
            owners.append(index)
        }
        let largest = templates.lazy.flatMap { $0 }.reduce(Float(0)) { max($0, abs($1)) }
        if largest * quantizationScale > 127 || quantizationScale == 0 {
            // A larger value than any before: a new scale, and every template quantized again.
            quantizationScale = largest > 0 ? 127 / largest : 0
            quantized = matrix.map(quantize)
        } else {
            quantized += templates.lazy.flatMap { $0 }.map(quantize)
        }
    }

    /// One value in quantized units, rounded to nearest.
    func quantize(_ value: Float) -> Int8 {
        Int8(max(-127, min(127, (value * quantizationScale).rounded())))
    }

    /// Removes a person and every template of theirs.
    public mutating func remove(person: String) {
        guard let index = personIndex[person] else { return }
        var keptMatrix: [Float] = []
        var keptQuantized: [Int8] = []
        var keptOwners: [Int32] = []
        keptMatrix.reserveCapacity(matrix.count)
        keptQuantized.reserveCapacity(quantized.count)
        for (row, owner) in owners.enumerated() where owner != index {
            keptMatrix += matrix[(row * Self.dimensions)..<((row + 1) * Self.dimensions)]
            keptQuantized += quantized[(row * Self.dimensions)..<((row + 1) * Self.dimensions)]
            keptOwners.append(owner > index ? owner - 1 : owner)
        }
        matrix = keptMatrix
        quantized = keptQuantized
        owners = keptOwners
        personIDs.remove(at: Int(index))
        personIndex = Dictionary(uniqueKeysWithValues: personIDs.enumerated().map { ($1, Int32($0)) })
    }
}
