import FlywheelDomain

/// A seeded generator (SplitMix64): the same seed gives the same stream on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Synthetic traffic for one account: a fan population where a few fans do most of the acting,
/// fans arrive through a realistic mix of public, paid and off-site channels, and followers come
/// back through private channels. Used by `flywheel bench` and the demo's history.
public struct SyntheticTraffic: Sendable {
    public var fans: Int
    public var days: Int
    /// First millisecond of the simulated period.
    public var start: Int64
    public var seed: UInt64

    public init(fans: Int, days: Int, start: Int64, seed: UInt64) {
        self.fans = max(1, fans)
        self.days = max(1, days)
        self.start = start
        self.seed = seed
    }

    /// Where new fans come from, with weights (share of arrivals).
    static let arrivals: [(Channel, Int)] = [
        (.recommendFeed, 38), (.search, 9), (.liveSquare, 7), (.city, 4), (.challenge, 2),
        (.douPlus, 14), (.brandAd, 6), (.qianchuan, 5), (.wechat, 5), (.offsitePool, 2),
        (.homepage, 4), (.followFeed, 4),
    ]

    /// What returning fans do, with weights; followers use the private channels more.
    static let acts: [(EventKind, Int)] = [
        (.videoView, 420), (.like, 150), (.comment, 45), (.share, 20), (.liveWatch, 100), (.liveGift, 15),
        (.liveShare, 8), (.dmReceived, 40), (.dmSent, 20), (.dmEntered, 15), (.groupMessage, 30), (.groupJoin, 6),
        (.groupLeave, 2), (.homepageVisit, 50), (.leadSubmitted, 5), (.orderPaid, 15), (.orderRefunded, 2),
        (.couponClaimed, 10), (.couponRedeemed, 5), (.follow, 30), (.unfollow, 4),
    ]

    /// A deterministic arrival channel for the i-th fan, in the arrival mix's proportions.
    public static func arrivalChannel(_ i: Int) -> Channel {
        var rng = SeededGenerator(seed: UInt64(i))
        return pick(arrivals, total: arrivals.reduce(0) { $0 + $1.1 }, &rng)
    }

    /// `count` events in time order, evenly spread over the period.
    public func events(count: Int, idPrefix: String = "syn") -> [FanEvent] {
        var rng = SeededGenerator(seed: seed)
        var seen = [Bool](repeating: false, count: fans)
        let arrivalTotal = Self.arrivals.reduce(0) { $0 + $1.1 }
        let actTotal = Self.acts.reduce(0) { $0 + $1.1 }
        let span = Int64(days) * 86_400_000
        var events: [FanEvent] = []
        events.reserveCapacity(count)
        for i in 0..<count {
            // Squaring a uniform draw skews activity toward low indexes: a few heavy fans.
            let u = Double(rng.next() >> 11) / Double(1 << 53)
            let fan = min(fans - 1, Int(Double(fans) * u * u))
            let at = start + span * Int64(i) / Int64(max(count, 1))
            let openId = "\(idPrefix)-fan-\(fan)"
            let id = "\(idPrefix)-\(i)"
            if !seen[fan] {
                seen[fan] = true
                let channel = Self.pick(Self.arrivals, total: arrivalTotal, &rng)
                events.append(FanEvent(id: id, kind: .videoView, openId: openId, occurredAt: at, channel: channel))
                continue
            }
            let kind = Self.pick(Self.acts, total: actTotal, &rng)
            let channel = Self.channel(for: kind, &rng)
            let amount: Int64 = switch kind {
            case .liveWatch: Int64.random(in: 1...90, using: &rng)
            case .liveGift: Int64.random(in: 1...50, using: &rng) * 100
            case .orderPaid, .orderRefunded: Int64.random(in: 20...800, using: &rng) * 100
            default: 0
            }
            events.append(FanEvent(id: id, kind: kind, openId: openId, occurredAt: at, channel: channel, amount: amount,
                                   ref: kind == .orderPaid || kind == .orderRefunded ? "order-\(i)" : nil))
        }
        return events
    }

    static func channel(for kind: EventKind, _ rng: inout SeededGenerator) -> Channel {
        switch kind {
        case .dmReceived, .dmSent, .dmEntered: return .dm
        case .groupMessage, .groupJoin, .groupLeave: return .group
        case .homepageVisit, .leadSubmitted: return .homepage
        case .liveWatch, .liveGift, .liveShare: return [.liveFeed, .liveSquare, .liveFeed, .followFeed].randomElement(using: &rng) ?? .liveFeed
        default: return [.recommendFeed, .followFeed, .recommendFeed, .search, .douPlus, .subscription].randomElement(using: &rng) ?? .recommendFeed
        }
    }

    static func pick<T>(_ weighted: [(T, Int)], total: Int, _ rng: inout SeededGenerator) -> T {
        var r = Int.random(in: 0..<total, using: &rng)
        for (value, weight) in weighted {
            if r < weight { return value }
            r -= weight
        }
        return weighted[weighted.count - 1].0
    }
}
