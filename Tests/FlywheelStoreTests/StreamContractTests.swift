import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// The change feed and webhook endpoints: the same answers on both stores.
@Suite struct StreamContractTests {
    @Test(arguments: StoreKind.allCases)
    func changesAreWrittenWithWhatMadeThemAndEndpointsKeepTheirPlace(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let other = try await StoreFixture.account(f.env, tenant: "Other", openId: "other-open-id")
        #expect(try await f.store.lastChange() == 0)
        // A follow makes a passerby fan: a tier change, in the same transaction as the projection.
        _ = try await f.store.append(f.events([FanEvent(id: "1", kind: .follow, openId: "fan-a", occurredAt: 1_772_294_400_000, channel: .search)])) { _ in }
        _ = try await f.store.append([AccountEvent(tenantId: other.tenantId, accountId: other.id,
                                                   event: FanEvent(id: "2", kind: .follow, openId: "fan-b", occurredAt: 1_772_294_400_000, channel: .search))]) { _ in }
        await Flywheel(f.env).projector.drain()
        let mine = try await f.store.changes(tenantIds: [f.account.tenantId], after: 0, kinds: [], accountId: nil, limit: 10)
        #expect(mine.map(\.kind) == [.tierChanged] && mine.first?.data == ["to": "passerby", "cause": "follow"] && mine.first?.openId == "fan-a")
        #expect(try await f.store.changes(tenantIds: [f.account.tenantId], after: 0, kinds: [.leadCreated], accountId: nil, limit: 10).isEmpty)
        #expect(try await f.store.changes(tenantIds: [f.account.tenantId, other.tenantId], after: 0, kinds: [], accountId: other.id, limit: 10).map(\.openId) == ["fan-b"])
        let last = try await f.store.lastChange()
        #expect(last >= 2)

        let endpoint = WebhookEndpoint(tenantId: f.account.tenantId, id: "whe-1", url: "https://example.com/h", secret: "whsec_x", kinds: [.tierChanged],
                                       cursor: 0, createdAt: 5)
        try await f.store.createWebhookEndpoint(endpoint, audit: f.env.audit(tenantId: endpoint.tenantId, actor: "test", action: "webhook.create", target: endpoint.id))
        #expect(try await f.store.webhookEndpoints(tenantId: f.account.tenantId) == [endpoint])
        // Leased once: a second claim within the lease finds nothing.
        #expect(try await f.store.claimWebhookEndpoints(now: 10, leaseUntil: 100, limit: 10).map(\.id) == ["whe-1"])
        #expect(try await f.store.claimWebhookEndpoints(now: 20, leaseUntil: 110, limit: 10).isEmpty)
        var moved = endpoint
        moved.cursor = mine[0].seq
        moved.failures = 1
        moved.nextAttemptAt = 3_000
        moved.state = .disabled
        moved.disabledReason = "HTTP 500"
        let attempt = WebhookAttempt(id: "whd-1", endpointId: endpoint.id, firstSeq: mine[0].seq, lastSeq: mine[0].seq, status: 500, error: nil, milliseconds: 12, at: 30)
        try await f.store.recordAttempt(attempt, endpoint: moved, audit: nil)
        #expect(try await f.store.webhookAttempts(endpointId: endpoint.id, tenantId: f.account.tenantId, limit: 10) == [attempt])
        #expect(try await f.store.webhookEndpoints(tenantId: f.account.tenantId) == [moved])
        try await f.store.enableWebhookEndpoint(endpoint.id, tenantId: f.account.tenantId, audit: f.env.audit(tenantId: endpoint.tenantId, actor: "test",
                                                                                                           action: "webhook.enable", target: endpoint.id))
        let enabled = try #require(try await f.store.webhookEndpoints(tenantId: f.account.tenantId).first)
        #expect(enabled.state == .active && enabled.failures == 0 && enabled.cursor == mine[0].seq && enabled.disabledReason == nil)
        // Nothing after its cursor in its tenant: not claimed.
        #expect(try await f.store.claimWebhookEndpoints(now: 10_000, leaseUntil: 20_000, limit: 10).isEmpty)
        try await f.store.deleteWebhookEndpoint(endpoint.id, tenantId: f.account.tenantId, audit: f.env.audit(tenantId: endpoint.tenantId, actor: "test",
                                                                                                           action: "webhook.delete", target: endpoint.id))
        #expect(try await f.store.webhookEndpoints(tenantId: f.account.tenantId).isEmpty)
        #expect(try await f.store.pruneChanges(before: 0) == 0)
        #expect(try await f.store.pruneChanges(before: Int64.max) == Int(last))
        #expect(try await f.store.changes(tenantIds: [f.account.tenantId], after: 0, kinds: [], accountId: nil, limit: 10).isEmpty)
    }
}
