import Foundation
import Testing

/// The hub links what it runs and nothing else: its enrollment uses the face core (Enrollment, Vision),
/// not the door's camera (V4L2) or QR reading (zbar). The door's binary, which runs both, is the control.
struct LinkingTests {
    /// The shared libraries `ldd` lists for one of the built executables.
    func libraries(of executable: String) throws -> [String] {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        process.arguments = [folder.appendingPathComponent(executable).path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "ldd \(executable) failed")
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            $0.split(separator: " ").first.map { String($0.trimmingCharacters(in: .whitespaces)) }
        }
    }

    @Test("rollcall-hub links neither libv4l2 nor zbar; rollcall links both")
    func hubLinksNoCameraCode() throws {
        let hub = try libraries(of: "rollcall-hub")
        let door = try libraries(of: "rollcall")
        for name in ["libv4l2", "libzbar"] {
            #expect(door.contains { $0.hasPrefix(name + ".so") }, "the door's rollcall links \(name)")
            #expect(!hub.contains { $0.hasPrefix(name + ".so") }, "rollcall-hub links \(name): \(hub)")
        }
        #expect(hub.contains { $0.hasPrefix("libdlib.so") }, "the hub's enrollment runs the face core")
    }
}
