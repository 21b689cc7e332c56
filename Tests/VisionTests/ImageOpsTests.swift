import Imaging
import Testing
import Vision

/// An image of one colour.
private func solid(_ width: Int, _ height: Int, _ rgb: [UInt8]) throws -> RGBImage {
    try RGBImage(width: width, height: height, pixels: (0..<(width * height)).flatMap { _ in rgb })
}

/// The RGB samples of a pixel.
private func pixel(_ image: RGBImage, _ x: Int, _ y: Int) -> [UInt8] {
    let index = (y * image.width + x) * 3
    return Array(image.pixels[index..<(index + 3)])
}

private func variance(_ samples: [UInt8]) -> Double {
    let mean = samples.reduce(0.0) { $0 + Double($1) } / Double(samples.count)
    return samples.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(samples.count)
}

/// Black and white vertical stripes `stripe` pixels wide (one edge in the middle by default).
private func edges(width: Int = 40, height: Int = 20, stripe: Int = 20) throws -> RGBImage {
    var pixels: [UInt8] = []
    for _ in 0..<height {
        for x in 0..<width {
            pixels += (x / stripe) % 2 == 0 ? [0, 0, 0] : [255, 255, 255]
        }
    }
    return try RGBImage(width: width, height: height, pixels: pixels)
}

struct ImageOpsTests {
    @Test("blur smooths an edge (lower variance, same mean) and leaves a flat image flat")
    func blur() throws {
        let stripes = try edges(width: 64, height: 16, stripe: 4)
        let smoothed = try stripes.blurred(sigma: 2)
        #expect(smoothed.width == stripes.width && smoothed.height == stripes.height)
        #expect(variance(smoothed.pixels) < 0.2 * variance(stripes.pixels))
        let mean = { (image: RGBImage) in image.pixels.reduce(0.0) { $0 + Double($1) } / Double(image.pixels.count) }
        #expect(abs(mean(smoothed) - mean(stripes)) < 2)
        let image = try edges()
        let blurred = try image.blurred(sigma: 2)
        #expect(variance(blurred.pixels) < variance(image.pixels))
        // Far from the edge nothing changes; next to it the values are in between.
        #expect(pixel(blurred, 2, 10) == [0, 0, 0] && pixel(blurred, 37, 10) == [255, 255, 255])
        #expect((60...195).contains(pixel(blurred, 19, 10)[0]))
        let flat = try solid(16, 16, [90, 120, 30])
        #expect(try flat.blurred(sigma: 5) == flat)
        #expect(throws: VisionError.self) { try flat.blurred(sigma: 0) }
        #expect(throws: VisionError.self) { try flat.blurred(sigma: .nan) }
    }

    @Test("a warp puts the image's corners on the quad's corners and paints nothing outside it")
    func warp() throws {
        // Quadrants: red top left, green top right, blue bottom right, yellow bottom left.
        var pixels: [UInt8] = []
        for y in 0..<30 {
            for x in 0..<40 {
                switch (x < 20, y < 15) {
                case (true, true): pixels += [255, 0, 0]
                case (false, true): pixels += [0, 255, 0]
                case (false, false): pixels += [0, 0, 255]
                case (true, false): pixels += [255, 255, 0]
                }
            }
        }
        let card = try RGBImage(width: 40, height: 30, pixels: pixels)
        let canvas = try solid(200, 150, [128, 128, 128])
        let quad = Quad(
            topLeft: SIMD2(30, 20), topRight: SIMD2(160, 35), bottomRight: SIMD2(150, 130), bottomLeft: SIMD2(20, 110))
        let warped = try canvas.drawing(card, onto: quad)
        #expect(pixel(warped, 30, 20) == [255, 0, 0])
        #expect(pixel(warped, 160, 35) == [0, 255, 0])
        #expect(pixel(warped, 150, 130) == [0, 0, 255])
        #expect(pixel(warped, 20, 110) == [255, 255, 0])
        // Just inside each corner, towards the middle, still the corner's colour.
        #expect(pixel(warped, 36, 27) == [255, 0, 0])
        #expect(pixel(warped, 153, 41) == [0, 255, 0])
        #expect(pixel(warped, 143, 123) == [0, 0, 255])
        #expect(pixel(warped, 27, 103) == [255, 255, 0])
        // Outside the quad the canvas is untouched: its corners, and points just beyond each edge.
        for (x, y) in [(0, 0), (199, 0), (199, 149), (0, 149), (95, 22), (165, 80), (85, 125), (22, 60)] {
            #expect(pixel(warped, x, y) == [128, 128, 128], "(\(x), \(y))")
        }
        // A quad partly or wholly outside the canvas is clipped, not an error.
        let offside = Quad(
            topLeft: SIMD2(-50, -40), topRight: SIMD2(60, -30), bottomRight: SIMD2(50, 40), bottomLeft: SIMD2(-60, 30))
        let clipped = try canvas.drawing(card, onto: offside)
        #expect(pixel(clipped, 0, 0) != [128, 128, 128] && pixel(clipped, 199, 149) == [128, 128, 128])
        let away = Quad(
            topLeft: SIMD2(500, 500), topRight: SIMD2(600, 500), bottomRight: SIMD2(600, 600),
            bottomLeft: SIMD2(500, 600))
        #expect(try canvas.drawing(card, onto: away) == canvas)
    }

    @Test("contrast scales the distance from 128, brightness shifts, both saturate")
    func adjust() throws {
        let image = try RGBImage(
            width: 5, height: 1, pixels: [28, 128, 228, 0, 255, 100, 64, 192, 10, 250, 1, 2, 3, 4, 5])
        let halved = try image.adjusted(contrast: 0.5)
        #expect(Array(halved.pixels[0..<3]) == [78, 128, 178])
        #expect(variance(halved.pixels) > 0.24 * variance(image.pixels))
        #expect(variance(halved.pixels) < 0.26 * variance(image.pixels))
        #expect(try image.adjusted() == image)
        #expect(Array(try image.adjusted(brightness: 10).pixels[0..<3]) == [38, 138, 238])
        #expect(Array(try image.adjusted(brightness: 100).pixels[0..<3]) == [128, 228, 255])
        #expect(Array(try image.adjusted(contrast: 2).pixels[3..<6]) == [0, 255, 72])
        #expect(throws: VisionError.self) { try image.adjusted(contrast: -1) }
    }

    @Test("a paste outside the canvas is clipped, not a crash; an elliptical mask fades the corners out")
    func paste() throws {
        let canvas = try solid(100, 80, [0, 0, 0])
        let patch = try solid(50, 40, [200, 100, 50])
        let topLeft = try canvas.pasting(patch, x: -20, y: -10)
        #expect(pixel(topLeft, 0, 0) == [200, 100, 50] && pixel(topLeft, 29, 29) == [200, 100, 50])
        #expect(pixel(topLeft, 30, 10) == [0, 0, 0] && pixel(topLeft, 10, 30) == [0, 0, 0])
        let bottomRight = try canvas.pasting(patch, x: 80, y: 70)
        #expect(pixel(bottomRight, 99, 79) == [200, 100, 50] && pixel(bottomRight, 79, 69) == [0, 0, 0])
        for (x, y) in [(100, 0), (0, 80), (-50, 0), (0, -40), (Int.min, Int.max), (Int.max, 5)] {
            #expect(try canvas.pasting(patch, x: x, y: y) == canvas, "(\(x), \(y))")
        }
        #expect(try canvas.pasting(patch, x: 10, y: 10, opacity: 0) == canvas)
        #expect(pixel(try canvas.pasting(patch, x: 10, y: 10, opacity: 0.5), 30, 30) == [100, 50, 25])

        let feathered = try canvas.pasting(patch, x: 20, y: 20, mask: .ellipse(feather: 8))
        #expect(pixel(feathered, 45, 40) == [200, 100, 50], "the centre is the patch")
        #expect(pixel(feathered, 20, 20) == [0, 0, 0] && pixel(feathered, 69, 59) == [0, 0, 0], "corners are not")
        let rim = pixel(feathered, 23, 40)[0]
        #expect(rim > 0 && rim < 200, "the edge fades: \(rim)")
        #expect(throws: VisionError.self) { try canvas.pasting(patch, x: 0, y: 0, mask: .ellipse(feather: -1)) }
        #expect(throws: VisionError.self) { try canvas.pasting(patch, x: 0, y: 0, opacity: 2) }
    }

    @Test("glare brightens around its centre, fading to nothing at its radius")
    func glare() throws {
        let image = try solid(60, 60, [100, 100, 100])
        let glared = try image.addingGlare(center: SIMD2(30, 30), radius: 20, strength: 0.4)
        #expect(pixel(glared, 30, 30) == [202, 202, 202])
        let samples = [30, 35, 40, 45, 49].map { pixel(glared, $0, 30)[0] }
        #expect(samples == samples.sorted(by: >) && Set(samples).count == samples.count)
        #expect(pixel(glared, 50, 30) == [100, 100, 100] && pixel(glared, 0, 0) == [100, 100, 100])
        #expect(
            pixel(try image.addingGlare(center: SIMD2(30, 30), radius: 20, strength: 1), 30, 30) == [255, 255, 255])
        // A spot centred off the image still lights the part within reach.
        let corner = try image.addingGlare(center: SIMD2(-5, -5), radius: 20, strength: 1)
        #expect(pixel(corner, 0, 0)[0] > 200 && pixel(corner, 30, 30) == [100, 100, 100])
    }

    @Test("noise is the same for the same seed, different for another, and about sigma strong")
    func noise() throws {
        let image = try solid(64, 64, [128, 128, 128])
        let first = try image.addingNoise(sigma: 3, seed: 7)
        #expect(try image.addingNoise(sigma: 3, seed: 7) == first)
        #expect(try image.addingNoise(sigma: 3, seed: 8) != first)
        #expect(try image.addingNoise(sigma: 0, seed: 7) == image)
        let spread = variance(first.pixels).squareRoot()
        #expect(spread > 2.5 && spread < 3.5)
    }
}
