/// Where a message to send stands.
public enum OutboxState: String, Sendable, CaseIterable, Codable {
    /// Waiting for its turn (or for its next attempt).
    case pending
    /// Handed to the platform; if the process died meanwhile, it is in doubt until the platform's
    /// echo confirms it or the dispatcher sends it again.
    case sending
    case sent
    /// Refused for good, or out of attempts: the reason is on the message.
    case failed
}

/// What an outbox message asks the platform to do.
public enum OutboxAction: String, Sendable, CaseIterable, Codable {
    /// A DM to `openId` (a reply or a proactive message).
    case directMessage = "dm"
    /// `content` to the fan group `target` (the platform's group id).
    case groupMessage = "group_message"
    /// Create the fan group `target` (Flywheel's group id) on the platform.
    case createGroup = "group_create"
    /// Set the greeting of the fan group `target` (the platform's id) to `content`.
    case groupGreeting = "group_greeting"
    /// Approve the application `target` (`content` holds the reason).
    case approveJoin = "join_approve"
    /// Reject the application `target`.
    case rejectJoin = "join_reject"
    /// Push the subscription post `target` (Flywheel's post id) to its recipients.
    case publishPost = "post_publish"
}

/// Something Flywheel decided to send (a DM, a group message, a post, a group's creation, a join
/// decision), written in the same transaction as the decision and delivered by the dispatcher: at
/// most once, retried while it may still succeed.
public struct OutboxMessage: Sendable, Equatable {
    public var tenantId: String
    public var id: String
    /// Unique per tenant: a decision made twice (a retried request, a message handled again after
    /// a crash) finds the first one's row and sends nothing more.
    public var idempotencyKey: String
    public var accountId: String
    public var action: OutboxAction
    /// The group, application or post the action is about; nil for a DM.
    public var target: String?
    /// The fan a DM goes to; empty for other actions.
    public var openId: String
    /// The fan's message this answers (`server_message_id`); nil for a proactive message.
    public var replyTo: String?
    /// The end of the reply window: the platform refuses the reply after it.
    public var replyBy: Int64?
    public var content: MessageContent
    /// The thread's message that shows a DM; empty for other actions.
    public var messageId: String
    public var state: OutboxState
    public var attempts: Int
    public var nextAttemptAt: Int64
    public var claimedAt: Int64?
    public var lastError: String?
    /// The platform's id for the sent message.
    public var platformId: String?
    public var createdAt: Int64
    public var sentAt: Int64?
    /// What the platform's answer said beyond the id, for the write that follows a send (a new
    /// group's number); not stored with the message.
    public var result: String?

    public init(tenantId: String, id: String, idempotencyKey: String, accountId: String, openId: String, replyTo: String?, replyBy: Int64?,
                content: MessageContent, messageId: String, createdAt: Int64, action: OutboxAction = .directMessage, target: String? = nil) {
        self.tenantId = tenantId
        self.id = id
        self.idempotencyKey = idempotencyKey
        self.accountId = accountId
        self.action = action
        self.target = target
        self.openId = openId
        self.replyTo = replyTo
        self.replyBy = replyBy
        self.content = content
        self.messageId = messageId
        state = .pending
        attempts = 0
        nextAttemptAt = createdAt
        self.createdAt = createdAt
    }

    /// Attempts before a message that keeps failing for passing reasons is given up.
    public static let maxAttempts = 8

    /// The wait before attempt `attempts + 1`: doubling from one second up to five minutes, with
    /// `jitter` (0 to 1) spreading retries so they do not all come back at once.
    public static func backoff(afterAttempts attempts: Int, jitter: Double) -> Int64 {
        let base = Int64(1_000) << Int64(min(max(attempts - 1, 0), 9))
        let capped = min(base, 300_000)
        return capped / 2 + Int64(Double(capped / 2) * min(max(jitter, 0), 1))
    }
}
