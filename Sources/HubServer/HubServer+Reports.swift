import Attendance
import Foundation
import Hub
import Hummingbird
import Logging

extension HubServer {
    struct NewToken: Decodable {
        var token: String
        var scope: TokenScope
        var label: String
    }

    struct TimetableAnswer: Encodable {
        var sessions: Int
        var problems: [Timetable.Problem]
    }

    struct FlagBody: Decodable {
        var person: String
        var flag: MentorFlag
        var note: String?
    }

    struct ExcuseBody: Decodable {
        var person: String
        var reason: String
    }

    /// `?from=...&to=...` as ISO 8601 times.
    static func range(_ request: Request) throws(HubError) -> (Date, Date) {
        let query = request.uri.queryParameters
        guard let fromText = query.get("from"), let from = ISO8601Time.parse(fromText),
            let toText = query.get("to"), let to = ISO8601Time.parse(toText)
        else {
            throw HubError(.badRequest, "give from and to as ISO 8601 times, e.g. ?from=2026-11-01T00:00:00Z&to=...")
        }
        return (from, to)
    }

    /// The admin API's staff and public tokens and the timetable import.
    static func addTokenRoutes(
        _ admin: RouterGroup<ScopedRequestContext>, admin storage: any AdminStorage, limit: Int
    ) {
        admin.post("tokens") { request, _ in
            let body: NewToken = try await decodeBody(request, limit: limit)
            try await storage.addAccessToken(body.token, scope: body.scope, label: body.label)
            return try json(Done())
        }
        admin.get("tokens") { _, _ in
            try json(try await storage.accessTokens())
        }
        admin.delete("tokens/:id") { request, context in
            let id = parameter(context, "id")
            guard try await storage.revokeAccessToken(id: id) else { throw unknown("token", id) }
            context.logger.notice("admin: token revoked; it no longer works", metadata: ["token": "\(id)"])
            return try json(Done())
        }
        admin.post("timetable") { request, _ in
            let body = try await collect(request, limit: limit)
            let result = try await storage.importTimetable(String(decoding: body, as: UTF8.self))
            return try json(TimetableAnswer(sessions: result.sessions.count, problems: result.problems))
        }
    }

    /// Reports (staff), flags and excuses (staff), and the public API (pseudonymous). The report pages
    /// are the web app's (`WebApp`), for signed-in accounts.
    static func addReportRoutes(
        reports: RouterGroup<ScopedRequestContext>,
        staff: RouterGroup<ScopedRequestContext>, publicAPI: RouterGroup<ScopedRequestContext>,
        storage: any StaffStorage & AccountStorage, configuration: HubServerConfiguration
    ) {
        let limit = configuration.maximumBodyBytes
        // Reads of people's records through the API are in the audit trail too, under the token's id.
        @Sendable func viewed(_ context: ScopedRequestContext, _ subject: String, _ detail: String = "") async throws {
            try await storage.appendAudit(
                AuditEntry(
                    at: Date(), actor: context.actor, action: "view", subject: subject, detail: detail,
                    address: context.address))
        }
        reports.get("sessions/:id") { request, context in
            let report = try await storage.sessionReport(parameter(context, "id"), now: Date())
            try await viewed(context, "session:\(report.session)", "API session report")
            switch request.uri.queryParameters.get("format") ?? "json" {
            case "json": return try json(report)
            case "csv":
                return Response(
                    status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: report.csv)))
            case let other:
                throw HubError(.badRequest, "format must be json or csv, not \(other)")
            }
        }
        reports.get("sessions/:id/summary") { request, context in
            let report = try await storage.sessionReport(parameter(context, "id"), now: Date())
            try await viewed(context, "session:\(report.session)", "API session summary")
            return Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: report.summary + "\n")))
        }
        reports.get("groups/:group") { request, context in
            let (from, to) = try range(request)
            let report = try await storage.groupReport(
                parameter(context, "group"), from: from, to: to, now: Date())
            try await viewed(
                context, "group:\(report.group)",
                "API group report \(ISO8601Time.format(from)) to \(ISO8601Time.format(to))")
            if request.uri.queryParameters.get("format") == "csv" {
                return Response(
                    status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: report.csv)))
            }
            return try json(report)
        }
        reports.get("volunteers") { request, context in
            let (from, to) = try range(request)
            let hours = try await storage.volunteerHours(from: from, to: to)
            try await viewed(context, "volunteers", "API volunteer hours")
            if request.uri.queryParameters.get("format") == "csv" {
                return Response(
                    status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: hours.csv)))
            }
            return try json(hours)
        }
        publicAPI.get("sessions/:id") { _, context in
            try json(try await storage.publicSessionReport(parameter(context, "id"), now: Date()))
        }
        let sessions = staff.group(RouterPath("sessions"))
        sessions.put(":id/flags") { request, context in
            let body: FlagBody = try await decodeBody(request, limit: limit)
            try await storage.setFlag(
                session: parameter(context, "id"), person: body.person, flag: body.flag, note: body.note,
                on: true)
            return try json(Done())
        }
        sessions.delete(":id/flags/:person/:flag") { request, context in
            let text = parameter(context, "flag")
            guard let flag = MentorFlag(rawValue: text) else {
                let known = MentorFlag.allCases.map(\.rawValue).joined(separator: ", ")
                throw HubError(.badRequest, "\(text) is not a flag; the flags are \(known)")
            }
            try await storage.setFlag(
                session: parameter(context, "id"), person: parameter(context, "person"),
                flag: flag, note: nil, on: false)
            return try json(Done())
        }
        sessions.put(":id/excuses") { request, context in
            let body: ExcuseBody = try await decodeBody(request, limit: limit)
            guard !body.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw HubError(.badRequest, "an excuse needs a reason")
            }
            try await storage.setExcuse(
                session: parameter(context, "id"), person: body.person, reason: body.reason)
            return try json(Done())
        }
        sessions.delete(":id/excuses/:person") { request, context in
            try await storage.setExcuse(
                session: parameter(context, "id"), person: parameter(context, "person"),
                reason: nil)
            return try json(Done())
        }
    }
}
