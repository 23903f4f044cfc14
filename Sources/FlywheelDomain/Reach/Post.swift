/// What a subscription post shows.
public enum PostFormat: String, Sendable, CaseIterable, Codable {
    case text, image, video
}

/// A business tool a post carries.
public struct PostTool: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// `ref`: the coupon's activity id.
        case coupon
        /// `ref`: the live's id in Flywheel.
        case liveBooking = "live_booking"
        /// `ref`: the product's id or link.
        case product
    }

    public var kind: Kind
    public var ref: String

    public init(kind: Kind, ref: String) {
        self.kind = kind
        self.ref = ref
    }
}

/// Where a post stands.
public enum PostState: String, Sendable, CaseIterable, Codable {
    /// Waiting for its time.
    case scheduled
    /// Handed to the outbox.
    case publishing
    /// The platform has no API for it: the operator publishes it in the app and marks it done.
    case task
    case published
    case failed
    case cancelled
}

/// A subscription post of one account: planned, pushed within the quota, and measured.
public struct Post: Sendable, Equatable {
    public var id: String
    public var accountId: String
    public var title: String
    public var body: String
    public var format: PostFormat
    /// The image's media id or the video's item id.
    public var mediaRef: String?
    public var tool: PostTool?
    /// A segment of the account; nil for all subscribers.
    public var segmentId: String?
    public var scheduledAt: Int64
    /// `scheduledAt`'s day in the account's calendar: what the quota counts.
    public var day: Int
    public var state: PostState
    /// Fans it went to, and fans the touch budget held back.
    public var recipients: Int
    public var heldBack: Int
    /// Share of the audience kept from it to measure it against (0–50 %), by fan and post.
    public var holdoutPercent = 0
    public var publishedAt: Int64?
    public var error: String?
    public var createdBy: String
    public var createdAt: Int64
    public var version: Int64

    public init(id: String, accountId: String, title: String, body: String, format: PostFormat, mediaRef: String?, tool: PostTool?, segmentId: String?,
                scheduledAt: Int64, day: Int, state: PostState, createdBy: String, createdAt: Int64) {
        self.id = id
        self.accountId = accountId
        self.title = title
        self.body = body
        self.format = format
        self.mediaRef = mediaRef
        self.tool = tool
        self.segmentId = segmentId
        self.scheduledAt = scheduledAt
        self.day = day
        self.state = state
        recipients = 0
        heldBack = 0
        self.createdBy = createdBy
        self.createdAt = createdAt
        version = 0
    }

    public static let titleLength = 1...60
    public static let bodyLength = 0...1_000
    /// How long after a push an order, claim, booking or unfollow is put down to it.
    public static let attributionWindow: Int64 = 72 * 3_600_000
}

/// How a post did: from its touches and the events that followed them.
public struct PostStats: Sendable, Equatable {
    public var delivered = 0
    public var heldBack = 0
    public var opened = 0
    public var clicked = 0
    /// Recipients who ordered, claimed a coupon or booked a live within the window.
    public var converted = 0
    /// Their orders' value, in fen.
    public var conversionValue: Int64 = 0
    /// Recipients who unfollowed within the window.
    public var unfollowed = 0

    public init() {}
}
