/// An 8-bit single-channel image (the luma plane of a camera frame), row after row.
public struct GreyImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height` bytes.
    public let pixels: [UInt8]

    /// Wraps pixels; `pixels.count` must be `width * height`.
    public init(width: Int, height: Int, pixels: [UInt8]) throws(VisionError) {
        guard width > 0, height > 0, pixels.count == width * height else {
            throw VisionError(
                .argument, "a grey image of \(width)x\(height) needs \(width * height) bytes, got \(pixels.count)")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}
