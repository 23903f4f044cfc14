/// How close a fan is to the account: potential → passerby → liking → true-love (分层).
public enum Tier: Int, CaseIterable, Comparable, Codable, Sendable {
    case potential = 0, passerby, liking, trueLove

    public static func < (a: Tier, b: Tier) -> Bool { a.rawValue < b.rawValue }

    public var name: String {
        switch self {
        case .potential: "potential"
        case .passerby: "passerby"
        case .liking: "liking"
        case .trueLove: "true_love"
        }
    }

    public init?(name: String) {
        guard let tier = Tier.allCases.first(where: { $0.name == name }) else { return nil }
        self = tier
    }

    public init(from decoder: any Decoder) throws {
        let name = try String(from: decoder)
        guard let tier = Tier(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown tier '\(name)'"))
        }
        self = tier
    }

    public func encode(to encoder: any Encoder) throws { try name.encode(to: encoder) }
}

/// One way to qualify for a tier: every condition that is set must hold.
public struct TierCriterion: Codable, Sendable, Equatable {
    public var following: Bool?
    public var minLevel: Int?
    public var minPaidOrders: Int?
    public var minInteractions: Int?

    public init(following: Bool? = nil, minLevel: Int? = nil, minPaidOrders: Int? = nil, minInteractions: Int? = nil) {
        self.following = following
        self.minLevel = minLevel
        self.minPaidOrders = minPaidOrders
        self.minInteractions = minInteractions
    }

    func holds(for fan: FanState) -> Bool {
        if let following, fan.following != following { return false }
        if let minLevel, fan.level < minLevel { return false }
        if let minPaidOrders, fan.counters.ordersPaid - fan.counters.ordersRefunded < minPaidOrders { return false }
        if let minInteractions, fan.counters.interactions < minInteractions { return false }
        return true
    }
}

/// The rules that place a fan in a tier: a fan is in the highest tier any of whose criteria holds,
/// and a potential fan otherwise.
public struct TierRules: Codable, Sendable, Equatable {
    public var passerby: [TierCriterion]
    public var liking: [TierCriterion]
    public var trueLove: [TierCriterion]

    public init(passerby: [TierCriterion], liking: [TierCriterion], trueLove: [TierCriterion]) {
        self.passerby = passerby
        self.liking = liking
        self.trueLove = trueLove
    }

    /// Documented defaults (docs/rules.md): following makes a passerby fan; level 4 a liking fan;
    /// level 9, or two paid orders kept, a true-love fan. Unfollowing drops a fan to potential.
    public static let standard = TierRules(
        passerby: [TierCriterion(following: true)],
        liking: [TierCriterion(following: true, minLevel: 4)],
        trueLove: [TierCriterion(following: true, minLevel: 9), TierCriterion(following: true, minPaidOrders: 2)]
    )

    public func tier(of fan: FanState) -> Tier {
        if trueLove.contains(where: { $0.holds(for: fan) }) { return .trueLove }
        if liking.contains(where: { $0.holds(for: fan) }) { return .liking }
        if passerby.contains(where: { $0.holds(for: fan) }) { return .passerby }
        return .potential
    }

    public func validate(maxLevel: Int) throws {
        for (name, criteria) in [("passerby", passerby), ("liking", liking), ("trueLove", trueLove)] {
            for (i, c) in criteria.enumerated() {
                let field = "tiers.\(name)[\(i)]"
                if c.following == nil, c.minLevel == nil, c.minPaidOrders == nil, c.minInteractions == nil {
                    throw RuleError.invalid(field: field, "a criterion needs at least one condition, or every fan would qualify")
                }
                if let l = c.minLevel, !(0...maxLevel).contains(l) {
                    throw RuleError.invalid(field: "\(field).minLevel", "must be between 0 and \(maxLevel)")
                }
                if let n = c.minPaidOrders, n < 0 { throw RuleError.invalid(field: "\(field).minPaidOrders", "must not be negative") }
                if let n = c.minInteractions, n < 0 { throw RuleError.invalid(field: "\(field).minInteractions", "must not be negative") }
            }
        }
    }
}

/// Everything that decides how one account's events turn into fan state.
public struct AccountRules: Codable, Sendable, Equatable {
    public var points: PointTable
    public var levels: LevelTable
    public var tiers: TierRules

    public init(points: PointTable = .standard, levels: LevelTable = .standard, tiers: TierRules = .standard) {
        self.points = points
        self.levels = levels
        self.tiers = tiers
    }

    public static let standard = AccountRules()

    public func validate() throws {
        try levels.validate()
        try tiers.validate(maxLevel: levels.maxLevel)
        for (kind, rule) in points.rules {
            let field = "points.\(kind.rawValue)"
            if rule.flat < 0 || rule.perAmount < 0 { throw RuleError.invalid(field: field, "points must not be negative") }
            if rule.amountUnit <= 0 { throw RuleError.invalid(field: "\(field).amountUnit", "must be positive") }
        }
    }
}
