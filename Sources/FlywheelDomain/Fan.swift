import Foundation

/// Counts of what a fan has done with the account. 32 bits each keeps a fan's state within the
/// memory budget; a count saturates rather than wraps (2,147,483,647 acts, or 21 million yuan of
/// gifts, from one fan).
public struct FanCounters: Sendable, Equatable {
    public var videoViews: Int32 = 0, likes: Int32 = 0, comments: Int32 = 0, shares: Int32 = 0
    public var liveWatches: Int32 = 0, liveMinutes: Int32 = 0, liveGifts: Int32 = 0, giftValue: Int32 = 0, liveShares: Int32 = 0
    public var dmsReceived: Int32 = 0, dmsSent: Int32 = 0, dmEntries: Int32 = 0
    public var groupJoins: Int32 = 0, groupLeaves: Int32 = 0, groupMessages: Int32 = 0
    public var homepageVisits: Int32 = 0, leads: Int32 = 0
    public var ordersPaid: Int32 = 0, ordersRefunded: Int32 = 0
    public var couponsClaimed: Int32 = 0, couponsRedeemed: Int32 = 0
    public var follows: Int32 = 0, unfollows: Int32 = 0

    public init() {}

    /// Engaged acts the fan chose to make (not plain views or visits).
    public var interactions: Int { [likes, comments, shares, liveGifts, liveShares, dmsReceived, groupMessages].reduce(0) { $0 + Int($1) } }

    /// Paid orders minus refunded ones.
    public var orders: Int { Int(ordersPaid) - Int(ordersRefunded) }

    /// Every counter with its stable name: the storage columns and predicate fields.
    public static let fields: [(name: String, keyPath: WritableKeyPath<FanCounters, Int32> & Sendable)] = [
        ("video_views", \.videoViews), ("likes", \.likes), ("comments", \.comments), ("shares", \.shares),
        ("live_watches", \.liveWatches), ("live_minutes", \.liveMinutes), ("live_gifts", \.liveGifts),
        ("gift_value", \.giftValue), ("live_shares", \.liveShares),
        ("dms_received", \.dmsReceived), ("dms_sent", \.dmsSent), ("dm_entries", \.dmEntries),
        ("group_joins", \.groupJoins), ("group_leaves", \.groupLeaves), ("group_messages", \.groupMessages),
        ("homepage_visits", \.homepageVisits), ("leads", \.leads),
        ("orders_paid", \.ordersPaid), ("orders_refunded", \.ordersRefunded),
        ("coupons_claimed", \.couponsClaimed), ("coupons_redeemed", \.couponsRedeemed),
        ("follows", \.follows), ("unfollows", \.unfollows),
    ]

    /// The counters in `fields` order, read directly (a key path per counter costs more than the
    /// rest of saving a fan).
    public var values: [Int32] {
        [videoViews, likes, comments, shares, liveWatches, liveMinutes, liveGifts, giftValue, liveShares,
         dmsReceived, dmsSent, dmEntries, groupJoins, groupLeaves, groupMessages, homepageVisits, leads,
         ordersPaid, ordersRefunded, couponsClaimed, couponsRedeemed, follows, unfollows]
    }

    mutating func count(_ event: FanEvent) {
        func add(_ counter: inout Int32, _ n: Int64 = 1) { counter = Int32(clamping: Int64(counter) + n) }
        switch event.kind {
        case .follow: add(&follows)
        case .unfollow: add(&unfollows)
        case .videoView: add(&videoViews)
        case .like: add(&likes)
        case .comment: add(&comments)
        case .share: add(&shares)
        case .liveWatch: add(&liveWatches); add(&liveMinutes, event.amount)
        case .liveGift: add(&liveGifts); add(&giftValue, event.amount)
        case .liveShare: add(&liveShares)
        case .dmReceived: add(&dmsReceived)
        case .dmSent: add(&dmsSent)
        case .dmEntered: add(&dmEntries)
        case .dmGranted, .dmRevoked, .groupApplied, .postOpened, .postClicked, .liveBooked: break
        case .groupJoin: add(&groupJoins)
        case .groupLeave: add(&groupLeaves)
        case .groupMessage: add(&groupMessages)
        case .homepageVisit: add(&homepageVisits)
        case .leadSubmitted: add(&leads)
        case .orderPaid: add(&ordersPaid)
        // A partial refund leaves the order standing.
        case .orderRefunded: if event.attributes[Order.partialAttribute] == nil { add(&ordersRefunded) }
        case .couponClaimed: add(&couponsClaimed)
        case .couponRedeemed: add(&couponsRedeemed)
        case .tagAdded, .tagRemoved, .noteAdded: break
        }
    }
}

/// A fan's tier changed, when and why.
public struct TierTransition: Sendable, Equatable, Codable {
    public var openId: String
    /// nil when the fan was first seen.
    public var from: Tier?
    public var to: Tier
    public var at: Int64
    /// The event kind that caused it, or `rules_changed`.
    public var cause: String

    public init(openId: String, from: Tier?, to: Tier, at: Int64, cause: String) {
        self.openId = openId
        self.from = from
        self.to = to
        self.at = at
        self.cause = cause
    }
}

/// One fan's state with one account, as the projector keeps it.
public struct FanState: Sendable, Equatable {
    public var openId: String
    public var nickname: String?
    public var firstSeenAt: Int64
    public var lastActiveAt: Int64
    public var firstDomain: SourceDomain
    public var firstChannel: Channel
    public var latestDomain: SourceDomain
    public var latestChannel: Channel
    public var following = false
    public var followedAt: Int64?
    /// Time of the newest follow or unfollow applied, so an older one arriving late cannot undo it.
    public var followChangedAt: Int64 = 0
    public var counters = FanCounters()
    /// Paid minus refunded, in fen.
    public var gmv = 0
    public var intimacy = 0
    public var level = 0
    public var ledger = IntimacyLedger()
    public var tier = Tier.potential
    public var tierChangedAt: Int64
    /// Time of the newest paid order.
    public var lastOrderedAt: Int64?
    public var profile = FanProfile()
    /// Put on by operators, imports and auto-tag rules.
    public var tags: Set<String> = []
    /// Fan groups by id, joined or left.
    public var groups: [String: GroupMembership] = [:]

    /// A fan first seen through `event`, before the event is applied.
    public init(firstSeenThrough event: FanEvent) {
        openId = event.openId
        firstSeenAt = event.occurredAt
        lastActiveAt = 0
        firstDomain = event.domain
        firstChannel = event.channel
        latestDomain = event.domain
        latestChannel = event.channel
        tierChangedAt = event.occurredAt
    }

    /// Storage initializer: every field given.
    public init(
        openId: String, nickname: String?, firstSeenAt: Int64, lastActiveAt: Int64,
        firstDomain: SourceDomain, firstChannel: Channel, latestDomain: SourceDomain, latestChannel: Channel,
        following: Bool, followedAt: Int64?, followChangedAt: Int64, counters: FanCounters, gmv: Int,
        intimacy: Int, level: Int, ledger: IntimacyLedger, tier: Tier, tierChangedAt: Int64,
        lastOrderedAt: Int64?, profile: FanProfile, tags: Set<String>, groups: [String: GroupMembership]
    ) {
        self.openId = openId
        self.nickname = nickname
        self.firstSeenAt = firstSeenAt
        self.lastActiveAt = lastActiveAt
        self.firstDomain = firstDomain
        self.firstChannel = firstChannel
        self.latestDomain = latestDomain
        self.latestChannel = latestChannel
        self.following = following
        self.followedAt = followedAt
        self.followChangedAt = followChangedAt
        self.counters = counters
        self.gmv = gmv
        self.intimacy = intimacy
        self.level = level
        self.ledger = ledger
        self.tier = tier
        self.tierChangedAt = tierChangedAt
        self.lastOrderedAt = lastOrderedAt
        self.profile = profile
        self.tags = tags
        self.groups = groups
    }

    /// Applies one event that happened on `day` (a day number in the account's time zone, see
    /// `AccountCalendar`) and returns the tier transition it caused, if any.
    public mutating func apply(_ event: FanEvent, rules: CompiledRules, day: Int) -> TierTransition? {
        let t = event.occurredAt
        if event.kind.isOperatorAction {
            applyOperatorAction(event)
            return retier(rules: rules, at: t, cause: event.kind.rawValue)
        }
        if t < firstSeenAt {
            firstSeenAt = t
            firstDomain = event.domain
            firstChannel = event.channel
        }
        if event.kind.isFanActivity, t >= lastActiveAt {
            lastActiveAt = t
            latestDomain = event.domain
            latestChannel = event.channel
        }
        if let name = event.attributes["nickname"], !name.isEmpty { nickname = name }
        profile.update(from: event)
        counters.count(event)
        switch event.kind {
        case .follow, .unfollow:
            if t >= followChangedAt {
                let follows = event.kind == .follow
                if follows, !following { followedAt = t }
                following = follows
                followChangedAt = t
            }
        case .orderPaid:
            gmv = gmv.saturatingAdd(Int(event.amount))
            lastOrderedAt = max(lastOrderedAt ?? t, t)
        case .orderRefunded: gmv = gmv.saturatingSubtract(Int(event.amount))
        case .groupJoin, .groupLeave:
            if let group = event.ref, SetField.isValidName(group), t >= groups[group]?.at ?? .min {
                groups[group] = GroupMembership(member: event.kind == .groupJoin, at: t)
            }
        default: break
        }
        let earned = rules.rules.points.points(for: event)
        if earned > 0 {
            intimacy = intimacy.saturatingAdd(ledger.credit(earned, on: day, cap: rules.rules.levels.dailyCap(atLevel: level)))
            level = rules.rules.levels.level(forPoints: intimacy)
        }
        return retier(rules: rules, at: t, cause: event.kind.rawValue)
    }

    private mutating func applyOperatorAction(_ event: FanEvent) {
        guard let tag = event.ref, SetField.isValidName(tag) else { return }
        switch event.kind {
        case .tagAdded: tags.insert(tag)
        case .tagRemoved: tags.remove(tag)
        default: break
        }
    }

    /// Re-places the fan under `rules` (after a rule change): level from points, then tier.
    public mutating func reevaluate(rules: CompiledRules, at time: Int64) -> TierTransition? {
        level = rules.rules.levels.level(forPoints: intimacy)
        return retier(rules: rules, at: time, cause: "rules_changed")
    }

    /// Puts on the tags of the auto-tag rules the fan now meets and lacks; returns them. Tags
    /// stay when the condition stops holding: they record that it held.
    public mutating func applyTagRules(_ rules: CompiledRules, at time: Int64) -> [String] {
        var added: [String] = []
        for rule in rules.tagRules where !tags.contains(rule.tag) && rule.condition.matches(self, now: time) {
            tags.insert(rule.tag)
            added.append(rule.tag)
        }
        return added
    }

    private mutating func retier(rules: CompiledRules, at time: Int64, cause: String) -> TierTransition? {
        let next = rules.tier(of: self, at: time)
        guard next != tier else { return nil }
        defer {
            tier = next
            tierChangedAt = time
        }
        return TierTransition(openId: openId, from: tier, to: next, at: time, cause: cause)
    }
}

/// Day numbers (days since 1970-01-01 in the account's time zone): caps and rollups count days
/// the way the account's operators do.
public struct AccountCalendar: Sendable {
    public let timeZone: TimeZone

    public init(timeZone: TimeZone) { self.timeZone = timeZone }

    public static let defaultTimeZone = "Asia/Shanghai"

    public func day(ofMillis ms: Int64) -> Int {
        let seconds = ms / 1000
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
        return Int((seconds + offset).floorDiv(86_400))
    }

    /// The first millisecond of `day` in this time zone.
    public func startOfDay(_ day: Int) -> Int64 {
        let utc = Int64(day) * 86_400
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(utc))))
        return (utc - offset) * 1000
    }

    /// Parses `YYYY-MM-DD` into a day number.
    public func day(ofDate text: String) -> Int? {
        let parts = text.split(separator: "-")
        guard text.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = .gmt
        guard let date = utc.date(from: DateComponents(year: y, month: m, day: d)),
              utc.component(.day, from: date) == d else { return nil }
        return Int(date.timeIntervalSince1970) / 86_400
    }

    /// The weekday (1 Monday ... 7 Sunday) of a day number (day 0, 1970-01-01, was a Thursday).
    public static func weekday(ofDay day: Int) -> Int { ((day + 3) % 7 + 7) % 7 + 1 }

    /// The Monday of the week `day` is in: weeks run Monday to Sunday.
    public static func weekStart(ofDay day: Int) -> Int { day - weekday(ofDay: day) + 1 }

    /// Formats a day number as `YYYY-MM-DD`.
    public static func dateText(ofDay day: Int) -> String {
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = .gmt
        let c = utc.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: TimeInterval(day) * 86_400))
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }
}

extension Int64 {
    func floorDiv(_ d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}
