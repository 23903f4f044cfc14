/// What a week's inputs to the indicators look like at a typical good account of a quadrant; an
/// input at its reference scores 50 (docs/operate.md). Rates are per follower and week unless
/// named otherwise.
public struct IndicatorReferences: Sendable, Equatable {
    public var views: Double
    public var watchMinutes: Double
    public var interactions: Double
    /// Net new followers a week, as a share of the followers.
    public var growth: Double
    /// Share of followers at liking or true-love.
    public var engagedShare: Double
    /// Leads a week per 1,000 followers.
    public var leads: Double
    /// Orders a week per 1,000 followers.
    public var orders: Double
    /// GMV (fen) a week per follower.
    public var gmv: Double
    /// Share of the week's orders placed by fans who had ordered before.
    public var repurchase: Double

    /// For a scope without one industry (a provider's enterprises of several quadrants).
    public static let general = IndicatorReferences(views: 2, watchMinutes: 8, interactions: 2, growth: 0.02, engagedShare: 0.3,
                                                    leads: 10, orders: 5, gmv: 3_000, repurchase: 0.2)
}

/// One day of an account's (or a matrix's) inputs to the indicators.
public struct IndicatorDay: Sendable, Equatable {
    public var day: Int
    /// At the end of the day.
    public var followers = 0
    /// Followers at liking or true-love at the end of the day.
    public var engaged = 0
    public var views = 0
    public var watchMinutes = 0
    public var interactions = 0
    public var follows = 0
    public var unfollows = 0
    public var leads = 0
    public var orders = 0
    public var repeatOrders = 0
    /// Fen, paid minus refunded that day.
    public var gmv: Int64 = 0

    public init(day: Int) { self.day = day }

    /// The days of several accounts added up, day by day.
    public static func sum(_ series: [[IndicatorDay]]) -> [IndicatorDay] {
        var byDay: [Int: IndicatorDay] = [:]
        for days in series {
            for d in days {
                var s = byDay[d.day] ?? IndicatorDay(day: d.day)
                s.followers += d.followers; s.engaged += d.engaged; s.views += d.views; s.watchMinutes += d.watchMinutes
                s.interactions += d.interactions; s.follows += d.follows; s.unfollows += d.unfollows; s.leads += d.leads
                s.orders += d.orders; s.repeatOrders += d.repeatOrders; s.gmv = s.gmv.saturatingAdd(d.gmv)
                byDay[d.day] = s
            }
        }
        return byDay.values.sorted { $0.day < $1.day }
    }
}

/// One input of an indicator over a week: its rate and the score it earns.
public struct IndicatorInput: Sendable, Equatable {
    public var name: String
    public var rate: Double
    public var reference: Double
    /// 0 to 100: 100·rate / (rate + reference), so the reference scores 50 and no input runs away.
    public var score: Double { rate <= 0 ? 0 : 100 * rate / (rate + reference) }
}

/// Popularity value and business value on one day, each the mean score of its inputs over the
/// seven days ending that day, per follower so accounts of any size compare.
public struct IndicatorValues: Sendable, Equatable {
    public var day: Int
    public var popularityInputs: [IndicatorInput]
    public var businessInputs: [IndicatorInput]

    public var popularity: Double { Self.mean(popularityInputs) }
    public var business: Double { Self.mean(businessInputs) }

    static func mean(_ inputs: [IndicatorInput]) -> Double { inputs.isEmpty ? 0 : inputs.map(\.score).reduce(0, +) / Double(inputs.count) }

    public static let window = 7

    /// The values for every day of `days` that has a full window before it (`days` sorted, one per day).
    public static func series(_ days: [IndicatorDay], references r: IndicatorReferences) -> [IndicatorValues] {
        guard days.count >= window else { return [] }
        return (window - 1..<days.count).map { end in
            let week = days[(end - window + 1)...end]
            let last = days[end]
            let followers = Double(max(last.followers, 1))
            func sum(_ f: (IndicatorDay) -> Int) -> Double { Double(week.reduce(0) { $0 + f($1) }) }
            let gmv = week.reduce(Int64(0)) { $0.saturatingAdd($1.gmv) }
            let orders = sum(\.orders)
            return IndicatorValues(
                day: last.day,
                popularityInputs: [
                    IndicatorInput(name: "views", rate: sum(\.views) / followers, reference: r.views),
                    IndicatorInput(name: "watch_minutes", rate: sum(\.watchMinutes) / followers, reference: r.watchMinutes),
                    IndicatorInput(name: "interactions", rate: sum(\.interactions) / followers, reference: r.interactions),
                    IndicatorInput(name: "fan_growth", rate: (sum(\.follows) - sum(\.unfollows)) / followers, reference: r.growth),
                    IndicatorInput(name: "tier_mix", rate: Double(last.engaged) / followers, reference: r.engagedShare),
                ],
                businessInputs: [
                    IndicatorInput(name: "leads", rate: 1_000 * sum(\.leads) / followers, reference: r.leads),
                    IndicatorInput(name: "orders", rate: 1_000 * orders / followers, reference: r.orders),
                    IndicatorInput(name: "gmv", rate: Double(gmv) / followers, reference: r.gmv),
                    IndicatorInput(name: "repurchase", rate: orders == 0 ? 0 : sum(\.repeatOrders) / orders, reference: r.repurchase),
                ])
        }
    }

    /// What moved the value since `earlier`: each input's change in points of the indicator
    /// (its score's change over the number of inputs), largest first.
    public static func drivers(_ now: [IndicatorInput], since earlier: [IndicatorInput]) -> [(name: String, points: Double)] {
        zip(now, earlier).map { ($0.name, ($0.score - $1.score) / Double(max(now.count, 1))) }
            .sorted { abs($0.1) > abs($1.1) }
    }
}
