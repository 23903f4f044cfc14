/// The four industry quadrants: how often customers buy × how much of the sale happens online.
public enum Industry: String, CaseIterable, Sendable, Codable {
    case highFrequencyOnline = "high_frequency_online"
    case highFrequencyOffline = "high_frequency_offline"
    case lowFrequencyOnline = "low_frequency_online"
    case lowFrequencyOffline = "low_frequency_offline"

    public var playbook: Playbook {
        switch self {
        case .highFrequencyOnline: .highFrequencyOnline
        case .highFrequencyOffline: .highFrequencyOffline
        case .lowFrequencyOnline: .lowFrequencyOnline
        case .lowFrequencyOffline: .lowFrequencyOffline
        }
    }
}

/// What a playbook expects of its fans: the share of followers at liking and at true-love after a
/// season of operation (docs/operate.md shows how the simulator checks it).
public struct TierMix: Sendable, Equatable {
    public var liking: ClosedRange<Double>
    public var trueLove: ClosedRange<Double>
}

/// How often a quadrant's accounts use each touchpoint, a week.
public struct Cadence: Sendable, Equatable {
    public var lives: Int
    public var posts: Int
    /// Activities in the fan groups (a coupon, a red envelope, a lottery, a Q&A).
    public var groupActivities: Int
}

/// A typical target for one metric in this quadrant.
public struct KPI: Sendable, Equatable {
    public var metric: GoalMetric
    public var target: Double
}

/// One way to move a metric, and why it works in this quadrant; `action` is what a task does.
public struct Lever: Sendable, Equatable {
    public var metric: GoalMetric
    public var action: TaskAction
    public var reason: String
}

/// An industry's way of running the flywheel, as data: its tier rules (what "true-love" means for
/// its buyers), its funnel stages, cadences, tools, KPIs with typical targets, the levers that move
/// each metric, and the seed case it is drawn from (docs/operate.md).
public struct Playbook: Sendable, Equatable {
    public var industry: Industry
    public var name: String
    public var industries: String
    public var aim: String
    public var seedCase: String
    public var tiers: TierRules
    /// Stage conditions where they differ from the funnel's defaults.
    public var stages: [FunnelStage: String]
    public var cadence: Cadence
    public var tools: [String]
    public var kpis: [KPI]
    public var levers: [Lever]
    public var expectedMix: TierMix
    /// What a week's inputs to the two indicators look like at a typical good account of the
    /// quadrant, per follower: a value at the reference scores 50 (docs/operate.md).
    public var references: IndicatorReferences

    public var rules: AccountRules { AccountRules(tiers: tiers, tagRules: Self.tagRules) }

    /// Tags every playbook keeps by rule, defined for the enterprise when it adopts one: who
    /// bought again, who comes to the lives, who left a number, who spent ¥1,000 or more.
    public static let tagRules: [TagRule] = [
        TagRule(tag: "复购客户", when: atLeast("orders", 2)),
        TagRule(tag: "直播常客", when: atLeast("live_watches", 5)),
        TagRule(tag: "已留资", when: atLeast("leads", 1)),
        TagRule(tag: "高价值", when: atLeast("gmv", 100_000)),
    ]

    public func levers(for metric: GoalMetric) -> [Lever] { levers.filter { $0.metric == metric } }

    /// Passerby is following; liking and true-love need following and any one of their conditions.
    static func tiers(liking: [FanPredicate], trueLove: [FanPredicate]) -> TierRules {
        let following = FanPredicate.isTrue(field: "following")
        return TierRules(passerby: following, liking: .and([following, .or(liking)]), trueLove: .and([following, .or(trueLove)]))
    }

    static func atLeast(_ field: String, _ n: Int64) -> FanPredicate { .compare(field: field, op: .ge, value: .int(n)) }

    public static let all: [Playbook] = [.highFrequencyOnline, .highFrequencyOffline, .lowFrequencyOnline, .lowFrequencyOffline]

    public static let highFrequencyOnline = Playbook(
            industry: .highFrequencyOnline, name: "High frequency, sold online",
            industries: "food, FMCG, apparel, mother & baby, skincare, retail e-commerce",
            aim: "keep enthusiasm up, build a repurchase pool, and raise how often fans buy with trade tools",
            seedCase: "Luzhou Laojiao: 3M fans over a matrix of accounts; fans bring 83% of live GMV; 19% of fans active daily; 70% repurchase in groups; lives daily at 08:00 and 19:00",
            tiers: tiers(liking: [atLeast("level", 3), atLeast("orders", 1)], trueLove: [atLeast("orders", 2), atLeast("level", 6)]),
            stages: [:],
            cadence: Cadence(lives: 14, posts: 2, groupActivities: 3),
            tools: ["live coupons", "fan red envelopes", "group repurchase coupons", "lotteries"],
            kpis: [KPI(metric: .trueLoveShare, target: 25), KPI(metric: .groupRepurchase, target: 60), KPI(metric: .gmvFromFans, target: 150_000_00),
                   KPI(metric: .popularity, target: 60), KPI(metric: .business, target: 60)],
            levers: [
                Lever(metric: .trueLoveShare, action: .groupThreshold("level >= 3"),
                      reason: "a group open to level 3 and above keeps the engaged fans together, where repurchase happens (70% in the seed case)"),
                Lever(metric: .trueLoveShare, action: .liveSchedule(hours: [8, 19]),
                      reason: "daily lives at 08:00 and 19:00 earn intimacy every day: level 6 is about three weeks of daily watching"),
                Lever(metric: .groupRepurchase, action: .manual("Post a repurchase coupon in every fan group each Friday"),
                      reason: "a coupon in the group brings members back before their usual repurchase date"),
                Lever(metric: .gmvFromFans, action: .manual("Announce each live in the fan groups and by subscription post"),
                      reason: "fans bring 83% of live GMV in the seed case; reminded fans come"),
                Lever(metric: .popularity, action: .manual("Reply to comments on new videos within the hour"),
                      reason: "interactions and watch time are what the platform's recommendation rewards"),
                Lever(metric: .business, action: .manual("Run a fan red envelope in the evening live"), reason: "red envelopes keep fans in the live room until the offer"),
            ],
            expectedMix: TierMix(liking: 0.30...0.60, trueLove: 0.15...0.40),
            references: IndicatorReferences(views: 3, watchMinutes: 20, interactions: 3, growth: 0.02, engagedShare: 0.4,
                                            leads: 0.5, orders: 10, gmv: 3_000, repurchase: 0.5))

    public static let highFrequencyOffline = Playbook(
            industry: .highFrequencyOffline, name: "High frequency, sold in store",
            industries: "catering, local services, beauty & hair, leisure, fitness",
            aim: "interest in the local store, visits, word of mouth and fission",
            seedCase: "a photo studio: the DM auto-reply offers the fan group; the homepage shows the daily live, group entry, consultation entry and lead card",
            tiers: tiers(liking: [atLeast("level", 2), atLeast("leads", 1), atLeast("group_joins", 1)],
                         trueLove: [atLeast("orders", 2), .and([atLeast("orders", 1), .or([atLeast("shares", 1), atLeast("level", 3)])])]),
            stages: [:],
            cadence: Cadence(lives: 7, posts: 1, groupActivities: 2),
            tools: ["DM welcome with the group entry", "homepage lead card", "add-fan coupons", "referral (fission) codes"],
            kpis: [KPI(metric: .trueLoveShare, target: 8), KPI(metric: .leads30d, target: 150), KPI(metric: .dmSLAShare, target: 90),
                   KPI(metric: .popularity, target: 50), KPI(metric: .business, target: 50)],
            levers: [
                Lever(metric: .leads30d, action: .welcomeReply("欢迎光临！加入粉丝群领本周优惠，或留下电话，我们尽快回电。"),
                      reason: "the seed studio's DM welcome offers the group and a consultation: most of its leads start in a DM"),
                Lever(metric: .trueLoveShare, action: .manual("Give every customer a referral code at checkout"),
                      reason: "a customer who brings a friend is the studio's true-love fan"),
                Lever(metric: .dmSLAShare, action: .manual("Staff the inbox 10:00–22:00 with two agents"), reason: "a lead answered at once is filled in about 8 times as often"),
                Lever(metric: .popularity, action: .liveSchedule(hours: [20]), reason: "a daily evening live shows the work and the store"),
                Lever(metric: .business, action: .manual("Call back every homepage lead the same day"), reason: "store visits come from leads called back quickly"),
            ],
            expectedMix: TierMix(liking: 0.35...0.70, trueLove: 0.08...0.25),
            references: IndicatorReferences(views: 2, watchMinutes: 5, interactions: 2, growth: 0.02, engagedShare: 0.3,
                                            leads: 20, orders: 10, gmv: 2_000, repurchase: 0.3))

    public static let lowFrequencyOnline = Playbook(
            industry: .lowFrequencyOnline, name: "Low frequency, sold online",
            industries: "3C, fashion, luxury, lodging, adult education, finance & insurance, media, business services",
            aim: "lasting stickiness, a shorter decision cycle, cross-category sales",
            seedCase: "a career-education account: fans bring 94% of group GMV; products over 1,000 yuan make up 40%+ of group sales; admins answer every day",
            tiers: tiers(liking: [atLeast("group_joins", 1), atLeast("level", 2), atLeast("leads", 1)], trueLove: [atLeast("orders", 1), atLeast("level", 4)]),
            // A course is weighed for weeks: a fan quiet for a month is still deciding.
            stages: [.active: "last_active within 60d"],
            cadence: Cadence(lives: 3, posts: 2, groupActivities: 5),
            tools: ["fan groups with daily admin answers", "lives with course coupons", "lead cards", "lotteries for trial lessons"],
            kpis: [KPI(metric: .trueLoveShare, target: 8), KPI(metric: .groupRepurchase, target: 10), KPI(metric: .gmvFromFans, target: 100_000_00),
                   KPI(metric: .popularity, target: 50), KPI(metric: .business, target: 50)],
            levers: [
                Lever(metric: .trueLoveShare, action: .groupThreshold("level >= 1"),
                      reason: "fans bring 94% of group GMV in the seed case: every follower who shows interest belongs in the group"),
                Lever(metric: .gmvFromFans, action: .liveSchedule(hours: [21]), reason: "a weekly evening live answers questions and shortens the decision"),
                Lever(metric: .gmvFromFans, action: .manual("Answer every group question the same day"), reason: "admins answering daily is what the seed case credits"),
                Lever(metric: .groupRepurchase, action: .manual("Offer the next course to last quarter's buyers in the group"), reason: "cross-category sales come from buyers"),
                Lever(metric: .popularity, action: .manual("Publish two short lessons a week"), reason: "useful content earns watch time and shares"),
                Lever(metric: .business, action: .manual("Run a trial-lesson lottery for group members"), reason: "a trial brings undecided fans to a first purchase"),
            ],
            expectedMix: TierMix(liking: 0.50...0.85, trueLove: 0.04...0.15),
            references: IndicatorReferences(views: 2, watchMinutes: 5, interactions: 2, growth: 0.02, engagedShare: 0.4,
                                            leads: 3, orders: 2, gmv: 5_000, repurchase: 0.05))

    public static let lowFrequencyOffline = Playbook(
            industry: .lowFrequencyOffline, name: "Low frequency, sold in store",
            industries: "real estate, autos, home decoration",
            aim: "trust, a benefit circle, IP and belonging; online leads bring store visits",
            seedCase: "a used-car dealer: 4 matrix accounts, 1.96M fans, 15k–20k leads and 200+ cars a month, 60k fans in groups, every DM answered within 30 minutes",
            tiers: tiers(liking: [atLeast("leads", 1), atLeast("dms_received", 1), atLeast("level", 2)],
                         trueLove: [atLeast("orders", 1), .and([atLeast("leads", 1), atLeast("level", 2)])]),
            // A car is weighed for months.
            stages: [.active: "last_active within 90d"],
            cadence: Cadence(lives: 5, posts: 1, groupActivities: 1),
            tools: ["lead cards", "DMs answered within 30 minutes", "store-visit coupons", "owner groups"],
            kpis: [KPI(metric: .leads30d, target: 300), KPI(metric: .dmSLAShare, target: 95), KPI(metric: .trueLoveShare, target: 4),
                   KPI(metric: .popularity, target: 40), KPI(metric: .business, target: 50)],
            levers: [
                Lever(metric: .dmSLAShare, action: .manual("Put two sales on the inbox rota so every DM is answered within 30 minutes"),
                      reason: "the seed dealer answers every DM within 30 minutes; buyers leave their number when answered fast"),
                Lever(metric: .leads30d, action: .welcomeReply("您好！留下电话和想看的车型，销售顾问30分钟内给您回电。"),
                      reason: "a DM answered at once with a lead card is filled in about 8 times as often"),
                Lever(metric: .trueLoveShare, action: .groupThreshold("leads >= 1"),
                      reason: "an owners' and buyers' group for people who left their details builds the trust a car purchase needs"),
                Lever(metric: .popularity, action: .liveSchedule(hours: [19]), reason: "an evening live tour of the lot brings questions and DMs"),
                Lever(metric: .business, action: .manual("Invite every new lead to a store visit within 48 hours"), reason: "cars are sold at the store"),
            ],
            expectedMix: TierMix(liking: 0.40...0.75, trueLove: 0.01...0.08),
            references: IndicatorReferences(views: 1.5, watchMinutes: 2, interactions: 1, growth: 0.02, engagedShare: 0.2,
                                            leads: 40, orders: 0.5, gmv: 2_000, repurchase: 0.02))
}
