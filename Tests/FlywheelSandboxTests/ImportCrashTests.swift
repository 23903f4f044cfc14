import FlywheelDomain
import FlywheelEngine
import FlywheelPostgres
import FlywheelSimulator
import FlywheelSQLite
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Logging
import Metrics
import Testing

/// The tests that run the `flywheel` binary and kill it: one at a time, since each would starve
/// the others (and their timing) if they ran at once.
@Suite(.serialized) struct KilledProcessTests {}

/// `flywheel import` killed with SIGKILL part way, then run again: every event counts exactly once,
/// and the fans are exactly those of an import that was never interrupted.
extension KilledProcessTests { @Suite struct ImportCrashTests {
    /// A store the `flywheel` binary can open too: its SQLite file, or its PostgreSQL URL.
    struct Place {
        var store: any Store
        var arguments: [String]

        init(_ kind: StoreKind) async throws {
            switch kind {
            case .sqlite:
                let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-import-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                let path = dir.appendingPathComponent("f.sqlite").path
                store = try SQLiteStore(path: path)
                arguments = ["--db", path]
            case .postgres:
                guard let admin = ProcessInfo.processInfo.environment["FLYWHEEL_TEST_DATABASE_URL"] else { throw PostgresMissing() }
                let name = "flywheel_import_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
                try await PostgresStore(url: admin, logger: Logger(label: "test")).createDatabase(String(name))
                let url = PostgresStore.url(admin, database: String(name))
                store = try PostgresStore(url: url, logger: Logger(label: "test"))
                arguments = ["--database-url", url]
            }
            try await store.migrate()
        }
    }

    static func account(_ env: FlywheelEnvironment) async throws -> Account {
        let made = try await Tenancy(env).createTenant(name: "Acme", kind: .enterprise, actor: "test")
        let app = PlatformApp(tenantId: made.tenant.id, id: "app_1", name: "app", clientKey: "ck-\(env.randomHex(8))", clientSecret: "s", createdAt: 0)
        try await env.store.createApp(app, audit: env.audit(tenantId: app.tenantId, actor: "t", action: "app.create", target: app.id))
        let account = Account(tenantId: made.tenant.id, id: "acc_1", name: "main", appId: app.id, openId: "acct", timeZone: "Asia/Shanghai", createdAt: 0)
        try await env.store.createAccount(account, audit: env.audit(tenantId: account.tenantId, actor: "t", action: "account.create", target: account.id))
        return account
    }

    static func importing(_ file: URL, into place: Place, account: Account) throws -> Process {
        let process = Process()
        process.executableURL = try DemoTests.flywheelBinary()
        // Batches of 20,000, so that the kill can land between two.
        process.arguments = ["import", file.path, "--tenant", account.tenantId, "--account", account.id, "--project-batch", "20000"] + place.arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// When to kill the first run: once something is appended, or once a projection batch committed.
    enum Moment: String, CaseIterable, CustomTestStringConvertible {
        case afterAnAppend, afterAProjectionBatch
        var testDescription: String { rawValue }
    }

    @Test func aProjectionBatchOutOfRangeIsRefusedBeforeAnythingIsRead() throws {
        for size in ["0", "250001"] {
            let (status, said) = try DemoTests.run(["import", "missing.ndjson", "--tenant", "ten_1", "--project-batch", size])
            #expect(status != 0)
            #expect(said.contains("--project-batch must be between 1 and 250000"), "\(said)")
        }
    }

    @Test(arguments: StoreKind.allCases, Moment.allCases)
    func anImportKilledPartWayAndRunAgainCountsEveryEventOnce(_ kind: StoreKind, _ moment: Moment) async throws {
        for attempt in 1...3 {
            let place = try await Place(kind)
            let env = FlywheelEnvironment.live(store: place.store, metrics: NOOPMetricsHandler.instance, logger: Logger(label: "test"))
            let account = try await Self.account(env)
            let events = SyntheticTraffic(fans: 3_000, days: 30, start: 1_767_225_600_000, seed: 7).events(count: 120_000)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString).ndjson")
            try Data(events.map { EventImport.line($0, account: nil) + "\n" }.joined().utf8).write(to: file)

            let first = try Self.importing(file, into: place, account: account)
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline, first.isRunning {
                let done = switch moment {
                case .afterAnAppend: try await !place.store.accountsNeedingProjection().isEmpty
                case .afterAProjectionBatch: try await place.store.projectionPosition(of: account).lastSeq > 0
                }
                if done { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(first.isRunning, "the first run was still at work when it was killed")
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            #expect(first.terminationReason == .uncaughtSignal)
            let projectedBeforeKill = try await place.store.projectionPosition(of: account).lastSeq

            let second = try Self.importing(file, into: place, account: account)
            let output = ((second.standardOutput as? Pipe)?.fileHandleForReading).map { DemoTests.read($0, toEnd: true) } ?? Data()
            second.waitUntilExit()
            #expect(second.terminationStatus == 0)
            let summary = String(decoding: output, as: UTF8.self)
            let present = summary.firstMatch(of: /imported (\d+) events \((\d+) already present\)/)
            let (added, skipped) = (present.flatMap { Int($0.1) } ?? -1, present.flatMap { Int($0.2) } ?? -1)
            #expect(added + skipped == events.count, "\(summary)")
            // On a busy machine the kill can land after the last append: then the case is played again.
            if moment == .afterAnAppend, added == 0, attempt < 3 { continue }
            switch moment {
            case .afterAnAppend: #expect(added > 0 && skipped > 0, "the first run had appended part of the file: \(summary)")
            case .afterAProjectionBatch: #expect(projectedBeforeKill > 0 && projectedBeforeKill < events.count, "the first run had projected part of the file")
            }

            // The same events imported once, uninterrupted, into a fresh store.
            let clean = try await makeStore(.sqlite)
            let cleanEnv = FlywheelEnvironment.live(store: clean, metrics: NOOPMetricsHandler.instance, logger: Logger(label: "test"))
            let cleanAccount = try await Self.account(cleanEnv)
            _ = try await clean.append(events.map { AccountEvent(tenantId: cleanAccount.tenantId, accountId: cleanAccount.id, event: $0) }) { _ in }
            await Flywheel(cleanEnv).projector.drain()
            let fans = try await place.store.fans(of: account, matching: nil, now: 0, cursor: nil, limit: 10_000).items
            let expected = try await clean.fans(of: cleanAccount, matching: nil, now: 0, cursor: nil, limit: 10_000).items
            #expect(fans.count == expected.count)
            #expect(fans == expected, "every fan's state is what one uninterrupted import gives")
            #expect(try await place.store.tierCounts(of: account) == clean.tierCounts(of: cleanAccount))
            let days = 20_000...20_600
            #expect(try await place.store.activity(of: account, days: days) == clean.activity(of: cleanAccount, days: days),
                    "the daily rollups counted each event once")
            // And the second implementation, folding the raw log alone, finds nothing that differs.
            let (status, said) = try DemoTests.run(["verify", "--all"] + place.arguments)
            #expect(status == 0 && said.contains(", 0 mismatches"), "\(said)")
            return
        }
    }
}
}
