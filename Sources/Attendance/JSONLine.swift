import Foundation

/// One JSON object on one line, through `Codable`: keys sorted (the same value always gives the same
/// bytes), slashes not escaped. What `replay --json`, the technician's `/status` and the signage page's
/// events carry.
public enum JSONLine {
    /// `value` as one line of JSON. A value that cannot be encoded (a non-finite number) is a programming
    /// error: it is written as `{}` rather than stopping the door.
    public static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
