/// What a coupon takes off an order.
public enum CouponValue: Sendable, Equatable {
    /// A fixed amount off, in fen.
    case amount(fen: Int64)
    /// A share of the price paid: 85 takes 15% off.
    case discount(percent: Int)

    public var kind: String {
        switch self {
        case .amount: "amount"
        case .discount: "discount"
        }
    }

    public var number: Int64 {
        switch self {
        case .amount(let fen): fen
        case .discount(let percent): Int64(percent)
        }
    }

    /// From its stored or API form; nil when it is not a coupon's value.
    public init?(kind: String, number: Int64) {
        switch kind {
        case "amount" where (1...100_000_000).contains(number): self = .amount(fen: number)
        case "discount" where (1...99).contains(number): self = .discount(percent: Int(number))
        default: return nil
        }
    }
}

/// A coupon of one account: its value and threshold, when it can be claimed and used, how many
/// there are and how many one fan may hold, and who may claim it.
public struct CouponTemplate: Sendable, Equatable {
    public var id: String
    public var accountId: String
    public var name: String
    public var value: CouponValue
    /// The smallest order it applies to, in fen (0: any).
    public var thresholdFen: Int64
    public var validFrom: Int64
    public var validUntil: Int64
    /// Coupons in all; never more are issued.
    public var stock: Int
    public var perFanLimit: Int
    /// Who may claim it, in the predicate language; nil: anyone.
    public var audience: String?
    /// An add-fan coupon: only a fan who follows the account may claim it.
    public var requiresFollow: Bool
    /// The platform's activity id, when the coupon goes out as a DM coupon card.
    public var activityId: String?
    public var issued: Int
    public var redeemed: Int
    /// Share of the fans who ask for it, and may have it, kept from it to measure it against
    /// (0–50 %, by fan and campaign, fixed at creation).
    public var holdoutPercent = 0
    public var createdAt: Int64

    public init(id: String, accountId: String, name: String, value: CouponValue, thresholdFen: Int64, validFrom: Int64, validUntil: Int64, stock: Int,
                perFanLimit: Int, audience: String?, requiresFollow: Bool, activityId: String?, createdAt: Int64) {
        self.id = id
        self.accountId = accountId
        self.name = name
        self.value = value
        self.thresholdFen = thresholdFen
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.stock = stock
        self.perFanLimit = perFanLimit
        self.audience = audience
        self.requiresFollow = requiresFollow
        self.activityId = activityId
        issued = 0
        redeemed = 0
        self.createdAt = createdAt
    }

    public static let stocks = 1...10_000_000
    public static let limits = 1...100

    /// scheduled, open, or expired (claimable no more: what was not issued by then is reported).
    public func state(at now: Int64) -> String { now < validFrom ? "scheduled" : now < validUntil ? "open" : "expired" }

    /// Coupons never issued: at expiry, what the coupon left unclaimed.
    public var unclaimed: Int { stock - issued }

    /// Why `fan` may not claim it at `now`, or nil when it may. `audience` is the compiled
    /// `audience`; the stock and the fan's limit are the store's to check, in the claim's transaction.
    public func refusal(for fan: FanState?, audience compiled: CompiledPredicate?, at now: Int64) -> ClaimRefusal? {
        ClaimRefusal.check(from: validFrom, until: validUntil, requiresFollow: requiresFollow, audience: audience, compiled: compiled, fan: fan, at: now)
    }
}

/// Why a claim (of a coupon, a red envelope, an entry to a lottery) was refused.
public enum ClaimRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    case notOpen, expired, notFollowing
    /// The fan does not meet the coupon's audience.
    case notEligible(String)
    case outOfStock
    /// The fan holds as many as the coupon allows one fan.
    case limitReached(Int)
    /// The fan is in the campaign's holdout: kept from it, to measure it against.
    case heldOut

    public var code: String {
        switch self {
        case .notOpen: "not_open"
        case .expired: "expired"
        case .notFollowing: "not_following"
        case .notEligible: "not_eligible"
        case .outOfStock: "out_of_stock"
        case .limitReached: "limit_reached"
        case .heldOut: "held_out"
        }
    }

    public var description: String {
        switch self {
        case .notOpen: "it is not open yet"
        case .expired: "its period is over"
        case .notFollowing: "only a fan who follows the account may claim it"
        case .notEligible(let audience): "the fan does not meet its condition (\(audience))"
        case .outOfStock: "none is left"
        case .limitReached(let n): "the fan has \(n) already, as many as one fan may"
        case .heldOut: "the fan is in the campaign's holdout, kept from it to measure what it brings"
        }
    }

    /// The rules every claim shares: the period (`from` up to `until`), following when
    /// `requiresFollow`, and the condition `audience` (compiled: `compiled`).
    public static func check(from: Int64, until: Int64, requiresFollow: Bool, audience: String?, compiled: CompiledPredicate?, fan: FanState?,
                             at now: Int64) -> ClaimRefusal? {
        guard now >= from else { return .notOpen }
        guard now < until else { return .expired }
        if requiresFollow, fan?.following != true { return .notFollowing }
        if let audience, let compiled {
            guard let fan, compiled.matches(fan, now: now) else { return .notEligible(audience) }
        }
        return nil
    }
}

/// One coupon a fan holds.
public struct CouponClaim: Sendable, Equatable {
    public var id: String
    public var couponId: String
    public var accountId: String
    public var openId: String
    public var claimedAt: Int64
    public var redeemedAt: Int64?

    public init(id: String, couponId: String, accountId: String, openId: String, claimedAt: Int64) {
        self.id = id
        self.couponId = couponId
        self.accountId = accountId
        self.openId = openId
        self.claimedAt = claimedAt
    }
}
