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
