import Foundation
import Imaging
import QRDrawing
import QRScanning
import TestSupport
import Testing

@testable import Capture

struct PixelConversionTests {
    func frame(_ format: PixelFormat, _ width: Int, _ height: Int, stride: Int, data: [UInt8]) -> Frame {
        Frame(format: format, width: width, height: height, bytesPerLine: stride, data: data, timestamp: 0, sequence: 0)
    }

    @Test("grey from YUYV is the Y bytes, row padding skipped")
    func greyFromYUYV() throws {
        // 4x2 pixels, rows padded to 12 bytes.
        let data: [UInt8] = [10, 1, 20, 2, 30, 3, 40, 4, 9, 9, 9, 9, 50, 5, 60, 6, 70, 7, 80, 8, 9, 9, 9, 9]
        let grey = try frame(.yuyv, 4, 2, stride: 12, data: data).greyImage()
        #expect(grey.pixels == [10, 20, 30, 40, 50, 60, 70, 80])
    }

    @Test("YUYV to RGB: BT.601 limited range, known colours")
    func knownColours() throws {
        // Black (16,128,128), white (235,128,128), and pure red (81,90,240).
        let data: [UInt8] = [16, 128, 16, 128, 235, 128, 235, 128, 81, 90, 81, 240]
        let rgb = try frame(.yuyv, 6, 1, stride: 12, data: data).rgbImage()
        #expect(Array(rgb.pixels[0..<3]) == [0, 0, 0])
        #expect(Array(rgb.pixels[6..<9]) == [255, 255, 255])
        let red = Array(rgb.pixels[12..<15]).map(Int.init)
        #expect(red[0] >= 250 && red[1] <= 3 && red[2] <= 3, "\(red)")
    }

    @Test("RGB to YUYV and back stays within chroma subsampling error", .enabled(if: TestResources.fixturesEnabled))
    func roundTrip() throws {
        let image = try RGBImage(contentsOfFile: TestResources.faces.appendingPathComponent("obama_small.jpg").path)
        let yuyv = PixelConversion.yuyv(from: image)
        let back = try frame(.yuyv, image.width, image.height, stride: image.width * 2, data: yuyv).rgbImage()
        let errors = zip(image.pixels, back.pixels).map { abs(Int($0) - Int($1)) }
        let mean = Double(errors.reduce(0, +)) / Double(errors.count)
        #expect(mean < 6, "mean error \(mean)")
        let grey = try frame(.yuyv, image.width, image.height, stride: image.width * 2, data: yuyv).greyImage()
        let luma = try PixelConversion.greyFromRGB(image)
        let lumaError = zip(grey.pixels, luma.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(lumaError <= 40, "limited-range Y vs full-range luma")
    }

    @Test(
        "GREY frames expand to RGB; RGB frames pass through; MJPEG frames decode",
        .enabled(if: TestResources.fixturesEnabled))
    func otherFormats() throws {
        let grey = frame(.grey, 2, 2, stride: 3, data: [1, 2, 0, 3, 4, 0])
        #expect(try grey.rgbImage().pixels == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4])
        #expect(try grey.greyImage().pixels == [1, 2, 3, 4])
        let rgb = frame(.rgb24, 1, 1, stride: 3, data: [7, 8, 9])
        #expect(try rgb.rgbImage().pixels == [7, 8, 9])
        let jpeg = try Data(contentsOf: TestResources.faces.appendingPathComponent("obama_small.jpg"))
        let mjpeg = frame(.mjpeg, 320, 240, stride: 0, data: Array(jpeg))
        #expect(try mjpeg.rgbImage().width == 320)
        #expect(try mjpeg.greyImage().pixels.count == 320 * 240)
    }

    @Test("a frame too short for its size is refused, not read past its end")
    func shortFrame() {
        #expect(throws: VisionError.self) {
            try frame(.yuyv, 640, 480, stride: 1280, data: [UInt8](repeating: 0, count: 1000)).greyImage()
        }
        #expect(throws: VisionError.self) { try frame(.yuyv, 640, 480, stride: 1280, data: []).rgbImage() }
    }

    @Test("a QR code survives RGB -> YUYV -> grey, as an injected camera frame does")
    func qrThroughYUYV() throws {
        let payload = Data("RC1.test-frame".utf8)
        let code = try QRCodeRenderer.render(payload, scale: 6)
        var rgb = [UInt8](repeating: 200, count: 640 * 480 * 3)
        for row in 0..<code.height {
            for column in 0..<code.width {
                let value = code.pixels[row * code.width + column]
                let offset = ((row + 60) * 640 + column + 160) * 3
                rgb[offset] = value
                rgb[offset + 1] = value
                rgb[offset + 2] = value
            }
        }
        let yuyv = PixelConversion.yuyv(from: try RGBImage(width: 640, height: 480, pixels: rgb))
        let grey = try frame(.yuyv, 640, 480, stride: 1280, data: yuyv).greyImage()
        #expect(QRScanner().scan(grey) == [payload])
    }
}
