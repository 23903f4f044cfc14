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

    /// Each kind of change comes from the rows of its table, once a row, in the order a statement
    /// wrote them; a desk event that is not a breach makes none. (PostgreSQL writes them once a
    /// statement from the rows it inserted; SQLite once a row.)
    @Test(arguments: StoreKind.allCases)
    func eachRowOfAStatementMakesItsChangeInOrder(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let t0: Int64 = 1_772_294_400_000
        _ = try await f.store.append(f.events(["fan-c", "fan-a", "fan-b"].enumerated().map {
            FanEvent(id: "f\($0.offset)", kind: .follow, openId: $0.element, occurredAt: t0 + Int64($0.offset), channel: .search)
        } + [FanEvent(id: "l1", kind: .leadSubmitted, openId: "fan-d", occurredAt: t0 + 10, channel: .homepage)])) { _ in }
        await Flywheel(f.env).projector.drain()
        var desk = DeskChange(accountId: f.account.id)
        desk.events = [DeskEvent(accountId: f.account.id, openId: "fan-a", at: t0 + 20, kind: .resolved, agent: "usr_1"),
                       DeskEvent(accountId: f.account.id, openId: "fan-b", at: t0 + 30, kind: .slaBreached, agent: "usr_1", detail: "first answer"),
                       DeskEvent(accountId: f.account.id, openId: "fan-a", at: t0 + 31, kind: .slaBreached, agent: "usr_2", detail: "first answer")]
        try await f.store.commitDesk(desk, tenantId: f.account.tenantId)

        let changes = try await f.store.changes(tenantIds: [f.account.tenantId], after: 0, kinds: [], accountId: nil, limit: 100)
        let tiers = changes.filter { $0.kind == .tierChanged }
        #expect(tiers.map(\.openId) == ["fan-c", "fan-a", "fan-b", "fan-d"], "in the log's order")
        #expect(tiers.map { $0.data["cause"] } == ["follow", "follow", "follow", "lead_submitted"] && tiers.prefix(3).allSatisfy { $0.data["to"] == "passerby" })
        #expect(changes.filter { $0.kind == .leadCreated }.map(\.openId) == ["fan-d"])
        let breaches = changes.filter { $0.kind == .slaBreached }
        #expect(breaches.map(\.openId) == ["fan-b", "fan-a"] && breaches.map(\.at) == [t0 + 30, t0 + 31])
        #expect(breaches.map { $0.data["agent"] } == ["usr_1", "usr_2"] && breaches.allSatisfy { $0.data["detail"] == "first answer" })
        #expect(changes.count == 7, "one a row, none for the resolution")
        #expect(changes.map(\.seq) == changes.map(\.seq).sorted() && Set(changes.map(\.seq)).count == changes.count)
    }
}
