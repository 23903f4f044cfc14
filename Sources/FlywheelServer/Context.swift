import FlywheelApp
import FlywheelEngine
import FlywheelStore
import Hummingbird
import NIOCore

/// Per-request state: who is calling, set by `AuthMiddleware` on `/v1`.
public struct FlywheelRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection, which `AdmissionMiddleware` closes when a body arrives too slowly.
    public let channel: any Channel
    /// The peer: the client, or the proxy in front of it.
    public var remoteAddress: SocketAddress? { channel.remoteAddress }
    public var principal: Principal?
    /// Tenants the caller may see: its own, plus managed enterprises for a service provider.
    public var tenantIds: [String] = []
    /// The console session, for its CSRF token.
    public var session: SessionRecord?
    /// A console form's fields, read once by `SessionMiddleware` to check its CSRF token.
    public var form: [String: String] = [:]
    /// Every value of a field sent several times (the fan list's ticked rows), in order.
    public var formLists: [String: [String]] = [:]

    public init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    public var maxUploadSize: Int { Ingest.maxBodyBytes }

    func caller() throws -> Principal {
        guard let principal else { throw APIError(.unauthorized, "unauthorized", "send 'Authorization: Bearer <api key>'") }
        return principal
    }

    /// Whether the caller may do `operation`: what a page offers.
    func allows(_ operation: Operation) -> Bool { principal.map { Access.allows($0.role, operation) } ?? false }

    /// The caller, when the access table lets its role do `operation`; 403 otherwise.
    @discardableResult
    func authorize(_ operation: Operation) throws -> Principal {
        let caller = try caller()
        guard Access.allows(caller.role, operation) else { throw APIError.forbidden }
        return caller
    }
}

/// Resolves `Authorization: Bearer <key>` to a principal; 401 otherwise.
struct AuthMiddleware: RouterMiddleware {
    let tenancy: Tenancy

    func handle(_ request: Request, context: FlywheelRequestContext,
                next: (Request, FlywheelRequestContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError(.unauthorized, "unauthorized", "send 'Authorization: Bearer <api key>'; `flywheel tenant create` prints the first key")
        }
        guard let principal = try await tenancy.authenticate(token: String(header.dropFirst(7))) else {
            throw APIError(.unauthorized, "unauthorized", "the API key is not valid")
        }
        var context = context
        context.principal = principal
        context.tenantIds = try await tenancy.reachableTenants(of: principal)
        return try await next(request, context)
    }
}
