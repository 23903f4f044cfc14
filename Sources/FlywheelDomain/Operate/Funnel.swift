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
