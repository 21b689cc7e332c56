public import SystemPackage

/// A failure of a frame source: what happened, to which device, and what to do.
public struct CaptureError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Equatable {
        /// The device node does not exist (camera unplugged, or the udev rule did not match).
        case deviceMissing = "device_missing"
        /// Another process holds the camera.
        case busy
        /// This process may not open the device.
        case permissionDenied = "permission_denied"
        /// The node is not a V4L2 capture device that can stream.
        case notACamera = "not_a_camera"
        /// The camera offers no pixel format rollcall can use.
        case unsupportedFormat = "unsupported_format"
        /// The camera went away while streaming.
        case disconnected
        /// No frame arrived within the frame timeout.
        case timeout
        /// A file source could not be read.
        case file
        /// Any other system call failure.
        case io
    }

    /// What kind of failure this is.
    public var code: Code
    /// What happened and what to do, for a technician.
    public var message: String
    /// The device or file concerned.
    public var path: String
    /// The system error behind it, if any.
    public var errno: Errno?

    /// Makes an error.
    public init(_ code: Code, _ message: String, path: String, errno: Errno? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.errno = errno
    }

    public var description: String { "\(path): \(message)" }

    /// Classifies a failed system call on a camera device.
    static func device(_ path: String, _ operation: String, _ errno: Errno) -> CaptureError {
        switch errno {
        case .noSuchFileOrDirectory:
            return CaptureError(
                .deviceMissing,
                "no such device: is the camera plugged in, and does the udev rule (udev/99-rollcall-camera.rules) match it?",
                path: path, errno: errno)
        case .operationNotSupportedByDevice, .noSuchAddressOrDevice:  // ENODEV, ENXIO
            return CaptureError(
                .disconnected, "the camera went away (\(operation): \(errno))", path: path, errno: errno)
        case .resourceBusy:
            return CaptureError(
                .busy, "the camera is busy: another program is using it (`fuser \(path)` names it)", path: path,
                errno: errno)
        case .permissionDenied, .notPermitted:
            return CaptureError(
                .permissionDenied, "permission denied: run as a member of the group video (`usermod -aG video USER`)",
                path: path, errno: errno)
        default:
            return CaptureError(.io, "\(operation) failed: \(errno)", path: path, errno: errno)
        }
    }
}
