import FlywheelDomain
import FlywheelStore
import Foundation
import PostgresNIO

/// Segments' full scans, time rechecks, static imports and membership changes on PostgreSQL.
extension PostgresStore {
    public func createStaticSegment(_ segment: Segment, of account: Account, members: [String], cause: String, audit: AuditEntry) async throws -> Segment {
        try await transaction { db in
            var segment = segment
            segment.predicate = nil
            segment.state = .ready
            let key: [Cell] = [.text(account.tenantId), .text(account.id)]
            _ = try await self.sql.rows(db, SegmentSQL.insert(segment))
            let fans = try await self.sql.rows(db, "SELECT open_id FROM fans WHERE tenant_id = $1 AND account_id = $2 AND open_id = ANY($3) ORDER BY open_id",
                                               key.binds + [.texts(Array(Set(members)))]).map { try $0.text(0) }
            try await self.apply(fans.map {
                SegmentChange(segmentId: segment.id, openId: $0, entered: true, at: segment.createdAt, cause: cause, causeSeq: 0)
            }, of: account, db)
            segment.size = fans.count
            try await self.record(audit, db)
            return segment
        }
    }

    func segments(of account: Account, _ db: PostgresConnection) async throws -> [Segment] {
        // A segment this build cannot read is left out rather than stopping the account (SegmentRows.all).
        try await sql.rows(db, SegmentSQL.all(of: account)).compactMap { try? SegmentSQL.segment($0) }
    }

    public func buildSegment(id: String, of account: Account, now: Int64) async throws -> Segment {
        let calendar = account.calendar
        return try await transaction { db in
            let key: [Cell] = [.text(account.tenantId), .text(account.id)]
            // Hold the account's projection: no batch commits between the scan and `ready`.
            try await self.sql.run(db, "SELECT last_seq FROM projection_checkpoints WHERE tenant_id = $1 AND account_id = $2 FOR UPDATE", key.binds)
            guard var segment = try await self.sql.rows(db, SegmentSQL.one(id: id, of: account)).first.map(SegmentSQL.segment) else {
                throw StoreError.notFound("segment \(id)")
            }
            guard let predicate = segment.predicate else { return segment }
            let compiled = PredicateSQL(predicate, calendar: calendar, now: now, dialect: .postgres, firstParameter: 5)
            try await self.sql.run(db, "DELETE FROM segment_members WHERE tenant_id = $1 AND account_id = $2 AND segment_id = $3 RETURNING open_id", (key + [.text(id)]).binds)
            segment.size = try await self.sql.run(db, """
                INSERT INTO segment_members (tenant_id, account_id, segment_id, open_id, since)
                SELECT tenant_id, account_id, $3, open_id, $4 FROM fans WHERE tenant_id = $1 AND account_id = $2 AND \(compiled.condition)
                RETURNING open_id
                """, (key + [.text(id), .int(now)] + compiled.binds).binds)
            segment.state = .ready
            segment.failure = nil
            segment.updatedAt = now
            try await self.sql.run(db, "UPDATE segments SET state = 'ready', failure = NULL, size = $4, updated_at = $5, checked_at = $5 WHERE tenant_id = $1 AND account_id = $2 AND segment_id = $3 RETURNING size",
                                   (key + [.text(id), .int(Int64(segment.size)), .int(now)]).binds)
            return segment
        }
    }

    public func recheckSegments(of account: Account, now: Int64,
                                evaluate: @Sendable ([Segment], [FanState], [String: Set<String>]) -> [SegmentChange]) async throws -> Int {
        try await transaction { db in
            let key: [Cell] = [.text(account.tenantId), .text(account.id)]
            // Hold the account's projection, as a batch does.
            try await self.sql.run(db, "SELECT last_seq FROM projection_checkpoints WHERE tenant_id = $1 AND account_id = $2 FOR UPDATE", key.binds)
            let segments = try await self.segments(of: account, db).filter { $0.state == .ready && !($0.predicate?.windows.isEmpty ?? true) }
            guard !segments.isEmpty else { return 0 }
            var candidates = Set<String>()
            for segment in segments {
                let checked = try await self.sql.rows(db, "SELECT checked_at FROM segments WHERE tenant_id = $1 AND account_id = $2 AND segment_id = $3",
                                                      (key + [.text(segment.id)]).binds).first?.int(0) ?? 0
                for window in segment.predicate?.windows ?? [] {
                    let column = PredicateSQL.column(window.field)
                    for row in try await self.sql.rows(db, "SELECT open_id FROM fans WHERE tenant_id = $1 AND account_id = $2 AND \(column) >= $3 AND \(column) < $4",
                                                       (key + [.int(checked - window.seconds * 1000), .int(now - window.seconds * 1000)]).binds) {
                        candidates.insert(try row.text(0))
                    }
                }
            }
            let ids = Array(candidates)
            var fans: [FanState] = []
            var memberships: [String: Set<String>] = [:]
            if !ids.isEmpty {
                fans = try await self.sql.rows(db, "SELECT \(Self.fanColumns) FROM fans WHERE tenant_id = $1 AND account_id = $2 AND open_id = ANY($3)",
                                               key.binds + [.texts(ids)]).map(FanColumns.fan)
                for row in try await self.sql.rows(db, "SELECT open_id, segment_id FROM segment_members WHERE tenant_id = $1 AND account_id = $2 AND open_id = ANY($3)",
                                                   key.binds + [.texts(ids)]) {
                    memberships[try row.text(0), default: []].insert(try row.text(1))
                }
            }
            let changes = evaluate(segments, fans, memberships)
            try await self.apply(changes, of: account, db)
            try await self.sql.run(db, "UPDATE segments SET checked_at = $3 WHERE tenant_id = $1 AND account_id = $2 AND segment_id = ANY($4) RETURNING segment_id",
                                   key.binds + [.cell(.int(now)), .texts(segments.map(\.id))])
            return changes.count
        }
    }

    func apply(_ changes: [SegmentChange], of account: Account, _ db: PostgresConnection) async throws {
        guard !changes.isEmpty else { return }
        let key: [SQL.Bind] = [.cell(.text(account.tenantId)), .cell(.text(account.id))]
        let entered = changes.filter(\.entered), left = changes.filter { !$0.entered }
        if !entered.isEmpty {
            try await sql.run(db, """
                INSERT INTO segment_members (tenant_id, account_id, segment_id, open_id, since)
                SELECT $1, $2, s, o, t FROM UNNEST($3::text[], $4::text[], $5::bigint[]) AS u(s, o, t)
                ON CONFLICT (tenant_id, account_id, segment_id, open_id) DO UPDATE SET since = EXCLUDED.since
                """, key + [.texts(entered.map(\.segmentId)), .texts(entered.map(\.openId)), .ints(entered.map(\.at))])
        }
        if !left.isEmpty {
            try await sql.run(db, """
                DELETE FROM segment_members m USING UNNEST($3::text[], $4::text[]) AS u(s, o)
                WHERE m.tenant_id = $1 AND m.account_id = $2 AND m.segment_id = u.s AND m.open_id = u.o RETURNING m.open_id
                """, key + [.texts(left.map(\.segmentId)), .texts(left.map(\.openId))])
        }
        try await sql.run(db, """
            INSERT INTO segment_changes (tenant_id, account_id, segment_id, open_id, cause_seq, at, entered, cause)
            SELECT $1, $2, s, o, q, t, e, c FROM UNNEST($3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[]) AS u(s, o, q, t, e, c)
            ON CONFLICT DO NOTHING
            """, key + [.texts(changes.map(\.segmentId)), .texts(changes.map(\.openId)), .ints(changes.map(\.causeSeq)),
                        .ints(changes.map(\.at)), .ints(changes.map { $0.entered ? 1 : 0 }), .texts(changes.map(\.cause))])
        var delta: [String: Int64] = [:]
        for change in changes { delta[change.segmentId, default: 0] += change.entered ? 1 : -1 }
        try await sql.run(db, """
            UPDATE segments SET size = size + u.d, updated_at = $5 FROM UNNEST($3::text[], $4::bigint[]) AS u(s, d)
            WHERE segments.tenant_id = $1 AND segments.account_id = $2 AND segments.segment_id = u.s RETURNING size
            """, key + [.texts(Array(delta.keys)), .ints(Array(delta.values)), .cell(.int(changes[0].at))])
    }
}
