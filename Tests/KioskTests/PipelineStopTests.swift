import Attendance
import Badges
import Capture
import Foundation
import Pipeline
import Recognition
import Synchronization
import TestSupport
import Testing
import Vision

final class StopFlag: Sendable {
    let value = Atomic<Bool>(false)
}

/// A door being stopped decides the frames whose analysis has begun and takes no more: a stop waits
/// for one frame's analysis at most, however slow the board (the systemd guest test runs it emulated).
@Suite(.enabled(if: TestResources.modelsEnabled && TestResources.fixturesEnabled))
struct PipelineStopTests {
    /// A folder of `count` copies of a fixture photo, played as fast as the door takes them.
    func source(count: Int) throws -> (FileFrameSource, URL) {
        let folder = try TestResources.temporaryDirectory()
        let photo = TestResources.faces.appendingPathComponent("obama-480p.jpg")
        for index in 0..<count {
            try FileManager.default.copyItem(
                at: photo, to: folder.appendingPathComponent(String(format: "frame-%03d.jpg", index)))
        }
        return (FileFrameSource(imageFolder: folder.path, fps: 30, pacing: .asFastAsPossible), folder)
    }

    func pipeline(workers: PipelineWorkers) throws -> DoorPipeline {
        var settings = PipelineConfiguration()
        settings.lookahead = workers.count + 1
        return DoorPipeline(
            configuration: settings, workers: workers, gallery: Gallery(),
            book: AttendanceBook(schedule: SessionSchedule(room: "B12", sessions: [])),
            verifier: try BadgeVerifier(keyring: BadgeKeyring()))
    }

    /// Plays `count` frames through a door with two workers; with `stopAtFirstDecision`, the door is
    /// stopped as the first frame is decided.
    func play(count: Int, stopAtFirstDecision: Bool) async throws -> (PipelineSummary, FileFrameSource) {
        let workers = try PipelineWorkers(
            pipelineModels: try FaceModels(directory: TestResources.models.path), count: 2)
        let (source, folder) = try source(count: count)
        defer { try? FileManager.default.removeItem(at: folder) }
        source.start()
        let stop = StopFlag()
        let summary = try await pipeline(workers: workers).run(
            frames: source.frames, clock: { index in (Double(index) / 30, Date()) },
            updates: {
                if stopAtFirstDecision { stop.value.store(true, ordering: .sequentiallyConsistent) }
                return nil
            },
            stopping: { stop.value.load(ordering: .sequentiallyConsistent) }, emit: { _ in })
        await source.shutdown()
        return (summary, source)
    }

    @Test("stopping after the first frame: the frames in flight are decided or dropped, no frame is taken after")
    func stopsTakingFrames() async throws {
        let (summary, source) = try await play(count: 40, stopAtFirstDecision: true)
        // Lookahead 3: the stop comes as the first frame is decided, when three more are queued behind
        // it; of the 40 frames, only those four were taken.
        #expect(summary.frames >= 1)
        #expect(summary.frames + summary.framesDroppedAtStop <= 4)
        #expect(source.status.frames <= 6)
        #expect(summary.frameErrors == 0)
    }

    @Test("without a stop every frame of the source is decided (a restart drops nothing)")
    func decidesEveryFrame() async throws {
        let (summary, _) = try await play(count: 8, stopAtFirstDecision: false)
        #expect(summary.frames == 8)
        #expect(summary.framesDroppedAtStop == 0)
        #expect(summary.facesSeen == 8)
    }
}
