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

    /// The segments each of the given fans belongs to.
    static func memberships(_ account: Account, openIds: some Sequence<String>, _ db: Database) throws -> [String: Set<String>] {
        let select = try RawStatement(cached: db, sql: "SELECT segment_id FROM segment_members WHERE tenant_id = ? AND account_id = ? AND open_id = ?")
        select.bind(1, account.tenantId)
        select.bind(2, account.id)
        var memberships: [String: Set<String>] = [:]
        for openId in openIds {
            select.bind(3, openId)
            while try select.next() {
                if let segment = select.text(0) { memberships[openId, default: []].insert(segment) }
            }
        }
        return memberships
    }

    static func apply(_ changes: [SegmentChange], of account: Account, _ db: Database) throws {
        guard !changes.isEmpty else { return }
        let enter = try RawStatement(cached: db, sql: "INSERT OR REPLACE INTO segment_members (tenant_id, account_id, segment_id, open_id, since) VALUES (?,?,?,?,?)")
        let leave = try RawStatement(cached: db, sql: "DELETE FROM segment_members WHERE tenant_id = ? AND account_id = ? AND segment_id = ? AND open_id = ?")
        let history = try RawStatement(cached: db, sql: """
            INSERT OR IGNORE INTO segment_changes (tenant_id, account_id, segment_id, open_id, cause_seq, at, entered, cause) VALUES (?,?,?,?,?,?,?,?)
            """)
        var delta: [String: Int] = [:]
        // In key order: each row then lands beside the one before it in the B-trees.
        for change in changes.sorted(by: { ($0.segmentId, $0.openId) < ($1.segmentId, $1.openId) }) {
            let target = change.entered ? enter : leave
            target.bind(1, account.tenantId)
            target.bind(2, account.id)
            target.bind(3, change.segmentId)
            target.bind(4, change.openId)
            if change.entered { target.bind(5, change.at) }
            try target.run()
            history.bind(1, account.tenantId)
            history.bind(2, account.id)
            history.bind(3, change.segmentId)
            history.bind(4, change.openId)
            history.bind(5, change.causeSeq)
            history.bind(6, change.at)
            history.bind(7, Int64(change.entered ? 1 : 0))
            history.bind(8, change.cause)
            try history.run()
            delta[change.segmentId, default: 0] += change.entered ? 1 : -1
        }
        for (segment, n) in delta {
            try db.execute(sql: "UPDATE segments SET size = size + ?, updated_at = ? WHERE tenant_id = ? AND account_id = ? AND segment_id = ?",
                           arguments: [n, changes[0].at, account.tenantId, account.id, segment])
        }
    }
}
