import FlywheelDomain
import FlywheelEngine
@testable import FlywheelSQLite
@testable import FlywheelStore
import Foundation
import GRDB
import Logging
import Metrics
import Testing

/// What only the embedded store has: a file another process (or a restart) opens again.
@Suite struct SQLiteTests {
    let dir: URL
    let path: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        path = dir.appendingPathComponent("f.sqlite").path
    }

    func open() async throws -> FlywheelEnvironment {
        let store = try SQLiteStore(path: path)
        try await store.migrate()
        return .live(store: store, metrics: NOOPMetricsHandler.instance, logger: Logger(label: "test"))
    }

    func account(_ env: FlywheelEnvironment) async throws -> Account {
        let made = try await Tenancy(env).createTenant(name: "Acme", kind: .enterprise, actor: "test")
        let app = PlatformApp(tenantId: made.tenant.id, id: "app_1", name: "app", clientKey: "ck", clientSecret: "s", createdAt: 0)
        try await env.store.createApp(app, audit: env.audit(tenantId: app.tenantId, actor: "t", action: "app.create", target: app.id))
        let account = Account(tenantId: made.tenant.id, id: "acc_1", name: "main", appId: app.id, openId: "acct", timeZone: "Asia/Shanghai", createdAt: 0)
        try await env.store.createAccount(account, audit: env.audit(tenantId: account.tenantId, actor: "t", action: "account.create", target: account.id))
        return account
    }

    @Test func aRestartedProcessResumesFromTheCheckpointInTheFile() async throws {
        let first = try await open()
        let account = try await account(first)
        let events = (0..<500).map { FanEvent(id: "e\($0)", kind: $0 % 9 == 0 ? .follow : .share, openId: "fan\($0 % 11)", occurredAt: 1_767_225_600_000 + Int64($0) * 60_000, channel: .search) }
        _ = try await first.store.append(events.map { AccountEvent(tenantId: account.tenantId, accountId: account.id, event: $0) }) { _ in }
        _ = try await first.store.project(account, limit: 200, batches: 1, whole: false) { Projector.step($0, now: 0) }

        let second = try await open()
        #expect(try await second.store.accountsNeedingProjection().map(\.id) == [account.id])
        await Flywheel(second, projectionBatchSize: 200).projector.drain()
        let fans = try await second.store.fans(of: account, matching: nil, now: 0, cursor: nil, limit: 100).items
        #expect(fans.reduce(0) { $0 + $1.counters.shares + $1.counters.follows } == 500)
        #expect(fans.map(\.intimacy).reduce(0, +) == events.filter { $0.kind == .share }.count * 10)
    }

    @Test func projectionLeavesTheWritersTemporaryStorageInFiles() async throws {
        let env = try await open()
        let account = try await account(env)
        let events = (0..<300).map { FanEvent(id: "e\($0)", kind: .like, openId: "fan\($0 % 50)", occurredAt: 1_767_225_600_000 + Int64($0), channel: .search) }
        _ = try await env.store.append(events.map { AccountEvent(tenantId: account.tenantId, accountId: account.id, event: $0) }) { _ in }
        #expect(try await env.store.project(account, limit: 100, batches: 3, whole: false) { Projector.step($0, now: 0) } == 300)
        // Its statement journals stay in memory only for its own transactions: the writer's large
        // sorts ran 20-45% slower with temporary storage in memory.
        let store = try #require(env.store as? SQLiteStore)
        #expect(try await store.pool.write { try Int.fetchOne($0, sql: "PRAGMA temp_store") } == 0)
    }

    @Test func aFailingAccountIsReportedNotSilent() async throws {
        let env = try await open()
        let account = try await account(env)
        let flywheel = Flywheel(env)
        _ = try await env.store.append([AccountEvent(tenantId: account.tenantId, accountId: account.id, event: FanEvent(id: "1", kind: .like, openId: "f", occurredAt: 1, channel: .dm))]) { _ in }
        // Rules that no longer decode (written around the API) make every batch fail.
        try await DatabaseQueue(path: path).write { try $0.execute(sql: "UPDATE accounts SET rules = '{broken', rules_version = 1") }
        await flywheel.projector.runOnce()
        let failures = await flywheel.projector.failures()
        #expect(failures[account.id] != nil)
        #expect(try await env.store.accountsNeedingProjection().map(\.id) == [account.id], "nothing was committed for it")
    }

    @Test func membershipsReadForFewFansOrForMostAgreeWithTheSegment() async throws {
        let env = try await open()
        let account = try await account(env)
        let segment = Segment(tenantId: account.tenantId, accountId: account.id, id: "seg_followers", name: "followers",
                              predicate: try FanPredicate.parse("following"), state: .building, createdAt: 0, updatedAt: 0)
        try await env.store.createSegment(segment, audit: env.audit(tenantId: account.tenantId, actor: "t", action: "segment.create", target: segment.id))
        _ = try await env.store.buildSegment(id: segment.id, of: account, now: 0)
        var n = 0
        func project(_ kind: EventKind, _ fans: [Int]) async throws {
            let events = fans.map { fan in
                n += 1
                return AccountEvent(tenantId: account.tenantId, accountId: account.id,
                                    event: FanEvent(id: "e\(n)", kind: kind, openId: "fan\(fan)", occurredAt: 1_767_225_600_000 + Int64(n) * 1_000, channel: .search))
            }
            _ = try await env.store.append(events) { _ in }
            let now = 1_767_225_600_000 + Int64(n) * 1_000
            #expect(try await env.store.project(account, limit: 100, batches: 1, whole: false) { Projector.step($0, now: now) } == fans.count)
        }
        func size() async throws -> Int { try await env.store.segment(id: segment.id, of: account)?.size ?? -1 }
        let everyone = Array(0..<20)
        // Most of the members in the batch: their segments are read in one pass over the members.
        try await project(.follow, everyone)
        #expect(try await size() == 20)
        // One fan of twenty members: read by its own key. It leaves, the others stay.
        try await project(.unfollow, [3])
        #expect(try await size() == 19)
        // Every fan again: no member enters twice, the one who left stays out.
        try await project(.like, everyone)
        #expect(try await size() == 19)
        try await project(.follow, [3])
        #expect(try await size() == 20)
        let changes = try await env.store.segmentChanges(id: segment.id, of: account, limit: 100)
        #expect(changes.count == 22)
        #expect(changes.filter { $0.openId == "fan3" }.map(\.entered) == [true, false, true])
    }

    @Test func anIdWhoseHashIsTakenIsAppendedOnceAndFoundAgain() async throws {
        let env = try await open()
        let account = try await account(env)
        let store = try #require(env.store as? SQLiteStore)
        func event(_ id: String, _ i: Int = 0) -> AccountEvent {
            AccountEvent(tenantId: account.tenantId, accountId: account.id,
                         event: FanEvent(id: id, kind: .like, openId: "fan\(i % 7)", occurredAt: 1_767_225_600_000 + Int64(i), channel: .search))
        }
        #expect(try await store.append([event("a1")]) { _ in }.inserted == 1)
        // As if "b2" had the hash of "a1": its entry is taken by another id.
        try await store.pool.write { db in
            try db.execute(sql: "INSERT INTO event_ids (stream, id_hash, n, seq) SELECT stream, ?, 0, 1 FROM event_streams",
                           arguments: [EventLog.Appender.idHash("b2")])
        }
        #expect(try await store.append([event("b2")]) { _ in }.inserted == 1, "a hash taken by another id is no duplicate")
        #expect(try await store.append([event("b2"), event("a1")]) { _ in }.inserted == 0, "each found again under its hash")
        // A run of 64 with the taken hash in it: appended a row at a time, numbered without a gap.
        let run = (0..<64).map { $0 == 30 ? event("b2", $0) : event("run-\($0)", $0) }
        let outcome = try await store.append(run) { _ in }
        #expect(outcome.inserted == 63 && outcome.duplicates == 1)
        let logged = try await store.loggedEvents(of: account, after: 0, limit: 100)
        #expect(logged.map(\.seq) == Array(1...65))
        #expect(logged.map(\.event.id) == ["a1", "b2"] + run.map(\.event.id).filter { $0 != "b2" })
        #expect(try await store.append(run) { _ in }.inserted == 0, "the whole run again")
    }

    @Test func aLongStretchIsNumberedInOrderAndEachEntryNamesItsEvent() async throws {
        let env = try await open()
        let account = try await account(env)
        let store = try #require(env.store as? SQLiteStore)
        func event(_ id: String, _ i: Int) -> AccountEvent {
            AccountEvent(tenantId: account.tenantId, accountId: account.id,
                         event: FanEvent(id: id, kind: .like, openId: "fan\(i % 7)", occurredAt: 1_767_225_600_000 + Int64(i), channel: .search))
        }
        // Ids unlike each other, as real ones are: the entries then go in another order than the events.
        let first = (0..<200).map { event("dy:" + String(UInt64($0 + 1) &* 0x9E37_79B9_7F4A_7C15, radix: 16), $0) }
        #expect(try await store.append(first) { _ in }.inserted == 200)
        // A stretch with one id logged before and one given twice: 100 new, numbered on without a gap.
        let second = (0..<100).map { event("next-\($0)", 200 + $0) }
        let outcome = try await store.append(Array(second[..<50]) + [first[120], second[10]] + Array(second[50...])) { _ in }
        #expect(outcome.inserted == 100 && outcome.duplicates == 2)
        let logged = try await store.loggedEvents(of: account, after: 0, limit: 1_000)
        #expect(logged.map(\.seq) == Array(1...300))
        #expect(logged.map(\.event.id) == (first + second).map(\.event.id))
        // Every entry names its own event, and every event has one.
        let (entries, wrong) = try await store.pool.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event_ids") ?? -1,
             try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM event_ids i JOIN events e ON e.stream = i.stream AND e.seq = i.seq WHERE flywheel_event_id_hash(e.event_id) != i.id_hash
                """) ?? -1)
        }
        #expect(entries == 300 && wrong == 0)
        #expect(try await store.append(first + second) { _ in }.inserted == 0, "all of it again")
    }

    @Test func theIdHashIsFNV1aOfTheIdsBytes() {
        // Stored in every log: a release that hashed ids otherwise would append again what it has.
        // The published FNV-1a 64 vectors.
        #expect(EventLog.Appender.idHash("") == Int64(bitPattern: 0xcbf2_9ce4_8422_2325))
        #expect(EventLog.Appender.idHash("a") == Int64(bitPattern: 0xaf63_dc4c_8601_ec8c))
        #expect(EventLog.Appender.idHash("foobar") == Int64(bitPattern: 0x8594_4171_f739_67e8))
        #expect(EventLog.Appender.idHash("粉丝-1") == Int64(bitPattern: fnv1a(Array("粉丝-1".utf8))))
    }

    @Test func idsLoggedBeforeV22AreFoundByTheirHash() async throws {
        let store = try SQLiteStore(path: path)
        #expect(Schema.migrations[21].version == Migration.v22.version)
        try await store.pool.write { db in
            for migration in Schema.migrations.prefix(21) { for statement in migration.statements(.sqlite) { try db.execute(sql: statement) } }
        }
        let env = FlywheelEnvironment.live(store: store, metrics: NOOPMetricsHandler.instance, logger: Logger(label: "test"))
        let account = try await account(env)
        // Two events as v21 logged them, under its unique index of ids.
        try await store.pool.write { db in
            try db.execute(sql: "INSERT INTO event_streams (tenant_id, account_id) VALUES (?, ?)", arguments: [account.tenantId, account.id])
            for (seq, id) in [(1, "old-1"), (2, "old-2")] {
                try db.execute(sql: "INSERT INTO events (stream, seq, event_id, kind, open_id, occurred_at, domain, channel, amount) VALUES (1, ?, ?, 1, 'fan', 0, 1, 1, 0)",
                               arguments: [seq, id])
            }
            try db.execute(sql: "UPDATE accounts SET last_seq = 2 WHERE tenant_id = ? AND account_id = ?", arguments: [account.tenantId, account.id])
            for statement in Migration.v22.statements(.sqlite) { try db.execute(sql: statement) }
        }
        let events = ["old-2", "new-1", "old-1"].map {
            AccountEvent(tenantId: account.tenantId, accountId: account.id, event: FanEvent(id: $0, kind: .like, openId: "fan", occurredAt: 1, channel: .search))
        }
        #expect(try await store.append(events) { _ in }.inserted == 1)
        #expect(try await store.loggedEvents(of: account, after: 0, limit: 10).map(\.event.id) == ["old-1", "old-2", "new-1"])
    }

    /// Bytes of the write-ahead log beside the database file.
    func logBytes() throws -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
    }

    /// One commit of about 1,000 pages (250 rows of 16,000 bytes) into a table `pad`.
    func writePages(_ store: SQLiteStore) async throws {
        try await store.pool.write {
            try $0.execute(sql: "CREATE TABLE IF NOT EXISTS pad (x BLOB)")
            try $0.execute(sql: "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250) INSERT INTO pad SELECT zeroblob(16000) FROM n")
        }
    }

    @Test func theLogStaysShortUnderSteadyWrites() async throws {
        let store = try SQLiteStore(path: path)
        try await store.migrate()
        // 45 commits without a pause: 180 MB of log if it were never copied back.
        var most = 0
        for _ in 0..<45 {
            try await writePages(store)
            most = max(most, try logBytes())
        }
        // The writer finishes the copy once little is left (most of it done on the other thread),
        // and past `mostPages` waits for it; SQLite then starts the log over.
        #expect(most <= Int(Checkpointer.mostPages + 2 * 1_100) * 4_096)
        #expect(try await store.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM pad") } == 11_250)
    }

    @Test func aStoreLetGoLeavesNoLogBehind() async throws {
        do {
            let store = try SQLiteStore(path: path)
            try await store.migrate()
            // Past 1,000 pages: the checkpointer opens its own connection and copies.
            for _ in 0..<3 { try await writePages(store) }
            try await Task.sleep(for: .milliseconds(200))
        }
        // The last connection to close copies the log back and removes it; the checkpointer's
        // connection, left open, would keep it.
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM pad") } == 750)
    }

    @Test func textsBoundAgainAndAgainAreStoredAsBound() throws {
        // Texts of every length, shorter and longer than the one before, and none, bound again and
        // again to the same parameters: each row must hold its own, not a reused buffer's leftovers.
        let texts: [String?] = ["", "a", String(repeating: "粉丝", count: 40), "fan-1", nil, String(repeating: "x", count: 300), "白酒🍶", "b"]
        let queue = try DatabaseQueue(path: path)
        let stored = try queue.write { db in
            try db.execute(sql: "CREATE TABLE bound (n INTEGER, t TEXT, u TEXT)")
            let insert = try RawStatement(cached: db, sql: "INSERT INTO bound VALUES (?, ?, ?)")
            for (n, text) in texts.enumerated() {
                insert.bind(1, Int64(n))
                insert.bind(2, text)
                insert.bind(3, texts[texts.count - 1 - n])
                try insert.run()
            }
            return try Row.fetchAll(db, sql: "SELECT t, u FROM bound ORDER BY n").map { ($0[0] as String?, $0[1] as String?) }
        }
        #expect(stored.map(\.0) == texts)
        #expect(stored.map(\.1) == texts.reversed())

        // A many-row insert's texts, more than one block of them, bound twice over.
        let rows = try queue.write { db in
            try db.execute(sql: "CREATE TABLE many (t TEXT)")
            let insert = try RawStatement(cached: db, sql: "INSERT INTO many VALUES " + Array(repeating: "(?)", count: 200).joined(separator: ", "))
            for round in 0..<2 {
                for i in 0..<200 { insert.bind(Int32(i + 1), String(repeating: "\(round)", count: i)) }
                try insert.run()
            }
            return try String.fetchAll(db, sql: "SELECT t FROM many ORDER BY rowid")
        }
        #expect(rows == (0..<2).flatMap { round in (0..<200).map { String(repeating: "\(round)", count: $0) } })
    }
}
