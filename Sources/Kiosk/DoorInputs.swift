public import Attendance
public import Badges
public import Foundation
public import Logging
public import Outbox
public import Pipeline
public import Recognition
import SyncProtocol

/// What the door decides with, as the hub last gave it and the outbox keeps it: the gallery (with the
/// people's names for the screen), the room's schedule and policy, and the badge keys.
public struct DoorInputs: Sendable {
    public var gallery: GalleryDocument
    public var galleryVersion: Int64
    public var schedule: SessionSchedule
    public var keys: BadgeKeyring
    public var verifier: BadgeVerifier
    /// The attendance book, with the committed events of the last two days replayed into it.
    public var book: AttendanceBook

    /// The names the manifest gave, for everyone the room's sessions name (face or badge alike).
    public var directory: [String: String] = [:]
    /// Whether the hub takes template refresh sightings (the manifest's `template_refresh`).
    public var templateRefresh = false

    /// Display names by person id: the manifest's, then the gallery's for anyone it does not name.
    public var names: [String: String] {
        directory.merging(gallery.people.map { ($0.id, $0.name) }, uniquingKeysWith: { manifest, _ in manifest })
    }

    /// Reads the inputs the sync client cached in the outbox (gallery and its version, manifest, badge
    /// keys); what is missing is empty, and what cannot be read is empty with a log line saying so.
    public static func load(
        from outbox: Outbox, allowUnsigned: Bool, now: Date = Date(), logger: Logger
    ) async -> DoorInputs {
        var gallery = GalleryDocument()
        var version: Int64 = 0
        do {
            if let cached = try await outbox.cachedGallery() {
                gallery = cached.document
                version = cached.version
            }
        } catch {
            logger.error("the stored gallery cannot be read; matching against nobody until the next sync: \(error)")
        }
        var schedule = SessionSchedule(room: "", sessions: [])
        var directory: [String: String] = [:]
        var templateRefresh = false
        do {
            if let cached = try await outbox.cachedManifest() {
                schedule = cached.manifest.schedule
                directory = cached.manifest.names
                templateRefresh = cached.manifest.templateRefresh
            }
        } catch {
            logger.error(
                "the stored manifest cannot be read; no sessions until the next sync", metadata: ["problem": "\(error)"]
            )
        }
        var keys = BadgeKeyring()
        do {
            if let cached = try await outbox.cachedBadgeKeys() { keys = cached.keyring }
        } catch {
            logger.error(
                "the stored badge keys cannot be read; badges are refused until the next sync",
                metadata: ["problem": "\(error)"])
        }
        let verifier: BadgeVerifier
        do {
            verifier = try BadgeVerifier(keyring: keys, allowUnsigned: allowUnsigned)
        } catch {
            logger.error("a badge key is unusable; badges are refused until the next sync: \(error)")
            // An empty keyring cannot fail.
            verifier = try! BadgeVerifier(keyring: BadgeKeyring(), allowUnsigned: allowUnsigned)
        }
        var history: [AttendanceEvent] = []
        do {
            history = try await outbox.history(since: now - 2 * 86_400)
        } catch {
            logger.error(
                "the committed events cannot be read; the attendance book starts empty until they are read again: \(error)"
            )
        }
        return DoorInputs(
            gallery: gallery, galleryVersion: version, schedule: schedule, keys: keys, verifier: verifier,
            book: AttendanceBook(schedule: schedule, history: history), directory: directory,
            templateRefresh: templateRefresh)
    }

    /// Whether a sighting of `person` is worth offering the hub: refresh is on, and the person has no
    /// template added within the policy's spacing (the hub would refuse it; the door need not send it).
    public func offersSighting(of person: String, at now: Date, policy: TemplateRefreshPolicy = .standard) -> Bool {
        guard templateRefresh, let entry = gallery.people.first(where: { $0.id == person }) else { return false }
        let latest = entry.templates.compactMap(TemplateRefreshPolicy.addedAt).max() ?? .distantPast
        return now.timeIntervalSince(latest) >= policy.spacing
    }

    /// The pipeline update that installs these inputs, the operating point calibrated to the gallery.
    public func update(match: OperatingPoint) -> PipelineUpdate {
        let matrix = gallery.gallery
        return PipelineUpdate(
            gallery: matrix, book: book, verifier: verifier, match: match, calibration: match.calibrated(to: matrix))
    }
}
