/// The private-domain touchpoints an order can be credited to.
public enum SalesTouchpoint: String, Sendable, CaseIterable, Codable {
    case live, dm, group, post, homepage

    /// The touchpoint a fan's event is a touch of, or nil for one that is none (a view in the
    /// recommendation feed, a follow, an order itself).
    public static func of(_ event: FanEvent) -> SalesTouchpoint? {
        switch event.kind {
        case .liveWatch, .liveGift, .liveShare, .liveBooked: .live
        case .dmReceived, .dmSent, .dmEntered: .dm
        case .groupJoin, .groupMessage: .group
        case .postOpened, .postClicked: .post
        case .homepageVisit: .homepage
        default: nil
        }
    }
}

/// A touch of one fan: the touchpoint and the first and last time of that day.
public struct FanTouch: Sendable, Equatable {
    public var touchpoint: SalesTouchpoint
    public var firstAt: Int64
    public var lastAt: Int64

    public init(touchpoint: SalesTouchpoint, firstAt: Int64, lastAt: Int64) {
        self.touchpoint = touchpoint
        self.firstAt = firstAt
        self.lastAt = lastAt
    }
}

/// How an order's value is shared among the touches before it.
public enum AttributionModel: String, Sendable, CaseIterable {
    /// All to the first touch in the window.
    case firstTouch = "first_touch"
    /// All to the last touch before the order.
    case lastTouch = "last_touch"
    /// 40% to the first, 40% to the last, 20% shared by those between (half each with two touches).
    case positionBased = "position_based"

    /// Each touch's share of the value, in fen, summing exactly to `value`; empty without touches.
    public func shares(of value: Int64, among touches: [SalesTouchpoint]) -> [(SalesTouchpoint, Int64)] {
        guard let first = touches.first, let last = touches.last else { return [] }
        switch self {
        case .firstTouch: return [(first, value)]
        case .lastTouch: return [(last, value)]
        case .positionBased:
            guard touches.count > 1 else { return [(first, value)] }
            guard touches.count > 2 else { return [(first, value / 2), (last, value - value / 2)] }
            let ends = value * 2 / 5
            let middle = touches.dropFirst().dropLast()
            let each = (value - 2 * ends) / Int64(middle.count)
            let rest = value - 2 * ends - each * Int64(middle.count)
            // What does not divide evenly goes to the last touch, so the shares sum to the value.
            return [(first, ends)] + middle.map { ($0, each) } + [(last, ends + rest)]
        }
    }
}

/// Orders and GMV of a set of accounts over a period, read every way the white paper reads them:
/// fans versus non-fans, old versus new fans, by tier, by domain of arrival, by the touchpoint
/// paid through and by attributed touchpoint under three models side by side, repurchase, and
/// coupons' return. Values are net of refunds, in fen.
public struct GMVReport: Sendable, Equatable {
    /// Orders, value and distinct buyers of one part.
    public struct Part: Sendable, Equatable {
        public var orders = 0
        public var gmv: Int64 = 0
        public var buyers = 0

        public init() {}
    }

    /// What an order needs to be read every way: the order and its buyer as of the report.
    public struct Sale: Sendable {
        public var order: Order
        public var fan: FanState?
        public var touches: [FanTouch]

        public init(order: Order, fan: FanState?, touches: [FanTouch]) {
            self.order = order
            self.fan = fan
            self.touches = touches
        }
    }

    public struct CouponReturn: Sendable, Equatable {
        public var couponId: String
        public var name: String
        /// Orders that used it.
        public var redemptions: Int
        public var gmv: Int64
        /// What it took off those orders.
        public var discountFen: Int64

        public init(couponId: String, name: String, redemptions: Int, gmv: Int64, discountFen: Int64) {
            self.couponId = couponId
            self.name = name
            self.redemptions = redemptions
            self.gmv = gmv
            self.discountFen = discountFen
        }
    }

    public var from: Int64
    public var to: Int64
    /// Fans who followed before it are old fans; after it, new.
    public var cut: Int64
    public var windowDays: Int
    public var total = Part()
    public var fans = Part()
    public var nonFans = Part()
    public var oldFans = Part()
    public var newFans = Part()
    public var byTier: [Tier: Part] = [:]
    public var byDomain: [SourceDomain: Part] = [:]
    /// By the channel the order was paid through.
    public var byChannel: [Channel: Part] = [:]
    /// Live-room orders only (paid through a live): fans versus non-fans, old fans.
    public var liveFans = Part(), live = Part(), liveOldFans = Part()
    /// Group orders only: fans' share, and the repurchase of group members.
    public var groupFans = Part(), group = Part()
    public var groupMembers = 0, groupMembersRepurchasing = 0
    /// Model → touchpoint → attributed value; orders with no touch in the window are `unattributed`.
    public var attribution: [AttributionModel: [SalesTouchpoint: Int64]] = [:]
    public var unattributed = Part()
    /// Buyers with two orders or more in the period.
    public var repurchasers = 0
    /// Median days between a buyer's consecutive orders.
    public var medianRepurchaseDays: Double?
    public var coupons: [CouponReturn] = []

    public init(from: Int64, to: Int64, cut: Int64, windowDays: Int) {
        self.from = from
        self.to = to
        self.cut = cut
        self.windowDays = windowDays
    }

    /// Whether the fan followed the account when it paid at `t`.
    static func wasFan(_ fan: FanState?, at t: Int64) -> Bool {
        guard let fan, let followed = fan.followedAt, followed <= t else { return false }
        return fan.following || t < fan.followChangedAt
    }

    /// The report of `sales` (each order once, all paid within the period); `coupons` are the
    /// accounts' coupon templates, for the names and the discount each took.
    public static func make(_ sales: [Sale], coupons: [CouponTemplate], from: Int64, to: Int64, cut: Int64, windowDays: Int) -> GMVReport {
        var r = GMVReport(from: from, to: to, cut: cut, windowDays: windowDays)
        var buyers: [String: Set<String>] = [:]
        func add(_ part: inout Part, _ key: String, _ sale: Sale) {
            part.orders += 1
            part.gmv = part.gmv.saturatingAdd(sale.order.netFen)
            if buyers[key, default: []].insert(sale.order.accountId + "|" + sale.order.openId).inserted { part.buyers += 1 }
        }
        let window = Int64(windowDays) * 86_400_000
        var byBuyer: [String: [Int64]] = [:]
        let templates = Dictionary(coupons.map { ($0.id, $0) }) { a, _ in a }
        var couponUse: [String: (orders: Int, gmv: Int64, discount: Int64)] = [:]
        for sale in sales {
            let order = sale.order
            let fan = wasFan(sale.fan, at: order.paidAt)
            let isLive = order.channel == .liveFeed || order.channel == .liveSquare || order.channel == .liveList
            add(&r.total, "total", sale)
            if fan {
                add(&r.fans, "fans", sale)
                if (sale.fan?.followedAt ?? .max) < cut { add(&r.oldFans, "old", sale) } else { add(&r.newFans, "new", sale) }
            } else {
                add(&r.nonFans, "non", sale)
            }
            if let f = sale.fan {
                add(&r.byTier[f.tier, default: Part()], "tier:\(f.tier.rawValue)", sale)
                add(&r.byDomain[f.firstDomain, default: Part()], "domain:\(f.firstDomain.rawValue)", sale)
            }
            add(&r.byChannel[order.channel, default: Part()], "channel:\(order.channel.rawValue)", sale)
            if isLive {
                add(&r.live, "live", sale)
                if fan { add(&r.liveFans, "liveFans", sale) }
                if fan, (sale.fan?.followedAt ?? .max) < cut { add(&r.liveOldFans, "liveOld", sale) }
            }
            if order.channel == .group {
                add(&r.group, "group", sale)
                if fan { add(&r.groupFans, "groupFans", sale) }
            }
            // The touches before the order, within the window, in time order.
            let touches = sale.touches.filter { $0.firstAt <= order.paidAt && $0.firstAt > order.paidAt - window }
                .sorted { ($0.firstAt, $0.touchpoint.rawValue) < ($1.firstAt, $1.touchpoint.rawValue) }.map(\.touchpoint)
            if touches.isEmpty {
                add(&r.unattributed, "unattributed", sale)
            } else {
                for model in AttributionModel.allCases {
                    for (touchpoint, value) in model.shares(of: order.netFen, among: touches) {
                        r.attribution[model, default: [:]][touchpoint, default: 0] += value
                    }
                }
            }
            byBuyer[order.accountId + "|" + order.openId, default: []].append(order.paidAt)
            if let coupon = order.couponId {
                // The amount paid is after the coupon: an amount coupon took its value, a discount its share of the price before.
                let discount: Int64 = switch templates[coupon]?.value {
                case .amount(let fen): fen
                case .discount(let percent): order.amountFen * Int64(100 - percent) / Int64(percent)
                case nil: 0
                }
                couponUse[coupon, default: (0, 0, 0)].orders += 1
                couponUse[coupon, default: (0, 0, 0)].gmv += order.netFen
                couponUse[coupon, default: (0, 0, 0)].discount += discount
            }
        }
        var gaps: [Double] = []
        for times in byBuyer.values where times.count > 1 {
            r.repurchasers += 1
            let sorted = times.sorted()
            gaps += zip(sorted, sorted.dropFirst()).map { Double($1 - $0) / 86_400_000 }
        }
        gaps.sort()
        r.medianRepurchaseDays = gaps.isEmpty ? nil : gaps.count % 2 == 1 ? gaps[gaps.count / 2] : (gaps[gaps.count / 2 - 1] + gaps[gaps.count / 2]) / 2
        // Group members who bought: how many bought again (anywhere).
        let members = Set(sales.filter { $0.fan?.groups.values.contains(where: \.member) == true }.map { $0.order.accountId + "|" + $0.order.openId })
        r.groupMembers = members.count
        r.groupMembersRepurchasing = members.count { (byBuyer[$0]?.count ?? 0) > 1 }
        r.coupons = couponUse.map { id, use in
            CouponReturn(couponId: id, name: templates[id]?.name ?? id, redemptions: use.orders, gmv: use.gmv, discountFen: use.discount)
        }.sorted { ($0.gmv, $0.couponId) > ($1.gmv, $1.couponId) }
        return r
    }

    /// Share of a part in a whole, 0 to 1; nil when the whole is empty.
    public static func share(_ part: Int64, of whole: Int64) -> Double? { whole > 0 ? Double(part) / Double(whole) : nil }
}
