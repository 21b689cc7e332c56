import Attendance
import Foundation
import Hub
import Hummingbird
import Logging

/// The staff web app: sign-in and out, password change, accounts, the group report page and the audit
/// trail. Every signed-in page goes through `WebAuthentication` (a live session) and `FormGuard` (the
/// CSRF token of every POST); what a role may see is checked by `WebAccess` before anything is read.
enum WebApp {
    static func add(
        to router: Router<HubRequestContext>, storage: any HubStorage, configuration: HubServerConfiguration
    ) {
        let web = configuration.web
        // The templates are read once, here at start, not by the first request on Swift's threads; a hub
        // installed without them says so now, and its pages answer 500 with a reference.
        do {
            _ = try Pages.shared()
        } catch {
            Logger(label: "rollcall-hub.web").error("the web app cannot start", metadata: ["error": "\(error)"])
        }
        router.get("static/:file") { _, context in
            let name = context.parameters.get("file") ?? ""
            guard let text = try Pages.shared().files[name] else { throw HubError(.notFound, "no such file") }
            let type = name.hasSuffix(".css") ? "text/css" : name.hasSuffix(".js") ? "text/javascript" : "text/plain"
            return Response(
                status: .ok, headers: [.contentType: "\(type); charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        let open = router.group().add(middleware: WebErrorPages<HubRequestContext>(storage: storage))
        open.get("sign-in") { request, _ in
            var token = request.cookies[WebSecurity.signinCookie].map { String($0.value) } ?? ""
            var headers: HTTPFields = [:]
            if token.count != 43 {
                token = WebSecurity.randomToken()
                headers[values: .setCookie].append(
                    WebSecurity.cookie(WebSecurity.signinCookie, token, maxAge: 3600, request: request).description)
            }
            let next = safeNext(request.uri.queryParameters.get("next"))
            return try page(
                "sign-in", title: "Sign in", context: nil,
                data: ["csrf": token, "next": next], headers: headers)
        }
        open.post("sign-in") { request, context in
            try await signIn(request, context: context, storage: storage, web: web)
        }

        let signedIn = router.group()
            .add(middleware: WebErrorPages<HubRequestContext>(storage: storage))
            .add(middleware: WebAuthentication(storage: storage))
            .group(context: WebRequestContext.self)
            .add(middleware: WebErrorPages<WebRequestContext>(storage: storage))
            .add(middleware: FormGuard(storage: storage))
        addRollCallRoutes(signedIn, storage: storage, live: LiveRollCalls(storage: storage))
        addInstantSessionRoutes(signedIn, storage: storage)
        addPeopleRoutes(signedIn, storage: storage, web: configuration.web)
        addBadgeRoutes(signedIn, storage: storage)
        addDoorAlertRoutes(signedIn, storage: storage)
        signedIn.post("sign-out") { request, context in
            try await storage.removeWebSession(digest: context.caller.digest)
            try await audit(storage, context, "sign-out", "account:\(context.account.username)")
            var response = Response(status: .seeOther, headers: [.location: "/sign-in"])
            response.headers[values: .setCookie].append(
                WebSecurity.cookie(WebSecurity.sessionCookie, "", maxAge: 0, request: request).description)
            return response
        }
        signedIn.get("account/password") { _, context in
            try page("password", title: "Change your password", context: context)
        }
        signedIn.post("account/password") { _, context in
            try await changePassword(context: context, storage: storage, web: web)
        }
        addAccountRoutes(signedIn, storage: storage, web: web)
        signedIn.get("reports/groups/:group") { request, context in
            let group = HubServer.parameter(context, "group")
            try await WebAccess.group(group, context.account, storage)
            let (from, to) = try days(request, defaultDays: 30)
            let report = try await storage.groupReport(group, from: from, to: to, now: Date())
            try await audit(
                storage, context, "view", "group:\(group)",
                "\(ISO8601Time.format(from)) to \(ISO8601Time.format(to))")
            if request.uri.queryParameters.get("format") == "csv" {
                return csv(report.csv, name: "group-\(group).csv")
            }
            var data = GroupPage.data(report)
            let path = path(group)
            data["groupPath"] = path
            data["fromDay"] = day(from)
            data["toDay"] = day(to.addingTimeInterval(-1))
            data["csvLink"] =
                "/reports/groups/\(path)?from=\(day(from))&to=\(day(to.addingTimeInterval(-1)))&format=csv"
            return try page("group", title: GroupPage.title(report), context: context, data: data)
        }
        signedIn.get("audit") { request, context in
            try WebAccess.audit(context.account)
            let (from, to) = try days(request, defaultDays: 7)
            try await audit(storage, context, "view", "audit", "\(day(from)) to \(day(to.addingTimeInterval(-1)))")
            if request.uri.queryParameters.get("format") == "csv" {
                let entries = try await storage.auditEntries(from: from, to: to, limit: 5_000_000)
                let rows =
                    [["time", "actor", "action", "subject", "detail", "address"]]
                    + entries.map {
                        [ISO8601Time.format($0.at), $0.actor, $0.action, $0.subject, $0.detail, $0.address]
                    }
                return csv(CSVWriter.document(rows), name: "audit-\(day(from))-\(day(to.addingTimeInterval(-1))).csv")
            }
            let shown = 2000
            let entries = try await storage.auditEntries(from: from, to: to, limit: shown + 1)
            let query = "from=\(day(from))&to=\(day(to.addingTimeInterval(-1)))"
            return try page(
                "audit", title: "Audit trail", context: context,
                data: [
                    "from": day(from), "to": day(to.addingTimeInterval(-1)), "csvLink": "/audit?\(query)&format=csv",
                    "count": min(entries.count, shown), "truncated": entries.count > shown,
                    "retentionDays": Int(web.auditRetention / 86_400),
                    "entries": entries.prefix(shown).map { entry -> [String: Any] in
                        [
                            "at": ISO8601Time.format(entry.at), "actor": entry.actor, "action": entry.action,
                            "subject": entry.subject, "detail": entry.detail, "address": entry.address,
                        ]
                    },
                ])
        }
    }

    // MARK: Sign-in

    struct SignInForm: Decodable {
        var csrf: String?
        var username: String?
        var password: String?
        var next: String?
    }

    static func signIn(
        _ request: Request, context: HubRequestContext, storage: any HubStorage, web: WebConfiguration
    ) async throws -> Response {
        try FormGuard.sameSite(request)
        let body = try await HubServer.collect(request, limit: 16 << 10)
        let form = try? URLEncodedFormDecoder().decode(SignInForm.self, from: String(decoding: body, as: UTF8.self))
        let cookie = request.cookies[WebSecurity.signinCookie].map { String($0.value) } ?? ""
        guard let form, WebSecurity.same(form.csrf ?? "", cookie) else {
            throw HubError(.forbidden, "this sign-in form has expired or did not come from this site: reload it")
        }
        let username = (form.username ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let password = form.password ?? ""
        let next = safeNext(form.next)
        let address = context.clientAddress
        let now = Date()
        let since = now.addingTimeInterval(-web.throttleWindow)
        let accountKey = "account:\(username.prefix(64))|\(address)"
        let addressKey = "address:\(address)"
        func refused(_ status: HTTPResponse.Status, _ message: String) throws -> Response {
            try page(
                "sign-in", title: "Sign in", context: nil,
                data: ["csrf": cookie, "next": next, "username": String(username.prefix(64)), "problem": message],
                status: status,
                headers: status == .tooManyRequests ? [.retryAfter: "\(Int(web.throttleWindow))"] : [:])
        }
        let tries = try await storage.signinFailures(key: accountKey, since: since)
        let fromAddress = try await storage.signinFailures(key: addressKey, since: since)
        if tries >= web.failuresPerAccount || fromAddress >= web.failuresPerAddress {
            try await storage.appendAudit(
                AuditEntry(
                    at: now, actor: "user:\(username.prefix(64))", action: "sign-in-throttled",
                    subject: "account:\(username.prefix(64))", address: address))
            context.logger.notice(
                "web: sign-in refused, too many failures", metadata: ["address": "\(address)"])
            return try refused(
                .tooManyRequests,
                "Too many failed sign-ins from here. Wait \(Int(web.throttleWindow / 60)) minutes and try again.")
        }
        let stored = username.count <= 64 ? try await storage.credentials(username: username) : nil
        let matches = try await WebSecurity.verify(
            String(password.prefix(200)), hash: stored?.passwordHash ?? WebSecurity.decoy)
        guard let stored, matches, !stored.account.disabled else {
            try await storage.recordSigninFailure(key: accountKey, at: now)
            try await storage.recordSigninFailure(key: addressKey, at: now)
            try await storage.appendAudit(
                AuditEntry(
                    at: now, actor: "user:\(username.prefix(64))", action: "sign-in-refused",
                    subject: "account:\(username.prefix(64))",
                    detail: stored?.account.disabled == true && matches
                        ? "account disabled" : "wrong username or password",
                    address: address))
            return try refused(.unauthorized, "The username or password is not right.")
        }
        try await storage.clearSigninFailures(key: accountKey)
        let token = WebSecurity.randomToken()
        let session = WebSession(
            username: username, csrf: WebSecurity.randomToken(), createdAt: now,
            expiresAt: now.addingTimeInterval(web.sessionLifetime))
        try await storage.addWebSession(digest: WebSecurity.digest(token), session: session)
        try await storage.appendAudit(
            AuditEntry(
                at: now, actor: "user:\(username)", action: "sign-in", subject: "account:\(username)", address: address)
        )
        var response = Response(status: .seeOther, headers: [.location: next])
        response.headers[values: .setCookie].append(
            WebSecurity.cookie(WebSecurity.sessionCookie, token, maxAge: Int(web.sessionLifetime), request: request)
                .description)
        response.headers[values: .setCookie].append(
            WebSecurity.cookie(WebSecurity.signinCookie, "", maxAge: 0, request: request).description)
        return response
    }

    /// Where to go after signing in: a path of this site only (never `//elsewhere` or a full URL).
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"), next.count <= 512,
            !next.contains(where: { $0.isNewline }), !next.hasPrefix("/sign-")
        else { return "/" }
        return next
    }

    // MARK: Password

    struct PasswordForm: Decodable {
        var current: String?
        var new: String?
        var again: String?

        enum CodingKeys: String, CodingKey {
            case current, new
            case again = "repeat"
        }
    }

    static func changePassword(context: WebRequestContext, storage: any HubStorage, web: WebConfiguration)
        async throws -> Response
    {
        let form = try? URLEncodedFormDecoder().decode(PasswordForm.self, from: context.form)
        let username = context.account.username
        func again(_ message: String) throws -> Response {
            try page(
                "password", title: "Change your password", context: context, data: ["problem": message],
                status: .badRequest)
        }
        guard let form, let current = form.current, let new = form.new else {
            return try again("Fill in every field.")
        }
        guard let stored = try await storage.credentials(username: username),
            try await WebSecurity.verify(String(current.prefix(200)), hash: stored.passwordHash)
        else {
            try await audit(storage, context, "password-refused", "account:\(username)", "wrong current password")
            return try again("The current password is not right.")
        }
        guard new == form.again else { return try again("The two new passwords differ.") }
        do throws(HubError) {
            try Account.validatePassword(new)
        } catch {
            return try again(sentence(error.message))
        }
        _ = try await storage.setPasswordHash(
            username: username, hash: try await WebSecurity.hash(new, cost: web.bcryptCost))
        try await storage.removeWebSessions(username: username, keeping: context.caller.digest)
        try await audit(storage, context, "password", "account:\(username)", "changed by its owner")
        return try page(
            "password", title: "Change your password", context: context,
            data: ["notice": "Your password is changed. Other browsers signed in as you were signed out."])
    }

    // MARK: Accounts

    struct NewAccountForm: Decodable {
        var username: String?
        var name: String?
        var role: String?
        var person: String?
        var groups: String?
        var email: String?
        var password: String?
    }

    struct PasswordResetForm: Decodable {
        var password: String?
    }

    static func addAccountRoutes(
        _ group: RouterGroup<WebRequestContext>, storage: any HubStorage, web: WebConfiguration
    ) {
        @Sendable func list(
            _ context: WebRequestContext, notice: String? = nil, problem: String? = nil,
            status: HTTPResponse.Status = .ok
        ) async throws -> Response {
            let me = context.account
            let accounts = try await storage.accounts()
            var data: [String: Any] = [
                "roles": StaffRole.allCases.filter { me.role == .superadmin || $0 != .superadmin }.map(\.rawValue),
                "accounts": accounts.map { account -> [String: Any] in
                    [
                        "username": account.username, "name": account.name, "role": account.role.rawValue,
                        "person": account.person ?? "", "groups": account.groups.joined(separator: ", "),
                        "email": account.email ?? "", "disabled": account.disabled, "csrf": context.caller.session.csrf,
                        "manageable": WebAccess.mayManage(me, account) && account.username != me.username,
                    ]
                },
            ]
            if let notice { data["notice"] = notice }
            if let problem { data["problem"] = problem }
            return try page("accounts", title: "Accounts", context: context, data: data, status: status)
        }
        group.get("accounts") { _, context in
            try WebAccess.accounts(context.account)
            return try await list(context)
        }
        group.post("accounts") { _, context in
            try WebAccess.accounts(context.account)
            guard let form = try? URLEncodedFormDecoder().decode(NewAccountForm.self, from: context.form),
                let role = StaffRole(rawValue: form.role ?? "")
            else { return try await list(context, problem: "Choose a role.", status: .badRequest) }
            let person = (form.person ?? "").trimmingCharacters(in: .whitespaces)
            let email = (form.email ?? "").trimmingCharacters(in: .whitespaces)
            let account = Account(
                username: (form.username ?? "").trimmingCharacters(in: .whitespaces).lowercased(), role: role,
                name: (form.name ?? "").trimmingCharacters(in: .whitespaces),
                person: person.isEmpty ? nil : person,
                groups: (form.groups ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }, email: email.isEmpty ? nil : email)
            guard WebAccess.mayManage(context.account, account) else {
                throw HubError(.forbidden, "only a superadmin may make a superadmin account")
            }
            do {
                try account.validate()
                try Account.validatePassword(form.password ?? "")
                let hash = try await WebSecurity.hash(form.password ?? "", cost: web.bcryptCost)
                try await storage.addAccount(account, passwordHash: hash)
            } catch let error as HubError where error.code.isCallerError {
                return try await list(context, problem: sentence(error.message), status: error.code.httpStatus)
            }
            try await audit(
                storage, context, "account-create", "account:\(account.username)",
                "role \(account.role.rawValue)" + (account.person.map { ", person \($0)" } ?? ""))
            return try await list(context, notice: "Account \(account.username) created.")
        }
        for (action, disabled) in [("disable", true), ("enable", false)] {
            group.post("accounts/:username/\(action)") { _, context in
                let target = try await manageable(HubServer.parameter(context, "username"), context, storage)
                guard target.username != context.account.username else {
                    throw HubError(.forbidden, "you cannot disable your own account")
                }
                _ = try await storage.setDisabled(username: target.username, disabled: disabled)
                try await audit(storage, context, "account-\(action)", "account:\(target.username)")
                return try await list(context, notice: "Account \(target.username) \(action)d.")
            }
        }
        group.post("accounts/:username/password") { _, context in
            let target = try await manageable(HubServer.parameter(context, "username"), context, storage)
            let form = try? URLEncodedFormDecoder().decode(PasswordResetForm.self, from: context.form)
            do throws(HubError) {
                try Account.validatePassword(form?.password ?? "")
            } catch {
                return try await list(context, problem: sentence(error.message), status: .badRequest)
            }
            _ = try await storage.setPasswordHash(
                username: target.username, hash: try await WebSecurity.hash(form?.password ?? "", cost: web.bcryptCost))
            try await storage.removeWebSessions(username: target.username, keeping: nil)
            try await audit(
                storage, context, "password", "account:\(target.username)", "set by \(context.account.username)")
            return try await list(context, notice: "New password set for \(target.username); they were signed out.")
        }
    }

    /// The account `username`, if the caller may change it (403 otherwise, 404 when there is none).
    static func manageable(_ username: String, _ context: WebRequestContext, _ storage: any HubStorage) async throws
        -> Account
    {
        try WebAccess.accounts(context.account)
        guard let (target, _) = try await storage.credentials(username: username) else {
            throw HubError(.notFound, "there is no account \(username.prefix(64))")
        }
        guard WebAccess.mayManage(context.account, target) else {
            throw HubError(.forbidden, "only a superadmin may change a superadmin's account")
        }
        return target
    }

    // MARK: Helpers

    /// The links of the start page, by role.
    static func links(for account: Account) -> [[String: String]] {
        var links: [[String: String]] = []
        if mayStartSessions(account) {
            links.append([
                "href": "/sessions/new", "label": "Start a session now",
                "about": "A group in a room, from now: the door opens it within seconds.",
            ])
        }
        if keepsPeople(account) {
            links.append([
                "href": "/people", "label": "People",
                "about": "Consent for face check-in, guardians, enrollment from photos.",
            ])
        }
        if WebAccess.seesDoorAlerts(account) {
            links.append([
                "href": "/alerts", "label": "Door alerts",
                "about": "Photos or screens held up to a door's camera, and whom the face matched.",
            ])
        }
        if account.role.managesAccounts {
            links.append([
                "href": "/accounts", "label": "Accounts", "about": "Create accounts, set passwords, disable.",
            ])
        }
        if account.role == .superadmin {
            links.append(["href": "/audit", "label": "Audit trail", "about": "Who viewed and changed what."])
        }
        if account.role == .mentor {
            for group in account.groups {
                let path = path(group)
                links.append([
                    "href": "/reports/groups/\(path)", "label": "Group \(group)",
                    "about": "Attendance over the last 30 days.",
                ])
            }
        }
        links.append(["href": "/account/password", "label": "Change your password", "about": ""])
        return links
    }

    /// The navigation bar, by role.
    static func navigation(for account: Account, current: String) -> [[String: Any]] {
        var items: [(String, String)] = account.role.isSelfOnly ? [("/me", "My record")] : [("/", "Today")]
        if account.role.seesWholeSchool {
            items += [("/reports/volunteers", "Volunteers"), ("/doors", "Doors")]
        }
        if WebAccess.seesDoorAlerts(account) { items.append(("/alerts", "Door alerts")) }
        if keepsPeople(account) { items.append(("/people", "People")) }
        if account.role.managesAccounts { items.append(("/accounts", "Accounts")) }
        if account.role == .superadmin { items.append(("/audit", "Audit")) }
        items.append(("/account/password", "Password"))
        return items.map { ["href": $0.0, "label": $0.1, "current": $0.0 == current] }
    }

    /// A page: the template with the header's data (title, account, navigation, CSRF token).
    static func page(
        _ template: String, title: String, context: WebRequestContext?, script: Bool = false,
        data: [String: Any] = [:], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:],
        current: String? = nil
    ) throws -> Response {
        var data = data
        data["title"] = title
        data["script"] = script
        if let context {
            data["account"] = [
                "name": context.account.name, "role": context.account.role.rawValue,
                "username": context.account.username,
            ]
            data["csrf"] = context.caller.session.csrf
            data["nav"] = navigation(for: context.account, current: current ?? "/" + template)
        }
        var headers = headers
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(
            status: status, headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: try Pages.shared().render(template, data))))
    }

    static func csv(_ text: String, name: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition:
                    "attachment; filename=\"\(name.filter { $0.isLetter || $0.isNumber || "-_.".contains($0) })\"",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// `?from=YYYY-MM-DD&to=YYYY-MM-DD` (days in UTC, `to` included) or ISO 8601 times; by default the
    /// last `defaultDays` days up to the end of today.
    static func days(_ request: Request, defaultDays: Int) throws(HubError) -> (Date, Date) {
        let query = request.uri.queryParameters
        func parse(_ text: String?, endOfDay: Bool) throws(HubError) -> Date? {
            guard let text, !text.isEmpty else { return nil }
            if let time = ISO8601Time.parse(text) { return time }
            guard let start = ISO8601Time.parse(text + "T00:00:00Z") else {
                throw HubError(.badRequest, "\(text.prefix(40)) is not a day such as 2026-11-30")
            }
            return endOfDay ? start.addingTimeInterval(86_400) : start
        }
        let today = floor(Date().timeIntervalSince1970 / 86_400) * 86_400
        let to = try parse(query.get("to"), endOfDay: true) ?? Date(timeIntervalSince1970: today + 86_400)
        let from = try parse(query.get("from"), endOfDay: false) ?? to.addingTimeInterval(-Double(defaultDays) * 86_400)
        guard from < to, to.timeIntervalSince(from) <= 400 * 86_400 else {
            throw HubError(.badRequest, "from must come before to, at most 400 days apart")
        }
        return (from, to)
    }

    static func day(_ date: Date) -> String { String(ISO8601Time.format(date).prefix(10)) }

    static func sentence(_ message: String) -> String {
        message.prefix(1).uppercased() + message.dropFirst() + "."
    }

    static func audit(
        _ storage: any AccountStorage, _ context: WebRequestContext, _ action: String, _ subject: String,
        _ detail: String = ""
    ) async throws {
        try await storage.appendAudit(
            AuditEntry(
                at: Date(), actor: context.actor, action: action, subject: subject, detail: detail,
                address: context.address))
    }
}

/// Who may see what on the web app (the README's role table says the same).
enum WebAccess {
    static func group(_ group: String, _ account: Account, _ storage: any AccountStorage) async throws(HubError) {
        if account.role.seesWholeSchool { return }
        if account.role == .mentor, account.groups.contains(group) { return }
        if account.role == .teacher, try await storage.teachesGroup(username: account.username, group: group) { return }
        throw HubError(.forbidden, "you may not see group \(group.prefix(64)): it is not one of yours")
    }

    static func session(_ session: String, _ account: Account, _ storage: any AccountStorage) async throws(HubError) {
        if account.role.seesWholeSchool { return }
        if account.role == .teacher, try await storage.teaches(username: account.username, session: session) { return }
        if account.role == .mentor, let group = try await storage.sessionGroup(session), account.groups.contains(group)
        {
            return
        }
        throw HubError(.forbidden, "you may not see session \(session.prefix(64)): it is not one of yours")
    }

    /// Whether the role may mark people present, late, absent or excused (on sessions it may see).
    static func mayMark(_ account: Account) -> Bool { account.role.seesWholeSchool || account.role == .teacher }

    /// Whether the role may set mentor flags (on sessions it may see).
    static func mayFlag(_ account: Account) -> Bool { mayMark(account) || account.role == .mentor }

    static func accounts(_ account: Account) throws(HubError) {
        guard account.role.managesAccounts else {
            throw HubError(.forbidden, "only a superadmin or a secretary manages accounts")
        }
    }

    static func audit(_ account: Account) throws(HubError) {
        guard account.role == .superadmin else { throw HubError(.forbidden, "only a superadmin reads the audit trail") }
    }

    /// Whether `manager` may create or change `account`: a secretary not a superadmin's.
    static func mayManage(_ manager: Account, _ account: Account) -> Bool {
        manager.role == .superadmin || (manager.role == .secretary && account.role != .superadmin)
    }
}

/// A refusal on the web app is a page (with the status), not JSON.
struct WebErrorPages<Context: RequestContext>: RouterMiddleware {
    /// Where a signed-in account's refusals (403) go into the audit trail.
    let storage: any AccountStorage

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HubError where error.code.isCallerError {
            let titles: [HubError.Code: String] = [
                .unauthorized: "Please sign in", .forbidden: "Not allowed", .notFound: "Not found",
                .tooManyRequests: "Too many requests",
            ]
            if error.code == .forbidden, let web = context as? WebRequestContext {
                try await storage.appendAudit(
                    AuditEntry(
                        at: Date(), actor: web.actor, action: "refused",
                        subject: "\(request.method) \(request.uri.path.prefix(200))", detail: error.message,
                        address: web.address))
            }
            return try WebApp.page(
                "error", title: titles[error.code] ?? "That did not work", context: context as? WebRequestContext,
                data: ["message": WebApp.sentence(error.message)], status: error.code.httpStatus)
        }
    }
}
