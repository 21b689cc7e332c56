import Crypto
public import Foundation
public import Imaging

/// A model file the vision core needs, with the checksum of the one version it was built for.
public struct ModelFile: Sendable, Hashable {
    /// File name, the same in every folder.
    public let name: String
    /// SHA-256 of the file, lowercase hex.
    public let sha256: String

    /// dlib's 5-point face landmark predictor.
    public static let shapePredictor = ModelFile(
        name: "shape_predictor_5_face_landmarks.dat",
        sha256: "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888")
    /// dlib's ResNet v1 face descriptor network.
    public static let recognitionNetwork = ModelFile(
        name: "dlib_face_recognition_resnet_model_v1.dat",
        sha256: "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30")
    /// Every model, in the order of Models/manifest.tsv.
    public static let all = [shapePredictor, recognitionNetwork]

    /// Computes the SHA-256 of a file, reading it in pieces.
    public static func sha256(ofFile path: String) throws(VisionError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw VisionError(.model, "cannot be opened", path: path)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
            }
        } catch {
            throw VisionError(.model, "cannot be read: \(error)", path: path)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// Finds the folder that holds the models. The search order, first match wins:
/// 1. a folder named on the command line (`--models DIR`);
/// 2. the environment variable `ROLLCALL_MODELS`;
/// 3. `models/` next to the executable, then `../share/rollcall/models` from the executable's folder;
/// 4. `/usr/share/rollcall/models`.
///
/// An explicit folder (1 or 2) is used as it is, so a typo is reported rather than silently
/// replaced by another copy.
public struct ModelLocator: Sendable {
    /// The environment variable that names the models folder.
    public static let environmentVariable = "ROLLCALL_MODELS"
    /// Where `make install` puts the models.
    public static let systemDirectory = "/usr/share/rollcall/models"
    /// What to tell someone whose models are missing or damaged.
    public static let fetchAdvice =
        "run `make models` in the rollcall repository (or `Models/fetch-models.sh --dest DIR`) and pass the folder with --models or \(environmentVariable)"

    /// A folder named with `--models`, if any.
    public var explicitDirectory: String?
    /// The process environment.
    public var environment: [String: String]
    /// The running executable, used for the folders next to it.
    public var executablePath: String?

    /// Makes a locator for this process.
    public init(
        explicitDirectory: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executablePath: String? = ModelLocator.currentExecutable()
    ) {
        self.explicitDirectory = explicitDirectory
        self.environment = environment
        self.executablePath = executablePath
    }

    /// The folders searched, in order, with how each was chosen.
    public var candidates: [(directory: String, origin: String)] {
        if let explicitDirectory { return [(explicitDirectory, "--models")] }
        if let fromEnvironment = environment[Self.environmentVariable], !fromEnvironment.isEmpty {
            return [(fromEnvironment, Self.environmentVariable)]
        }
        var found: [(String, String)] = []
        if let executablePath {
            let folder = URL(fileURLWithPath: executablePath).deletingLastPathComponent()
            found.append((folder.appendingPathComponent("models").path, "next to the executable"))
            found.append(
                (folder.appendingPathComponent("../share/rollcall/models").standardized.path, "install prefix"))
        }
        found.append((Self.systemDirectory, "system"))
        return found
    }

    /// Returns the first candidate folder that holds every model file.
    /// - Throws: `VisionError(.model)` listing where it looked and how to get the models.
    public func locate() throws(VisionError) -> String {
        let searched = candidates
        for (directory, _) in searched
        where ModelFile.all.allSatisfy({ FileManager.default.fileExists(atPath: directory + "/" + $0.name) }) {
            return directory
        }
        let places = searched.map { "\($0.directory) (\($0.origin))" }.joined(separator: ", ")
        let missing = searched.count == 1 ? missingFiles(in: searched[0].directory) : ModelFile.all.map(\.name)
        throw VisionError(
            .model,
            "face models not found (\(missing.joined(separator: ", "))); looked in \(places): \(Self.fetchAdvice)")
    }

    private func missingFiles(in directory: String) -> [String] {
        ModelFile.all.map(\.name).filter { !FileManager.default.fileExists(atPath: directory + "/" + $0) }
    }

    /// Checks every model in `directory` against its SHA-256.
    /// - Throws: `VisionError(.model)` naming the damaged file and the fix.
    public static func verify(directory: String) throws(VisionError) {
        for model in ModelFile.all {
            let path = directory + "/" + model.name
            let actual = try ModelFile.sha256(ofFile: path)
            guard actual == model.sha256 else {
                throw VisionError(
                    .model,
                    "is corrupt or the wrong version (SHA-256 \(actual), expected \(model.sha256)): \(fetchAdvice)",
                    path: path)
            }
        }
    }

    /// The absolute path of the running executable, from `/proc/self/exe`.
    public static func currentExecutable() -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    }
}
