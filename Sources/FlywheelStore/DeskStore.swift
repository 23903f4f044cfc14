import FlywheelDomain

/// Which conversations a list shows.
public struct ConversationFilter: Sendable, Equatable {
    public var states: Set<ConversationState> = []
    /// An agent's user id.
    public var assignee: String?
    public var unassignedOnly = false
    public var unreadOnly = false
    /// Fans waiting for a person at least this long (ms) at `now`.
    public var waitingAtLeast: Int64?
    public var tier: Tier?
    /// Fans in this segment.
    public var segmentId: String?
    /// Part of the fan's open_id or nickname, or of a message's text.
    public var search: String?
    public var now: Int64

    public init(now: Int64) { self.now = now }
}

/// A conversation with what a list shows beside it.
public struct ConversationSummary: Sendable, Equatable {
    public var conversation: Conversation
    public var nickname: String?
    /// The newest message's text (or type), for the list.
    public var lastText: String?

    public init(conversation: Conversation, nickname: String?, lastText: String?) {
        self.conversation = conversation
        self.nickname = nickname
        self.lastText = lastText
    }
}

/// A saved answer agents pick in the reply box.
public struct CannedReply: Sendable, Equatable {
    public var id: String
    public var title: String
    public var text: String
    public var createdAt: Int64

    public init(id: String, title: String, text: String, createdAt: Int64) {
        self.id = id
        self.title = title
        self.text = text
        self.createdAt = createdAt
    }
}

/// Everything one desk decision writes, in one transaction: conversations (each refused if it
/// changed since it was read), messages, what to send, events, answers, and the log's messages it
/// handled (each refused if another worker handled it first).
public struct DeskChange: Sendable {
    /// The account everything in the change belongs to.
    public var accountId: String
    /// Each conversation with the version it was read at (nil: new).
    public var conversations: [(conversation: Conversation, readVersion: Int64?)] = []
    public var messages: [DeskMessage] = []
    /// Messages whose status changed (sent, failed), by id.
    public var statuses: [(messageId: String, status: MessageStatus, platformId: String?, error: String?)] = []
    /// Echoes of Flywheel's own sends: shown once, as the message sent, so their rows go.
    public var echoes: [String] = []
    public var outbox: [OutboxMessage] = []
    /// Outbox messages the platform's echo confirmed as sent.
    public var confirmed: [(outboxId: String, platformId: String?, at: Int64)] = []
    public var events: [DeskEvent] = []
    public var responses: [DeskResponse] = []
    /// A proactive message to this fan is in the change: refused when the fan has had
    /// `Conversation.proactivePerDay` since `since` (another decision came first).
    public var proactiveCap: (openId: String, since: Int64)?
    /// Pending entries handled: (log seq, message id).
    public var handled: [(seq: Int64, messageId: String)] = []
    /// The agent round-robin gave the last conversation to.
    public var lastAssignee: String?
    /// A proactive message's touch on the fan (or the touch budget holding it back).
    public var touch: TouchFanout?
    public var audit: AuditEntry?

    public init(accountId: String) { self.accountId = accountId }

    public var isEmpty: Bool {
        conversations.isEmpty && messages.isEmpty && statuses.isEmpty && echoes.isEmpty && outbox.isEmpty && confirmed.isEmpty && events.isEmpty
            && responses.isEmpty && handled.isEmpty && lastAssignee == nil && touch == nil && audit == nil
    }
}

/// A message of the log the desk has still to handle.
public struct PendingDeskMessage: Sendable {
    public var seq: Int64
    public var message: DeskMessage

    public init(seq: Int64, message: DeskMessage) {
        self.seq = seq
        self.message = message
    }
}

/// The desk: conversations, their messages, automatic replies, agents, SLA and the outbox.
public protocol DeskStore: Sendable {
    func deskSettings(of account: Account) async throws -> DeskSettings
    func setDeskSettings(_ settings: DeskSettings, of account: Account, audit: AuditEntry) async throws
    /// The agent round-robin handed the account's last conversation to.
    func lastAssignee(of account: Account) async throws -> String?

    func autoReplyRules(of account: Account) async throws -> [AutoReplyRule]
    /// Adds the rule; refused (`conflict` on `rules`) when the account has `AutoReplyRule.maxPerAccount` already.
    func createAutoReplyRule(_ rule: AutoReplyRule, of account: Account, audit: AuditEntry) async throws
    func deleteAutoReplyRule(id: String, of account: Account, audit: AuditEntry) async throws

    func agents(tenantId: String) async throws -> [Agent]
    /// Makes the user an agent, or changes their capacity, accounts and availability.
    func setAgent(_ agent: Agent, tenantId: String, audit: AuditEntry) async throws
    func removeAgent(userId: String, tenantId: String, audit: AuditEntry) async throws
    /// Open conversations per agent of the tenant.
    func agentLoads(tenantId: String) async throws -> [String: Int]

    func cannedReplies(tenantId: String) async throws -> [CannedReply]
    func createCannedReply(_ reply: CannedReply, tenantId: String, audit: AuditEntry) async throws
    func deleteCannedReply(id: String, tenantId: String, audit: AuditEntry) async throws

    /// Conversations of `accounts` (all of one tenant), newest message first.
    func conversations(of accounts: [Account], filter: ConversationFilter, cursor: String?, limit: Int) async throws -> Page<ConversationSummary>
    func conversation(of account: Account, openId: String) async throws -> Conversation?
    func conversations(of account: Account, openIds: [String]) async throws -> [String: Conversation]
    /// The thread's messages, oldest first: the last `limit` before the cursor.
    func messages(of account: Account, openId: String, cursor: String?, limit: Int) async throws -> Page<DeskMessage>
    /// One message of the account's threads.
    func deskMessage(id: String, of account: Account) async throws -> DeskMessage?
    func deskEvents(of account: Account, openId: String, limit: Int) async throws -> [DeskEvent]

    /// Accounts with messages the desk has not handled, waits past their target, or waiting
    /// conversations an agent with room could take.
    func accountsWithDeskWork(now: Int64) async throws -> [Account]
    func pendingDeskMessages(of account: Account, limit: Int) async throws -> [PendingDeskMessage]
    /// Waits of the account past their target at `now`, not yet recorded as breaches.
    func overdueConversations(of account: Account, now: Int64, limit: Int) async throws -> [Conversation]
    /// The account's conversations waiting for an agent, longest waiting first.
    func queuedConversations(of account: Account, limit: Int) async throws -> [Conversation]
    /// The outbox messages of these fans handed to the platform at least once and not yet
    /// confirmed by an echo (sent, in hand, or waiting to be tried again), oldest first, by fan.
    func unconfirmedOutbox(of account: Account, openIds: [String]) async throws -> [String: [OutboxMessage]]
    /// Commits a desk decision; `StoreError.refused(.changedMeanwhile)` when a conversation or a
    /// pending message changed since it was read (nothing written: read again and decide again).
    func commitDesk(_ change: DeskChange, tenantId: String) async throws

    /// Answers given and breaches recorded in `[from, to)` (ms), for the SLA report.
    func deskResponses(of accounts: [Account], from: Int64, to: Int64) async throws -> [DeskResponse]
    func deskBreaches(of accounts: [Account], from: Int64, to: Int64) async throws -> [DeskEvent]

    /// Proactive messages to the fan (not failed) decided since `since` (ms): what the platform's three a day counts.
    func proactiveMessages(of account: Account, openId: String, since: Int64) async throws -> Int
    /// Marks up to `limit` due outbox messages of every tenant `sending` at `now` and returns them.
    func claimOutbox(now: Int64, limit: Int) async throws -> [OutboxMessage]
    /// Messages left `sending` since before `before`: a dispatcher died with them in hand.
    func inDoubtOutbox(before: Int64, limit: Int) async throws -> [OutboxMessage]
    /// Records what became of claimed messages (state, attempts, error, platform id), each with
    /// its thread's message, in one transaction; a message no longer held by that claim (an echo
    /// confirmed it meanwhile, or another sender took it over) is left as it is.
    func finishOutbox(_ messages: [OutboxMessage]) async throws
    /// Outbox messages per state, for `/metrics`.
    func outboxCounts() async throws -> [OutboxState: Int]
}

/// The thread messages a projection batch brought (fans' DMs and the account's own from
/// elsewhere), each kept once and queued for the desk to handle.
public struct DeskInboxWrite: StatementWrite {
    public var messages: [PendingDeskMessage]
    public init(messages: [PendingDeskMessage]) { self.messages = messages }

    /// The statements that write it, the same on both databases: many rows a statement (a
    /// statement a message was most of a batch's time on PostgreSQL, one round trip each).
    public func statements(of account: Account) -> [SQLStatement] {
        SQLStatement.insert("desk_messages", columns: "tenant_id, \(DeskRows.messageColumns)", key: [.text(account.tenantId)],
                            rows: messages.map { DeskRows.cells($0.message) }, then: "ON CONFLICT (tenant_id, account_id, message_id) DO NOTHING")
            + SQLStatement.insert("desk_pending", columns: "tenant_id, account_id, seq, message_id", key: [.text(account.tenantId), .text(account.id)],
                                  rows: messages.map { [.int($0.seq), .text($0.message.id)] }, then: "ON CONFLICT DO NOTHING")
    }
}
