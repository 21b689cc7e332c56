package import CImaging

/// A failure of the vision core: what happened, to what, and what to do about it.
public struct VisionError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: Sendable, Equatable {
        /// A file could not be read.
        case io
        /// The bytes are not a decodable image.
        case decode
        /// A model file is missing, corrupt or of the wrong kind.
        case model
        /// An argument was out of range.
        case argument
        /// Memory ran out.
        case noMemory
        /// dlib or OpenCV failed in some other way.
        case `internal`
    }

    /// What kind of failure this is.
    public var code: Code
    /// A message for a human, saying what happened and, where possible, what to do.
    public var message: String
    /// The file the failure is about, if any.
    public var path: String?

    /// Makes an error.
    public init(_ code: Code, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    public var description: String {
        guard let path else { return message }
        return "\(path): \(message)"
    }
}

extension VisionError.Code {
    package init(_ status: cvision_status) {
        switch status {
        case CVISION_ERR_IO: self = .io
        case CVISION_ERR_DECODE: self = .decode
        case CVISION_ERR_MODEL: self = .model
        case CVISION_ERR_ARGUMENT: self = .argument
        case CVISION_ERR_NO_MEMORY: self = .noMemory
        default: self = .internal
        }
    }
}

/// Calls a core entry point and turns a failed status into a `VisionError`.
package func check(path: String? = nil, _ body: (UnsafeMutablePointer<cvision_error>) -> cvision_status)
    throws(VisionError)
{
    var error = cvision_error()
    let status = body(&error)
    guard status != CVISION_OK else { return }
    let message = withUnsafeBytes(of: &error.message) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
    throw VisionError(.init(status), message, path: path)
}
