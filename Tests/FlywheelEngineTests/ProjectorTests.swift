import FlywheelDomain
import FlywheelEngine
import FlywheelSQLite
import FlywheelStore
import Foundation
import GRDB
import Logging
import Metrics
import Testing

struct Crash: Error {}

/// A store on a fresh file with one account; `reopen` opens the same file again, as a restarted process would.
struct EngineFixture {
    let path: String
    let env: FlywheelEnvironment
    let account: Account

    init() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        path = dir.appendingPathComponent("engine.sqlite").path
        let store = try SQLiteStore(path: path)
        try await store.migrate()
        env = .live(store: store, metrics: NOOPMetricsHandler.instance, logger: Logger(label: "test"))
        let made = try await Tenancy(env).createTenant(name: "Acme", kind: .enterprise, actor: "test")
        let app = PlatformApp(tenantId: made.tenant.id, id: "app_1", name: "app", clientKey: "ck-\(env.randomHex(8))", clientSecret: "s", createdAt: 0)
        try await store.createApp(app, audit: env.audit(tenantId: app.tenantId, actor: "t", action: "app.create", target: app.id))
        account = Account(tenantId: made.tenant.id, id: "acc_1", name: "main", appId: app.id, openId: "acct", timeZone: "Asia/Shanghai", createdAt: 0)
        try await store.createAccount(account, audit: env.audit(tenantId: account.tenantId, actor: "t", action: "account.create", target: account.id))
    }

    func reopen() throws -> FlywheelEnvironment {
        var env = self.env
        env.store = try SQLiteStore(path: path)
        return env
    }
}

/// A varied stream: many kinds, several days, some events out of time order.
func mixedEvents(count: Int) -> [FanEvent] {
    let kinds: [(EventKind, Int64)] = [(.videoView, 0), (.follow, 0), (.like, 0), (.comment, 0), (.share, 0), (.liveWatch, 30),
                                       (.liveGift, 5_000), (.dmReceived, 0), (.orderPaid, 19_900), (.unfollow, 0), (.groupMessage, 0)]
    let base: Int64 = 1_767_225_600_000  // 2026-01-01T00:00Z
    return (0..<count).map { i in
        let (kind, amount) = kinds[(i * 7 + i / 13) % kinds.count]
        let jitter: Int64 = i % 17 == 0 ? -5_000_000 : 0
        return FanEvent(id: "e\(i)", kind: kind, openId: "fan\(i % 37)", occurredAt: base + Int64(i) * 600_000 + jitter,
                        channel: [.recommendFeed, .douPlus, .followFeed, .wechat][i % 4], amount: amount)
    }
}

/// The fans as the pure rules say they must be: every event applied once, in order.
func expectedFans(_ events: [FanEvent], rules: AccountRules = .standard) -> [String: FanState] {
    let calendar = AccountCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
    var fans: [String: FanState] = [:]
    for e in events {
        var fan = fans[e.openId] ?? FanState(firstSeenThrough: e)
        _ = fan.apply(e, rules: rules, day: calendar.day(ofMillis: e.occurredAt))
        fans[e.openId] = fan
    }
    return fans
}

func storedFans(_ store: any Store, _ account: Account) async throws -> [String: FanState] {
    let page = try await store.fans(of: account, filter: FanFilter(), cursor: nil, limit: 500)
    return Dictionary(uniqueKeysWithValues: page.items.map { ($0.openId, $0) })
}

@Suite struct ProjectorTests {
    @Test func aProjectorInterruptedMidStreamAndRestartedLosesAndDoublesNothing() async throws {
        let f = try await EngineFixture()
        let events = mixedEvents(count: 2_000)
        _ = try await f.env.store.append(events.map { AccountEvent(tenantId: f.account.tenantId, accountId: f.account.id, event: $0) }) { _ in }

        // Two good batches, then a crash in the middle of the third: its transaction must leave no trace.
        for _ in 0..<2 {
            _ = try await f.env.store.project(f.account, limit: 300) { Projector.step($0, now: 0) }
        }
        await #expect(throws: Crash.self) {
            _ = try await f.env.store.project(f.account, limit: 300) { _ in throw Crash() }
        }
        let partial = try await storedFans(f.env.store, f.account)
        #expect(partial == expectedFans(Array(events.prefix(600))))

        // A new process on the same file picks up at the checkpoint.
        let restarted = Flywheel(try f.reopen(), projectionBatchSize: 300)
        await restarted.projector.drain()
        #expect(try await storedFans(restarted.env.store, f.account) == expectedFans(events))

        // Replaying the whole log again (a redelivery storm) changes nothing.
        _ = try await restarted.env.store.append(events.map { AccountEvent(tenantId: f.account.tenantId, accountId: f.account.id, event: $0) }) { _ in }
        await restarted.projector.drain()
        #expect(try await storedFans(restarted.env.store, f.account) == expectedFans(events))
    }

    @Test func tierFlowsAddUpToTheCurrentTiers() async throws {
        let f = try await EngineFixture()
        _ = try await f.env.store.append(mixedEvents(count: 1_500).map { AccountEvent(tenantId: f.account.tenantId, accountId: f.account.id, event: $0) }) { _ in }
        await Flywheel(f.env, projectionBatchSize: 100).projector.drain()
        let current = try await f.env.store.tierCounts(of: f.account)
        let fromFlows = try await f.env.store.tierCounts(of: f.account, before: 100_000)
        #expect(current.values.reduce(0, +) == 37)
        #expect(Tier.allCases.map { current[$0] ?? 0 } == Tier.allCases.map { fromFlows[$0] ?? 0 })
    }

    @Test func changingTheRulesReevaluatesEveryFanAndRecordsWhy() async throws {
        let f = try await EngineFixture()
        let flywheel = Flywheel(f.env)
        let events = mixedEvents(count: 1_000)
        _ = try await f.env.store.append(events.map { AccountEvent(tenantId: f.account.tenantId, accountId: f.account.id, event: $0) }) { _ in }
        await flywheel.projector.drain()
        let before = try await f.env.store.tierCounts(of: f.account)
        let closer: Int = before.filter { $0.key > .potential }.values.reduce(0, +)
        #expect(closer > 0)

        var strict = AccountRules.standard
        strict.tiers = TierRules(passerby: [TierCriterion(following: true, minLevel: 15)], liking: [TierCriterion(minLevel: 15)],
                                 trueLove: [TierCriterion(minLevel: 15)])
        let version = try await f.env.store.setRules(strict, of: f.account, audit: f.env.audit(tenantId: f.account.tenantId, actor: "t", action: "rules.update", target: f.account.id))
        #expect(try await f.env.store.rules(of: f.account).appliedVersion == 0)
        await flywheel.projector.drain()
        let applied = try await f.env.store.rules(of: f.account)
        #expect(applied == VersionedRules(rules: strict, version: version, appliedVersion: version))
        let counts = try await f.env.store.tierCounts(of: f.account)
        #expect(counts == [.potential: 37])
        let expected = expectedFans(events, rules: strict)
        for (openId, fan) in try await storedFans(f.env.store, f.account) {
            var e = try #require(expected[openId])
            e.tierChangedAt = fan.tierChangedAt
            #expect(fan == e)
        }
    }

    @Test func aFailingAccountIsReportedNotSilent() async throws {
        let f = try await EngineFixture()
        let flywheel = Flywheel(f.env)
        _ = try await f.env.store.append(mixedEvents(count: 10).map { AccountEvent(tenantId: f.account.tenantId, accountId: f.account.id, event: $0) }) { _ in }
        // Rules that no longer decode (written around the API) make every batch fail.
        try await DatabaseQueue(path: f.path).write { try $0.execute(sql: "UPDATE accounts SET rules = '{broken', rules_version = 1") }
        await flywheel.projector.runOnce()
        let failures = await flywheel.projector.failures()
        #expect(failures[f.account.id] != nil)
    }
}
