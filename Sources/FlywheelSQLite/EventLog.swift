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
        try stream(of: AccountKey(account), db)
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

    /// Appends with reused statements, a stretch of one account's events at a time; an id already
    /// in the account's log is skipped.
    static func append(_ events: [AccountEvent], _ db: Database, progress: (Int) -> Void) throws -> (outcome: AppendOutcome, appended: [AccountKey: [StoredEvent]]) {
        var appender = try Appender(db)
        let inserted = try appender.append(contentsOf: events[...], progress: progress)
        return (AppendOutcome(inserted: inserted, duplicates: events.count - inserted), try appender.finish())
    }

    /// Appends within one transaction with prepared statements, however many calls (a group
    /// commit's deliveries share one); `finish` records each account's last seq. An id is found by
    /// its hash in `event_ids` (v22): the k-th id of a stream with a hash is entry (hash, k).
    struct Appender {
        private let db: Database
        private let insert: RawStatement
        /// The ids in the account's log under one hash.
        private let logged: RawStatement
        private let insertId: RawStatement
        /// `runLength` rows a statement, prepared at the first full run.
        private var insertRun: RawStatement?
        private var insertIdRun: RawStatement?
        /// One entry that may be taken: the rest of a sorted stretch after its full runs.
        private var insertIdUnlessTaken: RawStatement?
        private var heads: [AccountKey: Head] = [:]
        // Events come in runs of one account: the head is looked up when the account changes.
        private var key: AccountKey?
        private var head = Head(stream: 0, lastSeq: 0)
        /// The events appended, by account (the current one's in `stored`): the log's tail once
        /// the transaction commits.
        private var appended: [AccountKey: [StoredEvent]] = [:]
        private var stored: [StoredEvent] = []

        /// Rows a statement for a bulk append: a statement a row cost a quarter more a row
        /// (BENCHMARKS.md); beyond 64 little changes.
        static let runLength = 64
        private static let insertInto = "INSERT INTO events (stream, seq, event_id, kind, open_id, occurred_at, domain, channel, amount, ref, attributes) VALUES "
        private static let row = "(" + SQLStatement.placeholders(11) + ")"
        private static let insertIdInto = "INSERT INTO event_ids (stream, id_hash, n, seq) VALUES "
        private static let idRow = "(?, ?, ?, ?)"

        init(_ db: Database) throws {
            self.db = db
            insert = try RawStatement(cached: db, sql: Self.insertInto + Self.row)
            logged = try RawStatement(cached: db, sql: """
                SELECT e.event_id FROM event_ids i JOIN events e ON e.stream = i.stream AND e.seq = i.seq WHERE i.stream = ? AND i.id_hash = ?
                """)
            insertId = try RawStatement(cached: db, sql: Self.insertIdInto + Self.idRow)
        }

        /// The event's id as `event_ids` holds it. Stored: never change it. Over the id's contiguous
        /// bytes: half the time of walking its UTF-8 view (65 against 131 ms a million content ids).
        static func idHash(_ id: String) -> Int64 {
            var id = id
            return Int64(bitPattern: id.withUTF8 { fnv1a($0) })
        }

        /// False when the account's log has the event's id already.
        mutating func append(_ item: AccountEvent) throws -> Bool {
            try useHead(of: item)
            let hash = Self.idHash(item.event.id)
            // The ids under its hash: none, for nearly every new id.
            logged.bind(1, head.stream)
            logged.bind(2, hash)
            var n = 0
            var found = false
            while try logged.next() {
                if logged.text(0) == item.event.id { found = true }
                n += 1
            }
            guard !found else { return false }
            let seq = head.lastSeq + 1
            bindId(hash, n, to: insertId, from: 1, seq: seq)
            try insertId.run()
            bind(item.event, to: insert, from: 1, seq: seq)
            try insert.run()
            head.lastSeq = seq
            head.appended = true
            stored.append(StoredEvent(seq: seq, event: item.event))
            return true
        }

        /// Appends `items` in order and returns how many the log did not have; `progress` gets the
        /// count done after each stretch of one account's events.
        mutating func append(contentsOf items: ArraySlice<AccountEvent>, progress: (Int) -> Void) throws -> Int {
            var inserted = 0
            var rest = items
            while let first = rest.first {
                let stretch = rest.prefix { $0.tenantId == first.tenantId && $0.accountId == first.accountId }
                // A stretch of one run goes straight to the runs, which try it once.
                if stretch.count > Self.runLength, try appendIfAllNew(stretch) {
                    inserted += stretch.count
                } else {
                    inserted += try appendRuns(stretch)
                }
                rest = rest.dropFirst(stretch.count)
                progress(items.count - rest.count)
            }
            return inserted
        }

        /// Appends one account's events in two passes: every id's entry at k = 0, in the order of
        /// the hashes, then the events in the log's order. Entries put in a run at a time landed
        /// all over the B-tree: a million ids with scattered hashes (real ids, content ids) took
        /// 2.7 s in SQLite alone, sorted by transaction 1.1 s (BENCHMARKS.md). False, and nothing
        /// of them kept, when an entry was taken (a duplicate, or another id with the same hash).
        private mutating func appendIfAllNew(_ stretch: ArraySlice<AccountEvent>) throws -> Bool {
            try useHead(of: stretch[stretch.startIndex])
            let first = head.lastSeq + 1
            let entries = stretch.enumerated().map { (hash: Self.idHash($1.event.id), seq: first + Int64($0)) }.sorted { $0.hash < $1.hash }
            let runs = try insertIdRun ?? RawStatement(cached: db, sql: Self.insertIdInto
                + Array(repeating: Self.idRow, count: Self.runLength).joined(separator: ", ") + " ON CONFLICT DO NOTHING")
            insertIdRun = runs
            let one = try insertIdUnlessTaken ?? RawStatement(cached: db, sql: Self.insertIdInto + Self.idRow + " ON CONFLICT DO NOTHING")
            insertIdUnlessTaken = one
            let entered = try Self.insert(entries.count, runs: runs, one: one) { k, statement, j in
                bindId(entries[k].hash, 0, to: statement, from: j * 4 + 1, seq: entries[k].seq)
            }
            guard entered == stretch.count else {
                if entered > 0 { try forget(entries) }
                return false
            }
            try insertEvents(stretch, from: first)
            return true
        }

        /// Appends a stretch whose entries were not all free a run of `runLength` events at a time,
        /// or a row at a time where a run's entry was taken; returns how many the log did not have.
        private mutating func appendRuns(_ stretch: ArraySlice<AccountEvent>) throws -> Int {
            var inserted = 0
            var rest = stretch
            while !rest.isEmpty {
                let run = rest.prefix(Self.runLength)
                if run.count == Self.runLength, try appendIfAllNew(run) {
                    inserted += run.count
                } else {
                    for item in run where try append(item) { inserted += 1 }
                }
                rest = rest.dropFirst(run.count)
            }
            return inserted
        }

        /// Drops the entries an append put at k = 0 before one of its entries was found taken:
        /// each by its key, and only if it names a seq past the head, which no entry before did.
        /// (By a range of seqs, each was a pass over the stream's entries.)
        private func forget(_ entries: [(hash: Int64, seq: Int64)]) throws {
            let delete = try RawStatement(cached: db, sql: "DELETE FROM event_ids WHERE stream = ? AND id_hash = ? AND n = ? AND seq = ?")
            for entry in entries {
                bindId(entry.hash, 0, to: delete, from: 1, seq: entry.seq)
                _ = try delete.run()
            }
        }

        /// Inserts events whose entries are in, numbered from `first`: `runLength` a statement, the
        /// rest a row at a time.
        private mutating func insertEvents(_ items: ArraySlice<AccountEvent>, from first: Int64) throws {
            let runs = try insertRun ?? RawStatement(cached: db, sql: Self.insertInto + Array(repeating: Self.row, count: Self.runLength).joined(separator: ", "))
            insertRun = runs
            _ = try Self.insert(items.count, runs: runs, one: insert) { k, statement, j in
                bind(items[items.startIndex + k].event, to: statement, from: j * 11 + 1, seq: first + Int64(k))
            }
            stored.append(contentsOf: items.enumerated().map { StoredEvent(seq: first + Int64($0), event: $1.event) })
            head.lastSeq += Int64(items.count)
            head.appended = true
        }

        /// Inserts `count` rows, `runLength` a statement through `runs` and the rest one at a time
        /// through `one`; `bind(k, statement, j)` binds row k as the statement's j-th. Returns the
        /// rows inserted.
        private static func insert(_ count: Int, runs: RawStatement, one: RawStatement,
                                   _ bind: (_ k: Int, _ statement: RawStatement, _ j: Int32) -> Void) throws -> Int {
            var inserted = 0
            var k = 0
            while k < count {
                let (statement, n) = count - k >= runLength ? (runs, runLength) : (one, 1)
                for j in 0..<n { bind(k + j, statement, Int32(j)) }
                inserted += try statement.run()
                k += n
            }
            return inserted
        }

        private mutating func useHead(of item: AccountEvent) throws {
            guard key?.tenantId != item.tenantId || key?.accountId != item.accountId else { return }
            setAside()
            let next = AccountKey(tenantId: item.tenantId, accountId: item.accountId)
            head = try heads[next] ?? Head.load(next, db)
            key = next
        }

        /// Puts the current account's head and appended events with the others'.
        private mutating func setAside() {
            guard let key else { return }
            heads[key] = head
            if !stored.isEmpty { appended[key, default: []] += stored }
            stored = []
        }

        private func bindId(_ hash: Int64, _ n: Int, to statement: RawStatement, from first: Int32, seq: Int64) {
            statement.bind(first, head.stream)
            statement.bind(first + 1, hash)
            statement.bind(first + 2, Int64(n))
            statement.bind(first + 3, seq)
        }

        private func bind(_ e: FanEvent, to statement: RawStatement, from first: Int32, seq: Int64) {
            statement.bind(first, head.stream)
            statement.bind(first + 1, seq)
            statement.bind(first + 2, e.id)
            statement.bind(first + 3, EventCodes.kinds.number(e.kind))
            statement.bind(first + 4, e.openId)
            statement.bind(first + 5, e.occurredAt)
            statement.bind(first + 6, EventCodes.domains.number(e.domain))
            statement.bind(first + 7, EventCodes.channels.number(e.channel))
            statement.bind(first + 8, e.amount)
            statement.bind(first + 9, e.ref)
            statement.bind(first + 10, e.attributes.isEmpty ? nil : EventAttributes.encode(e.attributes))
        }

        /// Records each account's last seq; returns the events appended, by account.
        mutating func finish() throws -> [AccountKey: [StoredEvent]] {
            setAside()
            let update = try db.cachedStatement(sql: "UPDATE accounts SET last_seq = ? WHERE tenant_id = ? AND account_id = ?")
            for (key, head) in heads where head.appended { try update.execute(arguments: [head.lastSeq, key.tenantId, key.accountId]) }
            return appended
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
