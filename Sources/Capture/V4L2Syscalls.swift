import CV4L2
import Foundation
public import SystemPackage

/// The one layer through which every call to a camera device goes: open, close, ioctl, mmap, munmap
/// and poll. The real layer calls libv4l2 and retries `EINTR`; tests put a simulated device here.
public protocol V4L2Syscalls: Sendable {
    /// Opens a device node (non-blocking, read-write).
    func open(_ path: String) throws(Errno) -> Int32
    /// Closes a descriptor.
    func close(_ fd: Int32) throws(Errno)
    /// Performs a V4L2 request on the structure at `argument`.
    func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) throws(Errno)
    /// Maps a buffer of the device.
    func mmap(_ fd: Int32, length: Int, offset: Int64) throws(Errno) -> UnsafeMutableRawPointer
    /// Unmaps a buffer.
    func munmap(_ address: UnsafeMutableRawPointer, length: Int) throws(Errno)
    /// Waits up to `timeout` milliseconds for events on `fd`; returns the events that happened
    /// (0 on timeout).
    func poll(_ fd: Int32, events: Int16, timeout: Int32) throws(Errno) -> Int16
    /// The device node a path leads to (a udev symlink resolved), or nil if it does not exist.
    func resolve(_ path: String) -> String?
}

/// The real system calls, through libv4l2 (which also handles cameras that need its help).
public struct LinuxV4L2Syscalls: V4L2Syscalls {
    /// Makes the real layer.
    public init() {}

    public func open(_ path: String) throws(Errno) -> Int32 {
        try retrying { cv4l2_open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC) }
    }

    public func close(_ fd: Int32) throws(Errno) {
        // Never retried: after EINTR the descriptor is already released on Linux.
        if cv4l2_close(fd) == -1 { throw Errno(rawValue: Foundation.errno) }
    }

    public func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) throws(Errno) {
        _ = try retrying { cv4l2_ioctl(fd, request, argument) }
    }

    public func mmap(_ fd: Int32, length: Int, offset: Int64) throws(Errno) -> UnsafeMutableRawPointer {
        guard let address = cv4l2_mmap(length, fd, offset), address != cv4l2_map_failed() else {
            throw Errno(rawValue: Foundation.errno)
        }
        return address
    }

    public func munmap(_ address: UnsafeMutableRawPointer, length: Int) throws(Errno) {
        if cv4l2_munmap(address, length) == -1 { throw Errno(rawValue: Foundation.errno) }
    }

    public func poll(_ fd: Int32, events: Int16, timeout: Int32) throws(Errno) -> Int16 {
        var descriptor = pollfd(fd: fd, events: events, revents: 0)
        let ready = try retrying { Glibc.poll(&descriptor, 1, timeout) }
        return ready == 0 ? 0 : descriptor.revents
    }

    public func resolve(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private func retrying(_ call: () -> Int32) throws(Errno) -> Int32 {
        while true {
            let result = call()
            if result != -1 { return result }
            let error = Errno(rawValue: Foundation.errno)
            if error != .interrupted { throw error }
        }
    }
}
