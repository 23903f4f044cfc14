/// What a fan did (or what the account did to a fan): the one normalized event model that webhooks,
/// imports and the simulator all produce. `docs/events.md` documents it as the NDJSON import format.
public enum EventKind: String, CaseIterable, Codable, Sendable {
    case follow, unfollow
    case videoView = "video_view"
    case like, comment, share
    /// `amount`: minutes watched.
    case liveWatch = "live_watch"
    /// `amount`: gift value in fen (0.01 yuan).
    case liveGift = "live_gift"
    case liveShare = "live_share"
    case dmReceived = "dm_received"
    case dmSent = "dm_sent"
    case dmEntered = "dm_entered"
    case groupJoin = "group_join"
    case groupLeave = "group_leave"
    case groupMessage = "group_message"
    case homepageVisit = "homepage_visit"
    case leadSubmitted = "lead_submitted"
    /// `amount`: order value in fen.
    case orderPaid = "order_paid"
    /// `amount`: refunded value in fen.
    case orderRefunded = "order_refunded"
    case couponClaimed = "coupon_claimed"
    case couponRedeemed = "coupon_redeemed"
    /// An operator (or an import) put the tag `ref` on the fan; `attributes.by` says who.
    case tagAdded = "tag_added"
    /// An operator took the tag `ref` off the fan.
    case tagRemoved = "tag_removed"
    /// An operator wrote `attributes.text` about the fan.
    case noteAdded = "note_added"

    /// Kinds whose `amount` carries a quantity (minutes or fen); it must be positive for them.
    public var carriesAmount: Bool {
        switch self {
        case .liveWatch, .liveGift, .orderPaid, .orderRefunded: true
        default: false
        }
    }

    /// Whether the event shows the fan acting on its own (makes it "active"); the account's own
    /// sends do not.
    public var isFanActivity: Bool { self != .dmSent && !isOperatorAction }

    /// Kinds that record what an operator did to the fan in the console or API, not anything the
    /// fan did on the platform: they earn no points and are not traffic.
    public var isOperatorAction: Bool {
        switch self {
        case .tagAdded, .tagRemoved, .noteAdded: true
        default: false
        }
    }
}

/// One normalized event about one fan of one account.
public struct FanEvent: Codable, Sendable, Equatable {
    /// Stable identity used for deduplication: the platform's delivery id, the import's `id`, or a
    /// hash of the content.
    public var id: String
    public var kind: EventKind
    /// The fan's open_id under the enterprise's platform app.
    public var openId: String
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var occurredAt: Int64
    public var domain: SourceDomain
    public var channel: Channel
    /// Minutes for `live_watch`, fen for `live_gift`, `order_paid`, `order_refunded`; 0 otherwise.
    public var amount: Int64
    /// What the event refers to: an order, a video, a group, a coupon.
    public var ref: String?
    /// Extra facts the source gave: nickname, lead-card fields.
    public var attributes: [String: String]

    public init(
        id: String, kind: EventKind, openId: String, occurredAt: Int64, domain: SourceDomain? = nil,
        channel: Channel, amount: Int64 = 0, ref: String? = nil, attributes: [String: String] = [:]
    ) {
        self.id = id
        self.kind = kind
        self.openId = openId
        self.occurredAt = occurredAt
        self.domain = domain ?? channel.defaultDomain
        self.channel = channel
        self.amount = amount
        self.ref = ref
        self.attributes = attributes
    }
}
