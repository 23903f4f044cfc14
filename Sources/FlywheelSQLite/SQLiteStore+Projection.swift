import FlywheelDomain
import FlywheelStore
import Foundation
import GRDB

/// The projector's batches and the quarantine on SQLite.
extension SQLiteStore {
    public func project(_ account: Account, limit: Int, _ step: @Sendable (ProjectionBatch) throws -> ProjectionResult) async throws -> Int {
        for _ in 0..<3 {
            guard var prepared = try await pool.read({ [fanCache] db in try Projection.prepare(account, limit: limit, known: fanCache, db) }) else { return 0 }
            let result = try step(prepared.batch)
            // Something the batch read moved meanwhile (a rule, a segment, another run): read it again.
            // The closure holds the batch, not the kept fans, which `keep` then changes in place.
            guard let committed = try await pool.write({ [batch = prepared.batch, position = prepared.position, stream = prepared.stream] db in
                try Projection.commit(batch, at: position, stream: stream, result, db)
            }) else { continue }
            keep(&prepared, committed)
            return committed.applied
        }
        // Still moving: read and write under the write lock, where nothing can move.
        let done = try await pool.write { [fanCache] db -> (Projection.Prepared, Projection.Committed)? in
            guard let prepared = try Projection.prepare(account, limit: limit, known: fanCache, db),
                  let committed = try Projection.commit(prepared.batch, at: prepared.position, stream: prepared.stream, try step(prepared.batch), db) else { return nil }
            return (prepared, committed)
        }
        guard let done else { return 0 }
        var prepared = done.0
        keep(&prepared, done.1)
        return done.1.applied
    }

    /// The batch's fans, changed, join those kept in memory (in place: copying every kept fan per
    /// batch made live traffic slower as the cache grew).
    private func keep(_ prepared: inout Projection.Prepared, _ committed: Projection.Committed) {
        for fan in committed.changed { prepared.kept[fan.openId] = fan }
        fanCache.put(prepared.batch.account, prepared.kept, touched: prepared.batch.fans.keys, at: committed.position)
    }

    public func quarantine(_ account: Account, after lastSeq: Int64, reason: String, at: Int64) async throws -> Bool {
        try await pool.write { db in
            let rules = try Self.rules(of: account, db)
            guard try Projection.checkpoint(of: account, db).lastSeq == lastSeq, rules.version == rules.appliedVersion,
                  let row = try Row.fetchOne(db, sql: """
                    SELECT seq, event_id FROM events WHERE stream = ? AND seq > ? ORDER BY seq LIMIT 1
                    """, arguments: [try EventLog.stream(of: account, db) ?? 0, lastSeq]) else { return false }
            let seq: Int64 = row["seq"]
            try db.execute(sql: """
                INSERT OR IGNORE INTO quarantined_events (tenant_id, account_id, seq, event_id, reason, quarantined_at) VALUES (?,?,?,?,?,?)
                """, arguments: [account.tenantId, account.id, seq, row["event_id"] as String, reason, at])
            try db.execute(sql: """
                INSERT INTO projection_checkpoints (tenant_id, account_id, last_seq, rules_version) VALUES (?,?,?,?)
                ON CONFLICT DO UPDATE SET last_seq = excluded.last_seq
                """, arguments: [account.tenantId, account.id, seq, rules.version])
            return true
        }
    }

    public func retryQuarantined(seq: Int64, of account: Account, check: @Sendable (FanEvent) throws -> Void, audit: AuditEntry) async throws -> Int64 {
        try await pool.write { db in
            let key: StatementArguments = [account.tenantId, account.id, seq]
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM quarantined_events WHERE tenant_id = ? AND account_id = ? AND seq = ?", arguments: key) != nil else {
                throw StoreError.notFound("quarantined event \(seq)")
            }
            let select = try RawStatement(db, sql: "SELECT \(EventLog.columnList) FROM events WHERE stream = ? AND seq = ?")
            select.bind(1, try EventLog.stream(of: account, db) ?? 0)
            select.bind(2, seq)
            guard var event = try EventLog.readBatch(select).events.first?.event else { throw StoreError.corrupt(EventLog.unreadableReason) }
            try check(event)
            event.id = "retry:\(seq)"
            // An event that already has the retry's id was imported by someone else: refuse rather than lose this one.
            guard try EventLog.append([AccountEvent(tenantId: account.tenantId, accountId: account.id, event: event)], db, progress: { _ in }).inserted == 1 else {
                throw StoreError.conflict(field: "seq", "an event with the id \(event.id) is in the log already")
            }
            try db.execute(sql: "DELETE FROM quarantined_events WHERE tenant_id = ? AND account_id = ? AND seq = ?", arguments: key)
            try Self.record(audit, db)
            return try Int64.fetchOne(db, sql: "SELECT last_seq FROM accounts WHERE tenant_id = ? AND account_id = ?",
                                      arguments: [account.tenantId, account.id]) ?? 0
        }
    }
}

/// One projection batch: read and applied outside the write lock (on a snapshot, with the fans
/// kept in memory), then written with the checkpoint in one write transaction, if nothing it read
/// has moved meanwhile. The pure work thus runs beside appends on the other core.
enum Projection {
    /// A batch read and applied, ready to commit.
    struct Prepared {
        var batch: ProjectionBatch
        var position: ProjectionPosition
        /// The account's stream in the log (nil before its first event).
        var stream: Int64?
        /// The fans kept in memory, with the batch's fans read from the database added.
        var kept: [String: FanState]
    }

    static func prepare(_ account: Account, limit: Int, known: FanCache, _ db: Database) throws -> Prepared? {
        let position = try checkpoint(of: account, db)
        let rules = try SQLiteStore.rules(of: account, db)
        let rulesChanged = rules.version != position.rulesVersion
        let select = try RawStatement(cached: db, sql: """
            SELECT \(EventLog.columnList) FROM events WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?
            """)
        let stream = try EventLog.stream(of: account, db)
        select.bind(1, stream ?? 0)
        select.bind(2, position.lastSeq)
        select.bind(3, Int64(limit))
        let (events, unreadable) = try EventLog.readBatch(select)
        guard !events.isEmpty || !unreadable.isEmpty || rulesChanged else { return nil }

        var kept = rulesChanged ? try FanRows.loadAll(account, db) : known.take(account, at: position)
        let fans = try rulesChanged ? kept : batchFans(account, touched: events, kept: &kept, db)
        var batch = ProjectionBatch(account: account, rules: rules.rules, rulesVersion: rules.version, rulesChanged: rulesChanged, events: events, fans: fans)
        batch.unreadable = unreadable
        batch.segments = try readySegments(account, db)
        if !batch.segments.isEmpty { batch.memberships = try SegmentRows.memberships(account, openIds: fans.keys, db) }
        (batch.journeys, batch.journeyWaits) = try JourneyRows.projection(SQLiteRunner.rows(JourneyRows.launched(account), db))
        return Prepared(batch: batch, position: position, stream: stream, kept: kept)
    }

    /// Writes the batch's result and checkpoint; nil (nothing written) when the checkpoint, the
    /// rules, the ready segments or the batch's fans' memberships changed since it was read.
    /// A batch written: the events applied, the fans it changed, the new checkpoint.
    struct Committed {
        var applied: Int
        var changed: [FanState]
        var position: ProjectionPosition
    }

    static func commit(_ batch: ProjectionBatch, at position: ProjectionPosition, stream: Int64?, _ result: ProjectionResult, _ db: Database) throws -> Committed? {
        let account = batch.account
        guard try checkpoint(of: account, db) == position, try SQLiteStore.rules(of: account, db).version == batch.rulesVersion,
              try readySegments(account, db) == batch.segments,
              try batch.segments.isEmpty || SegmentRows.memberships(account, openIds: batch.fans.keys, db) == batch.memberships else { return nil }
        var changed: [FanState] = []
        for write in result.writes {
            try Self.write(write, of: account, db)
            if let fans = write as? FanStatesWrite { changed += fans.fans }
        }
        if let stream { try FanEventRunRows.record(batch.events, stream: stream, db) }
        let last = position.lastSeq
        let after = ProjectionPosition(lastSeq: max(batch.events.last?.seq ?? last, batch.unreadable.last?.seq ?? last), rulesVersion: batch.rulesVersion)
        try db.execute(sql: """
            INSERT INTO projection_checkpoints (tenant_id, account_id, last_seq, rules_version) VALUES (?,?,?,?)
            ON CONFLICT DO UPDATE SET last_seq = excluded.last_seq, rules_version = excluded.rules_version
            """, arguments: [account.tenantId, account.id, after.lastSeq, after.rulesVersion])
        return Committed(applied: batch.events.count + batch.unreadable.count, changed: changed, position: after)
    }

    static func checkpoint(of account: Account, _ db: Database) throws -> ProjectionPosition {
        ProjectionPosition(try SQLiteRunner.rows(ProjectionPosition.query(account), db).first)
    }

    private static func readySegments(_ account: Account, _ db: Database) throws -> [Segment] {
        try SegmentRows.all(account, db).filter { $0.state == .ready && $0.predicate != nil }
    }

    /// The state of each fan the events touch: kept in memory, or read from the database (and kept).
    private static func batchFans(_ account: Account, touched events: [StoredEvent], kept: inout [String: FanState], _ db: Database) throws -> [String: FanState] {
        var fans: [String: FanState] = [:]
        var unknown: Set<String> = []
        for stored in events where fans[stored.event.openId] == nil {
            if let fan = kept[stored.event.openId] { fans[fan.openId] = fan } else { unknown.insert(stored.event.openId) }
        }
        for (openId, fan) in try FanRows.load(account, openIds: unknown, db) {
            fans[openId] = fan
            kept[openId] = fan
        }
        return fans
    }

    /// The one SQLite writer of each kind of projection write.
    static func write(_ write: any ProjectionWrite, of account: Account, _ db: Database) throws {
        switch write {
        case let w as FanStatesWrite:
            try FanRows.save(w.fans, of: account, db)
        case let w as TierTransitionsWrite:
            let transition = try RawStatement(cached: db, sql: """
                INSERT OR IGNORE INTO tier_transitions (tenant_id, account_id, open_id, cause_seq, at, from_tier, to_tier, cause)
                VALUES (?,?,?,?,?,?,?,?)
                """)
            transition.bind(1, account.tenantId)
            transition.bind(2, account.id)
            for (t, causeSeq, _) in w.transitions {
                transition.bind(3, t.openId)
                transition.bind(4, causeSeq)
                transition.bind(5, t.at)
                transition.bind(6, t.from.map { Int64($0.rawValue) })
                transition.bind(7, Int64(t.to.rawValue))
                transition.bind(8, t.cause)
                try transition.run()
            }
            let flow = try db.cachedStatement(sql: """
                INSERT INTO tier_flow_daily (tenant_id, account_id, day, from_tier, to_tier, fans) VALUES (?,?,?,?,?,?)
                ON CONFLICT DO UPDATE SET fans = fans + excluded.fans
                """)
            for (f, n) in w.flows {
                try flow.execute(arguments: [account.tenantId, account.id, f.day, f.from?.rawValue ?? -1, f.to.rawValue, n])
            }
        case let w as FanActionsWrite:
            let action = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO fan_actions (tenant_id, account_id, open_id, cause_seq, at, action, detail) VALUES (?,?,?,?,?,?,?)
                """)
            for a in w.actions {
                try action.execute(arguments: [account.tenantId, account.id, a.openId, a.causeSeq, a.at, a.action, a.detail])
            }
        case let w as ActivityWrite:
            let activity = try db.cachedStatement(sql: """
                INSERT INTO activity_daily (tenant_id, account_id, day, domain, channel, events, new_fans) VALUES (?,?,?,?,?,?,?)
                ON CONFLICT DO UPDATE SET events = events + excluded.events, new_fans = new_fans + excluded.new_fans
                """)
            for (cell, count) in w.cells {
                try activity.execute(arguments: [account.tenantId, account.id, cell.day, cell.domain.rawValue, cell.channel.rawValue, count.events, count.newFans])
            }
        case let w as SegmentChangesWrite:
            try SegmentRows.apply(w.changes, of: account, db)
        case let w as QuarantineWrite:
            let quarantine = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO quarantined_events (tenant_id, account_id, seq, event_id, reason, quarantined_at) VALUES (?,?,?,?,?,?)
                """)
            for e in w.events {
                try quarantine.execute(arguments: [account.tenantId, account.id, e.seq, e.eventId, e.reason, e.at])
            }
        case let w as any StatementWrite:
            for statement in w.statements(of: account) { try RawStatement.run(statement, db) }
        default:
            throw StoreError.noWriter("SQLite has no writer for \(type(of: write))")
        }
    }
}
