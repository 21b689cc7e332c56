import ArgumentParser
import Attendance
import Foundation
import Imaging
import Vision

/// `rollcall encode`: faces, landmarks and encodings of image files, one JSON object per image.
struct EncodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Print the faces, landmarks and 128-d encodings found in images, one JSON object per line.",
        discussion: """
            Each line is {"image": PATH, "width": W, "height": H, "faces": [{"box": [l, t, r, b], \
            "landmarks": [[x, y] x5], "encoding": [128 numbers]}]}. Boxes are dlib rectangles (right and \
            bottom inclusive, possibly outside the image). A file that cannot be read or decoded gets one \
            line on standard error; the other files are still processed and the exit status is 1.
            """
    )

    @OptionGroup var detection: UpsampleOption

    @OptionGroup var models: ModelOptions

    @Argument(help: ArgumentHelp("Image files (JPEG, PNG, ...).", valueName: "image"))
    var images: [String]

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
    }

    func run() async throws {
        let workers = try VisionWorkers(
            models: try models.load(), count: min(images.count, ProcessInfo.processInfo.activeProcessorCount))
        let upsample = detection.upsample
        // Every image is queued at once so both cores work; results are printed in argument order.
        let pending = images.map { path in
            Task { () -> Result<EncodedImage, VisionError> in
                do {
                    return .success(
                        try await workers.run { engine in
                            let image = try RGBImage(contentsOfFile: path)
                            return EncodedImage(
                                image: path, size: image, faces: try engine.analyze(image, upsample: upsample))
                        })
                } catch let error as VisionError {
                    return .failure(error)
                } catch {
                    return .failure(VisionError(.internal, "\(error)", path: path))
                }
            }
        }
        var failures = 0
        for task in pending {
            switch await task.value {
            case .success(let encoded):
                printLine(encoded.jsonLine)
            case .failure(let error):
                failures += 1
                printError(error.description)
            }
        }
        if failures > 0 { throw ExitCode.failure }
    }
}

/// One output line of `rollcall encode`.
struct EncodedImage: Sendable {
    var image: String
    var width: Int
    var height: Int
    var faces: [FaceRecord]

    init(image path: String, size image: RGBImage, faces: [AnalyzedFace]) {
        self.image = path
        self.width = image.width
        self.height = image.height
        self.faces = faces.map(FaceRecord.init)
    }
}

extension EncodedImage {
    /// The object as one line of JSON with its keys in the documented order (JSONEncoder on Linux
    /// does not keep declaration order). Floats print in their shortest exact form.
    var jsonLine: String {
        func list<T>(_ items: [T], _ element: (T) -> String) -> String {
            "[" + items.map(element).joined(separator: ",") + "]"
        }
        let facesJSON = list(faces) { face in
            let box = list([face.box.left, face.box.top, face.box.right, face.box.bottom]) { String($0) }
            let landmarks = list(face.landmarks) { "[\($0.x),\($0.y)]" }
            let encoding = list(face.encoding) { $0.description }
            return #"{"box":\#(box),"landmarks":\#(landmarks),"encoding":\#(encoding)}"#
        }
        return #"{"image":\#(JSONLine.encode(image)),"width":\#(width),"height":\#(height),"faces":\#(facesJSON)}"#
    }
}
