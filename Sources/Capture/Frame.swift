import CV4L2
import Foundation
public import Imaging

/// How a frame's bytes are laid out.
public enum PixelFormat: String, Sendable, Codable, CaseIterable {
    /// YUV 4:2:2, two bytes a pixel: Y0 U Y1 V.
    case yuyv = "YUYV"
    /// 8-bit luma only.
    case grey = "GREY"
    /// Motion JPEG: each frame a JPEG image.
    case mjpeg = "MJPG"
    /// 8-bit RGB (frames from files).
    case rgb24 = "RGB3"

    /// The V4L2 code of the format.
    public var fourcc: UInt32 {
        switch self {
        case .yuyv: CV4L2_PIX_FMT_YUYV
        case .grey: CV4L2_PIX_FMT_GREY
        case .mjpeg: CV4L2_PIX_FMT_MJPEG
        case .rgb24: Self.code("RGB3")
        }
    }

    /// The format with this V4L2 code (JPEG counts as MJPEG), or nil if rollcall cannot use it.
    public init?(fourcc: UInt32) {
        if fourcc == CV4L2_PIX_FMT_JPEG {
            self = .mjpeg
            return
        }
        guard let format = Self.allCases.first(where: { $0.fourcc == fourcc }) else { return nil }
        self = format
    }

    /// Bytes a pixel takes (0 for compressed formats).
    public var bytesPerPixel: Int {
        switch self {
        case .yuyv: 2
        case .grey: 1
        case .mjpeg: 0
        case .rgb24: 3
        }
    }

    /// "YUYV" for a V4L2 code.
    public static func fourccString(_ code: UInt32) -> String {
        String(decoding: (0..<4).map { UInt8(truncatingIfNeeded: code >> (8 * $0)) }, as: UTF8.self)
    }

    static func code(_ text: String) -> UInt32 {
        text.utf8.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }
}

/// One image from a frame source, with where it came from in time.
public struct Frame: Sendable {
    public var format: PixelFormat
    public var width: Int
    public var height: Int
    /// Bytes from one row to the next (0 for MJPEG).
    public var bytesPerLine: Int
    /// The frame's bytes, owned by Swift (the driver's buffer has already gone back to it).
    public var data: [UInt8]
    /// When the frame was captured: CLOCK_MONOTONIC nanoseconds (the driver's stamp when it gives one).
    public var timestamp: UInt64
    /// The source's frame counter (the driver's sequence number for cameras).
    public var sequence: UInt64
    /// Frames the source captured but dropped since the previous frame delivered, because a newer one
    /// was ready first or the consumer was busy.
    public var droppedBefore: Int

    /// Makes a frame.
    public init(
        format: PixelFormat, width: Int, height: Int, bytesPerLine: Int, data: [UInt8], timestamp: UInt64,
        sequence: UInt64, droppedBefore: Int = 0
    ) {
        self.format = format
        self.width = width
        self.height = height
        self.bytesPerLine = bytesPerLine
        self.data = data
        self.timestamp = timestamp
        self.sequence = sequence
        self.droppedBefore = droppedBefore
    }

    /// Nanoseconds since the frame was captured.
    public var age: UInt64 {
        let now = Monotonic.nanoseconds()
        return now > timestamp ? now - timestamp : 0
    }

    /// The luma plane (for QR codes and detection), in one pass over the frame.
    public func greyImage() throws(VisionError) -> GreyImage {
        switch format {
        case .yuyv: return try PixelConversion.greyFromYUYV(self)
        case .grey: return try PixelConversion.packedGrey(self)
        case .rgb24, .mjpeg: return try PixelConversion.greyFromRGB(try rgbImage())
        }
    }

    /// The frame in RGB (for encoding faces), in one pass over the frame; MJPEG is decoded.
    public func rgbImage() throws(VisionError) -> RGBImage {
        switch format {
        case .yuyv: return try PixelConversion.rgbFromYUYV(self)
        case .grey: return try PixelConversion.rgbFromGrey(self)
        case .mjpeg: return try RGBImage(decoding: Data(data))
        case .rgb24: return try PixelConversion.packedRGB(self)
        }
    }
}
