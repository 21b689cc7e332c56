package import CImaging
public import Foundation

/// An 8-bit interleaved RGB image whose pixels Swift owns.
public struct RGBImage: Sendable, Equatable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `width * height * 3` bytes, row after row, red first.
    public let pixels: [UInt8]

    /// Wraps pixels; `pixels.count` must be `width * height * 3`.
    public init(width: Int, height: Int, pixels: [UInt8]) throws(VisionError) {
        guard width > 0, height > 0, pixels.count == width * height * 3 else {
            throw VisionError(
                .argument, "an RGB image of \(width)x\(height) needs \(width * height * 3) bytes, got \(pixels.count)")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Decodes a JPEG or PNG (or another format OpenCV reads) to RGB. Alpha is dropped, grey is
    /// expanded, 16-bit samples are scaled to 8 bits, EXIF orientation is ignored.
    public init(decoding data: Data) throws(VisionError) {
        var decoded = cvision_image()
        try check { error in
            data.withUnsafeBytes { raw in
                let bytes = raw.bindMemory(to: UInt8.self)
                return cvision_image_decode(bytes.baseAddress, bytes.count, &decoded, error)
            }
        }
        self.init(taking: &decoded)
    }

    /// Reads and decodes an image file.
    /// - Throws: `VisionError` with code `.io` when the file cannot be read, `.decode` when it is
    ///   not an image; the error names the file.
    public init(contentsOfFile path: String) throws(VisionError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw VisionError(.io, "no such file", path: path)
        }
        guard !isDirectory.boolValue else {
            throw VisionError(.io, "is a directory, not an image", path: path)
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw VisionError(.io, "cannot be read (check its permissions)", path: path)
        }
        do {
            try self.init(decoding: data)
        } catch {
            throw VisionError(error.code, error.message, path: path)
        }
    }

    /// Moves pixels made by the core into Swift's memory and releases the core's copy.
    package init(taking image: inout cvision_image) {
        defer { cvision_image_free(&image) }
        width = Int(image.width)
        height = Int(image.height)
        pixels = Array(UnsafeBufferPointer(start: image.pixels, count: width * height * 3))
    }

    /// Returns the image scaled to a new size (area averaging when shrinking, bilinear otherwise).
    public func resized(width newWidth: Int, height newHeight: Int) throws(VisionError) -> RGBImage {
        if newWidth == width && newHeight == height { return self }
        var resized = cvision_image()
        try withView { (view: UnsafePointer<cvision_image_view>) throws(VisionError) in
            try check {
                cvision_image_resize(view, Int32(clamping: newWidth), Int32(clamping: newHeight), &resized, $0)
            }
        }
        return RGBImage(taking: &resized)
    }

    /// Lends the core a view of the pixels for the duration of `body`.
    package func withView<R>(_ body: (UnsafePointer<cvision_image_view>) throws(VisionError) -> R) throws(VisionError)
        -> R
    {
        let result: Result<R, VisionError> = pixels.withUnsafeBufferPointer { buffer in
            var view = cvision_image_view(
                pixels: buffer.baseAddress, width: Int32(width), height: Int32(height), stride: Int32(width * 3))
            do throws(VisionError) {
                return .success(try body(&view))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

extension RGBImage {
    /// Converts a YUYV 4:2:2 frame (BT.601 limited range) to RGB in one SIMD pass (OpenCV).
    /// - Parameters:
    ///   - yuyv: the frame's bytes, `bytesPerLine` a row.
    public init(yuyv: [UInt8], width: Int, height: Int, bytesPerLine: Int) throws(VisionError) {
        guard width > 0, height > 0, bytesPerLine >= width * 2, yuyv.count >= bytesPerLine * (height - 1) + width * 2
        else {
            throw VisionError(.argument, "a YUYV frame of \(width)x\(height) cannot hold in \(yuyv.count) bytes")
        }
        var failure: VisionError?
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * 3) { out, count in
            do throws(VisionError) {
                try check { error in
                    yuyv.withUnsafeBufferPointer {
                        cvision_yuyv_to_rgb(
                            $0.baseAddress, Int32(width), Int32(height), Int32(bytesPerLine), out.baseAddress, error)
                    }
                }
                count = width * height * 3
            } catch {
                failure = error
                count = 0
            }
        }
        if let failure { throw failure }
        try self.init(width: width, height: height, pixels: pixels)
    }

    /// The image as a PNG file's bytes.
    public func pngData() throws(VisionError) -> Data {
        var encoded = cvision_bytes()
        try withView { (view: UnsafePointer<cvision_image_view>) throws(VisionError) in
            try check { cvision_image_encode_png(view, &encoded, $0) }
        }
        defer { cvision_bytes_free(&encoded) }
        return Data(bytes: encoded.data, count: encoded.size)
    }

    /// Returns the pixels of a rectangle inside the image.
    public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) throws(VisionError) -> RGBImage {
        guard x >= 0, y >= 0, cropWidth > 0, cropHeight > 0, x + cropWidth <= width, y + cropHeight <= height else {
            throw VisionError(
                .argument, "crop \(cropWidth)x\(cropHeight) at (\(x), \(y)) is outside the \(width)x\(height) image")
        }
        if cropWidth == width && cropHeight == height { return self }
        var cropped: [UInt8] = []
        cropped.reserveCapacity(cropWidth * cropHeight * 3)
        for row in y..<(y + cropHeight) {
            let start = (row * width + x) * 3
            cropped.append(contentsOf: pixels[start..<(start + cropWidth * 3)])
        }
        return try RGBImage(width: cropWidth, height: cropHeight, pixels: cropped)
    }
}
