import FlywheelDomain

/// Which leads a list shows.
public struct LeadFilter: Sendable, Equatable {
    public var stages: Set<LeadStage> = []
    public var assignee: String?
    public var unassignedOnly = false
    /// Leads first submitted on these accounts; nil for all of the tenant's.
    public var accountIds: [String]?
    /// Part of the name, phone or city.
    public var search: String?
    /// The leads a fan's cards made.
    public var openId: String?

    public init() {}
}

/// Leads, their follow-ups and history.
public protocol LeadStore: Sendable {
    /// Newest first.
    func leads(tenantId: String, filter: LeadFilter, cursor: String?, limit: Int) async throws -> Page<Lead>
    func lead(id: String, tenantId: String) async throws -> Lead?
    /// Saves a worked lead with what happened to it; `StoreError.refused(.changedMeanwhile)` when
    /// it changed since it was read (it was submitted again, or someone else worked it). `entering`:
    /// the fan's entries into journeys triggered by the lead's new stage, made with the move.
    func updateLead(_ lead: Lead, readVersion: Int64, tenantId: String, activity: [LeadActivity], entering: [(reentry: Bool, run: JourneyRun)],
                    audit: AuditEntry) async throws
    func leadActivity(of leadId: String, tenantId: String, limit: Int) async throws -> [LeadActivity]
    /// Leads first submitted in `[from, to)`, for the conversion report.
    func leadsSubmitted(tenantId: String, from: Int64, to: Int64) async throws -> [Lead]

    func createFollowUp(_ followUp: FollowUp, tenantId: String, audit: AuditEntry) async throws
    /// Marks it done at `at`; `notFound` when there is no such open follow-up of the lead.
    func completeFollowUp(id: String, leadId: String, tenantId: String, at: Int64, audit: AuditEntry) async throws
    /// A lead's follow-ups by due time, or, without a lead, the open ones due before `dueBefore`.
    func followUps(tenantId: String, leadId: String?, dueBefore: Int64?, assignee: String?, limit: Int) async throws -> [FollowUp]
}

/// Lead cards a projection batch brought: each a new lead, or one more submission of a lead the
/// enterprise has (the same phone, or the same fan on the same account).
public struct LeadInboxWrite: StatementWrite {
    public var leads: [Lead]
    public init(leads: [Lead]) { self.leads = leads }

    /// One upsert of the batch's leads, many rows a statement: a lead submitted again in the
    /// batch is one row counting its submissions (each card is one), as one upsert a card would
    /// leave it (the first card's details, the first name and city given, the latest time).
    /// Then each submission's line in the lead's history, in order.
    public func statements(of account: Account) -> [SQLStatement] {
        var merged: [Lead] = []
        var index: [String: Int] = [:]
        for lead in leads {
            guard let i = index[lead.id] else {
                index[lead.id] = merged.count
                merged.append(lead)
                continue
            }
            merged[i].submissions += 1
            merged[i].version += 1
            merged[i].lastSubmittedAt = max(merged[i].lastSubmittedAt, lead.lastSubmittedAt)
            merged[i].name = merged[i].name ?? lead.name
            merged[i].city = merged[i].city ?? lead.city
        }
        return SQLStatement.insert("leads", columns: "tenant_id, \(LeadRows.columns)", key: [.text(account.tenantId)], rows: merged.map(LeadRows.cells),
                                   then: """
                                       ON CONFLICT (tenant_id, lead_id) DO UPDATE SET submissions = leads.submissions + excluded.submissions,
                                         last_submitted_at = CASE WHEN excluded.last_submitted_at > leads.last_submitted_at THEN excluded.last_submitted_at ELSE leads.last_submitted_at END,
                                         name = COALESCE(leads.name, excluded.name), city = COALESCE(leads.city, excluded.city), version = leads.version + excluded.submissions
                                       """)
            + leads.map { lead in
                LeadRows.activity(LeadActivity(leadId: lead.id, at: lead.createdAt, kind: "submitted",
                                               detail: "\(lead.channel.rawValue) on account \(account.name)" + (lead.campaign.map { ", campaign \($0)" } ?? ""),
                                               actor: "platform"), tenantId: account.tenantId)
            }
    }
}

/// The leads context, written once for both databases.
extension LeadStore where Self: SQLStore {
    public func leads(tenantId: String, filter: LeadFilter, cursor: String?, limit: Int) async throws -> Page<Lead> {
        var conditions = ["tenant_id = ?"]
        var binds: [Cell] = [.text(tenantId)]
        if !filter.stages.isEmpty {
            conditions.append("stage IN (\(SQLStatement.placeholders(filter.stages.count)))")
            binds += filter.stages.map(\.rawValue).sorted().map(Cell.text)
        }
        if let assignee = filter.assignee {
            conditions.append("assignee = ?")
            binds.append(.text(assignee))
        }
        if filter.unassignedOnly { conditions.append("assignee IS NULL") }
        if let openId = filter.openId {
            conditions.append("open_id = ?")
            binds.append(.text(openId))
        }
        if let accounts = filter.accountIds {
            guard !accounts.isEmpty else { return Page(items: [], nextCursor: nil) }
            conditions.append("account_id IN (\(SQLStatement.placeholders(accounts.count)))")
            binds += accounts.map(Cell.text)
        }
        if let search = filter.search?.lowercased(), !search.isEmpty {
            let like = SQLStatement.containing(search)
            conditions.append("(LOWER(COALESCE(name, '')) LIKE ? ESCAPE '\\' OR COALESCE(phone, '') LIKE ? ESCAPE '\\' OR LOWER(COALESCE(city, '')) LIKE ? ESCAPE '\\')")
            binds += [like, like, like]
        }
        if let cursor, let bar = cursor.firstIndex(of: "|"), let at = Int64(cursor[..<bar]) {
            conditions.append("(created_at < ? OR (created_at = ? AND lead_id > ?))")
            binds += [.int(at), .int(at), .text(String(cursor[cursor.index(after: bar)...]))]
        }
        let rows = try await runner.query(SQLStatement("""
            SELECT \(LeadRows.columns) FROM leads WHERE \(conditions.joined(separator: " AND ")) ORDER BY created_at DESC, lead_id LIMIT ?
            """, binds + [.int(Int64(limit + 1))]))
        let items = try rows.prefix(limit).map(LeadRows.lead)
        return Page(items: items, nextCursor: rows.count > limit ? items.last.map { "\($0.createdAt)|\($0.id)" } : nil)
    }

    public func lead(id: String, tenantId: String) async throws -> Lead? {
        try await runner.query(SQLStatement("SELECT \(LeadRows.columns) FROM leads WHERE tenant_id = ? AND lead_id = ?", [.text(tenantId), .text(id)]))
            .first.map(LeadRows.lead)
    }

    public func updateLead(_ lead: Lead, readVersion: Int64, tenantId: String, activity: [LeadActivity], entering: [(reentry: Bool, run: JourneyRun)],
                           audit: AuditEntry) async throws {
        var steps: [SQLStep] = [.require(SQLStatement("""
            UPDATE leads SET stage = ?, lost_reason = ?, assignee = ?, won_value = ?, contacted_at = ?, closed_at = ?, version = version + 1
            WHERE tenant_id = ? AND lead_id = ? AND version = ? RETURNING version
            """, [.text(lead.stage.rawValue), .nullable(lead.lostReason), .nullable(lead.assignee), .nullable(lead.wonValue), .nullable(lead.contactedAt),
                  .nullable(lead.closedAt), .text(tenantId), .text(lead.id), .int(readVersion)]), orElse: .refused(.changedMeanwhile))]
        steps += activity.map { .execute(LeadRows.activity($0, tenantId: tenantId)) }
        steps += JourneyEntriesWrite.statements(entering, tenantId: tenantId, accountId: lead.accountId).map(SQLStep.execute)
        steps.append(.execute(TenancyRows.record(audit)))
        try await runner.transaction(steps)
    }

    public func leadActivity(of leadId: String, tenantId: String, limit: Int) async throws -> [LeadActivity] {
        try await runner.query(SQLStatement("""
            SELECT lead_id, at, kind, detail, actor FROM lead_activity WHERE tenant_id = ? AND lead_id = ? ORDER BY seq DESC LIMIT ?
            """, [.text(tenantId), .text(leadId), .int(Int64(limit))])).map {
            LeadActivity(leadId: try $0.text("lead_id"), at: try $0.int("at"), kind: try $0.text("kind"), detail: try $0.text("detail"), actor: try $0.text("actor"))
        }
    }

    public func leadsSubmitted(tenantId: String, from: Int64, to: Int64) async throws -> [Lead] {
        try await runner.query(SQLStatement("""
            SELECT \(LeadRows.columns) FROM leads WHERE tenant_id = ? AND created_at >= ? AND created_at < ? ORDER BY created_at, lead_id
            """, [.text(tenantId), .int(from), .int(to)])).map(LeadRows.lead)
    }

    public func createFollowUp(_ f: FollowUp, tenantId: String, audit: AuditEntry) async throws {
        try await runner.transaction([
            .require(SQLStatement("SELECT 1 FROM leads WHERE tenant_id = ? AND lead_id = ?", [.text(tenantId), .text(f.leadId)]), orElse: .notFound("lead \(f.leadId)")),
            .execute(SQLStatement("""
                INSERT INTO follow_ups (tenant_id, follow_up_id, lead_id, due_at, note, assignee, done_at, created_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)
                """, [.text(tenantId), .text(f.id), .text(f.leadId), .int(f.dueAt), .text(f.note), .nullable(f.assignee), .int(f.createdAt)])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func completeFollowUp(id: String, leadId: String, tenantId: String, at: Int64, audit: AuditEntry) async throws {
        try await runner.transaction([
            // The lead's row is held, so its history is numbered one line at a time.
            .postgresOnly(SQLStatement("SELECT 1 FROM leads WHERE tenant_id = ? AND lead_id = ? FOR UPDATE", [.text(tenantId), .text(leadId)])),
            .require(SQLStatement("""
                UPDATE follow_ups SET done_at = ? WHERE tenant_id = ? AND follow_up_id = ? AND lead_id = ? AND done_at IS NULL RETURNING follow_up_id
                """, [.int(at), .text(tenantId), .text(id), .text(leadId)]), orElse: .notFound("open follow-up \(id)")),
            .execute(SQLStatement("""
                INSERT INTO lead_activity (tenant_id, lead_id, at, seq, kind, detail, actor)
                SELECT ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM lead_activity WHERE tenant_id = ? AND lead_id = ?), 'followed_up', note, ?
                FROM follow_ups WHERE tenant_id = ? AND follow_up_id = ?
                """, [.text(tenantId), .text(leadId), .int(at), .text(tenantId), .text(leadId), .text(audit.actor), .text(tenantId), .text(id)])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func followUps(tenantId: String, leadId: String?, dueBefore: Int64?, assignee: String?, limit: Int) async throws -> [FollowUp] {
        var conditions = ["tenant_id = ?"]
        var binds: [Cell] = [.text(tenantId)]
        if let leadId {
            conditions.append("lead_id = ?")
            binds.append(.text(leadId))
        }
        if let dueBefore {
            conditions.append("done_at IS NULL AND due_at < ?")
            binds.append(.int(dueBefore))
        }
        if let assignee {
            conditions.append("assignee = ?")
            binds.append(.text(assignee))
        }
        return try await runner.query(SQLStatement("""
            SELECT follow_up_id, lead_id, due_at, note, assignee, done_at, created_at FROM follow_ups
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY due_at, follow_up_id LIMIT ?
            """, binds + [.int(Int64(limit))])).map {
            var f = FollowUp(id: try $0.text("follow_up_id"), leadId: try $0.text("lead_id"), dueAt: try $0.int("due_at"), note: try $0.text("note"),
                             assignee: $0.optionalText("assignee"), createdAt: try $0.int("created_at"))
            f.doneAt = $0.optionalInt("done_at")
            return f
        }
    }
}

enum LeadRows {
    /// One more line of the lead's history, numbered after the last.
    static func activity(_ a: LeadActivity, tenantId: String) -> SQLStatement {
        SQLStatement("""
            INSERT INTO lead_activity (tenant_id, lead_id, at, seq, kind, detail, actor)
            VALUES (?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM lead_activity WHERE tenant_id = ? AND lead_id = ?), ?, ?, ?)
            """, [.text(tenantId), .text(a.leadId), .int(a.at), .text(tenantId), .text(a.leadId), .text(a.kind), .text(a.detail), .text(a.actor)])
    }

    static let columns = """
        lead_id, account_id, open_id, name, phone, city, channel, domain, campaign, stage, lost_reason, assignee, won_value, submissions, created_at, \
        last_submitted_at, contacted_at, closed_at, version
        """

    static func cells(_ l: Lead) -> [Cell] {
        [.text(l.id), .text(l.accountId), .text(l.openId), .nullable(l.name), .nullable(l.phone), .nullable(l.city), .text(l.channel.rawValue),
         .text(l.domain.rawValue), .nullable(l.campaign), .text(l.stage.rawValue), .nullable(l.lostReason), .nullable(l.assignee), .nullable(l.wonValue),
         .int(Int64(l.submissions)), .int(l.createdAt), .int(l.lastSubmittedAt), .nullable(l.contactedAt), .nullable(l.closedAt), .int(l.version)]
    }

    static func lead(_ row: SQLRow) throws -> Lead {
        guard let stage = LeadStage(rawValue: try row.text("stage")) else { throw StoreError.corrupt("leads.stage") }
        var l = Lead(id: try row.text("lead_id"), accountId: try row.text("account_id"), openId: try row.text("open_id"), name: row.optionalText("name"),
                     phone: row.optionalText("phone"), city: row.optionalText("city"), channel: Channel(rawValue: try row.text("channel")) ?? .unknown,
                     domain: SourceDomain(rawValue: try row.text("domain")) ?? .public, campaign: row.optionalText("campaign"), at: try row.int("created_at"))
        l.stage = stage
        l.lostReason = row.optionalText("lost_reason")
        l.assignee = row.optionalText("assignee")
        l.wonValue = row.optionalInt("won_value")
        l.submissions = Int(try row.int("submissions"))
        l.lastSubmittedAt = try row.int("last_submitted_at")
        l.contactedAt = row.optionalInt("contacted_at")
        l.closedAt = row.optionalInt("closed_at")
        l.version = try row.int("version")
        return l
    }
}
