import Foundation

/// A video capture device found on this machine.
public struct CameraInfo: Sendable, Codable, Equatable {
    /// The device node, e.g. /dev/video0.
    public var node: String
    /// Stable names that lead to it (/dev/rollcall-camera, /dev/v4l/by-id/..., /dev/v4l/by-path/...).
    public var links: [String]
    public var capabilities: DeviceCapabilities?
    public var formats: [FormatDescription]
    /// Why the device could not be queried, if it could not.
    public var error: String?
}

/// Finds the cameras of this machine.
public enum CameraDirectory {
    /// Every V4L2 node under /dev that captures video (metadata and output nodes are left out), with
    /// its formats, sizes and frame rates, in node order.
    public static func list(system: any V4L2Syscalls = LinuxV4L2Syscalls(), devices: String = "/dev") -> [CameraInfo] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: devices)) ?? []
        let nodes = names.filter { $0.hasPrefix("video") && Int($0.dropFirst(5)) != nil }
            .sorted { Int($0.dropFirst(5))! < Int($1.dropFirst(5))! }
            .map { devices + "/" + $0 }
        let links = stableNames(system: system, devices: devices)
        return nodes.compactMap { node -> CameraInfo? in
            do throws(CaptureError) {
                let device = try V4L2Device(path: node, system: system)
                defer { device.close() }
                let capabilities = try device.capabilities()
                guard capabilities.canCaptureAndStream else { return nil }
                return CameraInfo(
                    node: node, links: links[node] ?? [], capabilities: capabilities, formats: try device.formats(),
                    error: nil)
            } catch {
                return CameraInfo(
                    node: node, links: links[node] ?? [], capabilities: nil, formats: [], error: error.message)
            }
        }
    }

    /// node -> the symlinks that resolve to it.
    private static func stableNames(system: any V4L2Syscalls, devices: String) -> [String: [String]] {
        var candidates = [devices + "/rollcall-camera"]
        for folder in ["v4l/by-id", "v4l/by-path"] {
            let path = devices + "/" + folder
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                candidates.append(path + "/" + name)
            }
        }
        var links: [String: [String]] = [:]
        for link in candidates {
            if let node = system.resolve(link), node != link { links[node, default: []].append(link) }
        }
        return links
    }
}
