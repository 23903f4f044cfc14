import FlywheelDomain
import FlywheelStore
import Foundation
import GRDB

/// Fans read back on SQLite: pages, counts and changes compiled from predicates, one fan, its events.
extension SQLiteStore {
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
            let ids = try String.fetchAll(db, sql: "SELECT DISTINCT open_id FROM events WHERE stream = ? AND seq > ? LIMIT ?",
                                          arguments: [try EventLog.stream(of: account, db) ?? 0, seq, limit + 1])
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
        try await fans(of: account, openIds: [openId])[openId]
    }

    public func fans(of account: Account, openIds: [String]) async throws -> [String: FanState] {
        try await pool.read { db in try FanRows.load(account, openIds: openIds, db) }
    }

    public func timeline(of account: Account, openId: String, limit: Int) async throws -> [StoredEvent] {
        try await pool.read { db in
            guard let stream = try EventLog.stream(of: account, db) else { return [] }
            return try FanEventRunRows.latest(openId, stream: stream, after: Projection.checkpoint(of: account, db).lastSeq, limit: limit, db)
        }
    }
}
