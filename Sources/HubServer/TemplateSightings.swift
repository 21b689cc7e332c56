import Attendance
public import Foundation
public import Hub
import Hummingbird
import Logging
public import Recognition
public import SyncProtocol
import Synchronization

extension HubServer {
    /// `POST /api/v1/device/sightings`: a door offers a face check-in's encoding as a new template of the
    /// person (template refresh, off unless `serve --template-refresh`). The door's figures are not
    /// trusted: the hub checks that the person is on a roster of the door's room in its manifest window,
    /// that their consent stands, and every guard of `TemplateRefreshPolicy` against its own gallery. One
    /// sighting per door every 5 seconds; the others are answered 429 (the door drops them).
    static func addSightingRoute(
        _ device: RouterGroup<DeviceRequestContext>, storage: any HubStorage, configuration: HubServerConfiguration
    ) {
        let lastSighting = Mutex<[String: ContinuousClock.Instant]>([:])
        device.post("sightings") { request, context in
            guard let policy = configuration.templateRefresh else {
                throw HubError(.forbidden, "this hub takes no sightings: template refresh is off")
            }
            let sighting: TemplateSighting = try await decodeBody(request, limit: 8192)
            if let problem = sighting.problem { throw HubError(.badRequest, problem) }
            let door = context.device
            let admitted = lastSighting.withLock { last -> Bool in
                let now = ContinuousClock.now
                if let previous = last[door.id], now - previous < .seconds(5) { return false }
                if last.count > 10_000 { last.removeAll() }
                last[door.id] = now
                return true
            }
            guard admitted else { throw HubError(.tooManyRequests, "one sighting every 5 seconds per door") }
            let result = try await considerSighting(sighting, from: door, policy: policy, storage: storage)
            context.logger.info(
                "template refresh: \(result.added ? "added" : "not added")",
                metadata: [
                    "device": "\(door.id)", "person": "\(sighting.person)", "reason": "\(result.reason ?? "-")",
                ])
            return try json(result)
        }
    }

    /// The hub's decision on one sighting, and the template added when it passes.
    public static func considerSighting(
        _ sighting: TemplateSighting, from door: DeviceRecord, policy: TemplateRefreshPolicy, storage: any HubStorage,
        now: Date = Date()
    ) async throws(HubError) -> SightingResult {
        let person = sighting.person
        let manifest = try await storage.manifest(room: door.room, now: now)
        guard manifest.schedule.sessions.contains(where: { $0.roster.contains(person) }) else {
            return SightingResult(added: false, reason: "not on a roster of this door's room")
        }
        guard try await storage.consentHistory(person).last?.state == .granted else {
            return SightingResult(added: false, reason: "no consent for face check-in")
        }
        let people = try await storage.galleryDelta(since: 0).upserts
        let verdict = policy.evaluate(sighting.encoding, person: person, in: people, at: now)
        guard case .add = verdict, let entry = people.first(where: { $0.id == person }) else {
            if case .refuse(let reason) = verdict { return SightingResult(added: false, reason: reason) }
            return SightingResult(added: false, reason: "unknown person")
        }
        var updated = entry
        updated.templates = TemplateRefreshPolicy.applying(
            verdict, sighting.encoding, to: entry.templates,
            source: TemplateRefreshPolicy.source(at: now, device: door.id), model: GalleryDocument.modelID)
        do {
            try await storage.upsertPerson(updated, consent: nil)
        } catch  where error.code == .conflict {
            // The consent was withdrawn in the meantime: nothing added.
            return SightingResult(added: false, reason: "no consent for face check-in")
        }
        let replaced = if case .add(.some) = verdict { ", the oldest added one replaced" } else { "" }
        try await storage.appendAudit(
            AuditEntry(
                at: now, actor: "device:\(door.id)", action: "template-refresh", subject: "person:\(person)",
                detail: "a template added from a check-in at the door\(replaced)"))
        return SightingResult(added: true)
    }
}
