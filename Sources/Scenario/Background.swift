import Imaging
import Vision

/// SplitMix64: a tiny seeded generator, so the scene is the same on every run and every platform.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in -1...1.
    mutating func signedUnit() -> Double {
        Double(next() >> 11) / Double(1 << 53) * 2 - 1
    }
}

/// The empty corridor wall the camera looks at: a lit wall with a soft texture, a door frame, a
/// notice board, a poster, a clock and a floor strip. Plain shapes and smooth shading, nothing
/// face-like and nothing a QR scanner could take for a finder pattern.
enum Background {
    static func render(width: Int, height: Int, seed: UInt64 = 0x0B12) throws(VisionError) -> RGBImage {
        var generator = SeededGenerator(seed: seed)
        // Low-frequency texture: random values on a coarse grid, interpolated.
        let cell = 24
        let gridWidth = width / cell + 2
        let gridHeight = height / cell + 2
        let grid = (0..<(gridWidth * gridHeight)).map { _ in generator.signedUnit() * 6 }
        let floorTop = Int(Double(height) * 0.8)

        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                let gy = Double(y) / Double(cell)
                let row = Int(gy)
                let fy = gy - Double(row)
                for x in 0..<width {
                    let gx = Double(x) / Double(cell)
                    let column = Int(gx)
                    let fx = gx - Double(column)
                    let top = grid[row * gridWidth + column] * (1 - fx) + grid[row * gridWidth + column + 1] * fx
                    let bottom =
                        grid[(row + 1) * gridWidth + column] * (1 - fx) + grid[(row + 1) * gridWidth + column + 1] * fx
                    let texture = top * (1 - fy) + bottom * fy
                    let grain = generator.signedUnit() * 3
                    var colour: SIMD3<Double>
                    if y < floorTop {
                        // A wall lit from the top right.
                        let light = 1.0 - 0.18 * Double(y) / Double(floorTop) - 0.08 * Double(width - x) / Double(width)
                        colour = SIMD3(206, 204, 190) * light
                    } else {
                        let depth = Double(y - floorTop) / Double(height - floorTop)
                        colour = SIMD3(128, 104, 84) * (0.85 + 0.25 * depth)
                        // Floor boards.
                        if (x + (y - floorTop) * 3) % 80 < 2 { colour *= 0.85 }
                    }
                    colour += SIMD3(repeating: texture + grain)
                    let index = (y * width + x) * 3
                    out[index] = channel(colour.x)
                    out[index + 1] = channel(colour.y)
                    out[index + 2] = channel(colour.z)
                }
            }
        }
        var image = try RGBImage(width: width, height: height, pixels: pixels)
        // Skirting board along the floor.
        image = try image.pasting(plain(width: width, height: 6, colour: SIMD3(96, 88, 80)), x: 0, y: floorTop - 6)
        // Door frame on the far left.
        image = try image.pasting(plain(width: 14, height: floorTop, colour: SIMD3(120, 84, 60)), x: 6, y: 0)
        // Notice board with pinned sheets.
        image = try image.pasting(plain(width: 150, height: 96, colour: SIMD3(176, 132, 86)), x: 462, y: 24)
        for (index, sheet) in [(472, 34, 38, 50), (518, 30, 30, 40), (556, 40, 44, 34), (520, 78, 56, 30)]
            .enumerated()
        {
            let tint: SIMD3<Double> = [SIMD3(236, 236, 228), SIMD3(240, 226, 150), SIMD3(190, 220, 236)][index % 3]
            image = try image.pasting(
                plain(width: sheet.2, height: sheet.3, colour: tint), x: sheet.0, y: sheet.1)
        }
        // A poster: a framed landscape of flat bands.
        image = try image.pasting(plain(width: 92, height: 120, colour: SIMD3(60, 62, 70)), x: 36, y: 40)
        image = try image.pasting(plain(width: 80, height: 60, colour: SIMD3(120, 170, 210)), x: 42, y: 46)
        image = try image.pasting(plain(width: 80, height: 48, colour: SIMD3(90, 140, 90)), x: 42, y: 106)
        // A wall clock: a round white face with a dark rim.
        image = try image.pasting(
            plain(width: 40, height: 40, colour: SIMD3(50, 50, 56)), x: 584, y: 150, mask: .ellipse(feather: 1))
        image = try image.pasting(
            plain(width: 32, height: 32, colour: SIMD3(244, 244, 240)), x: 588, y: 154, mask: .ellipse(feather: 1))
        return image
    }

    /// A rectangle of one colour.
    static func plain(width: Int, height: Int, colour: SIMD3<Double>) throws(VisionError) -> RGBImage {
        let rgb = [channel(colour.x), channel(colour.y), channel(colour.z)]
        return try RGBImage(
            width: width, height: height,
            pixels: [UInt8]((0..<(width * height)).lazy.flatMap { _ in rgb }))
    }

    static func channel(_ value: Double) -> UInt8 {
        UInt8(max(0, min(255, value.rounded())))
    }
}
