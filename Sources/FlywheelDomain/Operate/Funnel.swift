/// The flywheel's stages, in order: a fan the account knows of, who follows, is active, bought or
/// left a lead, bought again, and brought others.
public enum FunnelStage: String, CaseIterable, Sendable {
    case new, settled, active, converted, repurchased, fissioned

    /// What reaching the stage takes beyond the one before, by default (`new` takes nothing: every
    /// fan the account knows of). Each is a condition in the predicate language and can be
    /// replaced.
    public var defaultCondition: String? {
        switch self {
        case .new: nil
        case .settled: "following"
        case .active: "last_active within 30d"
        case .converted: "orders >= 1 or leads >= 1"
        case .repurchased: "orders >= 2"
        case .fissioned: "shares >= 1 or live_shares >= 1"
        }
    }

    /// The name of the live segment that keeps the stage's fans (its condition and every one
    /// before it), which the funnel's history and journeys triggered by the stage follow.
    public var segmentName: String { "Funnel · \(rawValue)" }
}

/// How many fans reached each stage: a fan counts at a stage when it meets that stage's
/// condition and every condition before it, so each stage holds at most the fans of the one
/// before, as a funnel does.
public struct Funnel: Sendable, Equatable {
    /// The condition each stage used (nil for `new`).
    public var conditions: [FunnelStage: String]
    public var fans: [FunnelStage: Int]

    public init(conditions: [FunnelStage: String], fans: [FunnelStage: Int]) {
        self.conditions = conditions
        self.fans = fans
    }

    /// The conditions in force: the defaults, with `overrides` in their place.
    public static func conditions(_ overrides: [FunnelStage: String] = [:]) -> [FunnelStage: String] {
        var conditions: [FunnelStage: String] = [:]
        for stage in FunnelStage.allCases { conditions[stage] = overrides[stage] ?? stage.defaultCondition }
        return conditions
    }

    /// One predicate a stage: its condition and all before it. `new` is every fan.
    public static func predicates(_ conditions: [FunnelStage: String]) throws(PredicateError) -> [FanPredicate] {
        var so: [FanPredicate] = []
        var predicates: [FanPredicate] = []
        for stage in FunnelStage.allCases {
            if let text = conditions[stage] { so.append(try FanPredicate.parse(text)) }
            predicates.append(.and(so))
        }
        return predicates
    }

    /// The share of a stage's fans that reached the next one; nil for the last stage, or when
    /// the stage has no fans.
    public func conversion(from stage: FunnelStage) -> Double? {
        let all = FunnelStage.allCases
        guard let i = all.firstIndex(of: stage), i + 1 < all.count, let here = fans[stage], here > 0 else { return nil }
        return Double(fans[all[i + 1]] ?? 0) / Double(here)
    }

    /// Funnels of several accounts added up, stage by stage (their conditions are the same).
    public static func sum(_ funnels: [Funnel], conditions: [FunnelStage: String]) -> Funnel {
        var fans: [FunnelStage: Int] = [:]
        for funnel in funnels { for (stage, n) in funnel.fans { fans[stage, default: 0] += n } }
        for stage in FunnelStage.allCases where fans[stage] == nil { fans[stage] = 0 }
        return Funnel(conditions: conditions, fans: fans)
    }
}

/// One week of the funnel (Monday to Sunday in the account's zone): each stage's fans at the end
/// of the week, the fans who entered and left it during the week, and the week's conversion.
public struct FunnelWeek: Sendable, Equatable {
    public var firstDay: Int
    public var fans: [FunnelStage: Int] = [:]
    public var entered: [FunnelStage: Int] = [:]
    public var left: [FunnelStage: Int] = [:]
    /// A stage's fans not yet in the next stage at the start of the week, and those who reached
    /// the stage during the week: who could move on that week.
    public var waiting: [FunnelStage: Int] = [:]

    public init(firstDay: Int) { self.firstDay = firstDay }

    /// The share of the stage's waiting fans who reached the next stage during the week; nil for
    /// the last stage or with no one waiting.
    public func conversion(from stage: FunnelStage) -> Double? {
        let all = FunnelStage.allCases
        guard let i = all.firstIndex(of: stage), i + 1 < all.count, let waiting = waiting[stage], waiting > 0 else { return nil }
        return min(1, Double(entered[all[i + 1]] ?? 0) / Double(waiting))
    }

    /// `sizes`: each stage's fans at the end of `today`; `moves`: each stage's entries (+1) and
    /// exits (−1) by day, all of them from the first week's start on.
    public static func weeks(firstDay: Int, count: Int, sizes: [FunnelStage: Int], moves: [FunnelStage: [(day: Int, delta: Int)]], today: Int) -> [FunnelWeek] {
        // A stage's size at the end of `day`: today's, less what moved after that day.
        func size(_ stage: FunnelStage, endOf day: Int) -> Int {
            max(0, (sizes[stage] ?? 0) - (moves[stage] ?? []).filter { $0.day > day && $0.day <= today }.reduce(0) { $0 + $1.delta })
        }
        let stages = FunnelStage.allCases
        return (0..<count).map { w in
            let first = firstDay + 7 * w, last = first + 6
            var week = FunnelWeek(firstDay: first)
            for stage in stages {
                week.fans[stage] = size(stage, endOf: min(last, today))
                let inWeek = (moves[stage] ?? []).filter { $0.day >= first && $0.day <= last }
                week.entered[stage] = inWeek.count { $0.delta > 0 }
                week.left[stage] = inWeek.count { $0.delta < 0 }
            }
            for (i, stage) in stages.enumerated().dropLast() {
                week.waiting[stage] = max(0, size(stage, endOf: first - 1) - size(stages[i + 1], endOf: first - 1)) + (week.entered[stage] ?? 0)
            }
            return week
        }
    }

    /// Weeks of several accounts added up, week by week.
    public static func sum(_ series: [[FunnelWeek]]) -> [FunnelWeek] {
        guard let first = series.first else { return [] }
        return first.indices.map { i in
            var total = FunnelWeek(firstDay: first[i].firstDay)
            for weeks in series where weeks.indices.contains(i) {
                let w = weeks[i]
                for stage in FunnelStage.allCases {
                    total.fans[stage, default: 0] += w.fans[stage] ?? 0
                    total.entered[stage, default: 0] += w.entered[stage] ?? 0
                    total.left[stage, default: 0] += w.left[stage] ?? 0
                    total.waiting[stage, default: 0] += w.waiting[stage] ?? 0
                }
            }
            return total
        }
    }
}
