import CQREncode
public import Foundation
public import Imaging

/// Draws QR codes with libqrencode: for printing badges and for test frames.
public enum QRCodeRenderer {
    /// A QR code of `payload` (binary mode, error correction M) as a grey image: black modules on
    /// white, `scale` pixels a module, with the 4-module quiet zone the standard asks for.
    /// - Throws: `VisionError(.argument)` when the payload is too long for a QR code.
    public static func render(_ payload: Data, scale: Int = 6) throws(VisionError) -> GreyImage {
        precondition(scale > 0, "scale is at least 1")
        let code = payload.withUnsafeBytes { raw in
            QRcode_encodeData(Int32(raw.count), raw.bindMemory(to: UInt8.self).baseAddress, 0, QR_ECLEVEL_M)
        }
        guard let code else {
            throw VisionError(.argument, "a QR code cannot hold \(payload.count) bytes")
        }
        defer { QRcode_free(code) }
        let modules = Int(code.pointee.width)
        let side = (modules + 8) * scale
        var pixels = [UInt8](repeating: 255, count: side * side)
        for y in 0..<modules {
            for x in 0..<modules where code.pointee.data[y * modules + x] & 1 != 0 {
                for row in 0..<scale {
                    let start = ((y + 4) * scale + row) * side + (x + 4) * scale
                    for column in 0..<scale { pixels[start + column] = 0 }
                }
            }
        }
        return try GreyImage(width: side, height: side, pixels: pixels)
    }
}
