import Foundation

/// Which side of an experiment a fan is on.
public enum ExperimentArm: String, Sendable, CaseIterable, Codable {
    /// Gets the journey's actions.
    case treated
    /// The journey's random holdout: enters, gets nothing, is measured.
    case holdout
    /// The enterprise's global control group: no automated action reaches it anywhere.
    case control

    /// The fan's arm, the same every time for the same fan and experiment: the global control
    /// first (the same fans across every journey of the enterprise), then the journey's holdout.
    public static func of(_ openId: String, experiment: String, holdoutPercent: Int, tenantId: String, controlPercent: Int) -> ExperimentArm {
        if bucket(openId, salt: "control|" + tenantId) < controlPercent * 100 { return .control }
        return bucket(openId, salt: "holdout|" + experiment) < holdoutPercent * 100 ? .holdout : .treated
    }

    /// 0 to 9,999, uniform and independent across salts: FNV-1a 64 (offset basis
    /// 0xcbf29ce484222325, prime 0x100000001b3) over the salt, `|` and the open_id, then a 64-bit
    /// finaliser (FNV alone keeps too much of the last bytes).
    public static func bucket(_ openId: String, salt: String) -> Int {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in salt.utf8 { h = (h ^ UInt64(byte)) &* 1_099_511_628_211 }
        h = (h ^ 0x7C) &* 1_099_511_628_211
        for byte in openId.utf8 { h = (h ^ UInt64(byte)) &* 1_099_511_628_211 }
        h = (h ^ (h >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        h = (h ^ (h >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return Int(h % 10_000)
    }
}

/// What keeps a holdout besides journeys: a subscription post (the audience held out of its push)
/// and the conversion campaigns (a fan who asks for one and may have it is on an arm by hash, no
/// global control as the fan asked; the held out are refused). Either way the held-out fans are
/// recorded and measured against the fans it reached.
public enum CampaignKind: String, Sendable, CaseIterable {
    case post
    case coupon
    case redEnvelope = "red_envelope"
    case lottery
    /// A fission campaign: who got an invite code against who was held out of one.
    case fission
}

/// One arm's outcomes, summed per fan: enough for means and variances.
public struct ArmOutcome: Sendable, Equatable {
    public var fans: Int
    /// Fans who paid an order within the window after entering.
    public var converted: Int
    /// GMV in the window (fen), summed, and summed squared per fan.
    public var gmv: Double
    public var gmvSquares: Double
    /// Fans who unfollowed within the window.
    public var unfollowed: Int

    public init(fans: Int = 0, converted: Int = 0, gmv: Double = 0, gmvSquares: Double = 0, unfollowed: Int = 0) {
        self.fans = fans
        self.converted = converted
        self.gmv = gmv
        self.gmvSquares = gmvSquares
        self.unfollowed = unfollowed
    }

    /// Adds one fan's outcome.
    public mutating func add(converted: Bool, gmv fen: Int64, unfollowed: Bool) {
        fans += 1
        if converted { self.converted += 1 }
        gmv += Double(fen)
        gmvSquares += Double(fen) * Double(fen)
        if unfollowed { self.unfollowed += 1 }
    }

    public var conversion: Sample { .proportion(converted, of: fans) }
    public var gmvPerFan: Sample { .mean(sum: gmv, squares: gmvSquares, n: fans) }
    public var retention: Sample { .proportion(fans - unfollowed, of: fans) }
}

/// A per-fan mean with its variance and sample size.
public struct Sample: Sendable, Equatable {
    public var mean: Double
    public var variance: Double
    public var n: Int

    public static func proportion(_ k: Int, of n: Int) -> Sample {
        guard n > 0 else { return Sample(mean: 0, variance: 0, n: 0) }
        let p = Double(k) / Double(n)
        // The unbiased sample variance of n zeros and ones.
        return Sample(mean: p, variance: n > 1 ? p * (1 - p) * Double(n) / Double(n - 1) : 0, n: n)
    }

    public static func mean(sum: Double, squares: Double, n: Int) -> Sample {
        guard n > 0 else { return Sample(mean: 0, variance: 0, n: 0) }
        let mean = sum / Double(n)
        return Sample(mean: mean, variance: n > 1 ? max(0, (squares - sum * mean) / Double(n - 1)) : 0, n: n)
    }
}

/// Treated minus holdout for one measure, with its 95 % confidence interval by Welch's t on the
/// per-fan values (unequal variances, Welch–Satterthwaite degrees of freedom). Significant only
/// when both arms have `minimumPerArm` fans and the interval leaves out zero.
public struct Uplift: Sendable, Equatable {
    public var treated: Double
    public var holdout: Double
    public var difference: Double
    public var low: Double
    public var high: Double
    public var significant: Bool

    /// Fewer fans per arm than this: "not yet significant", whatever the interval.
    public static let minimumPerArm = 30

    public init(treated a: Sample, holdout b: Sample) {
        treated = a.mean
        holdout = b.mean
        difference = a.mean - b.mean
        guard a.n >= 2, b.n >= 2 else {
            (low, high, significant) = (-.infinity, .infinity, false)
            return
        }
        let va = a.variance / Double(a.n), vb = b.variance / Double(b.n)
        let se = (va + vb).squareRoot()
        guard se > 0 else {
            (low, high) = (difference, difference)
            significant = a.n >= Self.minimumPerArm && b.n >= Self.minimumPerArm && difference != 0
            return
        }
        let df = (va + vb) * (va + vb) / (va * va / Double(a.n - 1) + vb * vb / Double(b.n - 1))
        let half = Self.t975(df: df) * se
        (low, high) = (difference - half, difference + half)
        significant = a.n >= Self.minimumPerArm && b.n >= Self.minimumPerArm && (low > 0 || high < 0)
    }

    /// The 97.5th percentile of Student's t with `df` degrees of freedom (Cornish–Fisher from the
    /// normal's 1.959964; within 0.03 of the table at 3 degrees of freedom, 0.002 from 10 up).
    public static func t975(df: Double) -> Double {
        let z = 1.959_963_985, z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z
        let d = max(df, 1)
        return z + (z3 + z) / (4 * d) + (5 * z5 + 16 * z3 + 3 * z) / (96 * d * d) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * d * d * d)
    }
}

/// An experiment's report: each arm's outcomes in the window after entry, and the uplifts.
public struct ExperimentReport: Sendable, Equatable {
    public var experimentId: String
    public var name: String
    public var holdoutPercent: Int
    public var windowDays: Int
    public var arms: [ExperimentArm: ArmOutcome]
    public var conversion: Uplift
    public var gmvPerFan: Uplift
    public var retention: Uplift

    /// Outcomes within this many days after entering count.
    public static let windowDays = 30

    public init(experimentId: String, name: String, holdoutPercent: Int, windowDays: Int = Self.windowDays, arms: [ExperimentArm: ArmOutcome]) {
        self.experimentId = experimentId
        self.name = name
        self.holdoutPercent = holdoutPercent
        self.windowDays = windowDays
        self.arms = arms
        let treated = arms[.treated] ?? ArmOutcome(), holdout = arms[.holdout] ?? ArmOutcome()
        conversion = Uplift(treated: treated.conversion, holdout: holdout.conversion)
        gmvPerFan = Uplift(treated: treated.gmvPerFan, holdout: holdout.gmvPerFan)
        retention = Uplift(treated: treated.retention, holdout: holdout.retention)
    }
}
