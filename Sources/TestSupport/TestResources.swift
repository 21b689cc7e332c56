public import Foundation

/// Fixtures and models for tests. Tests that need them are enabled when they are present, and
/// always under `CI=true`, so that CI fails (never skips) when something is missing.
public enum TestResources {
    /// The repository root, found from this file's place in it.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// True under CI, where missing fixtures or models must fail the run.
    public static var isCI: Bool {
        ProcessInfo.processInfo.environment["CI"].map { ["1", "true", "yes"].contains($0.lowercased()) } ?? false
    }

    /// `$ROLLCALL_FIXTURES`, or `../shared/fixtures` beside the repository.
    public static var fixtures: URL {
        if let path = ProcessInfo.processInfo.environment["ROLLCALL_FIXTURES"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return packageRoot.appendingPathComponent("../shared/fixtures").standardized
    }

    /// `$ROLLCALL_MODELS`, or `Models/` in the repository, where `make models` puts them.
    public static var models: URL {
        if let path = ProcessInfo.processInfo.environment["ROLLCALL_MODELS"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return packageRoot.appendingPathComponent("Models")
    }

    /// The fixture face images folder.
    public static var faces: URL { fixtures.appendingPathComponent("faces") }

    /// Whether tests that need fixtures should run: they exist, or this is CI (and they must).
    public static var fixturesEnabled: Bool {
        isCI || FileManager.default.fileExists(atPath: fixtures.appendingPathComponent("faces-expected.json").path)
    }

    /// Whether tests that need the models should run: they exist, or this is CI (and they must).
    public static var modelsEnabled: Bool {
        isCI
            || ["shape_predictor_5_face_landmarks.dat", "dlib_face_recognition_resnet_model_v1.dat"].allSatisfy {
                FileManager.default.fileExists(atPath: models.appendingPathComponent($0).path)
            }
    }

    /// A new empty folder under the system's temporary folder.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rollcall-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A fixed event id (a UUID, as the hub requires) named for a test: `eventUUID("e-1")` is always the
/// same id, and two names give two ids. Names of up to 16 bytes: they are the UUID's bytes.
public func eventUUID(_ name: String) -> String {
    var bytes = Array(name.utf8.prefix(16))
    bytes += [UInt8](repeating: 0, count: 16 - bytes.count)
    return NSUUID(uuidBytes: bytes).uuidString
}
