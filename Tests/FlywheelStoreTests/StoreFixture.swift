import FlywheelDomain
import FlywheelEngine
import FlywheelPostgres
import FlywheelSQLite
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Logging
import Metrics
import Testing

/// A fresh, migrated store of `kind` (its own SQLite file, or its own PostgreSQL database), with one
/// tenant, one app and one account.
struct StoreFixture {
    let store: any Store
    let env: FlywheelEnvironment
    let account: Account

    init(_ kind: StoreKind, tenant: String = "Acme") async throws {
        store = try await Self.makeStore(kind)
        env = .live(store: store, metrics: NOOPMetricsHandler.instance, logger: Logger(label: "test"))
        account = try await Self.account(env, tenant: tenant)
    }

    static func makeStore(_ kind: StoreKind) async throws -> any Store { try await FlywheelTestSupport.makeStore(kind) }

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

    /// Waits until the projector has applied each account's log up to `seq` (10 s at most on a
    /// loaded machine; the test's expectations then say what is missing).
    func waitForProjection(of accounts: [Account], to seq: Int64) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        for account in accounts {
            while try await store.projectionPosition(of: account).lastSeq < seq, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    /// The fans of the fixture's account, or of `other` in the same store.
    func fans(of other: Account? = nil) async throws -> [String: FanState] {
        try await Self.fans(of: other ?? account, in: store)
    }

    /// Every fan of `account` in `store`.
    static func fans(of account: Account, in store: any Store) async throws -> [String: FanState] {
        var all: [String: FanState] = [:]
        var cursor: String?
        repeat {
            let page = try await store.fans(of: account, matching: nil, now: 0, cursor: cursor, limit: 500)
            for fan in page.items { all[fan.openId] = fan }
            cursor = page.nextCursor
        } while cursor != nil
        return all
    }
}

/// A varied stream: many kinds, several days, some events out of time order, a nickname, profile
/// attributes (some not understood), group joins and leaves, operators' tags (some on fans not
/// yet seen).
func mixedEvents(count: Int) -> [FanEvent] {
    let kinds: [(EventKind, Int64)] = [(.videoView, 0), (.follow, 0), (.like, 0), (.comment, 0), (.share, 0), (.liveWatch, 30),
                                       (.liveGift, 5_000), (.dmReceived, 0), (.orderPaid, 19_900), (.unfollow, 0), (.groupMessage, 0)]
    let base: Int64 = 1_767_225_600_000  // 2026-01-01T00:00Z
    return (0..<count).map { i in
        var (kind, amount) = kinds[(i * 7 + i / 13) % kinds.count]
        var ref: String?
        var attributes: [String: String] = i % 50 == 0 ? ["nickname": "粉丝\(i)"] : [:]
        if i % 5 == 1 {
            attributes["gender"] = ["1", "2", "x"][i % 3]
            attributes["age_band"] = ["24-30", "31-40", "50+", "bogus"][i % 4]
            attributes["city"] = ["成都", "北京"][i % 2]
            attributes["device"] = ["iOS", "android", "nokia"][i % 3]
            attributes["interests"] = ["白酒", "露营, 白酒", "茶"][i % 3]
        }
        switch i % 31 {
        case 5: (kind, amount, ref) = (.groupJoin, 0, "g\(i % 3)")
        case 11: (kind, amount, ref) = (.groupLeave, 0, "g\(i % 3)")
        case 17: (kind, amount, ref) = (.tagAdded, 0, "vip")
        case 23: (kind, amount, ref) = (.tagRemoved, 0, "vip")
        default: break
        }
        let jitter: Int64 = i % 17 == 0 ? -5_000_000 : 0
        return FanEvent(id: "e\(i)", kind: kind, openId: "fan\(i % 37)", occurredAt: base + Int64(i) * 600_000 + jitter,
                        channel: [.recommendFeed, .douPlus, .followFeed, .wechat][i % 4], amount: amount, ref: ref, attributes: attributes)
    }
}

/// The fans as the pure rules say they must be: every event applied once, in order.
func expectedFans(_ events: [FanEvent], rules: AccountRules = .standard) -> [String: FanState] {
    let calendar = AccountCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
    let rules = rules.compiled(calendar: calendar)
    var fans: [String: FanState] = [:]
    for e in events {
        // An operator's act on a fan not yet seen changes nothing (docs/events.md).
        if fans[e.openId] == nil, e.kind.isOperatorAction { continue }
        var fan = fans[e.openId] ?? FanState(firstSeenThrough: e)
        _ = fan.apply(e, rules: rules, day: calendar.day(ofMillis: e.occurredAt))
        fans[e.openId] = fan
    }
    return fans
}

struct Crash: Error {}
