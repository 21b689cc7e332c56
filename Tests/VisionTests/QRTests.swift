import Foundation
import Imaging
import QRDrawing
import QRScanning
import Testing
import Vision

struct QRTests {
    @Test(
        "a rendered QR code reads back byte for byte, binary payloads included",
        arguments: [
            Data("RC1.eyJraWQiOiJrMSJ9.c2lnbmF0dXJl".utf8), Data([0, 1, 2, 0xFF, 0xFE, 0x80, 0x7F, 0]),
            Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
        ])
    func roundTrip(payload: Data) throws {
        let image = try QRCodeRenderer.render(payload, scale: 4)
        #expect(QRScanner().scan(image) == [payload])
    }

    @Test("a code in the middle of a larger busy frame is found; a frame without one gives nothing")
    func inAFrame() throws {
        let code = try QRCodeRenderer.render(Data("volunteer-42".utf8), scale: 5)
        var pixels = (0..<(640 * 480)).map { UInt8(truncatingIfNeeded: ($0 % 640) / 7 &+ ($0 / 640) / 5) }
        let busy = try GreyImage(width: 640, height: 480, pixels: pixels)
        let scanner = QRScanner()
        #expect(scanner.scan(busy).isEmpty)
        for row in 0..<code.height {
            for column in 0..<code.width {
                pixels[(row + 100) * 640 + column + 200] = code.pixels[row * code.width + column]
            }
        }
        #expect(scanner.scan(try GreyImage(width: 640, height: 480, pixels: pixels)) == [Data("volunteer-42".utf8)])
    }

    @Test("a payload too long for any QR code is refused")
    func tooLong() {
        #expect(throws: VisionError.self) { try QRCodeRenderer.render(Data(count: 5000)) }
    }
}
