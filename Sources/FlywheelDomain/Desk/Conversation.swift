/// Where a conversation stands: answered by the account's automatic replies, waiting for an agent,
/// with an agent, or done until the fan writes again.
public enum ConversationState: String, Sendable, CaseIterable, Codable {
    case bot, queued, assigned, resolved
}

/// One thread per fan and account: every DM in and out, and who answers it by when.
public struct Conversation: Sendable, Equatable {
    public var accountId: String
    public var openId: String
    public var state: ConversationState
    /// The agent (a user id) the conversation is assigned to; kept after a resolve, so the fan's
    /// next message goes back to the same agent.
    public var assignee: String?
    public var createdAt: Int64
    public var lastMessageAt: Int64
    /// The fan's last message: a reply answers it, within 24 hours of it.
    public var lastFanMessageAt: Int64?
    /// The platform's id of that message (`server_message_id`), which a reply names.
    public var replyTo: String?
    /// Since when the fan waits for a person's answer: the SLA clock, nil when it is stopped.
    public var waitingSince: Int64?
    /// When that answer is due, business hours counted.
    public var dueAt: Int64?
    /// When the current wait went past its target (recorded as it happens).
    public var breachedAt: Int64?
    /// Whether a person has answered the fan before: the next wait is then a next response, not a first.
    public var answered: Bool
    /// The fan's messages since the account last wrote.
    public var unread: Int
    /// When the welcome reply last went out.
    public var welcomedAt: Int64?
    /// Until when the fan allows the account's proactive messages (ms); nil when it does not.
    public var grantedUntil: Int64?
    /// Changes with every write: a change made on an older read is refused.
    public var version: Int64

    public init(accountId: String, openId: String, at: Int64) {
        self.accountId = accountId
        self.openId = openId
        state = .bot
        createdAt = at
        lastMessageAt = at
        answered = false
        unread = 0
        version = 0
    }

    /// The platform's reply window: a reply must answer a fan's message of the last 24 hours.
    public static let replyWindow: Int64 = 24 * 3_600_000

    /// Whether a reply may go out at `now`: the fan wrote within the last 24 hours.
    public func canReply(at now: Int64) -> Bool {
        guard replyTo != nil, let last = lastFanMessageAt else { return false }
        return now - last <= Self.replyWindow
    }

    /// Whether a proactive message may go out at `now` (the platform also allows three a day).
    public func mayMessage(at now: Int64) -> Bool { grantedUntil.map { now < $0 } ?? false }

    /// Proactive messages a fan may get from an account in a day.
    public static let proactivePerDay = 3

    /// Whether the fan has waited past the target at `now`.
    public func isOverdue(at now: Int64) -> Bool { dueAt.map { $0 <= now } ?? false }
}

/// Who wrote a message of a thread.
public enum MessageAuthor: String, Sendable, CaseIterable, Codable {
    /// The fan.
    case fan
    /// A person in the platform's own app (`im_send_msg`).
    case app
    /// Another tool through the open API (an echo that matches nothing Flywheel sent).
    case api
    /// One of the account's automatic replies.
    case auto
    /// An agent in Flywheel.
    case agent
    /// An internal note: never sent.
    case note
}

/// What became of a message: fans' messages are received; the account's go out through the outbox.
public enum MessageStatus: String, Sendable, CaseIterable, Codable {
    case received, queued, sent, failed
}

/// One message of a thread.
public struct DeskMessage: Sendable, Equatable {
    public var accountId: String
    public var openId: String
    /// The event id for messages that came through the log; `fw:<outbox id>` for Flywheel's own.
    public var id: String
    public var at: Int64
    public var author: MessageAuthor
    /// The agent's user id, or the automatic reply's rule id.
    public var authorId: String?
    /// The platform's type name for what fans send (`text`, `image`, `emoji`, a card...), the
    /// content's `typeName` for what the account sends, or `enter` when the fan opened the thread.
    public var messageType: String
    public var text: String?
    public var ref: String?
    /// The platform's id of the message, when known.
    public var platformId: String?
    public var status: MessageStatus
    /// Why sending failed.
    public var error: String?

    public init(accountId: String, openId: String, id: String, at: Int64, author: MessageAuthor, authorId: String? = nil, messageType: String,
                text: String?, ref: String? = nil, platformId: String? = nil, status: MessageStatus, error: String? = nil) {
        self.accountId = accountId
        self.openId = openId
        self.id = id
        self.at = at
        self.author = author
        self.authorId = authorId
        self.messageType = messageType
        self.text = text
        self.ref = ref
        self.platformId = platformId
        self.status = status
        self.error = error
    }

    /// Whether it is the fan opening the thread rather than writing.
    public var isEntry: Bool { messageType == Self.entryType }
    public static let entryType = "enter"
    /// The fan allowing the account's proactive messages (until `ref`, ms), or withdrawing that.
    public static let grantType = "grant"
    public static let revokeType = "revoke"
    public var isPermission: Bool { messageType == Self.grantType || messageType == Self.revokeType }
}

extension DeskMessage {
    /// The thread's message an event of the log is, if it is one: the fan's DMs and entries, the
    /// account's messages sent from the platform's app or echoed from the open API.
    public init?(_ event: FanEvent, accountId: String) {
        let platformId = event.attributes["message_id"]
        switch event.kind {
        case .dmReceived:
            self.init(accountId: accountId, openId: event.openId, id: event.id, at: event.occurredAt, author: .fan,
                      messageType: event.attributes["message_type"] ?? "text", text: event.attributes["text"], platformId: platformId, status: .received)
        case .dmEntered:
            self.init(accountId: accountId, openId: event.openId, id: event.id, at: event.occurredAt, author: .fan, messageType: Self.entryType,
                      text: nil, platformId: platformId, status: .received)
        case .dmGranted, .dmRevoked:
            // Not a message: what the thread's proactive messages may do from now on.
            self.init(accountId: accountId, openId: event.openId, id: event.id, at: event.occurredAt, author: .fan,
                      messageType: event.kind == .dmGranted ? Self.grantType : Self.revokeType, text: nil, ref: event.attributes["until"], status: .received)
        case .dmSent:
            self.init(accountId: accountId, openId: event.openId, id: event.id, at: event.occurredAt,
                      author: event.attributes["sent_by"] == "api" ? .api : .app, messageType: event.attributes["message_type"] ?? "text",
                      text: event.attributes["text"], platformId: platformId, status: .sent)
        default:
            return nil
        }
    }
}
