import CV4L2
import Capture
import Foundation
import SystemPackage

/// A V4L2 camera in memory behind the syscall seam: it answers the requests the capture code makes,
/// produces frames when told to, and can be unplugged, made busy or stalled. It counts what was
/// opened and mapped so tests can prove nothing leaks.
///
/// `@unchecked Sendable`: every access to `state` goes through `with`, under `lock`.
final class SimulatedCamera: V4L2Syscalls, @unchecked Sendable {
    struct State {
        /// Symlink or node path -> node path; a node absent here does not exist.
        var links: [String: String] = ["/dev/rollcall-camera": "/dev/video0", "/dev/video0": "/dev/video0"]
        var formats: [UInt32] = [CV4L2_PIX_FMT_MJPEG, CV4L2_PIX_FMT_YUYV]
        var sizes: [(UInt32, UInt32)] = [(640, 480), (320, 240)]
        var busy = false
        /// ioctls on open descriptors fail with ENODEV, poll reports POLLERR|POLLHUP.
        var unplugged = false
        /// Frames made at each poll when streaming (0: only `produce` makes them).
        var framesPerPoll = 1
        /// The next frame made is flagged V4L2_BUF_FLAG_ERROR.
        var damageNext = false
        /// Count of DQBUF calls to answer EAGAIN even though poll said POLLIN.
        var spuriousWakeups = 0
        /// DQBUF calls that found no filled buffer (not counting `spuriousWakeups`): each is a line
        /// libv4l2 writes to stderr.
        var emptyDequeues = 0

        var nextFD: Int32 = 100
        var openFDs: Set<Int32> = []
        var opens = 0
        var closes = 0
        var streaming = false
        var format = (fourcc: UInt32(0), width: UInt32(0), height: UInt32(0))
        var buffers: [UnsafeMutableRawPointer] = []
        var bufferLength = 0
        var queued: [Int] = []
        var filled: [(index: Int, sequence: UInt32, flags: UInt32)] = []
        var sequence: UInt32 = 0
        var mapped: Set<UnsafeMutableRawPointer> = []
        var controls: [UInt32: Int32] = [:]
        var frameRateSet = false
        var lastProduced: UInt64 = 0
        var requests: [UInt] = []
    }

    private let lock = NSLock()
    private var state = State()

    func with<T>(_ body: (inout State) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&state)
    }

    /// Makes `count` frames as the driver would: into queued buffers, or lost when none is free.
    func produce(_ count: Int = 1) {
        with { Self.produce(&$0, count) }
    }

    private static func produce(_ state: inout State, _ count: Int) {
        guard state.streaming, !state.unplugged else { return }
        for _ in 0..<count {
            let sequence = state.sequence
            state.sequence += 1
            guard !state.queued.isEmpty else { continue }  // no free buffer: the frame is lost
            let index = state.queued.removeFirst()
            // A marker the tests can check; the rest of the buffer is left as it is (filling 600 KB
            // a frame in a debug build would make the simulated camera a CPU hog).
            let bytes = state.buffers[index].assumingMemoryBound(to: UInt8.self)
            for offset in 0..<min(16, state.bufferLength) {
                bytes[offset] = UInt8(truncatingIfNeeded: Int(sequence) &+ offset)
            }
            let flags = state.damageNext ? UInt32(V4L2_BUF_FLAG_ERROR) : 0
            state.damageNext = false
            state.filled.append((index, sequence, flags))
        }
    }

    // MARK: V4L2Syscalls

    func open(_ path: String) throws(Errno) -> Int32 {
        try with { (state: inout State) -> Result<Int32, Errno> in
            guard state.links[path] != nil else { return .failure(.noSuchFileOrDirectory) }
            guard !state.busy else { return .failure(.resourceBusy) }
            state.nextFD += 1
            state.openFDs.insert(state.nextFD)
            state.opens += 1
            return .success(state.nextFD)
        }.get()
    }

    func close(_ fd: Int32) throws(Errno) {
        try with { (state: inout State) -> Result<Void, Errno> in
            guard state.openFDs.remove(fd) != nil else { return .failure(.badFileDescriptor) }
            state.closes += 1
            if state.openFDs.isEmpty {
                state.streaming = false
                state.filled = []
                state.queued = []
                for buffer in state.buffers { buffer.deallocate() }
                state.buffers = []
            }
            return .success(())
        }.get()
    }

    func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) throws(Errno) {
        try with { (state: inout State) -> Result<Void, Errno> in
            state.requests.append(request)
            guard state.openFDs.contains(fd) else { return .failure(.badFileDescriptor) }
            guard !state.unplugged else { return .failure(.operationNotSupportedByDevice) }
            return Self.answer(&state, request, argument)
        }.get()
    }

    private static func answer(_ state: inout State, _ request: UInt, _ argument: UnsafeMutableRawPointer)
        -> Result<Void, Errno>
    {
        switch request {
        case CV4L2_VIDIOC_QUERYCAP:
            let caps = argument.assumingMemoryBound(to: v4l2_capability.self)
            caps.pointee = v4l2_capability()
            write("simcam", into: &caps.pointee.driver)
            write("Simulated Camera", into: &caps.pointee.card)
            write("sim:0", into: &caps.pointee.bus_info)
            caps.pointee.device_caps = UInt32(V4L2_CAP_VIDEO_CAPTURE) | UInt32(V4L2_CAP_STREAMING)
            caps.pointee.capabilities = caps.pointee.device_caps | UInt32(V4L2_CAP_DEVICE_CAPS)
        case CV4L2_VIDIOC_ENUM_FMT:
            let description = argument.assumingMemoryBound(to: v4l2_fmtdesc.self)
            let index = Int(description.pointee.index)
            guard index < state.formats.count else { return .failure(.invalidArgument) }
            description.pointee.pixelformat = state.formats[index]
            description.pointee.flags = 0
        case CV4L2_VIDIOC_ENUM_FRAMESIZES:
            let size = argument.assumingMemoryBound(to: v4l2_frmsizeenum.self)
            let index = Int(size.pointee.index)
            guard index < state.sizes.count else { return .failure(.invalidArgument) }
            size.pointee.type = V4L2_FRMSIZE_TYPE_DISCRETE.rawValue
            size.pointee.discrete = v4l2_frmsize_discrete(width: state.sizes[index].0, height: state.sizes[index].1)
        case CV4L2_VIDIOC_ENUM_FRAMEINTERVALS:
            let interval = argument.assumingMemoryBound(to: v4l2_frmivalenum.self)
            let rates: [UInt32] = [30, 15]
            let index = Int(interval.pointee.index)
            guard index < rates.count else { return .failure(.invalidArgument) }
            interval.pointee.type = V4L2_FRMIVAL_TYPE_DISCRETE.rawValue
            interval.pointee.discrete = v4l2_fract(numerator: 1, denominator: rates[index])
        case CV4L2_VIDIOC_S_FMT:
            guard !state.streaming else { return .failure(.resourceBusy) }
            let format = argument.assumingMemoryBound(to: v4l2_format.self)
            var pix = format.pointee.fmt.pix
            if !state.formats.contains(pix.pixelformat) { pix.pixelformat = state.formats[0] }
            // The driver picks the nearest size it has, as real drivers do.
            let (width, height) = state.sizes.min {
                abs(Int($0.0) - Int(pix.width)) + abs(Int($0.1) - Int(pix.height))
                    < abs(Int($1.0) - Int(pix.width)) + abs(Int($1.1) - Int(pix.height))
            }!
            pix.width = width
            pix.height = height
            let bytesPerPixel: UInt32 = pix.pixelformat == CV4L2_PIX_FMT_GREY ? 1 : 2
            pix.bytesperline = width * bytesPerPixel
            pix.sizeimage = pix.bytesperline * height
            format.pointee.fmt.pix = pix
            state.format = (pix.pixelformat, width, height)
            state.bufferLength = Int(pix.sizeimage)
        case CV4L2_VIDIOC_S_PARM where state.streaming:
            return .failure(.resourceBusy)  // as uvcvideo: the interval is set before streaming
        case CV4L2_VIDIOC_G_PARM, CV4L2_VIDIOC_S_PARM:
            let parameters = argument.assumingMemoryBound(to: v4l2_streamparm.self)
            // A driver that cannot do the rate asked for, and says so in what it hands back.
            parameters.pointee.parm.capture.capability = UInt32(V4L2_CAP_TIMEPERFRAME)
            parameters.pointee.parm.capture.timeperframe = v4l2_fract(numerator: 1, denominator: 15)
            if request == CV4L2_VIDIOC_S_PARM { state.frameRateSet = true }
        case CV4L2_VIDIOC_S_CTRL:
            let control = argument.assumingMemoryBound(to: v4l2_control.self)
            guard
                [CV4L2_CID_EXPOSURE_AUTO_PRIORITY, CV4L2_CID_EXPOSURE_AUTO, CV4L2_CID_EXPOSURE_ABSOLUTE].contains(
                    control.pointee.id)
            else { return .failure(.invalidArgument) }
            state.controls[control.pointee.id] = control.pointee.value
        case CV4L2_VIDIOC_REQBUFS:
            let buffers = argument.assumingMemoryBound(to: v4l2_requestbuffers.self)
            guard state.buffers.isEmpty else { return .failure(.resourceBusy) }
            buffers.pointee.count = min(buffers.pointee.count, 4)
            state.buffers = (0..<Int(buffers.pointee.count)).map { _ in
                UnsafeMutableRawPointer.allocate(byteCount: state.bufferLength, alignment: 16)
            }
        case CV4L2_VIDIOC_QUERYBUF:
            let buffer = argument.assumingMemoryBound(to: v4l2_buffer.self)
            guard Int(buffer.pointee.index) < state.buffers.count else { return .failure(.invalidArgument) }
            buffer.pointee.length = UInt32(state.bufferLength)
            buffer.pointee.m.offset = buffer.pointee.index * 4096
        case CV4L2_VIDIOC_QBUF:
            let index = Int(argument.assumingMemoryBound(to: v4l2_buffer.self).pointee.index)
            guard index < state.buffers.count, !state.queued.contains(index) else { return .failure(.invalidArgument) }
            state.queued.append(index)
        case CV4L2_VIDIOC_DQBUF:
            if state.spuriousWakeups > 0 {
                state.spuriousWakeups -= 1
                return .failure(.resourceTemporarilyUnavailable)
            }
            guard !state.filled.isEmpty else {
                state.emptyDequeues += 1
                return .failure(.resourceTemporarilyUnavailable)
            }
            let filled = state.filled.removeFirst()
            let buffer = argument.assumingMemoryBound(to: v4l2_buffer.self)
            buffer.pointee.index = UInt32(filled.index)
            buffer.pointee.sequence = filled.sequence
            buffer.pointee.bytesused = UInt32(state.bufferLength)
            buffer.pointee.flags = filled.flags | UInt32(V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC)
            let now = Monotonic.nanoseconds()
            buffer.pointee.timestamp = timeval(
                tv_sec: Int(now / 1_000_000_000), tv_usec: Int(now % 1_000_000_000 / 1000))
        case CV4L2_VIDIOC_STREAMON:
            state.streaming = true
        case CV4L2_VIDIOC_STREAMOFF:
            state.streaming = false
            state.filled = []
            state.queued = []
        default:
            return .failure(.invalidArgument)
        }
        return .success(())
    }

    func mmap(_ fd: Int32, length: Int, offset: Int64) throws(Errno) -> UnsafeMutableRawPointer {
        try with { (state: inout State) -> Result<UnsafeMutableRawPointer, Errno> in
            let index = Int(offset / 4096)
            guard state.openFDs.contains(fd), index < state.buffers.count, length == state.bufferLength else {
                return .failure(.invalidArgument)
            }
            state.mapped.insert(state.buffers[index])
            return .success(state.buffers[index])
        }.get()
    }

    func munmap(_ address: UnsafeMutableRawPointer, length: Int) throws(Errno) {
        try with { (state: inout State) -> Result<Void, Errno> in
            state.mapped.remove(address) == nil ? .failure(.invalidArgument) : .success(())
        }.get()
    }

    func poll(_ fd: Int32, events: Int16, timeout: Int32) throws(Errno) -> Int16 {
        let ready = with { (state: inout State) -> Int16 in
            if state.unplugged { return Int16(POLLERR | POLLHUP) }
            // A camera at about 200 fps, not as fast as the test machine can spin.
            let now = Monotonic.nanoseconds()
            if state.framesPerPoll > 0 && now - state.lastProduced >= 5_000_000 {
                state.lastProduced = now
                Self.produce(&state, state.framesPerPoll)
            }
            return state.filled.isEmpty && state.spuriousWakeups == 0 ? 0 : Int16(POLLIN)
        }
        if ready == 0 { Thread.sleep(forTimeInterval: 0.002) }
        return ready
    }

    func resolve(_ path: String) -> String? {
        with { $0.links[path] }
    }

    private static func write<T>(_ text: String, into tuple: inout T) {
        withUnsafeMutableBytes(of: &tuple) { raw in
            for (index, byte) in text.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
    }
}
