import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// Lotteries with a verifiable draw: the seed's hash is public from the start, the entries are
/// public, and after the draw the seed is too, so anyone can recompute the winners
/// (`flywheel lottery verify`).
public struct Lotteries: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    public struct Draft: Sendable {
        public var name: String
        public var eligibility: String?
        public var requiresFollow: Bool?
        public var opensAt: Int64?
        public var closesAt: Int64
        public var prizes: [LotteryPrize]
        public var holdoutPercent: Int?

        public init(name: String, eligibility: String?, requiresFollow: Bool?, opensAt: Int64?, closesAt: Int64, prizes: [LotteryPrize]) {
            self.name = name
            self.eligibility = eligibility
            self.requiresFollow = requiresFollow
            self.opensAt = opensAt
            self.closesAt = closesAt
            self.prizes = prizes
        }
    }

    /// Everything needed to check a draw: what `flywheel lottery verify` reads.
    public struct Record: Sendable {
        public var lottery: Lottery
        public var entries: [String]
        public var winners: [LotteryWinner]
    }

    public func list(of account: Account, by caller: Principal) async throws -> [Lottery] {
        try caller.authorize(.listLotteries)
        return try await env.store.lotteries(of: account)
    }

    public func read(_ id: String, of account: Account, by caller: Principal) async throws -> Lottery {
        try caller.authorize(.readLottery)
        guard let lottery = try await env.store.lottery(id: id, of: account) else { throw UseCaseError.notFound("lottery \(id)") }
        return lottery
    }

    /// The lottery with its entries and, once drawn, its winners and seed.
    public func record(_ id: String, of account: Account, by caller: Principal) async throws -> Record {
        try caller.authorize(.readDraw)
        guard let lottery = try await env.store.lottery(id: id, of: account) else { throw UseCaseError.notFound("lottery \(id)") }
        return Record(lottery: lottery, entries: try await env.store.lotteryEntries(id: id, of: account),
                      winners: lottery.drawnAt == nil ? [] : try await env.store.lotteryWinners(id: id, of: account))
    }

    public func create(_ d: Draft, of account: Account, by caller: Principal) async throws -> Lottery {
        try caller.authorize(.createLottery)
        let now = env.now()
        let opens = try Validate.period(d.opensAt, d.closesAt, now: now, fields: ("opensAt", "closesAt"))
        guard LotteryPrize.kinds.contains(d.prizes.count) else { throw UseCaseError.invalid(field: "prizes", "must list 1 to 20 prizes") }
        var prizes: [LotteryPrize] = []
        for (i, prize) in d.prizes.enumerated() {
            let name = try Validate.trimmed(prize.name, field: "prizes[\(i)].name", length: 1...60)
            guard !prizes.contains(where: { $0.name == name }) else { throw UseCaseError.invalid(field: "prizes[\(i)].name", "'\(name)' is listed twice") }
            guard LotteryPrize.stocks.contains(prize.stock) else { throw UseCaseError.invalid(field: "prizes[\(i)].stock", "must be 1 to 10,000") }
            prizes.append(LotteryPrize(name: name, stock: prize.stock))
        }
        let seed = LotteryDraw.newSeed()
        var lottery = Lottery(id: env.newId("lot"), accountId: account.id, name: try Validate.name(d.name, field: "name"),
                              eligibility: try Validate.predicate(d.eligibility, field: "eligibility", example: "likes >= 1000"),
                              requiresFollow: d.requiresFollow ?? false, opensAt: opens, closesAt: d.closesAt, prizes: prizes, seed: seed,
                              seedHash: LotteryDraw.hash(seed), createdAt: now)
        lottery.holdoutPercent = try Validate.holdout(d.holdoutPercent)
        try await env.store.createLottery(lottery, audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "lottery.create", target: lottery.id,
                                                                    detail: "\(lottery.name), seed hash \(lottery.seedHash)"))
        return lottery
    }

    /// Enters the fan: refused, saying why, when the fan is not eligible, outside the entry
    /// window, or entered already.
    /// `key` (the request's Idempotency-Key): the same entry asked again succeeds again, adding nothing.
    public func enter(_ id: String, for openId: String, of account: Account, key: String? = nil, by caller: Principal) async throws {
        try caller.authorize(.enterLottery)
        let openId = try Validate.token(openId, field: "openId")
        let lottery = try await read(id, of: account, by: caller)
        let now = env.now()
        let fan = try await env.store.fan(of: account, openId: openId)
        let eligibility = try lottery.eligibility.map { try FanPredicate.parse($0).compile(calendar: account.calendar) }
        do {
            if let refusal = lottery.refusal(for: fan, eligibility: eligibility, at: now) { throw refusal }
            try await CampaignHoldout.keep(id, percent: lottery.holdoutPercent, openId: openId, of: account, store: env.store, at: now)
            try await env.store.enterLottery(id: id, openId: openId, at: now, key: key, of: account)
        } catch ClaimRefusal.limitReached {
            throw UseCaseError.conflict(code: "already_entered", "lottery \(id): the fan has entered already")
        } catch let refusal as ClaimRefusal {
            throw UseCaseError.conflict(code: refusal.code, "lottery \(id): \(refusal)")
        }
    }

    /// Fans who got it against fans held out, over the 30 days after each; nil without a holdout.
    public func experiment(of lottery: Lottery, in account: Account) async throws -> ExperimentReport? {
        try await CampaignHoldout.report(.lottery, id: lottery.id, name: lottery.name, percent: lottery.holdoutPercent, of: account, store: env.store)
    }
}
