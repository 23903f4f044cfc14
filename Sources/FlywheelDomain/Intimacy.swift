/// How many intimacy points one kind of event earns: a flat amount, plus `perAmount` for every
/// full `amountUnit` of the event's amount (minutes watched, fen gifted).
public struct PointRule: Codable, Sendable, Equatable {
    public var flat: Int
    public var perAmount: Int
    public var amountUnit: Int

    public init(flat: Int = 0, perAmount: Int = 0, amountUnit: Int = 1) {
        self.flat = flat
        self.perAmount = perAmount
        self.amountUnit = amountUnit
    }

    enum CodingKeys: String, CodingKey { case flat, perAmount, amountUnit }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        flat = try c.decodeIfPresent(Int.self, forKey: .flat) ?? 0
        perAmount = try c.decodeIfPresent(Int.self, forKey: .perAmount) ?? 0
        amountUnit = try c.decodeIfPresent(Int.self, forKey: .amountUnit) ?? 1
    }

    func points(amount: Int64) -> Int {
        guard perAmount > 0, amount > 0, amountUnit > 0 else { return flat }
        return flat.saturatingAdd(perAmount.saturatingMultiply(Int(min(amount / Int64(amountUnit), 1_000_000))))
    }
}

/// Points per event kind; kinds not listed earn nothing.
public struct PointTable: Codable, Sendable, Equatable {
    public var rules: [EventKind: PointRule]

    public init(_ rules: [EventKind: PointRule]) { self.rules = rules }

    /// Documented defaults (docs/rules.md): a gift earns a point per 0.1 yuan, as one Douyin coin does.
    public static let standard = PointTable([
        .videoView: PointRule(flat: 1),
        .like: PointRule(flat: 2),
        .comment: PointRule(flat: 5),
        .share: PointRule(flat: 10),
        .liveWatch: PointRule(perAmount: 1, amountUnit: 1),
        .liveGift: PointRule(perAmount: 1, amountUnit: 10),
        .liveShare: PointRule(flat: 10),
        .dmReceived: PointRule(flat: 3),
        .groupMessage: PointRule(flat: 2),
        .homepageVisit: PointRule(flat: 1),
        .leadSubmitted: PointRule(flat: 20),
        .orderPaid: PointRule(flat: 50),
        .couponClaimed: PointRule(flat: 5),
        .couponRedeemed: PointRule(flat: 10),
    ])

    public func points(for event: FanEvent) -> Int {
        rules[event.kind]?.points(amount: event.amount) ?? 0
    }

    public init(from decoder: any Decoder) throws {
        let raw = try [String: PointRule](from: decoder)
        var rules: [EventKind: PointRule] = [:]
        for (key, rule) in raw {
            guard let kind = EventKind(rawValue: key) else {
                throw RuleError.invalid(field: "points.\(key)", "unknown event kind '\(key)'")
            }
            rules[kind] = rule
        }
        self.rules = rules
    }

    public func encode(to encoder: any Encoder) throws {
        try Dictionary(uniqueKeysWithValues: rules.map { ($0.key.rawValue, $0.value) }).encode(to: encoder)
    }
}

/// Fan-club levels: the cumulative points each level needs, and the most points a fan can earn in
/// one day while at a level.
public struct LevelTable: Codable, Sendable, Equatable {
    /// `thresholds[i]` is the total needed for level `i + 1`; level 0 means no points yet.
    public var thresholds: [Int]
    /// `dailyCaps[l]` is the daily cap at level `l`; it has one entry more than `thresholds`.
    public var dailyCaps: [Int]

    public init(thresholds: [Int], dailyCaps: [Int]) {
        self.thresholds = thresholds
        self.dailyCaps = dailyCaps
    }

    /// At levels 1-8 at most 420 points a day, and level 9 at 13,000 points: a fan at the cap every
    /// day has 12,600 after day 30 and reaches level 9 on day 31, not before (docs/domain.md).
    public static let standard = LevelTable(
        thresholds: [1, 200, 600, 1_200, 2_200, 3_600, 5_600, 8_400, 13_000, 18_000, 25_000, 34_000, 46_000, 62_000, 82_000],
        dailyCaps: Array(repeating: 420, count: 9) + Array(repeating: 840, count: 7)
    )

    public var maxLevel: Int { thresholds.count }

    public func level(forPoints points: Int) -> Int {
        var level = 0
        while level < thresholds.count, points >= thresholds[level] { level += 1 }
        return level
    }

    public func dailyCap(atLevel level: Int) -> Int { dailyCaps[min(max(level, 0), dailyCaps.count - 1)] }

    public func validate() throws {
        guard !thresholds.isEmpty else { throw RuleError.invalid(field: "levels.thresholds", "needs at least one level") }
        guard thresholds[0] > 0 else { throw RuleError.invalid(field: "levels.thresholds", "level 1 must need at least 1 point") }
        for i in thresholds.indices.dropFirst() where thresholds[i] <= thresholds[i - 1] {
            throw RuleError.invalid(field: "levels.thresholds", "must increase: level \(i + 1) needs \(thresholds[i]), level \(i) needs \(thresholds[i - 1])")
        }
        guard dailyCaps.count == thresholds.count + 1 else {
            throw RuleError.invalid(field: "levels.dailyCaps", "needs \(thresholds.count + 1) entries (levels 0 to \(thresholds.count)), got \(dailyCaps.count)")
        }
        if let bad = thresholds.firstIndex(where: { $0 > RuleBounds.maxThreshold }) {
            throw RuleError.invalid(field: "levels.thresholds", "level \(bad + 1) needs \(thresholds[bad]) points; at most \(RuleBounds.maxThreshold)")
        }
        if let bad = dailyCaps.firstIndex(where: { !(1...RuleBounds.maxDailyCap).contains($0) }) {
            throw RuleError.invalid(field: "levels.dailyCaps", "cap at level \(bad) is \(dailyCaps[bad]); it must be 1 to \(RuleBounds.maxDailyCap)")
        }
    }
}

/// The points a fan earned on its most recent days, so late (out-of-order) events still respect
/// the cap of the day they happened on. Events more than `window` days older than the newest
/// day earn no points; they are still counted.
public struct IntimacyLedger: Sendable, Equatable {
    public static let window = 7
    /// (day, points earned that day), newest last, at most `window` entries.
    public private(set) var days: [DayPoints]

    public struct DayPoints: Sendable, Equatable {
        public var day: Int32
        public var points: Int32
    }

    public init(days: [DayPoints] = []) { self.days = days }

    /// Credits up to `points` on `day` under `cap`; returns the points actually granted.
    public mutating func credit(_ points: Int, on day: Int, cap: Int) -> Int {
        guard points > 0 else { return 0 }
        let day = Int(Int32(clamping: day))
        if let newest = days.last, day <= Int(newest.day) - Self.window { return 0 }
        let index: Int
        if let i = days.firstIndex(where: { Int($0.day) == day }) {
            index = i
        } else {
            let insertAt = days.firstIndex(where: { Int($0.day) > day }) ?? days.endIndex
            days.insert(DayPoints(day: Int32(day), points: 0), at: insertAt)
            if let newest = days.last { days.removeAll { Int($0.day) <= Int(newest.day) - Self.window } }
            guard let i = days.firstIndex(where: { Int($0.day) == day }) else { return 0 }
            index = i
        }
        let granted = max(0, min(points, cap.saturatingSubtract(Int(days[index].points)), Int(Int32.max - days[index].points)))
        days[index].points += Int32(granted)
        return granted
    }

    /// Compact text form for storage: `day:points,day:points`.
    public var encoded: String {
        var out = DecimalText()
        for (i, d) in days.enumerated() {
            if i > 0 { out.append(",") }
            out.append(Int64(d.day))
            out.append(":")
            out.append(Int64(d.points))
        }
        return out.text
    }

    public init(encoded: String) {
        days = encoded.split(separator: ",").compactMap { pair in
            let parts = pair.split(separator: ":")
            guard parts.count == 2, let d = Int32(parts[0]), let p = Int32(parts[1]) else { return nil }
            return DayPoints(day: d, points: p)
        }
    }
}

/// The largest numbers a rule set may hold (docs/rules.md): far above any sensible rule, and small
/// enough that no total built from them overflows.
public enum RuleBounds {
    /// Points one event may earn flat, or per unit of its amount.
    public static let maxPoints = 100_000
    /// The largest amount unit (fen or minutes).
    public static let maxAmountUnit = 1_000_000_000
    /// The most points a fan may earn in one day at any level.
    public static let maxDailyCap = 1_000_000
    /// The most points a level may need.
    public static let maxThreshold = 1_000_000_000_000
}

/// A rule set was rejected; `field` names the offending part.
public enum RuleError: Error, Equatable, Sendable {
    case invalid(field: String, String)
}
