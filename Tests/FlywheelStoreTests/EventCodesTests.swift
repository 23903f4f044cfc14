import FlywheelDomain
@testable import FlywheelPostgres
@testable import FlywheelSQLite
@testable import FlywheelStore
import FlywheelTestSupport
import Foundation
import GRDB
import Logging
import Testing

/// The log's numbers for kinds, domains and channels, and a touch's for its touchpoint; migration
/// v19, which numbered the log's rows stored by name before it (v20's touches: MigrationV20Tests).
@Suite struct EventCodesTests {
    @Test func everyCaseHasANumberOfItsOwnAndReadsBackAsItself() {
        func check<Value: CaseIterable & Hashable>(_ numbering: EventCodes.Numbering<Value>) where Value.AllCases == [Value] {
            let numbers = Value.allCases.map(numbering.number)
            #expect(!numbers.contains(0), "a case without a number would be stored as none")
            #expect(Set(numbers).count == numbers.count)
            #expect(Set(numbers) == Set(1...Int64(Value.allCases.count)))
            #expect(numbers.map(numbering.value) == Value.allCases.map(Optional.some))
            #expect(numbering.value(0) == nil && numbering.value(Int64(Value.allCases.count) + 1) == nil && numbering.value(-1) == nil)
        }
        check(EventCodes.kinds)
        check(EventCodes.domains)
        check(EventCodes.channels)
        check(EventCodes.touchpoints)
    }

    /// The names stored before v19, as they were then (a case added later is numbered by no
    /// migration, so it is not here).
    private static let v18Kinds = """
        follow unfollow video_view like comment share live_watch live_gift live_share dm_received dm_sent dm_entered dm_granted dm_revoked \
        group_join group_leave group_message group_applied post_opened post_clicked live_booked homepage_visit lead_submitted order_paid \
        order_refunded coupon_claimed coupon_redeemed tag_added tag_removed note_added
        """.split(separator: " ").map(String.init)
    private static let v18Domains = ["public", "commercial", "private", "offsite"]
    private static let v18Channels = """
        recommend_feed search live_square city challenge live_list dou_plus brand_ad qianchuan follow_feed homepage live_feed subscription \
        dm group wechat offsite_pool unknown
        """.split(separator: " ").map(String.init)

    /// Rows as v18 stored them: every kind, domain and channel by name, and one whose kind no
    /// Flywheel knows, which reads as unreadable (the projector sets it aside) instead of failing.
    private static let v18Rows: [(kind: String, domain: String, channel: String)] = v18Kinds.indices.map { i in
        (v18Kinds[i], v18Domains[i % v18Domains.count], v18Channels[i % v18Channels.count])
    } + [("moon", "public", "search")]

    private static func expectNumbered(_ read: [StoredEvent?]) {
        #expect(read.count == v18Rows.count)
        for (row, event) in zip(v18Rows, read) {
            #expect(event.map { [$0.event.kind.rawValue, $0.event.domain.rawValue, $0.event.channel.rawValue] } == (row.kind == "moon" ? nil : [row.kind, row.domain, row.channel]))
        }
        #expect(read.compactMap { $0?.event.id } == (1...v18Kinds.count).map { "e\($0)" })
        #expect(v18Channels.count == 18 && Set(v18Rows.map(\.channel)) == Set(v18Channels), "every channel read back")
    }

    @Test func v19NumbersTheNamesSQLiteStored() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-v19-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(path: dir.appendingPathComponent("v18.sqlite").path)
        let read = try await store.pool.write { db in
            try db.execute(sql: """
                CREATE TABLE events (stream INTEGER NOT NULL, seq INTEGER NOT NULL CHECK (seq > 0), event_id TEXT NOT NULL, kind TEXT NOT NULL,
                  open_id TEXT NOT NULL CHECK (length(open_id) > 0), occurred_at INTEGER NOT NULL, domain TEXT NOT NULL, channel TEXT NOT NULL,
                  amount INTEGER NOT NULL CHECK (amount >= 0), ref TEXT, attributes TEXT, PRIMARY KEY (stream, seq)) WITHOUT ROWID
                """)
            for (i, row) in Self.v18Rows.enumerated() {
                try db.execute(sql: "INSERT INTO events VALUES (1, ?, ?, ?, 'fan', 1767225600000, ?, ?, 0, NULL, NULL)",
                               arguments: [i + 1, "e\(i + 1)", row.kind, row.domain, row.channel])
            }
            for statement in Migration.v19.statements(.sqlite) { try db.execute(sql: statement) }
            let select = try RawStatement(db, sql: "SELECT \(EventLog.columnList) FROM events ORDER BY seq")
            let (events, unreadable) = try EventLog.readBatch(select)
            #expect(unreadable.map(\.seq) == [Int64(Self.v18Rows.count)])
            return events.map(Optional.some) + unreadable.map { _ in nil }
        }
        Self.expectNumbered(read)
    }

    @Test func v19NumbersTheNamesPostgreSQLStored() async throws {
        guard let admin = ProcessInfo.processInfo.environment["FLYWHEEL_TEST_DATABASE_URL"] else { throw PostgresMissing() }
        let name = "flywheel_v19_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        try await PostgresStore(url: admin, logger: Logger(label: "test")).createDatabase(String(name))
        let store = try PostgresStore(url: PostgresStore.url(admin, database: String(name)), logger: Logger(label: "test"))
        _ = try await store.read("""
            CREATE TABLE events (tenant_id TEXT NOT NULL, stream BIGINT NOT NULL, seq BIGINT NOT NULL CHECK (seq > 0), event_id TEXT NOT NULL,
              kind TEXT NOT NULL, open_id TEXT NOT NULL CHECK (length(open_id) > 0), occurred_at BIGINT NOT NULL, domain TEXT NOT NULL,
              channel TEXT NOT NULL, amount BIGINT NOT NULL CHECK (amount >= 0), ref TEXT, attributes TEXT, PRIMARY KEY (tenant_id, stream, seq))
            """, [])
        for (i, row) in Self.v18Rows.enumerated() {
            _ = try await store.read("INSERT INTO events VALUES ('t', 1, $1, $2, $3, 'fan', 1767225600000, $4, $5, 0, NULL, NULL)",
                                     [.int(Int64(i + 1)), .text("e\(i + 1)"), .text(row.kind), .text(row.domain), .text(row.channel)])
        }
        for statement in Migration.v19.statements(.postgres) { _ = try await store.read(statement, []) }
        let rows = try await store.read("SELECT \(PostgresStore.eventColumns) FROM events ORDER BY seq", [])
        Self.expectNumbered(rows.map { try? PostgresStore.storedEvent($0) })
    }
}
