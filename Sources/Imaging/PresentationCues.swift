import CImaging

/// What the appearance of a face and its surroundings says about a screen or a print held up to the
/// camera. Measured on one frame; none of it is kept.
public struct PresentationCues: Sendable, Equatable {
    /// Sides of the face (0...4) along which a long straight edge runs, as a phone's bezel or a photo's
    /// paper edge does.
    public var framingSides: Int
    /// Those edges' total length, in face widths.
    public var framingLength: Double
    /// The strongest periodic component of the face's high-passed red-minus-blue over the typical one: a
    /// screen's moiré makes a sharp peak.
    public var moire: Double
    /// The share of the face box's pixels blown out in every channel (glare on glass or glossy paper).
    public var glare: Double

    public init(framingSides: Int, framingLength: Double, moire: Double, glare: Double) {
        self.framingSides = framingSides
        self.framingLength = framingLength
        self.moire = moire
        self.glare = glare
    }
}

extension RGBImage {
    /// The screen and print cues of the face whose box is `left...right` by `top...bottom` (inclusive).
    /// - Throws: `VisionError` when the box is smaller than 8 pixels or lies outside the image.
    public func presentationCues(left: Int, top: Int, right: Int, bottom: Int) throws(VisionError) -> PresentationCues {
        let box = [Int32(clamping: left), Int32(clamping: top), Int32(clamping: right), Int32(clamping: bottom)]
        var cues = cvision_presentation_cues()
        try withView { (view: UnsafePointer<cvision_image_view>) throws(VisionError) in
            try check { error in
                box.withUnsafeBufferPointer { cvision_measure_presentation_cues(view, $0.baseAddress, &cues, error) }
            }
        }
        return PresentationCues(
            framingSides: Int(cues.framing_sides), framingLength: cues.framing_length, moire: cues.moire,
            glare: cues.glare)
    }
}

/// How well one plane explains a face's motion between two frames.
public struct PlanarFit: Sendable, Equatable {
    /// Points tracked both ways (below 12 nothing was measured, and the other figures are 0).
    public var points: Int
    /// Root-mean-square distance in pixels between where the points went and where the best homography
    /// puts them: a flat picture's points follow one homography, a head's do not (parallax).
    public var residual: Double
    /// How much that homography does besides moving, scaling and rolling (anisotropy, shear,
    /// perspective), relative: large when a picture is being tilted.
    public var distortion: Double

    public init(points: Int, residual: Double, distortion: Double) {
        self.points = points
        self.residual = residual
        self.distortion = distortion
    }
}

extension GreyImage {
    /// Tracks the corners inside `left...right` by `top...bottom` of this image into `later` (of the
    /// same size), forwards and back, and fits one homography to their motion.
    /// - Throws: `VisionError` when the images differ in size or the region is under 8 pixels.
    public func planarFit(to later: GreyImage, left: Int, top: Int, right: Int, bottom: Int) throws(VisionError)
        -> PlanarFit
    {
        guard later.width == width, later.height == height else {
            throw VisionError(
                .argument, "the two frames differ in size (\(width)x\(height), \(later.width)x\(later.height))")
        }
        let region = [Int32(clamping: left), Int32(clamping: top), Int32(clamping: right), Int32(clamping: bottom)]
        var result = cvision_planar_fit_result()
        try check { error in
            pixels.withUnsafeBufferPointer { first in
                later.pixels.withUnsafeBufferPointer { second in
                    region.withUnsafeBufferPointer {
                        cvision_planar_fit(
                            first.baseAddress, second.baseAddress, Int32(width), Int32(height), $0.baseAddress,
                            &result, error)
                    }
                }
            }
        }
        return PlanarFit(points: Int(result.points), residual: result.residual, distortion: result.distortion)
    }
}
