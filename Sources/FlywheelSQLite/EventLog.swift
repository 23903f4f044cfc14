import FlywheelDomain
import FlywheelStore
import Foundation
import GRDB

/// The append-only event log: each account's events numbered 1, 2, 3... in arrival order.
enum EventLog {
    static let columnList = "seq, event_id, kind, open_id, occurred_at, domain, channel, amount, ref, attributes"

    /// Appends with one reused statement; an id already in the account's log is skipped.
    static func append(_ events: [AccountEvent], _ db: Database, progress: (Int) -> Void) throws -> AppendOutcome {
        let insert = try RawStatement(db, sql: """
            INSERT INTO events (tenant_id, account_id, seq, event_id, kind, open_id, occurred_at, domain, channel, amount, ref, attributes)
            VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING
            """)
        var lastSeq: [AccountKey: Int64] = [:]
        var inserted = 0
        for (i, item) in events.enumerated() {
            let key = AccountKey(tenantId: item.tenantId, accountId: item.accountId)
            let previous: Int64
            if let last = lastSeq[key] {
                previous = last
            } else {
                guard let last = try Int64.fetchOne(db, sql: "SELECT last_seq FROM accounts WHERE tenant_id = ? AND account_id = ?",
                                                    arguments: [key.tenantId, key.accountId]) else {
                    throw StoreError.notFound("account \(key.accountId)")
                }
                previous = last
            }
            let e = item.event
            insert.bind(1, key.tenantId)
            insert.bind(2, key.accountId)
            insert.bind(3, previous + 1)
            insert.bind(4, e.id)
            insert.bind(5, e.kind.rawValue)
            insert.bind(6, e.openId)
            insert.bind(7, e.occurredAt)
            insert.bind(8, e.domain.rawValue)
            insert.bind(9, e.channel.rawValue)
            insert.bind(10, e.amount)
            insert.bind(11, e.ref)
            insert.bind(12, EventAttributes.encode(e.attributes))
            if try insert.run() == 1 {
                lastSeq[key] = previous + 1
                inserted += 1
            } else {
                lastSeq[key] = previous
            }
            if (i + 1) % 10_000 == 0 { progress(i + 1) }
        }
        let update = try db.cachedStatement(sql: "UPDATE accounts SET last_seq = ? WHERE tenant_id = ? AND account_id = ?")
        for (key, seq) in lastSeq { try update.execute(arguments: [seq, key.tenantId, key.accountId]) }
        progress(events.count)
        return AppendOutcome(inserted: inserted, duplicates: events.count - inserted)
    }

    /// Reads the rows of a statement selecting `columnList`; a row that cannot be read fails the read.
    static func read(_ statement: RawStatement) throws -> [StoredEvent] {
        var events: [StoredEvent] = []
        while try statement.next() {
            guard let event = current(statement) else {
                statement.reset()
                throw StoreError.corrupt("events row \(statement.int(0)) has an unknown kind, domain or channel")
            }
            events.append(event)
        }
        return events
    }

    /// Reads a batch for the projector: rows that cannot be read are returned apart (their `at` is
    /// the projector's to set), not fatal.
    static func readBatch(_ statement: RawStatement) throws -> (events: [StoredEvent], unreadable: [QuarantinedEvent]) {
        var events: [StoredEvent] = []
        var unreadable: [QuarantinedEvent] = []
        while try statement.next() {
            if let event = current(statement) {
                events.append(event)
            } else {
                unreadable.append(QuarantinedEvent(seq: statement.int(0), eventId: statement.text(1) ?? "", reason: unreadableReason, at: 0))
            }
        }
        return (events, unreadable)
    }

    static let unreadableReason = "the stored row has an unknown kind, domain or channel"

    private static func current(_ statement: RawStatement) -> StoredEvent? {
        guard let kind = statement.text(2).flatMap(EventKind.init(rawValue:)),
              let domain = statement.text(5).flatMap(SourceDomain.init(rawValue:)),
              let channel = statement.text(6).flatMap(Channel.init(rawValue:)) else { return nil }
        return StoredEvent(seq: statement.int(0), event: FanEvent(
            id: statement.text(1) ?? "", kind: kind, openId: statement.text(3) ?? "", occurredAt: statement.int(4),
            domain: domain, channel: channel, amount: statement.int(7), ref: statement.text(8),
            attributes: statement.text(9).map(EventAttributes.decode) ?? [:]))
    }
}

struct AccountKey: Hashable {
    var tenantId: String
    var accountId: String
}

/// Reading and writing `fans` rows through the shared column mapping.
enum FanRows {
    static let columnList = FanColumns.names.joined(separator: ", ")

    /// Reads the rows of a statement selecting `columnList`.
    static func read(_ statement: RawStatement, into fans: inout [String: FanState]) throws {
        let width = Int32(FanColumns.names.count)
        while try statement.next() {
            let fan = try FanColumns.fan(from: (0..<width).map(statement.cell))
            fans[fan.openId] = fan
        }
    }

    static func read(_ statement: RawStatement) throws -> [FanState] {
        let width = Int32(FanColumns.names.count)
        var fans: [FanState] = []
        while try statement.next() { fans.append(try FanColumns.fan(from: (0..<width).map(statement.cell))) }
        return fans
    }

    /// The given fans of an account that exist.
    static func load(_ account: Account, openIds: some Sequence<String>, _ db: Database) throws -> [String: FanState] {
        let select = try RawStatement(db, sql: "SELECT \(columnList) FROM fans WHERE tenant_id = ? AND account_id = ? AND open_id = ?")
        select.bind(1, account.tenantId)
        select.bind(2, account.id)
        var fans: [String: FanState] = [:]
        for openId in openIds {
            select.bind(3, openId)
            try read(select, into: &fans)
        }
        return fans
    }

    /// Those of the open_ids that are fans of the account.
    static func existing(_ account: Account, openIds: Set<String>, _ db: Database) throws -> [String] {
        let select = try RawStatement(db, sql: "SELECT 1 FROM fans WHERE tenant_id = ? AND account_id = ? AND open_id = ?")
        select.bind(1, account.tenantId)
        select.bind(2, account.id)
        var found: [String] = []
        for openId in openIds {
            select.bind(3, openId)
            if try select.next() { found.append(openId) }
            select.reset()
        }
        return found
    }

    static func loadAll(_ account: Account, _ db: Database) throws -> [String: FanState] {
        let select = try RawStatement(db, sql: "SELECT \(columnList) FROM fans WHERE tenant_id = ? AND account_id = ?")
        select.bind(1, account.tenantId)
        select.bind(2, account.id)
        var fans: [String: FanState] = [:]
        try read(select, into: &fans)
        return fans
    }

    static func save(_ fans: [FanState], of account: Account, _ db: Database) throws {
        let names = ["tenant_id", "account_id"] + FanColumns.names
        let upsert = try RawStatement(db, sql: """
            INSERT OR REPLACE INTO fans (\(names.joined(separator: ", "))) VALUES (\(SQLStatement.placeholders(names.count)))
            """)
        upsert.bind(1, account.tenantId)
        upsert.bind(2, account.id)
        for fan in fans {
            for (i, cell) in FanColumns.cells(of: fan).enumerated() { upsert.bind(Int32(i + 3), cell) }
            try upsert.run()
        }
    }
}

/// One projection batch in one write transaction: read, apply, write state and checkpoint.
enum Projection {
    static func run(_ account: Account, limit: Int, _ db: Database, _ step: (ProjectionBatch) throws -> ProjectionResult) throws -> Int {
        let key: StatementArguments = [account.tenantId, account.id]
        let checkpoint = try Row.fetchOne(db, sql: "SELECT last_seq, rules_version FROM projection_checkpoints WHERE tenant_id = ? AND account_id = ?", arguments: key)
        let lastSeq: Int64 = checkpoint?["last_seq"] ?? 0
        let appliedVersion: Int = checkpoint?["rules_version"] ?? 0
        let rules = try SQLiteStore.rules(of: account, db)
        let rulesChanged = rules.version != appliedVersion
        let select = try RawStatement(db, sql: """
            SELECT \(EventLog.columnList) FROM events WHERE tenant_id = ? AND account_id = ? AND seq > ? ORDER BY seq LIMIT ?
            """)
        select.bind(1, account.tenantId)
        select.bind(2, account.id)
        select.bind(3, lastSeq)
        select.bind(4, Int64(limit))
        let (events, unreadable) = try EventLog.readBatch(select)
        guard !events.isEmpty || !unreadable.isEmpty || rulesChanged else { return 0 }

        let fans = rulesChanged ? try FanRows.loadAll(account, db) : try FanRows.load(account, openIds: Set(events.map(\.event.openId)), db)
        var batch = ProjectionBatch(account: account, rules: rules.rules, rulesVersion: rules.version, rulesChanged: rulesChanged, events: events, fans: fans)
        batch.unreadable = unreadable
        batch.segments = try SegmentRows.all(account, db).filter { $0.state == .ready && $0.predicate != nil }
        if !batch.segments.isEmpty { batch.memberships = try SegmentRows.memberships(account, openIds: fans.keys, db) }
        for write in try step(batch).writes { try Self.write(write, of: account, db) }
        try db.execute(sql: """
            INSERT INTO projection_checkpoints (tenant_id, account_id, last_seq, rules_version) VALUES (?,?,?,?)
            ON CONFLICT DO UPDATE SET last_seq = excluded.last_seq, rules_version = excluded.rules_version
            """, arguments: [account.tenantId, account.id, max(events.last?.seq ?? lastSeq, unreadable.last?.seq ?? lastSeq), rules.version])
        return events.count + unreadable.count
    }

    /// The one SQLite writer of each kind of projection write.
    static func write(_ write: any ProjectionWrite, of account: Account, _ db: Database) throws {
        switch write {
        case let w as FanStatesWrite:
            try FanRows.save(w.fans, of: account, db)
        case let w as TierTransitionsWrite:
            let transition = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO tier_transitions (tenant_id, account_id, open_id, cause_seq, at, from_tier, to_tier, cause)
                VALUES (?,?,?,?,?,?,?,?)
                """)
            for (t, causeSeq, _) in w.transitions {
                try transition.execute(arguments: [account.tenantId, account.id, t.openId, causeSeq, t.at, t.from?.rawValue, t.to.rawValue, t.cause])
            }
            let flow = try db.cachedStatement(sql: """
                INSERT INTO tier_flow_daily (tenant_id, account_id, day, from_tier, to_tier, fans) VALUES (?,?,?,?,?,?)
                ON CONFLICT DO UPDATE SET fans = fans + excluded.fans
                """)
            for (f, n) in w.flows {
                try flow.execute(arguments: [account.tenantId, account.id, f.day, f.from?.rawValue ?? -1, f.to.rawValue, n])
            }
        case let w as FanActionsWrite:
            let action = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO fan_actions (tenant_id, account_id, open_id, cause_seq, at, action, detail) VALUES (?,?,?,?,?,?,?)
                """)
            for a in w.actions {
                try action.execute(arguments: [account.tenantId, account.id, a.openId, a.causeSeq, a.at, a.action, a.detail])
            }
        case let w as ActivityWrite:
            let activity = try db.cachedStatement(sql: """
                INSERT INTO activity_daily (tenant_id, account_id, day, domain, channel, events, new_fans) VALUES (?,?,?,?,?,?,?)
                ON CONFLICT DO UPDATE SET events = events + excluded.events, new_fans = new_fans + excluded.new_fans
                """)
            for (cell, count) in w.cells {
                try activity.execute(arguments: [account.tenantId, account.id, cell.day, cell.domain.rawValue, cell.channel.rawValue, count.events, count.newFans])
            }
        case let w as SegmentChangesWrite:
            try SegmentRows.apply(w.changes, of: account, db)
        case let w as QuarantineWrite:
            let quarantine = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO quarantined_events (tenant_id, account_id, seq, event_id, reason, quarantined_at) VALUES (?,?,?,?,?,?)
                """)
            for e in w.events {
                try quarantine.execute(arguments: [account.tenantId, account.id, e.seq, e.eventId, e.reason, e.at])
            }
        default:
            throw StoreError.noWriter("SQLite has no writer for \(type(of: write))")
        }
    }
}
