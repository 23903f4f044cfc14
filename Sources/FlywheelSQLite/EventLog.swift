import FlywheelDomain
import FlywheelStore
import Foundation
import GRDB

/// The append-only event log: each account's events numbered 1, 2, 3... in arrival order, in the
/// account's stream (an integer SQLite numbers, kept in `event_streams`).
enum EventLog {
    static let columnList = "seq, event_id, kind, open_id, occurred_at, domain, channel, amount, ref, attributes"

    /// The account's stream, or nil when nothing was ever appended to it.
    static func stream(of account: Account, _ db: Database) throws -> Int64? {
        try stream(of: AccountKey(tenantId: account.tenantId, accountId: account.id), db)
    }

    private static func stream(of key: AccountKey, _ db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT stream FROM event_streams WHERE tenant_id = ? AND account_id = ?", arguments: [key.tenantId, key.accountId])
    }

    /// The seq of the account's newest event (0 before the first).
    static func lastSeq(of account: Account, _ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT last_seq FROM accounts WHERE tenant_id = ? AND account_id = ?", arguments: [account.tenantId, account.id]) ?? 0
    }

    /// Where an account's appends go: its stream and the last seq taken.
    private struct Head {
        var stream: Int64
        var lastSeq: Int64
        var appended = false

        static func load(_ key: AccountKey, _ db: Database) throws -> Head {
            let arguments: StatementArguments = [key.tenantId, key.accountId]
            guard let last = try Int64.fetchOne(db, sql: "SELECT last_seq FROM accounts WHERE tenant_id = ? AND account_id = ?", arguments: arguments) else {
                throw StoreError.notFound("account \(key.accountId)")
            }
            if let stream = try EventLog.stream(of: key, db) { return Head(stream: stream, lastSeq: last) }
            try db.execute(sql: "INSERT INTO event_streams (tenant_id, account_id) VALUES (?, ?)", arguments: arguments)
            return Head(stream: db.lastInsertedRowID, lastSeq: last)
        }
    }

    /// Appends with one reused statement; an id already in the account's log is skipped.
    static func append(_ events: [AccountEvent], _ db: Database, progress: (Int) -> Void) throws -> AppendOutcome {
        var appender = try Appender(db)
        var inserted = 0
        for (i, item) in events.enumerated() {
            if try appender.append(item) { inserted += 1 }
            if (i + 1) % 10_000 == 0 { progress(i + 1) }
        }
        try appender.finish()
        progress(events.count)
        return AppendOutcome(inserted: inserted, duplicates: events.count - inserted)
    }

    /// Appends within one transaction with one prepared statement, however many calls (a group
    /// commit's deliveries share one); `finish` records each account's last seq.
    struct Appender {
        private let db: Database
        private let insert: RawStatement
        private var heads: [AccountKey: Head] = [:]
        // Events come in runs of one account: the head is looked up when the account changes.
        private var key: AccountKey?
        private var head = Head(stream: 0, lastSeq: 0)

        init(_ db: Database) throws {
            self.db = db
            insert = try RawStatement(cached: db, sql: """
                INSERT INTO events (stream, seq, event_id, kind, open_id, occurred_at, domain, channel, amount, ref, attributes)
                VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING
                """)
        }

        /// False when the account's log has the event's id already.
        mutating func append(_ item: AccountEvent) throws -> Bool {
            if key?.tenantId != item.tenantId || key?.accountId != item.accountId {
                if let key { heads[key] = head }
                let next = AccountKey(tenantId: item.tenantId, accountId: item.accountId)
                head = try heads[next] ?? Head.load(next, db)
                key = next
            }
            let e = item.event
            insert.bind(1, head.stream)
            insert.bind(2, head.lastSeq + 1)
            insert.bind(3, e.id)
            insert.bind(4, EventCodes.kinds.number(e.kind))
            insert.bind(5, e.openId)
            insert.bind(6, e.occurredAt)
            insert.bind(7, EventCodes.domains.number(e.domain))
            insert.bind(8, EventCodes.channels.number(e.channel))
            insert.bind(9, e.amount)
            insert.bind(10, e.ref)
            insert.bind(11, e.attributes.isEmpty ? nil : EventAttributes.encode(e.attributes))
            guard try insert.run() == 1 else { return false }
            head.lastSeq += 1
            head.appended = true
            return true
        }

        mutating func finish() throws {
            if let key { heads[key] = head }
            let update = try db.cachedStatement(sql: "UPDATE accounts SET last_seq = ? WHERE tenant_id = ? AND account_id = ?")
            for (key, head) in heads where head.appended { try update.execute(arguments: [head.lastSeq, key.tenantId, key.accountId]) }
        }
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
        guard let kind = EventCodes.kinds.value(statement.int(2)), let domain = EventCodes.domains.value(statement.int(5)),
              let channel = EventCodes.channels.value(statement.int(6)) else { return nil }
        return StoredEvent(seq: statement.int(0), event: FanEvent(
            id: statement.text(1) ?? "", kind: kind, openId: statement.text(3) ?? "", occurredAt: statement.int(4),
            domain: domain, channel: channel, amount: statement.int(7), ref: statement.text(8),
            attributes: statement.text(9).map(EventAttributes.decode) ?? [:]))
    }
}

/// `fan_event_runs` on SQLite (`FanEventRuns`).
enum FanEventRunRows {
    /// The batch's runs, many rows a statement.
    static func statements(_ runs: [FanEventRuns.Run], stream: Int64) -> [SQLStatement] {
        SQLStatement.insert("fan_event_runs", key: [.int(stream)], rows: runs.map { [.text($0.openId), .int($0.firstSeq), .text($0.seqs)] }, then: "ON CONFLICT DO NOTHING")
    }

    /// The fan's last `limit` events, newest first: those not yet projected (after `checkpoint`,
    /// read from the log's tail), then those in runs.
    static func latest(_ openId: String, stream: Int64, after checkpoint: Int64, limit: Int, _ db: Database) throws -> [StoredEvent] {
        let tail = try RawStatement(cached: db, sql: "SELECT \(EventLog.columnList) FROM events WHERE stream = ? AND seq > ? AND open_id = ? ORDER BY seq DESC LIMIT ?")
        tail.bind(1, stream)
        tail.bind(2, checkpoint)
        tail.bind(3, openId)
        tail.bind(4, Int64(limit))
        var events = try EventLog.read(tail)
        guard events.count < limit else { return events }
        let runs = try String.fetchAll(db, sql: "SELECT seqs FROM fan_event_runs WHERE stream = ? AND open_id = ? ORDER BY first_seq DESC",
                                       arguments: [stream, openId])
        let select = try RawStatement(cached: db, sql: "SELECT \(EventLog.columnList) FROM events WHERE stream = ? AND seq = ?")
        select.bind(1, stream)
        for seq in FanEventRuns.latest(runs, limit: limit - events.count) where seq <= checkpoint {
            select.bind(2, seq)
            events += try EventLog.read(select)
        }
        return events
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
        let select = try RawStatement(cached: db, sql: "SELECT \(columnList) FROM fans WHERE tenant_id = ? AND account_id = ? AND open_id = ?")
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
        let select = try RawStatement(cached: db, sql: "SELECT 1 FROM fans WHERE tenant_id = ? AND account_id = ? AND open_id = ?")
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
        let select = try RawStatement(cached: db, sql: "SELECT \(columnList) FROM fans WHERE tenant_id = ? AND account_id = ?")
        select.bind(1, account.tenantId)
        select.bind(2, account.id)
        var fans: [String: FanState] = [:]
        try read(select, into: &fans)
        return fans
    }

    static func save(_ fans: [FanState], of account: Account, _ db: Database) throws {
        let names = ["tenant_id", "account_id"] + FanColumns.names
        let upsert = try RawStatement(cached: db, sql: """
            INSERT OR REPLACE INTO fans (\(names.joined(separator: ", "))) VALUES (\(SQLStatement.placeholders(names.count)))
            """)
        upsert.bind(1, account.tenantId)
        upsert.bind(2, account.id)
        var parameters = RawStatement.Parameters(statement: upsert, next: 3)
        for fan in fans {
            parameters.next = 3
            FanColumns.write(fan, to: &parameters)
            try upsert.run()
        }
    }
}
