import FlywheelDomain
import FlywheelStore
import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// The projector's batches and the quarantine on SQLite.
extension SQLiteStore {
    public func project(_ account: Account, limit: Int, batches: Int, whole: Bool, _ step: @Sendable (ProjectionBatch) throws -> ProjectionResult) async throws -> Int {
        for _ in 0..<3 {
            guard let start = try await pool.read({ [fanCache, held, logTail] db -> Projection.Start? in
                let position = try Projection.checkpoint(of: account, db)
                // A held batch stepped for other journeys than now run is read again.
                if var batch = held.take(account, at: position, limit: limit),
                   try JourneyRows.projection(SQLiteRunner.rows(JourneyRows.launched(account), db)).journeys == batch.prepared.batch.journeys {
                    batch.prepared.head = try EventLog.lastSeq(of: account, db)
                    return .held(batch)
                }
                return try Projection.prepare(account, at: position, limit: limit, whole: whole, known: fanCache, tail: logTail, db).map { .read($0) }
            }) else { return 0 }
            // Held in one variable only: the kept fans are changed in place, never copied.
            var prepared: Projection.Prepared
            var result: ProjectionResult
            var staged: Projection.Staged
            var touched = Set<String>()
            switch consume start {
            case .held(let batch):
                (prepared, result, staged, touched) = (batch.prepared, batch.result, batch.staged, batch.touched)
            case .read(let read):
                prepared = read
                result = try step(prepared.batch)
                staged = Projection.Staged(result, of: prepared)
            }
            var applied = 0
            // The batch that committed last round, let go once the next commit has started: freeing a
            // bulk batch's 250,000 events took 40-50 ms, and the writer waited for it.
            var before: (Projection.Prepared, ProjectionResult, Projection.Staged)?
            for round in 1...max(batches, 1) {
                // Beside an append a whole batch commits once the next is whole too: the last is then
                // read and stepped while the one before it commits. Committed at once, the one before
                // ran between the last appends, and the last was read and stepped after them with the
                // writer idle (about 1.5 s of `bench ingest`). The call without `whole` commits it; a
                // batch held on a head read before the next became whole is taken by the next call.
                if whole, !prepared.nextIsWhole(limit) {
                    held.put(account, Projection.Held(prepared: prepared, result: result, staged: staged, touched: touched, limit: limit))
                    return applied
                }
                let after = prepared.after
                // The commit holds the batch, not the kept fans, which the next batch then changes in place.
                // It starts first: what follows is the next batch's work, done while it commits.
                let (batch, position, writes) = (prepared.batch, prepared.position, staged)
                async let committed = projectionWrite { db in try Projection.commit(batch, at: position, writes, db) }
                _ = before.take()
                let fans = prepared.keptAfter(result)
                // Past the cache's capacity the kept fans are let go when the call ends: it ends here.
                let within = fans.count <= fanCache.capacity
                let kept = Projection.Handover(consume fans)
                touched.formUnion(prepared.batch.fans.keys)
                // While batch N commits, batch N+1 is read, stepped and staged (the other core) from
                // where N leaves the log, its fans and their segments; N+1 commits only if N did. One
                // that fails to read or step is dropped: the next call reads it again and fails alone.
                var next: (Projection.Prepared, ProjectionResult, Projection.Staged)?
                var unstepped: Projection.Prepared?
                if round < batches, limit > 1, within, let stream = prepared.stream {
                    let changes = result.write(SegmentChangesWrite.self)?.changes ?? []
                    if let read = try? await pool.read({ [logTail] db in
                        try Projection.prepare(account, after: after, stream: stream, kept: kept, changes: changes, limit: limit, whole: whole, tail: logTail, db)
                    }) {
                        if let stepped = try? step(read.batch) {
                            next = (read, stepped, Projection.Staged(stepped, of: read))
                        } else {
                            unstepped = read
                        }
                    }
                }
                let done: Int?
                do {
                    done = try await committed
                } catch where applied > 0 {
                    // The batches before committed: they count, and the next call meets this failure alone.
                    return applied
                }
                // Something the batch read moved meanwhile (a rule, a segment, another run): read it
                // again, unless batches before it committed.
                guard let done else { break }
                applied += done
                logTail.release(AccountKey(account), through: after.lastSeq)
                guard let next else {
                    // A batch whose step failed holds the fans kept as N leaves them, and more.
                    fanCache.put(account, unstepped?.kept ?? kept.take(), touched: touched, at: after)
                    // The last is freed beside what follows: the caller (an import's end) does not wait for it.
                    let last = (consume prepared, consume result, consume staged)
                    Task.detached(priority: .utility) { withExtendedLifetime(last) {} }
                    return applied
                }
                before = (prepared, result, staged)
                (prepared, result, staged) = next
            }
            if applied > 0 { return applied }
        }
        // Still moving: read and write under the write lock, where nothing can move.
        // The kept fans come out of the transaction as its only copy, and go to the cache once it committed.
        let done = try await projectionWrite { [fanCache, logTail] db -> (kept: [String: FanState], touched: [String], after: ProjectionPosition, applied: Int)? in
            // Beside an append a whole batch is taken only with the next whole too, as above.
            guard var prepared = try Projection.prepare(account, at: Projection.checkpoint(of: account, db), limit: limit, whole: whole, known: fanCache, tail: logTail, db),
                  !whole || prepared.nextIsWhole(limit) else { return nil }
            let result = try step(prepared.batch)
            let staged = Projection.Staged(result, of: prepared)
            guard let applied = try Projection.commit(prepared.batch, at: prepared.position, staged, db) else { return nil }
            return (prepared.keptAfter(result), Array(prepared.batch.fans.keys), prepared.after, applied)
        }
        guard let done else { return 0 }
        logTail.release(AccountKey(account), through: done.after.lastSeq)
        fanCache.put(account, done.kept, touched: done.touched, at: done.after)
        return done.applied
    }

    /// A projection batch's transaction, with its statement journals in memory. Each many-row
    /// insert journals the pages it changes, to undo itself if a row fails; past 64 KB that journal
    /// went to a temporary file: 1.3 of the 2.06 GB written a million events (BENCHMARKS.md). Only
    /// here: in memory, the writer's large sorts (a GROUP BY over a million rows) ran 20-45% slower.
    private func projectionWrite<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // Through the C API: GRDB refuses statements once the task is cancelled, and this one must
            // run. Outside a transaction, with no temporary tables, setting it does not fail.
            defer { sqlite3_exec(db.sqliteConnection, "PRAGMA temp_store = DEFAULT", nil, nil, nil) }
            var value: T?
            try db.inTransaction {
                value = try body(db)
                return .commit
            }
            // The block ran and committed, or `inTransaction` threw.
            return value!
        }
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
            guard try EventLog.append([AccountEvent(tenantId: account.tenantId, accountId: account.id, event: event)], db, progress: { _ in }).outcome.inserted == 1 else {
                throw StoreError.conflict(field: "seq", "an event with the id \(event.id) is in the log already")
            }
            try db.execute(sql: "DELETE FROM quarantined_events WHERE tenant_id = ? AND account_id = ? AND seq = ?", arguments: key)
            try Self.record(audit, db)
            return try EventLog.lastSeq(of: account, db)
        }
    }
}

/// One projection batch: read and applied outside the write lock (on a snapshot, with the fans
/// kept in memory), then written with the checkpoint in one write transaction, if nothing it read
/// has moved meanwhile. The pure work thus runs beside appends, or the batch before's commit, on
/// the other core.
enum Projection {
    /// A batch read and applied, ready to commit.
    struct Prepared: Sendable {
        var batch: ProjectionBatch
        var position: ProjectionPosition
        /// The account's stream in the log (nil before its first event).
        var stream: Int64?
        /// The fans kept in memory, with the batch's fans read from the database added.
        var kept: [String: FanState]
        /// The log's last seq when the batch was read, beside an append (nil otherwise).
        var head: Int64?

        /// Where the checkpoint stands once the batch commits.
        var after: ProjectionPosition { Projection.position(after: batch, from: position) }

        /// Whether a whole batch of `limit` followed this one when it was read (or the head was read since).
        func nextIsWhole(_ limit: Int) -> Bool { (head ?? .max) - after.lastSeq >= limit }

        /// The kept fans as the batch's result leaves them, taken out so they change in place
        /// (copying every kept fan per batch made live traffic slower as the cache grew).
        mutating func keptAfter(_ result: ProjectionResult) -> [String: FanState] {
            var fans = kept
            kept = [:]
            for case let write as FanStatesWrite in result.writes {
                for fan in write.fans { fans[fan.openId] = fan }
            }
            return fans
        }
    }

    /// A whole batch read and stepped beside a bulk append, waiting to commit until the next is whole.
    struct Held: Sendable {
        var prepared: Prepared
        var result: ProjectionResult
        var staged: Staged
        /// The open_ids of the fans the call's batches touched (the cache lets go of the others when idle).
        var touched: Set<String>
        /// The batch size it was read for: a call for another (the projector trying one event alone) reads its own.
        var limit: Int
    }

    /// Where a call starts: a batch held by the call before, or the batch read at the checkpoint.
    enum Start: Sendable {
        case held(Held)
        case read(Prepared)
    }

    /// The kept fans handed from a committing batch to the next, which takes them once.
    final class Handover: Sendable {
        private let fans: Mutex<[String: FanState]>
        init(_ fans: consuming sending [String: FanState]) { self.fans = Mutex(fans) }
        func take() -> [String: FanState] {
            fans.withLock { fans in
                let taken = fans
                fans = [:]
                return taken
            }
        }
    }

    /// The batch at the checkpoint `position`, with the fans the cache kept there.
    static func prepare(_ account: Account, at position: ProjectionPosition, limit: Int, whole: Bool, known: FanCache, tail: LogTail, _ db: Database) throws -> Prepared? {
        try prepare(account, at: position, rules: SQLiteStore.rules(of: account, db), stream: EventLog.stream(of: account, db), limit: limit, whole: whole, tail: tail, db) {
            known.take(account, at: position)
        }
    }

    /// The batch after one that is committing: from where that one leaves the log, with its fans
    /// (handed over) and its fans' segments as its changes leave them. Nil when nothing follows
    /// or the rules changed meanwhile (that batch reads every fan, so it waits for the checkpoint).
    static func prepare(_ account: Account, after position: ProjectionPosition, stream: Int64, kept: Handover, changes: [SegmentChange],
                        limit: Int, whole: Bool, tail: LogTail, _ db: Database) throws -> Prepared? {
        let rules = try SQLiteStore.rules(of: account, db)
        guard rules.version == position.rulesVersion,
              var next = try prepare(account, at: position, rules: rules, stream: stream, limit: limit, whole: whole, tail: tail, db, kept: kept.take) else { return nil }
        // The snapshot may be from before or after the commit: the changes bring either to after.
        for change in changes where next.batch.fans[change.openId] != nil {
            if change.entered {
                next.batch.memberships[change.openId, default: []].insert(change.segmentId)
            } else if next.batch.memberships[change.openId]?.remove(change.segmentId) != nil, next.batch.memberships[change.openId]?.isEmpty == true {
                next.batch.memberships[change.openId] = nil
            }
        }
        return next
    }

    private static func prepare(_ account: Account, at position: ProjectionPosition, rules: VersionedRules, stream: Int64?, limit: Int, whole: Bool,
                                tail: LogTail, _ db: Database, kept take: () -> [String: FanState]) throws -> Prepared? {
        // The log's head says how many wait, without reading them.
        let head = try EventLog.lastSeq(of: account, db)
        if whole, head - position.lastSeq < limit { return nil }
        let rulesChanged = rules.version != position.rulesVersion
        // The appends' events as they committed, as far back as the tail holds them; any before, from the log.
        let fromTail = tail.take(AccountKey(account), after: position.lastSeq, limit: limit, head: head)
        let (events, unreadable) = fromTail.joined(fromTail.fromLog > 0 ? try readLog(stream: stream, after: position.lastSeq, limit: fromTail.fromLog, db) : ([], []))
        guard !events.isEmpty || !unreadable.isEmpty || rulesChanged else { return nil }

        var kept = rulesChanged ? try FanRows.loadAll(account, db) : take()
        let fans = try rulesChanged ? kept : batchFans(account, touched: events, kept: &kept, db)
        var batch = ProjectionBatch(account: account, rules: rules.rules, rulesVersion: rules.version, rulesChanged: rulesChanged, events: events, fans: fans)
        batch.unreadable = unreadable
        batch.segments = try readySegments(account, db)
        if !batch.segments.isEmpty { batch.memberships = try SegmentRows.memberships(account, openIds: fans.keys, db) }
        (batch.journeys, batch.journeyWaits) = try JourneyRows.projection(SQLiteRunner.rows(JourneyRows.launched(account), db))
        return Prepared(batch: batch, position: position, stream: stream, kept: kept, head: whole ? head : nil)
    }

    private static func readLog(stream: Int64?, after seq: Int64, limit: Int, _ db: Database) throws -> (events: [StoredEvent], unreadable: [QuarantinedEvent]) {
        let select = try RawStatement(cached: db, sql: """
            SELECT \(EventLog.columnList) FROM events WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?
            """)
        select.bind(1, stream ?? 0)
        select.bind(2, seq)
        select.bind(3, Int64(limit))
        return try EventLog.readBatch(select)
    }

    /// A batch's writes as the writer runs them, built before it takes the lock: the statements
    /// of each context, of the segment changes and tier transitions (many rows a statement) and
    /// of the fans' runs of events.
    struct Staged: Sendable {
        enum Write: Sendable {
            case typed(any ProjectionWrite)
            case statements([SQLStatement])
        }

        var writes: [Write]

        init(_ result: ProjectionResult, of prepared: Prepared) {
            let account = prepared.batch.account
            writes = result.writes.map { write in
                switch write {
                case let w as SegmentChangesWrite: .statements(SegmentRows.statements(w.changes, of: account))
                case let w as TierTransitionsWrite: .statements(Projection.statements(w, of: account))
                // Touches come from the batch's events, so the account has a stream (without one the writer refuses them).
                case let w as FanTouchesWrite: prepared.stream.map { .statements(Projection.statements(w, stream: $0)) } ?? .typed(w)
                case let w as any StatementWrite: .statements(w.statements(of: account))
                default: .typed(write)
                }
            }
            if let stream = prepared.stream { writes.append(.statements(FanEventRunRows.statements(FanEventRuns.runs(of: prepared.batch.events), stream: stream))) }
        }
    }

    /// Writes the batch's result and checkpoint; returns the events applied, or nil (nothing
    /// written) when the checkpoint, the rules, the ready segments or the batch's fans'
    /// memberships changed since it was read.
    static func commit(_ batch: ProjectionBatch, at position: ProjectionPosition, _ staged: Staged, _ db: Database) throws -> Int? {
        let account = batch.account
        guard try checkpoint(of: account, db) == position, try SQLiteStore.rules(of: account, db).version == batch.rulesVersion,
              try sameRules(readySegments(account, db), batch.segments),
              try batch.segments.isEmpty || SegmentRows.memberships(account, openIds: batch.fans.keys, db) == batch.memberships else { return nil }
        for write in staged.writes {
            switch write {
            case .typed(let write): try Self.write(write, of: account, db)
            case .statements(let statements): for statement in statements { try RawStatement.run(statement, db) }
            }
        }
        let after = Self.position(after: batch, from: position)
        // Prepared once on the writer: live traffic commits a small batch many times a second.
        try db.cachedStatement(sql: """
            INSERT INTO projection_checkpoints (tenant_id, account_id, last_seq, rules_version) VALUES (?,?,?,?)
            ON CONFLICT DO UPDATE SET last_seq = excluded.last_seq, rules_version = excluded.rules_version
            """).execute(arguments: [account.tenantId, account.id, after.lastSeq, after.rulesVersion])
        return batch.events.count + batch.unreadable.count
    }

    static func position(after batch: ProjectionBatch, from position: ProjectionPosition) -> ProjectionPosition {
        let last = position.lastSeq
        return ProjectionPosition(lastSeq: max(batch.events.last?.seq ?? last, batch.unreadable.last?.seq ?? last), rulesVersion: batch.rulesVersion)
    }

    static func checkpoint(of account: Account, _ db: Database) throws -> ProjectionPosition {
        ProjectionPosition(try SQLiteRunner.rows(ProjectionPosition.query(account), db).first)
    }

    /// Whether two reads of the ready segments hold the same rules (the name too: a funnel stage's
    /// journeys find their segment by it). A segment's size and time of change are not rules: they
    /// move with every batch that changes its members, the batch after's read included.
    private static func sameRules(_ a: [Segment], _ b: [Segment]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.id == $1.id && $0.name == $1.name && $0.predicate == $1.predicate && $0.createdAt == $1.createdAt }
    }

    private static func readySegments(_ account: Account, _ db: Database) throws -> [Segment] {
        try SegmentRows.all(account, db).filter { $0.state == .ready && $0.predicate != nil }
    }

    /// The state of each fan the events touch: kept in memory, or read from the database (and kept).
    private static func batchFans(_ account: Account, touched events: [StoredEvent], kept: inout [String: FanState], _ db: Database) throws -> [String: FanState] {
        let found = FanCache.fans(touchedBy: events, in: kept)
        var fans = found.fans
        for (openId, fan) in try FanRows.load(account, openIds: found.unknown, db) {
            fans[openId] = fan
            kept[openId] = fan
        }
        return fans
    }

    /// A batch's tier transitions, in the log's order (which the change feed their trigger writes
    /// keeps), and its additions to the daily flows.
    static func statements(_ w: TierTransitionsWrite, of account: Account) -> [SQLStatement] {
        let key: [Cell] = [.text(account.tenantId), .text(account.id)]
        let transitions = w.transitions.map { t, causeSeq, _ -> [Cell] in
            [.text(t.openId), .int(causeSeq), .int(t.at), t.from.map { .int(Int64($0.rawValue)) } ?? .null, .int(Int64(t.to.rawValue)), .text(t.cause)]
        }
        return SQLStatement.insert("tier_transitions", key: key, rows: transitions, then: "ON CONFLICT DO NOTHING")
            + w.flows.map { f, n in
                SQLStatement("""
                    INSERT INTO tier_flow_daily (tenant_id, account_id, day, from_tier, to_tier, fans) VALUES (?,?,?,?,?,?)
                    ON CONFLICT DO UPDATE SET fans = fans + excluded.fans
                    """, key + [.int(Int64(f.day)), .int(Int64(f.from?.rawValue ?? -1)), .int(Int64(f.to.rawValue)), .int(Int64(n))])
            }
    }

    /// A batch's touches, keyed by the account's stream.
    static func statements(_ w: FanTouchesWrite, stream: Int64) -> [SQLStatement] {
        SQLStatement.insert("fan_touchpoints", key: [.int(stream)], rows: w.touches.map {
            [.text($0.openId), .int(Int64($0.day)), .int(EventCodes.touchpoints.number($0.touchpoint)), .int($0.firstAt), .int($0.lastAt)]
        }, then: "ON CONFLICT DO UPDATE SET \(FanTouchesWrite.widen)")
    }

    /// The one SQLite writer of each kind of projection write not written as statements.
    static func write(_ write: any ProjectionWrite, of account: Account, _ db: Database) throws {
        switch write {
        case let w as FanStatesWrite:
            try FanRows.save(w.fans, of: account, db)
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
        case let w as QuarantineWrite:
            let quarantine = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO quarantined_events (tenant_id, account_id, seq, event_id, reason, quarantined_at) VALUES (?,?,?,?,?,?)
                """)
            for e in w.events {
                try quarantine.execute(arguments: [account.tenantId, account.id, e.seq, e.eventId, e.reason, e.at])
            }
        default:
            throw StoreError.noWriter("SQLite has no writer for \(type(of: write))")
        }
    }
}

/// Whole batches held beside a bulk append, by account, at most one each: the next call commits
/// it if the checkpoint is still where it starts (else it is let go). One held when an import
/// fails stays until the next call for the account, or until the process (`flywheel import`) ends.
final class HeldBatches: Sendable {
    private let batches = Mutex<[AccountKey: Projection.Held]>([:])

    func take(_ account: Account, at position: ProjectionPosition, limit: Int) -> Projection.Held? {
        batches.withLock { batches in
            let held = batches.removeValue(forKey: AccountKey(account))
            return held?.prepared.position == position && held?.limit == limit ? held : nil
        }
    }

    func put(_ account: Account, _ batch: Projection.Held) { batches.withLock { $0[AccountKey(account)] = batch } }
}
