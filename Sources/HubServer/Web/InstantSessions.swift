import Attendance
import Foundation
import Hub
import Hummingbird
import Logging
import Recognition

/// Sessions made on the spot: a teacher (or the office) starts a session for a group in a room, from a
/// phone, in three taps; the room's door learns of it through the push channel within seconds.
extension WebApp {
    /// Who may start a session now: the teachers and the office.
    static func mayStartSessions(_ account: Account) -> Bool {
        account.role == .teacher || account.role.seesWholeSchool
    }

    static func addInstantSessionRoutes(_ group: RouterGroup<WebRequestContext>, storage: any HubStorage) {
        group.get("sessions/new") { _, context in
            guard mayStartSessions(context.account) else {
                throw HubError(.forbidden, "sessions are started by teachers and the office")
            }
            let (groups, rooms) = try await choices(context.account, storage)
            return try page(
                "new-session", title: "Start a session now", context: context,
                data: ["groups": groups, "rooms": rooms, "noGroups": groups.isEmpty || rooms.isEmpty],
                current: "/")
        }
        group.post("sessions/new") { _, context in
            guard mayStartSessions(context.account) else {
                throw HubError(.forbidden, "sessions are started by teachers and the office")
            }
            let form = try? URLEncodedFormDecoder().decode(NewSessionForm.self, from: context.form)
            guard let form, let name = form.group, let room = form.room, let minutes = form.minutes.flatMap(Int.init),
                (5...240).contains(minutes)
            else {
                throw HubError(.badRequest, "choose a group, a room and a length of 5 to 240 minutes")
            }
            let (groups, rooms) = try await choices(context.account, storage)
            guard groups.contains(name) else {
                throw HubError(
                    .forbidden, "you may start sessions for the groups you teach: \(name.prefix(60)) is not one")
            }
            guard rooms.contains(room) else { throw HubError(.badRequest, "no room \(room.prefix(60))") }
            let now = Date()
            let roster = try await roster(of: name, storage)
            let suffix = UUID().uuidString.lowercased().prefix(8)
            let id = "now-\(Self.stampFormat.string(from: now))-\(suffix)"
            let session = Session(
                id: id, room: room, group: name, start: now, end: now + Double(minutes) * 60, roster: roster)
            try await storage.putSession(session)
            if context.account.role == .teacher {
                try await storage.setTeachers(session: id, usernames: [context.account.username])
            }
            try await audit(
                storage, context, "change", "session:\(id)",
                "started now for \(name) in \(room), \(minutes) min, \(roster.count) on the roster")
            context.logger.notice(
                "session started from the web app",
                metadata: ["session": "\(id)", "room": "\(room)", "by": "\(context.account.username)"])
            return Response(status: .seeOther, headers: [.location: "/live/sessions/\(path(id))"])
        }
    }

    struct NewSessionForm: Decodable {
        var group: String?
        var room: String?
        var minutes: String?
    }

    static let stampFormat: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmm"
        return formatter
    }()

    /// The groups the account may start a session for (a teacher: the groups of the sessions they taught
    /// or teach, 60 days back to 14 ahead; the office: every group of that time and of the people), and the
    /// rooms (those of that time's sessions and of the doors).
    static func choices(_ account: Account, _ storage: any HubStorage) async throws(HubError) -> (
        groups: [String], rooms: [String]
    ) {
        let now = Date()
        let teacher = account.role == .teacher ? account.username : nil
        let taught = try await storage.sessions(
            from: now - 60 * 86_400, to: now + 14 * 86_400, teacher: teacher, groups: nil, limit: 5000)
        var groups = Set(taught.map(\.session.group))
        let all =
            teacher == nil
            ? taught
            : try await storage.sessions(
                from: now - 60 * 86_400, to: now + 14 * 86_400, teacher: nil, groups: nil, limit: 5000)
        var rooms = Set(all.map(\.session.room))
        rooms.formUnion(try await storage.doors().map(\.room))
        if teacher == nil {
            for listing in try await storage.people() { groups.formUnion(listing.person.groups) }
        }
        return (groups.sorted(), rooms.sorted())
    }

    /// A group's roster: the people whose record names the group, else the roster of its latest session.
    static func roster(of group: String, _ storage: any HubStorage) async throws(HubError) -> [String] {
        let members = try await storage.people().filter { $0.person.groups.contains(group) }.map(\.person.id)
        if !members.isEmpty { return members }
        let now = Date()
        let recent = try await storage.sessions(
            from: now - 60 * 86_400, to: now + 86_400, teacher: nil, groups: [group], limit: 5000)
        return recent.last?.session.roster ?? []
    }
}
