import FlywheelDomain

/// One industry's simulated world: its accounts and how its people behave. Every number is a
/// parameter of the behaviour model (docs/simulation.md explains each); the four presets are the
/// four quadrants of docs/domain.md, modelled on their seed cases.
public struct Preset: Sendable, Equatable {
    public var name: String
    public var enterprise: String
    /// "high frequency, high online" and so on.
    public var quadrant: String
    /// The quadrant's playbook (docs/operate.md).
    public var industry: Industry
    /// The enterprise's matrix of accounts.
    public var accounts: [String]

    // Reach: people met per day per account, as a share of the population not yet met.
    /// Free recommendation traffic at zero private-domain health.
    public var organicReach: Double
    /// How much a healthy private domain multiplies organic reach (the platform's feedback loop).
    public var feedback: Double
    /// Paid traffic (budget buys reach).
    public var paidReach: Double
    /// Off-site pools (WeChat groups and the like).
    public var offsiteReach: Double
    /// Chance that a person met follows.
    public var followRate: Double

    // Engagement of fans, at affinity 1 (affinity runs 0...1, grows with acts, decays daily).
    /// Chance a fan acts on a given day.
    public var activeRate: Double
    /// Hours of the daily lives (account time zone); empty for none.
    public var lives: [Int]
    /// Chance an active follower watches a live that day.
    public var liveRate: Double
    public var dmRate: Double
    public var groupRate: Double
    /// Chance an active fan leaves a lead card (in the fan group, or on the homepage).
    public var leadRate: Double

    // Buying.
    /// Chance an active fan buys, scaled by affinity.
    public var buyRate: Double
    /// Days after a purchase before the fan is likely to buy again.
    public var repurchaseDays: Int
    /// Order value in yuan.
    public var price: ClosedRange<Int>
    /// Share of purchases that go through a lead and the store (offline) rather than online.
    public var offlineShare: Double

    // The account's own behaviour.
    /// Minutes within which every DM is answered (nil: answered sometimes, slowly).
    public var dmAnswerMinutes: Int?
    /// Pushes (subscription posts, proactive DMs) per follower per week.
    public var touchesPerWeek: Int
    /// Pushes per week a fan takes before unfollowing becomes likely.
    public var tolerance: Int
    /// How fans react to the DMs the account sends them.
    public var reactions = Reactions.standard

    public static let all: [Preset] = [.liquor, .photoStudio, .careerEducation, .usedCar]

    public static func named(_ name: String) -> Preset? { all.first { $0.name == name } }

    /// High frequency, high online (Luzhou Laojiao): a matrix of accounts, lives every day at 08:00
    /// and 19:00, most GMV in the live room, repurchase in fan groups.
    public static let liquor = Preset(
        name: "liquor", enterprise: "Demo Liquor Brand", quadrant: "high frequency, high online", industry: .highFrequencyOnline,
        accounts: ["Brand flagship", "Live room", "Regional store"],
        organicReach: 0.0040, feedback: 4, paidReach: 0.0020, offsiteReach: 0.0005, followRate: 0.35,
        activeRate: 0.45, lives: [8, 19], liveRate: 0.45, dmRate: 0.05, groupRate: 0.25, leadRate: 0.005,
        buyRate: 0.10, repurchaseDays: 21, price: 99...899, offlineShare: 0.05,
        dmAnswerMinutes: nil, touchesPerWeek: 3, tolerance: 5)

    /// High frequency, low online (a photo studio): DMs offer the fan group, the homepage shows the
    /// live, group entry and a lead card; customers come to the store.
    public static let photoStudio = Preset(
        name: "photo_studio", enterprise: "Demo Photo Studio", quadrant: "high frequency, low online", industry: .highFrequencyOffline,
        accounts: ["Studio"],
        organicReach: 0.0050, feedback: 3, paidReach: 0.0010, offsiteReach: 0.0010, followRate: 0.30,
        activeRate: 0.30, lives: [20], liveRate: 0.15, dmRate: 0.15, groupRate: 0.20, leadRate: 0.05,
        buyRate: 0.10, repurchaseDays: 25, price: 199...1_999, offlineShare: 0.80,
        dmAnswerMinutes: 60, touchesPerWeek: 2, tolerance: 4)

    /// Low frequency, high online (career education): high-ticket courses sold in fan groups,
    /// admins answering every day.
    public static let careerEducation = Preset(
        name: "career_education", enterprise: "Demo Career Academy", quadrant: "low frequency, high online", industry: .lowFrequencyOnline,
        accounts: ["Academy", "Teacher Li"],
        organicReach: 0.0035, feedback: 3, paidReach: 0.0030, offsiteReach: 0.0005, followRate: 0.25,
        activeRate: 0.25, lives: [21], liveRate: 0.25, dmRate: 0.08, groupRate: 0.35, leadRate: 0.02,
        buyRate: 0.03, repurchaseDays: 365, price: 1_000...6_000, offlineShare: 0.05,
        dmAnswerMinutes: 120, touchesPerWeek: 2, tolerance: 4)

    /// Low frequency, low online (a used-car dealer): four matrix accounts, leads, every DM answered
    /// within 30 minutes, cars sold at the store.
    public static let usedCar = Preset(
        name: "used_car", enterprise: "Demo Used Cars", quadrant: "low frequency, low online", industry: .lowFrequencyOffline,
        accounts: ["Dealer", "Sales Wang", "Sales Zhao", "Inspection"],
        organicReach: 0.0030, feedback: 3, paidReach: 0.0015, offsiteReach: 0.0003, followRate: 0.20,
        activeRate: 0.20, lives: [19], liveRate: 0.10, dmRate: 0.20, groupRate: 0.10, leadRate: 0.06,
        buyRate: 0.01, repurchaseDays: 1_500, price: 30_000...150_000, offlineShare: 0.95,
        dmAnswerMinutes: 30, touchesPerWeek: 1, tolerance: 3,
        // Buyers of a car leave their number readily, if answered fast.
        reactions: Reactions(replyRate: 0.5, cardRate: 0.6, patienceMinutes: 30, joinRate: 0.4, tolerance: 3, annoyance: 0.3))
}
