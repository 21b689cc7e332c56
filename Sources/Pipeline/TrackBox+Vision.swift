public import Recognition
public import Vision

extension TrackBox {
    /// A detector box as a tracker box.
    public init(_ box: FaceBox) {
        self.init(
            left: Double(box.left), top: Double(box.top), right: Double(box.right + 1), bottom: Double(box.bottom + 1))
    }
}
