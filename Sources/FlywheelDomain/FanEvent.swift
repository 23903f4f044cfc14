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
    /// The fan allowed the account's proactive messages until `attributes.until` (ms).
    case dmGranted = "dm_granted"
    /// The fan withdrew that permission.
    case dmRevoked = "dm_revoked"
    case groupJoin = "group_join"
    case groupLeave = "group_leave"
    case groupMessage = "group_message"
    /// The fan applied to join the group `ref` (the platform's id); `attributes.apply_id` names the application.
    case groupApplied = "group_applied"
    /// The fan opened the subscription post `ref` (Flywheel's post id), as the sandbox reports it.
    case postOpened = "post_opened"
    /// The fan clicked the post's tool.
    case postClicked = "post_clicked"
    /// The fan booked the live `ref` (Flywheel's live id), as the sandbox reports it.
    case liveBooked = "live_booked"
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

/// Why an event cannot be taken in: the field and what is wrong with it.
public struct EventProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// The ranges an event's values must lie in (docs/events.md): wide enough for any real event,
/// narrow enough that no sum or day number built from them can overflow.
public enum EventBounds {
    /// 2000-01-01T00:00:00Z, in milliseconds.
    public static let earliest: Int64 = 946_684_800_000
    /// 2100-01-01T00:00:00Z, in milliseconds (exclusive).
    public static let latest: Int64 = 4_102_444_800_000
    /// 10^11 fen (a billion yuan) or as many minutes: more than any one order, gift or watch.
    public static let maxAmount: Int64 = 100_000_000_000
    /// Bytes (UTF-8) in an open_id or ref.
    public static let maxIdLength = 200
    /// Bytes in an event id: room for a source's prefix and suffix around a 200-character id.
    public static let maxEventIdLength = 256
    public static let maxAttributes = 50
    public static let maxAttributeNameLength = 50
    public static let maxAttributeValueLength = 8_000
}

extension FanEvent {
    /// Checks every value against `EventBounds`; the first problem found is thrown.
    public func check() throws(EventProblem) {
        guard (1...EventBounds.maxEventIdLength).contains(id.utf8.count) else {
            throw EventProblem(field: "id", "must be 1 to \(EventBounds.maxEventIdLength) bytes of UTF-8")
        }
        guard (1...EventBounds.maxIdLength).contains(openId.utf8.count) else {
            throw EventProblem(field: "openId", "must be 1 to \(EventBounds.maxIdLength) bytes of UTF-8")
        }
        guard (EventBounds.earliest..<EventBounds.latest).contains(occurredAt) else {
            throw EventProblem(field: "occurredAt", "\(occurredAt) is outside 2000-01-01 to 2100-01-01 (milliseconds since 1970: \(EventBounds.earliest) to \(EventBounds.latest - 1))")
        }
        if kind.carriesAmount {
            guard (1...EventBounds.maxAmount).contains(amount) else {
                throw EventProblem(field: "amount", "\(kind.rawValue) needs an amount from 1 to \(EventBounds.maxAmount) (\(kind == .liveWatch ? "minutes" : "fen"))")
            }
        } else if amount != 0 {
            throw EventProblem(field: "amount", "\(kind.rawValue) carries no amount; leave it out")
        }
        if let ref, ref.utf8.count > EventBounds.maxIdLength { throw EventProblem(field: "ref", "must be at most \(EventBounds.maxIdLength) bytes of UTF-8") }
        guard attributes.count <= EventBounds.maxAttributes else {
            throw EventProblem(field: "attributes", "at most \(EventBounds.maxAttributes) attributes, got \(attributes.count)")
        }
        for (name, value) in attributes {
            guard (1...EventBounds.maxAttributeNameLength).contains(name.utf8.count) else {
                throw EventProblem(field: "attributes", "attribute names are 1 to \(EventBounds.maxAttributeNameLength) bytes of UTF-8")
            }
            guard value.utf8.count <= EventBounds.maxAttributeValueLength else {
                throw EventProblem(field: "attributes.\(name)", "must be at most \(EventBounds.maxAttributeValueLength) bytes of UTF-8")
            }
        }
    }
}
