public import Imaging

/// Conversions of camera frames, each a single pass. YUYV is taken as BT.601 limited range, as
/// UVC webcams deliver it.
public enum PixelConversion {
    /// The Y bytes of a YUYV frame.
    public static func greyFromYUYV(_ frame: Frame) throws(VisionError) -> GreyImage {
        try check(frame, bytesPerPixel: 2)
        let (width, height, stride) = (frame.width, frame.height, frame.bytesPerLine)
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height) { out, count in
            frame.data.withUnsafeBufferPointer { source in
                for row in 0..<height {
                    let input = source.baseAddress! + row * stride
                    let output = out.baseAddress! + row * width
                    for column in 0..<width { output[column] = input[2 * column] }
                }
            }
            count = width * height
        }
        return try GreyImage(width: width, height: height, pixels: pixels)
    }

    /// A YUYV frame in RGB (OpenCV's SIMD conversion, same BT.601 limited-range formula).
    public static func rgbFromYUYV(_ frame: Frame) throws(VisionError) -> RGBImage {
        try check(frame, bytesPerPixel: 2)
        return try RGBImage(
            yuyv: frame.data, width: frame.width, height: frame.height, bytesPerLine: frame.bytesPerLine)
    }

    /// An RGB image as YUYV (each pair of pixels shares the mean of their chroma): the inverse of
    /// `rgbFromYUYV`, for feeding test frames to a camera.
    public static func yuyv(from image: RGBImage) -> [UInt8] {
        precondition(image.width % 2 == 0, "YUYV needs an even width")
        var out = [UInt8](repeating: 0, count: image.width * image.height * 2)
        image.pixels.withUnsafeBufferPointer { rgb in
            for pair in 0..<(image.width * image.height / 2) {
                let p = rgb.baseAddress! + pair * 6
                let (r0, g0, b0) = (Int32(p[0]), Int32(p[1]), Int32(p[2]))
                let (r1, g1, b1) = (Int32(p[3]), Int32(p[4]), Int32(p[5]))
                let (r, g, b) = ((r0 + r1) / 2, (g0 + g1) / 2, (b0 + b1) / 2)
                out[pair * 4] = clamp(((66 * r0 + 129 * g0 + 25 * b0 + 128) >> 8) + 16)
                out[pair * 4 + 1] = clamp(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128)
                out[pair * 4 + 2] = clamp(((66 * r1 + 129 * g1 + 25 * b1 + 128) >> 8) + 16)
                out[pair * 4 + 3] = clamp(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128)
            }
        }
        return out
    }

    /// Luma of an RGB image (BT.601 weights).
    public static func greyFromRGB(_ image: RGBImage) throws(VisionError) -> GreyImage {
        let count = image.width * image.height
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { out, written in
            image.pixels.withUnsafeBufferPointer { rgb in
                for index in 0..<count {
                    let p = rgb.baseAddress! + index * 3
                    let red: UInt32 = 77 * UInt32(p[0])
                    let green: UInt32 = 150 * UInt32(p[1])
                    let blue: UInt32 = 29 * UInt32(p[2])
                    out[index] = UInt8((red + green + blue + 128) >> 8)
                }
            }
            written = count
        }
        return try GreyImage(width: image.width, height: image.height, pixels: pixels)
    }

    static func packedGrey(_ frame: Frame) throws(VisionError) -> GreyImage {
        try check(frame, bytesPerPixel: 1)
        return try GreyImage(width: frame.width, height: frame.height, pixels: rows(frame, rowBytes: frame.width))
    }

    static func rgbFromGrey(_ frame: Frame) throws(VisionError) -> RGBImage {
        let grey = try packedGrey(frame)
        return try RGBImage(width: grey.width, height: grey.height, pixels: grey.pixels.flatMap { [$0, $0, $0] })
    }

    static func packedRGB(_ frame: Frame) throws(VisionError) -> RGBImage {
        try check(frame, bytesPerPixel: 3)
        return try RGBImage(width: frame.width, height: frame.height, pixels: rows(frame, rowBytes: frame.width * 3))
    }

    private static func rows(_ frame: Frame, rowBytes: Int) -> [UInt8] {
        if frame.bytesPerLine == rowBytes { return Array(frame.data.prefix(rowBytes * frame.height)) }
        var packed: [UInt8] = []
        packed.reserveCapacity(rowBytes * frame.height)
        for row in 0..<frame.height {
            packed += frame.data[(row * frame.bytesPerLine)..<(row * frame.bytesPerLine + rowBytes)]
        }
        return packed
    }

    private static func check(_ frame: Frame, bytesPerPixel: Int) throws(VisionError) {
        guard frame.width > 0, frame.height > 0, frame.bytesPerLine >= frame.width * bytesPerPixel,
            frame.data.count >= frame.bytesPerLine * (frame.height - 1) + frame.width * bytesPerPixel
        else {
            throw VisionError(
                .argument,
                "a \(frame.format.rawValue) frame of \(frame.width)x\(frame.height) (\(frame.bytesPerLine) bytes a row) cannot hold in \(frame.data.count) bytes"
            )
        }
    }

    @inline(__always)
    private static func clamp(_ value: Int32) -> UInt8 {
        UInt8(clamping: value)
    }
}
