/// A prize of a lottery and how many there are.
public struct LotteryPrize: Sendable, Equatable, Codable {
    public var name: String
    public var stock: Int

    public init(name: String, stock: Int) {
        self.name = name
        self.stock = stock
    }

    public static let stocks = 1...10_000
    /// Kinds of prize in one lottery.
    public static let kinds = 1...20
}

/// A lottery of one account: fans who meet its eligibility enter while it is open; after it
/// closes the winners are drawn from a seed whose hash was published when it opened, and the
/// seed is revealed, so anyone can recompute the draw from the published entries.
public struct Lottery: Sendable, Equatable {
    public var id: String
    public var accountId: String
    public var name: String
    /// Who may enter, in the predicate language (e.g. `likes >= 1000`); nil: anyone.
    public var eligibility: String?
    public var requiresFollow: Bool
    public var opensAt: Int64
    public var closesAt: Int64
    /// In the order they are drawn: the first prize goes to the best-ranked entries.
    public var prizes: [LotteryPrize]
    /// The secret, hex; shown only once the draw is made.
    public var seed: String
    /// SHA-256 of `seed`'s text, hex: published from the start.
    public var seedHash: String
    public var entries: Int
    public var drawnAt: Int64?
    /// Share of the fans who ask for it, and may have it, kept from it to measure it against
    /// (0–50 %, by fan and campaign, fixed at creation).
    public var holdoutPercent = 0
    public var createdAt: Int64

    public init(id: String, accountId: String, name: String, eligibility: String?, requiresFollow: Bool, opensAt: Int64, closesAt: Int64,
                prizes: [LotteryPrize], seed: String, seedHash: String, createdAt: Int64) {
        self.id = id
        self.accountId = accountId
        self.name = name
        self.eligibility = eligibility
        self.requiresFollow = requiresFollow
        self.opensAt = opensAt
        self.closesAt = closesAt
        self.prizes = prizes
        self.seed = seed
        self.seedHash = seedHash
        entries = 0
        self.createdAt = createdAt
    }

    public var prizeCount: Int { prizes.reduce(0) { $0 + $1.stock } }

    /// The seed once the draw is made; nil before, when it must stay secret.
    public var revealedSeed: String? { drawnAt == nil ? nil : seed }

    /// scheduled, open, closed (entries over, not drawn yet) or drawn.
    public func state(at now: Int64) -> String {
        drawnAt != nil ? "drawn" : now < opensAt ? "scheduled" : now < closesAt ? "open" : "closed"
    }

    /// Why `fan` may not enter at `now`, or nil; a second entry is the store's to refuse.
    public func refusal(for fan: FanState?, eligibility compiled: CompiledPredicate?, at now: Int64) -> ClaimRefusal? {
        guard drawnAt == nil else { return .expired }
        return ClaimRefusal.check(from: opensAt, until: closesAt, requiresFollow: requiresFollow, audience: eligibility, compiled: compiled, fan: fan, at: now)
    }
}

/// A fan who won, and what.
public struct LotteryWinner: Sendable, Equatable, Codable {
    public var openId: String
    public var prize: String
    /// Whether the fan was told by DM; false: the operator tells the fan in the app.
    public var notified: Bool

    public init(openId: String, prize: String, notified: Bool) {
        self.openId = openId
        self.prize = prize
        self.notified = notified
    }
}
