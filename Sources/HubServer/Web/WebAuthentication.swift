import Crypto
public import Foundation
import Hub
import Hummingbird
import HummingbirdBcrypt
import Logging
import MultipartKit
import NIOCore
import NIOHTTP1
import NIOPosix
public import Recognition

/// How the web app signs people in and keeps them signed in.
public struct WebConfiguration: Sendable {
    /// How long a sign-in lasts (a school day and some).
    public var sessionLifetime: TimeInterval = 12 * 3600
    /// Failed sign-ins allowed per username and address in `throttleWindow` before further tries are
    /// refused (429) until the window has passed.
    public var failuresPerAccount = 5
    /// Failed sign-ins allowed per address (any usernames) in `throttleWindow`.
    public var failuresPerAddress = 20
    public var throttleWindow: TimeInterval = 15 * 60
    /// bcrypt's cost (2^cost rounds): 12 takes about 0.25 s on the hub's 2 cores.
    public var bcryptCost: UInt8 = 12
    /// How long the audit trail is kept (`rollcall-hub serve --audit-retention-days`).
    public var auditRetention: TimeInterval = 730 * 86_400
    /// Examines enrollment photos (the hub's vision core, on its own threads); nil: the web app cannot
    /// enroll (it says so on the person's page).
    public var photos: (any PhotoChecker)?
    /// The bounds of a bulk enrollment's CSV and ZIP (`/people/bulk`).
    public var bulk = BulkLimits()

    public init() {}
}

/// Checks an enrollment photo as `rollcall enroll` does: exactly one face, of enrollment quality, and not
/// already someone else's. Runs the vision work on threads of its own, never on the request's.
public protocol PhotoChecker: Sendable {
    /// The face's 128 values, or why the photo is refused (for the person who took it).
    func check(_ photo: Data, person: String, gallery: GalleryDocument) async -> Result<[Float], PhotoRefusal>
}

/// Why a photo is not enrolled, in words for the person enrolling.
public struct PhotoRefusal: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// Who is signed in, once `WebAuthentication` has found the session.
struct WebCaller: Sendable {
    let account: Account
    let session: WebSession
    /// The SHA-256 of the session cookie (the store's key).
    let digest: String
}

/// The context of the web app's signed-in pages: the account, its session, and (for a form) the body.
struct WebRequestContext: ChildRequestContext, ScopedContext {
    var coreContext: CoreRequestContextStorage
    let caller: WebCaller
    /// The client's address (`HubRequestContext.clientAddress`).
    let address: String
    /// The form a POST carried, read and checked for its CSRF token by `FormGuard`.
    var form: String = ""
    /// The parts of a `multipart/form-data` POST (photos), read and checked for the CSRF token by `FormGuard`.
    var upload: [MultipartPart]?

    init(context: HubRequestContext) throws {
        guard let caller = context.web else {
            throw HubError(.internal, "a page was reached without WebAuthentication")
        }
        coreContext = context.coreContext
        self.caller = caller
        address = context.clientAddress
    }

    var account: Account { caller.account }
    var actor: String { "user:\(caller.account.username)" }
}

/// Cookies, session ids, CSRF tokens and passwords.
enum WebSecurity {
    static let sessionCookie = "rollcall_session"
    /// Before sign-in there is no session: the sign-in form's CSRF token is this cookie's value, sent
    /// back in the form (double submit), so that another site cannot sign a browser in as someone else.
    static let signinCookie = "rollcall_signin"

    /// 32 random bytes, base64url.
    static func randomToken() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Equal strings, compared in a time that does not depend on where they differ.
    static func same(_ left: String, _ right: String) -> Bool {
        let a = Array(left.utf8)
        let b = Array(right.utf8)
        guard a.count == b.count, !a.isEmpty else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// Whether cookies must be `Secure`: always, except when the hub is addressed on loopback over plain
    /// HTTP (a developer's machine, the tests). Behind a TLS proxy (`X-Forwarded-Proto: https`), always.
    static func secure(_ request: Request) -> Bool {
        if request.headers[.init("X-Forwarded-Proto")!]?.lowercased() == "https" { return true }
        let name = hostName(request.head.authority ?? "")
        return !(name == "localhost" || name == "::1" || name.hasPrefix("127."))
    }

    /// The host name of a `Host` header or URL host, lower case, without port or IPv6 brackets.
    static func hostName(_ host: String) -> String {
        let host = host.lowercased()
        if host.hasPrefix("[") { return String(host.dropFirst().prefix { $0 != "]" }) }
        if host.filter({ $0 == ":" }).count > 1 { return host }  // a bare IPv6 address
        return String(host.prefix { $0 != ":" })
    }

    /// A cookie of the web app: `HttpOnly`, `SameSite=Lax` (sent on a link followed from another site,
    /// never on its forms or scripts), `Secure` as `secure(_:)` says, for the whole site.
    static func cookie(_ name: String, _ value: String, maxAge: Int?, request: Request) -> Cookie {
        Cookie(
            name: name, value: value, maxAge: maxAge, path: "/", secure: secure(request), httpOnly: true,
            sameSite: .lax)
    }

    static func hash(_ password: String, cost: UInt8) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// bcrypt is slow on purpose (a quarter of a second): it runs on NIO's thread pool, not on the
    /// threads that answer the doors.
    static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// A bcrypt hash (cost 12) of a random password nobody kept, verified against when the username is
    /// unknown, so that the time a refusal takes does not say whether the account exists. Written out
    /// rather than made at start: making it would be a quarter second of bcrypt on a request's thread.
    static let decoy = "$2b$12$wnMunQml58JuKjN54Z7lm.3VUsuTXAo577swjfqqF3WU.i6FjKQs."

}

/// The guard of the signed-in pages: a live session cookie whose account is enabled. Without one, a
/// page (GET) is redirected to the sign-in form (and back afterwards); anything else is refused 401.
struct WebAuthentication: RouterMiddleware {
    let storage: any AccountStorage

    func handle(
        _ request: Request, context: HubRequestContext,
        next: (Request, HubRequestContext) async throws -> Response
    ) async throws -> Response {
        if let token = request.cookies[WebSecurity.sessionCookie]?.value, token.count <= 100 {
            let digest = WebSecurity.digest(String(token))
            if let session = try await storage.webSession(digest: digest, now: Date()),
                let (account, _) = try await storage.credentials(username: session.username), !account.disabled
            {
                var context = context
                context.web = WebCaller(account: account, session: session, digest: digest)
                return try await next(request, context)
            }
        }
        if request.method == .get || request.method == .head {
            let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            let next = WebApp.path(target)
            return Response(status: .seeOther, headers: [.location: "/sign-in?next=\(next)"])
        }
        throw HubError(.unauthorized, "sign in first")
    }
}

/// The guard of every form: a POST must carry the session's CSRF token in its `csrf` field, and must
/// not come from another site (`Origin`, `Sec-Fetch-Site`); the body (at most 64 KB) goes into the
/// context for the handler.
struct FormGuard: RouterMiddleware {
    static let limit = 64 << 10
    let storage: any AccountStorage

    func handle(
        _ request: Request, context: WebRequestContext, next: (Request, WebRequestContext) async throws -> Response
    ) async throws -> Response {
        guard request.method != .get, request.method != .head else { return try await next(request, context) }
        try Self.sameSite(request)
        var context = context
        let token: String
        if let type = request.headers[.contentType], let boundary = Self.multipartBoundary(type) {
            // Photos: up to `uploadLimit` (a bulk enrollment's CSV and ZIP: `bulkUploadLimit`), the token
            // among the parts. The body is parsed as it was collected, not copied first (at 200 MB each copy
            // counts), on NIO's thread pool: parsing a large form takes a while, and Swift's own threads are
            // the requests'.
            let limit = request.uri.path == WebApp.bulkEnrollmentPath ? Self.bulkUploadLimit : Self.uploadLimit
            let parts: [MultipartPart]
            do {
                var request = request
                let body: ByteBuffer
                do {
                    body = try await request.collectBody(upTo: limit)
                } catch {
                    throw HubError(.tooLarge, "the form is larger than \(limit >> 20) MB; nothing was stored")
                }
                // A form that cannot be parsed has no token: it is refused below like one without it.
                parts =
                    (try? await NIOThreadPool.singleton.runIfActive {
                        try Self.multipartParts(body, boundary: boundary)
                    })
                    ?? []
            }
            token = parts.first { $0.name == "csrf" }.map { String(buffer: $0.body) } ?? ""
            context.upload = parts
        } else {
            let body = try await HubServer.collect(request, limit: Self.limit)
            context.form = String(decoding: body, as: UTF8.self)
            token = (try? URLEncodedFormDecoder().decode(CSRFField.self, from: context.form))?.csrf ?? ""
        }
        guard WebSecurity.same(token, context.caller.session.csrf) else {
            context.logger.notice(
                "web: a form without its CSRF token was refused",
                metadata: ["path": "\(request.uri.path)", "account": "\(context.account.username)"])
            try await storage.appendAudit(
                AuditEntry(
                    at: Date(), actor: context.actor, action: "form-refused",
                    subject: "form:\(request.uri.path.prefix(200))",
                    detail: token.isEmpty ? "no CSRF token" : "wrong CSRF token", address: context.address))
            throw HubError(
                .forbidden, "this form has expired or did not come from this site: reload the page and try again")
        }
        return try await next(request, context)
    }

    /// The parts of a `multipart/form-data` body.
    static func multipartParts(_ body: ByteBuffer, boundary: String) throws -> [MultipartPart] {
        let parser = MultipartParser(boundary: boundary)
        var parts: [MultipartPart] = []
        var headers = HTTPHeaders()
        var content = ByteBuffer()
        parser.onHeader = { field, value in headers.replaceOrAdd(name: field, value: value) }
        parser.onBody = { more in content.writeBuffer(&more) }
        parser.onPartComplete = {
            parts.append(MultipartPart(headers: headers, body: content))
            headers = HTTPHeaders()
            content = ByteBuffer()
        }
        try parser.execute(body)
        return parts
    }

    /// The most a form with files (photos for enrollment) may carry.
    static let uploadLimit = 25 << 20
    /// The most a bulk enrollment's form (a CSV and a ZIP of photos) may carry; nginx's location for it
    /// lets as much through.
    static let bulkUploadLimit = 200 << 20

    /// The boundary of a `multipart/form-data` content type; nil for any other type.
    static func multipartBoundary(_ type: String) -> String? {
        let parts = type.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for part in parts.dropFirst() where part.lowercased().hasPrefix("boundary=") {
            let value = part.dropFirst("boundary=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return value.isEmpty || value.count > 200 ? nil : value
        }
        return nil
    }

    /// Refuses a form that a browser says comes from another site.
    static func sameSite(_ request: Request) throws(HubError) {
        if let site = request.headers[.init("Sec-Fetch-Site")!], site == "cross-site" {
            throw HubError(.forbidden, "a form from another site is refused")
        }
        if let origin = request.headers[.init("Origin")!], origin != "null" {
            // Host names only: a proxy may pass on the host without its port.
            let host = WebSecurity.hostName(request.head.authority ?? "")
            guard let originHost = URLComponents(string: origin)?.host, !host.isEmpty,
                WebSecurity.hostName(originHost) == host
            else {
                throw HubError(.forbidden, "a form from another site is refused")
            }
        }
    }

    struct CSRFField: Decodable {
        var csrf: String?
    }
}

/// Passwords for `rollcall-hub account` (the web app hashes the same way).
public enum AccountPasswords {
    /// The bcrypt hash of a password (checked first with `Account.validatePassword`).
    public static func hash(_ password: String, cost: UInt8 = WebConfiguration().bcryptCost) -> String {
        Bcrypt.hash(password, cost: cost)
    }
}
