import FlywheelDomain
import FlywheelStore
import Foundation
import Logging
import PostgresNIO

/// The scale-out store: PostgreSQL through postgres-nio. Several `flywheel serve` processes may
/// share one database: appends to an account serialize on its row, and each account is projected
/// by one process at a time, holding its checkpoint row (`FOR UPDATE SKIP LOCKED`); a process that
/// dies mid-batch loses its connection, its transaction rolls back and the lock passes on.
public final class PostgresStore: Store, SQLStore {
    let client: PostgresClient
    let sql: SQL
    public var runner: any SQLRunner { PostgresRunner(store: self) }
    private let clientRun: Task<Void, Never>

    /// `url`: `postgres://user:password@host:port/database`; `?host=/dir` for a Unix socket;
    /// `?sslmode=require` for TLS.
    public init(url: String, logger: Logger) throws {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? ""),
              let database = parts.path.split(separator: "/").first.map(String.init) else {
            throw StoreError.notFound("a database in '\(url)'; use postgres://user:password@host:5432/database")
        }
        let query = Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let user = parts.user ?? "postgres"
        var config: PostgresClient.Configuration
        if let socketDir = query["host"], socketDir.hasPrefix("/") {
            config = .init(unixSocketPath: "\(socketDir)/.s.PGSQL.\(parts.port ?? 5432)", username: user, password: parts.password, database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS = query["sslmode"] == "require" ? .require(.makeClientConfiguration()) : .disable
            config = .init(host: parts.host ?? "127.0.0.1", port: parts.port ?? 5432, username: user, password: parts.password, database: database, tls: tls)
        }
        config.options.maximumConnections = 16
        let client = PostgresClient(configuration: config, backgroundLogger: logger)
        self.client = client
        sql = SQL(logger: logger)
        clientRun = Task { await client.run() }
    }

    deinit { clientRun.cancel() }

    public func migrate() async throws {
        try await transaction { db in
            // One migrator at a time when several processes start together.
            try await self.sql.run(db, "SELECT pg_advisory_xact_lock(7415)")
            try await self.sql.run(db, "CREATE TABLE IF NOT EXISTS flywheel_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            // Releases before checksums recorded versions only: adopt them, trusting the text.
            try await self.sql.run(db, "ALTER TABLE flywheel_migrations ADD COLUMN IF NOT EXISTS checksum TEXT")
            var applied: [String: String] = [:]
            for row in try await self.sql.rows(db, "SELECT version, checksum FROM flywheel_migrations") {
                let version = try row.text(0)
                if let checksum = row[1].text {
                    applied[version] = checksum
                } else if let checksum = Schema.migrations.first(where: { $0.version == version })?.checksum(.postgres) {
                    applied[version] = checksum
                    try await self.sql.run(db, "UPDATE flywheel_migrations SET checksum = $1 WHERE version = $2 RETURNING version",
                                           [.cell(.text(checksum)), .cell(.text(version))])
                } else {
                    applied[version] = "unknown"
                }
            }
            for migration in try Schema.pending(applied: applied, dialect: .postgres) {
                for statement in migration.statements(.postgres) {
                    try await db.query(PostgresQuery(unsafeSQL: statement), logger: self.sql.logger)
                }
                try await self.sql.run(db, "INSERT INTO flywheel_migrations (version, checksum) VALUES ($1, $2) RETURNING version",
                                       [.cell(.text(migration.version)), .cell(.text(migration.checksum(.postgres)))])
            }
        }
    }

    /// Creates a database on the same server (for benchmarks and tests that want a clean one).
    public func createDatabase(_ name: String) async throws {
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(try Self.identifier(name))"), logger: sql.logger)
    }

    public func dropDatabase(_ name: String) async throws {
        try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(try Self.identifier(name)) WITH (FORCE)"), logger: sql.logger)
    }

    /// The same URL naming another database.
    public static func url(_ url: String, database: String) -> String {
        guard var parts = URLComponents(string: url) else { return url }
        parts.path = "/" + database
        return parts.string ?? url
    }

    static func identifier(_ name: String) throws -> String {
        guard !name.isEmpty, name.count < 60, name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }) else {
            throw StoreError.notFound("a valid database name in '\(name)' (lowercase letters, digits, _)")
        }
        return name
    }

    // MARK: Ingest

    /// All deliveries in one statement, then their events in one append: a handful of round
    /// trips per group commit, however many deliveries it carries.
    public func ingest(_ deliveries: [IncomingDelivery]) async throws -> [DeliveryOutcome] {
        try await transaction { db in
            let d = deliveries.map(\.delivery)
            let stored = try await self.sql.rows(db, """
                INSERT INTO webhook_deliveries (tenant_id, app_id, msg_id, event, account_id, received_at, body)
                SELECT t, a, m, e, NULLIF(c, ''), r, b
                FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[]) AS u(t, a, m, e, c, r, b)
                ON CONFLICT DO NOTHING RETURNING tenant_id, app_id, msg_id
                """, [.texts(d.map(\.tenantId)), .texts(d.map(\.appId)), .texts(d.map(\.msgId)), .texts(d.map(\.event)),
                      .texts(d.map { $0.accountId ?? "" }), .ints(d.map(\.receivedAt)), .texts(d.map(\.body))])  // "" becomes NULL
            var fresh = Set(try stored.map { "\(try $0.text(0))\u{1F}\(try $0.text(1))\u{1F}\(try $0.text(2))" })
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
                events += incoming.events.map { AccountEvent(tenantId: delivery.tenantId, accountId: accountId, event: $0) }
                outcomes.append(.stored(events: incoming.events.count))
            }
            _ = try await self.append(events, db, progress: { _ in })
            return outcomes
        }
    }

    public func append(_ events: [AccountEvent], progress: @Sendable (Int) -> Void) async throws -> AppendOutcome {
        try await transaction { db in try await self.append(events, db, progress: progress) }
    }

    /// Appends under each account's row lock, skipping ids already in the log (or earlier in the
    /// batch), so sequence numbers stay dense and in arrival order.
    func append(_ events: [AccountEvent], _ db: PostgresConnection, progress: (Int) -> Void) async throws -> AppendOutcome {
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
        for accountId in order {
            guard let (tenantId, list) = byAccount[accountId] else { continue }
            guard let last = try await sql.rows(db, "SELECT last_seq FROM accounts WHERE tenant_id = $1 AND account_id = $2 FOR UPDATE",
                                                [.text(tenantId), .text(accountId)].binds).first?.int(0) else {
                throw StoreError.notFound("account \(accountId)")
            }
            var seq = last
            for start in stride(from: 0, to: list.count, by: 10_000) {
                let chunk = list[start..<min(start + 10_000, list.count)]
                var seen = Set(try await sql.rows(db, "SELECT event_id FROM events WHERE tenant_id = $1 AND account_id = $2 AND event_id = ANY($3)",
                                                  [.cell(.text(tenantId)), .cell(.text(accountId)), .texts(chunk.map(\.id))]).compactMap { $0[0].text })
                let fresh = chunk.filter { seen.insert($0.id).inserted }
                if !fresh.isEmpty {
                    try await sql.run(db, """
                        INSERT INTO events (tenant_id, account_id, seq, event_id, kind, open_id, occurred_at, domain, channel, amount, ref, attributes)
                        SELECT $1, $2, s, i, k, o, t, d, c, a, NULLIF(r, ''), NULLIF(x, '')
                        FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::bigint[], $11::text[], $12::text[])
                          AS u(s, i, k, o, t, d, c, a, r, x)
                        """, [.cell(.text(tenantId)), .cell(.text(accountId)), .ints((1...fresh.count).map { seq + Int64($0) }),
                              .texts(fresh.map(\.id)), .texts(fresh.map(\.kind.rawValue)), .texts(fresh.map(\.openId)),
                              .ints(fresh.map(\.occurredAt)), .texts(fresh.map(\.domain.rawValue)), .texts(fresh.map(\.channel.rawValue)),
                              .ints(fresh.map(\.amount)), .texts(fresh.map { $0.ref ?? "" }), .texts(fresh.map { EventAttributes.encode($0.attributes) ?? "" })])
                    seq += Int64(fresh.count)
                    inserted += fresh.count
                }
                done += chunk.count
                progress(done)
            }
            try await sql.run(db, "UPDATE accounts SET last_seq = $1 WHERE tenant_id = $2 AND account_id = $3 RETURNING last_seq",
                              [.int(seq), .text(tenantId), .text(accountId)].binds)
        }
        return AppendOutcome(inserted: inserted, duplicates: events.count - inserted)
    }

    // MARK: Projection

    public func project(_ account: Account, limit: Int, _ step: @Sendable (ProjectionBatch) throws -> ProjectionResult) async throws -> Int {
        try await transaction { db in
            let key: [Cell] = [.text(account.tenantId), .text(account.id)]
            // Another process holding this account's checkpoint is projecting it: leave it be.
            guard let checkpoint = try await self.sql.rows(db, """
                SELECT last_seq, rules_version FROM projection_checkpoints WHERE tenant_id = $1 AND account_id = $2 FOR UPDATE SKIP LOCKED
                """, key.binds).first else { return 0 }
            let lastSeq = try checkpoint.int(0)
            let rules = try await self.rules(of: account, db)
            let rulesChanged = rules.version != Int(try checkpoint.int(1))
            var events: [StoredEvent] = []
            var unreadable: [QuarantinedEvent] = []
            for row in try await self.sql.rows(db, """
                SELECT \(Self.eventColumns) FROM events WHERE tenant_id = $1 AND account_id = $2 AND seq > $3 ORDER BY seq LIMIT $4
                """, (key + [.int(lastSeq), .int(Int64(limit))]).binds) {
                do {
                    events.append(try Self.storedEvent(row))
                } catch {
                    unreadable.append(QuarantinedEvent(seq: row[0].int ?? 0, eventId: row[1].text ?? "", reason: "\(error)", at: 0))
                }
            }
            guard !events.isEmpty || !unreadable.isEmpty || rulesChanged else { return 0 }
            let fanRows = rulesChanged
                ? try await self.sql.rows(db, "SELECT \(Self.fanColumns) FROM fans WHERE tenant_id = $1 AND account_id = $2", key.binds)
                : try await self.sql.rows(db, "SELECT \(Self.fanColumns) FROM fans WHERE tenant_id = $1 AND account_id = $2 AND open_id = ANY($3)",
                                          key.binds + [.texts(Array(Set(events.map(\.event.openId))))])
            var fans: [String: FanState] = [:]
            for row in fanRows {
                let fan = try FanColumns.fan(from: row)
                fans[fan.openId] = fan
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
            for write in try step(batch).writes { try await self.write(write, of: account, db) }
            try await self.sql.run(db, """
                UPDATE projection_checkpoints SET last_seq = $3, rules_version = $4 WHERE tenant_id = $1 AND account_id = $2 RETURNING last_seq
                """, (key + [.int(max(events.last?.seq ?? lastSeq, unreadable.last?.seq ?? lastSeq)), .int(Int64(rules.version))]).binds)
            return events.count + unreadable.count
        }
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
                    SELECT seq, event_id FROM events WHERE tenant_id = $1 AND account_id = $2 AND seq > $3 ORDER BY seq LIMIT 1
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
            guard let row = try await self.sql.rows(db, "SELECT \(Self.eventColumns) FROM events WHERE tenant_id = $1 AND account_id = $2 AND seq = $3",
                                                    key.binds).first else { throw StoreError.notFound("event \(seq)") }
            var event = try Self.storedEvent(row).event
            try check(event)
            event.id = "retry:\(seq)"
            _ = try await self.append([AccountEvent(tenantId: account.tenantId, accountId: account.id, event: event)], db, progress: { _ in })
            try await self.sql.run(db, "DELETE FROM quarantined_events WHERE tenant_id = $1 AND account_id = $2 AND seq = $3 RETURNING seq", key.binds)
            try await self.record(audit, db)
            return try await self.sql.rows(db, "SELECT last_seq FROM accounts WHERE tenant_id = $1 AND account_id = $2",
                                           [.text(account.tenantId), .text(account.id)].binds).first?.int(0) ?? 0
        }
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
        default:
            throw StoreError.noWriter("PostgreSQL has no writer for \(type(of: write))")
        }
    }

    // MARK: Reads

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
        let ids = try await read("SELECT DISTINCT open_id FROM events WHERE tenant_id = $1 AND account_id = $2 AND seq > $3 LIMIT $4",
                                 [.text(account.tenantId), .text(account.id), .int(seq), .int(Int64(limit + 1))]).map { try $0.text(0) }
        guard ids.count <= limit else { return nil }
        return try await read("SELECT \(Self.fanColumns) FROM fans WHERE tenant_id = $1 AND account_id = $2 AND open_id = ANY($3)",
                              binds: [.cell(.text(account.tenantId)), .cell(.text(account.id)), .texts(ids)]).map(FanColumns.fan)
    }

    public func createSegment(_ segment: Segment, audit: AuditEntry) async throws {
        try await transaction { db in
            try await self.sql.run(db, "INSERT INTO segments (\(Self.segmentColumns)) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)", [
                .text(segment.tenantId), .text(segment.accountId), .text(segment.id), .text(segment.name), .text(segment.storedPredicate),
                .text(segment.state.rawValue), .nullable(segment.failure), .int(Int64(segment.size)), .int(segment.createdAt), .int(segment.updatedAt)].binds)
            try await self.record(audit, db)
        }
    }

    public func createStaticSegment(_ segment: Segment, of account: Account, members: [String], cause: String, audit: AuditEntry) async throws -> Segment {
        try await transaction { db in
            var segment = segment
            let key: [Cell] = [.text(account.tenantId), .text(account.id)]
            try await self.sql.run(db, "INSERT INTO segments (\(Self.segmentColumns)) VALUES ($1,$2,$3,$4,'','ready',NULL,0,$5,$6)", [
                .text(account.tenantId), .text(account.id), .text(segment.id), .text(segment.name), .int(segment.createdAt), .int(segment.updatedAt)].binds)
            let fans = try await self.sql.rows(db, "SELECT open_id FROM fans WHERE tenant_id = $1 AND account_id = $2 AND open_id = ANY($3) ORDER BY open_id",
                                               key.binds + [.texts(Array(Set(members)))]).map { try $0.text(0) }
            try await self.apply(fans.map {
                SegmentChange(segmentId: segment.id, openId: $0, entered: true, at: segment.createdAt, cause: cause, causeSeq: 0)
            }, of: account, db)
            segment.size = fans.count
            segment.state = .ready
            try await self.record(audit, db)
            return segment
        }
    }

    public func createTag(_ tag: TagDefinition, tenantId: String, audit: AuditEntry) async throws {
        try await transaction { db in
            try await self.sql.run(db, "INSERT INTO tags (tenant_id, name, tag_group, created_at) VALUES ($1,$2,$3,$4) RETURNING name",
                                   [.text(tenantId), .text(tag.name), .text(tag.group), .int(tag.createdAt)].binds)
            try await self.record(audit, db)
        }
    }

    public func tags(tenantId: String) async throws -> [TagDefinition] {
        try await read("SELECT name, tag_group, created_at FROM tags WHERE tenant_id = $1 ORDER BY tag_group, name", [.text(tenantId)]).map {
            TagDefinition(name: try $0.text(0), group: try $0.text(1), createdAt: try $0.int(2))
        }
    }

    public func deleteTag(name: String, tenantId: String, audit: AuditEntry) async throws {
        try await transaction { db in
            try await self.sql.run(db, "DELETE FROM tags WHERE tenant_id = $1 AND name = $2 RETURNING name", [.text(tenantId), .text(name)].binds)
            try await self.record(audit, db)
        }
    }

    public func segments(of account: Account) async throws -> [Segment] {
        try await client.withConnection { db in try await self.segments(of: account, db) }
    }

    func segments(of account: Account, _ db: PostgresConnection) async throws -> [Segment] {
        try await sql.rows(db, "SELECT \(Self.segmentColumns) FROM segments WHERE tenant_id = $1 AND account_id = $2 ORDER BY created_at, segment_id",
                           [.text(account.tenantId), .text(account.id)].binds).map(Self.segment)
    }

    public func segment(id: String, of account: Account) async throws -> Segment? {
        try await read("SELECT \(Self.segmentColumns) FROM segments WHERE tenant_id = $1 AND account_id = $2 AND segment_id = $3",
                       [.text(account.tenantId), .text(account.id), .text(id)]).first.map(Self.segment)
    }

    public func updateSegment(_ segment: Segment, audit: AuditEntry?) async throws {
        try await transaction { db in
            try await self.sql.run(db, """
                UPDATE segments SET name = $4, predicate = $5, state = $6, failure = $7, updated_at = $8
                WHERE tenant_id = $1 AND account_id = $2 AND segment_id = $3 RETURNING segment_id
                """, [.text(segment.tenantId), .text(segment.accountId), .text(segment.id), .text(segment.name), .text(segment.storedPredicate),
                      .text(segment.state.rawValue), .nullable(segment.failure), .int(segment.updatedAt)].binds)
            if let audit { try await self.record(audit, db) }
        }
    }

    public func deleteSegment(id: String, of account: Account, audit: AuditEntry) async throws {
        try await transaction { db in
            for table in ["segment_changes", "segment_members", "segments"] {
                try await self.sql.run(db, "DELETE FROM \(table) WHERE tenant_id = $1 AND account_id = $2 AND segment_id = $3 RETURNING segment_id",
                                       [.text(account.tenantId), .text(account.id), .text(id)].binds)
            }
            try await self.record(audit, db)
        }
    }

    public func buildSegment(id: String, of account: Account, now: Int64) async throws -> Segment {
        let calendar = account.calendar
        return try await transaction { db in
            let key: [Cell] = [.text(account.tenantId), .text(account.id)]
            // Hold the account's projection: no batch commits between the scan and `ready`.
            try await self.sql.run(db, "SELECT last_seq FROM projection_checkpoints WHERE tenant_id = $1 AND account_id = $2 FOR UPDATE", key.binds)
            guard var segment = try await self.sql.rows(db, "SELECT \(Self.segmentColumns) FROM segments WHERE tenant_id = $1 AND account_id = $2 AND segment_id = $3",
                                                        (key + [.text(id)]).binds).first.map(Self.segment) else {
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

    public func segmentMembers(id: String, of account: Account, cursor: String?, limit: Int) async throws -> Page<String> {
        let ids = try await read("""
            SELECT open_id FROM segment_members WHERE tenant_id = $1 AND account_id = $2 AND segment_id = $3 AND open_id > $4 ORDER BY open_id LIMIT $5
            """, [.text(account.tenantId), .text(account.id), .text(id), .text(cursor ?? ""), .int(Int64(limit + 1))]).compactMap { $0[0].text }
        let page = Array(ids.prefix(limit))
        return Page(items: page, nextCursor: ids.count > limit ? page.last : nil)
    }

    public func segmentMovements(id: String, of account: Account, since: Int64) async throws -> [(at: Int64, delta: Int)] {
        try await read("""
            SELECT at, entered FROM segment_changes WHERE tenant_id = $1 AND account_id = $2 AND segment_id = $3 AND at >= $4 ORDER BY at
            """, [.text(account.tenantId), .text(account.id), .text(id), .int(since)]).map { (try $0.int(0), try $0.int(1) == 1 ? 1 : -1) }
    }

    public func portrait(ofSegment id: String, of account: Account) async throws -> Portrait {
        var distributions: [String: [String: Int]] = [:]
        var size = 0
        for dimension in Portrait.dimensions {
            let rows = try await read("""
                SELECT f.\(dimension)::text, COUNT(*) FROM segment_members m
                JOIN fans f ON f.tenant_id = m.tenant_id AND f.account_id = m.account_id AND f.open_id = m.open_id
                WHERE m.tenant_id = $1 AND m.account_id = $2 AND m.segment_id = $3 GROUP BY f.\(dimension)
                """, [.text(account.tenantId), .text(account.id), .text(id)])
            distributions[dimension] = Dictionary(uniqueKeysWithValues: try rows.map { ($0[0].text ?? "", Int(try $0.int(1))) })
            size = try rows.reduce(0) { $0 + Int(try $1.int(1)) }
        }
        return Portrait(size: size, grouped: distributions)
    }

    public func segmentChanges(id: String, of account: Account, limit: Int) async throws -> [SegmentChange] {
        try await read("""
            SELECT open_id, cause_seq, at, entered, cause FROM segment_changes WHERE tenant_id = $1 AND account_id = $2 AND segment_id = $3
            ORDER BY at DESC, cause_seq DESC, open_id LIMIT $4
            """, [.text(account.tenantId), .text(account.id), .text(id), .int(Int64(limit))]).map {
            SegmentChange(segmentId: id, openId: try $0.text(0), entered: try $0.int(3) == 1, at: try $0.int(2), cause: try $0.text(4), causeSeq: try $0.int(1))
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

    static let segmentColumns = "tenant_id, account_id, segment_id, name, predicate, state, failure, size, created_at, updated_at"

    static func segment(_ row: [Cell]) throws -> Segment {
        let predicate = try Segment.predicate(stored: try row.text(4), id: try row.text(2))
        guard let state = Segment.State(rawValue: try row.text(5)) else { throw StoreError.corrupt("segments row \(try row.text(2)) has an unknown state") }
        return Segment(tenantId: try row.text(0), accountId: try row.text(1), id: try row.text(2), name: try row.text(3), predicate: predicate,
                       state: state, failure: row[6].text, size: Int(try row.int(7)), createdAt: try row.int(8), updatedAt: try row.int(9))
    }

    public func fan(of account: Account, openId: String) async throws -> FanState? {
        try await read("SELECT \(Self.fanColumns) FROM fans WHERE tenant_id = $1 AND account_id = $2 AND open_id = $3",
                       [.text(account.tenantId), .text(account.id), .text(openId)]).first.map(FanColumns.fan)
    }

    public func timeline(of account: Account, openId: String, limit: Int) async throws -> [StoredEvent] {
        try await read("""
            SELECT \(Self.eventColumns) FROM events WHERE tenant_id = $1 AND account_id = $2 AND open_id = $3 ORDER BY seq DESC LIMIT $4
            """, [.text(account.tenantId), .text(account.id), .text(openId), .int(Int64(limit))]).map(Self.storedEvent)
    }

    public func segmentChanges(of account: Account, openId: String, limit: Int) async throws -> [SegmentChange] {
        try await read("""
            SELECT segment_id, cause_seq, at, entered, cause FROM segment_changes WHERE tenant_id = $1 AND account_id = $2 AND open_id = $3
            ORDER BY at DESC, cause_seq DESC LIMIT $4
            """, [.text(account.tenantId), .text(account.id), .text(openId), .int(Int64(limit))]).map {
            SegmentChange(segmentId: try $0.text(0), openId: openId, entered: try $0.int(3) == 1, at: try $0.int(2), cause: try $0.text(4), causeSeq: try $0.int(1))
        }
    }

    public func actions(of account: Account, openId: String, limit: Int) async throws -> [FanAction] {
        try await read("""
            SELECT cause_seq, at, action, detail FROM fan_actions WHERE tenant_id = $1 AND account_id = $2 AND open_id = $3
            ORDER BY at DESC, cause_seq DESC LIMIT $4
            """, [.text(account.tenantId), .text(account.id), .text(openId), .int(Int64(limit))]).map {
            FanAction(openId: openId, at: try $0.int(1), action: try $0.text(2), detail: try $0.text(3), causeSeq: try $0.int(0))
        }
    }

    public func transitions(of account: Account, openId: String, limit: Int) async throws -> [TierTransition] {
        try await read("""
            SELECT at, from_tier, to_tier, cause FROM tier_transitions WHERE tenant_id = $1 AND account_id = $2 AND open_id = $3
            ORDER BY at DESC, cause_seq DESC LIMIT $4
            """, [.text(account.tenantId), .text(account.id), .text(openId), .int(Int64(limit))]).compactMap { row in
            guard let to = Tier(rawValue: Int(try row.int(2))) else { return nil }
            return TierTransition(openId: openId, from: row[1].int.flatMap { Tier(rawValue: Int($0)) }, to: to, at: try row.int(0), cause: try row.text(3))
        }
    }

    public func tierCounts(of account: Account) async throws -> [Tier: Int] {
        var counts: [Tier: Int] = [:]
        for row in try await read("SELECT tier, COUNT(*) FROM fans WHERE tenant_id = $1 AND account_id = $2 GROUP BY tier",
                                  [.text(account.tenantId), .text(account.id)]) {
            if let tier = Tier(rawValue: Int(try row.int(0))) { counts[tier] = Int(try row.int(1)) }
        }
        return counts
    }

    public func tierFlows(of account: Account, days: ClosedRange<Int>) async throws -> [TierFlow: Int] {
        var flows: [TierFlow: Int] = [:]
        for row in try await read("""
            SELECT day, from_tier, to_tier, fans FROM tier_flow_daily WHERE tenant_id = $1 AND account_id = $2 AND day BETWEEN $3 AND $4
            """, [.text(account.tenantId), .text(account.id), .int(Int64(days.lowerBound)), .int(Int64(days.upperBound))]) {
            guard let to = Tier(rawValue: Int(try row.int(2))) else { continue }
            flows[TierFlow(day: Int(try row.int(0)), from: Tier(rawValue: Int(try row.int(1))), to: to)] = Int(try row.int(3))
        }
        return flows
    }

    public func tierCounts(of account: Account, before day: Int) async throws -> [Tier: Int] {
        var counts: [Tier: Int] = [:]
        for row in try await read("""
            SELECT from_tier, to_tier, SUM(fans)::bigint FROM tier_flow_daily WHERE tenant_id = $1 AND account_id = $2 AND day < $3
            GROUP BY from_tier, to_tier
            """, [.text(account.tenantId), .text(account.id), .int(Int64(day))]) {
            let n = Int(try row.int(2))
            if let to = Tier(rawValue: Int(try row.int(1))) { counts[to, default: 0] += n }
            if let from = Tier(rawValue: Int(try row.int(0))) { counts[from, default: 0] -= n }
        }
        return counts
    }

    public func activity(of account: Account, days: ClosedRange<Int>) async throws -> [ActivityCell: ActivityCount] {
        var cells: [ActivityCell: ActivityCount] = [:]
        for row in try await read("""
            SELECT day, domain, channel, events, new_fans FROM activity_daily WHERE tenant_id = $1 AND account_id = $2 AND day BETWEEN $3 AND $4
            """, [.text(account.tenantId), .text(account.id), .int(Int64(days.lowerBound)), .int(Int64(days.upperBound))]) {
            guard let domain = SourceDomain(rawValue: try row.text(1)), let channel = Channel(rawValue: try row.text(2)) else { continue }
            cells[ActivityCell(day: Int(try row.int(0)), domain: domain, channel: channel)] = ActivityCount(events: Int(try row.int(3)), newFans: Int(try row.int(4)))
        }
        return cells
    }

    // MARK: Helpers

    static let eventColumns = "seq, event_id, kind, open_id, occurred_at, domain, channel, amount, ref, attributes"
    static let fanColumns = FanColumns.names.joined(separator: ", ")

    /// A transaction whose constraint violations come back as `StoreError`s naming the column.
    func transaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { db in
                try await db.withTransaction(logger: self.sql.logger) { db in try await body(db) }
            }
        } catch let error as PostgresTransactionError {
            throw Self.translate(error.closureError ?? error.beginError ?? error.commitError ?? error)
        } catch {
            throw Self.translate(error)
        }
    }

    static func translate(_ error: any Error) -> any Error {
        guard let psql = error as? PSQLError else { return error }
        guard let state = psql.serverInfo?[.sqlState] else { return PostgresFailure(description: "\(psql.code): \(psql.underlying.map { "\($0)" } ?? "no detail")") }
        let detail = psql.serverInfo?[.detail] ?? psql.serverInfo?[.message] ?? "constraint failed"
        switch state {
        // The database's words stay here: the error names the field as the API does.
        case "23505": return StoreError.uniqueValueTaken((psql.serverInfo?[.constraintName] ?? "") + " " + detail)
        case "23503": return StoreError.notFound("a referenced record does not exist")
        default: return PostgresFailure(description: "PostgreSQL error \(state): \(psql.serverInfo?[.message] ?? "")")
        }
    }

    func read(_ text: String, _ binds: [Cell]) async throws -> [[Cell]] {
        try await read(text, binds: binds.map(SQL.Bind.cell))
    }

    func read(_ text: String, binds: [SQL.Bind]) async throws -> [[Cell]] {
        do {
            return try await client.withConnection { db in try await self.sql.rows(db, text, binds) }
        } catch {
            throw Self.translate(error)
        }
    }

    func record(_ audit: AuditEntry, _ db: PostgresConnection) async throws {
        _ = try await sql.rows(db, TenancyRows.record(audit))
    }

    func rules(of account: Account, _ db: PostgresConnection) async throws -> VersionedRules {
        try TenancyRows.rules(try await sql.rows(db, TenancyRows.rulesQuery(of: account)), of: account)
    }

    static func storedEvent(_ row: [Cell]) throws -> StoredEvent {
        guard let kind = EventKind(rawValue: try row.text(2)), let domain = SourceDomain(rawValue: try row.text(5)),
              let channel = Channel(rawValue: try row.text(6)) else {
            throw StoreError.corrupt("events row \(try row.int(0)) has an unknown kind, domain or channel")
        }
        return StoredEvent(seq: try row.int(0), event: FanEvent(
            id: try row.text(1), kind: kind, openId: try row.text(3), occurredAt: try row.int(4), domain: domain, channel: channel,
            amount: try row.int(7), ref: row[8].text, attributes: row[9].text.map(EventAttributes.decode) ?? [:]))
    }
}

/// A PostgreSQL failure with the server's own words (postgres-nio hides them by default).
public struct PostgresFailure: Error, CustomStringConvertible {
    public var description: String
}

extension Array where Element == Cell {
    var binds: [SQL.Bind] { map(SQL.Bind.cell) }
}
