import Foundation
import Imaging
import TestSupport
import Testing
import Vision

struct DecodingTests {
    @Test("RGBA loses its alpha channel, colours unchanged")
    func rgbaDropsAlpha() throws {
        let samples: [UInt8] = [10, 20, 30, 0, 40, 50, 60, 128, 70, 80, 90, 255, 1, 2, 3, 4]
        let image = try RGBImage(
            decoding: PNGWriter.png(width: 2, height: 2, bitDepth: 8, color: .rgba, samples: samples))
        #expect(image.width == 2 && image.height == 2)
        #expect(image.pixels == [10, 20, 30, 40, 50, 60, 70, 80, 90, 1, 2, 3])
    }

    @Test("grey is expanded to three equal channels")
    func greyExpands() throws {
        let image = try RGBImage(
            decoding: PNGWriter.png(width: 3, height: 1, bitDepth: 8, color: .grey, samples: [0, 127, 255]))
        #expect(image.pixels == [0, 0, 0, 127, 127, 127, 255, 255, 255])
    }

    @Test("16-bit samples are scaled to 8 bits, so a 16-bit copy of a photo decodes like the photo")
    func sixteenBitScales() throws {
        let grey: [UInt8] = [0, 1, 18, 127, 128, 200, 254, 255]
        // v * 257 is the exact 16-bit form of an 8-bit value v.
        let wide = grey.flatMap { value -> [UInt8] in
            let sample = UInt16(value) * 257
            return [UInt8(sample >> 8), UInt8(sample & 0xFF)]
        }
        let eight = try RGBImage(decoding: PNGWriter.png(width: 4, height: 2, bitDepth: 8, color: .grey, samples: grey))
        let sixteen = try RGBImage(
            decoding: PNGWriter.png(width: 4, height: 2, bitDepth: 16, color: .grey, samples: wide))
        #expect(sixteen == eight)
    }

    @Test("a 16-bit RGB PNG decodes to 8-bit RGB")
    func sixteenBitRGB() throws {
        let samples: [UInt8] = [0x12, 0x34, 0xAB, 0xCD, 0xFF, 0xFF]
        let image = try RGBImage(
            decoding: PNGWriter.png(width: 1, height: 1, bitDepth: 16, color: .rgb, samples: samples))
        #expect(image.pixels == [0x12, 0xAB, 0xFF])
    }

    @Test(
        "bytes that are not an image give a decode error",
        arguments: [
            Data(), Data("hello, this is text".utf8), Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0]),
            Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }),
        ])
    func garbageIsRejected(data: Data) {
        #expect(throws: VisionError.self) { try RGBImage(decoding: data) }
        do {
            _ = try RGBImage(decoding: data)
        } catch {
            #expect(error.code == .decode || error.code == .argument, "\(error)")
            #expect(!error.message.isEmpty)
        }
    }

    @Test("a truncated PNG is refused, never a crash")
    func truncatedPNG() throws {
        let whole = PNGWriter.png(
            width: 64, height: 64, bitDepth: 8, color: .rgb, samples: [UInt8](repeating: 90, count: 64 * 64 * 3))
        for length in stride(from: 8, to: whole.count - 12, by: 997) {
            #expect(throws: VisionError.self) { try RGBImage(decoding: whole.prefix(length)) }
        }
    }

    @Test("a truncated or damaged JPEG decodes or fails cleanly", .needsFixtures)
    func damagedJPEG() throws {
        let whole = try Data(contentsOf: TestResources.faces.appendingPathComponent("obama.jpg"))
        var damaged = whole
        for index in stride(from: 600, to: damaged.count, by: 1500) { damaged[index] ^= 0x5A }
        for data in [whole.prefix(whole.count / 2), whole.prefix(300), damaged] {
            do {
                let image = try RGBImage(decoding: data)
                #expect(image.width == 910 && image.height == 1137)
            } catch {
                #expect(error.code == .decode)
            }
        }
    }

    @Test("file errors name the file: missing, a folder, not an image")
    func fileErrors() throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = folder.appendingPathComponent("notes.txt")
        try Data("not a picture".utf8).write(to: text)
        let cases: [(String, VisionError.Code)] = [
            (folder.appendingPathComponent("missing.jpg").path, .io), (folder.path, .io), (text.path, .decode),
        ]
        for (path, code) in cases {
            do {
                _ = try RGBImage(contentsOfFile: path)
                Issue.record("\(path) decoded")
            } catch {
                #expect(error.code == code)
                #expect(error.path == path)
                #expect(error.description.hasPrefix(path + ": "))
            }
        }
    }

    @Test("the RGBA fixture decodes to its size with three channels", .needsFixtures)
    func rgbaFixture() throws {
        let image = try fixtureImage("32bit.png")
        #expect(image.width == 626 && image.height == 1200)
        #expect(image.pixels.count == 626 * 1200 * 3)
    }

    @Test("PNG encoding is lossless: encode, decode, same pixels")
    func pngRoundTrip() throws {
        let pixels = (0..<(33 * 17 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let image = try RGBImage(width: 33, height: 17, pixels: pixels)
        let png = try image.pngData()
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(try RGBImage(decoding: png) == image)
    }

    @Test("crop and resize keep the pixels they should")
    func cropAndResize() throws {
        var pixels: [UInt8] = []
        for index in 0..<12 {
            pixels += [UInt8(index), UInt8(index * 2), UInt8(index * 3)]
        }
        let image = try RGBImage(width: 4, height: 3, pixels: pixels)
        let crop = try image.cropped(x: 1, y: 1, width: 2, height: 2)
        #expect(crop.pixels == [5, 10, 15, 6, 12, 18, 9, 18, 27, 10, 20, 30])
        #expect(throws: VisionError.self) { try image.cropped(x: 3, y: 0, width: 2, height: 1) }
        let flat = try RGBImage(width: 4, height: 4, pixels: [UInt8](repeating: 77, count: 48))
        let half = try flat.resized(width: 2, height: 2)
        #expect(half.pixels == [UInt8](repeating: 77, count: 12))
        #expect(try flat.resized(width: 8, height: 6).pixels.count == 8 * 6 * 3)
    }
}
