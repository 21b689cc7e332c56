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

    /// The scope a request's bearer token has: the admin token, or a stored staff or public token.
    /// 401 without a token or with an unknown one; 403 when its scope is not among `allowed` (a
    /// device's token is never allowed here).
    static func authorize(
        _ request: Request, _ storage: any HubStorage, configuration: HubServerConfiguration, allowed: Set<TokenScope>
    ) async throws(HubError) -> TokenScope {
        try await authorize(token: bearer(request), storage, configuration: configuration, allowed: allowed)
    }

    static func authorize(
        token: String?, _ storage: any HubStorage, configuration: HubServerConfiguration, allowed: Set<TokenScope>
    ) async throws(HubError) -> TokenScope {
        guard let token else {
            throw HubError("unauthorized", "send a staff token as `Authorization: Bearer <token>`", status: 401)
        }
        let scope: TokenScope
        if configuration.isAdmin(token) {
            scope = .admin
        } else if let stored = try await storage.scope(forToken: token) {
            scope = stored
        } else if try await storage.device(forToken: token) != nil {
            throw HubError("forbidden", "a device's token cannot use this endpoint", status: 403)
        } else {
            throw HubError("unauthorized", "this token is not known to the hub", status: 401)
        }
        guard allowed.contains(scope) else {
            let needed = allowed.map(\.rawValue).sorted().joined(separator: " or ")
            throw HubError(
                "forbidden", "this endpoint needs a \(needed) token, not a \(scope.rawValue) token", status: 403)
        }
        return scope
    }

    /// `?from=...&to=...` as ISO 8601 times.
    static func range(_ request: Request) throws(HubError) -> (Date, Date) {
        let query = request.uri.queryParameters
        guard let fromText = query.get("from"), let from = ISO8601Time.parse(fromText),
            let toText = query.get("to"), let to = ISO8601Time.parse(toText)
        else {
            throw HubError(
                "bad_request", "give from and to as ISO 8601 times, e.g. ?from=2026-11-01T00:00:00Z&to=...",
                status: 400)
        }
        return (from, to)
    }

    /// Tokens (admin), reports (staff), flags and excuses (staff).
    static func addReportRoutes(
        _ router: Router<BasicRequestContext>, storage: any HubStorage, configuration: HubServerConfiguration
    ) {
        let limit = configuration.maximumBodyBytes
        let staff: Set<TokenScope> = [.admin, .staff]
        router.post("/api/v1/admin/tokens") { request, _ in
            try await respond {
                _ = try await authorize(request, storage, configuration: configuration, allowed: [.admin])
                let body: NewToken = try await decodeBody(request, limit: limit)
                try await storage.addAccessToken(body.token, scope: body.scope, label: body.label)
                return try json(Done())
            }
        }
        router.get("/api/v1/admin/tokens") { request, _ in
            try await respond {
                _ = try await authorize(request, storage, configuration: configuration, allowed: [.admin])
                return try json(try await storage.accessTokens())
            }
        }
        router.delete("/api/v1/admin/tokens/:id") { request, context in
            try await respond {
                _ = try await authorize(request, storage, configuration: configuration, allowed: [.admin])
                let id = parameter(context, "id")
                guard try await storage.revokeAccessToken(id: id) else { throw unknown("token", id) }
                context.logger.notice("admin: token revoked; it no longer works", metadata: ["token": "\(id)"])
                return try json(Done())
            }
        }
        router.post("/api/v1/admin/timetable") { request, _ in
            try await respond {
                _ = try await authorize(request, storage, configuration: configuration, allowed: [.admin])
                let body = try await collect(request, limit: limit)
                let result = try await storage.importTimetable(String(decoding: body, as: UTF8.self))
                return try json(TimetableAnswer(sessions: result.sessions.count, problems: result.problems))
            }
        }
        router.get("/api/v1/reports/sessions/:id") { request, context in
            try await respond {
                _ = try await authorize(request, storage, configuration: configuration, allowed: staff)
                let report = try await storage.sessionReport(parameter(context, "id"), now: Date())
                switch request.uri.queryParameters.get("format") ?? "json" {
                case "json": return try json(report)
                case "csv":
                    return Response(
                        status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: report.csv)))
                case let other:
                    throw HubError("bad_request", "format must be json or csv, not \(other)", status: 400)
                }
            }
        }
        router.get("/api/v1/reports/sessions/:id/summary") { request, context in
            try await respond {
                _ = try await authorize(request, storage, configuration: configuration, allowed: staff)
                let report = try await storage.sessionReport(parameter(context, "id"), now: Date())
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: report.summary + "\n")))
            }
        }
        router.get("/api/v1/reports/groups/:group") { request, context in
            try await respond {
                _ = try await authorize(request, storage, configuration: configuration, allowed: staff)
                let (from, to) = try range(request)
                let report = try await storage.groupReport(
                    parameter(context, "group"), from: from, to: to, now: Date())
                if request.uri.queryParameters.get("format") == "csv" {
                    return Response(
                        status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: report.csv)))
                }
                return try json(report)
            }
        }
        // The same as a page for a browser, which cannot send a bearer header: the staff token may come
        // as ?token= (prefer the header for anything but a browser; query strings end up in logs).
        router.get("/reports/groups/:group") { request, context in
            try await respond {
                let token = bearer(request) ?? request.uri.queryParameters.get("token").map { String($0) }
                _ = try await authorize(token: token, storage, configuration: configuration, allowed: staff)
                let (from, to) = try range(request)
                let report = try await storage.groupReport(
                    parameter(context, "group"), from: from, to: to, now: Date())
                return Response(
                    status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: GroupPage.html(report))))
            }
        }
        router.get("/api/v1/reports/volunteers") { request, _ in
            try await respond {
                _ = try await authorize(request, storage, configuration: configuration, allowed: staff)
                let (from, to) = try range(request)
                let hours = try await storage.volunteerHours(from: from, to: to)
                if request.uri.queryParameters.get("format") == "csv" {
                    return Response(
                        status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: hours.csv)))
                }
                return try json(hours)
            }
        }
        router.get("/api/v1/public/sessions/:id") { request, context in
            try await respond {
                _ = try await authorize(request, storage, configuration: configuration, allowed: [.public, .admin])
                return try json(try await storage.publicSessionReport(parameter(context, "id"), now: Date()))
            }
        }
        let sessions = router.group(RouterPath("/api/v1/staff/sessions"))
        sessions.put(":id/flags") { request, context in
            try await respond {
                _ = try await authorize(request, storage, configuration: configuration, allowed: staff)
                let body: FlagBody = try await decodeBody(request, limit: limit)
                try await storage.setFlag(
                    session: parameter(context, "id"), person: body.person, flag: body.flag, note: body.note,
                    on: true)
                return try json(Done())
            }
        }
        sessions.delete(":id/flags/:person/:flag") { request, context in
            try await respond {
                _ = try await authorize(request, storage, configuration: configuration, allowed: staff)
                let text = parameter(context, "flag")
                guard let flag = MentorFlag(rawValue: text) else {
                    let known = MentorFlag.allCases.map(\.rawValue).joined(separator: ", ")
                    throw HubError("bad_request", "\(text) is not a flag; the flags are \(known)", status: 400)
                }
                try await storage.setFlag(
                    session: parameter(context, "id"), person: parameter(context, "person"),
                    flag: flag, note: nil, on: false)
                return try json(Done())
            }
        }
        sessions.put(":id/excuses") { request, context in
            try await respond {
                _ = try await authorize(request, storage, configuration: configuration, allowed: staff)
                let body: ExcuseBody = try await decodeBody(request, limit: limit)
                guard !body.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw HubError("bad_request", "an excuse needs a reason", status: 400)
                }
                try await storage.setExcuse(
                    session: parameter(context, "id"), person: body.person, reason: body.reason)
                return try json(Done())
            }
        }
        sessions.delete(":id/excuses/:person") { request, context in
            try await respond {
                _ = try await authorize(request, storage, configuration: configuration, allowed: staff)
                try await storage.setExcuse(
                    session: parameter(context, "id"), person: parameter(context, "person"),
                    reason: nil)
                return try json(Done())
            }
        }
    }
}
