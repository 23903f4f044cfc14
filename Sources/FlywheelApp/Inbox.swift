import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// The desk's conversations: lists, threads, replies, notes, hand-offs and the SLA report. An
/// agent sees only the accounts they serve, and answers only what is theirs or nobody's.
public struct Inbox: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    /// The accounts of `accounts` the caller may work in: all of them, or for an agent those they serve.
    public func workable(_ accounts: [Account], by caller: Principal) async throws -> [Account] {
        guard caller.role == .agent else { return accounts }
        let served = try await env.store.agents(tenantId: caller.tenantId).first { $0.userId == caller.userId }?.accountIds ?? []
        return accounts.filter { served.contains($0.id) }
    }

    func check(_ account: Account, _ caller: Principal) async throws {
        guard try await !workable([account], by: caller).isEmpty else {
            throw UseCaseError.notFound("account \(account.id) (an agent sees the accounts they serve; an admin sets them with PUT /v1/agents/{userId})")
        }
    }

    public func conversations(of account: Account, filter: ConversationFilter, cursor: String?, limit: Int, by caller: Principal) async throws -> Page<ConversationSummary> {
        try caller.authorize(.listConversations)
        try await check(account, caller)
        return try await env.store.conversations(of: [account], filter: filter, cursor: cursor, limit: limit)
    }

    public func thread(of openId: String, in account: Account, cursor: String?, limit: Int, by caller: Principal)
        async throws -> (conversation: Conversation, messages: Page<DeskMessage>, events: [DeskEvent], canSend: Bool) {
        try caller.authorize(.readConversation)
        try await check(account, caller)
        guard let c = try await env.store.conversation(of: account, openId: openId) else { throw UseCaseError.notFound("conversation with fan \(openId)") }
        return (c, try await env.store.messages(of: account, openId: openId, cursor: cursor, limit: limit),
                try await env.store.deskEvents(of: account, openId: openId, limit: 50), try await flywheel.desk.canSend(account))
    }

    /// Refuses an agent's act on a conversation another agent has.
    func mayWork(_ openId: String, in account: Account, by caller: Principal) async throws {
        try await check(account, caller)
        guard let c = try await env.store.conversation(of: account, openId: openId) else { throw UseCaseError.notFound("conversation with fan \(openId)") }
        if caller.role == .agent, let assignee = c.assignee, assignee != caller.userId, c.state != .resolved {
            throw UseCaseError.forbidden("the conversation is assigned to another agent; ask them or an operator to transfer it")
        }
    }

    public func reply(_ content: MessageContent, to openId: String, in account: Account, key: String?, by caller: Principal) async throws -> DeskMessage {
        try caller.authorize(.replyToFan)
        try await mayWork(openId, in: account, by: caller)
        do {
            return try await flywheel.desk.reply(content, to: openId, of: account, by: caller.userId, key: key ?? env.newId("rep"))
        } catch Desk.Refusal.cannotSend {
            throw UseCaseError.conflict(code: "cannot_send", """
                this account cannot send DMs from Flywheel (not connected, or its app has no DM capability): answer in the platform's app; \
                the answer appears here and stops the clock
                """)
        } catch Desk.Refusal.outsideReplyWindow(let last) {
            throw UseCaseError.invalid(field: "conversation", (last.map {
                "the fan's last message is \(max(0, (env.now() - $0) / 3_600_000)) hours old: the platform takes replies within 24 hours of it"
            } ?? "the fan has sent no message to answer") + ", and the fan has not allowed proactive messages")
        } catch Desk.Refusal.touchBudget(let recent) {
            throw UseCaseError.conflict(code: "touch_budget", "the fan was reached \(recent.lastDay) times today and \(recent.lastWeek) this week, "
                                        + "as often as the account's touch budget allows; the message was held back and counted: try another day")
        } catch Desk.Refusal.proactiveLimit {
            throw UseCaseError.invalid(field: "conversation", "the fan's \(Conversation.proactivePerDay) proactive messages for today are used up; try tomorrow")
        } catch Desk.Refusal.noConversation {
            throw UseCaseError.notFound("conversation with fan \(openId)")
        }
    }

    public func note(_ text: String, on openId: String, in account: Account, by caller: Principal) async throws -> DeskMessage {
        try caller.authorize(.addConversationNote)
        try await check(account, caller)
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...2_000).contains(text.count) else { throw UseCaseError.invalid(field: "text", "must be 1 to 2,000 characters") }
        do {
            return try await flywheel.desk.note(text, on: openId, of: account, by: caller.userId)
        } catch Desk.Refusal.noConversation {
            throw UseCaseError.notFound("conversation with fan \(openId)")
        }
    }

    public func assign(_ openId: String, in account: Account, to agentId: String, by caller: Principal) async throws -> Conversation {
        try caller.authorize(.assignConversation)
        try await mayWork(openId, in: account, by: caller)
        guard let agent = try await env.store.agents(tenantId: account.tenantId).first(where: { $0.userId == agentId }) else {
            throw UseCaseError.invalid(field: "agentId", "no agent '\(agentId)' in this tenant; make a user an agent with PUT /v1/agents/{userId}")
        }
        guard agent.accountIds.contains(account.id) else { throw UseCaseError.invalid(field: "agentId", "\(agent.name) does not serve this account") }
        return try await act { try await flywheel.desk.assign(openId, of: account, to: agentId, by: caller.actor,
                                                               audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "conversation.assign",
                                                                                target: "\(account.id)/\(openId)", detail: agentId)) }
    }

    public func resolve(_ openId: String, in account: Account, by caller: Principal) async throws -> Conversation {
        try caller.authorize(.resolveConversation)
        try await mayWork(openId, in: account, by: caller)
        return try await act { try await flywheel.desk.resolve(openId, of: account, by: caller.actor,
                                                                audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "conversation.resolve",
                                                                                 target: "\(account.id)/\(openId)")) }
    }

    func act(_ work: () async throws -> Conversation) async throws -> Conversation {
        do {
            return try await work()
        } catch Desk.Refusal.noConversation {
            throw UseCaseError.notFound("conversation")
        } catch StoreError.refused(.changedMeanwhile) {
            throw UseCaseError.conflict(code: "changed_meanwhile", "the conversation changed while this was decided; read it again and retry")
        }
    }

    /// Answers, breaches, and how fast fans were answered, per day, agent and account, over the
    /// `days` days up to today in the first account's time zone.
    public func slaReport(of accounts: [Account], days: Int, by caller: Principal) async throws -> SLAReport {
        try caller.authorize(.readSlaReport)
        guard (1...90).contains(days) else { throw UseCaseError.invalid(field: "days", "must be 1 to 90") }
        let accounts = try await workable(accounts, by: caller)
        guard let first = accounts.first else { return SLAReport(rows: []) }
        let calendar = first.calendar
        let today = calendar.day(ofMillis: env.now())
        let from = calendar.startOfDay(today - days + 1), to = calendar.startOfDay(today + 1)
        let responses = try await env.store.deskResponses(of: accounts, from: from, to: to)
        let breaches = try await env.store.deskBreaches(of: accounts, from: from, to: to)
        let names = Dictionary(try await env.store.users(tenantId: first.tenantId).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        return SLAReport(responses: responses, breaches: breaches, calendar: calendar, agentNames: names)
    }
}

/// How fast fans were answered: one row per day, per agent and per account, and the totals.
public struct SLAReport: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        /// `day`, `agent` or `account`, or `total`.
        public var scope: String
        /// The date, the agent's user id (`app` for people in the platform's app, empty for no one),
        /// the account id, or empty for the total.
        public var key: String
        /// The agent's name, for an agent's row.
        public var name: String?
        public var answered: Int
        public var withinTarget: Int
        /// Share of answers within target, 0 to 1 (nil without answers).
        public var withinShare: Double?
        public var firstResponses: Int
        /// Minutes, over first responses.
        public var medianFirstResponse: Double?
        public var p90FirstResponse: Double?
        public var breaches: Int
    }

    public var rows: [Row]

    init(rows: [Row]) { self.rows = rows }

    init(responses: [DeskResponse], breaches: [DeskEvent], calendar: AccountCalendar, agentNames: [String: String]) {
        func rows(_ scope: String, _ key: (DeskResponse) -> String, _ breachKey: (DeskEvent) -> String) -> [Row] {
            let byKey = Dictionary(grouping: responses, by: key)
            let breachCounts = Dictionary(grouping: breaches, by: breachKey).mapValues(\.count)
            return Set(byKey.keys).union(breachCounts.keys).sorted().map { k in
                let answers = byKey[k] ?? []
                let firsts = answers.filter(\.first).map { Double($0.waited) / 60_000 }.sorted()
                let within = answers.count { $0.withinTarget }
                return Row(scope: scope, key: k, name: scope == "agent" ? agentNames[k] : nil, answered: answers.count, withinTarget: within,
                           withinShare: answers.isEmpty ? nil : Double(within) / Double(answers.count), firstResponses: firsts.count,
                           medianFirstResponse: Self.quantile(firsts, 0.5), p90FirstResponse: Self.quantile(firsts, 0.9), breaches: breachCounts[k] ?? 0)
            }
        }
        self.rows = rows("total", { _ in "" }, { _ in "" })
            + rows("day", { AccountCalendar.dateText(ofDay: calendar.day(ofMillis: $0.answeredAt)) }, { AccountCalendar.dateText(ofDay: calendar.day(ofMillis: $0.at)) })
            + rows("agent", \.by, { $0.agent ?? "" })
            + rows("account", \.accountId, \.accountId)
    }

    /// The nearest-rank quantile of sorted values.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        return sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }
}
