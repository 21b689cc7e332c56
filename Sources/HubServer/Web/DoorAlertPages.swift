import Attendance
import Foundation
import Hub
import Hummingbird
import Recognition

/// The door alerts page: faces the doors refused as presentation attacks, newest first. The office sees
/// every alert; a teacher those whose claimed person is in a group they teach; nobody else.
extension WebApp {
    /// How many alerts one page shows.
    static let alertsShown = 500

    static func addDoorAlertRoutes(_ group: RouterGroup<WebRequestContext>, storage: any HubStorage) {
        group.get("alerts") { request, context in
            let account = context.account
            try WebAccess.doorAlerts(account)
            let (from, to) = try days(request, defaultDays: 30)
            let last = to.addingTimeInterval(-1)
            try await audit(storage, context, "view", "door-alerts", "\(day(from)) to \(day(last))")
            // A teacher's alerts are filtered after reading: read more than are shown, so that a school's
            // alerts about other groups do not push a teacher's own off the page.
            let read = account.role.seesWholeSchool ? alertsShown + 1 : alertsShown * 10
            let alerts = try await storage.doorAlerts(from: from, to: to, limit: read)
            var people: [String: Person?] = [:]
            var visible: [String: Bool] = [:]
            var rows: [[String: Any]] = []
            for alert in alerts {
                var person: Person?
                if let id = alert.claimedPerson {
                    if let known = people[id] {
                        person = known
                    } else {
                        person = try await storage.personRecord(id)
                        people[id] = person
                    }
                }
                if !account.role.seesWholeSchool {
                    guard let person else { continue }
                    if visible[person.id] == nil {
                        var teaches = false
                        for group in person.groups
                        where try await storage.teachesGroup(username: account.username, group: group) {
                            teaches = true
                            break
                        }
                        visible[person.id] = teaches
                    }
                    guard visible[person.id] == true else { continue }
                }
                rows.append(alertRow(alert, person: person, linked: keepsPeople(account)))
                if rows.count > alertsShown { break }
            }
            return try page(
                "alerts", title: "Door alerts", context: context,
                data: [
                    "from": day(from), "to": day(last), "alerts": Array(rows.prefix(alertsShown)),
                    "count": min(rows.count, alertsShown), "truncated": rows.count > alertsShown,
                    "none": rows.isEmpty, "retentionDays": Int(RetentionPolicy().doorAlerts / 86_400),
                    "scope": account.role.seesWholeSchool
                        ? "Every door of the school."
                        : "Alerts about students in the groups you teach.",
                ])
        }
    }

    /// One line of the table.
    static func alertRow(_ alert: DoorAlert, person: Person?, linked: Bool) -> [String: Any] {
        var row: [String: Any] = [
            "at": ISO8601Time.format(alert.at), "room": alert.room, "device": alert.device,
            "what": alertText(alert.kind), "reason": alert.reason.replacingOccurrences(of: "_", with: " "),
            "scores": alert.scores.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.3f", $0.value))" }
                .joined(separator: ", "),
        ]
        if let person {
            row["name"] = person.name
            if linked { row["link"] = "/people/\(path(person.id))" }
        } else {
            row["name"] = "someone the hub does not know"
        }
        return row
    }

    /// What an alert's kind means, in plain words.
    static func alertText(_ kind: String) -> String {
        switch kind {
        case "presentation_attack": "A photo or screen was held up to the camera"
        default: "The door refused something (\(kind.replacingOccurrences(of: "_", with: " ")))"
        }
    }
}

extension WebAccess {
    /// The door alerts page: the office (superadmin, secretary, assistant) and teachers.
    static func doorAlerts(_ account: Account) throws(HubError) {
        guard account.role.seesWholeSchool || account.role == .teacher else {
            throw HubError(.forbidden, "door alerts are for the office and teachers")
        }
    }

    /// Whether the role has the door alerts page in its navigation.
    static func seesDoorAlerts(_ account: Account) -> Bool {
        account.role.seesWholeSchool || account.role == .teacher
    }
}
