import FlywheelDomain
import FlywheelEngine
import FlywheelSQLite
import FlywheelStore
import Foundation
import Logging
import Metrics
import Testing

/// A migrated store on a fresh SQLite file, with one tenant, one app and one account.
struct Fixture {
    let store: SQLiteStore
    let env: FlywheelEnvironment
    let account: Account

    init(tenant: String = "Acme") async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        store = try SQLiteStore(path: dir.appendingPathComponent("test.sqlite").path)
        try await store.migrate()
        env = .live(store: store, metrics: NOOPMetricsHandler.instance, logger: Logger(label: "test"))
        account = try await Fixture.account(env, tenant: tenant)
    }

    static func account(_ env: FlywheelEnvironment, tenant: String, openId: String = "acct-open-id") async throws -> Account {
        let made = try await Tenancy(env).createTenant(name: tenant, kind: .enterprise, actor: "test")
        let app = PlatformApp(tenantId: made.tenant.id, id: env.newId("app"), name: "app", clientKey: "ck-\(env.randomHex(8))",
                              clientSecret: "secret", createdAt: 0)
        try await env.store.createApp(app, audit: env.audit(tenantId: app.tenantId, actor: "test", action: "app.create", target: app.id))
        let account = Account(tenantId: made.tenant.id, id: env.newId("acc"), name: "main", appId: app.id, openId: openId,
                              timeZone: "Asia/Shanghai", createdAt: 0)
        try await env.store.createAccount(account, audit: env.audit(tenantId: account.tenantId, actor: "test", action: "account.create", target: account.id))
        return account
    }

    func events(_ list: [FanEvent]) -> [AccountEvent] {
        list.map { AccountEvent(tenantId: account.tenantId, accountId: account.id, event: $0) }
    }
}

@Suite struct SQLiteStoreTests {
    @Test func appendingTheSameIdsTwiceStoresThemOnce() async throws {
        let f = try await Fixture()
        let batch = f.events((0..<100).map { FanEvent(id: "e\($0)", kind: .like, openId: "fan\($0 % 7)", occurredAt: Int64($0), channel: .search) })
        #expect(try await f.store.append(batch) { _ in } == AppendOutcome(inserted: 100, duplicates: 0))
        let again = Array(batch[50...]) + f.events([FanEvent(id: "new", kind: .share, openId: "fan1", occurredAt: 200, channel: .dm)])
        #expect(try await f.store.append(again) { _ in } == AppendOutcome(inserted: 1, duplicates: 50))
        let timeline = try await f.store.timeline(of: f.account, openId: "fan1", limit: 100)
        #expect(timeline.first?.event.id == "new")
        #expect(timeline.first?.seq == 101, "sequence numbers have no holes for skipped duplicates")
        #expect(timeline.count == 16)
    }

    @Test func aRedeliveredMsgIdChangesNothing() async throws {
        let f = try await Fixture()
        let delivery = WebhookDelivery(tenantId: f.account.tenantId, appId: f.account.appId, msgId: "m-1", event: "new_follow_action",
                                       accountId: f.account.id, receivedAt: 5, body: "{}")
        let event = FanEvent(id: "dy:m-1", kind: .follow, openId: "fan", occurredAt: 1, channel: .unknown)
        #expect(try await f.store.ingest(delivery, events: [event]) == .stored(events: 1))
        #expect(try await f.store.ingest(delivery, events: [event]) == .duplicate)
        #expect(try await f.store.timeline(of: f.account, openId: "fan", limit: 10).count == 1)
    }

    @Test func accountsAreOnlyFoundWithinTheCallersTenants() async throws {
        let a = try await Fixture(tenant: "A")
        let b = try await Fixture.account(a.env, tenant: "B", openId: "other")
        #expect(try await a.store.account(id: b.id, tenantIds: [a.account.tenantId]) == nil)
        #expect(try await a.store.account(id: b.id, tenantIds: [b.tenantId]) == b)
        #expect(try await a.store.accounts(tenantIds: [a.account.tenantId]).map(\.id) == [a.account.id])
    }

    @Test func aTakenClientKeyIsAConflict() async throws {
        let f = try await Fixture()
        let apps = try await f.store.apps(tenantId: f.account.tenantId)
        var copy = apps[0]
        copy.id = "app_other"
        await #expect(throws: StoreError.self) {
            try await f.store.createApp(copy, audit: f.env.audit(tenantId: copy.tenantId, actor: "t", action: "app.create", target: copy.id))
        }
    }

    @Test func everyWriteIsAudited() async throws {
        let f = try await Fixture()
        let log = try await f.store.auditLog(tenantId: f.account.tenantId, cursor: nil, limit: 10)
        #expect(log.items.map(\.action) == ["account.create", "app.create", "tenant.create"])
        let page = try await f.store.auditLog(tenantId: f.account.tenantId, cursor: nil, limit: 2)
        let rest = try await f.store.auditLog(tenantId: f.account.tenantId, cursor: page.nextCursor, limit: 2)
        #expect(rest.items.map(\.action) == ["tenant.create"])
        #expect(rest.nextCursor == nil)
    }

    @Test func fansArePagedInOpenIdOrderWithFilters() async throws {
        let f = try await Fixture()
        var events: [FanEvent] = []
        for i in 0..<25 {
            events.append(FanEvent(id: "v\(i)", kind: .videoView, openId: String(format: "fan%02d", i), occurredAt: 1_000, channel: i % 2 == 0 ? .douPlus : .search))
            if i % 5 == 0 { events.append(FanEvent(id: "f\(i)", kind: .follow, openId: String(format: "fan%02d", i), occurredAt: 2_000, channel: .followFeed)) }
        }
        _ = try await f.store.append(f.events(events)) { _ in }
        await Flywheel(f.env).projector.drain()
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await f.store.fans(of: f.account, filter: FanFilter(), cursor: cursor, limit: 10)
            seen += page.items.map(\.openId)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen == (0..<25).map { String(format: "fan%02d", $0) })
        let passersby = try await f.store.fans(of: f.account, filter: FanFilter(tier: .passerby), cursor: nil, limit: 100)
        #expect(passersby.items.map(\.openId) == ["fan00", "fan05", "fan10", "fan15", "fan20"])
        let paid = try await f.store.fans(of: f.account, filter: FanFilter(firstDomain: .commercial), cursor: nil, limit: 100)
        #expect(paid.items.count == 13)
    }
}
