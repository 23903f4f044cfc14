import FlywheelDomain
import Testing

/// Orders read every way: a fan is who followed when paying; old fans followed before the cut;
/// the three attribution models share each order's value exactly and disagree as they should.
@Suite struct GMVReportTests {
    let day: Int64 = 86_400_000
    let start: Int64 = 1_780_000_000_000

    func fan(_ openId: String, followedAt: Int64?, unfollowedAt: Int64? = nil, tier: Tier = .liking, domain: SourceDomain = .public, inGroup: Bool = false) -> FanState {
        var f = FanState(firstSeenThrough: FanEvent(id: "x", kind: .videoView, openId: openId, occurredAt: start - 100 * day, domain: domain, channel: .recommendFeed))
        f.followedAt = followedAt
        f.following = followedAt != nil && unfollowedAt == nil
        f.followChangedAt = unfollowedAt ?? followedAt ?? 0
        f.tier = tier
        if inGroup { f.groups["g1"] = GroupMembership(member: true, at: start) }
        return f
    }

    func order(_ id: String, _ openId: String, _ fen: Int64, at: Int64, channel: Channel, coupon: String? = nil, refunded: Int64 = 0) -> Order {
        Order(id: id, accountId: "acc", openId: openId, source: .shop, channel: channel, amountFen: fen, refundedFen: refunded, couponId: coupon, lines: [], paidAt: at)
    }

    @Test func positionBasedGivesFortyTwentyFortyAndEveryModelSumsExactly() {
        let touches: [SalesTouchpoint] = [.post, .dm, .group, .live]
        #expect(AttributionModel.firstTouch.shares(of: 1_000, among: touches).map(\.1) == [1_000])
        #expect(AttributionModel.lastTouch.shares(of: 1_000, among: touches).map(\.0) == [.live])
        let position = AttributionModel.positionBased.shares(of: 1_000, among: touches)
        #expect(position.map(\.0) == touches && position.map(\.1) == [400, 100, 100, 400])
        #expect(AttributionModel.positionBased.shares(of: 1_001, among: [.post, .live]).map(\.1) == [500, 501])
        for value: Int64 in [1, 7, 999, 123_457] {
            for n in 1...6 {
                let many = Array(repeating: SalesTouchpoint.dm, count: n)
                for model in AttributionModel.allCases { #expect(model.shares(of: value, among: many).map(\.1).reduce(0, +) == value, "\(model) \(value) \(n)") }
            }
        }
        #expect(AttributionModel.positionBased.shares(of: 1_000, among: []).isEmpty)
    }

    @Test func fansAreWhoFollowedWhenPayingAndOldFansFollowedBeforeTheCut() throws {
        let cut = start
        let fans = [
            "old": fan("old", followedAt: start - 30 * day, tier: .trueLove, inGroup: true),
            "new": fan("new", followedAt: start + day, domain: .commercial),
            "gone": fan("gone", followedAt: start - 10 * day, unfollowedAt: start + 5 * day),
            "stranger": fan("stranger", followedAt: nil, tier: .potential),
        ]
        let touch = { (t: SalesTouchpoint, at: Int64) in FanTouch(touchpoint: t, firstAt: at, lastAt: at) }
        let sales: [GMVReport.Sale] = [
            // The old fan: two live orders and a group order, reached by a post, then a DM, then a live.
            .init(order: order("o1", "old", 10_000, at: start + 2 * day, channel: .liveFeed), fan: fans["old"],
                  touches: [touch(.post, start + day), touch(.dm, start + day + 3_600_000), touch(.live, start + 2 * day - 60_000)]),
            .init(order: order("o2", "old", 20_000, at: start + 9 * day, channel: .group, coupon: "cpn"), fan: fans["old"], touches: [touch(.group, start + 8 * day)]),
            .init(order: order("o3", "old", 5_000, at: start + 20 * day, channel: .liveFeed, refunded: 5_000), fan: fans["old"], touches: []),
            // The new fan followed after the cut; the gone fan paid while following, then left; the stranger never followed.
            .init(order: order("o4", "new", 8_000, at: start + 3 * day, channel: .liveFeed), fan: fans["new"], touches: [touch(.homepage, start - 20 * day)]),
            .init(order: order("o5", "gone", 4_000, at: start + 4 * day, channel: .group), fan: fans["gone"], touches: []),
            .init(order: order("o6", "gone", 3_000, at: start + 6 * day, channel: .dm), fan: fans["gone"], touches: []),
            .init(order: order("o7", "stranger", 2_000, at: start + day, channel: .liveFeed), fan: fans["stranger"], touches: [touch(.live, start + day - 1)]),
        ]
        let coupon = CouponTemplate(id: "cpn", accountId: "acc", name: "满200减20", value: .amount(fen: 2_000), thresholdFen: 20_000, validFrom: start, validUntil: start + 30 * day,
                                    stock: 100, perFanLimit: 1, audience: nil, requiresFollow: false, activityId: nil, createdAt: start)
        let r = GMVReport.make(sales, coupons: [coupon], from: start, to: start + 30 * day, cut: cut, windowDays: 7)
        #expect(r.total.orders == 7 && r.total.gmv == 10_000 + 20_000 + 0 + 8_000 + 4_000 + 3_000 + 2_000 && r.total.buyers == 4)
        #expect(r.fans.gmv == 42_000 && r.nonFans.gmv == 5_000, "o6 was paid after the fan left")
        #expect(r.fans.gmv + r.nonFans.gmv == r.total.gmv)
        #expect(r.nonFans.orders == 2 && r.nonFans.buyers == 2)
        #expect(r.oldFans.gmv == 34_000 && r.newFans.gmv == 8_000, "o5 by the gone fan, who followed before the cut, is old")
        #expect(r.byTier[.trueLove]?.gmv == 30_000 && r.byDomain[.commercial]?.gmv == 8_000)
        // Live: 10,000 + 0 + 8,000 by fans, 2,000 not; old fans 10,000 of 20,000.
        #expect(r.live.gmv == 20_000 && r.liveFans.gmv == 18_000 && r.liveOldFans.gmv == 10_000)
        #expect(r.group.gmv == 24_000 && r.groupFans.gmv == 24_000)
        // The old fan is in a group and bought three times: one member, repurchasing.
        #expect(r.groupMembers == 1 && r.groupMembersRepurchasing == 1)
        #expect(r.repurchasers == 2, "old and gone bought more than once")
        #expect(r.medianRepurchaseDays == 7, "gaps of 7, 11 and 2 days")
        // Attribution: o1's 10,000 goes to the post first-touch, the live last-touch, 40/20/40 position-based.
        #expect(r.attribution[.firstTouch]?[.post] == 10_000 && r.attribution[.lastTouch]?[.post] == nil)
        #expect(r.attribution[.lastTouch]?[.live] == 10_000 + 2_000 && r.attribution[.firstTouch]?[.live] == 2_000)
        #expect(r.attribution[.positionBased]?[.post] == 4_000 && r.attribution[.positionBased]?[.dm] == 2_000 && r.attribution[.positionBased]?[.live] == 4_000 + 2_000)
        #expect(r.attribution[.firstTouch]?[.homepage] == nil, "a touch older than the window does not count")
        #expect(r.unattributed.orders == 4)
        for model in AttributionModel.allCases {
            #expect((r.attribution[model] ?? [:]).values.reduce(0, +) + r.unattributed.gmv == r.total.gmv, "\(model) shares all of it")
        }
        #expect(r.coupons == [GMVReport.CouponReturn(couponId: "cpn", name: "满200减20", redemptions: 1, gmv: 20_000, discountFen: 2_000)])
    }
}
