import FlywheelDomain
import FlywheelStore
import Foundation
import GRDB

/// The append-only event log: each account's events numbered 1, 2, 3... in arrival order.
enum EventLog {
    static let columnList = "seq, event_id, kind, open_id, occurred_at, domain, channel, amount, ref, attributes"

    /// Appends with one reused statement; an id already in the account's log is skipped.
    static func append(_ events: [AccountEvent], _ db: Database, progress: (Int) -> Void) throws -> AppendOutcome {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO events (tenant_id, account_id, seq, event_id, kind, open_id, occurred_at, domain, channel, amount, ref, attributes)
            VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING
            """)
        var lastSeq: [AccountKey: Int64] = [:]
        var inserted = 0
        for (i, item) in events.enumerated() {
            let key = AccountKey(tenantId: item.tenantId, accountId: item.accountId)
            let seq: Int64
            if let last = lastSeq[key] {
                seq = last + 1
            } else {
                guard let last = try Int64.fetchOne(db, sql: "SELECT last_seq FROM accounts WHERE tenant_id = ? AND account_id = ?",
                                                    arguments: [key.tenantId, key.accountId]) else {
                    throw StoreError.notFound("account \(key.accountId)")
                }
                seq = last + 1
            }
            let e = item.event
            try insert.execute(arguments: [
                key.tenantId, key.accountId, seq, e.id, e.kind.rawValue, e.openId, e.occurredAt, e.domain.rawValue,
                e.channel.rawValue, e.amount, e.ref, encode(e.attributes),
            ])
            if db.changesCount == 1 {
                lastSeq[key] = seq
                inserted += 1
            } else if lastSeq[key] == nil {
                lastSeq[key] = seq - 1
            }
            if (i + 1) % 10_000 == 0 { progress(i + 1) }
        }
        let update = try db.cachedStatement(sql: "UPDATE accounts SET last_seq = ? WHERE tenant_id = ? AND account_id = ?")
        for (key, seq) in lastSeq { try update.execute(arguments: [seq, key.tenantId, key.accountId]) }
        progress(events.count)
        return AppendOutcome(inserted: inserted, duplicates: events.count - inserted)
    }

    /// Reads a row selected with `columnList`.
    static func storedEvent(_ row: Row) throws -> StoredEvent {
        let kindText: String = row[2], domainText: String = row[5], channelText: String = row[6]
        guard let kind = EventKind(rawValue: kindText), let domain = SourceDomain(rawValue: domainText),
              let channel = Channel(rawValue: channelText) else {
            throw StoreError.corrupt("events row \(row[0] as Int64) has an unknown kind, domain or channel")
        }
        let attributes: String? = row[9]
        return StoredEvent(seq: row[0], event: FanEvent(
            id: row[1], kind: kind, openId: row[3], occurredAt: row[4], domain: domain, channel: channel,
            amount: row[7], ref: row[8], attributes: attributes.map(decode) ?? [:]))
    }

    static func encode(_ attributes: [String: String]) -> String? {
        guard !attributes.isEmpty, let data = try? JSONSerialization.data(withJSONObject: attributes, options: [.sortedKeys]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String) -> [String: String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: String] ?? [:]
    }
}

struct AccountKey: Hashable {
    var tenantId: String
    var accountId: String
}

/// Reading and writing `fans` rows through the shared column mapping.
enum FanRows {
    static let columnList = FanColumns.names.joined(separator: ", ")

    static func fan(_ row: Row) throws -> FanState {
        try FanColumns.fan(from: (0..<row.count).map { Cell(row[$0] as DatabaseValue) })
    }

    static func load(_ account: Account, openId: String, _ db: Database) throws -> FanState? {
        let select = try db.cachedStatement(sql: "SELECT \(columnList) FROM fans WHERE tenant_id = ? AND account_id = ? AND open_id = ?")
        return try Row.fetchOne(select, arguments: [account.tenantId, account.id, openId]).map(fan)
    }

    static func loadAll(_ account: Account, _ db: Database) throws -> [String: FanState] {
        var fans: [String: FanState] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT \(columnList) FROM fans WHERE tenant_id = ? AND account_id = ?",
                                       arguments: [account.tenantId, account.id])
        while let row = try rows.next() {
            let state = try fan(row)
            fans[state.openId] = state
        }
        return fans
    }

    static func save(_ fans: [FanState], of account: Account, _ db: Database) throws {
        let names = ["tenant_id", "account_id"] + FanColumns.names
        let upsert = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO fans (\(names.joined(separator: ", "))) VALUES (\(SQLiteStore.placeholders(names.count)))
            """)
        for fan in fans {
            var values: [DatabaseValue] = [account.tenantId.databaseValue, account.id.databaseValue]
            values += FanColumns.cells(of: fan).map(\.databaseValue)
            try upsert.execute(arguments: StatementArguments(values))
        }
    }
}

extension Cell {
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .int64(let i): self = .int(i)
        case .string(let s): self = .text(s)
        case .double(let d): self = .int(Int64(d))
        case .null, .blob: self = .null
        }
    }

    var databaseValue: DatabaseValue {
        switch self {
        case .int(let i): i.databaseValue
        case .text(let s): s.databaseValue
        case .null: .null
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
        let events = try Row.fetchAll(db, sql: """
            SELECT \(EventLog.columnList) FROM events WHERE tenant_id = ? AND account_id = ? AND seq > ? ORDER BY seq LIMIT ?
            """, arguments: [account.tenantId, account.id, lastSeq, limit]).map(EventLog.storedEvent)
        guard !events.isEmpty || rulesChanged else { return 0 }

        var fans: [String: FanState]
        if rulesChanged {
            fans = try FanRows.loadAll(account, db)
        } else {
            fans = [:]
            for e in events where fans[e.event.openId] == nil {
                if let fan = try FanRows.load(account, openId: e.event.openId, db) { fans[fan.openId] = fan }
            }
        }
        let result = try step(ProjectionBatch(account: account, rules: rules.rules, rulesVersion: rules.version, rulesChanged: rulesChanged, events: events, fans: fans))

        try FanRows.save(result.fans, of: account, db)
        let transition = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO tier_transitions (tenant_id, account_id, open_id, cause_seq, at, from_tier, to_tier, cause)
            VALUES (?,?,?,?,?,?,?,?)
            """)
        for (t, causeSeq, _) in result.transitions {
            try transition.execute(arguments: [account.tenantId, account.id, t.openId, causeSeq, t.at, t.from?.rawValue, t.to.rawValue, t.cause])
        }
        let flow = try db.cachedStatement(sql: """
            INSERT INTO tier_flow_daily (tenant_id, account_id, day, from_tier, to_tier, fans) VALUES (?,?,?,?,?,?)
            ON CONFLICT DO UPDATE SET fans = fans + excluded.fans
            """)
        for (f, n) in result.tierFlows {
            try flow.execute(arguments: [account.tenantId, account.id, f.day, f.from?.rawValue ?? -1, f.to.rawValue, n])
        }
        let activity = try db.cachedStatement(sql: """
            INSERT INTO activity_daily (tenant_id, account_id, day, domain, channel, events, new_fans) VALUES (?,?,?,?,?,?,?)
            ON CONFLICT DO UPDATE SET events = events + excluded.events, new_fans = new_fans + excluded.new_fans
            """)
        for (cell, count) in result.activity {
            try activity.execute(arguments: [account.tenantId, account.id, cell.day, cell.domain.rawValue, cell.channel.rawValue, count.events, count.newFans])
        }
        try db.execute(sql: """
            INSERT INTO projection_checkpoints (tenant_id, account_id, last_seq, rules_version) VALUES (?,?,?,?)
            ON CONFLICT DO UPDATE SET last_seq = excluded.last_seq, rules_version = excluded.rules_version
            """, arguments: [account.tenantId, account.id, events.last?.seq ?? lastSeq, rules.version])
        return events.count
    }
}
