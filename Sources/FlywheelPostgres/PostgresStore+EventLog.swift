import FlywheelDomain
import FlywheelStore
import Foundation
import PostgresNIO

/// The event log on PostgreSQL: deliveries and appends, serialized per account on its row.
extension PostgresStore {
    /// All deliveries in one statement, then their events in one append: a handful of round
    /// trips per group commit, however many deliveries it carries.
    public func ingest(_ deliveries: [IncomingDelivery]) async throws -> [DeliveryOutcome] {
        let (outcomes, appended) = try await transaction { db in
            let d = deliveries.map(\.delivery)
            let stored = try await self.sql.rows(db, """
                INSERT INTO webhook_deliveries (tenant_id, app_id, msg_id, event, account_id, received_at, body)
                SELECT t, a, m, e, NULLIF(c, ''), r, b
                FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[]) AS u(t, a, m, e, c, r, b)
                ON CONFLICT DO NOTHING RETURNING tenant_id, app_id, msg_id
                """, [.texts(d.map(\.tenantId)), .texts(d.map(\.appId)), .texts(d.map(\.msgId)), .texts(d.map(\.event)),
                      .texts(d.map { $0.accountId ?? "" }), .ints(d.map(\.receivedAt)), .texts(d.map(\.body))])  // "" becomes NULL
            var fresh = Set(try stored.map { "\(try $0.text(0))\u{1F}\(try $0.text(1))\u{1F}\(try $0.text(2))" })
            // Events already in the log (one query an account), so each delivery counts only what it adds.
            var known: [AccountKey: Set<String>] = [:]
            let byAccount = Dictionary(grouping: deliveries.filter { $0.delivery.accountId != nil }) {
                AccountKey(tenantId: $0.delivery.tenantId, accountId: $0.delivery.accountId ?? "")
            }
            for (key, group) in byAccount {
                known[key] = Set(try await self.idsInLog(group.flatMap { $0.events.map(\.id) }, tenantId: key.tenantId, stream: Self.stream,
                                                          key: .text(key.accountId), db))
            }
            var outcomes: [DeliveryOutcome] = []
            var events: [AccountEvent] = []
            for incoming in deliveries {
                let delivery = incoming.delivery
                // The first of several deliveries with one Msg-Id in this batch is the one stored.
                guard fresh.remove("\(delivery.tenantId)\u{1F}\(delivery.appId)\u{1F}\(delivery.msgId)") != nil else {
                    outcomes.append(.duplicate)
                    continue
                }
                guard let accountId = delivery.accountId else {
                    outcomes.append(.stored(events: 0))
                    continue
                }
                let key = AccountKey(tenantId: delivery.tenantId, accountId: accountId)
                let added = incoming.events.filter { known[key, default: []].insert($0.id).inserted }
                events += added.map { AccountEvent(tenantId: delivery.tenantId, accountId: accountId, event: $0) }
                outcomes.append(.stored(events: added.count))
            }
            return (outcomes, try await self.append(events, db, progress: { _ in }).appended)
        }
        logTail.committed(appended)
        keepStatistics(after: outcomes.count)
        return outcomes
    }

    public func append(_ events: [AccountEvent], progress: @Sendable (Int) -> Void) async throws -> AppendOutcome {
        let (outcome, appended) = try await transaction { db in try await self.append(events, db, progress: progress) }
        logTail.committed(appended)
        keepStatistics(after: outcome.inserted)
        return outcome
    }

    /// Appends under each account's row lock, skipping ids already in the log (or earlier in the
    /// batch), so sequence numbers stay dense and in arrival order; returns the events appended,
    /// by account: the log's tail once the transaction commits.
    func append(_ events: [AccountEvent], _ db: PostgresConnection, progress: (Int) -> Void) async throws -> (outcome: AppendOutcome, appended: [AccountKey: [StoredEvent]]) {
        var order: [String] = []
        var byAccount: [String: (tenantId: String, events: [FanEvent])] = [:]
        for item in events {
            if byAccount[item.accountId] == nil {
                order.append(item.accountId)
                byAccount[item.accountId] = (item.tenantId, [])
            }
            byAccount[item.accountId]?.events.append(item.event)
        }
        var inserted = 0, done = 0
        var appended: [AccountKey: [StoredEvent]] = [:]
        for accountId in order {
            guard let (tenantId, list) = byAccount[accountId] else { continue }
            // NO KEY: appends serialize on the row, but do not wait for transactions whose rows refer to
            // the account (each foreign key check holds a key share of it until its commit: a projection batch).
            guard let last = try await sql.rows(db, "SELECT last_seq FROM accounts WHERE tenant_id = $1 AND account_id = $2 FOR NO KEY UPDATE",
                                                [.text(tenantId), .text(accountId)].binds).first?.int(0) else {
                throw StoreError.notFound("account \(accountId)")
            }
            let stream = try await self.stream(tenantId: tenantId, accountId: accountId, db)
            var seen = Set<String>()
            var fresh: [FanEvent] = []
            for start in stride(from: 0, to: list.count, by: 10_000) {
                let chunk = list[start..<min(start + 10_000, list.count)]
                seen.formUnion(try await idsInLog(chunk.map(\.id), tenantId: tenantId, stream: "$2", key: .int(stream), db))
                fresh += chunk.filter { seen.insert($0.id).inserted }
                done += chunk.count
                progress(done)
            }
            let first = last + 1
            if !fresh.isEmpty {
                // COPY streams the rows while the server writes them: a quarter of the time of one UNNEST insert.
                // In the order of their ids, numbered in the order they came: the id index then takes
                // its new keys in order, not all over its pages (BENCHMARKS.md).
                let byId = fresh.indices.sorted { fresh[$0].id.utf8.lexicographicallyPrecedes(fresh[$1].id.utf8) }
                try await db.copyFrom(table: "events", columns: Self.copiedEventColumns, logger: sql.logger) { writer in
                    var rows = ByteBuffer()
                    for i in byId {
                        let event = fresh[i]
                        CopyText.row([tenantId, String(stream), String(first + Int64(i)), event.id, String(EventCodes.kinds.number(event.kind)), event.openId,
                                      String(event.occurredAt), String(EventCodes.domains.number(event.domain)),
                                      String(EventCodes.channels.number(event.channel)), String(event.amount), event.ref,
                                      event.attributes.isEmpty ? nil : EventAttributes.encode(event.attributes)], into: &rows)
                        if rows.readableBytes > 1 << 20 {
                            try await writer.write(rows)
                            rows.clear()
                        }
                    }
                    if rows.readableBytes > 0 { try await writer.write(rows) }
                }
                appended[AccountKey(tenantId: tenantId, accountId: accountId), default: []] += fresh.enumerated().map { StoredEvent(seq: first + Int64($0.offset), event: $0.element) }
                inserted += fresh.count
            }
            let seq = last + Int64(fresh.count)
            try await sql.run(db, "UPDATE accounts SET last_seq = $1 WHERE tenant_id = $2 AND account_id = $3 RETURNING last_seq",
                              [.int(seq), .text(tenantId), .text(accountId)].binds)
        }
        return (AppendOutcome(inserted: inserted, duplicates: events.count - inserted), appended)
    }

    /// Those of `ids` already in an account's log: tenant $1, `stream` the SQL that names the
    /// stream from $2 (`key`). For a long list the planner scanned the whole log instead of
    /// probing the id index (169 ms scanning, 41 ms through the index, for 10,000 new ids beside
    /// 1,000,000 events), so sequential scans are then off for the rest of the transaction.
    private func idsInLog(_ ids: [String], tenantId: String, stream: String, key: Cell, _ db: PostgresConnection) async throws -> [String] {
        if ids.count > 1_000 { try await sql.run(db, "SET LOCAL enable_seqscan = off") }
        return try await sql.rows(db, "SELECT event_id FROM events WHERE tenant_id = $1 AND stream = \(stream) AND event_id = ANY($3)",
                                  [.cell(.text(tenantId)), .cell(key), .texts(ids)]).map { try $0.text(0) }
    }

    static let copiedEventColumns = ["tenant_id", "stream", "seq", "event_id", "kind", "open_id", "occurred_at", "domain", "channel", "amount", "ref", "attributes"]

    /// The account's stream in the log, numbered when its first event is appended.
    private func stream(tenantId: String, accountId: String, _ db: PostgresConnection) async throws -> Int64 {
        let key: [Cell] = [.text(tenantId), .text(accountId)]
        try await sql.run(db, "INSERT INTO event_streams (tenant_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING stream", key.binds)
        guard let stream = try await sql.rows(db, "SELECT stream FROM event_streams WHERE tenant_id = $1 AND account_id = $2", key.binds).first?.int(0) else {
            throw StoreError.notFound("account \(accountId)")
        }
        return stream
    }
}

/// Rows in `COPY ... FROM STDIN` text format: tab between values, `\N` for NULL, and the backslash,
/// tab, newline and carriage return inside a value escaped.
enum CopyText {
    static func row(_ values: [String?], into buffer: inout ByteBuffer) {
        for (i, value) in values.enumerated() {
            if i > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            guard let value else {
                buffer.writeStaticString("\\N")
                continue
            }
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                default: buffer.writeInteger(byte)
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }
}

extension PostgresStore {
    public func loggedEvents(of account: Account, after seq: Int64, limit: Int) async throws -> [StoredEvent] {
        try await client.withConnection { db in
            try await self.sql.rows(db, """
                SELECT \(Self.eventColumns) FROM events WHERE tenant_id = $1 AND stream = \(Self.stream) AND seq > $3 ORDER BY seq LIMIT $4
                """, ([.text(account.tenantId), .text(account.id), .int(seq), .int(Int64(limit))] as [Cell]).binds).compactMap { try? Self.storedEvent($0) }
        }
    }
}
