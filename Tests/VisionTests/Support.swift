import Foundation
import Imaging
import TestSupport
import Testing
import Vision

/// Models loaded once for the whole test run; every test makes its own engine over them.
let sharedModels: Result<FaceModels, VisionError> = Result { () throws(VisionError) in
    try FaceModels(directory: TestResources.models.path)
}

func makeEngine() throws -> FaceEngine {
    try FaceEngine(models: try sharedModels.get())
}

func fixtureImage(_ name: String) throws -> RGBImage {
    try RGBImage(contentsOfFile: TestResources.faces.appendingPathComponent(name).path)
}

/// What faces-expected.json holds for one image.
struct ExpectedImage: Decodable {
    var width: Int
    var height: Int
    var boxes_upsample0: [FaceBox]
    var boxes_upsample1: [FaceBox]
    var faces_upsample1: [FaceRecord]
}

struct ExpectedFile: Decodable {
    var images: [String: ExpectedImage]
}

func loadExpected() throws -> ExpectedFile {
    let url = TestResources.fixtures.appendingPathComponent("faces-expected.json")
    return try JSONDecoder().decode(ExpectedFile.self, from: try Data(contentsOf: url))
}

extension Trait where Self == ConditionTrait {
    /// Runs when the fixtures and models are here, and always in CI, where their absence must fail.
    static var needsFixturesAndModels: Self {
        .enabled(
            if: TestResources.fixturesEnabled && TestResources.modelsEnabled,
            "needs ../shared/fixtures and the models (make models)")
    }

    /// Runs when the models are here, and always in CI.
    static var needsModels: Self {
        .enabled(if: TestResources.modelsEnabled, "needs the models (make models)")
    }

    /// Runs when the fixtures are here, and always in CI.
    static var needsFixtures: Self {
        .enabled(if: TestResources.fixturesEnabled, "needs ../shared/fixtures")
    }
}
