import FlywheelDomain
import FlywheelStore
import Foundation

/// Finds the fans most like a seed segment's members (docs/predicates.md, "Lookalike"): every fan
/// becomes a vector of standardized features, the seed's centroid is the mean of its members'
/// vectors, and each non-member is scored by the cosine of its vector with that centroid. Two
/// passes over the account's fans, a page at a time; memory holds one score per fan.
public struct Lookalike: Sendable {
    let env: FlywheelEnvironment

    public init(_ env: FlywheelEnvironment) { self.env = env }

    /// Numeric and yes-or-no features of a fan; counts are log-scaled so a few heavy fans do not
    /// dominate. Interests are added per run (the seed's most common ones).
    static func baseFeatures(_ fan: FanState, now: Int64) -> [Double] {
        let c = fan.counters
        func log(_ n: some BinaryInteger) -> Double { Foundation.log1p(Double(max(Int(n), 0))) }
        let idleDays = fan.lastActiveAt > 0 ? min(Double(now - fan.lastActiveAt) / 86_400_000, 365) : 365
        var features = [
            Double(fan.level), log(fan.intimacy), log(fan.gmv / 100), Double(c.orders), log(c.interactions),
            fan.following ? 1 : 0, idleDays, log(c.liveMinutes), log(c.dmsReceived), log(c.videoViews), log(c.groupMessages), log(c.leads),
        ]
        for domain in SourceDomain.allCases { features.append(fan.firstDomain == domain ? 1 : 0) }
        for gender in FanProfile.genders { features.append(fan.profile.gender == gender ? 1 : 0) }
        for band in FanProfile.ageBands { features.append(fan.profile.ageBand == band ? 1 : 0) }
        for device in FanProfile.devices { features.append(fan.profile.device == device ? 1 : 0) }
        return features
    }

    /// How many of the seed's commonest interests become features.
    static let interestFeatures = 10

    /// Ranks the account's fans outside `seed` and returns the `count` most similar, best first.
    public func rank(seed: Set<String>, of account: Account, count: Int) async throws -> [(openId: String, score: Double)] {
        let now = env.now()
        // Pass 1: means and spreads over all fans, means over the seed, the seed's interests.
        var sum: [Double] = [], squares: [Double] = [], seedSum: [Double] = []
        var fans = 0, seedFans = 0
        var seedInterests: [String: Int] = [:], allInterests: [String: Int] = [:]
        try await forEachFan(of: account) { fan in
            let x = Self.baseFeatures(fan, now: now)
            if sum.isEmpty { (sum, squares, seedSum) = (Array(repeating: 0, count: x.count), Array(repeating: 0, count: x.count), Array(repeating: 0, count: x.count)) }
            for i in x.indices { sum[i] += x[i]; squares[i] += x[i] * x[i] }
            fans += 1
            for interest in fan.profile.interests { allInterests[interest, default: 0] += 1 }
            if seed.contains(fan.openId) {
                for i in x.indices { seedSum[i] += x[i] }
                seedFans += 1
                for interest in fan.profile.interests { seedInterests[interest, default: 0] += 1 }
            }
        }
        guard seedFans > 0, fans > seedFans else { return [] }
        let interests = seedInterests.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(Self.interestFeatures).map(\.key)
        for interest in interests {
            let n = Double(allInterests[interest] ?? 0)
            sum.append(n); squares.append(n); seedSum.append(Double(seedInterests[interest] ?? 0))
        }
        let total = Double(fans)
        let mean = sum.map { $0 / total }
        let spread = zip(squares, mean).map { sq, m in (sq / total - m * m).squareRoot() }
        // A feature every fan shares says nothing: weight 0.
        let scale = spread.map { $0 > 1e-9 ? 1 / $0 : 0 }
        let centroid = seedSum.indices.map { (seedSum[$0] / Double(seedFans) - mean[$0]) * scale[$0] }
        let centroidNorm = centroid.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard centroidNorm > 0 else { return [] }

        // Pass 2: score everyone outside the seed.
        var scores: [(openId: String, score: Double)] = []
        scores.reserveCapacity(fans - seedFans)
        try await forEachFan(of: account) { fan in
            guard !seed.contains(fan.openId) else { return }
            var x = Self.baseFeatures(fan, now: now)
            for interest in interests { x.append(fan.profile.interests.contains(interest) ? 1 : 0) }
            var dot = 0.0, norm = 0.0
            for i in x.indices {
                let z = (x[i] - mean[i]) * scale[i]
                dot += z * centroid[i]
                norm += z * z
            }
            scores.append((fan.openId, norm > 0 ? dot / (norm.squareRoot() * centroidNorm) : 0))
        }
        scores.sort { ($0.score, $1.openId) > ($1.score, $0.openId) }
        return Array(scores.prefix(count))
    }

    private func forEachFan(of account: Account, _ body: (FanState) -> Void) async throws {
        var cursor: String?
        repeat {
            let page = try await env.store.fans(of: account, matching: nil, now: 0, cursor: cursor, limit: 5_000)
            page.items.forEach(body)
            cursor = page.nextCursor
        } while cursor != nil
    }
}
