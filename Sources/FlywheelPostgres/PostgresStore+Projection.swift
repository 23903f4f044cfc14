import FlywheelDomain
import FlywheelStore
import Foundation
import PostgresNIO

/// The projector's batches, its writers and the quarantine on PostgreSQL.
extension PostgresStore {
    public func project(_ account: Account, limit: Int, batches: Int, whole: Bool, _ step: @Sendable (ProjectionBatch) throws -> ProjectionResult) async throws -> Int {
        var applied = 0
        for _ in 0..<max(batches, 1) {
            let n = try await project(account, limit: limit, whole: whole, step)
            applied += n
            // A short batch was the last there was.
            if n == 0 || n < limit { break }
        }
        return applied
    }

    /// One batch, read, stepped and written in one transaction.
    private func project(_ account: Account, limit: Int, whole: Bool, _ step: @Sendable (ProjectionBatch) throws -> ProjectionResult) async throws -> Int {
        let committed: (applied: Int, fans: [String: FanState], touched: [String], position: ProjectionPosition)? = try await transaction { db in
            let key: [Cell] = [.text(account.tenantId), .text(account.id)]
            // Another process holding this account's checkpoint is projecting it: leave it be, and
            // let go of the events this process appended to it. The log's head comes in the same
            // round trip: it says how many wait, without reading them.
            guard let checkpoint = try await self.sql.rows(db, """
                SELECT c.last_seq, c.rules_version, a.last_seq FROM projection_checkpoints c JOIN accounts a USING (tenant_id, account_id)
                WHERE c.tenant_id = $1 AND c.account_id = $2 FOR UPDATE OF c SKIP LOCKED
                """, key.binds).first else {
                self.logTail.forget(AccountKey(account))
                return nil
            }
            let position = ProjectionPosition(lastSeq: try checkpoint.int(0), rulesVersion: Int(try checkpoint.int(1)))
            // Read in the statement's snapshot, the head can be behind a checkpoint another process
            // advanced meanwhile: the tail then gives nothing and the batch reads the log.
            let head = try checkpoint.int(2)
            // Beside an append a whole batch is taken once the next is whole too, as on SQLite (which steps it meanwhile).
            if whole, head - position.lastSeq < 2 * limit { return nil }
            let rules = try await self.rules(of: account, db)
            let rulesChanged = rules.version != position.rulesVersion
            // The appends' events as they committed, as far back as the tail holds them; any before, from the log.
            let fromTail = self.logTail.take(AccountKey(account), after: position.lastSeq, limit: limit, head: head)
            var read: (events: [StoredEvent], unreadable: [QuarantinedEvent]) = ([], [])
            for row in fromTail.fromLog > 0 ? try await self.sql.rows(db, """
                SELECT \(Self.eventColumns) FROM events WHERE tenant_id = $1 AND stream = \(Self.stream) AND seq > $3 ORDER BY seq LIMIT $4
                """, (key + [.int(position.lastSeq), .int(Int64(fromTail.fromLog))]).binds) : [] {
                do {
                    read.events.append(try Self.storedEvent(row))
                } catch {
                    read.unreadable.append(QuarantinedEvent(seq: row[0].int ?? 0, eventId: row[1].text ?? "", reason: "\(error)", at: 0))
                }
            }
            let (events, unreadable) = fromTail.joined(read)
            guard !events.isEmpty || !unreadable.isEmpty || rulesChanged else { return nil }
            // Fans this process kept from its last batch are current if the checkpoint is where that batch left it.
            var kept = rulesChanged ? [:] : self.fanCache.take(account, at: position)
            let found = FanCache.fans(touchedBy: events, in: kept)
            var fans = found.fans
            let fanRows = rulesChanged
                ? try await self.sql.rows(db, "SELECT \(Self.fanColumns) FROM fans WHERE tenant_id = $1 AND account_id = $2", key.binds)
                : found.unknown.isEmpty ? []
                : try await self.sql.rows(db, "SELECT \(Self.fanColumns) FROM fans WHERE tenant_id = $1 AND account_id = $2 AND open_id = ANY($3)",
                                          key.binds + [.texts(Array(found.unknown))])
            for row in fanRows {
                let fan = try FanColumns.fan(from: row)
                fans[fan.openId] = fan
                kept[fan.openId] = fan
            }
            var batch = ProjectionBatch(account: account, rules: rules.rules, rulesVersion: rules.version, rulesChanged: rulesChanged, events: events, fans: fans)
            batch.unreadable = unreadable
            batch.segments = try await self.segments(of: account, db).filter { $0.state == .ready && $0.predicate != nil }
            if !batch.segments.isEmpty {
                for row in try await self.sql.rows(db, "SELECT open_id, segment_id FROM segment_members WHERE tenant_id = $1 AND account_id = $2 AND open_id = ANY($3)",
                                                   key.binds + [.texts(Array(fans.keys))]) {
                    batch.memberships[try row.text(0), default: []].insert(try row.text(1))
                }
            }
            (batch.journeys, batch.journeyWaits) = try JourneyRows.projection(try await self.sql.rows(db, JourneyRows.launched(account)))
            for write in try step(batch).writes {
                try await self.write(write, of: account, db)
                if let changed = write as? FanStatesWrite {
                    for fan in changed.fans { kept[fan.openId] = fan }
                }
            }
            let runs = FanEventRuns.runs(of: events)
            if !runs.isEmpty {
                try await self.sql.run(db, """
                    INSERT INTO fan_event_runs (tenant_id, stream, open_id, first_seq, seqs)
                    SELECT $1, \(Self.stream), o, f, s FROM UNNEST($3::text[], $4::bigint[], $5::text[]) AS u(o, f, s) ON CONFLICT DO NOTHING
                    """, key.map(SQL.Bind.cell) + [.texts(runs.map(\.openId)), .ints(runs.map(\.firstSeq)), .texts(runs.map(\.seqs))])
            }
            let after = ProjectionPosition(lastSeq: max(events.last?.seq ?? position.lastSeq, unreadable.last?.seq ?? position.lastSeq), rulesVersion: rules.version)
            try await self.sql.run(db, """
                UPDATE projection_checkpoints SET last_seq = $3, rules_version = $4 WHERE tenant_id = $1 AND account_id = $2 RETURNING last_seq
                """, (key + [.int(after.lastSeq), .int(Int64(after.rulesVersion))]).binds)
            return (events.count + unreadable.count, kept, Array(fans.keys), after)
        }
        guard let committed else { return 0 }
        logTail.release(AccountKey(account), through: committed.position.lastSeq)
        fanCache.put(account, committed.fans, touched: committed.touched, at: committed.position)
        return committed.applied
    }

    public func quarantine(_ account: Account, after lastSeq: Int64, reason: String, at: Int64) async throws -> Bool {
        try await transaction { db in
            let key: [Cell] = [.text(account.tenantId), .text(account.id)]
            guard let checkpoint = try await self.sql.rows(db, """
                SELECT last_seq, rules_version FROM projection_checkpoints WHERE tenant_id = $1 AND account_id = $2 FOR UPDATE
                """, key.binds).first, try checkpoint.int(0) == lastSeq else { return false }
            let rules = try await self.rules(of: account, db)
            guard rules.version == Int(try checkpoint.int(1)),
                  let row = try await self.sql.rows(db, """
                    SELECT seq, event_id FROM events WHERE tenant_id = $1 AND stream = \(Self.stream) AND seq > $3 ORDER BY seq LIMIT 1
                    """, (key + [.int(lastSeq)]).binds).first else { return false }
            let seq = try row.int(0)
            try await self.sql.run(db, """
                INSERT INTO quarantined_events (tenant_id, account_id, seq, event_id, reason, quarantined_at) VALUES ($1,$2,$3,$4,$5,$6)
                ON CONFLICT DO NOTHING
                """, (key + [.int(seq), .text(try row.text(1)), .text(reason), .int(at)]).binds)
            try await self.sql.run(db, "UPDATE projection_checkpoints SET last_seq = $3 WHERE tenant_id = $1 AND account_id = $2 RETURNING last_seq",
                                   (key + [.int(seq)]).binds)
            return true
        }
    }

    public func retryQuarantined(seq: Int64, of account: Account, check: @Sendable (FanEvent) throws -> Void, audit: AuditEntry) async throws -> Int64 {
        try await transaction { db in
            let key: [Cell] = [.text(account.tenantId), .text(account.id), .int(seq)]
            guard try await !self.sql.rows(db, "SELECT 1 FROM quarantined_events WHERE tenant_id = $1 AND account_id = $2 AND seq = $3 FOR UPDATE",
                                           key.binds).isEmpty else { throw StoreError.notFound("quarantined event \(seq)") }
            guard let row = try await self.sql.rows(db, "SELECT \(Self.eventColumns) FROM events WHERE tenant_id = $1 AND stream = \(Self.stream) AND seq = $3",
                                                    key.binds).first else { throw StoreError.notFound("event \(seq)") }
            var event = try Self.storedEvent(row).event
            try check(event)
            event.id = "retry:\(seq)"
            // An event that already has the retry's id was imported by someone else: refuse rather than lose this one.
            guard try await self.append([AccountEvent(tenantId: account.tenantId, accountId: account.id, event: event)], db, progress: { _ in }).outcome.inserted == 1 else {
                throw StoreError.conflict(field: "seq", "an event with the id \(event.id) is in the log already")
            }
            try await self.sql.run(db, "DELETE FROM quarantined_events WHERE tenant_id = $1 AND account_id = $2 AND seq = $3 RETURNING seq", key.binds)
            try await self.record(audit, db)
            return try await self.lastSeq(of: account, db)
        }
    }

    /// The seq of the account's newest event (0 before the first).
    private func lastSeq(of account: Account, _ db: PostgresConnection) async throws -> Int64 {
        try await sql.rows(db, "SELECT last_seq FROM accounts WHERE tenant_id = $1 AND account_id = $2", [.text(account.tenantId), .text(account.id)].binds).first?.int(0) ?? 0
    }

    /// The one PostgreSQL writer of each kind of projection write, a statement each.
    func write(_ write: any ProjectionWrite, of account: Account, _ db: PostgresConnection) async throws {
        let key: [SQL.Bind] = [.cell(.text(account.tenantId)), .cell(.text(account.id))]
        switch write {
        case let w as FanStatesWrite:
            guard !w.fans.isEmpty else { return }
            let rows = w.fans.map(FanColumns.cells)
            var columns: [SQL.Bind] = []
            var selects: [String] = []
            for (i, name) in FanColumns.names.enumerated() {
                let param = "$\(i + 3)"
                if FanColumns.textNames.contains(name) {
                    columns.append(.texts(rows.map { $0[i].text ?? "" }))
                    selects.append("\(param)::text[]")
                } else {
                    columns.append(.ints(rows.map { $0[i].int ?? Int64.min }))
                    selects.append("\(param)::bigint[]")
                }
            }
            let names = FanColumns.names
            let values = names.map { name in
                FanColumns.textNames.contains(name) ? (FanColumns.nullableTextNames.contains(name) ? "NULLIF(u.\(name), '')" : "u.\(name)")
                    : "NULLIF(u.\(name), \(Int64.min))"
            }
            try await sql.run(db, """
                INSERT INTO fans (tenant_id, account_id, \(names.joined(separator: ", ")))
                SELECT $1, $2, \(values.joined(separator: ", ")) FROM UNNEST(\(selects.joined(separator: ", "))) AS u(\(names.joined(separator: ", ")))
                ON CONFLICT (tenant_id, account_id, open_id) DO UPDATE SET
                \(names.dropFirst().map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", "))
                """, key + columns)
        case let w as TierTransitionsWrite:
            let t = w.transitions
            if !t.isEmpty {
                try await sql.run(db, """
                    INSERT INTO tier_transitions (tenant_id, account_id, open_id, cause_seq, at, from_tier, to_tier, cause)
                    SELECT $1, $2, o, s, a, NULLIF(f, -1), t, c FROM UNNEST($3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[])
                      AS u(o, s, a, f, t, c)
                    ON CONFLICT DO NOTHING
                    """, key + [.texts(t.map(\.transition.openId)), .ints(t.map(\.causeSeq)), .ints(t.map(\.transition.at)),
                                .ints(t.map { Int64($0.transition.from?.rawValue ?? -1) }), .ints(t.map { Int64($0.transition.to.rawValue) }),
                                .texts(t.map(\.transition.cause))])
            }
            let flows = Array(w.flows)
            if !flows.isEmpty {
                try await sql.run(db, """
                    INSERT INTO tier_flow_daily (tenant_id, account_id, day, from_tier, to_tier, fans)
                    SELECT $1, $2, d, f, t, n FROM UNNEST($3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]) AS u(d, f, t, n)
                    ON CONFLICT (tenant_id, account_id, day, from_tier, to_tier) DO UPDATE SET fans = tier_flow_daily.fans + EXCLUDED.fans
                    """, key + [.ints(flows.map { Int64($0.key.day) }), .ints(flows.map { Int64($0.key.from?.rawValue ?? -1) }),
                                .ints(flows.map { Int64($0.key.to.rawValue) }), .ints(flows.map { Int64($0.value) })])
            }
        case let w as FanTouchesWrite:
            let t = w.touches
            guard !t.isEmpty else { return }
            try await sql.run(db, """
                INSERT INTO fan_touchpoints (tenant_id, stream, open_id, day, touchpoint, first_at, last_at)
                SELECT $1, \(Self.stream), o, d, p, f, l FROM UNNEST($3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) AS u(o, d, p, f, l)
                ON CONFLICT (tenant_id, stream, open_id, day, touchpoint) DO UPDATE SET \(FanTouchesWrite.widen)
                """, key + [.texts(t.map(\.openId)), .ints(t.map { Int64($0.day) }), .ints(t.map { EventCodes.touchpoints.number($0.touchpoint) }),
                            .ints(t.map(\.firstAt)), .ints(t.map(\.lastAt))])
        case let w as FanActionsWrite:
            let a = w.actions
            guard !a.isEmpty else { return }
            try await sql.run(db, """
                INSERT INTO fan_actions (tenant_id, account_id, open_id, cause_seq, at, action, detail)
                SELECT $1, $2, o, s, t, a, d FROM UNNEST($3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[]) AS u(o, s, t, a, d)
                ON CONFLICT DO NOTHING
                """, key + [.texts(a.map(\.openId)), .ints(a.map(\.causeSeq)), .ints(a.map(\.at)), .texts(a.map(\.action)), .texts(a.map(\.detail))])
        case let w as ActivityWrite:
            let cells = Array(w.cells)
            guard !cells.isEmpty else { return }
            try await sql.run(db, """
                INSERT INTO activity_daily (tenant_id, account_id, day, domain, channel, events, new_fans)
                SELECT $1, $2, d, m, c, e, n FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::bigint[]) AS u(d, m, c, e, n)
                ON CONFLICT (tenant_id, account_id, day, domain, channel) DO UPDATE SET
                  events = activity_daily.events + EXCLUDED.events, new_fans = activity_daily.new_fans + EXCLUDED.new_fans
                """, key + [.ints(cells.map { Int64($0.key.day) }), .texts(cells.map(\.key.domain.rawValue)), .texts(cells.map(\.key.channel.rawValue)),
                            .ints(cells.map { Int64($0.value.events) }), .ints(cells.map { Int64($0.value.newFans) })])
        case let w as SegmentChangesWrite:
            try await apply(w.changes, of: account, db)
        case let w as QuarantineWrite:
            let q = w.events
            guard !q.isEmpty else { return }
            try await sql.run(db, """
                INSERT INTO quarantined_events (tenant_id, account_id, seq, event_id, reason, quarantined_at)
                SELECT $1, $2, s, i, r, t FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::bigint[]) AS u(s, i, r, t)
                ON CONFLICT DO NOTHING
                """, key + [.ints(q.map(\.seq)), .texts(q.map(\.eventId)), .texts(q.map(\.reason)), .ints(q.map(\.at))])
        case let w as any StatementWrite:
            // A many-row insert's chunks join into one statement of arrays.
            var pending: (rows: SQLStatement.Rows, chunks: [SQLStatement])?
            func flush() async throws {
                guard let insert = pending else { return }
                pending = nil
                if let (text, binds) = SQL.unnest(insert.rows) {
                    try await sql.run(db, text, binds)
                } else {
                    for chunk in insert.chunks { try await sql.run(db, chunk.text(for: .postgres), chunk.binds.map(SQL.Bind.cell)) }
                }
            }
            for statement in w.statements(of: account) {
                if let rows = statement.rows, let insert = pending, insert.rows.joins(rows) {
                    pending?.rows.rows += rows.rows
                    pending?.chunks.append(statement)
                    continue
                }
                try await flush()
                if let rows = statement.rows {
                    pending = (rows, [statement])
                } else {
                    try await sql.run(db, statement.text(for: .postgres), statement.binds.map(SQL.Bind.cell))
                }
            }
            try await flush()
        default:
            throw StoreError.noWriter("PostgreSQL has no writer for \(type(of: write))")
        }
    }
}
