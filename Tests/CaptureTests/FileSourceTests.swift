import Capture
import Foundation
import Imaging
import TestSupport
import Testing

struct FileSourceTests {
    func solid(_ value: UInt8, width: Int = 64, height: Int = 48) throws -> RGBImage {
        try RGBImage(width: width, height: height, pixels: [UInt8](repeating: value, count: width * height * 3))
    }

    func collect(_ source: FileFrameSource, slowly delay: Duration? = nil) async -> [Frame] {
        source.start()
        var frames: [Frame] = []
        for await frame in source.frames {
            frames.append(frame)
            if let delay { try? await Task.sleep(for: delay) }
        }
        return frames
    }

    @Test("a video file plays every frame in order, as RGB, when not paced")
    func videoAsFastAsPossible() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("door.avi").path
        do {
            let writer = try VideoWriter(path: path, fps: 25, width: 64, height: 48)
            for index in 0..<20 { try writer.write(try solid(UInt8(index * 12))) }
        }
        let reader = try VideoReader(path: path)
        #expect(reader.fps == 25 && reader.width == 64 && reader.height == 48)

        let source = FileFrameSource(video: path, pacing: .asFastAsPossible)
        let frames = await collect(source, slowly: .milliseconds(2))
        #expect(frames.map(\.sequence) == Array(0..<20))
        #expect(frames.allSatisfy { $0.format == .rgb24 && $0.width == 64 && $0.height == 48 && $0.droppedBefore == 0 })
        for (index, frame) in frames.enumerated() {
            let mean = frame.data.reduce(0) { $0 + Int($1) } / frame.data.count
            #expect(abs(mean - index * 12) <= 3, "frame \(index): mean \(mean)")
        }
        let status = source.status
        #expect(status.frames == 20 && status.drops == 0 && status.finished && status.lastError == nil)
    }

    @Test("paced like a camera, a slow consumer gets the newest frames and the misses are counted")
    func realtimeDropsForSlowConsumer() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        for index in 0..<30 {
            try solid(UInt8(index)).pngData().write(
                to: folder.appendingPathComponent(String(format: "frame%03d.png", index)))
        }
        let source = FileFrameSource(imageFolder: folder.path, fps: 200, pacing: .realtime())
        let frames = await collect(source, slowly: .milliseconds(40))
        #expect(frames.last?.sequence == 29, "the last frame is always delivered")
        #expect(frames.count < 30)
        #expect(frames.map(\.droppedBefore).reduce(0, +) + frames.count == 30)
        #expect(source.status.drops == 30 - frames.count)
    }

    @Test("an image folder plays in name order; undecodable files are skipped and reported; other files ignored")
    func imageFolder() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try solid(10).pngData().write(to: folder.appendingPathComponent("a.png"))
        try Data("not a png".utf8).write(to: folder.appendingPathComponent("b.png"))
        try solid(30).pngData().write(to: folder.appendingPathComponent("c.PNG"))
        try Data("notes".utf8).write(to: folder.appendingPathComponent("readme.txt"))
        try solid(50, width: 32, height: 32).pngData().write(to: folder.appendingPathComponent("d.png"))
        let source = FileFrameSource(imageFolder: folder.path, pacing: .asFastAsPossible)
        let frames = await collect(source)
        #expect(frames.map { $0.data.first } == [10, 30, 50])
        #expect(frames.map(\.width) == [64, 64, 32])
        #expect(source.status.skipped == 1)
        #expect(source.status.lastError?.contains("b.png") == true)
    }

    @Test("a missing or non-video file ends the stream at once with the error", arguments: ["missing.avi", "text.avi"])
    func badVideo(name: String) async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("just text".utf8).write(to: folder.appendingPathComponent("text.avi"))
        let path = folder.appendingPathComponent(name).path
        let source = FileFrameSource(video: path)
        let frames = await collect(source)
        #expect(frames.isEmpty)
        #expect(source.status.finished)
        #expect(source.status.lastError?.contains(path) == true)
    }

    @Test("stop ends a long realtime replay")
    func stop() async throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        for index in 0..<5 {
            try solid(UInt8(index)).pngData().write(to: folder.appendingPathComponent("\(index).png"))
        }
        let source = FileFrameSource(imageFolder: folder.path, fps: 0.01, pacing: .realtime())
        source.start()
        var frames = source.frames.makeAsyncIterator()
        _ = await frames.next()
        await source.shutdown()
        #expect(await frames.next() == nil)
        #expect(source.status.frames < 5)
    }
}
