import CV4L2
import Foundation
import SystemPackage

/// What a V4L2 device says about itself.
public struct DeviceCapabilities: Sendable, Equatable, Codable {
    /// Kernel driver, e.g. "uvcvideo".
    public var driver: String
    /// The device's name, e.g. "HD Pro Webcam C920".
    public var card: String
    /// Where it sits, e.g. "usb-0000:00:14.0-2".
    public var bus: String
    /// Whether the node captures video and can stream.
    public var canCaptureAndStream: Bool
}

/// A pixel format offered by a device.
public struct FormatDescription: Sendable, Equatable, Codable {
    /// FourCC, e.g. "YUYV".
    public var fourcc: String
    /// The driver's description.
    public var description: String
    /// Whether libv4l2 converts to it in software rather than the camera delivering it.
    public var emulated: Bool
    /// Sizes, e.g. "640x480", or a range "16x16-1920x1080".
    public var sizes: [FrameSizeDescription]
}

/// A size a device offers, with its frame rates.
public struct FrameSizeDescription: Sendable, Equatable, Codable {
    /// "640x480", or a range for stepwise sizes.
    public var size: String
    /// Frame rates at this size, frames per second.
    public var fps: [Double]
}

/// The format a device agreed to deliver.
public struct NegotiatedFormat: Sendable, Equatable, Codable {
    public var pixelFormat: PixelFormat
    public var width: Int
    public var height: Int
    /// Bytes from one row to the next.
    public var bytesPerLine: Int
    /// Bytes of one frame (at most; MJPEG frames are shorter).
    public var frameBytes: Int
    /// Frames per second, as the driver reports it after negotiation (nil if it does not say).
    public var fps: Double?
}

/// A buffer handed back by the driver.
struct DequeuedBuffer {
    var index: Int
    var bytesUsed: Int
    var sequence: UInt32
    var flags: UInt32
    /// CLOCK_MONOTONIC nanoseconds of capture, when the driver stamps it so.
    var monotonicNanoseconds: UInt64?
}

/// An open V4L2 device: typed requests over `V4L2Syscalls`, and the mmap buffers while streaming.
/// `close()` releases everything it acquired, whatever state it is in.
final class V4L2Device {
    let path: String
    let fd: Int32
    private let system: any V4L2Syscalls
    private var mappings: [(address: UnsafeMutableRawPointer, length: Int)] = []
    private var streaming = false
    private var closed = false

    private static let captureType = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue

    init(path: String, system: any V4L2Syscalls) throws(CaptureError) {
        self.path = path
        self.system = system
        do {
            fd = try system.open(path)
        } catch {
            throw CaptureError.device(path, "open", error)
        }
    }

    deinit {
        close()
    }

    private func request<T>(_ name: String, _ code: UInt, _ value: inout T) throws(CaptureError) {
        do {
            try withUnsafeMutableBytes(of: &value) { (raw: UnsafeMutableRawBufferPointer) throws(Errno) in
                try system.ioctl(fd, code, raw.baseAddress!)
            }
        } catch {
            throw CaptureError.device(path, name, error)
        }
    }

    /// Like `request`, but an `EINVAL` (how V4L2 ends an enumeration) gives false.
    private func enumerate<T>(_ name: String, _ code: UInt, _ value: inout T) throws(CaptureError) -> Bool {
        do {
            try request(name, code, &value)
            return true
        } catch  where error.errno == .invalidArgument {
            return false
        }
    }

    func capabilities() throws(CaptureError) -> DeviceCapabilities {
        var caps = v4l2_capability()
        try request("VIDIOC_QUERYCAP", CV4L2_VIDIOC_QUERYCAP, &caps)
        let flags = (caps.capabilities & UInt32(V4L2_CAP_DEVICE_CAPS)) != 0 ? caps.device_caps : caps.capabilities
        let needed = UInt32(V4L2_CAP_VIDEO_CAPTURE) | UInt32(V4L2_CAP_STREAMING)
        return DeviceCapabilities(
            driver: cString(caps.driver), card: cString(caps.card), bus: cString(caps.bus_info),
            canCaptureAndStream: flags & needed == needed)
    }

    func formats(withSizes: Bool = true) throws(CaptureError) -> [FormatDescription] {
        var found: [FormatDescription] = []
        var description = v4l2_fmtdesc()
        description.type = Self.captureType
        while try enumerate("VIDIOC_ENUM_FMT", CV4L2_VIDIOC_ENUM_FMT, &description) {
            let code = description.pixelformat
            found.append(
                FormatDescription(
                    fourcc: PixelFormat.fourccString(code), description: cString(description.description),
                    emulated: description.flags & UInt32(V4L2_FMT_FLAG_EMULATED) != 0,
                    sizes: withSizes ? try frameSizes(code) : []))
            description.index += 1
        }
        return found
    }

    private func frameSizes(_ code: UInt32) throws(CaptureError) -> [FrameSizeDescription] {
        var sizes: [FrameSizeDescription] = []
        var size = v4l2_frmsizeenum()
        size.pixel_format = code
        while try enumerate("VIDIOC_ENUM_FRAMESIZES", CV4L2_VIDIOC_ENUM_FRAMESIZES, &size) {
            if size.type == V4L2_FRMSIZE_TYPE_DISCRETE.rawValue {
                let (width, height) = (size.discrete.width, size.discrete.height)
                sizes.append(
                    FrameSizeDescription(size: "\(width)x\(height)", fps: try frameRates(code, width, height)))
            } else {
                let step = size.stepwise
                sizes.append(
                    FrameSizeDescription(
                        size: "\(step.min_width)x\(step.min_height)-\(step.max_width)x\(step.max_height)", fps: []))
                break
            }
            size.index += 1
        }
        return sizes
    }

    private func frameRates(_ code: UInt32, _ width: UInt32, _ height: UInt32) throws(CaptureError) -> [Double] {
        var rates: [Double] = []
        var interval = v4l2_frmivalenum()
        interval.pixel_format = code
        interval.width = width
        interval.height = height
        while try enumerate("VIDIOC_ENUM_FRAMEINTERVALS", CV4L2_VIDIOC_ENUM_FRAMEINTERVALS, &interval) {
            guard interval.type == V4L2_FRMIVAL_TYPE_DISCRETE.rawValue else { break }
            let fraction = interval.discrete
            if fraction.numerator > 0 { rates.append(Double(fraction.denominator) / Double(fraction.numerator)) }
            interval.index += 1
        }
        return rates
    }

    /// Asks for a format and returns what the driver chose, which may differ.
    func setFormat(_ pixelFormat: PixelFormat, width: Int, height: Int) throws(CaptureError) -> NegotiatedFormat {
        var format = v4l2_format()
        format.type = Self.captureType
        format.fmt.pix.width = UInt32(width)
        format.fmt.pix.height = UInt32(height)
        format.fmt.pix.pixelformat = pixelFormat.fourcc
        format.fmt.pix.field = V4L2_FIELD_NONE.rawValue
        try request("VIDIOC_S_FMT", CV4L2_VIDIOC_S_FMT, &format)
        let pix = format.fmt.pix
        guard let chosen = PixelFormat(fourcc: pix.pixelformat) else {
            throw CaptureError(
                .unsupportedFormat,
                "asked for \(pixelFormat.rawValue) and the driver chose \(PixelFormat.fourccString(pix.pixelformat))",
                path: path)
        }
        let bytesPerLine = pix.bytesperline > 0 ? Int(pix.bytesperline) : Int(pix.width) * chosen.bytesPerPixel
        return NegotiatedFormat(
            pixelFormat: chosen, width: Int(pix.width), height: Int(pix.height), bytesPerLine: bytesPerLine,
            frameBytes: Int(pix.sizeimage), fps: nil)
    }

    /// Asks for a frame rate and returns the one the driver reports afterwards, if it can set one.
    func setFrameRate(_ fps: Int) throws(CaptureError) -> Double? {
        var parameters = v4l2_streamparm()
        parameters.type = Self.captureType
        guard try enumerate("VIDIOC_G_PARM", CV4L2_VIDIOC_G_PARM, &parameters) else { return nil }
        if parameters.parm.capture.capability & UInt32(V4L2_CAP_TIMEPERFRAME) != 0 {
            parameters.parm.capture.timeperframe = v4l2_fract(numerator: 1, denominator: UInt32(fps))
            _ = try enumerate("VIDIOC_S_PARM", CV4L2_VIDIOC_S_PARM, &parameters)
        }
        let fraction = parameters.parm.capture.timeperframe
        return fraction.numerator > 0 ? Double(fraction.denominator) / Double(fraction.numerator) : nil
    }

    /// Sets a control; returns false when the device has no such control.
    @discardableResult
    func setControl(_ id: UInt32, _ value: Int32) throws(CaptureError) -> Bool {
        var control = v4l2_control(id: id, value: value)
        do {
            try request("VIDIOC_S_CTRL", CV4L2_VIDIOC_S_CTRL, &control)
            return true
        } catch
            where error.errno == .invalidArgument || error.errno == .permissionDenied
            || error.errno == .ioError || error.errno == .notSupported
        {
            // Not every camera has every control, and some refuse a value while another control
            // (auto exposure) overrides it: a missing control is not a reason to stop.
            return false
        }
    }

    /// Requests `count` mmap buffers, maps and queues them all, and starts streaming.
    func startStreaming(bufferCount count: Int) throws(CaptureError) {
        var buffers = v4l2_requestbuffers()
        buffers.count = UInt32(count)
        buffers.type = Self.captureType
        buffers.memory = V4L2_MEMORY_MMAP.rawValue
        try request("VIDIOC_REQBUFS", CV4L2_VIDIOC_REQBUFS, &buffers)
        guard buffers.count >= 2 else {
            throw CaptureError(.io, "the driver gave \(buffers.count) buffers; at least 2 are needed", path: path)
        }
        for index in 0..<Int(buffers.count) {
            var buffer = Self.mmapBuffer(index)
            try request("VIDIOC_QUERYBUF", CV4L2_VIDIOC_QUERYBUF, &buffer)
            do {
                let address = try system.mmap(fd, length: Int(buffer.length), offset: Int64(buffer.m.offset))
                mappings.append((address, Int(buffer.length)))
            } catch {
                throw CaptureError.device(path, "mmap", error)
            }
            try requeue(index)
        }
        var type = Int32(Self.captureType)
        try request("VIDIOC_STREAMON", CV4L2_VIDIOC_STREAMON, &type)
        streaming = true
    }

    /// The next filled buffer, or nil when none is ready (`EAGAIN`).
    func dequeue() throws(CaptureError) -> DequeuedBuffer? {
        var buffer = Self.mmapBuffer(0)
        do {
            try request("VIDIOC_DQBUF", CV4L2_VIDIOC_DQBUF, &buffer)
        } catch  where error.errno == .resourceTemporarilyUnavailable {
            return nil
        }
        let monotonic = buffer.flags & UInt32(V4L2_BUF_FLAG_TIMESTAMP_MASK) == UInt32(V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC)
        let stamp = UInt64(buffer.timestamp.tv_sec) * 1_000_000_000 + UInt64(buffer.timestamp.tv_usec) * 1000
        return DequeuedBuffer(
            index: Int(buffer.index), bytesUsed: Int(buffer.bytesused), sequence: buffer.sequence,
            flags: buffer.flags, monotonicNanoseconds: monotonic && stamp > 0 ? stamp : nil)
    }

    /// Gives a buffer back to the driver.
    func requeue(_ index: Int) throws(CaptureError) {
        var buffer = Self.mmapBuffer(index)
        try request("VIDIOC_QBUF", CV4L2_VIDIOC_QBUF, &buffer)
    }

    /// The request structure for capture buffer `index` in mmap memory.
    private static func mmapBuffer(_ index: Int) -> v4l2_buffer {
        var buffer = v4l2_buffer()
        buffer.index = UInt32(index)
        buffer.type = captureType
        buffer.memory = V4L2_MEMORY_MMAP.rawValue
        return buffer
    }

    /// The bytes of a mapped buffer.
    func contents(of buffer: DequeuedBuffer) -> UnsafeRawBufferPointer {
        let mapping = mappings[buffer.index]
        return UnsafeRawBufferPointer(start: mapping.address, count: min(buffer.bytesUsed, mapping.length))
    }

    /// Stops streaming, unmaps every buffer and closes the descriptor. Failures here (the device is
    /// often already gone) are ignored: the point is that nothing stays held.
    func close() {
        guard !closed else { return }
        closed = true
        if streaming {
            var type = Int32(Self.captureType)
            try? request("VIDIOC_STREAMOFF", CV4L2_VIDIOC_STREAMOFF, &type)
            streaming = false
        }
        for mapping in mappings {
            try? system.munmap(mapping.address, length: mapping.length)
        }
        mappings.removeAll()
        try? system.close(fd)
    }
}

private func cString<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}
