public import Foundation

/// The retention rule: what the hub keeps, and for how long.
public struct RetentionPolicy: Sendable, Equatable {
    /// Face templates of someone on no roster of a session that started in this long (and on none ahead,
    /// and let into no room) are erased: the person has left, or no longer comes.
    public var templatesAfterLeaving: TimeInterval = 60 * 86_400
    /// Raw events from the doors are kept this long, then deleted; the attendance records and visits made
    /// from them stay.
    public var rawEvents: TimeInterval = 400 * 86_400
    /// The doors' alerts (faces refused as presentation attacks) are kept this long after they arrived, as
    /// long as the audit trail keeps its entries by default, then deleted.
    public var doorAlerts: TimeInterval = 730 * 86_400

    public init(templatesAfterLeavingDays: Int = 60, rawEventsDays: Int = 400, doorAlertsDays: Int = 730) {
        templatesAfterLeaving = Double(templatesAfterLeavingDays) * 86_400
        rawEvents = Double(rawEventsDays) * 86_400
        doorAlerts = Double(doorAlertsDays) * 86_400
    }
}

/// What a run of the retention rule did (or, in a dry run, would do).
public struct RetentionReport: Sendable, Equatable {
    /// People whose templates were (would be) erased.
    public var templatesErased: [String]
    /// Raw events deleted (to delete).
    public var eventsDeleted: Int
    /// Door alerts deleted (to delete).
    public var alertsDeleted: Int
    public var dryRun: Bool

    public init(templatesErased: [String], eventsDeleted: Int, alertsDeleted: Int = 0, dryRun: Bool) {
        self.templatesErased = templatesErased
        self.eventsDeleted = eventsDeleted
        self.alertsDeleted = alertsDeleted
        self.dryRun = dryRun
    }

    /// One line for the log and the audit trail.
    public var summary: String {
        let verb = dryRun ? "would erase" : "erased"
        let who =
            templatesErased.isEmpty
            ? ""
            : " (\(templatesErased.prefix(20).joined(separator: ", "))"
                + (templatesErased.count > 20 ? ", ..." : "") + ")"
        return "\(verb) the templates of \(templatesErased.count) people who left\(who); "
            + "\(dryRun ? "would delete" : "deleted") \(eventsDeleted) raw events past the retention period"
            + (alertsDeleted > 0 ? " and \(alertsDeleted) door alerts past theirs" : "")
    }
}

/// Runs the retention rule.
public protocol RetentionStorage: Sendable {
    /// Applies `policy` at `now` (nothing changes in a dry run); erasures reach the doors with their next delta.
    func applyRetention(_ policy: RetentionPolicy, now: Date, dryRun: Bool) async throws(HubError) -> RetentionReport
}

extension RetentionStorage where Self: AccountStorage {
    /// Applies the rule and writes what it did to the audit trail (`actor`: `cli` or `retention`).
    public func applyRetentionAudited(_ policy: RetentionPolicy, now: Date, dryRun: Bool, actor: String)
        async throws(HubError) -> RetentionReport
    {
        let report = try await applyRetention(policy, now: now, dryRun: dryRun)
        try await appendAudit(
            AuditEntry(
                at: now, actor: actor, action: dryRun ? "retention-dry-run" : "retention", subject: "retention",
                detail: report.summary))
        return report
    }
}

/// The people still present: on a roster of a session that started since `since` or starts later, or let
/// into a room.
func activePeople(rosters: [Data], access: [String]) throws -> Set<String> {
    var active = Set(access)
    for roster in rosters { active.formUnion(try JSONDecoder().decode([String].self, from: roster)) }
    return active
}
