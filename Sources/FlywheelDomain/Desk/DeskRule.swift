/// Something that happened to a conversation, kept as it happens: hand-offs, resolves, reopenings
/// and SLA breaches.
public struct DeskEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case queued, assigned, transferred, resolved, reopened
        case slaBreached = "sla_breached"
    }

    public var accountId: String
    public var openId: String
    public var at: Int64
    public var kind: Kind
    /// The agent it concerns (assigned to, breached while with).
    public var agent: String?
    public var detail: String?

    public init(accountId: String, openId: String, at: Int64, kind: Kind, agent: String? = nil, detail: String? = nil) {
        self.accountId = accountId
        self.openId = openId
        self.at = at
        self.kind = kind
        self.agent = agent
        self.detail = detail
    }
}

/// A person's answer to a waiting fan: what the SLA report counts.
public struct DeskResponse: Sendable, Equatable {
    public var accountId: String
    public var openId: String
    public var answeredAt: Int64
    /// The agent's user id, or `app` for a person in the platform's app.
    public var by: String
    /// The first answer the fan got from a person, or a later one.
    public var first: Bool
    /// Milliseconds the fan waited.
    public var waited: Int64
    public var withinTarget: Bool

    public init(accountId: String, openId: String, answeredAt: Int64, by: String, first: Bool, waited: Int64, withinTarget: Bool) {
        self.accountId = accountId
        self.openId = openId
        self.answeredAt = answeredAt
        self.by = by
        self.first = first
        self.waited = waited
        self.withinTarget = withinTarget
    }
}

/// What the desk made of one message or act: the conversation after it, the automatic reply to
/// send, the answer to count and the events to keep, committed together.
public struct DeskOutcome: Sendable {
    public var conversation: Conversation
    public var reply: AutoReplyRule?
    public var response: DeskResponse?
    public var events: [DeskEvent] = []

    public init(_ conversation: Conversation) { self.conversation = conversation }
}

/// The desk's rules, as pure functions of a conversation and what happens to it.
public enum DeskRule {
    /// A message of the thread from the log: the fan's (which may get an automatic reply, reopens
    /// a resolved thread and starts the clock when a person must answer) or the account's from
    /// elsewhere (a person's answer in the platform's app stops the clock).
    public static func receive(_ message: DeskMessage, _ conversation: Conversation?, replies: AutoReplies, settings: DeskSettings,
                               calendar: AccountCalendar, canSend: Bool) -> DeskOutcome {
        var outcome = DeskOutcome(conversation ?? Conversation(accountId: message.accountId, openId: message.openId, at: message.at))
        outcome.conversation.lastMessageAt = max(outcome.conversation.lastMessageAt, message.at)
        switch message.author {
        case .fan:
            receiveFans(message, &outcome, replies: replies, settings: settings, calendar: calendar, canSend: canSend)
        case .app:
            answer(&outcome, by: "app", at: message.at, settings: settings)
        case .api, .auto, .agent, .note:
            break
        }
        return outcome
    }

    static func receiveFans(_ message: DeskMessage, _ outcome: inout DeskOutcome, replies: AutoReplies, settings: DeskSettings,
                            calendar: AccountCalendar, canSend: Bool) {
        let open = settings.isOpen(at: message.at, calendar)
        var c = outcome.conversation
        defer { outcome.conversation = c }
        // A later message may arrive first: the reply names the newest one.
        if let platformId = message.platformId, message.at >= (c.lastFanMessageAt ?? .min) {
            c.lastFanMessageAt = message.at
            c.replyTo = platformId
        }
        if message.isPermission {
            c.grantedUntil = message.messageType == DeskMessage.grantType ? message.ref.flatMap { Int64($0) } : nil
            return
        }
        if message.isEntry {
            // The welcome goes out at most once a day per fan.
            if canSend, c.welcomedAt.map({ message.at - $0 >= Conversation.replyWindow }) ?? true, let rule = replies.welcome(open: open) {
                outcome.reply = rule
                c.welcomedAt = message.at
            }
            return
        }
        c.unread = c.unread.saturatingAdd(1)
        if c.state == .resolved {
            c.state = c.assignee == nil ? .queued : .assigned
            outcome.events.append(DeskEvent(accountId: c.accountId, openId: c.openId, at: message.at, kind: .reopened, agent: c.assignee))
        }
        if canSend, let rule = replies.answer(message.text ?? "", open: open) {
            outcome.reply = rule
            if c.state == .bot { return }
        }
        if c.state == .bot {
            c.state = .queued
            outcome.events.append(DeskEvent(accountId: c.accountId, openId: c.openId, at: message.at, kind: .queued,
                                            detail: canSend ? "no automatic reply answered" : "the account cannot send DMs from Flywheel"))
        }
        if c.waitingSince == nil {
            c.waitingSince = message.at
            c.dueAt = settings.due(from: message.at, first: !c.answered, calendar)
            c.breachedAt = nil
        }
    }

    /// A person answered (an agent in Flywheel, or someone in the platform's app): the clock stops
    /// and the wait is counted.
    public static func answer(_ outcome: inout DeskOutcome, by: String, at: Int64, settings: DeskSettings) {
        var c = outcome.conversation
        if let since = c.waitingSince {
            outcome.response = DeskResponse(accountId: c.accountId, openId: c.openId, answeredAt: at, by: by, first: !c.answered,
                                            waited: max(0, at.saturatingSubtract(since)), withinTarget: c.dueAt.map { at <= $0 } ?? true)
        }
        c.answered = true
        c.waitingSince = nil
        c.dueAt = nil
        c.breachedAt = nil
        c.unread = 0
        c.lastMessageAt = max(c.lastMessageAt, at)
        outcome.conversation = c
    }

    /// An agent's reply from Flywheel: the conversation is theirs if nobody had it.
    public static func reply(_ conversation: Conversation, by agent: String, at: Int64, settings: DeskSettings) -> DeskOutcome {
        var outcome = DeskOutcome(conversation)
        if outcome.conversation.state == .bot || outcome.conversation.state == .queued || outcome.conversation.assignee == nil {
            outcome.conversation.state = .assigned
            outcome.conversation.assignee = agent
            outcome.events.append(DeskEvent(accountId: conversation.accountId, openId: conversation.openId, at: at, kind: .assigned, agent: agent,
                                            detail: "answered"))
        }
        answer(&outcome, by: agent, at: at, settings: settings)
        return outcome
    }

    /// Hands the conversation to `agent` (a transfer when someone else had it).
    public static func assign(_ conversation: Conversation, to agent: String, at: Int64, by: String?) -> DeskOutcome {
        var outcome = DeskOutcome(conversation)
        let kind: DeskEvent.Kind = conversation.assignee != nil && conversation.assignee != agent && conversation.state == .assigned ? .transferred : .assigned
        outcome.conversation.assignee = agent
        if outcome.conversation.state != .resolved { outcome.conversation.state = .assigned }
        outcome.events.append(DeskEvent(accountId: conversation.accountId, openId: conversation.openId, at: at, kind: kind, agent: agent,
                                        detail: by.map { "by \($0)" } ?? "automatic"))
        return outcome
    }

    /// Done until the fan writes again: the clock stops, and no answer is counted.
    public static func resolve(_ conversation: Conversation, at: Int64, by: String) -> DeskOutcome {
        var outcome = DeskOutcome(conversation)
        outcome.conversation.state = .resolved
        outcome.conversation.waitingSince = nil
        outcome.conversation.dueAt = nil
        outcome.conversation.breachedAt = nil
        outcome.conversation.unread = 0
        outcome.events.append(DeskEvent(accountId: conversation.accountId, openId: conversation.openId, at: at, kind: .resolved,
                                        agent: conversation.assignee, detail: "by \(by)"))
        return outcome
    }

    /// The wait went past its target: recorded once, at the moment it was due.
    public static func breach(_ conversation: Conversation) -> DeskOutcome? {
        guard let due = conversation.dueAt, conversation.breachedAt == nil, conversation.waitingSince != nil else { return nil }
        var outcome = DeskOutcome(conversation)
        outcome.conversation.breachedAt = due
        outcome.events.append(DeskEvent(accountId: conversation.accountId, openId: conversation.openId, at: due, kind: .slaBreached,
                                        agent: conversation.assignee, detail: conversation.answered ? "next response" : "first response"))
        return outcome
    }
}
