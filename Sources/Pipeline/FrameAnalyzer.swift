import Capture
import Enrollment
public import Foundation
import Imaging
import QRScanning
import Recognition
public import Vision

/// What one worker thread owns: a face engine and a QR scanner (neither may be shared).
public final class PipelineWorker {
    let engine: FaceEngine
    let scanner = QRScanner()

    /// A worker over loaded models.
    public init(models: FaceModels) throws {
        engine = try FaceEngine(models: models)
    }
}

/// Threads for the pipeline's blocking work (dlib, zbar, OpenCV), one `PipelineWorker` each.
public typealias PipelineWorkers = ThreadPool<PipelineWorker>

extension ThreadPool where Context == PipelineWorker {
    /// Starts `count` pipeline threads (by default one per core).
    public convenience init(
        pipelineModels models: FaceModels, count: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws {
        try self.init(name: "rollcall-pipeline", count: count) { try PipelineWorker(models: models) }
    }
}

/// The stages whose time the pipeline measures.
public enum Stage: String, Sendable, CaseIterable {
    case convert, qr, detect, landmarks, quality, encode, match, presentation, rules
}

/// A face found on a frame, with what the gates need.
struct FaceObservation: Sendable {
    var landmarks: FaceLandmarks
    var sample: FaceSample
}

/// Everything the frame-parallel part of the pipeline learns from one frame.
struct FrameAnalysis: Sendable {
    var index: Int
    var image: RGBImage?
    /// The frame in grey, when it has faces (the presentation-attack stage's geometry tracks them in it).
    var grey: GreyImage?
    var faces: [FaceObservation] = []
    var payloads: [Data] = []
    var milliseconds: [Stage: Double] = [:]
    var error: String?
}

/// The per-frame work that needs no state from other frames: conversion, QR scanning, detection,
/// landmarks and quality measurements. Runs on a worker thread; frames are analysed in parallel.
enum FrameAnalyzer {
    static func analyze(
        _ frame: Frame, index: Int, worker: PipelineWorker, upsample: Int, detectionWidth: Int, scanQR: Bool
    ) -> FrameAnalysis {
        var analysis = FrameAnalysis(index: index)
        do {
            var clock = StageClock()
            let image = try frame.rgbImage()
            // Camera frames (YUYV, GREY) carry their luma plane; for RGB frames (files) the grey plane
            // comes from the RGB image just made rather than converting the frame a second time.
            let grey: GreyImage? =
                !scanQR
                ? nil
                : frame.format == .rgb24 || frame.format == .mjpeg
                    ? try PixelConversion.greyFromRGB(image) : try frame.greyImage()
            analysis.milliseconds[.convert] = clock.lap()
            analysis.image = image
            if let grey {
                analysis.payloads = worker.scanner.scan(grey)
                analysis.milliseconds[.qr] = clock.lap()
            }
            // Large frames are searched downscaled (the door's faces are large); the boxes are scaled
            // back and landmarks are found on the full frame.
            var boxes: [FaceBox]
            if image.width > detectionWidth {
                let scale = Double(image.width) / Double(detectionWidth)
                let small = try image.resized(
                    width: detectionWidth, height: max(1, Int((Double(image.height) / scale).rounded())))
                boxes = try worker.engine.detect(in: small, upsample: upsample).map { detection in
                    let box = detection.box
                    return FaceBox(
                        left: Int((Double(box.left) * scale).rounded()), top: Int((Double(box.top) * scale).rounded()),
                        right: Int((Double(box.right + 1) * scale).rounded()) - 1,
                        bottom: Int((Double(box.bottom + 1) * scale).rounded()) - 1)
                }
            } else {
                boxes = try worker.engine.detect(in: image, upsample: upsample).map(\.box)
            }
            analysis.milliseconds[.detect] = clock.lap()
            guard !boxes.isEmpty else { return analysis }
            analysis.grey = try grey ?? PixelConversion.greyFromRGB(image)
            let landmarks = try worker.engine.landmarks(in: image, boxes: boxes)
            analysis.milliseconds[.landmarks] = clock.lap()
            let measurements = try worker.engine.measure(in: image, faces: landmarks)
            analysis.faces = zip(landmarks, measurements).map {
                FaceObservation(landmarks: $0, sample: FaceSample($0, $1))
            }
            analysis.milliseconds[.quality] = clock.lap()
        } catch {
            analysis.error = "frame \(index): \(error)"
        }
        return analysis
    }
}

/// Milliseconds between laps, on the monotonic clock.
struct StageClock {
    private var last = Monotonic.nanoseconds()

    mutating func lap() -> Double {
        let now = Monotonic.nanoseconds()
        defer { last = now }
        return Double(now - last) / 1e6
    }
}
