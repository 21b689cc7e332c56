import CImaging

/// Four corners in image coordinates (pixel centres at whole numbers), clockwise from the top left:
/// where a perspective warp puts an image's corner pixels.
public struct Quad: Sendable, Hashable, Codable {
    public var topLeft: SIMD2<Double>
    public var topRight: SIMD2<Double>
    public var bottomRight: SIMD2<Double>
    public var bottomLeft: SIMD2<Double>

    /// Makes a quad from its corners, clockwise from the top left.
    public init(
        topLeft: SIMD2<Double>, topRight: SIMD2<Double>, bottomRight: SIMD2<Double>, bottomLeft: SIMD2<Double>
    ) {
        self.topLeft = topLeft
        self.topRight = topRight
        self.bottomRight = bottomRight
        self.bottomLeft = bottomLeft
    }

    /// The corners, clockwise from the top left.
    public var corners: [SIMD2<Double>] { [topLeft, topRight, bottomRight, bottomLeft] }
}

/// How a pasted patch is shaped.
public enum PasteMask: Sendable, Hashable {
    /// The whole rectangle.
    case rectangle
    /// The ellipse inscribed in the patch, fading out over `feather` pixels inside its edge: for
    /// pasting face crops without a visible seam.
    case ellipse(feather: Double)
}

/// Image operations for composing synthetic footage (OpenCV). Each returns a new image.
extension RGBImage {
    /// The image blurred with a Gaussian of standard deviation `sigma` pixels (0 < sigma <= 100).
    public func blurred(sigma: Double) throws(VisionError) -> RGBImage {
        try transformed { view, out, error in cvision_image_gaussian_blur(view, sigma, out, error) }
    }

    /// The image with brightness and contrast changed: `(in - 128) * contrast + 128 + brightness` on
    /// every channel, rounded and saturated.
    public func adjusted(brightness: Double = 0, contrast: Double = 1) throws(VisionError) -> RGBImage {
        try transformed { view, out, error in cvision_image_adjust(view, brightness, contrast, out, error) }
    }

    /// The image with a white glare spot added: `strength * 255 * (1 - (r / radius)²)²` on every
    /// channel within `radius` of `center`, saturated.
    /// - Parameter strength: 0...1; 1 turns the centre white whatever is beneath.
    public func addingGlare(center: SIMD2<Double>, radius: Double, strength: Double) throws(VisionError) -> RGBImage {
        try transformed { view, out, error in
            cvision_image_add_glare(view, center.x, center.y, radius, strength, out, error)
        }
    }

    /// The image with Gaussian noise of standard deviation `sigma` added to every sample. The same
    /// seed always gives the same noise.
    public func addingNoise(sigma: Double, seed: UInt64) throws(VisionError) -> RGBImage {
        try transformed { view, out, error in cvision_image_add_noise(view, sigma, seed, out, error) }
    }

    /// The face in this image as if the head had turned by `yaw` degrees (nose to the right) and `pitch`
    /// degrees (nose down), at most 30 each, through a rounded head model scaled to `face` (left, top,
    /// right, bottom, in pixels): the nose moves against the eyes and the outline as a real head's does.
    public func turningHead(face: SIMD4<Double>, yaw: Double, pitch: Double) throws(VisionError) -> RGBImage {
        let box = [face.x, face.y, face.z, face.w]
        return try transformed { view, out, error in
            box.withUnsafeBufferPointer { cvision_image_turn_head(view, $0.baseAddress, yaw, pitch, out, error) }
        }
    }

    /// This image with a screen's moiré: beat bands `period` pixels apart along `angle` degrees, tinted red
    /// against blue, of `strength` 0...1.
    public func addingMoire(period: Double, angle: Double, strength: Double) throws(VisionError) -> RGBImage {
        try transformed { view, out, error in cvision_image_add_moire(view, period, angle, strength, out, error) }
    }

    /// This image with `patch` blended on with its top-left corner at (`x`, `y`); whatever falls
    /// outside this image is clipped.
    /// - Parameters:
    ///   - mask: the patch's shape; `.ellipse(feather:)` fades its edge out.
    ///   - opacity: 0...1, applied everywhere.
    public func pasting(
        _ patch: RGBImage, x: Int, y: Int, mask: PasteMask = .rectangle, opacity: Double = 1
    ) throws(VisionError) -> RGBImage {
        let (shape, feather): (cvision_paste_shape, Double) =
            switch mask {
            case .rectangle: (CVISION_PASTE_RECTANGLE, 0)
            case .ellipse(let feather): (CVISION_PASTE_ELLIPSE, feather)
            }
        let x32 = Int32(clamping: x)
        let y32 = Int32(clamping: y)
        return try patch.withView { (patchView: UnsafePointer<cvision_image_view>) throws(VisionError) in
            try transformed { view, out, error in
                cvision_image_paste(view, patchView, x32, y32, shape, feather, opacity, out, error)
            }
        }
    }

    /// This image with `image` drawn over it in perspective, its corner pixels at `quad`'s corners
    /// (bilinear). Only the inside of the quad is painted; what falls outside this image is clipped.
    public func drawing(_ image: RGBImage, onto quad: Quad) throws(VisionError) -> RGBImage {
        let corners = quad.corners.flatMap { [$0.x, $0.y] }
        return try image.withView { (imageView: UnsafePointer<cvision_image_view>) throws(VisionError) in
            try transformed { view, out, error in
                corners.withUnsafeBufferPointer { cvision_image_warp_onto(view, imageView, $0.baseAddress, out, error) }
            }
        }
    }

    /// Runs a core operation that reads this image and makes a new one.
    private func transformed(
        _ operation: (
            UnsafePointer<cvision_image_view>, UnsafeMutablePointer<cvision_image>, UnsafeMutablePointer<cvision_error>
        ) -> cvision_status
    ) throws(VisionError) -> RGBImage {
        var made = cvision_image()
        try withView { (view: UnsafePointer<cvision_image_view>) throws(VisionError) in
            try check { operation(view, &made, $0) }
        }
        return RGBImage(taking: &made)
    }
}

extension RGBImage {
    /// A grey image drawn in RGB (each sample repeated in the three channels).
    public init(grey: GreyImage) {
        var pixels = [UInt8](repeating: 0, count: grey.pixels.count * 3)
        pixels.withUnsafeMutableBufferPointer { rgb in
            for (index, sample) in grey.pixels.enumerated() {
                rgb[3 * index] = sample
                rgb[3 * index + 1] = sample
                rgb[3 * index + 2] = sample
            }
        }
        // The size came from a valid grey image, so it is valid here too.
        try! self.init(width: grey.width, height: grey.height, pixels: pixels)
    }
}
