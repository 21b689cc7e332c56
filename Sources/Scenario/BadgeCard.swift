import Foundation
import Imaging
import QRDrawing
import Vision

/// A printed volunteer badge: a white card with a coloured header band and the QR code below it.
enum BadgeCard {
    /// Pixels a QR module takes on the card before it is projected into the frame.
    static let moduleScale = 4
    static let margin = 10
    static let header = 34

    /// The card for a payload.
    static func render(payload: String) throws(VisionError) -> RGBImage {
        let code = RGBImage(grey: try QRCodeRenderer.render(Data(payload.utf8), scale: moduleScale))
        let width = code.width + 2 * margin
        let height = header + code.height + margin
        var card = try Background.plain(width: width, height: height, colour: SIMD3(250, 250, 246))
        card = try card.pasting(Background.plain(width: width, height: header, colour: SIMD3(0, 122, 128)), x: 0, y: 0)
        // Blocks standing for the printed name and role: flat, so nothing looks like a finder pattern.
        card = try card.pasting(
            Background.plain(width: width / 2, height: 10, colour: SIMD3(236, 244, 244)), x: margin, y: 8)
        card = try card.pasting(
            Background.plain(width: width / 4, height: 6, colour: SIMD3(200, 226, 226)), x: margin, y: 22)
        return try card.pasting(code, x: margin, y: header)
    }
}

/// Where a flat card held in front of the camera lands in the frame: the card, scaled to frame
/// pixels, is turned by yaw (about the vertical axis), pitch (horizontal axis) and roll (in the
/// frame's plane), centred at `centre`, and projected by a pinhole camera.
struct CardPose {
    var centre: SIMD2<Double>
    /// Frame pixels per card pixel when the card faces the camera.
    var scale: Double
    /// Degrees.
    var yaw: Double
    var pitch: Double
    var roll: Double

    /// A 640-pixel-wide camera with a field of view of about 63 degrees.
    static let focalLength = 520.0

    /// The frame positions of the card's corner pixels.
    func quad(cardWidth: Int, cardHeight: Int) -> Quad {
        let (w, h) = (Double(cardWidth - 1), Double(cardHeight - 1))
        let corners = [SIMD2(0, 0), SIMD2(w, 0), SIMD2(w, h), SIMD2(0, h)].map { project($0 - SIMD2(w / 2, h / 2)) }
        return Quad(topLeft: corners[0], topRight: corners[1], bottomRight: corners[2], bottomLeft: corners[3])
    }

    private func project(_ point: SIMD2<Double>) -> SIMD2<Double> {
        let (a, b, c) = (yaw * .pi / 180, pitch * .pi / 180, roll * .pi / 180)
        var p = SIMD3(point.x * scale, point.y * scale, 0)
        // Yaw, then pitch, then roll.
        p = SIMD3(p.x * cos(a) + p.z * sin(a), p.y, -p.x * sin(a) + p.z * cos(a))
        p = SIMD3(p.x, p.y * cos(b) - p.z * sin(b), p.y * sin(b) + p.z * cos(b))
        p = SIMD3(p.x * cos(c) - p.y * sin(c), p.x * sin(c) + p.y * cos(c), p.z)
        let depth = Self.focalLength + p.z
        return centre + SIMD2(p.x, p.y) * (Self.focalLength / depth)
    }
}
