import FlywheelDomain
import Foundation
import Testing

@Suite struct TierTests {
    let rules = AccountRules.standard

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
        var strict = rules
        strict.tiers.passerby = [TierCriterion(following: true, minLevel: 1)]
        let t = fan.reevaluate(rules: strict, at: 99)
        #expect(t == TierTransition(openId: "f", from: .passerby, to: .potential, at: 99, cause: "rules_changed"))
    }
}
