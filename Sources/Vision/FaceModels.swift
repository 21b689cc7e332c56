import CVision
import Foundation
public import Imaging

/// The landmark predictor and descriptor network, loaded once and shared by every engine.
///
/// `@unchecked Sendable`: the handle is written only while loading; afterwards the core reads it
/// without locking (dlib's shape predictor is const, each engine copies the network it runs).
public final class FaceModels: @unchecked Sendable {
    let handle: OpaquePointer
    /// The folder the models were loaded from.
    public let directory: String

    /// Loads the models from a folder after checking their checksums.
    /// - Parameters:
    ///   - directory: a folder holding the files of `ModelFile.all`.
    ///   - verifyChecksums: check every file's SHA-256 first (about 50 ms); a damaged network file
    ///     can otherwise load and give wrong descriptors.
    /// - Throws: `VisionError(.model)` naming the missing or damaged file and the fix.
    public init(directory: String, verifyChecksums: Bool = true) throws(VisionError) {
        try Self.checkProcessor()
        if verifyChecksums {
            try ModelLocator.verify(directory: directory)
        }
        var models: OpaquePointer?
        let predictor = directory + "/" + ModelFile.shapePredictor.name
        let network = directory + "/" + ModelFile.recognitionNetwork.name
        do {
            try check { cvision_models_load(predictor, network, &models, $0) }
        } catch {
            throw VisionError(error.code, "\(error.message): \(ModelLocator.fetchAdvice)", path: error.path)
        }
        guard let models else { throw VisionError(.internal, "the core loaded no models") }
        self.handle = models
        self.directory = directory
    }

    /// Finds the models with `locator` and loads them.
    public convenience init(locator: ModelLocator) throws(VisionError) {
        try self.init(directory: try locator.locate())
    }

    deinit {
        cvision_models_free(handle)
    }

    /// Refuses to start, with the fix, when the core was built for AVX and this CPU lacks it
    /// (dlib's code would otherwise die of an illegal instruction in the middle of a detection).
    static func checkProcessor() throws(VisionError) {
        guard cvision_built_with_avx() != 0 else { return }
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return }
        let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        if !flags.split(separator: " ").contains("avx") {
            throw VisionError(
                .internal,
                "this build of rollcall uses AVX instructions, which this processor lacks: rebuild with `ROLLCALL_PORTABLE=1 make build`"
            )
        }
    }

    /// Makes OpenBLAS use `threads` threads for each descriptor. A process that runs one descriptor per
    /// core on several workers wants 1, or the workers' BLAS threads fight over the same cores. Returns
    /// false when the BLAS in use is not OpenBLAS (nothing to set).
    @discardableResult
    public static func setBLASThreads(_ threads: Int) -> Bool {
        cvision_set_blas_threads(Int32(clamping: threads)) == 1
    }

    /// The BLAS library the descriptor network runs on: "OpenBLAS ..." or "reference". With the
    /// reference BLAS a descriptor takes about ten times longer.
    public static var blasDescription: String {
        String(cString: cvision_blas_description())
    }

    /// The BLAS library file this process computes with (`sgemm_`'s library, links resolved), or nil.
    public static var blasLibrary: String? {
        let path = String(cString: cvision_blas_library())
        return path.isEmpty ? nil : path
    }
}
