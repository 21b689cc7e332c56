import Foundation
import Logging
import NIOHTTP1
public import Outbox
public import SyncProtocol

extension SyncClient {
    /// Sends one batch of pending audit records (faces the door refused as presentation attacks) to the
    /// hub's door alerts and records its answer. A record leaves the pending state only when the hub listed
    /// it as accepted or duplicate: a lost answer means it is sent again, and the hub, which keeps each id
    /// once, answers `duplicate`. A hub that refuses a batch (`400`) has it sent again one record at a time,
    /// so that the record it refuses is marked rejected and the others go through.
    public func pushAuditOnce() async -> PushOutcome {
        let records: [DoorAuditRecord]
        do {
            records = try await outbox.pendingAudit(limit: DeviceAPI.maximumAuditBatch)
        } catch {
            return fail("cannot read the outbox's audit records: \(error)", retryAfter: nil)
        }
        guard !records.isEmpty else { return .idle }
        switch await sendAudit(records) {
        case .answered(let result):
            return result
        case .refused(let problem) where records.count == 1:
            do {
                try await outbox.markAuditRejected(records[0].id, reason: problem)
            } catch {
                return fail("cannot record the hub's answer in the outbox: \(error)", retryAfter: nil)
            }
            logger.error(
                "the hub refused a door audit record; it is kept, marked rejected",
                metadata: ["record": "\(records[0].id)", "reason": "\(problem)"])
            recordSuccess()
            return .delivered(accepted: 0, duplicate: 0, rejected: 1)
        case .refused:
            var accepted = 0
            var duplicate = 0
            var rejected = 0
            for record in records {
                switch await sendAudit([record]) {
                case .answered(.delivered(let one, let again, _)):
                    accepted += one
                    duplicate += again
                case .answered(let failure):
                    return failure
                case .refused(let problem):
                    do {
                        try await outbox.markAuditRejected(record.id, reason: problem)
                    } catch {
                        return fail("cannot record the hub's answer in the outbox: \(error)", retryAfter: nil)
                    }
                    logger.error(
                        "the hub refused a door audit record; it is kept, marked rejected",
                        metadata: ["record": "\(record.id)", "reason": "\(problem)"])
                    rejected += 1
                }
            }
            return .delivered(accepted: accepted, duplicate: duplicate, rejected: rejected)
        }
    }

    /// What one audit request came to.
    enum AuditAnswer {
        /// Delivered (with the counts), or failed for a reason that a retry may cure.
        case answered(PushOutcome)
        /// The hub answered `400`: it will not take this batch as it is.
        case refused(String)
    }

    /// Sends `records` once.
    func sendAudit(_ records: [DoorAuditRecord]) async -> AuditAnswer {
        let ids = Set(records.map(\.id))
        let body: Data
        do {
            body = try DeviceAPI.encoder().encode(DoorAuditBatch(events: records.map(\.auditEvent)))
        } catch {
            return .answered(fail("cannot encode the audit records: \(error)", retryAfter: nil))
        }
        let answer: (status: Int, body: Data, headers: HTTPHeaders)
        do {
            answer = try await send("POST", DeviceAPI.auditPath, body: body)
        } catch {
            // Counting is only for diagnostics; a failure to count is no reason to give up the retry.
            try? await outbox.countAuditAttempt(Array(ids))
            return .answered(fail("the hub cannot be reached: \(error)", retryAfter: nil))
        }
        let problem = (try? DeviceAPI.decoder().decode(APIProblem.self, from: answer.body))?.message
        switch answer.status {
        case 200:
            guard let result = try? DeviceAPI.decoder().decode(DoorAuditBatchResult.self, from: answer.body) else {
                try? await outbox.countAuditAttempt(Array(ids))
                return .answered(
                    fail("the hub answered 200 to audit records with something that is not a result", retryAfter: nil))
            }
            do {
                // Only ids of this batch count: an answer naming others is not trusted for them.
                try await outbox.markAuditSynced(
                    result.accepted.filter(ids.contains) + result.duplicate.filter(ids.contains))
            } catch {
                return .answered(fail("cannot record the hub's answer in the outbox: \(error)", retryAfter: nil))
            }
            recordSuccess()
            return .answered(
                .delivered(accepted: result.accepted.count, duplicate: result.duplicate.count, rejected: 0))
        case 400:
            return .refused(problem ?? "the hub answered 400")
        case 404:
            // A hub older than door alerts: the records wait at the door (they are kept until it has them),
            // and the door is not taken for offline because of them.
            logger.debug("sync: the hub takes no door audit records yet; they stay in the outbox")
            return .answered(.idle)
        default:
            try? await outbox.countAuditAttempt(Array(ids))
            let retryAfter = answer.headers.first(name: "Retry-After").flatMap(TimeInterval.init)
            return .answered(
                fail(
                    "the hub answered \(answer.status) to audit records\(problem.map { ": \($0)" } ?? "")",
                    retryAfter: retryAfter))
        }
    }
}

extension DoorAuditRecord {
    /// The record as the device API carries it.
    public var auditEvent: DoorAuditEvent {
        DoorAuditEvent(
            id: id, kind: kind, at: date, reason: reason, claimedPerson: claimedPerson, scores: scoreValues)
    }
}
