import FlywheelDomain
import FlywheelStore
import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode, many readers, one writer.
public final class SQLiteStore: Store, SQLStore {
    let pool: DatabasePool
    public var runner: any SQLRunner { SQLiteRunner(pool: pool) }

    /// Opens (creating if needed) the database file at `path`.
    public init(path: String) throws {
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA busy_timeout = 5000")
            // 64 MB of page cache: the event and fan indexes of a busy account stay in memory.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            db.add(function: DatabaseFunction("flywheel_matches", argumentCount: 2, pure: true) { values in
                SQLRegex.matches(String.fromDatabaseValue(values[0]), String.fromDatabaseValue(values[1]))
            })
        }
        config.maximumReaderCount = 8
        pool = try DatabasePool(path: path, configuration: config)
    }

    public func migrate() async throws {
        try Self.migrate(pool)
    }

    // MARK: Ingest

    public func ingest(_ deliveries: [IncomingDelivery]) async throws -> [DeliveryOutcome] {
        try await pool.write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO webhook_deliveries (tenant_id, app_id, msg_id, event, account_id, received_at, body)
                VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING
                """)
            return try deliveries.map { incoming in
                let delivery = incoming.delivery
                try insert.execute(arguments: [delivery.tenantId, delivery.appId, delivery.msgId, delivery.event, delivery.accountId,
                                               delivery.receivedAt, delivery.body])
                guard db.changesCount == 1 else { return .duplicate }
                guard let accountId = delivery.accountId, !incoming.events.isEmpty else { return .stored(events: 0) }
                let events = incoming.events.map { AccountEvent(tenantId: delivery.tenantId, accountId: accountId, event: $0) }
                return .stored(events: try EventLog.append(events, db, progress: { _ in }).inserted)
            }
        }
    }

    public func append(_ events: [AccountEvent], progress: @Sendable (Int) -> Void) async throws -> AppendOutcome {
        try await pool.write { db in try EventLog.append(events, db, progress: progress) }
    }

    // MARK: Projection

    public func project(_ account: Account, limit: Int, _ step: @Sendable (ProjectionBatch) throws -> ProjectionResult) async throws -> Int {
        try await pool.write { db in try Projection.run(account, limit: limit, db, step) }
    }

    public func quarantine(_ account: Account, after lastSeq: Int64, reason: String, at: Int64) async throws -> Bool {
        try await pool.write { db in
            let rules = try Self.rules(of: account, db)
            let checkpoint = try Int64.fetchOne(db, sql: "SELECT last_seq FROM projection_checkpoints WHERE tenant_id = ? AND account_id = ?",
                                                arguments: [account.tenantId, account.id]) ?? 0
            guard checkpoint == lastSeq, rules.version == rules.appliedVersion,
                  let row = try Row.fetchOne(db, sql: """
                    SELECT seq, event_id FROM events WHERE tenant_id = ? AND account_id = ? AND seq > ? ORDER BY seq LIMIT 1
                    """, arguments: [account.tenantId, account.id, lastSeq]) else { return false }
            let seq: Int64 = row["seq"]
            try db.execute(sql: """
                INSERT OR IGNORE INTO quarantined_events (tenant_id, account_id, seq, event_id, reason, quarantined_at) VALUES (?,?,?,?,?,?)
                """, arguments: [account.tenantId, account.id, seq, row["event_id"] as String, reason, at])
            try db.execute(sql: """
                INSERT INTO projection_checkpoints (tenant_id, account_id, last_seq, rules_version) VALUES (?,?,?,?)
                ON CONFLICT DO UPDATE SET last_seq = excluded.last_seq
                """, arguments: [account.tenantId, account.id, seq, rules.version])
            return true
        }
    }

    public func retryQuarantined(seq: Int64, of account: Account, check: @Sendable (FanEvent) throws -> Void, audit: AuditEntry) async throws -> Int64 {
        try await pool.write { db in
            let key: StatementArguments = [account.tenantId, account.id, seq]
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM quarantined_events WHERE tenant_id = ? AND account_id = ? AND seq = ?", arguments: key) != nil else {
                throw StoreError.notFound("quarantined event \(seq)")
            }
            let select = try RawStatement(db, sql: "SELECT \(EventLog.columnList) FROM events WHERE tenant_id = ? AND account_id = ? AND seq = ?")
            select.bind(1, account.tenantId)
            select.bind(2, account.id)
            select.bind(3, seq)
            guard var event = try EventLog.readBatch(select).events.first?.event else { throw StoreError.corrupt(EventLog.unreadableReason) }
            try check(event)
            event.id = "retry:\(seq)"
            _ = try EventLog.append([AccountEvent(tenantId: account.tenantId, accountId: account.id, event: event)], db, progress: { _ in })
            try db.execute(sql: "DELETE FROM quarantined_events WHERE tenant_id = ? AND account_id = ? AND seq = ?", arguments: key)
            try Self.record(audit, db)
            return try Int64.fetchOne(db, sql: "SELECT last_seq FROM accounts WHERE tenant_id = ? AND account_id = ?",
                                      arguments: [account.tenantId, account.id]) ?? 0
        }
    }

    // MARK: Reads

    public func fans(of account: Account, matching predicate: FanPredicate?, now: Int64, cursor: String?, limit: Int) async throws -> Page<FanState> {
        let compiled = predicate.map { PredicateSQL($0, calendar: account.calendar, now: now, dialect: .sqlite, firstParameter: 4) }
        let sql = """
            SELECT \(FanRows.columnList) FROM fans WHERE tenant_id = ? AND account_id = ? AND open_id > ? AND \(compiled?.condition ?? "TRUE")
            ORDER BY open_id LIMIT ?
            """
        let binds: [Cell] = [.text(account.tenantId), .text(account.id), .text(cursor ?? "")] + (compiled?.binds ?? []) + [.int(Int64(limit + 1))]
        return try await pool.read { db in
            let select = try RawStatement(db, sql: sql)
            for (i, cell) in binds.enumerated() { select.bind(Int32(i + 1), cell) }
            let fans = try FanRows.read(select)
            let page = Array(fans.prefix(limit))
            return Page(items: page, nextCursor: fans.count > limit ? page.last?.openId : nil)
        }
    }

    public func fansChanged(of account: Account, after seq: Int64, limit: Int) async throws -> [FanState]? {
        try await pool.read { db in
            let ids = try String.fetchAll(db, sql: """
                SELECT DISTINCT open_id FROM events WHERE tenant_id = ? AND account_id = ? AND seq > ? LIMIT ?
                """, arguments: [account.tenantId, account.id, seq, limit + 1])
            guard ids.count <= limit else { return nil }
            return Array(try FanRows.load(account, openIds: ids, db).values)
        }
    }

    public func countFans(of account: Account, matching predicate: FanPredicate, now: Int64) async throws -> Int {
        let compiled = PredicateSQL(predicate, calendar: account.calendar, now: now, dialect: .sqlite, firstParameter: 3)
        let binds: [Cell] = [.text(account.tenantId), .text(account.id)] + compiled.binds
        return try await pool.read { db in
            let count = try RawStatement(db, sql: "SELECT COUNT(*) FROM fans WHERE tenant_id = ? AND account_id = ? AND \(compiled.condition)")
            for (i, cell) in binds.enumerated() { count.bind(Int32(i + 1), cell) }
            defer { count.reset() }
            return try count.next() ? Int(count.int(0)) : 0
        }
    }

    public func fan(of account: Account, openId: String) async throws -> FanState? {
        try await pool.read { db in try FanRows.load(account, openIds: [openId], db)[openId] }
    }

    public func createTag(_ tag: TagDefinition, tenantId: String, audit: AuditEntry) async throws {
        try await write { db in
            try db.execute(sql: "INSERT INTO tags (tenant_id, name, tag_group, created_at) VALUES (?,?,?,?)",
                           arguments: [tenantId, tag.name, tag.group, tag.createdAt])
            try Self.record(audit, db)
        }
    }

    public func tags(tenantId: String) async throws -> [TagDefinition] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, tag_group, created_at FROM tags WHERE tenant_id = ? ORDER BY tag_group, name", arguments: [tenantId]).map {
                TagDefinition(name: $0["name"], group: $0["tag_group"], createdAt: $0["created_at"])
            }
        }
    }

    public func deleteTag(name: String, tenantId: String, audit: AuditEntry) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM tags WHERE tenant_id = ? AND name = ?", arguments: [tenantId, name])
            try Self.record(audit, db)
        }
    }

    public func createSegment(_ segment: Segment, audit: AuditEntry) async throws {
        try await write { db in
            try db.execute(sql: "INSERT INTO segments (\(SegmentRows.columns)) VALUES (?,?,?,?,?,?,?,?,?,?)", arguments: [
                segment.tenantId, segment.accountId, segment.id, segment.name, segment.storedPredicate, segment.state.rawValue,
                segment.failure, segment.size, segment.createdAt, segment.updatedAt])
            try Self.record(audit, db)
        }
    }

    public func createStaticSegment(_ segment: Segment, of account: Account, members: [String], cause: String, audit: AuditEntry) async throws -> Segment {
        try await write { db in
            var segment = segment
            try db.execute(sql: "INSERT INTO segments (\(SegmentRows.columns)) VALUES (?,?,?,?,?,?,?,?,?,?)", arguments: [
                segment.tenantId, segment.accountId, segment.id, segment.name, "", Segment.State.ready.rawValue,
                nil, 0, segment.createdAt, segment.updatedAt])
            let fans = try FanRows.existing(account, openIds: Set(members), db)
            try SegmentRows.apply(fans.sorted().map {
                SegmentChange(segmentId: segment.id, openId: $0, entered: true, at: segment.createdAt, cause: cause, causeSeq: 0)
            }, of: account, db)
            segment.size = fans.count
            segment.state = .ready
            try Self.record(audit, db)
            return segment
        }
    }

    public func segments(of account: Account) async throws -> [Segment] {
        try await pool.read { db in try SegmentRows.all(account, db) }
    }

    public func segment(id: String, of account: Account) async throws -> Segment? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(SegmentRows.columns) FROM segments WHERE tenant_id = ? AND account_id = ? AND segment_id = ?",
                             arguments: [account.tenantId, account.id, id]).map(SegmentRows.segment)
        }
    }

    public func updateSegment(_ segment: Segment, audit: AuditEntry?) async throws {
        try await write { db in
            try db.execute(sql: """
                UPDATE segments SET name = ?, predicate = ?, state = ?, failure = ?, updated_at = ? WHERE tenant_id = ? AND account_id = ? AND segment_id = ?
                """, arguments: [segment.name, segment.storedPredicate, segment.state.rawValue, segment.failure, segment.updatedAt,
                                 segment.tenantId, segment.accountId, segment.id])
            if let audit { try Self.record(audit, db) }
        }
    }

    public func deleteSegment(id: String, of account: Account, audit: AuditEntry) async throws {
        try await write { db in
            for table in ["segment_changes", "segment_members", "segments"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE tenant_id = ? AND account_id = ? AND segment_id = ?", arguments: [account.tenantId, account.id, id])
            }
            try Self.record(audit, db)
        }
    }

    public func buildSegment(id: String, of account: Account, now: Int64) async throws -> Segment {
        let calendar = account.calendar
        // SQLite has one writer: no projection batch can commit between the scan and `ready`.
        return try await write { db in
            let key: StatementArguments = [account.tenantId, account.id, id]
            guard let row = try Row.fetchOne(db, sql: "SELECT \(SegmentRows.columns) FROM segments WHERE tenant_id = ? AND account_id = ? AND segment_id = ?", arguments: key) else {
                throw StoreError.notFound("segment \(id)")
            }
            var segment = try SegmentRows.segment(row)
            guard let predicate = segment.predicate else { return segment }
            let compiled = PredicateSQL(predicate, calendar: calendar, now: now, dialect: .sqlite, firstParameter: 1)
            try db.execute(sql: "DELETE FROM segment_members WHERE tenant_id = ? AND account_id = ? AND segment_id = ?", arguments: key)
            let fill = try RawStatement(db, sql: """
                INSERT INTO segment_members (tenant_id, account_id, segment_id, open_id, since)
                SELECT tenant_id, account_id, ?, open_id, ? FROM fans WHERE tenant_id = ? AND account_id = ? AND \(compiled.condition)
                """)
            let binds: [Cell] = [.text(id), .int(now), .text(account.tenantId), .text(account.id)] + compiled.binds
            for (i, cell) in binds.enumerated() { fill.bind(Int32(i + 1), cell) }
            segment.size = try fill.run()
            segment.state = .ready
            segment.failure = nil
            segment.updatedAt = now
            try db.execute(sql: """
                UPDATE segments SET state = 'ready', failure = NULL, size = ?, updated_at = ?, checked_at = ? WHERE tenant_id = ? AND account_id = ? AND segment_id = ?
                """, arguments: [segment.size, now, now, account.tenantId, account.id, id])
            return segment
        }
    }

    public func recheckSegments(of account: Account, now: Int64,
                                evaluate: @Sendable ([Segment], [FanState], [String: Set<String>]) -> [SegmentChange]) async throws -> Int {
        try await pool.write { db in
            let segments = try SegmentRows.all(account, db).filter { $0.state == .ready && !($0.predicate?.windows.isEmpty ?? true) }
            guard !segments.isEmpty else { return 0 }
            var candidates = Set<String>()
            for segment in segments {
                let checked = try Int64.fetchOne(db, sql: "SELECT checked_at FROM segments WHERE tenant_id = ? AND account_id = ? AND segment_id = ?",
                                                 arguments: [account.tenantId, account.id, segment.id]) ?? 0
                for window in segment.predicate?.windows ?? [] {
                    let column = PredicateSQL.column(window.field)
                    let select = try RawStatement(db, sql: "SELECT open_id FROM fans WHERE tenant_id = ? AND account_id = ? AND \(column) >= ? AND \(column) < ?")
                    select.bind(1, account.tenantId)
                    select.bind(2, account.id)
                    select.bind(3, checked - window.seconds * 1000)
                    select.bind(4, now - window.seconds * 1000)
                    while try select.next() { if let id = select.text(0) { candidates.insert(id) } }
                }
            }
            let fans = try FanRows.load(account, openIds: candidates, db)
            let changes = evaluate(segments, Array(fans.values), try SegmentRows.memberships(account, openIds: candidates, db))
            try SegmentRows.apply(changes, of: account, db)
            for segment in segments {
                try db.execute(sql: "UPDATE segments SET checked_at = ? WHERE tenant_id = ? AND account_id = ? AND segment_id = ?",
                               arguments: [now, account.tenantId, account.id, segment.id])
            }
            return changes.count
        }
    }

    public func segmentMembers(id: String, of account: Account, cursor: String?, limit: Int) async throws -> Page<String> {
        try await pool.read { db in
            let ids = try String.fetchAll(db, sql: """
                SELECT open_id FROM segment_members WHERE tenant_id = ? AND account_id = ? AND segment_id = ? AND open_id > ? ORDER BY open_id LIMIT ?
                """, arguments: [account.tenantId, account.id, id, cursor ?? "", limit + 1])
            let page = Array(ids.prefix(limit))
            return Page(items: page, nextCursor: ids.count > limit ? page.last : nil)
        }
    }

    public func segmentMovements(id: String, of account: Account, since: Int64) async throws -> [(at: Int64, delta: Int)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT at, entered FROM segment_changes WHERE tenant_id = ? AND account_id = ? AND segment_id = ? AND at >= ? ORDER BY at
                """, arguments: [account.tenantId, account.id, id, since]).map { ($0["at"], ($0["entered"] as Int) == 1 ? 1 : -1) }
        }
    }

    public func portrait(ofSegment id: String, of account: Account) async throws -> Portrait {
        try await pool.read { db in
            var distributions: [String: [String: Int]] = [:]
            var size = 0
            for dimension in Portrait.dimensions {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT CAST(f.\(dimension) AS TEXT) AS value, COUNT(*) AS n FROM segment_members m
                    JOIN fans f ON f.tenant_id = m.tenant_id AND f.account_id = m.account_id AND f.open_id = m.open_id
                    WHERE m.tenant_id = ? AND m.account_id = ? AND m.segment_id = ? GROUP BY f.\(dimension)
                    """, arguments: [account.tenantId, account.id, id])
                distributions[dimension] = Dictionary(uniqueKeysWithValues: rows.map { ($0["value"] as String? ?? "", $0["n"] as Int) })
                size = rows.reduce(0) { $0 + ($1["n"] as Int) }
            }
            return Portrait(size: size, grouped: distributions)
        }
    }

    public func segmentChanges(id: String, of account: Account, limit: Int) async throws -> [SegmentChange] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT open_id, cause_seq, at, entered, cause FROM segment_changes WHERE tenant_id = ? AND account_id = ? AND segment_id = ?
                ORDER BY at DESC, cause_seq DESC, open_id LIMIT ?
                """, arguments: [account.tenantId, account.id, id, limit]).map {
                SegmentChange(segmentId: id, openId: $0["open_id"], entered: ($0["entered"] as Int) == 1, at: $0["at"], cause: $0["cause"], causeSeq: $0["cause_seq"])
            }
        }
    }


    public func timeline(of account: Account, openId: String, limit: Int) async throws -> [StoredEvent] {
        try await pool.read { db in
            let select = try RawStatement(db, sql: """
                SELECT \(EventLog.columnList) FROM events WHERE tenant_id = ? AND account_id = ? AND open_id = ?
                ORDER BY seq DESC LIMIT ?
                """)
            select.bind(1, account.tenantId)
            select.bind(2, account.id)
            select.bind(3, openId)
            select.bind(4, Int64(limit))
            return try EventLog.read(select)
        }
    }

    public func segmentChanges(of account: Account, openId: String, limit: Int) async throws -> [SegmentChange] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT segment_id, cause_seq, at, entered, cause FROM segment_changes WHERE tenant_id = ? AND account_id = ? AND open_id = ?
                ORDER BY at DESC, cause_seq DESC LIMIT ?
                """, arguments: [account.tenantId, account.id, openId, limit]).map {
                SegmentChange(segmentId: $0["segment_id"], openId: openId, entered: ($0["entered"] as Int) == 1, at: $0["at"], cause: $0["cause"], causeSeq: $0["cause_seq"])
            }
        }
    }

    public func actions(of account: Account, openId: String, limit: Int) async throws -> [FanAction] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT cause_seq, at, action, detail FROM fan_actions WHERE tenant_id = ? AND account_id = ? AND open_id = ?
                ORDER BY at DESC, cause_seq DESC LIMIT ?
                """, arguments: [account.tenantId, account.id, openId, limit]).map {
                FanAction(openId: openId, at: $0["at"], action: $0["action"], detail: $0["detail"], causeSeq: $0["cause_seq"])
            }
        }
    }

    public func transitions(of account: Account, openId: String, limit: Int) async throws -> [TierTransition] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT at, from_tier, to_tier, cause FROM tier_transitions WHERE tenant_id = ? AND account_id = ? AND open_id = ?
                ORDER BY at DESC, cause_seq DESC LIMIT ?
                """, arguments: [account.tenantId, account.id, openId, limit]).compactMap { row in
                guard let to = Tier(rawValue: row["to_tier"]) else { return nil }
                let from: Int? = row["from_tier"]
                return TierTransition(openId: openId, from: from.flatMap(Tier.init(rawValue:)), to: to, at: row["at"], cause: row["cause"])
            }
        }
    }

    public func tierCounts(of account: Account) async throws -> [Tier: Int] {
        try await pool.read { db in
            var counts: [Tier: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT tier, COUNT(*) AS n FROM fans WHERE tenant_id = ? AND account_id = ? GROUP BY tier",
                                        arguments: [account.tenantId, account.id]) {
                if let tier = Tier(rawValue: row["tier"]) { counts[tier] = row["n"] }
            }
            return counts
        }
    }

    public func tierFlows(of account: Account, days: ClosedRange<Int>) async throws -> [TierFlow: Int] {
        try await pool.read { db in
            var flows: [TierFlow: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT day, from_tier, to_tier, fans FROM tier_flow_daily
                WHERE tenant_id = ? AND account_id = ? AND day BETWEEN ? AND ?
                """, arguments: [account.tenantId, account.id, days.lowerBound, days.upperBound]) {
                guard let to = Tier(rawValue: row["to_tier"]) else { continue }
                flows[TierFlow(day: row["day"], from: Tier(rawValue: row["from_tier"]), to: to)] = row["fans"]
            }
            return flows
        }
    }

    public func tierCounts(of account: Account, before day: Int) async throws -> [Tier: Int] {
        try await pool.read { db in
            var counts: [Tier: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT from_tier, to_tier, SUM(fans) AS n FROM tier_flow_daily
                WHERE tenant_id = ? AND account_id = ? AND day < ? GROUP BY from_tier, to_tier
                """, arguments: [account.tenantId, account.id, day]) {
                let n: Int = row["n"]
                if let to = Tier(rawValue: row["to_tier"]) { counts[to, default: 0] += n }
                if let from = Tier(rawValue: row["from_tier"]) { counts[from, default: 0] -= n }
            }
            return counts
        }
    }

    public func activity(of account: Account, days: ClosedRange<Int>) async throws -> [ActivityCell: ActivityCount] {
        try await pool.read { db in
            var cells: [ActivityCell: ActivityCount] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT day, domain, channel, events, new_fans FROM activity_daily
                WHERE tenant_id = ? AND account_id = ? AND day BETWEEN ? AND ?
                """, arguments: [account.tenantId, account.id, days.lowerBound, days.upperBound]) {
                guard let domain = SourceDomain(rawValue: row["domain"]), let channel = Channel(rawValue: row["channel"]) else { continue }
                cells[ActivityCell(day: row["day"], domain: domain, channel: channel)] = ActivityCount(events: row["events"], newFans: row["new_fans"])
            }
            return cells
        }
    }

    // MARK: Helpers

    /// A write that turns constraint violations into `StoreError`s naming the column.
    private func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await Self.translatingConstraints { try await self.pool.write(body) }
    }

    static func translatingConstraints<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            let message = error.message ?? "constraint failed"
            if message.contains("FOREIGN KEY") { throw StoreError.notFound("a referenced record does not exist") }
            // The database's words stay here: the error names the field as the API does.
            throw StoreError.uniqueValueTaken(message)
        }
    }



    static func record(_ audit: AuditEntry, _ db: Database) throws {
        _ = try SQLiteRunner.rows(TenancyRows.record(audit), db)
    }

    static func rules(of account: Account, _ db: Database) throws -> VersionedRules {
        try TenancyRows.rules(try SQLiteRunner.rows(TenancyRows.rulesQuery(of: account), db), of: account)
    }
}
