import FlywheelDomain

/// The tags context, written once for both databases.
extension TagStore where Self: SQLStore {
    public func createTag(_ tag: TagDefinition, tenantId: String, audit: AuditEntry) async throws {
        try await runner.transaction([
            .execute(SQLStatement("INSERT INTO tags (tenant_id, name, tag_group, created_at) VALUES (?, ?, ?, ?)",
                                  [.text(tenantId), .text(tag.name), .text(tag.group), .int(tag.createdAt)])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func tags(tenantId: String) async throws -> [TagDefinition] {
        try await runner.query(SQLStatement("SELECT name, tag_group, created_at FROM tags WHERE tenant_id = ? ORDER BY tag_group, name", [.text(tenantId)]))
            .map { TagDefinition(name: try $0.text("name"), group: try $0.text("tag_group"), createdAt: try $0.int("created_at")) }
    }

    public func deleteTag(name: String, tenantId: String, audit: AuditEntry) async throws {
        try await runner.transaction([
            .execute(SQLStatement("DELETE FROM tags WHERE tenant_id = ? AND name = ?", [.text(tenantId), .text(name)])),
            .execute(TenancyRows.record(audit)),
        ])
    }
}

/// The ordinary paths of the segments context, written once; full scans, rechecks and static
/// imports are each backend's own.
extension SegmentStore where Self: SQLStore {
    public func createSegment(_ segment: Segment, audit: AuditEntry) async throws {
        try await runner.transaction([.execute(SegmentSQL.insert(segment)), .execute(TenancyRows.record(audit))])
    }

    public func segments(of account: Account) async throws -> [Segment] {
        try await runner.query(SegmentSQL.all(of: account)).map(SegmentSQL.segment)
    }

    public func segment(id: String, of account: Account) async throws -> Segment? {
        try await runner.query(SegmentSQL.one(id: id, of: account)).first.map(SegmentSQL.segment)
    }

    public func updateSegment(_ segment: Segment, audit: AuditEntry?) async throws {
        let update = SQLStatement("""
            UPDATE segments SET name = ?, predicate = ?, state = ?, failure = ?, updated_at = ? WHERE tenant_id = ? AND account_id = ? AND segment_id = ?
            """, [.text(segment.name), .text(segment.storedPredicate), .text(segment.state.rawValue), .nullable(segment.failure), .int(segment.updatedAt),
                  .text(segment.tenantId), .text(segment.accountId), .text(segment.id)])
        try await runner.transaction([.execute(update)] + (audit.map { [.execute(TenancyRows.record($0))] } ?? []))
    }

    public func deleteSegment(id: String, of account: Account, audit: AuditEntry) async throws {
        let key: [Cell] = [.text(account.tenantId), .text(account.id), .text(id)]
        try await runner.transaction(["segment_changes", "segment_members", "segments"].map {
            .execute(SQLStatement("DELETE FROM \($0) WHERE tenant_id = ? AND account_id = ? AND segment_id = ?", key))
        } + [.execute(TenancyRows.record(audit))])
    }

    public func segmentMembers(id: String, of account: Account, cursor: String?, limit: Int) async throws -> Page<String> {
        let ids = try await runner.query(SQLStatement("""
            SELECT open_id FROM segment_members WHERE tenant_id = ? AND account_id = ? AND segment_id = ? AND open_id > ? ORDER BY open_id LIMIT ?
            """, [.text(account.tenantId), .text(account.id), .text(id), .text(cursor ?? ""), .int(Int64(limit + 1))])).map { try $0.text("open_id") }
        let page = Array(ids.prefix(limit))
        return Page(items: page, nextCursor: ids.count > limit ? page.last : nil)
    }

    public func segmentMovements(id: String, of account: Account, since: Int64) async throws -> [(at: Int64, delta: Int)] {
        try await runner.query(SQLStatement("""
            SELECT at, entered FROM segment_changes WHERE tenant_id = ? AND account_id = ? AND segment_id = ? AND at >= ? ORDER BY at
            """, [.text(account.tenantId), .text(account.id), .text(id), .int(since)])).map { (try $0.int("at"), try $0.int("entered") == 1 ? 1 : -1) }
    }

    public func portrait(ofSegment id: String, of account: Account) async throws -> Portrait {
        var distributions: [String: [String: Int]] = [:]
        var size = 0
        for dimension in Portrait.dimensions {
            let rows = try await runner.query(SQLStatement("""
                SELECT CAST(f.\(dimension) AS TEXT) AS value, COUNT(*) AS n FROM segment_members m
                JOIN fans f ON f.tenant_id = m.tenant_id AND f.account_id = m.account_id AND f.open_id = m.open_id
                WHERE m.tenant_id = ? AND m.account_id = ? AND m.segment_id = ? GROUP BY f.\(dimension)
                """, [.text(account.tenantId), .text(account.id), .text(id)]))
            distributions[dimension] = Dictionary(uniqueKeysWithValues: try rows.map { ($0.optionalText("value") ?? "", Int(try $0.int("n"))) })
            size = try rows.reduce(0) { $0 + Int(try $1.int("n")) }
        }
        return Portrait(size: size, grouped: distributions)
    }

    public func segmentChanges(id: String, of account: Account, limit: Int) async throws -> [SegmentChange] {
        try await runner.query(SQLStatement("""
            SELECT open_id, cause_seq, at, entered, cause FROM segment_changes WHERE tenant_id = ? AND account_id = ? AND segment_id = ?
            ORDER BY at DESC, cause_seq DESC, open_id LIMIT ?
            """, [.text(account.tenantId), .text(account.id), .text(id), .int(Int64(limit))])).map {
            SegmentChange(segmentId: id, openId: try $0.text("open_id"), entered: try $0.int("entered") == 1, at: try $0.int("at"),
                          cause: try $0.text("cause"), causeSeq: try $0.int("cause_seq"))
        }
    }
}

/// A fan's history and the account's rollups, written once for both databases.
extension FanStore where Self: SQLStore {
    public func segmentChanges(of account: Account, openId: String, limit: Int) async throws -> [SegmentChange] {
        try await runner.query(SQLStatement("""
            SELECT segment_id, cause_seq, at, entered, cause FROM segment_changes WHERE tenant_id = ? AND account_id = ? AND open_id = ?
            ORDER BY at DESC, cause_seq DESC LIMIT ?
            """, [.text(account.tenantId), .text(account.id), .text(openId), .int(Int64(limit))])).map {
            SegmentChange(segmentId: try $0.text("segment_id"), openId: openId, entered: try $0.int("entered") == 1, at: try $0.int("at"),
                          cause: try $0.text("cause"), causeSeq: try $0.int("cause_seq"))
        }
    }

    public func actions(of account: Account, openId: String, limit: Int) async throws -> [FanAction] {
        try await runner.query(SQLStatement("""
            SELECT cause_seq, at, action, detail FROM fan_actions WHERE tenant_id = ? AND account_id = ? AND open_id = ?
            ORDER BY at DESC, cause_seq DESC LIMIT ?
            """, [.text(account.tenantId), .text(account.id), .text(openId), .int(Int64(limit))])).map {
            FanAction(openId: openId, at: try $0.int("at"), action: try $0.text("action"), detail: try $0.text("detail"), causeSeq: try $0.int("cause_seq"))
        }
    }

    public func transitions(of account: Account, openId: String, limit: Int) async throws -> [TierTransition] {
        try await runner.query(SQLStatement("""
            SELECT at, from_tier, to_tier, cause FROM tier_transitions WHERE tenant_id = ? AND account_id = ? AND open_id = ?
            ORDER BY at DESC, cause_seq DESC LIMIT ?
            """, [.text(account.tenantId), .text(account.id), .text(openId), .int(Int64(limit))])).compactMap { row in
            guard let to = Tier(rawValue: Int(try row.int("to_tier"))) else { return nil }
            return TierTransition(openId: openId, from: row.optionalInt("from_tier").flatMap { Tier(rawValue: Int($0)) }, to: to,
                                  at: try row.int("at"), cause: try row.text("cause"))
        }
    }

    public func tierCounts(of account: Account) async throws -> [Tier: Int] {
        var counts: [Tier: Int] = [:]
        for row in try await runner.query(SQLStatement("SELECT tier, COUNT(*) AS n FROM fans WHERE tenant_id = ? AND account_id = ? GROUP BY tier",
                                                       [.text(account.tenantId), .text(account.id)])) {
            if let tier = Tier(rawValue: Int(try row.int("tier"))) { counts[tier] = Int(try row.int("n")) }
        }
        return counts
    }

    public func tierFlows(of account: Account, days: ClosedRange<Int>) async throws -> [TierFlow: Int] {
        var flows: [TierFlow: Int] = [:]
        for row in try await runner.query(SQLStatement("""
            SELECT day, from_tier, to_tier, fans FROM tier_flow_daily WHERE tenant_id = ? AND account_id = ? AND day BETWEEN ? AND ?
            """, [.text(account.tenantId), .text(account.id), .int(Int64(days.lowerBound)), .int(Int64(days.upperBound))])) {
            guard let to = Tier(rawValue: Int(try row.int("to_tier"))) else { continue }
            flows[TierFlow(day: Int(try row.int("day")), from: Tier(rawValue: Int(try row.int("from_tier"))), to: to)] = Int(try row.int("fans"))
        }
        return flows
    }

    public func tierCounts(of account: Account, before day: Int) async throws -> [Tier: Int] {
        var counts: [Tier: Int] = [:]
        for row in try await runner.query(SQLStatement("""
            SELECT from_tier, to_tier, CAST(SUM(fans) AS BIGINT) AS n FROM tier_flow_daily WHERE tenant_id = ? AND account_id = ? AND day < ? GROUP BY from_tier, to_tier
            """, [.text(account.tenantId), .text(account.id), .int(Int64(day))])) {
            let n = Int(try row.int("n"))
            if let to = Tier(rawValue: Int(try row.int("to_tier"))) { counts[to, default: 0] += n }
            if let from = Tier(rawValue: Int(try row.int("from_tier"))) { counts[from, default: 0] -= n }
        }
        return counts
    }

    public func activity(of account: Account, days: ClosedRange<Int>) async throws -> [ActivityCell: ActivityCount] {
        var cells: [ActivityCell: ActivityCount] = [:]
        for row in try await runner.query(SQLStatement("""
            SELECT day, domain, channel, events, new_fans FROM activity_daily WHERE tenant_id = ? AND account_id = ? AND day BETWEEN ? AND ?
            """, [.text(account.tenantId), .text(account.id), .int(Int64(days.lowerBound)), .int(Int64(days.upperBound))])) {
            guard let domain = SourceDomain(rawValue: try row.text("domain")), let channel = Channel(rawValue: try row.text("channel")) else { continue }
            cells[ActivityCell(day: Int(try row.int("day")), domain: domain, channel: channel)] =
                ActivityCount(events: Int(try row.int("events")), newFans: Int(try row.int("new_fans")))
        }
        return cells
    }
}

/// Segments' rows: one way to write and read them, for both databases.
public enum SegmentSQL {
    public static let columns = "tenant_id, account_id, segment_id, name, predicate, state, failure, size, created_at, updated_at"

    public static func insert(_ segment: Segment) -> SQLStatement {
        SQLStatement("INSERT INTO segments (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            .text(segment.tenantId), .text(segment.accountId), .text(segment.id), .text(segment.name), .text(segment.storedPredicate),
            .text(segment.state.rawValue), .nullable(segment.failure), .int(Int64(segment.size)), .int(segment.createdAt), .int(segment.updatedAt)])
    }

    public static func one(id: String, of account: Account) -> SQLStatement {
        SQLStatement("SELECT \(columns) FROM segments WHERE tenant_id = ? AND account_id = ? AND segment_id = ?",
                     [.text(account.tenantId), .text(account.id), .text(id)])
    }

    public static func all(of account: Account) -> SQLStatement {
        SQLStatement("SELECT \(columns) FROM segments WHERE tenant_id = ? AND account_id = ? ORDER BY created_at, segment_id",
                     [.text(account.tenantId), .text(account.id)])
    }

    public static func segment(_ row: SQLRow) throws -> Segment {
        let id = try row.text("segment_id")
        let predicate = try Segment.predicate(stored: try row.text("predicate"), id: id)
        guard let state = Segment.State(rawValue: try row.text("state")) else { throw StoreError.corrupt("segments row \(id) has an unknown state") }
        return Segment(tenantId: try row.text("tenant_id"), accountId: try row.text("account_id"), id: id, name: try row.text("name"), predicate: predicate,
                       state: state, failure: row.optionalText("failure"), size: Int(try row.int("size")), createdAt: try row.int("created_at"),
                       updatedAt: try row.int("updated_at"))
    }
}
