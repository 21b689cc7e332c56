public import Foundation

/// Why a sessions file could not be read, with the place in the document and what to change.
public struct ScheduleError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// What kind of problem it is.
    public enum Code: String, Sendable, Equatable, CaseIterable {
        /// The data is not JSON at all (or empty).
        case notJSON = "not_json"
        /// A required field is absent or null.
        case missingField = "missing_field"
        /// A field holds the wrong kind of JSON value (a number where a string belongs, and so on).
        case wrongType = "wrong_type"
        /// A timestamp is not ISO 8601 with a time zone.
        case invalidTime = "invalid_time"
        /// A value has the right type but is unusable (a negative duration, an empty id).
        case invalidValue = "invalid_value"
        /// A session ends before it starts.
        case endBeforeStart = "end_before_start"
        /// Two sessions share an id.
        case duplicateSessionID = "duplicate_session_id"
    }

    /// What kind of problem it is.
    public var code: Code
    /// Where in the document, such as `sessions[1].start`; empty when the problem is the whole document.
    public var path: String
    /// What happened and what to do, starting with the path.
    public var message: String

    /// Makes an error; `message` should start with `path` when there is one.
    public init(code: Code, path: String, message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    /// The message.
    public var description: String { message }

    /// The message, for `localizedDescription`.
    public var errorDescription: String? { message }
}

extension ScheduleError {
    /// `sessions[1].start` for a coding path.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return text
    }

    /// Translates the JSON decoder's error into one that names the field and the fix.
    init(_ error: DecodingError, data: Data) {
        switch error {
        case .keyNotFound(let key, let context):
            let path = Self.path(context.codingPath + [key])
            self.init(code: .missingField, path: path, message: "\(path) is missing: \(Self.needs(context.codingPath))")
        case .valueNotFound(_, let context):
            let path = Self.path(context.codingPath)
            self.init(
                code: .missingField, path: path,
                message: "\(path) is null: \(Self.needs(context.codingPath.dropLast()))")
        case .typeMismatch(let type, let context):
            let path = Self.path(context.codingPath)
            let expected = Self.describe(type, at: context.codingPath)
            var message = "\(path.isEmpty ? "the schedule" : path): expected \(expected)"
            if let found = Self.found(in: context.debugDescription) {
                message += ", found \(found)"
            }
            if context.codingPath.isEmpty {
                message += "; the schedule is an object such as {\"room\": \"B12\", \"sessions\": [...]}"
            }
            self.init(code: .wrongType, path: path, message: message)
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            self.init(code: .notJSON, path: "", message: Self.notJSONMessage(data))
        case .dataCorrupted(let context):
            let path = Self.path(context.codingPath)
            self.init(code: .invalidValue, path: path, message: "\(path): \(context.debugDescription)")
        @unknown default:
            self.init(code: .notJSON, path: "", message: "the schedule could not be read (\(error))")
        }
    }

    /// Which fields the object at `parent` must have.
    private static func needs(_ parent: some Collection<any CodingKey>) -> String {
        switch parent.count {
        case 0: "the schedule needs room and sessions"
        case 2 where parent.first?.stringValue == "sessions": "every session needs id, group, start, end and roster"
        default: "give it a value"
        }
    }

    /// Plain words for the type the decoder wanted.
    private static func describe(_ type: Any.Type, at codingPath: [any CodingKey]) -> String {
        let name = String(describing: type)
        if codingPath.last?.stringValue == "roster", name.hasPrefix("Array") {
            return "an array of person ids (strings)"
        }
        if name.hasPrefix("Array") { return "an array" }
        if name.hasPrefix("Dictionary") { return "an object" }
        if name == "String" { return "a string" }
        if ["Double", "Float", "Int", "Int64"].contains(name) { return "a number" }
        if name == "Bool" { return "true or false" }
        return "a value of type \(name)"
    }

    /// What the decoder found instead, from its debug description ("... but found a string instead.").
    private static func found(in debugDescription: String) -> String? {
        guard let start = debugDescription.range(of: "but found "),
            let end = debugDescription.range(of: " instead", range: start.upperBound..<debugDescription.endIndex)
        else { return nil }
        let found = String(debugDescription[start.upperBound..<end.lowerBound])
        switch found {
        case "a dictionary": return "an object"
        case "number": return "a number"
        default: return found
        }
    }

    private static func notJSONMessage(_ data: Data) -> String {
        let fix = "pass the sessions file, a JSON object such as {\"room\": \"B12\", \"sessions\": [...]}"
        if data.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
            return "the schedule is empty: \(fix)"
        }
        var detail = ""
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            if let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String, !text.isEmpty {
                let trimmed = text.hasSuffix(".") ? String(text.dropLast()) : text
                detail = " (" + trimmed.prefix(1).lowercased() + trimmed.dropFirst() + ")"
            }
        }
        return "the schedule is not JSON\(detail): \(fix)"
    }

    /// `5`, `2.5`: a number as a person would write it.
    static func plain(_ number: Double) -> String {
        if number.rounded() == number, abs(number) < 1e15 {
            return String(Int64(number))
        }
        return String(number)
    }
}
