import FlywheelDomain
import Testing

/// A red envelope's shares always sum to its total exactly, each within its bounds; a split that
/// cannot be made is refused naming the field to change.
@Suite struct RedEnvelopeSplitTests {
    /// SplitMix64: the same draws on every machine.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func randomSharesSumToTheTotalWithinTheirBounds() throws {
        var rng = Seeded(state: 7)
        // Tight and loose bounds, few and many shares, totals at both ends of what the bounds allow.
        let cases: [(total: Int64, count: Int, low: Int64, high: Int64)] = [
            (100_000, 100, 200, 5_000), (10_000, 10, 1_000, 1_000), (10_001, 10, 1, 10_000), (1_000, 1_000, 1, 1), (500_000, 1_000, 1, 20_000),
            (19_999, 2, 9_999, 10_000), (7, 3, 1, 5),
        ]
        for c in cases {
            for _ in 0..<50 {
                let shares = try EnvelopeSplit.random(minFen: c.low, maxFen: c.high).shares(of: c.total, count: c.count, using: &rng)
                #expect(shares.count == c.count)
                #expect(shares.reduce(0, +) == c.total, "\(c)")
                #expect(shares.allSatisfy { (c.low...c.high).contains($0) }, "\(c): \(shares.min()!)...\(shares.max()!)")
            }
        }
    }

    @Test func randomSharesVaryAndNoPlaceInTheOrderIsFavoured() throws {
        var rng = Seeded(state: 11)
        var firsts: Int64 = 0, lasts: Int64 = 0
        for _ in 0..<2_000 {
            let shares = try EnvelopeSplit.random(minFen: 1, maxFen: 2_000).shares(of: 10_000, count: 10, using: &rng)
            firsts += shares[0]
            lasts += shares[9]
        }
        // Each place averages the mean share, 1,000 fen (within 10%): the first claim is no better than the last.
        #expect(abs(firsts / 2_000 - 1_000) < 100, "\(firsts / 2_000)")
        #expect(abs(lasts / 2_000 - 1_000) < 100, "\(lasts / 2_000)")
    }

    @Test func fixedSharesAreEqualAndSumExactly() throws {
        var rng = Seeded(state: 1)
        #expect(try EnvelopeSplit.fixed.shares(of: 88_800, count: 100, using: &rng) == Array(repeating: 888, count: 100))
    }

    @Test func splitsThatCannotBeMadeAreRefusedNamingTheField() {
        var rng = Seeded(state: 3)
        func problem(_ split: EnvelopeSplit, _ total: Int64, _ count: Int) -> EnvelopeProblem? {
            do { _ = try split.shares(of: total, count: count, using: &rng); return nil } catch { return error }
        }
        #expect(problem(.fixed, 10_001, 100)?.field == "totalFen")
        #expect(problem(.fixed, 10_001, 100)?.message.contains("multiple of 100") == true)
        #expect(problem(.random(minFen: 200, maxFen: 500), 10_000, 100)?.field == "totalFen", "100 shares of at least 200 are 20,000")
        #expect(problem(.random(minFen: 1, maxFen: 50), 10_000, 100)?.field == "totalFen", "100 shares of at most 50 are 5,000")
        #expect(problem(.random(minFen: 0, maxFen: 50), 1_000, 100)?.field == "minFen")
        #expect(problem(.random(minFen: 60, maxFen: 50), 1_000, 100)?.field == "minFen")
        #expect(problem(.fixed, 100, 0)?.field == "shares")
        #expect(problem(.random(minFen: 1_000_000_000_000_000, maxFen: 1_000_000_000_000_000), 100, 10_000)?.field == "maxFen", "no overflow")
        #expect(problem(.fixed, 0, 1)?.field == "totalFen")
    }
}
