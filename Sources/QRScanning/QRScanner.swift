import CZBar
public import Foundation
public import Imaging

/// Finds QR codes in grey images with zbar's image scanner: QR only (no other barcode is looked
/// for, which saves time and false reads) and in binary mode, so payloads come back byte for byte.
/// A scanner keeps state between calls: use one per thread.
public final class QRScanner {
    private let scanner: OpaquePointer

    /// Makes a scanner.
    public init() {
        scanner = zbar_image_scanner_create()
        zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_ENABLE, 0)
        zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1)
        zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1)
    }

    deinit {
        zbar_image_scanner_destroy(scanner)
    }

    /// The payloads of the QR codes in the image, in the order zbar finds them.
    public func scan(_ image: GreyImage) -> [Data] {
        guard let zimage = zbar_image_create() else { return [] }
        defer { zbar_image_destroy(zimage) }
        zbar_image_set_format(zimage, CZBAR_FORMAT_Y800)
        zbar_image_set_size(zimage, UInt32(image.width), UInt32(image.height))
        return image.pixels.withUnsafeBufferPointer { pixels in
            // zbar reads the pixels in place and does not free them (no cleanup handler).
            zbar_image_set_data(zimage, pixels.baseAddress, UInt(pixels.count), nil)
            guard zbar_scan_image(scanner, zimage) > 0 else { return [] }
            var payloads: [Data] = []
            var symbol = zbar_image_first_symbol(zimage)
            while let current = symbol {
                if zbar_symbol_get_type(current) == ZBAR_QRCODE, let bytes = zbar_symbol_get_data(current) {
                    payloads.append(Data(bytes: bytes, count: Int(zbar_symbol_get_data_length(current))))
                }
                symbol = zbar_symbol_next(current)
            }
            // Detach the borrowed pixels before the buffer pointer goes out of scope.
            zbar_image_set_data(zimage, nil, 0, nil)
            return payloads
        }
    }
}
