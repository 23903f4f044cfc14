import FlywheelDomain
import FlywheelEngine
import FlywheelPostgres
import FlywheelStore
import Foundation
import Logging
import Metrics
import Testing

/// Several `flywheel serve` processes on one PostgreSQL database.
@Suite struct SharedDatabaseTests {
    /// The built command, beside the test bundle in `.build/debug`.
    static func flywheelBinary() throws -> URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let binary = url.appendingPathComponent(".build/debug/flywheel")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw CommandMissing(path: binary.path)
        }
        return binary
    }

    struct CommandMissing: Error, CustomStringConvertible {
        var path: String
        var description: String { "\(path) is not built: run scripts/test, which builds it before testing" }
    }

    static func freshDatabase() async throws -> String {
        guard let admin = ProcessInfo.processInfo.environment["FLYWHEEL_TEST_DATABASE_URL"] else {
            throw CommandMissing(path: "FLYWHEEL_TEST_DATABASE_URL")
        }
        let name = "flywheel_procs_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        try await PostgresStore(url: admin, logger: Logger(label: "test")).createDatabase(String(name))
        return PostgresStore.url(admin, database: String(name))
    }

    func serve(_ binary: URL, url: String, port: Int) throws -> Process {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--database-url", url, "--port", String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test func twoServersProjectEveryAccountOnceEvenWhenOneIsKilled() async throws {
        let binary = try Self.flywheelBinary()
        let url = try await Self.freshDatabase()
        let store = try PostgresStore(url: url, logger: Logger(label: "test"))
        try await store.migrate()
        let env = FlywheelEnvironment.live(store: store, metrics: NOOPMetricsHandler.instance, logger: Logger(label: "test"))
        let made = try await Tenancy(env).createTenant(name: "Matrix", kind: .enterprise, actor: "test")
        let app = PlatformApp(tenantId: made.tenant.id, id: "app_1", name: "app", clientKey: "ck-procs", clientSecret: "s", createdAt: 0)
        try await store.createApp(app, audit: env.audit(tenantId: app.tenantId, actor: "t", action: "app.create", target: app.id))

        let calendar = AccountCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
        let kinds: [(EventKind, Int64)] = [(.videoView, 0), (.follow, 0), (.like, 0), (.share, 0), (.liveWatch, 20), (.orderPaid, 9_900), (.unfollow, 0), (.comment, 0)]
        var accounts: [Account] = []
        var logs: [String: [FanEvent]] = [:]
        for a in 0..<6 {
            let account = Account(tenantId: made.tenant.id, id: "acc_\(a)", name: "store \(a)", appId: app.id, openId: "open-\(a)",
                                  timeZone: "Asia/Shanghai", createdAt: 0)
            try await store.createAccount(account, audit: env.audit(tenantId: account.tenantId, actor: "t", action: "account.create", target: account.id))
            let events = (0..<25_000).map { i in
                let (kind, amount) = kinds[(i * 5 + i / 7 + a) % kinds.count]
                return FanEvent(id: "a\(a)-\(i)", kind: kind, openId: "fan\((i * 31) % 1_500)", occurredAt: 1_767_225_600_000 + Int64(i) * 90_000,
                                channel: [.recommendFeed, .douPlus, .followFeed][i % 3], amount: amount)
            }
            _ = try await store.append(events.map { AccountEvent(tenantId: account.tenantId, accountId: account.id, event: $0) }) { _ in }
            accounts.append(account)
            logs[account.id] = events
        }

        let port = Int.random(in: 20_000..<40_000)
        let doomed = try serve(binary, url: url, port: port)
        let survivor = try serve(binary, url: url, port: port + 1)
        defer { if survivor.isRunning { survivor.terminate() } }
        // Let both get going, then kill one without warning, most likely in the middle of a batch.
        try await Task.sleep(for: .milliseconds(1_500))
        kill(doomed.processIdentifier, SIGKILL)
        doomed.waitUntilExit()

        let deadline = Date().addingTimeInterval(180)
        while try await !store.accountsNeedingProjection().isEmpty {
            #expect(survivor.isRunning, "the surviving server stopped")
            guard Date() < deadline, survivor.isRunning else { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try await store.accountsNeedingProjection().isEmpty)

        for account in accounts {
            var expected: [String: FanState] = [:]
            for e in logs[account.id] ?? [] {
                var fan = expected[e.openId] ?? FanState(firstSeenThrough: e)
                _ = fan.apply(e, rules: AccountRules.standard.compiled(calendar: calendar), day: calendar.day(ofMillis: e.occurredAt))
                expected[e.openId] = fan
            }
            var stored: [String: FanState] = [:]
            var cursor: String?
            repeat {
                let page = try await store.fans(of: account, matching: nil, now: 0, cursor: cursor, limit: 500)
                for fan in page.items { stored[fan.openId] = fan }
                cursor = page.nextCursor
            } while cursor != nil
            #expect(stored == expected, "\(account.id)")
        }

        // SIGTERM drains and exits cleanly.
        survivor.terminate()
        survivor.waitUntilExit()
        #expect(survivor.terminationStatus == 0)
    }

    @Test func aBadURLIsRefusedWithAHint() {
        #expect(throws: StoreError.self) { try PostgresStore(url: "mysql://x/y", logger: Logger(label: "t")) }
        #expect(throws: StoreError.self) { try PostgresStore(url: "postgres://host:5432", logger: Logger(label: "t")) }
    }
}
