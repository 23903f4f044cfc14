/// Something that changed about a fan, kept in order for whoever listens: outgoing webhooks and
/// the event stream. Written in the same transaction as the change itself.
public struct Change: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case tierChanged = "tier_changed"
        case segmentEntered = "segment_entered"
        case segmentLeft = "segment_left"
        case leadCreated = "lead_created"
        case slaBreached = "sla_breached"
        case journeyStep = "journey_step"
    }

    /// Increasing across the whole store: a listener resumes after the last one it saw.
    public var seq: Int64
    public var tenantId: String
    public var accountId: String
    public var kind: Kind
    public var openId: String
    public var at: Int64
    /// What changed, by kind: `from` and `to` tiers and the `cause`; the `segmentId`; the `leadId`.
    public var data: [String: String]

    public init(seq: Int64, tenantId: String, accountId: String, kind: Kind, openId: String, at: Int64, data: [String: String]) {
        self.seq = seq
        self.tenantId = tenantId
        self.accountId = accountId
        self.kind = kind
        self.openId = openId
        self.at = at
        self.data = data
    }
}

/// A customer's endpoint that gets the tenant's changes as signed HTTP posts.
public struct WebhookEndpoint: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable { case active, disabled }

    public var tenantId: String
    public var id: String
    public var url: String
    /// Signs every delivery (HMAC-SHA256); shown once, when the endpoint is made.
    public var secret: String
    /// The kinds it wants; every kind when empty.
    public var kinds: Set<Change.Kind>
    /// The last change delivered: the next delivery starts after it.
    public var cursor: Int64
    public var state: State
    /// Failed deliveries in a row.
    public var failures: Int
    public var nextAttemptAt: Int64
    public var disabledReason: String?
    public var createdAt: Int64

    public init(tenantId: String, id: String, url: String, secret: String, kinds: Set<Change.Kind>, cursor: Int64, state: State = .active,
                failures: Int = 0, nextAttemptAt: Int64 = 0, disabledReason: String? = nil, createdAt: Int64) {
        self.tenantId = tenantId
        self.id = id
        self.url = url
        self.secret = secret
        self.kinds = kinds
        self.cursor = cursor
        self.state = state
        self.failures = failures
        self.nextAttemptAt = nextAttemptAt
        self.disabledReason = disabledReason
        self.createdAt = createdAt
    }

    /// Failed deliveries in a row after which the endpoint is disabled, with a notice.
    public static let failuresBeforeDisabling = 10
    /// Changes in one delivery at most.
    public static let batch = 100

    /// Milliseconds to wait after the `failures`-th failure in a row: 2 s doubling, at most an hour.
    public static func backoff(afterFailures failures: Int) -> Int64 {
        min(3_600_000, 1_000 << Int64(min(max(failures, 1), 22)))
    }
}

/// One attempt to deliver changes to an endpoint, as its log keeps it.
public struct WebhookAttempt: Sendable, Equatable {
    public var id: String
    public var endpointId: String
    public var firstSeq: Int64
    public var lastSeq: Int64
    /// The HTTP status answered; nil when no answer came (refused, timed out).
    public var status: Int?
    public var error: String?
    public var milliseconds: Int
    public var at: Int64

    public init(id: String, endpointId: String, firstSeq: Int64, lastSeq: Int64, status: Int?, error: String?, milliseconds: Int, at: Int64) {
        self.id = id
        self.endpointId = endpointId
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.status = status
        self.error = error
        self.milliseconds = milliseconds
        self.at = at
    }

    public var succeeded: Bool { status.map { (200..<300).contains($0) } ?? false }
}
