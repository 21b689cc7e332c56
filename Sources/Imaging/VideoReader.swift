import CImaging

/// Reads the frames of a video file in order, decoded to RGB. Blocking: use it on a thread of its own.
public final class VideoReader {
    private let handle: OpaquePointer
    /// The file.
    public let path: String
    /// Frame size as the file states it.
    public let width: Int
    public let height: Int
    /// Frames per second as the file states it, or nil when it does not.
    public let fps: Double?

    /// Opens a video file.
    /// - Throws: `VisionError` (`.io`, `.decode`) naming the file.
    public init(path: String) throws(VisionError) {
        var video: OpaquePointer?
        var info = cvision_video_info()
        try check(path: path) { cvision_video_open(path, &video, &info, $0) }
        guard let video else { throw VisionError(.internal, "the core opened no video", path: path) }
        handle = video
        self.path = path
        width = Int(info.width)
        height = Int(info.height)
        fps = info.fps > 0 && info.fps.isFinite ? info.fps : nil
    }

    deinit {
        cvision_video_close(handle)
    }

    /// The next frame, or nil after the last one (or at a frame the decoder cannot read).
    public func next() throws(VisionError) -> RGBImage? {
        var image = cvision_image()
        var end: Int32 = 0
        try check(path: path) { cvision_video_read(handle, &image, &end, $0) }
        return end != 0 ? nil : RGBImage(taking: &image)
    }
}

/// Writes RGB frames to a Motion-JPEG AVI file (for recording clips and making test videos).
public final class VideoWriter {
    private let handle: OpaquePointer
    /// The file.
    public let path: String

    /// Creates the file.
    public init(path: String, fps: Double, width: Int, height: Int) throws(VisionError) {
        var writer: OpaquePointer?
        try check(path: path) { cvision_video_writer_open(path, fps, Int32(width), Int32(height), &writer, $0) }
        guard let writer else { throw VisionError(.internal, "the core made no video writer", path: path) }
        handle = writer
        self.path = path
    }

    /// Finishes the file.
    deinit {
        cvision_video_writer_close(handle)
    }

    /// Appends a frame of the video's size.
    public func write(_ image: RGBImage) throws(VisionError) {
        try image.withView { (view: UnsafePointer<cvision_image_view>) throws(VisionError) in
            try check(path: path) { cvision_video_writer_write(handle, view, $0) }
        }
    }
}
