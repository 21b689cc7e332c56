import Foundation
import Imaging
import TestSupport
import Testing
import Vision

struct ModelTests {
    @Test("the checksums in the code are those of Models/manifest.tsv")
    func manifestAgrees() throws {
        let manifest = try String(
            contentsOf: TestResources.packageRoot.appendingPathComponent("Models/manifest.tsv"), encoding: .utf8)
        let rows = manifest.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: "\t") }
        #expect(rows.map { "\($0[0]) \($0[1])" } == ModelFile.all.map { "\($0.name) \($0.sha256)" })
    }

    @Test("search order: --models, then ROLLCALL_MODELS, then next to the executable, then the system folder")
    func searchOrder() {
        let exe = "/opt/rollcall/bin/rollcall"
        let explicit = ModelLocator(
            explicitDirectory: "/a", environment: ["ROLLCALL_MODELS": "/b"], executablePath: exe)
        #expect(explicit.candidates.map(\.directory) == ["/a"])
        let fromEnvironment = ModelLocator(environment: ["ROLLCALL_MODELS": "/b"], executablePath: exe)
        #expect(fromEnvironment.candidates.map(\.directory) == ["/b"])
        let implicit = ModelLocator(environment: [:], executablePath: exe)
        #expect(
            implicit.candidates.map(\.directory) == [
                "/opt/rollcall/bin/models", "/opt/rollcall/share/rollcall/models", "/usr/share/rollcall/models",
            ])
    }

    @Test("the first folder with every model wins")
    func firstCompleteFolderWins() throws {
        let root = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let bin = root.appendingPathComponent("bin")
        let models = bin.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        // Only one of the two files next to the executable: that folder is incomplete, skip it.
        try Data().write(to: models.appendingPathComponent(ModelFile.shapePredictor.name))
        let shared = root.appendingPathComponent("share/rollcall/models")
        try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: true)
        for model in ModelFile.all { try Data().write(to: shared.appendingPathComponent(model.name)) }
        let locator = ModelLocator(environment: [:], executablePath: bin.appendingPathComponent("rollcall").path)
        #expect(try locator.locate() == shared.path)
    }

    @Test("missing models: the error names the files, where it looked and the fix")
    func missingModels() throws {
        let empty = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty) }
        do {
            _ = try FaceModels(locator: ModelLocator(explicitDirectory: empty.path))
            Issue.record("models loaded from an empty folder")
        } catch {
            #expect(error.code == .model)
            #expect(error.message.contains(ModelFile.shapePredictor.name))
            #expect(error.message.contains(ModelFile.recognitionNetwork.name))
            #expect(error.message.contains(empty.path))
            #expect(error.message.contains("make models"))
        }
    }

    @Test("a damaged model is refused with its name and the fix", .needsModels)
    func damagedModel() throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = TestResources.models.appendingPathComponent(ModelFile.recognitionNetwork.name)
        try FileManager.default.createSymbolicLink(
            at: folder.appendingPathComponent(ModelFile.shapePredictor.name),
            withDestinationURL: TestResources.models.appendingPathComponent(ModelFile.shapePredictor.name))
        // A network file cut short, as an interrupted download leaves it.
        let truncated = try Data(contentsOf: original).prefix(1 << 20)
        let damaged = folder.appendingPathComponent(ModelFile.recognitionNetwork.name)
        try truncated.write(to: damaged)
        do {
            _ = try FaceModels(directory: folder.path)
            Issue.record("a truncated model passed the checksum")
        } catch {
            #expect(error.code == .model)
            #expect(error.path == damaged.path)
            #expect(error.message.contains("SHA-256"))
            #expect(error.message.contains("make models"))
        }
        // Without the checksum, dlib itself refuses the file, and the error still names it.
        do {
            _ = try FaceModels(directory: folder.path, verifyChecksums: false)
            Issue.record("dlib loaded a truncated network")
        } catch {
            #expect(error.code == .model)
            #expect(error.message.contains(damaged.path))
        }
    }

    @Test("the two model files swapped are refused", .needsModels)
    func swappedModels() throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (link, target) in [
            (ModelFile.shapePredictor, ModelFile.recognitionNetwork),
            (ModelFile.recognitionNetwork, ModelFile.shapePredictor),
        ] {
            try FileManager.default.createSymbolicLink(
                at: folder.appendingPathComponent(link.name),
                withDestinationURL: TestResources.models.appendingPathComponent(target.name))
        }
        #expect(throws: VisionError.self) { try FaceModels(directory: folder.path, verifyChecksums: false) }
        #expect(throws: VisionError.self) { try FaceModels(directory: folder.path) }
    }

    @Test("BLAS is named; the build environment installs OpenBLAS", .needsModels)
    func blasIsOpenBLAS() {
        #expect(FaceModels.blasDescription.hasPrefix("OpenBLAS"))
    }
}
