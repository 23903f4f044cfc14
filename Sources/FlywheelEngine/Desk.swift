import FlywheelDomain
import FlywheelStore
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// The desk at work: answers fans' messages with the account's automatic replies, hands waiting
/// conversations to agents, records SLA breaches as they happen, and carries out agents' acts
/// (reply, assign, resolve, note). Every decision commits in one transaction with what it sends.
public final class Desk: Service, Sendable {
    let env: FlywheelEnvironment
    private let replies: Counter
    private let breaches: Counter
    private let failures: Counter

    public init(_ env: FlywheelEnvironment) {
        self.env = env
        replies = Counter(label: "flywheel_desk_auto_replies_total", factory: env.metrics)
        breaches = Counter(label: "flywheel_desk_sla_breaches_total", factory: env.metrics)
        failures = Counter(label: "flywheel_desk_failures_total", factory: env.metrics)
    }

    /// Messages handled per batch of one account.
    static let batch = 500
    /// How old a fan's message may be for an automatic reply to answer it.
    static let autoReplyFreshness: Int64 = 3_600_000
    /// Times a decision is made again when a conversation changed under it.
    static let tries = 5

    /// One round over every account with desk work; returns the messages, breaches and
    /// assignments handled. One account's failure is logged and leaves the others be.
    @discardableResult
    public func runOnce() async -> Int {
        let now = env.now()
        let accounts: [Account]
        do {
            accounts = try await env.store.accountsWithDeskWork(now: now)
        } catch {
            failures.increment()
            env.logger.error("desk could not list its work", metadata: ["error": "\(error)"])
            return 0
        }
        var done = 0
        for account in accounts {
            do {
                done += try await work(account)
            } catch {
                failures.increment()
                env.logger.error("desk work failed; will retry", metadata: ["account": "\(account.id)", "error": "\(error)"])
            }
        }
        return done
    }

    /// Handles everything pending until nothing is left (tests, the demo's start).
    public func drain() async {
        while await runOnce() > 0 {}
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            // Idle, it looks again in a tenth of a second: looking costs a probe per account.
            if await runOnce() == 0 { try? await Task.sleep(for: .milliseconds(100)) }
        }
    }

    func work(_ account: Account) async throws -> Int {
        var done = 0
        done += try await retrying { try await self.handlePending(account) }
        done += try await retrying { try await self.recordBreaches(account) }
        done += try await retrying { try await self.assignQueued(account) }
        return done
    }

    /// Runs `decide` again while a conversation changed between its read and its commit.
    func retrying(_ decide: () async throws -> Int) async throws -> Int {
        for attempt in 1... {
            do {
                return try await decide()
            } catch StoreError.refused(.changedMeanwhile) where attempt < Self.tries {
                continue
            }
        }
        return 0
    }

    /// What one account's desk knows while it decides.
    struct Context {
        var account: Account
        var settings: DeskSettings
        var replies: AutoReplies
        var agents: [Agent]
        var loads: [String: Int]
        var last: String?
        var canSend: Bool
    }

    func context(_ account: Account, agents: [Agent]) async throws -> Context {
        let store = env.store
        return Context(account: account, settings: try await store.deskSettings(of: account), replies: AutoReplies(try await store.autoReplyRules(of: account)),
                       agents: agents, loads: agents.isEmpty ? [:] : try await store.agentLoads(tenantId: account.tenantId),
                       last: try await store.lastAssignee(of: account), canSend: try await canSend(account))
    }

    /// Whether the account can send DMs from Flywheel: connected, with the DM scope granted (the
    /// platform admits no new apps to it; older apps keep it).
    public func canSend(_ account: Account) async throws -> Bool {
        guard let tokens = try await env.store.tokens(of: account) else { return false }
        return Self.allowsDirectMessages(tokens.scope)
    }

    /// Whether a grant's comma-separated scopes include sending DMs.
    static func allowsDirectMessages(_ scope: String) -> Bool {
        scope.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == "im.direct_message" }
    }

    /// The log's new messages of the account, in order: threads, automatic replies, hand-offs.
    func handlePending(_ account: Account) async throws -> Int {
        let store = env.store
        let pending = try await store.pendingDeskMessages(of: account, limit: Self.batch)
        guard !pending.isEmpty else { return 0 }
        var context = try await context(account, agents: store.agents(tenantId: account.tenantId))
        let read = try await store.conversations(of: account, openIds: Array(Set(pending.map(\.message.openId))))
        var conversations = read
        var change = DeskChange(accountId: account.id)
        let calendar = account.calendar
        // What Flywheel sent these fans and has not seen echoed: what the batch's echoes are matched with.
        var unconfirmed = try await store.unconfirmedOutbox(of: account, openIds: Array(Set(pending.filter { $0.message.author == .api }.map(\.message.openId))))
        var answered = 0
        for p in pending {
            change.handled.append((p.seq, p.message.id))
            let m = p.message
            if m.author == .api {
                if let i = unconfirmed[m.openId]?.firstIndex(where: { Self.echoes(m, $0) }), let sent = unconfirmed[m.openId]?.remove(at: i) {
                    // Flywheel's own message came back: shown once, and confirmed sent even if the dispatcher died before it heard so.
                    change.echoes.append(m.id)
                    change.confirmed.append((sent.id, m.platformId, m.at))
                    change.statuses.append((sent.messageId, .sent, m.platformId, nil))
                    continue
                }
            }
            // An automatic reply answers at once or not at all: history and late imports get none.
            let fresh = env.now() - m.at <= Self.autoReplyFreshness
            var outcome = DeskRule.receive(m, conversations[m.openId], replies: context.replies, settings: context.settings, calendar: calendar,
                                           canSend: context.canSend && fresh)
            if outcome.conversation.state == .queued, outcome.conversation.assignee == nil {
                assign(&outcome, &context, at: m.at)
            }
            if let rule = outcome.reply, let replyTo = outcome.conversation.replyTo, let last = outcome.conversation.lastFanMessageAt {
                let (message, outbox) = Self.queue(rule.reply, to: m.openId, of: account, author: .auto, authorId: rule.id, replyTo: replyTo,
                                                   replyBy: last.saturatingAdd(Conversation.replyWindow), key: "auto:\(m.id)", id: env.newId("out"),
                                                   at: env.now(), after: m.at)
                change.messages.append(message)
                change.outbox.append(outbox)
                answered += 1
            }
            conversations[m.openId] = outcome.conversation
            change.events += outcome.events
            if let response = outcome.response { change.responses.append(response) }
        }
        for (openId, c) in conversations where c != read[openId] {
            change.conversations.append((c, read[openId]?.version))
        }
        change.lastAssignee = context.last
        try await store.commitDesk(change, tenantId: account.tenantId)
        replies.increment(by: answered)
        return pending.count
    }

    /// Whether the echo `m` is the platform's copy of the outbox message `o`: the same id when the
    /// send was answered, otherwise the same content (the process may have died before the answer).
    static func echoes(_ m: DeskMessage, _ o: OutboxMessage) -> Bool {
        if let id = m.platformId, let sent = o.platformId { return id == sent }
        return m.messageType == o.content.typeName && (m.text ?? "") == (o.content.text ?? "")
    }

    /// Gives a queued conversation to the agent whose turn it is, if anyone has room.
    func assign(_ outcome: inout DeskOutcome, _ context: inout Context, at: Int64) {
        guard let agent = Agent.choose(context.agents, for: context.account.id, loads: context.loads, policy: context.settings.assignment,
                                       last: context.last) else { return }
        let assigned = DeskRule.assign(outcome.conversation, to: agent.userId, at: at, by: nil)
        outcome.conversation = assigned.conversation
        outcome.events += assigned.events
        context.loads[agent.userId, default: 0] += 1
        context.last = agent.userId
    }

    /// Waits past their target, each recorded once, at the moment it was due.
    func recordBreaches(_ account: Account) async throws -> Int {
        let overdue = try await env.store.overdueConversations(of: account, now: env.now(), limit: Self.batch)
        guard !overdue.isEmpty else { return 0 }
        var change = DeskChange(accountId: account.id)
        for c in overdue {
            guard let outcome = DeskRule.breach(c) else { continue }
            change.conversations.append((outcome.conversation, c.version))
            change.events += outcome.events
        }
        try await env.store.commitDesk(change, tenantId: account.tenantId)
        breaches.increment(by: change.events.count)
        return change.events.count
    }

    /// Conversations waiting for an agent, handed out while agents have room.
    func assignQueued(_ account: Account) async throws -> Int {
        // Without agents nothing is handed out: the rest of the context (four reads) stays unread.
        let agents = try await env.store.agents(tenantId: account.tenantId)
        guard !agents.isEmpty else { return 0 }
        var context = try await context(account, agents: agents)
        let queued = try await env.store.queuedConversations(of: account, limit: Self.batch)
        var change = DeskChange(accountId: account.id)
        let now = env.now()
        for c in queued {
            var outcome = DeskOutcome(c)
            assign(&outcome, &context, at: now)
            guard outcome.conversation.assignee != nil else { break }
            change.conversations.append((outcome.conversation, c.version))
            change.events += outcome.events
        }
        guard !change.conversations.isEmpty else { return 0 }
        change.lastAssignee = context.last
        try await env.store.commitDesk(change, tenantId: account.tenantId)
        return change.conversations.count
    }

    /// The thread's message and the outbox entry that sends it, made together.
    static func queue(_ content: MessageContent, to openId: String, of account: Account, author: MessageAuthor, authorId: String?, replyTo: String?,
                      replyBy: Int64?, key: String, id: String, at: Int64, after answered: Int64? = nil) -> (DeskMessage, OutboxMessage) {
        // The message's id comes from the key: a decision made twice writes the same rows, which the second time are kept as they were.
        let messageId = "fw:" + key
        // Due now; shown after the message it answers even when that one's clock ran ahead.
        let message = DeskMessage(accountId: account.id, openId: openId, id: messageId, at: max(at, answered ?? at), author: author, authorId: authorId,
                                  messageType: content.typeName, text: content.text, ref: content.ref, status: .queued)
        let outbox = OutboxMessage(tenantId: account.tenantId, id: id, idempotencyKey: key, accountId: account.id, openId: openId, replyTo: replyTo,
                                   replyBy: replyBy, content: content, messageId: messageId, createdAt: at)
        return (message, outbox)
    }
}

extension Desk {
    /// Why an act on a conversation was refused.
    public enum Refusal: Error, Equatable, Sendable {
        case noConversation
        /// The fan's last message is older than 24 hours (or there is none to answer), and the fan
        /// has not allowed proactive messages.
        case outsideReplyWindow(lastFanMessageAt: Int64?)
        /// The fan allows proactive messages, and today's three are used up.
        case proactiveLimit
        /// The account is not connected, or its app has no DM capability.
        case cannotSend
        /// The fan was reached as often as the account's touch budget allows.
        case touchBudget(RecentTouches)
    }

    /// An agent's reply from Flywheel: the clock stops now, and the message goes out through the
    /// outbox. Within 24 hours of the fan's last message it answers that message; later, it is a
    /// proactive message, for a fan who allowed them, three a day at most. `key` makes a repeated
    /// request a no-op.
    public func reply(_ content: MessageContent, to openId: String, of account: Account, by agent: String, key: String) async throws -> DeskMessage {
        let canSend = try await canSend(account)
        let settings = try await env.store.deskSettings(of: account)
        // A request made again with its key finds what the first one queued, and changes nothing.
        let key = "reply:\(account.id):\(openId):\(key)"
        if let queued = try await env.store.deskMessage(id: "fw:" + key, of: account) { return queued }
        var sent: DeskMessage?
        _ = try await retrying {
            guard let c = try await self.env.store.conversation(of: account, openId: openId) else { throw Refusal.noConversation }
            let now = self.env.now()
            guard canSend else { throw Refusal.cannotSend }
            var replyTo = c.replyTo, replyBy = c.lastFanMessageAt.map { $0.saturatingAdd(Conversation.replyWindow) }
            var proactiveSince: Int64?
            var touch: String?
            if !c.canReply(at: now) {
                guard c.mayMessage(at: now) else { throw Refusal.outsideReplyWindow(lastFanMessageAt: c.lastFanMessageAt) }
                let today = account.calendar.startOfDay(account.calendar.day(ofMillis: now))
                let sentToday = try await self.env.store.proactiveMessages(of: account, openId: openId, since: today)
                guard sentToday < Conversation.proactivePerDay else { throw Refusal.proactiveLimit }
                (replyTo, replyBy, proactiveSince) = (nil, nil, today)
                // A day's proactive messages (the platform's one occasion of up to three) reach the fan
                // once, like a post or a reminder: the first of the day needs room in the one budget.
                touch = "dm:\(account.calendar.day(ofMillis: now))"
                if sentToday == 0 {
                    let budget = try await self.env.store.touchBudget(of: account)
                    let recent = try await self.env.store.recentTouches(of: account, openId: openId, now: now)[openId] ?? RecentTouches()
                    guard budget.admits(recent) else {
                        var held = DeskChange(accountId: account.id)
                        held.touch = TouchFanout(touchpoint: .directMessage, ref: touch ?? key, at: now, reached: [], heldBack: [openId])
                        try await self.env.store.commitDesk(held, tenantId: account.tenantId)
                        throw Refusal.touchBudget(recent)
                    }
                }
            }
            let outcome = DeskRule.reply(c, by: agent, at: now, settings: settings)
            let (message, outbox) = Self.queue(content, to: openId, of: account, author: .agent, authorId: agent, replyTo: replyTo,
                                               replyBy: replyBy, key: key, id: self.env.newId("out"), at: now)
            var change = DeskChange(accountId: account.id)
            change.conversations = [(outcome.conversation, c.version)]
            change.messages = [message]
            change.outbox = [outbox]
            change.events = outcome.events
            change.responses = outcome.response.map { [$0] } ?? []
            change.proactiveCap = proactiveSince.map { (openId, $0) }
            change.touch = touch.map { TouchFanout(touchpoint: .directMessage, ref: $0, at: now, reached: [openId], heldBack: []) }
            try await self.env.store.commitDesk(change, tenantId: account.tenantId)
            sent = message
            return 1
        }
        guard let sent else { throw StoreError.refused(.changedMeanwhile) }
        return sent
    }

    /// Hands the conversation to `agent` (a transfer when another had it).
    public func assign(_ openId: String, of account: Account, to agent: String, by actor: String, audit: AuditEntry) async throws -> Conversation {
        try await act(openId, of: account, audit: audit) { c, now in DeskRule.assign(c, to: agent, at: now, by: actor) }
    }

    public func resolve(_ openId: String, of account: Account, by actor: String, audit: AuditEntry) async throws -> Conversation {
        try await act(openId, of: account, audit: audit) { c, now in DeskRule.resolve(c, at: now, by: actor) }
    }

    /// An internal note in the thread: never sent, seen by the team.
    public func note(_ text: String, on openId: String, of account: Account, by agent: String) async throws -> DeskMessage {
        guard try await env.store.conversation(of: account, openId: openId) != nil else { throw Refusal.noConversation }
        let now = env.now()
        let message = DeskMessage(accountId: account.id, openId: openId, id: env.newId("note"), at: now, author: .note, authorId: agent,
                                  messageType: "text", text: text, status: .received)
        var change = DeskChange(accountId: account.id)
        change.messages = [message]
        try await env.store.commitDesk(change, tenantId: account.tenantId)
        return message
    }

    func act(_ openId: String, of account: Account, audit: AuditEntry, _ decide: @escaping (Conversation, Int64) -> DeskOutcome) async throws -> Conversation {
        var result: Conversation?
        _ = try await retrying {
            guard let c = try await self.env.store.conversation(of: account, openId: openId) else { throw Refusal.noConversation }
            let outcome = decide(c, self.env.now())
            var change = DeskChange(accountId: account.id)
            change.conversations = [(outcome.conversation, c.version)]
            change.events = outcome.events
            change.audit = audit
            try await self.env.store.commitDesk(change, tenantId: account.tenantId)
            result = outcome.conversation
            return 1
        }
        guard var result else { throw StoreError.refused(.changedMeanwhile) }
        result.version += 1
        return result
    }
}
