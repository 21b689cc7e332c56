import Attendance
import Foundation
import Hub
import Hummingbird
import Logging
import NIOCore
import Recognition
import ServiceLifecycle

/// Today, the live roll call (with its Server-Sent Events stream), the session report, My record,
/// volunteer hours and the doors.
extension WebApp {
    static func addRollCallRoutes(
        _ group: RouterGroup<WebRequestContext>, storage: any HubStorage, live: LiveRollCalls
    ) {
        group.get("/") { request, context in
            let account = context.account
            if account.role.isSelfOnly { return Response(status: .seeOther, headers: [.location: "/me"]) }
            let today = try await todayRows(account, storage: storage)
            if request.uri.queryParameters.get("format") == "json" {
                return try HubServer.json(today.map(TodayCounts.init))
            }
            return try page(
                "today", title: "Today", context: context, script: true,
                data: [
                    "sessions": today.map(\.data), "none": today.isEmpty,
                    "scope": account.role.seesWholeSchool
                        ? "Every session of the school today."
                        : account.role == .mentor
                            ? "The sessions of your groups today." : "The sessions you teach today.",
                    "links": links(for: account), "todayPage": true,
                ], current: "/")
        }
        group.get("live/sessions/:id") { _, context in
            let session = HubServer.parameter(context, "id")
            try await WebAccess.session(session, context.account, storage)
            let report = try await storage.sessionReport(session, now: Date())
            try await audit(storage, context, "view", "session:\(session)", "live roll call")
            let marks = WebAccess.mayMark(context.account)
            return try page(
                "live", title: sessionTitle(report), context: context, script: true,
                data: [
                    "session": session, "sessionPath": path(session), "status": report.status.rawValue,
                    "marks": marks, "flagsAllowed": WebAccess.mayFlag(context.account), "live": true,
                    "counts": countsData(report),
                    "lines": report.lines.map { lineData($0, marks: marks) },
                    "flagNames": MentorFlag.allCases.map { ["value": $0.rawValue, "label": flagLabel($0)] },
                ], current: "/")
        }
        group.get("live/sessions/:id/stream") { _, context in
            let session = HubServer.parameter(context, "id")
            try await WebAccess.session(session, context.account, storage)
            _ = try await storage.sessionReport(session, now: Date())
            let logger = context.logger
            let owner = context.caller.digest
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream; charset=utf-8", .init("X-Accel-Buffering")!: "no"],
                body: ResponseBody { writer in
                    guard let (id, wakes) = live.watch(session, owner: owner) else {
                        // One sign-in holds at most a few streams: this one is told so, and its browser
                        // tries again in a minute.
                        try await writer.write(
                            ByteBuffer(
                                string: "retry: 60000\nevent: refused\ndata: too many live roll calls open for this "
                                    + "sign-in: close some tabs\n\n"))
                        try await writer.finish(nil)
                        return
                    }
                    defer { live.stop(session, id, owner: owner) }
                    // EventSource reconnects after a second if the stream ends (the hub restarts, a proxy
                    // closes it); a stream lasts at most an hour.
                    try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                    try await writer.write(try await snapshot(session, storage))
                    let end = ContinuousClock.now + .seconds(3600)
                    // The stream ends when the hub shuts down (the browser reconnects to another process).
                    try await withGracefulShutdownHandler {
                        for await wake in wakes {
                            switch wake {
                            case .changed:
                                do {
                                    try await writer.write(try await snapshot(session, storage))
                                } catch let error as HubError {
                                    logger.warning("live roll call: no snapshot", metadata: ["error": "\(error)"])
                                }
                            case .keepAlive:
                                try await writer.write(ByteBuffer(string: ": still here\n\n"))
                            }
                            if ContinuousClock.now > end || Task.isCancelled { break }
                        }
                    } onGracefulShutdown: {
                        live.stop(session, id, owner: owner)
                    }
                    try await writer.finish(nil)
                })
        }
        group.post("live/sessions/:id/mark") { request, context in
            let session = HubServer.parameter(context, "id")
            try await WebAccess.session(session, context.account, storage)
            guard WebAccess.mayMark(context.account) else {
                throw HubError(.forbidden, "a mentor sets flags; marks are for the session's teachers and the office")
            }
            let form = try? URLEncodedFormDecoder().decode(MarkForm.self, from: context.form)
            guard let form, let person = form.person, let mark = ManualMark(rawValue: form.mark ?? "") else {
                throw HubError(.badRequest, "choose a person and present, late, absent or excused")
            }
            try await storage.setManualRecord(
                session: session, person: person, mark: mark, reason: form.reason, by: context.account.username,
                at: Date())
            let reason = form.reason.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            try await audit(
                storage, context, "change", "session:\(session)",
                "\(person) marked \(mark.rawValue)" + (reason.map { " (\($0))" } ?? ""))
            return done(request, back: "/live/sessions/\(path(session))#row-\(path(person))")
        }
        group.post("live/sessions/:id/absent-rest") { request, context in
            let session = HubServer.parameter(context, "id")
            try await WebAccess.session(session, context.account, storage)
            guard WebAccess.mayMark(context.account) else {
                throw HubError(.forbidden, "a mentor sets flags; marks are for the session's teachers and the office")
            }
            let count = try await storage.markRestAbsent(session: session, by: context.account.username, at: Date())
            try await audit(storage, context, "change", "session:\(session)", "\(count) not yet here marked absent")
            return done(request, back: "/live/sessions/\(path(session))")
        }
        group.post("live/sessions/:id/flag") { request, context in
            let session = HubServer.parameter(context, "id")
            try await WebAccess.session(session, context.account, storage)
            guard WebAccess.mayFlag(context.account) else { throw HubError(.forbidden, "you may not set flags") }
            let form = try? URLEncodedFormDecoder().decode(FlagForm.self, from: context.form)
            guard let form, let person = form.person, let flag = MentorFlag(rawValue: form.flag ?? "") else {
                throw HubError(.badRequest, "choose a person and a flag")
            }
            let on = form.on != "0"
            try await storage.setFlag(session: session, person: person, flag: flag, note: nil, on: on)
            try await audit(
                storage, context, "change", "session:\(session)",
                "\(person) flag \(flag.rawValue) \(on ? "set" : "removed")")
            return done(request, back: "/live/sessions/\(path(session))#row-\(path(person))")
        }
        group.get("reports/sessions/:id") { request, context in
            let session = HubServer.parameter(context, "id")
            try await WebAccess.session(session, context.account, storage)
            let report = try await storage.sessionReport(session, now: Date())
            try await audit(storage, context, "view", "session:\(session)", "session report")
            if request.uri.queryParameters.get("format") == "csv" {
                return csv(report.csv, name: "session-\(session).csv")
            }
            return try page(
                "session", title: sessionTitle(report), context: context,
                data: [
                    "sessionPath": path(session), "counts": countsData(report), "status": report.status.rawValue,
                    "lines": report.lines.map { lineData($0, marks: false) },
                ])
        }
        group.get("reports/volunteers") { request, context in
            guard context.account.role.seesWholeSchool else {
                throw HubError(.forbidden, "volunteer hours are for the office (superadmin, secretary, assistant)")
            }
            let (from, to) = try days(request, defaultDays: 30)
            let hours = try await storage.volunteerHours(from: from, to: to)
            try await audit(storage, context, "view", "volunteers", "\(day(from)) to \(day(to - 1))")
            if request.uri.queryParameters.get("format") == "csv" {
                return csv(hours.csv, name: "volunteer-hours-\(day(from)).csv")
            }
            let query = "from=\(day(from))&to=\(day(to - 1))"
            return try page(
                "volunteers", title: "Volunteer hours", context: context,
                data: [
                    "from": day(from), "to": day(to - 1), "csvLink": "/reports/volunteers?\(query)&format=csv",
                    "rows": hours.weeks.map { week -> [String: Any] in
                        [
                            "name": week.name ?? week.person, "person": week.person, "week": week.week,
                            "hours": String(format: "%.2f", week.hours), "visits": week.visits,
                        ]
                    },
                    "none": hours.weeks.isEmpty,
                    "anyOpen": !hours.open.isEmpty,
                    "open": hours.open.map { ["person": $0.person, "room": $0.room, "since": $0.since] },
                ])
        }
        group.get("doors") { _, context in
            guard context.account.role.seesWholeSchool else {
                throw HubError(.forbidden, "the doors are for the office (superadmin, secretary, assistant)")
            }
            let now = Date()
            let doors = try await storage.doors()
            return try page(
                "doors", title: "Doors", context: context,
                data: [
                    "doors": doors.map { door -> [String: Any] in
                        let silent = door.lastContact.map { now.timeIntervalSince($0) > 600 } ?? true
                        return [
                            "device": door.device, "room": door.room,
                            "lastContact": door.lastContact.map { ago($0, now: now) } ?? "never",
                            "at": door.lastContact.map(ISO8601Time.format) ?? "",
                            "silent": silent, "version": door.version ?? "–",
                            "queued": door.queued.map(String.init) ?? "–", "camera": door.camera ?? "–",
                            "cameraBad": !(door.camera == nil || door.camera == "ok"),
                        ]
                    },
                    "none": doors.isEmpty,
                ])
        }
        group.get("me") { request, context in
            try await myRecord(request, context, storage)
        }
    }

    struct MarkForm: Decodable {
        var person: String?
        var mark: String?
        var reason: String?
    }

    struct FlagForm: Decodable {
        var person: String?
        var flag: String?
        var on: String?
    }

    /// After a form: back to the page (a browser without script), or 204 for the page's script, which
    /// sees the change come through its stream.
    static func done(_ request: Request, back: String) -> Response {
        if request.headers[.init("X-Rollcall-Script")!] == "1" { return Response(status: .noContent) }
        return Response(status: .seeOther, headers: [.location: back])
    }

    /// A roll call's state as its stream sends it: `event: roster`, the lines as JSON.
    static func snapshot(_ session: String, _ storage: any HubStorage) async throws -> ByteBuffer {
        let report = try await storage.sessionReport(session, now: Date())
        let body = LiveSnapshot(
            status: report.status.rawValue, counts: countsData(report).mapValues { $0 },
            lines: report.lines.map(LiveSnapshot.Line.init), sentAt: Int64(Date().timeIntervalSince1970 * 1000))
        let data = try JSONEncoder().encode(body)
        return ByteBuffer(string: "event: roster\ndata: " + String(decoding: data, as: UTF8.self) + "\n\n")
    }

    struct LiveSnapshot: Encodable {
        struct Line: Encodable {
            var person, name, outcome, label, detail: String
            var flags: [String]
            /// When the hub stored this line's record (ms since 1970): the page measures its delay with it.
            var storedAt: Int64?

            init(_ line: SessionReport.Line) {
                person = line.person
                name = line.name ?? line.person
                outcome = line.outcome.rawValue
                label = outcomeLabel(line)
                detail = detailText(line)
                flags = line.flags.map(\.rawValue)
                storedAt = line.storedAt.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
            }
        }

        var status: String
        var counts: [String: Int]
        var lines: [Line]
        var sentAt: Int64
    }

    static func countsData(_ report: SessionReport) -> [String: Int] {
        let counts = report.counts
        return [
            "present": counts[.present, default: 0], "late": counts[.late, default: 0],
            "absent": counts[.absent, default: 0], "excused": counts[.excused, default: 0],
            "pending": counts[.pending, default: 0],
        ]
    }

    static func outcomeLabel(_ line: SessionReport.Line) -> String {
        switch line.outcome {
        case .present: "present"
        case .late: line.minutesLate.map { "late · \($0) min" } ?? "late"
        case .absent: "absent"
        case .excused: "excused"
        case .pending: "not yet here"
        }
    }

    /// How the record came to be: `face at signage:door-b12, 08:01:12` or `manual by lovelace at web`.
    static func detailText(_ line: SessionReport.Line) -> String {
        var parts: [String] = []
        if let method = line.method {
            if method == "manual" {
                parts.append("manual by \(line.setBy ?? "staff") at \(line.source ?? "web")")
            } else {
                parts.append("\(method) at \(line.source ?? "a door")")
            }
        }
        if let time = line.checkinTime { parts.append(String(time.dropFirst(11).prefix(8)) + " UTC") }
        if let excuse = line.excuse, line.outcome == .excused { parts.append("reason: \(excuse)") }
        return parts.joined(separator: ", ")
    }

    static func lineData(_ line: SessionReport.Line, marks: Bool) -> [String: Any] {
        [
            "person": line.person, "personPath": path(line.person), "name": line.name ?? line.person,
            "outcome": line.outcome.rawValue, "label": outcomeLabel(line), "detail": detailText(line),
            "onRoster": line.onRoster, "marks": marks,
            "flags": line.flags.map { ["value": $0.rawValue, "label": flagLabel($0)] },
            "flagOn": Dictionary(
                uniqueKeysWithValues: MentorFlag.allCases.map { ($0.rawValue, line.flags.contains($0)) }),
            "method": line.method ?? "", "source": line.source ?? "", "setBy": line.setBy ?? "",
            "checkinTime": line.checkinTime ?? "", "excuse": line.excuse ?? "",
            "flagText": line.flags.map(flagLabel).joined(separator: ", "),
        ]
    }

    static func flagLabel(_ flag: MentorFlag) -> String {
        switch flag {
        case .leftEarly: "left early"
        case .cameraOff: "camera off"
        case .lowParticipation: "low participation"
        case .absent: "absent (mentor)"
        }
    }

    static func sessionTitle(_ report: SessionReport) -> String {
        let time =
            "\(report.start.prefix(10)) \(report.start.dropFirst(11).prefix(5))–\(report.end.dropFirst(11).prefix(5)) UTC"
        return "\(report.className.map { "\($0), " } ?? "")\(report.group), room \(report.room), \(time)"
    }

    /// `text` as one segment of a path (or a query value): only unreserved characters stay as they are.
    static func path(_ text: String) -> String {
        var unreserved = CharacterSet.alphanumerics
        unreserved.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    static func ago(_ date: Date, now: Date) -> String {
        let seconds = Int(now.timeIntervalSince(date))
        if seconds < 60 { return "\(max(0, seconds)) s ago" }
        if seconds < 3600 { return "\(seconds / 60) min ago" }
        if seconds < 86_400 { return "\(seconds / 3600) h \(seconds % 3600 / 60) min ago" }
        return "\(seconds / 86_400) days ago"
    }

    // MARK: Today

    struct TodayRow {
        var summary: SessionSummary
        var report: SessionReport
        var now: Bool

        var data: [String: Any] {
            let counts = report.counts
            return [
                "session": summary.session.id, "sessionPath": path(summary.session.id),
                "title": summary.className.map { "\($0) · \(summary.session.group)" } ?? summary.session.group,
                "room": summary.session.room,
                "time": "\(report.start.dropFirst(11).prefix(5))–\(report.end.dropFirst(11).prefix(5)) UTC",
                "now": now, "status": report.status.rawValue,
                "present": counts[.present, default: 0], "late": counts[.late, default: 0],
                "pending": counts[.pending, default: 0], "roster": report.lines.filter(\.onRoster).count,
            ]
        }
    }

    struct TodayCounts: Encodable {
        var session: String
        var present, late, pending: Int

        init(_ row: TodayRow) {
            session = row.summary.session.id
            let counts = row.report.counts
            present = counts[.present, default: 0]
            late = counts[.late, default: 0]
            pending = counts[.pending, default: 0]
        }
    }

    /// The sessions of today (UTC day) that have not ended an hour ago, now and next first.
    static func todayRows(_ account: Account, storage: any HubStorage) async throws -> [TodayRow] {
        let now = Date()
        let from = now - 3600
        let to = Date(timeIntervalSince1970: (floor(now.timeIntervalSince1970 / 86_400) + 1) * 86_400) + 6 * 3600
        let sessions: [SessionSummary]
        switch account.role {
        case .teacher:
            sessions = try await storage.sessions(from: from, to: to, teacher: account.username, groups: nil, limit: 30)
        case .mentor:
            sessions = try await storage.sessions(from: from, to: to, teacher: nil, groups: account.groups, limit: 60)
        default: sessions = try await storage.sessions(from: from, to: to, teacher: nil, groups: nil, limit: 60)
        }
        var rows: [TodayRow] = []
        for summary in sessions {
            let report = try await storage.sessionReport(summary.session.id, now: now)
            rows.append(
                TodayRow(
                    summary: summary, report: report, now: summary.session.start <= now && now < summary.session.end))
        }
        return rows
    }

    // MARK: My record

    static func myRecord(_ request: Request, _ context: WebRequestContext, _ storage: any HubStorage) async throws
        -> Response
    {
        let account = context.account
        guard account.role.isSelfOnly, let person = account.person else {
            throw HubError(.forbidden, "My record is a student's or a volunteer's own page")
        }
        try await audit(storage, context, "view", "person:\(person)", "own record")
        if account.role == .volunteer {
            let (from, to) = try days(request, defaultDays: 90)
            let visits = try await storage.visits(person: person).filter { $0.loginTime >= from && $0.loginTime < to }
            let seconds = visits.compactMap { visit in visit.logoutTime.map { $0.timeIntervalSince(visit.loginTime) } }
                .reduce(0, +)
            return try page(
                "me-volunteer", title: "My visits", context: context,
                data: [
                    "from": day(from), "to": day(to - 1), "hours": String(format: "%.2f", seconds / 3600),
                    "none": visits.isEmpty,
                    "visits": visits.reversed().map { visit -> [String: Any] in
                        [
                            "room": visit.room, "in": ISO8601Time.format(visit.loginTime),
                            "out": visit.logoutTime.map(ISO8601Time.format) ?? "still signed in",
                            "hours": visit.logoutTime.map {
                                String(format: "%.2f", $0.timeIntervalSince(visit.loginTime) / 3600)
                            } ?? "–",
                        ]
                    },
                ], current: "/me")
        }
        let dayText = request.uri.queryParameters.get("day").map { String($0) }
        let start: Date
        if let dayText, !dayText.isEmpty {
            guard let parsed = ISO8601Time.parse(dayText + "T00:00:00Z") else {
                throw HubError(.badRequest, "\(dayText.prefix(20)) is not a day such as 2026-11-30")
            }
            start = parsed
        } else {
            start = Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970 / 86_400) * 86_400)
        }
        let now = Date()
        func mine(_ from: Date, _ to: Date, limit: Int) async throws -> [[String: Any]] {
            var rows: [[String: Any]] = []
            for summary in try await storage.sessions(of: person, from: from, to: to, limit: limit) {
                let report = try await storage.sessionReport(summary.session.id, now: now)
                // Only this person's own line is read out of the report: nothing of anyone else.
                guard let line = report.lines.first(where: { $0.person == person }) else { continue }
                rows.append([
                    "class": summary.className.map { "\($0) · " } ?? "", "group": summary.session.group,
                    "room": summary.session.room, "day": String(report.start.prefix(10)),
                    "time": "\(report.start.dropFirst(11).prefix(5))–\(report.end.dropFirst(11).prefix(5)) UTC",
                    "outcome": line.outcome.rawValue, "label": outcomeLabel(line), "detail": detailText(line),
                ])
            }
            return rows
        }
        let schedule = try await mine(start, start + 86_400, limit: 40)
        let recent = try await mine(start - 30 * 86_400, start, limit: 400).reversed()
        var tally: [String: Int] = [:]
        for row in recent { tally[row["outcome"] as? String ?? "", default: 0] += 1 }
        return try page(
            "me", title: "My record", context: context,
            data: [
                "day": day(start), "previous": day(start - 86_400), "next": day(start + 86_400),
                "schedule": schedule, "noSchedule": schedule.isEmpty, "recent": Array(recent),
                "noRecent": recent.isEmpty,
                "tally": ["present", "late", "absent", "excused"].map {
                    ["label": $0, "count": tally[$0, default: 0]]
                },
            ], current: "/me")
    }
}
