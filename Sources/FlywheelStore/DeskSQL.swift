import FlywheelDomain

/// The desk context, written once for both databases.
extension DeskStore where Self: SQLStore {
    public func deskSettings(of account: Account) async throws -> DeskSettings {
        guard let row = try await runner.query(SQLStatement("""
            SELECT first_response_minutes, next_response_minutes, business_days, business_start, business_end, assignment
            FROM desk_settings WHERE tenant_id = ? AND account_id = ?
            """, DeskRows.key(account))).first else { return .standard }
        var hours: BusinessHours?
        if let days = row.optionalText("business_days"), let start = row.optionalInt("business_start"), let end = row.optionalInt("business_end") {
            hours = BusinessHours(days: Set(days.split(separator: ",").compactMap { Int($0) }), start: Int(start), end: Int(end))
        }
        return DeskSettings(firstResponseMinutes: Int(try row.int("first_response_minutes")), nextResponseMinutes: Int(try row.int("next_response_minutes")),
                            businessHours: hours, assignment: AssignmentPolicy(rawValue: try row.text("assignment")) ?? .roundRobin)
    }

    public func setDeskSettings(_ settings: DeskSettings, of account: Account, audit: AuditEntry) async throws {
        let hours = settings.businessHours
        try await runner.transaction([
            .execute(SQLStatement("""
                INSERT INTO desk_settings (tenant_id, account_id, first_response_minutes, next_response_minutes, business_days, business_start, business_end, assignment)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (tenant_id, account_id) DO UPDATE SET first_response_minutes = excluded.first_response_minutes,
                  next_response_minutes = excluded.next_response_minutes, business_days = excluded.business_days,
                  business_start = excluded.business_start, business_end = excluded.business_end, assignment = excluded.assignment
                """, DeskRows.key(account) + [.int(Int64(settings.firstResponseMinutes)), .int(Int64(settings.nextResponseMinutes)),
                                              .nullable(hours.map { $0.days.sorted().map(String.init).joined(separator: ",") }),
                                              .nullable(hours.map { Int64($0.start) }), .nullable(hours.map { Int64($0.end) }),
                                              .text(settings.assignment.rawValue)])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func lastAssignee(of account: Account) async throws -> String? {
        try await runner.query(SQLStatement("SELECT last_assignee FROM desk_settings WHERE tenant_id = ? AND account_id = ?", DeskRows.key(account)))
            .first?.optionalText("last_assignee")
    }

    public func autoReplyRules(of account: Account) async throws -> [AutoReplyRule] {
        try await runner.query(SQLStatement("""
            SELECT \(DeskRows.ruleColumns) FROM auto_reply_rules WHERE tenant_id = ? AND account_id = ? ORDER BY priority DESC, created_at, rule_id
            """, DeskRows.key(account))).map(DeskRows.rule)
    }

    public func createAutoReplyRule(_ rule: AutoReplyRule, of account: Account, audit: AuditEntry) async throws {
        try await runner.transaction([
            .postgresOnly(SQLStatement("SELECT pg_advisory_xact_lock(hashtext(?))", [.text("auto_reply_rules:" + account.id)])),
            .forbid(SQLStatement("SELECT 1 WHERE (SELECT COUNT(*) FROM auto_reply_rules WHERE tenant_id = ? AND account_id = ?) >= ?",
                                 DeskRows.key(account) + [.int(Int64(AutoReplyRule.maxPerAccount))]),
                    orElse: .conflict(field: "rules", "an account has at most \(AutoReplyRule.maxPerAccount) automatic replies")),
            .execute(SQLStatement("INSERT INTO auto_reply_rules (tenant_id, \(DeskRows.ruleColumns)) VALUES (?, \(SQLStatement.placeholders(12)))",
                                  [.text(account.tenantId)] + DeskRows.cells(rule))),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func deleteAutoReplyRule(id: String, of account: Account, audit: AuditEntry) async throws {
        try await runner.transaction([
            .require(SQLStatement("DELETE FROM auto_reply_rules WHERE tenant_id = ? AND account_id = ? AND rule_id = ? RETURNING rule_id",
                                  DeskRows.key(account) + [.text(id)]), orElse: .notFound("automatic reply \(id)")),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func agents(tenantId: String) async throws -> [Agent] {
        let served = try await runner.query(SQLStatement("SELECT user_id, account_id FROM desk_agent_accounts WHERE tenant_id = ?", [.text(tenantId)]))
        var accounts: [String: Set<String>] = [:]
        for row in served { accounts[try row.text("user_id"), default: []].insert(try row.text("account_id")) }
        return try await runner.query(SQLStatement("""
            SELECT a.user_id, u.name, a.capacity, a.available FROM desk_agents a JOIN users u ON u.tenant_id = a.tenant_id AND u.user_id = a.user_id
            WHERE a.tenant_id = ? ORDER BY u.name, a.user_id
            """, [.text(tenantId)])).map { row in
            let id = try row.text("user_id")
            return Agent(userId: id, name: try row.text("name"), capacity: Int(try row.int("capacity")), accountIds: accounts[id] ?? [],
                         available: try row.int("available") == 1)
        }
    }

    public func setAgent(_ agent: Agent, tenantId: String, audit: AuditEntry) async throws {
        let who: [Cell] = [.text(tenantId), .text(agent.userId)]
        try await runner.transaction([
            .require(SQLStatement("SELECT 1 FROM users WHERE tenant_id = ? AND user_id = ?", who), orElse: .notFound("user \(agent.userId)")),
            .execute(SQLStatement("""
                INSERT INTO desk_agents (tenant_id, user_id, capacity, available) VALUES (?, ?, ?, ?)
                ON CONFLICT (tenant_id, user_id) DO UPDATE SET capacity = excluded.capacity, available = excluded.available
                """, who + [.int(Int64(agent.capacity)), .int(agent.available ? 1 : 0)])),
            .execute(SQLStatement("DELETE FROM desk_agent_accounts WHERE tenant_id = ? AND user_id = ?", who)),
        ] + agent.accountIds.sorted().map {
            .execute(SQLStatement("INSERT INTO desk_agent_accounts (tenant_id, user_id, account_id) VALUES (?, ?, ?)", who + [.text($0)]))
        } + [.execute(TenancyRows.record(audit))])
    }

    public func removeAgent(userId: String, tenantId: String, audit: AuditEntry) async throws {
        let who: [Cell] = [.text(tenantId), .text(userId)]
        try await runner.transaction([
            .execute(SQLStatement("DELETE FROM desk_agent_accounts WHERE tenant_id = ? AND user_id = ?", who)),
            .require(SQLStatement("DELETE FROM desk_agents WHERE tenant_id = ? AND user_id = ? RETURNING user_id", who), orElse: .notFound("agent \(userId)")),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func agentLoads(tenantId: String) async throws -> [String: Int] {
        var loads: [String: Int] = [:]
        for row in try await runner.query(SQLStatement("""
            SELECT assignee, COUNT(*) AS n FROM conversations WHERE tenant_id = ? AND assignee IS NOT NULL AND state = 'assigned' GROUP BY assignee
            """, [.text(tenantId)])) {
            loads[try row.text("assignee")] = Int(try row.int("n"))
        }
        return loads
    }

    public func cannedReplies(tenantId: String) async throws -> [CannedReply] {
        try await runner.query(SQLStatement("SELECT reply_id, title, text, created_at FROM canned_replies WHERE tenant_id = ? ORDER BY title, reply_id",
                                            [.text(tenantId)])).map {
            CannedReply(id: try $0.text("reply_id"), title: try $0.text("title"), text: try $0.text("text"), createdAt: try $0.int("created_at"))
        }
    }

    public func createCannedReply(_ reply: CannedReply, tenantId: String, audit: AuditEntry) async throws {
        try await runner.transaction([
            .execute(SQLStatement("INSERT INTO canned_replies (tenant_id, reply_id, title, text, created_at) VALUES (?, ?, ?, ?, ?)",
                                  [.text(tenantId), .text(reply.id), .text(reply.title), .text(reply.text), .int(reply.createdAt)])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func deleteCannedReply(id: String, tenantId: String, audit: AuditEntry) async throws {
        try await runner.transaction([
            .require(SQLStatement("DELETE FROM canned_replies WHERE tenant_id = ? AND reply_id = ? RETURNING reply_id", [.text(tenantId), .text(id)]),
                     orElse: .notFound("canned reply \(id)")),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func conversations(of accounts: [Account], filter: ConversationFilter, cursor: String?, limit: Int) async throws -> Page<ConversationSummary> {
        guard let tenantId = accounts.first?.tenantId else { return Page(items: [], nextCursor: nil) }
        var conditions = ["c.tenant_id = ?", "c.account_id IN (\(SQLStatement.placeholders(accounts.count)))"]
        var binds: [Cell] = [.text(tenantId)] + accounts.map { .text($0.id) }
        if !filter.states.isEmpty {
            conditions.append("c.state IN (\(SQLStatement.placeholders(filter.states.count)))")
            binds += filter.states.map(\.rawValue).sorted().map(Cell.text)
        }
        if let assignee = filter.assignee {
            conditions.append("c.assignee = ?")
            binds.append(.text(assignee))
        }
        if filter.unassignedOnly { conditions.append("c.assignee IS NULL") }
        if filter.unreadOnly { conditions.append("c.unread > 0") }
        if let wait = filter.waitingAtLeast {
            conditions.append("c.waiting_since IS NOT NULL AND c.waiting_since <= ?")
            binds.append(.int(filter.now.saturatingSubtract(wait)))
        }
        if let tier = filter.tier {
            conditions.append("f.tier = ?")
            binds.append(.int(Int64(tier.rawValue)))
        }
        if let segment = filter.segmentId {
            conditions.append("EXISTS (SELECT 1 FROM segment_members s WHERE s.tenant_id = c.tenant_id AND s.account_id = c.account_id AND s.segment_id = ? AND s.open_id = c.open_id)")
            binds.append(.text(segment))
        }
        if let search = filter.search?.lowercased(), !search.isEmpty {
            let like = SQLStatement.containing(search)
            conditions.append("""
                (LOWER(c.open_id) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(f.nickname, '')) LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM desk_messages m
                  WHERE m.tenant_id = c.tenant_id AND m.account_id = c.account_id AND m.open_id = c.open_id AND LOWER(COALESCE(m.text, '')) LIKE ? ESCAPE '\\'))
                """)
            binds += [like, like, like]
        }
        if let cursor, let after = DeskRows.conversationCursor(cursor) {
            conditions.append("(c.last_message_at < ? OR (c.last_message_at = ? AND (c.account_id > ? OR (c.account_id = ? AND c.open_id > ?))))")
            binds += [.int(after.at), .int(after.at), .text(after.account), .text(after.account), .text(after.openId)]
        }
        let rows = try await runner.query(SQLStatement("""
            SELECT \(DeskRows.conversationColumns(by: "c")), f.nickname,
              (SELECT COALESCE(m.text, m.message_type) FROM desk_messages m WHERE m.tenant_id = c.tenant_id AND m.account_id = c.account_id
                 AND m.open_id = c.open_id AND m.author <> 'note' ORDER BY m.at DESC LIMIT 1) AS last_text
            FROM conversations c LEFT JOIN fans f ON f.tenant_id = c.tenant_id AND f.account_id = c.account_id AND f.open_id = c.open_id
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY c.last_message_at DESC, c.account_id, c.open_id LIMIT ?
            """, binds + [.int(Int64(limit + 1))]))
        let items = try rows.prefix(limit).map {
            ConversationSummary(conversation: try DeskRows.conversation($0), nickname: $0.optionalText("nickname"), lastText: $0.optionalText("last_text"))
        }
        let next = rows.count > limit ? items.last.map { "\($0.conversation.lastMessageAt)|\($0.conversation.accountId)|\($0.conversation.openId)" } : nil
        return Page(items: items, nextCursor: next)
    }

    public func conversation(of account: Account, openId: String) async throws -> Conversation? {
        try await conversations(of: account, openIds: [openId])[openId]
    }

    public func conversations(of account: Account, openIds: [String]) async throws -> [String: Conversation] {
        var found: [String: Conversation] = [:]
        for chunk in stride(from: 0, to: openIds.count, by: 500).map({ Array(openIds[$0..<min($0 + 500, openIds.count)]) }) {
            for row in try await runner.query(SQLStatement("""
                SELECT \(DeskRows.conversationColumns(by: "c")) FROM conversations c
                WHERE c.tenant_id = ? AND c.account_id = ? AND c.open_id IN (\(SQLStatement.placeholders(chunk.count)))
                """, DeskRows.key(account) + chunk.map(Cell.text))) {
                let c = try DeskRows.conversation(row)
                found[c.openId] = c
            }
        }
        return found
    }

    public func messages(of account: Account, openId: String, cursor: String?, limit: Int) async throws -> Page<DeskMessage> {
        var condition = ""
        var binds = DeskRows.key(account) + [.text(openId)]
        if let cursor, let bar = cursor.firstIndex(of: "|"), let at = Int64(cursor[..<bar]) {
            condition = "AND (at < ? OR (at = ? AND message_id < ?))"
            binds += [.int(at), .int(at), .text(String(cursor[cursor.index(after: bar)...]))]
        }
        let rows = try await runner.query(SQLStatement("""
            SELECT \(DeskRows.messageColumns) FROM desk_messages WHERE tenant_id = ? AND account_id = ? AND open_id = ? \(condition)
            ORDER BY at DESC, message_id DESC LIMIT ?
            """, binds + [.int(Int64(limit + 1))]))
        let newest = try rows.prefix(limit).map(DeskRows.message)
        let next = rows.count > limit ? newest.last.map { "\($0.at)|\($0.id)" } : nil
        return Page(items: newest.reversed(), nextCursor: next)
    }

    public func deskMessage(id: String, of account: Account) async throws -> DeskMessage? {
        try await runner.query(SQLStatement("SELECT \(DeskRows.messageColumns) FROM desk_messages WHERE tenant_id = ? AND account_id = ? AND message_id = ?",
                                            DeskRows.key(account) + [.text(id)])).first.map(DeskRows.message)
    }

    public func deskEvents(of account: Account, openId: String, limit: Int) async throws -> [DeskEvent] {
        try await runner.query(SQLStatement("""
            SELECT account_id, open_id, at, kind, agent, detail FROM desk_events WHERE tenant_id = ? AND account_id = ? AND open_id = ?
            ORDER BY at DESC, event_id DESC LIMIT ?
            """, DeskRows.key(account) + [.text(openId), .int(Int64(limit))])).map(DeskRows.event)
    }

    public func accountsWithDeskWork(now: Int64) async throws -> [Account] {
        try await runner.query(SQLStatement("""
            SELECT \(TenancyRows.qualified(TenancyRows.accountColumns, by: "a")) FROM accounts a
            WHERE EXISTS (SELECT 1 FROM desk_pending p WHERE p.tenant_id = a.tenant_id AND p.account_id = a.account_id)
              OR EXISTS (SELECT 1 FROM conversations c WHERE c.tenant_id = a.tenant_id AND c.account_id = a.account_id
                         AND c.due_at IS NOT NULL AND c.breached_at IS NULL AND c.due_at <= ?)
              OR EXISTS (SELECT 1 FROM desk_agent_accounts g JOIN desk_agents d ON d.tenant_id = g.tenant_id AND d.user_id = g.user_id
                         WHERE g.tenant_id = a.tenant_id AND g.account_id = a.account_id AND d.available = 1
                         AND d.capacity > (SELECT COUNT(*) FROM conversations h WHERE h.tenant_id = d.tenant_id AND h.assignee = d.user_id AND h.state = 'assigned')
                         AND EXISTS (SELECT 1 FROM conversations c WHERE c.tenant_id = a.tenant_id AND c.account_id = a.account_id AND c.state = 'queued'))
            ORDER BY a.tenant_id, a.account_id
            """, [.int(now)])).map(TenancyRows.account)
    }

    public func pendingDeskMessages(of account: Account, limit: Int) async throws -> [PendingDeskMessage] {
        try await runner.query(SQLStatement("""
            SELECT p.seq, \(DeskRows.messageColumns(by: "m")) FROM desk_pending p
            JOIN desk_messages m ON m.tenant_id = p.tenant_id AND m.account_id = p.account_id AND m.message_id = p.message_id
            WHERE p.tenant_id = ? AND p.account_id = ? ORDER BY p.seq, p.message_id LIMIT ?
            """, DeskRows.key(account) + [.int(Int64(limit))])).map { PendingDeskMessage(seq: try $0.int("seq"), message: try DeskRows.message($0)) }
    }

    public func overdueConversations(of account: Account, now: Int64, limit: Int) async throws -> [Conversation] {
        try await runner.query(SQLStatement("""
            SELECT \(DeskRows.conversationColumns(by: "c")) FROM conversations c
            WHERE c.tenant_id = ? AND c.account_id = ? AND c.due_at IS NOT NULL AND c.breached_at IS NULL AND c.due_at <= ?
            ORDER BY c.due_at LIMIT ?
            """, DeskRows.key(account) + [.int(now), .int(Int64(limit))])).map(DeskRows.conversation)
    }

    public func queuedConversations(of account: Account, limit: Int) async throws -> [Conversation] {
        try await runner.query(SQLStatement("""
            SELECT \(DeskRows.conversationColumns(by: "c")) FROM conversations c WHERE c.tenant_id = ? AND c.account_id = ? AND c.state = 'queued'
            ORDER BY COALESCE(c.waiting_since, c.last_message_at), c.open_id LIMIT ?
            """, DeskRows.key(account) + [.int(Int64(limit))])).map(DeskRows.conversation)
    }

    public func unconfirmedOutbox(of account: Account, openIds: [String]) async throws -> [String: [OutboxMessage]] {
        var found: [String: [OutboxMessage]] = [:]
        for chunk in stride(from: 0, to: openIds.count, by: 500).map({ Array(openIds[$0..<min($0 + 500, openIds.count)]) }) {
            for row in try await runner.query(SQLStatement("""
                SELECT tenant_id, \(DeskRows.outboxColumns) FROM outbox
                WHERE tenant_id = ? AND account_id = ? AND open_id IN (\(SQLStatement.placeholders(chunk.count))) AND attempts > 0
                  AND state IN ('pending', 'sending', 'sent') AND confirmed_at IS NULL
                ORDER BY created_at, outbox_id
                """, DeskRows.key(account) + chunk.map(Cell.text))) {
                let message = try DeskRows.outbox(row)
                found[message.openId, default: []].append(message)
            }
        }
        return found
    }

    public func commitDesk(_ change: DeskChange, tenantId: String) async throws {
        guard !change.isEmpty else { return }
        try await runner.transaction(DeskRows.steps(change, tenantId: tenantId))
    }

    public func deskResponses(of accounts: [Account], from: Int64, to: Int64) async throws -> [DeskResponse] {
        guard let tenantId = accounts.first?.tenantId else { return [] }
        return try await runner.query(SQLStatement("""
            SELECT account_id, open_id, answered_at, answered_by, first, waited, within_target FROM desk_responses
            WHERE tenant_id = ? AND account_id IN (\(SQLStatement.placeholders(accounts.count))) AND answered_at >= ? AND answered_at < ?
            ORDER BY answered_at
            """, [.text(tenantId)] + accounts.map { .text($0.id) } + [.int(from), .int(to)])).map {
            DeskResponse(accountId: try $0.text("account_id"), openId: try $0.text("open_id"), answeredAt: try $0.int("answered_at"),
                         by: try $0.text("answered_by"), first: try $0.int("first") == 1, waited: try $0.int("waited"),
                         withinTarget: try $0.int("within_target") == 1)
        }
    }

    public func deskBreaches(of accounts: [Account], from: Int64, to: Int64) async throws -> [DeskEvent] {
        guard let tenantId = accounts.first?.tenantId else { return [] }
        return try await runner.query(SQLStatement("""
            SELECT account_id, open_id, at, kind, agent, detail FROM desk_events
            WHERE tenant_id = ? AND account_id IN (\(SQLStatement.placeholders(accounts.count))) AND kind = 'sla_breached' AND at >= ? AND at < ?
            ORDER BY at
            """, [.text(tenantId)] + accounts.map { .text($0.id) } + [.int(from), .int(to)])).map(DeskRows.event)
    }

    public func proactiveMessages(of account: Account, openId: String, since: Int64) async throws -> Int {
        Int(try await runner.query(SQLStatement("""
            SELECT COUNT(*) AS n FROM outbox WHERE tenant_id = ? AND account_id = ? AND open_id = ? AND created_at >= ? AND reply_to IS NULL
              AND state <> 'failed'
            """, DeskRows.key(account) + [.text(openId), .int(since)])).first?.int("n") ?? 0)
    }

    public func claimOutbox(now: Int64, limit: Int) async throws -> [OutboxMessage] {
        try await runner.transaction([.execute(SQLStatement("""
            UPDATE outbox SET state = 'sending', claimed_at = ?, attempts = attempts + 1
            WHERE state = 'pending' AND (tenant_id, outbox_id) IN (
              SELECT tenant_id, outbox_id FROM outbox WHERE state IN ('pending', 'sending') AND state = 'pending' AND next_attempt_at <= ?
              ORDER BY next_attempt_at LIMIT ?)
            RETURNING tenant_id, \(DeskRows.outboxColumns)
            """, [.int(now), .int(now), .int(Int64(limit))]))]).map(DeskRows.outbox)
    }

    public func inDoubtOutbox(before: Int64, limit: Int) async throws -> [OutboxMessage] {
        try await runner.query(SQLStatement("""
            SELECT tenant_id, \(DeskRows.outboxColumns) FROM outbox WHERE state IN ('pending', 'sending') AND state = 'sending' AND claimed_at < ?
            ORDER BY next_attempt_at LIMIT ?
            """, [.int(before), .int(Int64(limit))])).map(DeskRows.outbox)
    }

    public func finishOutbox(_ messages: [OutboxMessage]) async throws {
        guard !messages.isEmpty else { return }
        var steps: [SQLStep] = []
        for message in messages {
            let tenant = Cell.text(message.tenantId)
            let status: MessageStatus = switch message.state {
            case .sent: .sent
            case .failed: .failed
            case .pending, .sending: .queued
            }
            steps.append(.execute(SQLStatement("""
                UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, platform_id = ?, sent_at = ?
                WHERE tenant_id = ? AND outbox_id = ? AND state = 'sending' AND claimed_at = ?
                """, [.text(message.state.rawValue), .int(Int64(message.attempts)), .int(message.nextAttemptAt), .nullable(message.lastError),
                      .nullable(message.platformId), .nullable(message.sentAt), tenant, .text(message.id), .nullable(message.claimedAt)])))
            // The thread follows only when the outbox took the outcome (an echo may have settled it first).
            steps.append(.execute(SQLStatement("""
                UPDATE desk_messages SET status = ?, platform_id = COALESCE(platform_id, ?), error = ?
                WHERE tenant_id = ? AND account_id = ? AND message_id = ?
                  AND EXISTS (SELECT 1 FROM outbox WHERE tenant_id = ? AND outbox_id = ? AND state = ? AND attempts = ?)
                """, [.text(status.rawValue), .nullable(message.platformId), .nullable(message.state == .failed ? message.lastError : nil), tenant,
                      .text(message.accountId), .text(message.messageId), tenant, .text(message.id), .text(message.state.rawValue),
                      .int(Int64(message.attempts))])))
            steps += ReachRows.followUp(message)
        }
        try await runner.transaction(steps)
    }

    public func outboxCounts() async throws -> [OutboxState: Int] {
        var counts: [OutboxState: Int] = [:]
        for row in try await runner.query(SQLStatement("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")) {
            if let state = OutboxState(rawValue: try row.text("state")) { counts[state] = Int(try row.int("n")) }
        }
        return counts
    }
}

/// Rows of the desk's tables and the values they hold.
enum DeskRows {
    static func key(_ account: Account) -> [Cell] { [.text(account.tenantId), .text(account.id)] }

    /// Messages Flywheel decided to send: each shown in the fan's thread, each queued in the
    /// outbox; a decision made twice writes nothing the second time.
    static func queued(_ messages: [DeskMessage], outbox: [OutboxMessage], tenantId: String) -> [SQLStep] {
        messages.map { m in
            .execute(SQLStatement("""
                INSERT INTO desk_messages (tenant_id, \(DeskRows.messageColumns)) VALUES (?, \(SQLStatement.placeholders(12)))
                ON CONFLICT (tenant_id, account_id, message_id) DO NOTHING
                """, [.text(tenantId)] + DeskRows.cells(m)))
        } + outbox.map { .execute(ReachRows.insert($0)) }
    }

    static let ruleColumns = "account_id, rule_id, name, trigger_kind, pattern, priority, hours, reply_type, reply_text, reply_ref, enabled, created_at"

    /// The values of `ruleColumns`, in order.
    static func cells(_ r: AutoReplyRule) -> [Cell] {
        [.text(r.accountId), .text(r.id), .text(r.name), .text(r.trigger.name), .nullable(r.trigger.pattern), .int(Int64(r.priority)), .text(r.hours.rawValue),
         .text(r.reply.typeName), .nullable(r.reply.text), .nullable(r.reply.ref), .int(r.enabled ? 1 : 0), .int(r.createdAt)]
    }

    static func rule(_ row: SQLRow) throws -> AutoReplyRule {
        do {
            return AutoReplyRule(id: try row.text("rule_id"), accountId: try row.text("account_id"), name: try row.text("name"),
                                 trigger: try AutoReplyRule.Trigger(name: try row.text("trigger_kind"), pattern: row.optionalText("pattern")),
                                 priority: Int(try row.int("priority")), hours: AutoReplyRule.Hours(rawValue: try row.text("hours")) ?? .always,
                                 reply: try MessageContent(typeName: try row.text("reply_type"), text: row.optionalText("reply_text"), ref: row.optionalText("reply_ref"),
                                                           field: "reply"),
                                 enabled: try row.int("enabled") == 1, createdAt: try row.int("created_at"))
        } catch let problem as EventProblem {
            throw StoreError.corrupt("auto_reply_rules: \(problem)")
        }
    }

    static func conversationColumns(by alias: String) -> String {
        ["account_id", "open_id", "state", "assignee", "created_at", "last_message_at", "last_fan_message_at", "reply_to", "waiting_since", "due_at",
         "breached_at", "answered", "unread", "welcomed_at", "granted_until", "version"].map { "\(alias).\($0)" }.joined(separator: ", ")
    }

    static func conversation(_ row: SQLRow) throws -> Conversation {
        var c = Conversation(accountId: try row.text("account_id"), openId: try row.text("open_id"), at: try row.int("created_at"))
        guard let state = ConversationState(rawValue: try row.text("state")) else { throw StoreError.corrupt("conversations.state") }
        c.state = state
        c.assignee = row.optionalText("assignee")
        c.lastMessageAt = try row.int("last_message_at")
        c.lastFanMessageAt = row.optionalInt("last_fan_message_at")
        c.replyTo = row.optionalText("reply_to")
        c.waitingSince = row.optionalInt("waiting_since")
        c.dueAt = row.optionalInt("due_at")
        c.breachedAt = row.optionalInt("breached_at")
        c.answered = try row.int("answered") == 1
        c.unread = Int(try row.int("unread"))
        c.welcomedAt = row.optionalInt("welcomed_at")
        c.grantedUntil = row.optionalInt("granted_until")
        c.version = try row.int("version")
        return c
    }

    static let messageColumns = messageColumns(by: nil)

    static func messageColumns(by alias: String?) -> String {
        ["account_id", "message_id", "open_id", "at", "author", "author_id", "message_type", "text", "ref", "platform_id", "status", "error"]
            .map { column in alias.map { "\($0).\(column)" } ?? column }.joined(separator: ", ")
    }

    static func cells(_ m: DeskMessage) -> [Cell] {
        [.text(m.accountId), .text(m.id), .text(m.openId), .int(m.at), .text(m.author.rawValue), .nullable(m.authorId), .text(m.messageType),
         .nullable(m.text), .nullable(m.ref), .nullable(m.platformId), .text(m.status.rawValue), .nullable(m.error)]
    }

    static func message(_ row: SQLRow) throws -> DeskMessage {
        guard let author = MessageAuthor(rawValue: try row.text("author")), let status = MessageStatus(rawValue: try row.text("status")) else {
            throw StoreError.corrupt("desk_messages.author or status")
        }
        return DeskMessage(accountId: try row.text("account_id"), openId: try row.text("open_id"), id: try row.text("message_id"), at: try row.int("at"),
                           author: author, authorId: row.optionalText("author_id"), messageType: try row.text("message_type"), text: row.optionalText("text"),
                           ref: row.optionalText("ref"), platformId: row.optionalText("platform_id"), status: status, error: row.optionalText("error"))
    }

    static func event(_ row: SQLRow) throws -> DeskEvent {
        guard let kind = DeskEvent.Kind(rawValue: try row.text("kind")) else { throw StoreError.corrupt("desk_events.kind") }
        return DeskEvent(accountId: try row.text("account_id"), openId: try row.text("open_id"), at: try row.int("at"), kind: kind,
                         agent: row.optionalText("agent"), detail: row.optionalText("detail"))
    }

    static let outboxColumns = """
        outbox_id, idempotency_key, account_id, open_id, reply_to, reply_by, content_type, content_text, content_ref, message_id, state, attempts, \
        next_attempt_at, claimed_at, last_error, platform_id, created_at, sent_at, action, target
        """

    static func cells(_ o: OutboxMessage) -> [Cell] {
        [.text(o.id), .text(o.idempotencyKey), .text(o.accountId), .text(o.openId), .nullable(o.replyTo), .nullable(o.replyBy), .text(o.content.typeName),
         .nullable(o.content.text), .nullable(o.content.ref), .text(o.messageId), .text(o.state.rawValue), .int(Int64(o.attempts)), .int(o.nextAttemptAt),
         .nullable(o.claimedAt), .nullable(o.lastError), .nullable(o.platformId), .int(o.createdAt), .nullable(o.sentAt), .text(o.action.rawValue),
         .nullable(o.target)]
    }

    static func outbox(_ row: SQLRow) throws -> OutboxMessage {
        let content: MessageContent
        do {
            content = try MessageContent(typeName: try row.text("content_type"), text: row.optionalText("content_text"), ref: row.optionalText("content_ref"),
                                         field: "content")
        } catch {
            throw StoreError.corrupt("outbox.content: \(error)")
        }
        guard let state = OutboxState(rawValue: try row.text("state")) else { throw StoreError.corrupt("outbox.state") }
        guard let action = OutboxAction(rawValue: try row.text("action")) else { throw StoreError.corrupt("outbox.action") }
        var o = OutboxMessage(tenantId: try row.text("tenant_id"), id: try row.text("outbox_id"), idempotencyKey: try row.text("idempotency_key"),
                              accountId: try row.text("account_id"), openId: try row.text("open_id"), replyTo: row.optionalText("reply_to"),
                              replyBy: row.optionalInt("reply_by"), content: content, messageId: try row.text("message_id"), createdAt: try row.int("created_at"),
                              action: action, target: row.optionalText("target"))
        o.state = state
        o.attempts = Int(try row.int("attempts"))
        o.nextAttemptAt = try row.int("next_attempt_at")
        o.claimedAt = row.optionalInt("claimed_at")
        o.lastError = row.optionalText("last_error")
        o.platformId = row.optionalText("platform_id")
        o.sentAt = row.optionalInt("sent_at")
        return o
    }

    /// `at|account|open_id` of the last conversation of a page.
    static func conversationCursor(_ cursor: String) -> (at: Int64, account: String, openId: String)? {
        let parts = cursor.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let at = Int64(parts[0]) else { return nil }
        return (at, parts[1], parts[2])
    }
}

extension DeskRows {
    /// The statements of a desk change, for `commitDesk` and for other contexts whose decisions
    /// queue a message in the same transaction (a journey's DM).
    static func steps(_ change: DeskChange, tenantId: String) -> [SQLStep] {
        let tenant = Cell.text(tenantId)
        let account = Cell.text(change.accountId)
        var steps: [SQLStep] = []
        for h in change.handled {
            steps.append(.require(SQLStatement("DELETE FROM desk_pending WHERE tenant_id = ? AND account_id = ? AND seq = ? AND message_id = ? RETURNING seq",
                                               [tenant, account, .int(h.seq), .text(h.messageId)]),
                                  orElse: .refused(.changedMeanwhile)))
        }
        for (c, readVersion) in change.conversations {
            let values: [Cell] = [.text(c.state.rawValue), .nullable(c.assignee), .int(c.lastMessageAt), .nullable(c.lastFanMessageAt), .nullable(c.replyTo),
                                  .nullable(c.waitingSince), .nullable(c.dueAt), .nullable(c.breachedAt), .int(c.answered ? 1 : 0), .int(Int64(c.unread)),
                                  .nullable(c.welcomedAt), .nullable(c.grantedUntil)]
            if let readVersion {
                steps.append(.require(SQLStatement("""
                    UPDATE conversations SET state = ?, assignee = ?, last_message_at = ?, last_fan_message_at = ?, reply_to = ?, waiting_since = ?,
                      due_at = ?, breached_at = ?, answered = ?, unread = ?, welcomed_at = ?, granted_until = ?, version = version + 1
                    WHERE tenant_id = ? AND account_id = ? AND open_id = ? AND version = ? RETURNING version
                    """, values + [tenant, .text(c.accountId), .text(c.openId), .int(readVersion)]), orElse: .refused(.changedMeanwhile)))
            } else {
                steps.append(.forbid(SQLStatement("SELECT 1 FROM conversations WHERE tenant_id = ? AND account_id = ? AND open_id = ?",
                                                  [tenant, .text(c.accountId), .text(c.openId)]), orElse: .refused(.changedMeanwhile)))
                steps.append(.execute(SQLStatement("""
                    INSERT INTO conversations (state, assignee, last_message_at, last_fan_message_at, reply_to, waiting_since, due_at, breached_at,
                      answered, unread, welcomed_at, granted_until, tenant_id, account_id, open_id, created_at, version)
                    VALUES (\(SQLStatement.placeholders(17)))
                    """, values + [tenant, .text(c.accountId), .text(c.openId), .int(c.createdAt), .int(0)])))
            }
        }
        if let cap = change.proactiveCap {
            steps.append(.postgresOnly(SQLStatement("SELECT pg_advisory_xact_lock(hashtext(?))", [.text("proactive:\(change.accountId):\(cap.openId)")])))
            steps.append(.forbid(SQLStatement("""
                SELECT 1 WHERE (SELECT COUNT(*) FROM outbox WHERE tenant_id = ? AND account_id = ? AND open_id = ? AND created_at >= ? AND reply_to IS NULL
                  AND state <> 'failed') >= ?
                """, [tenant, account, .text(cap.openId), .int(cap.since), .int(Int64(Conversation.proactivePerDay))]), orElse: .refused(.changedMeanwhile)))
        }
        for m in change.messages {
            steps.append(.execute(SQLStatement("""
                INSERT INTO desk_messages (tenant_id, \(DeskRows.messageColumns)) VALUES (?, \(SQLStatement.placeholders(12)))
                ON CONFLICT (tenant_id, account_id, message_id) DO NOTHING
                """, [tenant] + DeskRows.cells(m))))
        }
        for o in change.outbox {
            steps.append(.execute(SQLStatement("""
                INSERT INTO outbox (tenant_id, \(DeskRows.outboxColumns)) VALUES (?, \(SQLStatement.placeholders(20)))
                ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
                """, [tenant] + DeskRows.cells(o))))
        }
        for s in change.statuses {
            steps.append(.execute(SQLStatement("""
                UPDATE desk_messages SET status = ?, platform_id = COALESCE(?, platform_id), error = ? WHERE tenant_id = ? AND account_id = ? AND message_id = ?
                """, [.text(s.status.rawValue), .nullable(s.platformId), .nullable(s.error), tenant, account, .text(s.messageId)])))
        }
        for e in change.echoes {
            steps.append(.execute(SQLStatement("DELETE FROM desk_messages WHERE tenant_id = ? AND account_id = ? AND message_id = ?", [tenant, account, .text(e)])))
        }
        for c in change.confirmed {
            steps.append(.execute(SQLStatement("""
                UPDATE outbox SET state = 'sent', platform_id = COALESCE(platform_id, ?), sent_at = COALESCE(sent_at, ?), confirmed_at = ?, last_error = NULL
                WHERE tenant_id = ? AND outbox_id = ?
                """, [.nullable(c.platformId), .int(c.at), .int(c.at), tenant, .text(c.outboxId)])))
        }
        for (i, e) in change.events.enumerated() {
            steps.append(.execute(SQLStatement("""
                INSERT INTO desk_events (tenant_id, event_id, account_id, open_id, at, kind, agent, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (tenant_id, event_id) DO NOTHING
                """, [tenant, .text("\(e.accountId)|\(e.openId)|\(e.at)|\(e.kind.rawValue)|\(i)|\(e.agent ?? "")"), .text(e.accountId), .text(e.openId),
                      .int(e.at), .text(e.kind.rawValue), .nullable(e.agent), .nullable(e.detail)])))
        }
        for r in change.responses {
            steps.append(.execute(SQLStatement("""
                INSERT INTO desk_responses (tenant_id, account_id, open_id, answered_at, answered_by, first, waited, within_target) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (tenant_id, account_id, open_id, answered_at) DO NOTHING
                """, [tenant, .text(r.accountId), .text(r.openId), .int(r.answeredAt), .text(r.by), .int(r.first ? 1 : 0), .int(r.waited),
                      .int(r.withinTarget ? 1 : 0)])))
        }
        if let last = change.lastAssignee {
            steps.append(.execute(SQLStatement("""
                INSERT INTO desk_settings (tenant_id, account_id, first_response_minutes, next_response_minutes, assignment, last_assignee)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, account_id) DO UPDATE SET last_assignee = excluded.last_assignee
                """, [tenant, account, .int(Int64(DeskSettings.standard.firstResponseMinutes)), .int(Int64(DeskSettings.standard.nextResponseMinutes)),
                      .text(DeskSettings.standard.assignment.rawValue), .text(last)])))
        }
        if let touch = change.touch {
            steps += ReachRows.touches(touch, tenantId: tenantId, accountId: change.accountId)
        }
        if let audit = change.audit { steps.append(.execute(TenancyRows.record(audit))) }
        return steps
    }
}
