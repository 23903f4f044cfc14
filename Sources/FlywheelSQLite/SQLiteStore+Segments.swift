import FlywheelDomain
import FlywheelStore
import Foundation
import GRDB

/// Segments' full scans, time rechecks and static imports on SQLite.
extension SQLiteStore {
    public func createStaticSegment(_ segment: Segment, of account: Account, members: [String], cause: String, audit: AuditEntry) async throws -> Segment {
        try await write { db in
            var segment = segment
            segment.predicate = nil
            segment.state = .ready
            _ = try SQLiteRunner.rows(SegmentSQL.insert(segment), db)
            let fans = try FanRows.existing(account, openIds: Set(members), db)
            try SegmentRows.apply(fans.sorted().map {
                SegmentChange(segmentId: segment.id, openId: $0, entered: true, at: segment.createdAt, cause: cause, causeSeq: 0)
            }, of: account, db)
            segment.size = fans.count
            try Self.record(audit, db)
            return segment
        }
    }

    public func buildSegment(id: String, of account: Account, now: Int64) async throws -> Segment {
        let calendar = account.calendar
        // SQLite has one writer: no projection batch can commit between the scan and `ready`.
        return try await write { db in
            let key: StatementArguments = [account.tenantId, account.id, id]
            guard var segment = try SQLiteRunner.rows(SegmentSQL.one(id: id, of: account), db).first.map(SegmentSQL.segment) else {
                throw StoreError.notFound("segment \(id)")
            }
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
}
