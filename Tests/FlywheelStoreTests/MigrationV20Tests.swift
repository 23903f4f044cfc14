import FlywheelDomain
import FlywheelEngine
@testable import FlywheelPostgres
@testable import FlywheelSQLite
@testable import FlywheelStore
import FlywheelTestSupport
import Foundation
import Logging
import Metrics
import Testing

/// Migration v20 on a database as v19 left it: the fans' touches keyed by the account's stream with
/// the touchpoint as a number, SQLite's live viewers in their key's B-tree alone; what a report
/// reads of them is what it read before.
@Suite struct MigrationV20Tests {
    /// A store of `kind` migrated up to v19 alone, and how to run a statement on it.
    private static func storeAtV19(_ kind: StoreKind) async throws -> (store: any Store, run: @Sendable (String) async throws -> Void) {
        switch kind {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-v20-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let store = try SQLiteStore(path: dir.appendingPathComponent("v19.sqlite").path)
            let run: @Sendable (String) async throws -> Void = { sql in try await store.pool.write { try $0.execute(sql: sql) } }
            for migration in Schema.migrations.prefix(19) { for statement in migration.statements(.sqlite) { try await run(statement) } }
            return (store, run)
        case .postgres:
            guard let admin = ProcessInfo.processInfo.environment["FLYWHEEL_TEST_DATABASE_URL"] else { throw PostgresMissing() }
            let name = "flywheel_v20_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
            try await PostgresStore(url: admin, logger: Logger(label: "test")).createDatabase(String(name))
            let store = try PostgresStore(url: PostgresStore.url(admin, database: String(name)), logger: Logger(label: "test"))
            let run: @Sendable (String) async throws -> Void = { sql in _ = try await store.read(sql, []) }
            for migration in Schema.migrations.prefix(19) { for statement in migration.statements(.postgres) { try await run(statement) } }
            return (store, run)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func touchesAndLiveViewersReadAsBefore(_ kind: StoreKind) async throws {
        #expect(Schema.migrations[19].version == Migration.v20.version)
        let (store, run) = try await Self.storeAtV19(kind)
        let env = FlywheelEnvironment.live(store: store, metrics: NOOPMetricsHandler.instance, logger: Logger(label: "test"))
        let a = try await StoreFixture.account(env, tenant: "A")
        let b = try await StoreFixture.account(env, tenant: "B", openId: "b-open-id")
        // b's stream is numbered first, so a's is not 1.
        try await run("INSERT INTO event_streams (tenant_id, account_id) VALUES ('\(b.tenantId)', '\(b.id)'), ('\(a.tenantId)', '\(a.id)')")
        let t0: Int64 = 1_767_225_600_000, day: Int64 = 86_400_000
        // Touches as v19 stored them, by touchpoint name: every touchpoint of a's fan-1; a name no
        // Flywheel knows (read as none, as before); a fan of the same name in b.
        let touches: [(Account, String, String, Int64, Int64)] = [
            (a, "fan-1", "live", t0, t0 + 3_600_000), (a, "fan-1", "dm", t0 + 1_000, t0 + 1_000), (a, "fan-1", "group", t0 + day, t0 + day),
            (a, "fan-1", "post", t0 + day + 1_000, t0 + day + 9_000), (a, "fan-1", "homepage", t0 + 2 * day, t0 + 2 * day),
            (a, "fan-2", "moon", t0, t0), (b, "fan-1", "dm", t0 + 100_000, t0 + 100_000),
        ]
        for (account, openId, touchpoint, first, last) in touches {
            try await run("""
                INSERT INTO fan_touchpoints (tenant_id, account_id, open_id, day, touchpoint, first_at, last_at)
                VALUES ('\(account.tenantId)', '\(account.id)', '\(openId)', \(first / day), '\(touchpoint)', \(first), \(last))
                """)
        }
        let hour = t0 / 3_600_000
        try await run("""
            INSERT INTO live_viewers (tenant_id, account_id, hour, open_id, audience, minutes, gifts, gmv) VALUES
              ('\(a.tenantId)', '\(a.id)', \(hour), 'fan-1', 'old_fan', 30, 2, 990), ('\(a.tenantId)', '\(a.id)', \(hour + 1), 'fan-1', 'old_fan', 15, 0, 0),
              ('\(a.tenantId)', '\(a.id)', \(hour + 1), 'fan-3', 'non_fan', 5, 0, 0)
            """)

        for statement in Migration.v20.statements(kind == .sqlite ? .sqlite : .postgres) { try await run(statement) }

        let window = (from: t0, to: t0 + 3 * day)
        // In no particular order: a report orders them by time itself.
        let touchesOfA = try await store.touches(of: a, openIds: ["fan-1", "fan-2"], from: window.from, to: window.to).mapValues { $0.sorted { $0.firstAt < $1.firstAt } }
        #expect(touchesOfA == ["fan-1": [
            FanTouch(touchpoint: .live, firstAt: t0, lastAt: t0 + 3_600_000), FanTouch(touchpoint: .dm, firstAt: t0 + 1_000, lastAt: t0 + 1_000),
            FanTouch(touchpoint: .group, firstAt: t0 + day, lastAt: t0 + day), FanTouch(touchpoint: .post, firstAt: t0 + day + 1_000, lastAt: t0 + day + 9_000),
            FanTouch(touchpoint: .homepage, firstAt: t0 + 2 * day, lastAt: t0 + 2 * day),
        ]], "every touchpoint back under its name, the unknown one left out")
        #expect(try await store.touches(of: b, openIds: ["fan-1"], from: window.from, to: window.to)
            == ["fan-1": [FanTouch(touchpoint: .dm, firstAt: t0 + 100_000, lastAt: t0 + 100_000)]], "each account its own")
        #expect(Set(try await store.touches(of: a, openIds: ["fan-1"], from: t0 + day, to: t0 + 2 * day)["fan-1"]?.map(\.touchpoint) ?? []) == [.group, .post])

        let live = Live(id: "live-1", accountId: a.id, scheduleId: nil, title: "新品", startsAt: hour * 3_600_000, endsAt: (hour + 2) * 3_600_000, reminderMinutes: 0)
        let stats = try await store.liveStats(live, of: a)
        #expect(stats.audiences[.oldFan]?.viewers == 1 && stats.audiences[.oldFan]?.minutes == 45 && stats.audiences[.oldFan]?.gmv == 990)
        #expect(stats.audiences[.nonFan]?.viewers == 1 && stats.audiences[.nonFan]?.minutes == 5)
    }
}
