import FlywheelDomain
import FlywheelStore
import Foundation
import PostgresNIO

/// Fans read back on PostgreSQL: pages, counts and changes compiled from predicates, one fan, its events.
extension PostgresStore {
    public func fans(of account: Account, matching predicate: FanPredicate?, now: Int64, cursor: String?, limit: Int) async throws -> Page<FanState> {
        let compiled = predicate.map { PredicateSQL($0, calendar: account.calendar, now: now, dialect: .postgres, firstParameter: 4) }
        let binds: [Cell] = [.text(account.tenantId), .text(account.id), .text(cursor ?? "")] + (compiled?.binds ?? []) + [.int(Int64(limit + 1))]
        // open_id is COLLATE "C": byte order, as in SQLite, so cursors page the same on both stores.
        let fans = try await read("""
            SELECT \(Self.fanColumns) FROM fans WHERE tenant_id = $1 AND account_id = $2 AND open_id > $3 AND \(compiled?.condition ?? "TRUE")
            ORDER BY open_id LIMIT $\(binds.count)
            """, binds).map(FanColumns.fan)
        let page = Array(fans.prefix(limit))
        return Page(items: page, nextCursor: fans.count > limit ? page.last?.openId : nil)
    }

    public func countFans(of account: Account, matching predicate: FanPredicate, now: Int64) async throws -> Int {
        let compiled = PredicateSQL(predicate, calendar: account.calendar, now: now, dialect: .postgres, firstParameter: 3)
        let binds: [Cell] = [.text(account.tenantId), .text(account.id)] + compiled.binds
        return Int(try await read("SELECT COUNT(*) FROM fans WHERE tenant_id = $1 AND account_id = $2 AND \(compiled.condition)", binds).first?.int(0) ?? 0)
    }

    public func fansChanged(of account: Account, after seq: Int64, limit: Int) async throws -> [FanState]? {
        let ids = try await read("SELECT DISTINCT open_id FROM events WHERE tenant_id = $1 AND stream = \(Self.stream) AND seq > $3 LIMIT $4",
                                 [.text(account.tenantId), .text(account.id), .int(seq), .int(Int64(limit + 1))]).map { try $0.text(0) }
        guard ids.count <= limit else { return nil }
        return try await read("SELECT \(Self.fanColumns) FROM fans WHERE tenant_id = $1 AND account_id = $2 AND open_id = ANY($3)",
                              binds: [.cell(.text(account.tenantId)), .cell(.text(account.id)), .texts(ids)]).map(FanColumns.fan)
    }

    public func fan(of account: Account, openId: String) async throws -> FanState? {
        try await fans(of: account, openIds: [openId])[openId]
    }

    public func fans(of account: Account, openIds: [String]) async throws -> [String: FanState] {
        let rows = try await read("SELECT \(Self.fanColumns) FROM fans WHERE tenant_id = $1 AND account_id = $2 AND open_id = ANY($3)",
                                  binds: [.cell(.text(account.tenantId)), .cell(.text(account.id)), .texts(openIds)])
        return Dictionary(try rows.map(FanColumns.fan).map { ($0.openId, $0) }) { a, _ in a }
    }

    public func timeline(of account: Account, openId: String, limit: Int) async throws -> [StoredEvent] {
        let key: [Cell] = [.text(account.tenantId), .text(account.id)]
        let checkpoint = "COALESCE((SELECT last_seq FROM projection_checkpoints WHERE tenant_id = $1 AND account_id = $2), 0)"
        // Events not yet projected come from the log's tail; the rest through the runs.
        var events = try await read("""
            SELECT \(Self.eventColumns) FROM events WHERE tenant_id = $1 AND stream = \(Self.stream) AND seq > \(checkpoint) AND open_id = $3
            ORDER BY seq DESC LIMIT $4
            """, key + [.text(openId), .int(Int64(limit))]).map(Self.storedEvent)
        guard events.count < limit else { return events }
        let runs = try await read("""
            SELECT seqs FROM fan_event_runs WHERE tenant_id = $1 AND stream = \(Self.stream) AND open_id = $3 ORDER BY first_seq DESC
            """, key + [.text(openId)]).map { try $0.text(0) }
        let seqs = FanEventRuns.latest(runs, limit: limit - events.count).filter { $0 < events.last?.seq ?? .max }
        guard !seqs.isEmpty else { return events }
        events += try await read("""
            SELECT \(Self.eventColumns) FROM events WHERE tenant_id = $1 AND stream = \(Self.stream) AND seq = ANY($3)
            """, binds: key.map(SQL.Bind.cell) + [.ints(seqs)]).map(Self.storedEvent)
        // The statements see the log a moment apart: order once more, newest first.
        return Array(events.sorted { $0.seq > $1.seq }.prefix(limit))
    }
}
