import FlywheelDomain
import FlywheelSimulator
import Testing

@Suite struct SyntheticTrafficTests {
    @Test func theSameSeedGivesTheSameEvents() {
        let a = SyntheticTraffic(fans: 500, days: 30, start: 1_767_225_600_000, seed: 42).events(count: 5_000)
        let b = SyntheticTraffic(fans: 500, days: 30, start: 1_767_225_600_000, seed: 42).events(count: 5_000)
        let c = SyntheticTraffic(fans: 500, days: 30, start: 1_767_225_600_000, seed: 43).events(count: 5_000)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func aFewFansDoMostOfTheActingAndArrivalsComeFromEveryDomain() {
        let events = SyntheticTraffic(fans: 1_000, days: 30, start: 0, seed: 7).events(count: 20_000)
        var perFan: [String: Int] = [:]
        for e in events { perFan[e.openId, default: 0] += 1 }
        let sorted = perFan.values.sorted(by: >)
        let topTenth = sorted.prefix(sorted.count / 10).reduce(0, +)
        #expect(Double(topTenth) / Double(events.count) > 0.25)
        #expect(Set(events.map(\.domain)) == Set(SourceDomain.allCases))
        #expect(events.map(\.occurredAt) == events.map(\.occurredAt).sorted())
    }
}

@Suite struct ReactionTests {
    @Test func slowerRepliesLoseMoreLeads() {
        let model = Reactions.standard
        #expect(model.cardChance(afterWaiting: 0) == 0.5 && model.cardChance(afterWaiting: 30) == 0.25 && model.cardChance(afterWaiting: 60) == 0.125)
        var g = SeededGenerator(seed: 42)
        func leads(afterWaiting minutes: Double) -> Int {
            (0..<4_000).count { _ in
                model.react(to: .leadCard, waitedMinutes: minutes, receivedToday: 1) { Double(g.next() >> 11) / Double(1 << 53) } == [.submitLead]
            }
        }
        let fast = leads(afterWaiting: 1), slow = leads(afterWaiting: 90)
        // 0.49 and 0.0625 of 4,000: the fast answer brings about eight times the leads.
        #expect((1_800...2_100).contains(fast) && (180...330).contains(slow), "fast \(fast), slow \(slow)")
    }

    @Test func fansPushedTooOftenUnfollow() {
        var model = Reactions.standard
        model.annoyance = 1
        #expect(model.react(to: .other, waitedMinutes: 0, receivedToday: 3) { 0.5 } == [])
        #expect(model.react(to: .other, waitedMinutes: 0, receivedToday: 4) { 0.5 } == [.unfollow])
        #expect(model.react(to: .groupInvitation("g"), waitedMinutes: 0, receivedToday: 1) { 0.1 } == [.joinGroup("g")])
        #expect(model.react(to: .coupon(activityId: "a", couponMetaId: "m"), waitedMinutes: 0, receivedToday: 1) { 0.1 } == [.claimCoupon(activityId: "a", couponMetaId: "m")])
    }
}

@Suite struct FatigueTests {
    @Test func aFanTouchedBeyondItsToleranceMayUnfollow() {
        let model = Reactions.standard
        #expect(!model.tired(touchesThisWeek: Reactions.weeklyTolerance, patience: 0) { 0 })
        #expect(model.tired(touchesThisWeek: Reactions.weeklyTolerance + 1, patience: 0) { 0 })
        #expect(!model.tired(touchesThisWeek: Reactions.weeklyTolerance + 1, patience: 1) { 0 })
        #expect(!model.tired(touchesThisWeek: 20, patience: 0) { 0.99 }, "annoyance is a chance")
    }
}
