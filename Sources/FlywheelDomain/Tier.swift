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

/// The rules that place a fan in a tier, one predicate each (docs/predicates.md): a fan is in the
/// highest tier whose condition holds, and a potential fan otherwise.
public struct TierRules: Codable, Sendable, Equatable {
    public var passerby: FanPredicate
    public var liking: FanPredicate
    public var trueLove: FanPredicate

    public init(passerby: FanPredicate, liking: FanPredicate, trueLove: FanPredicate) {
        self.passerby = passerby
        self.liking = liking
        self.trueLove = trueLove
    }

    /// Documented defaults (docs/rules.md): following makes a passerby fan; level 4 a liking fan;
    /// level 9, or two paid orders kept, a true-love fan. Unfollowing drops a fan to potential.
    public static let standard = TierRules(
        passerby: .isTrue(field: "following"),
        liking: .and([.isTrue(field: "following"), .compare(field: "level", op: .ge, value: .int(4))]),
        trueLove: .and([.isTrue(field: "following"),
                        .or([.compare(field: "level", op: .ge, value: .int(9)), .compare(field: "orders", op: .ge, value: .int(2))])])
    )

    private enum CodingKeys: String, CodingKey { case passerby, liking, trueLove }

    /// Written in the text form, which people read; read in either form.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(passerby.description, forKey: .passerby)
        try c.encode(liking.description, forKey: .liking)
        try c.encode(trueLove.description, forKey: .trueLove)
    }

    var ordered: [(name: String, tier: Tier, condition: FanPredicate)] {
        [("trueLove", .trueLove, trueLove), ("liking", .liking, liking), ("passerby", .passerby, passerby)]
    }

    public func validate() throws {
        for (name, _, condition) in ordered {
            let fields = condition.fields
            // A tier is decided when the fan acts; a window would need a clock, a tier field a loop.
            if let field = fields.first(where: { ["tier", "tier_changed"].contains($0) }) {
                throw RuleError.invalid(field: "tiers.\(name)", "a tier rule cannot use '\(field)': tiers are what it decides")
            }
            if !condition.windows.isEmpty {
                throw RuleError.invalid(field: "tiers.\(name)", "a tier rule cannot use 'within': tiers change when fans act, not as time passes")
            }
        }
    }
}

/// An auto-tag rule: fans who come to meet `when` get `tag` (and keep it).
public struct TagRule: Codable, Sendable, Equatable {
    public var tag: String
    public var when: FanPredicate

    public init(tag: String, when: FanPredicate) {
        self.tag = tag
        self.when = when
    }

    private enum CodingKeys: String, CodingKey { case tag, when }

    /// `when` in the text form.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tag, forKey: .tag)
        try c.encode(when.description, forKey: .when)
    }
}

/// Everything that decides how one account's events turn into fan state.
public struct AccountRules: Codable, Sendable, Equatable {
    public var points: PointTable
    public var levels: LevelTable
    public var tiers: TierRules
    public var tagRules: [TagRule]

    public init(points: PointTable = .standard, levels: LevelTable = .standard, tiers: TierRules = .standard, tagRules: [TagRule] = []) {
        self.points = points
        self.levels = levels
        self.tiers = tiers
        self.tagRules = tagRules
    }

    private enum CodingKeys: String, CodingKey { case points, levels, tiers, tagRules }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        points = try c.decode(PointTable.self, forKey: .points)
        levels = try c.decode(LevelTable.self, forKey: .levels)
        tiers = try c.decode(TierRules.self, forKey: .tiers)
        tagRules = try c.decodeIfPresent([TagRule].self, forKey: .tagRules) ?? []
    }

    public static let standard = AccountRules()

    public func validate() throws {
        try levels.validate()
        try tiers.validate()
        for (kind, rule) in points.rules {
            let field = "points.\(kind.rawValue)"
            if kind.isOperatorAction { throw RuleError.invalid(field: field, "points are earned by what fans do, not by operator actions") }
            for (name, value) in [("flat", rule.flat), ("perAmount", rule.perAmount)] where !(0...RuleBounds.maxPoints).contains(value) {
                throw RuleError.invalid(field: "\(field).\(name)", "\(value) points; must be 0 to \(RuleBounds.maxPoints)")
            }
            if !(1...RuleBounds.maxAmountUnit).contains(rule.amountUnit) {
                throw RuleError.invalid(field: "\(field).amountUnit", "must be 1 to \(RuleBounds.maxAmountUnit)")
            }
        }
        for (name, _, condition) in tiers.ordered {
            if let level = condition.numbers(comparedWith: "level").first(where: { $0 > levels.maxLevel }) {
                throw RuleError.invalid(field: "tiers.\(name)", "level \(level) is above the highest level, \(levels.maxLevel)")
            }
        }
        var seen = Set<String>()
        for (i, rule) in tagRules.enumerated() {
            guard SetField.isValidName(rule.tag) else {
                throw RuleError.invalid(field: "tagRules[\(i)].tag", "must be 1 to 50 characters without ',' or '='")
            }
            guard seen.insert(rule.tag).inserted else { throw RuleError.invalid(field: "tagRules[\(i)].tag", "'\(rule.tag)' has a rule already") }
        }
    }

    /// The rules with their predicates compiled for one account's calendar: what the projector runs.
    public func compiled(calendar: AccountCalendar) -> CompiledRules {
        CompiledRules(rules: self,
                      tiers: tiers.ordered.map { ($0.tier, $0.condition.compile(calendar: calendar)) },
                      tagRules: tagRules.map { ($0.tag, $0.when.compile(calendar: calendar)) })
    }
}

/// `AccountRules` ready to apply: predicates compiled once, evaluated per event.
public struct CompiledRules: Sendable {
    public let rules: AccountRules
    let tiers: [(tier: Tier, condition: CompiledPredicate)]
    let tagRules: [(tag: String, condition: CompiledPredicate)]

    func tier(of fan: FanState, at time: Int64) -> Tier {
        tiers.first { $0.condition.matches(fan, now: time) }?.tier ?? .potential
    }
}
