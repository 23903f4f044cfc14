import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// The stream context: a tenant's changes (tier changes, segment entries and exits, new leads,
/// SLA breaches) read in order from any point, pushed to webhook endpoints or streamed.
public struct Streams: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    /// Changes of the caller's tenants after `after`, of `kinds` (names; every kind when empty),
    /// of one account when given.
    /// `operation` is `.listChanges` or `.streamChanges`: the same read, by page or live.
    public func changes(after: Int64, kinds: [String], accountId: String?, reachable: [String], limit: Int, as operation: Operation = .listChanges,
                        by caller: Principal) async throws -> [Change] {
        try caller.authorize(operation)
        guard after >= 0 else { throw UseCaseError.invalid(field: "after", "must be a change id, 0 or more") }
        let kinds = try Self.kinds(kinds)
        if let accountId, try await env.store.account(id: accountId, tenantIds: reachable) == nil { throw UseCaseError.notFound("account \(accountId)") }
        return try await env.store.changes(tenantIds: reachable, after: after, kinds: kinds, accountId: accountId, limit: min(max(limit, 1), 1_000))
    }

    static func kinds(_ names: [String]) throws(UseCaseError) -> Set<Change.Kind> {
        var kinds = Set<Change.Kind>()
        for (i, name) in names.enumerated() {
            guard let kind = Change.Kind(rawValue: name) else {
                throw UseCaseError.invalid(field: "kinds[\(i)]", "'\(name.prefix(40))' is not one of \(Change.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            kinds.insert(kind)
        }
        return kinds
    }

    /// A new endpoint gets the changes made from now on; its secret is returned this once.
    public func createEndpoint(url: String, kinds: [String], tenantId: String?, reachable: [String], by caller: Principal) async throws -> WebhookEndpoint {
        try caller.authorize(.createWebhookEndpoint)
        let tenantId = try Validate.tenant(tenantId, caller: caller, reachable: reachable)
        let url = url.trimmingCharacters(in: .whitespaces)
        guard url.utf8.count <= 2_000, let parts = URLComponents(string: url), ["http", "https"].contains(parts.scheme?.lowercased() ?? ""),
              let host = parts.host, !host.isEmpty, parts.user == nil, parts.password == nil else {
            throw UseCaseError.invalid(field: "url", "must be an http or https address of at most 2,000 bytes, without a user or password")
        }
        guard try await env.store.webhookEndpoints(tenantId: tenantId).count < 20 else {
            throw UseCaseError.conflict(code: "too_many_endpoints", "an enterprise has 20 endpoints at most; delete one first")
        }
        let endpoint = WebhookEndpoint(tenantId: tenantId, id: env.newId("whe"), url: url, secret: "whsec_" + env.randomHex(32), kinds: try Self.kinds(kinds),
                                       cursor: try await env.store.lastChange(), createdAt: env.now())
        try await env.store.createWebhookEndpoint(endpoint, audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "webhook.create",
                                                                             target: endpoint.id, detail: url))
        return endpoint
    }

    public func endpoints(tenantId: String?, reachable: [String], by caller: Principal) async throws -> [WebhookEndpoint] {
        try caller.authorize(.listWebhookEndpoints)
        return try await env.store.webhookEndpoints(tenantId: try Validate.tenant(tenantId, caller: caller, reachable: reachable))
    }

    public func endpoint(_ id: String, reachable: [String], as operation: Operation = .readWebhookEndpoint, by caller: Principal) async throws -> WebhookEndpoint {
        try caller.authorize(operation)
        for tenantId in reachable {
            if let found = try await env.store.webhookEndpoints(tenantId: tenantId).first(where: { $0.id == id }) { return found }
        }
        throw UseCaseError.notFound("webhook endpoint \(id)")
    }

    public func delete(_ id: String, reachable: [String], by caller: Principal) async throws {
        let found = try await endpoint(id, reachable: reachable, as: .deleteWebhookEndpoint, by: caller)
        try await env.store.deleteWebhookEndpoint(found.id, tenantId: found.tenantId,
                                                  audit: env.audit(tenantId: found.tenantId, actor: caller.actor, action: "webhook.delete", target: found.id))
    }

    /// A disabled endpoint back at work, from the change it stopped at.
    public func enable(_ id: String, reachable: [String], by caller: Principal) async throws -> WebhookEndpoint {
        let found = try await endpoint(id, reachable: reachable, as: .enableWebhookEndpoint, by: caller)
        try await env.store.enableWebhookEndpoint(found.id, tenantId: found.tenantId,
                                                  audit: env.audit(tenantId: found.tenantId, actor: caller.actor, action: "webhook.enable", target: found.id))
        return try await endpoint(id, reachable: reachable, by: caller)
    }

    public func attempts(of id: String, reachable: [String], limit: Int, by caller: Principal) async throws -> [WebhookAttempt] {
        let found = try await endpoint(id, reachable: reachable, as: .listWebhookDeliveries, by: caller)
        return try await env.store.webhookAttempts(endpointId: found.id, tenantId: found.tenantId, limit: min(max(limit, 1), 200))
    }
}
