import Capture
import Foundation
import Logging
import Outbox
import TestSupport
import Testing
import Vision

@testable import Kiosk

/// The door service takes its restarts as commands: after a replayed folder ends, `restartCapture` opens
/// the source the configuration in force names, and that source runs to its end (a restart must not stop
/// the source it has just opened).
@Suite(.enabled(if: TestResources.modelsEnabled && TestResources.fixturesEnabled, "needs the models and fixtures"))
struct DoorServiceTests {
    /// A folder holding the first `count` of the fixture faces.
    static func folder(_ count: Int, in parent: URL, name: String) throws -> URL {
        let folder = parent.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for image in ["biden.jpg", "obama-240p.jpg", "obama-480p.jpg"].prefix(count) {
            try FileManager.default.copyItem(
                at: TestResources.faces.appendingPathComponent(image), to: folder.appendingPathComponent(image))
        }
        return folder
    }

    /// Waits until `condition` holds, up to `seconds`.
    static func eventually(_ seconds: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = Date() + seconds
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test("a restart command after a replay ended runs the newly configured source to its end")
    func restartRunsTheNewSource() async throws {
        let work = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let first = try Self.folder(2, in: work, name: "first")
        let second = try Self.folder(3, in: work, name: "second")
        let outbox = try Outbox(path: work.appendingPathComponent("outbox.sqlite").path, deviceID: "door-1")
        var configuration = KioskConfiguration(deviceID: "door-1")
        configuration.workers = 1
        configuration.replay = first.path
        let daemon = try await KioskDaemon(
            configurationPath: "", configuration: configuration, outbox: outbox,
            models: try FaceModels(directory: TestResources.models.path), hubToken: nil, logger: Logger(label: "test"))
        let (commands, door) = AsyncStream.makeStream(of: DoorCommand.self)
        let service = DoorService(
            workers: daemon.workers, outbox: outbox, settings: daemon.settings, inputs: daemon.inputs,
            activity: daemon.activity, output: daemon.output, commands: commands, logger: Logger(label: "test"))
        let running = Task { try await service.run() }
        defer { running.cancel() }

        // A replayed folder is paced like a camera: a frame the pipeline is too busy for is replaced by the
        // next (counted as a drop), so what is checked is that the source read every frame to its end.
        func ended(_ folder: URL, frames: Int) -> Bool {
            guard let source = daemon.activity.snapshot.source, source.description == "replay of \(folder.path)"
            else { return false }
            let status = source.status
            return status.state == .ended && status.frames == frames
        }
        #expect(
            await Self.eventually(60) { ended(first, frames: 2) && daemon.activity.snapshot.processedFrames >= 1 },
            "the first folder is replayed to its end and the door takes its last frame")
        let takenBefore = daemon.activity.snapshot.processedFrames

        configuration.replay = second.path
        _ = daemon.settings.replace(with: configuration)
        door.yield(.restartCapture)
        #expect(
            await Self.eventually(60) {
                ended(second, frames: 3) && daemon.activity.snapshot.processedFrames > takenBefore
            },
            "after the restart, the second folder is replayed to its end: \(daemon.activity.snapshot.source?.status.frames ?? 0) frames read"
        )
        door.finish()
    }
}
