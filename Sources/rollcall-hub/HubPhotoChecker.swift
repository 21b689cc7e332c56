import Enrollment
import Foundation
import HubServer
import Recognition
import Synchronization
import Vision

/// Enrollment photos examined in the hub process, by the same vision core as `rollcall enroll` and the
/// door: on a pool of vision threads of its own (one, so that enrollment never takes both cores from the
/// requests), made at the first photo, not at start.
final class HubPhotoChecker: PhotoChecker {
    let models: String
    private let workers = Mutex<VisionWorkers?>(nil)

    /// A checker with the face models in `models` (the folder `ModelLocator` found).
    init(models: String) { self.models = models }

    /// The checker, when the face models can be found; nil (and web enrollment off) when not.
    static func find(explicitDirectory: String?) -> HubPhotoChecker? {
        let locator = ModelLocator(explicitDirectory: explicitDirectory)
        guard let directory = try? locator.locate() else { return nil }
        return HubPhotoChecker(models: directory)
    }

    func check(_ photo: Data, person: String, gallery: GalleryDocument) async -> Result<[Float], PhotoRefusal> {
        do {
            let pool = try workers.withLock { pool throws -> VisionWorkers in
                if let pool { return pool }
                let made = try VisionWorkers(models: try FaceModels(directory: models), count: 1)
                pool = made
                return made
            }
            switch try await pool.run({ engine in try PhotoEnrollment.examine(data: photo, engine) }) {
            case .failure(let refusal): return .failure(PhotoRefusal(refusal.message))
            case .success(let candidate):
                if let conflict = PhotoEnrollment.conflict(candidate, person: person, in: gallery, point: .door) {
                    return .failure(PhotoRefusal(conflict.message))
                }
                return .success(candidate.encoding.values)
            }
        } catch {
            return .failure(PhotoRefusal("the photo cannot be read: \(error)"))
        }
    }
}
