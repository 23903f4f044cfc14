/// How a red envelope's total is split into its shares.
public enum EnvelopeSplit: Sendable, Equatable {
    /// Every share the same: the total must divide evenly.
    case fixed
    /// Each share drawn between the bounds (fen), the shares still summing to the total.
    case random(minFen: Int64, maxFen: Int64)

    public var kind: String {
        switch self {
        case .fixed: "fixed"
        case .random: "random"
        }
    }
}

/// A fan red envelope of one account: a total split into shares when it is created, each fan
/// claiming at most one while it is open; what is unclaimed when it expires goes back.
public struct RedEnvelope: Sendable, Equatable {
    public var id: String
    public var accountId: String
    public var name: String
    public var totalFen: Int64
    public var shares: Int
    public var split: EnvelopeSplit
    /// Who may claim, in the predicate language; nil: anyone.
    public var audience: String?
    public var requiresFollow: Bool
    public var opensAt: Int64
    public var expiresAt: Int64
    public var claimed: Int
    public var claimedFen: Int64
    /// What went back at expiry; nil while it is open.
    public var returnedFen: Int64?
    /// Share of the fans who ask for it, and may have it, kept from it to measure it against
    /// (0–50 %, by fan and campaign, fixed at creation).
    public var holdoutPercent = 0
    public var createdAt: Int64

    public init(id: String, accountId: String, name: String, totalFen: Int64, shares: Int, split: EnvelopeSplit, audience: String?, requiresFollow: Bool,
                opensAt: Int64, expiresAt: Int64, createdAt: Int64) {
        self.id = id
        self.accountId = accountId
        self.name = name
        self.totalFen = totalFen
        self.shares = shares
        self.split = split
        self.audience = audience
        self.requiresFollow = requiresFollow
        self.opensAt = opensAt
        self.expiresAt = expiresAt
        claimed = 0
        claimedFen = 0
        self.createdAt = createdAt
    }

    /// 1 fen to 1,000,000 yuan in all; 1 to 10,000 shares.
    public static let totals: ClosedRange<Int64> = 1...100_000_000
    public static let shareCounts = 1...10_000

    /// scheduled, open, ended (past its time, the rest not yet returned) or expired (returned).
    public func state(at now: Int64) -> String {
        returnedFen != nil ? "expired" : now < opensAt ? "scheduled" : now < expiresAt ? "open" : "ended"
    }

    /// Why `fan` may not claim a share at `now`, or nil; the shares left and the fan's earlier
    /// claim are the store's to check, in the claim's transaction.
    public func refusal(for fan: FanState?, audience compiled: CompiledPredicate?, at now: Int64) -> ClaimRefusal? {
        ClaimRefusal.check(from: opensAt, until: expiresAt, requiresFollow: requiresFollow, audience: audience, compiled: compiled, fan: fan, at: now)
    }
}

/// Why a red envelope's shares cannot be made: the field and what to change.
public struct EnvelopeProblem: Error, Sendable, Equatable {
    public var field: String
    public var message: String
}

extension EnvelopeSplit {
    /// `count` shares of `total` fen that sum to it exactly: equal ones for `.fixed`, for
    /// `.random` each within the bounds (WeChat's "twice the mean" draw, bounded so the shares
    /// still to come can always be made, then shuffled). Refused, naming the field, when no such split exists.
    public func shares<G: RandomNumberGenerator>(of total: Int64, count: Int, using rng: inout G) throws(EnvelopeProblem) -> [Int64] {
        guard RedEnvelope.totals.contains(total) else { throw EnvelopeProblem(field: "totalFen", message: "must be 1 to 100,000,000 fen") }
        guard RedEnvelope.shareCounts.contains(count) else { throw EnvelopeProblem(field: "shares", message: "must be 1 to 10,000") }
        let n = Int64(count)
        switch self {
        case .fixed:
            guard total % n == 0 else {
                throw EnvelopeProblem(field: "totalFen", message: "\(total) fen does not split into \(count) equal shares; make it a multiple of \(count), or split at random")
            }
            return Array(repeating: total / n, count: count)
        case .random(let low, let high):
            guard low >= 1, low <= high else { throw EnvelopeProblem(field: "minFen", message: "must be at least 1 and at most maxFen") }
            guard high <= RedEnvelope.totals.upperBound else { throw EnvelopeProblem(field: "maxFen", message: "must be at most 100,000,000 fen") }
            guard low * n <= total, total <= high * n else {
                throw EnvelopeProblem(field: "totalFen", message: "\(count) shares of \(low) to \(high) fen sum to \(low * n) to \(high * n) fen, not \(total)")
            }
            var shares: [Int64] = []
            shares.reserveCapacity(count)
            var left = total
            for i in 0..<n {
                let after = n - i - 1
                // Enough left for the rest at their least, and not more than they can hold at their most.
                let least = max(low, left - after * high)
                let most = min(high, left - after * low)
                let mean = after == 0 ? most : max(least, min(most, 2 * left / (after + 1)))
                let share = least == mean ? least : Int64.random(in: least...mean, using: &rng)
                shares.append(share)
                left -= share
            }
            // The draw leaves the last shares what is left over; the order they are claimed in is shuffled.
            shares.shuffle(using: &rng)
            return shares
        }
    }
}

/// One share of a red envelope: its amount, and the fan who claimed it.
public struct EnvelopeClaim: Sendable, Equatable {
    public var envelopeId: String
    public var openId: String
    public var amountFen: Int64
    public var claimedAt: Int64

    public init(envelopeId: String, openId: String, amountFen: Int64, claimedAt: Int64) {
        self.envelopeId = envelopeId
        self.openId = openId
        self.amountFen = amountFen
        self.claimedAt = claimedAt
    }
}
