import Crypto
import FlywheelPlatform
import FlywheelStore
import Foundation

/// Tenants, users and API keys: the secret of a key is shown once and stored as its SHA-256.
public struct Tenancy: Sendable {
    let env: FlywheelEnvironment

    public init(_ env: FlywheelEnvironment) { self.env = env }

    /// A new key in the form `fw_<key id>_<secret>`.
    public struct IssuedKey: Sendable {
        public var record: APIKeyRecord
        public var token: String
    }

    public func createTenant(name: String, kind: Tenant.Kind, provider: Tenant? = nil, ownerName: String = "owner",
                             actor: String) async throws -> (tenant: Tenant, owner: User, key: IssuedKey) {
        let tenant = Tenant(id: env.newId("ten"), name: name, kind: kind, providerId: provider?.id, createdAt: env.now())
        let owner = User(tenantId: tenant.id, id: env.newId("usr"), name: ownerName, role: .owner, createdAt: env.now())
        let key = issueKey(for: owner)
        try await env.store.createTenant(tenant, owner: owner, key: key.record,
                                         audit: env.audit(tenantId: tenant.id, actor: actor, action: "tenant.create", target: tenant.id, detail: name))
        return (tenant, owner, key)
    }

    public func createUser(name: String, role: Role, tenantId: String, actor: String) async throws -> User {
        let user = User(tenantId: tenantId, id: env.newId("usr"), name: name, role: role, createdAt: env.now())
        try await env.store.createUser(user, audit: env.audit(tenantId: tenantId, actor: actor, action: "user.create", target: user.id, detail: "\(name) as \(role.rawValue)"))
        return user
    }

    /// A new key for `user`, working until `expiresAt` (ms) when given.
    public func createKey(for user: User, expiresAt: Int64? = nil, actor: String) async throws -> IssuedKey {
        var key = issueKey(for: user)
        key.record.expiresAt = expiresAt
        let detail = "for \(user.id)" + (expiresAt.map { ", expires \(Date(timeIntervalSince1970: Double($0) / 1000).formatted(.iso8601))" } ?? "")
        try await env.store.createAPIKey(key.record, audit: env.audit(tenantId: user.tenantId, actor: actor, action: "api_key.create", target: key.record.id, detail: detail))
        return key
    }

    /// The caller behind `token`, or nil when the token is unknown or wrong, the key revoked or
    /// expired, or its user disabled or removed. Asked of the store on every request, with no
    /// cache in between: a revocation is refused at once by every server process.
    public func authenticate(token: String) async throws -> Principal? {
        let parts = token.split(separator: "_")
        guard parts.count == 3, parts[0] == "fw", let found = try await env.store.apiKey(id: "key" + parts[1]) else { return nil }
        guard constantTimeEqual(Self.hash(String(parts[2])), found.key.secretHash) else { return nil }
        guard found.key.isUsable(at: env.now()) else { return nil }
        return Principal(tenantId: found.key.tenantId, userId: found.key.userId, keyId: found.key.id, role: found.role)
    }

    /// Tenants the principal may see: its own and, for a service provider, the enterprises it manages.
    public func reachableTenants(of principal: Principal) async throws -> [String] {
        guard let tenant = try await env.store.tenant(id: principal.tenantId) else { return [] }
        guard tenant.kind == .provider else { return [tenant.id] }
        return [tenant.id] + (try await env.store.enterprises(managedBy: tenant.id)).map(\.id)
    }

    private func issueKey(for user: User) -> IssuedKey {
        let keyPart = env.randomHex(16)
        let secret = env.randomHex(40)
        let record = APIKeyRecord(tenantId: user.tenantId, id: "key" + keyPart, userId: user.id, secretHash: Self.hash(secret), createdAt: env.now())
        return IssuedKey(record: record, token: "fw_\(keyPart)_\(secret)")
    }

    /// The SHA-256 of a secret, as keys and session tokens are kept.
    static func hash(_ secret: String) -> String {
        Array(SHA256.hash(data: Array(secret.utf8))).hex
    }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
