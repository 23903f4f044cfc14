import FlywheelDomain
import FlywheelSimulator
import Foundation
import Testing

/// Each playbook's tier rules, run over its quadrant's simulated season, give the tier mix the
/// playbook states; the standard rules do not (they fit a high-frequency brand only).
@Suite struct PlaybookTests {
    static let firstDay = 20_454  // 2026-01-01

    /// Followers' shares at liking and at true-love, and every tier's count, after `days` of the preset under `rules`.
    static func season(_ preset: Preset, rules: AccountRules, days: Int = 90) -> (liking: Double, trueLove: Double, tiers: [Tier: Int]) {
        let calendar = AccountCalendar(timeZone: TimeZone(identifier: AccountCalendar.defaultTimeZone)!)
        let compiled = rules.compiled(calendar: calendar)
        var world = World(preset: preset, population: 4_000, seed: 3)
        var fans: [String: FanState] = [:]
        for d in 0..<days {
            for e in world.simulate(day: firstDay + d).events {
                let key = "\(e.account)/\(e.event.openId)"
                var fan = fans[key] ?? FanState(firstSeenThrough: e.event)
                _ = fan.apply(e.event, rules: compiled, day: calendar.day(ofMillis: e.event.occurredAt))
                fans[key] = fan
            }
        }
        var tiers: [Tier: Int] = [:]
        for fan in fans.values { tiers[fan.tier, default: 0] += 1 }
        let followers = Double(max(fans.values.filter(\.following).count, 1))
        return (Double(tiers[.liking] ?? 0) / followers, Double(tiers[.trueLove] ?? 0) / followers, tiers)
    }

    @Test(arguments: Preset.all)
    func aPlaybooksRulesGiveItsQuadrantsTierMix(_ preset: Preset) {
        let playbook = preset.industry.playbook
        let mix = Self.season(preset, rules: playbook.rules)
        for tier in Tier.allCases { #expect((mix.tiers[tier] ?? 0) > 0, "\(preset.name) has \(tier.name) fans") }
        #expect(playbook.expectedMix.liking.contains(mix.liking), "\(preset.name): liking \(mix.liking)")
        #expect(playbook.expectedMix.trueLove.contains(mix.trueLove), "\(preset.name): true-love \(mix.trueLove)")
    }

    @Test func highFrequencyBrandsHaveMoreTrueLoveFansAndTheStandardRulesFitOnlyThem() {
        let shares = Preset.all.map { ($0, Self.season($0, rules: $0.industry.playbook.rules).trueLove) }
        let high = shares.filter { $0.0.quadrant.hasPrefix("high") }.map(\.1), low = shares.filter { $0.0.quadrant.hasPrefix("low") }.map(\.1)
        #expect(high.min()! > low.max()!, "\(shares.map { ($0.0.name, $0.1) })")
        // Under the standard rules the used-car dealer has no liking fan at all: what the playbook fixes.
        let standard = Self.season(.usedCar, rules: .standard)
        #expect(standard.tiers[.liking] ?? 0 == 0 || standard.tiers[.trueLove] ?? 0 == 0)
    }

    @Test func everyPlaybookIsWhole() throws {
        #expect(Set(Playbook.all.map(\.industry)) == Set(Industry.allCases))
        for p in Playbook.all {
            try p.rules.validate()
            for (stage, text) in p.stages { _ = try FanPredicate.parse(text); #expect(stage != .new) }
            for lever in p.levers { #expect(p.kpis.contains { $0.metric == lever.metric }, "\(p.industry): a lever for a metric it sets no KPI for") }
            for kpi in p.kpis { #expect(!p.levers(for: kpi.metric).isEmpty, "\(p.industry): no lever for \(kpi.metric)") }
        }
    }
}
