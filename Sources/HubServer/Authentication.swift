import Crypto
import Foundation
import Hub
public import Hummingbird
import Logging
import SyncProtocol

/// The context of every request to the hub: who is calling, once the middleware of the route's group
/// has found out from the bearer token.
public struct HubRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `DeviceAuthentication` or `TokenAuthentication`; nil before (and on open routes).
    var caller: Caller?
    /// Set by `WebAuthentication` on the web app's signed-in pages.
    var web: WebCaller?
    /// The peer's address (nil in tests without a channel).
    let peer: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress
    }

    /// The client's address for the audit trail and sign-in throttling: the peer, or, when the peer is
    /// a proxy on loopback (nginx in front of the hub), the address the proxy says it serves
    /// (`X-Forwarded-For`'s last entry, the one nginx added).
    var clientAddress: String {
        let peer = peer ?? "unknown"
        guard peer == "127.0.0.1" || peer == "::1", let forwarded = forwardedFor else { return peer }
        return forwarded
    }

    /// Set from the request by `ClientAddressMiddleware` (a context does not see the request).
    var forwardedFor: String?
}

/// Notes the proxy's `X-Forwarded-For` in the context (`HubRequestContext.clientAddress`).
struct ClientAddressMiddleware: RouterMiddleware {
    func handle(
        _ request: Request, context: HubRequestContext,
        next: (Request, HubRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let header = request.headers[.init("X-Forwarded-For")!],
            let last = header.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty,
            last.count <= 64
        {
            context.forwardedFor = last
        }
        return try await next(request, context)
    }
}

/// Who a request comes from.
enum Caller: Sendable {
    /// A door, by its token.
    case device(DeviceRecord)
    /// A person with the admin token or a stored staff or public token, and how the audit trail names
    /// it (`token:admin`, or `token:` and the id `rollcall-hub token list` shows).
    case token(TokenScope, actor: String)
}

/// The context of the device API's routes: the device is known.
struct DeviceRequestContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The door the request comes from (its room scopes everything it may read).
    let device: DeviceRecord
    /// Its address (`HubRequestContext.clientAddress`).
    let address: String

    init(context: HubRequestContext) throws {
        guard case .device(let device) = context.caller else {
            throw HubError(.internal, "a device route was reached without DeviceAuthentication")
        }
        coreContext = context.coreContext
        self.device = device
        address = context.clientAddress
    }
}

/// The context of the admin, staff, report and public routes: the token's scope is known.
/// A request's context once its caller is known: who (for the audit trail) and from where.
protocol ScopedContext: RequestContext {
    var actor: String { get }
    var address: String { get }
}

struct ScopedRequestContext: ChildRequestContext, ScopedContext {
    var coreContext: CoreRequestContextStorage
    let scope: TokenScope
    /// The token as the audit trail names it.
    let actor: String
    /// The client's address (`HubRequestContext.clientAddress`).
    let address: String

    init(context: HubRequestContext) throws {
        guard case .token(let scope, let actor) = context.caller else {
            throw HubError(.internal, "a staff route was reached without TokenAuthentication")
        }
        coreContext = context.coreContext
        self.scope = scope
        self.actor = actor
        address = context.clientAddress
    }
}

/// The device API's guard: the bearer token must belong to a device (401 otherwise); the device goes
/// into the context for the handlers.
struct DeviceAuthentication: RouterMiddleware {
    let storage: any DeviceStorage

    func handle(
        _ request: Request, context: HubRequestContext,
        next: (Request, HubRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let token = HubServer.bearer(request) else {
            throw HubError(.unauthorized, "send the device's token as `Authorization: Bearer <token>`")
        }
        guard let device = try await storage.device(forToken: token) else {
            throw HubError(.unauthorized, "this token belongs to no device: check the device's configuration")
        }
        var context = context
        context.caller = .device(device)
        return try await next(request, context)
    }
}

/// The guard of the routes for people: the bearer token must be the admin token or a stored staff or
/// public token whose scope is among `allowed`. 401 without a token or with an unknown one; 403 for a
/// scope not allowed (a device's token is never allowed here).
struct TokenAuthentication: RouterMiddleware {
    let storage: any HubStorage
    let configuration: HubServerConfiguration
    let allowed: Set<TokenScope>
    /// Whether the token may come as `?token=` (pages opened in a browser, which cannot send a header).
    var fromQuery = false
    /// Whether the routes exist only with the admin API on (404 otherwise, as if they did not exist).
    var needsAdminAPI = false

    func handle(
        _ request: Request, context: HubRequestContext,
        next: (Request, HubRequestContext) async throws -> Response
    ) async throws -> Response {
        if needsAdminAPI && !configuration.adminAPI {
            throw HubError(.notFound, "the admin API is off (start the hub with --admin-token-file)")
        }
        var token = HubServer.bearer(request)
        if token == nil && fromQuery { token = request.uri.queryParameters.get("token").map { String($0) } }
        var context = context
        let scope = try await scope(of: token)
        // The id `rollcall-hub token list` shows: the first 16 hexadecimal digits of the token's SHA-256.
        let id = SHA256.hash(data: Data((token ?? "").utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
        context.caller = .token(scope, actor: scope == .admin ? "token:admin" : "token:\(id)")
        return try await next(request, context)
    }

    func scope(of token: String?) async throws(HubError) -> TokenScope {
        guard let token else {
            throw HubError(.unauthorized, "send a staff token as `Authorization: Bearer <token>`")
        }
        let scope: TokenScope
        if configuration.isAdmin(token) {
            scope = .admin
        } else if let stored = try await storage.scope(forToken: token) {
            scope = stored
        } else if try await storage.device(forToken: token) != nil {
            throw HubError(.forbidden, "a device's token cannot use this endpoint")
        } else {
            throw HubError(.unauthorized, "this token is not known to the hub")
        }
        guard allowed.contains(scope) else {
            let needed = allowed.map(\.rawValue).sorted().joined(separator: " or ")
            throw HubError(.forbidden, "this endpoint needs a \(needed) token, not a \(scope.rawValue) token")
        }
        return scope
    }
}

extension HubError.Code {
    /// The HTTP status a code is answered with.
    var httpStatus: HTTPResponse.Status {
        switch self {
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .tooLarge: .contentTooLarge
        case .tooManyRequests: .tooManyRequests
        case .storage, .internal: .internalServerError
        }
    }
}
