import FlywheelDomain
import FlywheelStore
import GRDB

/// Segments, their members and their history in SQLite.
enum SegmentRows {
    /// The account's segments that can be read: one whose predicate this build refuses (saved before
    /// a limit tightened) is left out of the batch rather than stopping the account's projection.
    static func all(_ account: Account, _ db: Database) throws -> [Segment] {
        try SQLiteRunner.rows(SegmentSQL.all(of: account), db).compactMap { try? SegmentSQL.segment($0) }
    }

    /// The segments each of the given fans belongs to. When they are about as many as the
    /// account's members, one pass over the account's members (a range of the key) reads them: a
    /// bulk batch's 48,000 lookups took 60-90 ms of its commit's writer, the pass over 32,000
    /// members 8 ms.
    static func memberships(_ account: Account, openIds: some Collection<String>, _ db: Database) throws -> [String: Set<String>] {
        var memberships: [String: Set<String>] = [:]
        let members = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM segments WHERE tenant_id = ? AND account_id = ?",
                                       arguments: [account.tenantId, account.id]) ?? 0
        if members <= 2 * openIds.count {
            let select = try RawStatement(cached: db, sql: "SELECT segment_id, open_id FROM segment_members WHERE tenant_id = ? AND account_id = ?")
            select.bind(1, account.tenantId)
            select.bind(2, account.id)
            while try select.next() {
                if let openId = select.text(1), openIds.contains(openId), let segment = select.text(0) { memberships[openId, default: []].insert(segment) }
            }
            return memberships
        }
        let select = try RawStatement(cached: db, sql: "SELECT segment_id FROM segment_members WHERE tenant_id = ? AND account_id = ? AND open_id = ?")
        select.bind(1, account.tenantId)
        select.bind(2, account.id)
        for openId in openIds {
            select.bind(3, openId)
            while try select.next() {
                if let segment = select.text(0) { memberships[openId, default: []].insert(segment) }
            }
        }
        return memberships
    }

    static func apply(_ changes: [SegmentChange], of account: Account, _ db: Database) throws {
        for statement in statements(changes, of: account) { try RawStatement.run(statement, db) }
    }

    /// The changes' writes: members who entered (many rows a statement) and who left (few, one by
    /// one), the history, the sizes. In key order, so each row lands beside the one before it.
    static func statements(_ changes: [SegmentChange], of account: Account) -> [SQLStatement] {
        guard let at = changes.first?.at else { return [] }
        let key: [Cell] = [.text(account.tenantId), .text(account.id)]
        let sorted = changes.sorted { ($0.segmentId, $0.openId) < ($1.segmentId, $1.openId) }
        var delta: [String: Int64] = [:]
        for change in sorted { delta[change.segmentId, default: 0] += change.entered ? 1 : -1 }
        return SQLStatement.insert("segment_members", key: key, rows: sorted.filter(\.entered).map { [.text($0.segmentId), .text($0.openId), .int($0.at)] },
                                   then: "ON CONFLICT DO UPDATE SET since = excluded.since")
            + sorted.filter { !$0.entered }.map {
                SQLStatement("DELETE FROM segment_members WHERE tenant_id = ? AND account_id = ? AND segment_id = ? AND open_id = ?", key + [.text($0.segmentId), .text($0.openId)])
            }
            + SQLStatement.insert("segment_changes", key: key, rows: sorted.map {
                [.text($0.segmentId), .text($0.openId), .int($0.causeSeq), .int($0.at), .int($0.entered ? 1 : 0), .text($0.cause)]
            }, then: "ON CONFLICT DO NOTHING")
            + delta.sorted { $0.key < $1.key }.map {
                SQLStatement("UPDATE segments SET size = size + ?, updated_at = ? WHERE tenant_id = ? AND account_id = ? AND segment_id = ?",
                             [.int($0.value), .int(at)] + key + [.text($0.key)])
            }
    }
}
