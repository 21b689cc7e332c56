import ArgumentParser
import Capture
import Foundation
import Imaging
import Recognition
import Vision

/// `rollcall bench`: measurements of the parts whose speed the door depends on.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the speed of rollcall's hot paths.",
        subcommands: [
            VisionBench.self, CaptureBench.self, MatchBench.self, OutboxBench.self, SyncBench.self, RefreshBench.self,
            AccuracyBench.self, PresentationBench.self,
        ]
    )
}

/// `rollcall bench vision`: detection, landmarks and encoding on a 640x480 camera-sized frame.
struct VisionBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vision",
        abstract: "Median milliseconds of face detection, landmarks and encoding on a 640x480 frame.",
        discussion: """
            The image is cropped to 4:3 around its centre and scaled to 640x480, as a door camera \
            delivers frames. It must show a face. Detection runs at upsample 0; "encode" is one face's \
            landmarks, chip and descriptor; "batch of 8" is the descriptor of 8 faces computed together, \
            per face. Both are timed with the core's forward pass of the network (what the door runs) and \
            with dlib's forward pass of the same weights. Runs on one vision thread; BLAS may use every \
            core. With --reference, each figure is printed next to the reference's (the JSON that \
            tools/reference/bench_reference.py printed in the same run) and as a ratio to it.
            """
    )

    @Argument(
        help: ArgumentHelp(
            "An image with a face (default: faces/obama-480p.jpg in $ROLLCALL_FIXTURES or ../shared/fixtures).",
            valueName: "image"))
    var image: String?

    @Option(help: "Timed runs of each step (after 3 warm-up runs).")
    var runs = 30

    @Option(
        help: ArgumentHelp(
            "The reference's figures: the JSON file tools/reference/bench_reference.py printed.",
            valueName: "file"))
    var reference: String?

    @Flag(
        help: """
            Print one JSON object with the keys detect_ms, landmarks_ms, encode_ms, batch8_per_face_ms, \
            encode_dlib_ms, batch8_dlib_per_face_ms (and reference, with --reference).
            """)
    var json = false

    @OptionGroup var models: ModelOptions

    func validate() throws {
        guard runs > 0 else { throw ValidationError("--runs must be at least 1") }
    }

    func run() async throws {
        let path = try image ?? defaultImage()
        let frame: RGBImage
        do {
            frame = try RGBImage(contentsOfFile: path).cameraFrame(width: 640, height: 480)
        } catch {
            printError(error.description)
            throw ExitCode.failure
        }
        var referenceFigures: VisionReference?
        if let reference {
            do {
                referenceFigures = try JSONDecoder().decode(
                    VisionReference.self, from: Data(contentsOf: URL(fileURLWithPath: reference)))
            } catch {
                printError("\(reference): not the JSON of tools/reference/bench_reference.py: \(error)")
                throw ExitCode.failure
            }
        }
        let workers = try VisionWorkers(models: try models.load(), count: 1)
        let runs = self.runs
        let result = try await workers.run { engine in
            try VisionBenchResult.measure(engine: engine, frame: frame, runs: runs)
        }
        var report = result
        report.image = path
        report.reference = referenceFigures
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            printLine(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            printLine(report.table)
        }
    }

    private func defaultImage() throws -> String {
        let fixtures = ProcessInfo.processInfo.environment["ROLLCALL_FIXTURES"] ?? "../shared/fixtures"
        let path = fixtures + "/faces/obama-480p.jpg"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("no image given and \(path) does not exist: name an image with a face")
        }
        return path
    }
}

/// The reference's figures (tools/reference/bench_reference.py), milliseconds, medians.
struct VisionReference: Codable, Sendable {
    var detect_ms: Double
    var landmarks_ms: Double
    var encode_ms: Double
}

/// What `rollcall bench vision` measured, in milliseconds (medians).
struct VisionBenchResult: Encodable, Sendable {
    var image = ""
    var width: Int
    var height: Int
    var runs: Int
    var blas: String
    var detect_ms: Double
    var landmarks_ms: Double
    var encode_ms: Double
    var batch8_per_face_ms: Double
    var encode_dlib_ms: Double
    var batch8_dlib_per_face_ms: Double
    var reference: VisionReference?

    static func measure(engine: FaceEngine, frame: RGBImage, runs: Int) throws -> VisionBenchResult {
        guard let face = try engine.detect(in: frame, upsample: 0).first ?? engine.detect(in: frame, upsample: 1).first
        else {
            throw VisionError(
                .argument, "no face found in the 640x480 frame: use an image with a face of at least 80 px")
        }
        let detect = try median(runs) { _ = try engine.detect(in: frame, upsample: 0) }
        let landmarks = try median(runs) { _ = try engine.landmarks(in: frame, boxes: [face.box]) }
        let encode = try median(runs) {
            let shape = try engine.landmarks(in: frame, boxes: [face.box])
            _ = try engine.encode(in: frame, faces: shape)
        }
        let encodeDlib = try median(runs) {
            let shape = try engine.landmarks(in: frame, boxes: [face.box])
            _ = try engine.encode(in: frame, faces: shape, pass: .dlib)
        }
        let shapes = try engine.landmarks(in: frame, boxes: Array(repeating: face.box, count: 8))
        let batch = try median(runs) { _ = try engine.encode(in: frame, faces: shapes) }
        let batchDlib = try median(runs) { _ = try engine.encode(in: frame, faces: shapes, pass: .dlib) }
        return VisionBenchResult(
            width: frame.width, height: frame.height, runs: runs, blas: FaceModels.blasDescription,
            detect_ms: detect, landmarks_ms: landmarks, encode_ms: encode, batch8_per_face_ms: batch / 8,
            encode_dlib_ms: encodeDlib, batch8_dlib_per_face_ms: batchDlib / 8)
    }

    /// Median wall-clock milliseconds of `runs` calls, after 3 untimed warm-up calls.
    static func median(_ runs: Int, _ body: () throws -> Void) throws -> Double {
        for _ in 0..<3 { try body() }
        let clock = ContinuousClock()
        var samples: [Double] = []
        for _ in 0..<runs {
            let elapsed = try clock.measure(body)
            samples.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)
        }
        samples.sort()
        let middle = samples.count / 2
        let value = samples.count % 2 == 1 ? samples[middle] : (samples[middle - 1] + samples[middle]) / 2
        return (value * 1000).rounded() / 1000
    }

    var table: String {
        func row(_ name: String, _ value: Double, _ against: Double? = nil) -> String {
            var line = name.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: "%8.2f ms", value)
            if let against, against > 0 {
                line += String(format: "%10.2f ms %7.3f", against, value / against)
            }
            return line
        }
        var lines = [
            "vision benchmark: \(image) as a \(width)x\(height) frame, median of \(runs) runs, BLAS: \(blas)"
        ]
        if reference != nil {
            lines.append(String(repeating: " ", count: 40) + "  rollcall   reference   ratio")
        }
        lines += [
            row("detect (upsample 0)", detect_ms, reference?.detect_ms),
            row("landmarks (1 face)", landmarks_ms, reference?.landmarks_ms),
            row("encode (1 face)", encode_ms, reference?.encode_ms),
            row("encode, batch of 8, per face", batch8_per_face_ms, reference?.encode_ms),
            row("encode (1 face), dlib's forward pass", encode_dlib_ms, reference?.encode_ms),
            row("batch of 8, dlib's forward pass", batch8_dlib_per_face_ms, reference?.encode_ms),
        ]
        if reference != nil {
            lines.append("(the reference encodes one face at a time: both batch rows are set against its encode)")
        }
        return lines.joined(separator: "\n")
    }
}

extension RGBImage {
    /// Crops to the aspect ratio of `width`x`height` around the centre, then scales to that size.
    func cameraFrame(width targetWidth: Int, height targetHeight: Int) throws(VisionError) -> RGBImage {
        var cropWidth = width
        var cropHeight = height
        if width * targetHeight > height * targetWidth {
            cropWidth = height * targetWidth / targetHeight
        } else {
            cropHeight = width * targetHeight / targetWidth
        }
        return try cropped(
            x: (width - cropWidth) / 2, y: (height - cropHeight) / 2, width: cropWidth, height: cropHeight
        )
        .resized(width: targetWidth, height: targetHeight)
    }
}

/// `rollcall bench capture`: the per-frame conversions of camera frames.
struct CaptureBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Median milliseconds of converting a 640x480 YUYV frame to grey and to RGB.",
        discussion: """
            Grey (the luma plane) feeds QR decoding and detection; RGB feeds face encoding. Each is one \
            pass over the frame. The frame is synthetic; the cost does not depend on its content.
            """
    )

    @Option(help: "Timed runs of each conversion (after 3 warm-up runs).")
    var runs = 200

    @Flag(help: "Print one JSON object with the keys yuyv_to_grey_ms and yuyv_to_rgb_ms.")
    var json = false

    func validate() throws {
        guard runs > 0 else { throw ValidationError("--runs must be at least 1") }
    }

    func run() throws {
        let (width, height) = (640, 480)
        var state: UInt32 = 2_463_534_242
        let data = (0..<(width * height * 2)).map { _ -> UInt8 in
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return UInt8(truncatingIfNeeded: state)
        }
        let frame = Frame(
            format: .yuyv, width: width, height: height, bytesPerLine: width * 2, data: data,
            timestamp: Monotonic.nanoseconds(), sequence: 0)
        let grey = try VisionBenchResult.median(runs) { _ = try frame.greyImage() }
        let rgb = try VisionBenchResult.median(runs) { _ = try frame.rgbImage() }
        if json {
            printLine(
                #"{"height":480,"runs":\#(runs),"width":640,"yuyv_to_grey_ms":\#(grey),"yuyv_to_rgb_ms":\#(rgb)}"#)
        } else {
            printLine("capture benchmark: a 640x480 YUYV frame, median of \(runs) runs")
            printLine(String(format: "YUYV -> grey %22.3f ms", grey))
            printLine(String(format: "YUYV -> RGB %23.3f ms", rgb))
        }
    }
}

/// `rollcall bench match`: one probe against a gallery of random unit templates, with the CPU's best
/// kernel (or each it runs), next to how fast one core reads memory.
struct MatchBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Median milliseconds of matching one face against N templates (one core).",
        discussion: """
            Random unit templates, four per person; the whole gallery is searched (no roster). Galleries \
            from \(Matcher.quantizedFrom) templates are searched through their 8-bit copy, by the kernel \
            of the CPU's instruction set (--kernel all: each the CPU runs). The memory line times one \
            core reading a buffer the size of that copy, and 256 MB (beyond the caches): the bound a \
            search cannot beat.
            """
    )

    @Option(help: "Templates in the gallery.")
    var templates = 100_000

    @Option(help: "Timed searches (after 3 warm-up searches).")
    var runs = 200

    @Option(help: "The 8-bit kernel: best, all, or one of \(MatchKernel.allCases.map(\.name).joined(separator: ", ")).")
    var kernel = "best"

    @Flag(help: "Print one JSON object with the keys median_ms, kernel, kernels and read_gb_per_s.")
    var json = false

    func validate() throws {
        guard templates > 0, runs > 0 else { throw ValidationError("--templates and --runs must be at least 1") }
        if !["best", "all"].contains(kernel) {
            guard let chosen = MatchKernel(name: kernel) else {
                throw ValidationError(
                    "--kernel \(kernel): not a kernel; one of best, all, \(MatchKernel.allCases.map(\.name).joined(separator: ", "))"
                )
            }
            guard chosen.isSupported else {
                throw ValidationError(
                    "--kernel \(kernel): this CPU cannot run it; it runs \(MatchKernel.supported.map(\.name).joined(separator: ", "))"
                )
            }
        }
    }

    func run() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func unitTemplate() -> [Float] {
            var values: [Float] = (0..<Gallery.dimensions).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(Int64(bitPattern: state) >> 11) / Float(1 << 52)
            }
            let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for index in values.indices { values[index] /= norm }
            return values
        }
        var gallery = Gallery()
        for person in 0..<((templates + 3) / 4) {
            gallery.add(
                person: "p\(person)", templates: (0..<min(4, templates - person * 4)).map { _ in unitTemplate() })
        }
        let probe = unitTemplate()
        let kernels: [MatchKernel] =
            switch kernel {
            case "best": [MatchKernel.best]
            case "all": MatchKernel.supported.reversed()
            default: [MatchKernel(name: kernel)!]
            }
        var timings: [(MatchKernel, Double)] = []
        for kernel in kernels {
            timings.append(
                (kernel, try VisionBenchResult.median(runs) { _ = Matcher.match(probe, in: gallery, kernel: kernel) }))
        }
        let quantized = gallery.count >= Matcher.quantizedFrom
        // One core reading the 8-bit copy's bytes (from the caches, if they hold it), and 256 MB (memory).
        let copyBytes = max(gallery.count * Gallery.dimensions, 1 << 20)
        let copyRead = try Self.readRate(bytes: copyBytes, runs: 20)
        let memoryRead = try Self.readRate(bytes: 256 << 20, runs: 5)
        let (chosen, milliseconds) = timings[0]
        if json {
            let each = timings.map { #""\#($0.0.name)":\#($0.1)"# }.joined(separator: ",")
            printLine(
                #"{"copy_read_ms":\#(copyRead.milliseconds),"kernel":"\#(chosen.name)","kernels":{\#(each)},"median_ms":\#(milliseconds),"quantized":\#(quantized),"read_gb_per_s":\#(memoryRead.gigabytesPerSecond),"runs":\#(runs),"templates":\#(gallery.count)}"#
            )
            return
        }
        printLine(
            "match benchmark: one probe against \(gallery.count) templates, median of \(runs) runs; "
                + (quantized
                    ? "through the 8-bit copy (\(gallery.count * Gallery.dimensions / 1000) kB)"
                    : "exact Float32 search (below \(Matcher.quantizedFrom) templates; the kernel is not used)"))
        printLine(
            "CPU kernels: \(MatchKernel.supported.map(\.name).joined(separator: ", ")); best \(MatchKernel.best.name)")
        for (kernel, time) in timings {
            let name = kernel.name.padding(toLength: 11, withPad: " ", startingAt: 0)
            printLine(name.isEmpty ? "" : "  " + name + String(format: " %.4f ms (%.1f µs)", time, time * 1000))
        }
        printLine(
            String(
                format: "one core reads %.1f GB/s from memory (256 MB); the 8-bit copy's bytes in %.4f ms (%.1f GB/s)",
                memoryRead.gigabytesPerSecond, copyRead.milliseconds, copyRead.gigabytesPerSecond))
        if quantized {
            printLine(
                String(
                    format:
                        "%@: %.2f x the time to read the copy's bytes, %.2f x the time to stream them from memory (under 1: the caches hold the copy between searches)",
                    chosen.name, milliseconds / copyRead.milliseconds,
                    milliseconds / (Double(copyBytes) / memoryRead.gigabytesPerSecond / 1e6)))
        }
    }

    /// How fast one core reads a buffer of `bytes` (median of `runs` reads after warm-up).
    static func readRate(bytes: Int, runs: Int) throws -> (milliseconds: Double, gigabytesPerSecond: Double) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 64)
        defer { buffer.deallocate() }
        for index in stride(from: 0, to: bytes, by: 4096) { buffer[index] = UInt8(truncatingIfNeeded: index >> 12) }
        var sink: UInt64 = 0
        let milliseconds = try VisionBenchResult.median(runs) {
            sink ^= MatchKernel.readMemory(UnsafeRawBufferPointer(buffer))
        }
        if sink == 0x5EED { printLine("") }  // keeps the reads
        return (milliseconds, Double(bytes) / (milliseconds / 1000) / 1e9)
    }
}
