import FlywheelDomain
import Foundation
import Testing

@Suite struct TierTests {
    let rules = AccountRules.standard.compiled(calendar: AccountCalendar(timeZone: .gmt))

    func event(_ kind: EventKind, at t: Int64, channel: Channel = .followFeed, amount: Int64 = 0) -> FanEvent {
        FanEvent(id: "\(kind)-\(t)", kind: kind, openId: "f", occurredAt: t, channel: channel, amount: amount)
    }

    @Test func followingMakesAPasserbyAndUnfollowingAPotentialFanAgain() {
        var fan = FanState(firstSeenThrough: event(.videoView, at: 1_000, channel: .recommendFeed))
        #expect(fan.apply(event(.videoView, at: 1_000, channel: .recommendFeed), rules: rules, day: 0) == nil)
        #expect(fan.tier == .potential)
        let followed = fan.apply(event(.follow, at: 2_000), rules: rules, day: 0)
        #expect(followed == TierTransition(openId: "f", from: .potential, to: .passerby, at: 2_000, cause: "follow"))
        #expect(fan.followedAt == 2_000)
        let left = fan.apply(event(.unfollow, at: 3_000), rules: rules, day: 0)
        #expect(left?.to == .potential)
        #expect(fan.following == false)
    }

    @Test func aLateFollowDoesNotUndoANewerUnfollow() {
        var fan = FanState(firstSeenThrough: event(.unfollow, at: 5_000))
        _ = fan.apply(event(.unfollow, at: 5_000), rules: rules, day: 0)
        _ = fan.apply(event(.follow, at: 4_000), rules: rules, day: 0)
        #expect(fan.following == false)
        #expect(fan.tier == .potential)
        #expect(fan.counters.follows == 1)
    }

    @Test func twoKeptOrdersMakeAFollowerATrueLoveFanAndARefundTakesItBack() {
        var fan = FanState(firstSeenThrough: event(.follow, at: 1))
        _ = fan.apply(event(.follow, at: 1), rules: rules, day: 0)
        _ = fan.apply(event(.orderPaid, at: 2, channel: .liveFeed, amount: 9_900), rules: rules, day: 0)
        #expect(fan.tier == .passerby)
        let second = fan.apply(event(.orderPaid, at: 3, channel: .liveFeed, amount: 5_000), rules: rules, day: 0)
        #expect(second?.to == .trueLove)
        #expect(fan.gmv == 14_900)
        let refund = fan.apply(event(.orderRefunded, at: 4, channel: .liveFeed, amount: 5_000), rules: rules, day: 0)
        #expect(refund?.to == .passerby)
        #expect(fan.gmv == 9_900)
    }

    @Test func levelFourMakesALikingFan() {
        var fan = FanState(firstSeenThrough: event(.follow, at: 1))
        _ = fan.apply(event(.follow, at: 1), rules: rules, day: 0)
        var day = 0
        while fan.level < 4 {
            for i in 0..<42 { _ = fan.apply(event(.share, at: Int64(day * 86_400_000 + i)), rules: rules, day: day) }
            day += 1
        }
        #expect(fan.tier == .liking)
        #expect(day == 3, "1,200 points at 420 a day takes three days")
    }

    @Test func theFirstDomainIsTheEarliestEventsEvenWhenItArrivesLate() {
        var fan = FanState(firstSeenThrough: event(.videoView, at: 5_000, channel: .douPlus))
        _ = fan.apply(event(.videoView, at: 5_000, channel: .douPlus), rules: rules, day: 0)
        _ = fan.apply(event(.videoView, at: 1_000, channel: .wechat), rules: rules, day: 0)
        #expect(fan.firstDomain == .offsite)
        #expect(fan.firstChannel == .wechat)
        #expect(fan.latestDomain == .commercial, "the latest is still the newest by time")
        #expect(fan.firstSeenAt == 1_000)
    }

    @Test func channelsBelongToTheirDomains() {
        #expect(Channel.recommendFeed.defaultDomain == .public)
        #expect(Channel.douPlus.defaultDomain == .commercial)
        #expect(Channel.dm.defaultDomain == .private)
        #expect(Channel.wechat.defaultDomain == .offsite)
    }

    @Test func changedRulesReplaceAFan() {
        var fan = FanState(firstSeenThrough: event(.follow, at: 1))
        _ = fan.apply(event(.follow, at: 1), rules: rules, day: 0)
        var strict = AccountRules.standard
        strict.tiers.passerby = try! FanPredicate.parse("following and level >= 1")
        let t = fan.reevaluate(rules: strict.compiled(calendar: AccountCalendar(timeZone: .gmt)), at: 99)
        #expect(t == TierTransition(openId: "f", from: .passerby, to: .potential, at: 99, cause: "rules_changed"))
    }

    @Test func tierRulesAreCheckedBeforeTheyAreUsed() throws {
        var rules = AccountRules.standard
        rules.tiers.liking = try FanPredicate.parse("following and last_active within 7d")
        #expect(throws: RuleError.invalid(field: "tiers.liking", "a tier rule cannot use 'within': tiers change when fans act, not as time passes")) {
            try rules.validate()
        }
        rules.tiers.liking = try FanPredicate.parse("tier >= passerby and level >= 4")
        #expect(throws: RuleError.invalid(field: "tiers.liking", "a tier rule cannot use 'tier': tiers are what it decides")) { try rules.validate() }
        rules.tiers.liking = try FanPredicate.parse("level >= 40")
        #expect(throws: RuleError.invalid(field: "tiers.liking", "level 40 is above the highest level, \(LevelTable.standard.maxLevel)")) { try rules.validate() }
        rules.tiers.liking = try FanPredicate.parse("following and (level >= 4 or tags has \"vip\")")
        try rules.validate()
    }

    @Test func aTierRuleOverTagsAndProfilePlacesTheFan() throws {
        var custom = AccountRules.standard
        custom.tiers.liking = try FanPredicate.parse("following and (level >= 4 or tags has vip)")
        custom.tagRules = [TagRule(tag: "big_spender", when: try FanPredicate.parse("gmv >= 100000"))]
        let compiled = custom.compiled(calendar: AccountCalendar(timeZone: .gmt))
        var fan = FanState(firstSeenThrough: event(.follow, at: 1))
        _ = fan.apply(event(.follow, at: 1), rules: compiled, day: 0)
        #expect(fan.tier == .passerby)
        let tagged = fan.apply(FanEvent(id: "t", kind: .tagAdded, openId: "f", occurredAt: 2, channel: .unknown, ref: "vip"), rules: compiled, day: 0)
        #expect(tagged == TierTransition(openId: "f", from: .passerby, to: .liking, at: 2, cause: "tag_added"))
        #expect(fan.intimacy == 0, "operator actions earn no points")
        _ = fan.apply(event(.orderPaid, at: 3, channel: .liveFeed, amount: 120_000), rules: compiled, day: 0)
        #expect(fan.applyTagRules(compiled, at: 3) == ["big_spender"])
        _ = fan.apply(event(.orderRefunded, at: 4, channel: .liveFeed, amount: 120_000), rules: compiled, day: 0)
        #expect(fan.applyTagRules(compiled, at: 4).isEmpty)
        #expect(fan.tags == ["vip", "big_spender"], "an auto tag stays: it records that the condition held")
    }
}
