import FlywheelDomain
import FlywheelEngine
import Testing

/// The draw is a function of the seed and the entries alone: recomputable by anyone, never
/// giving a prize more often than its stock, and any change to the record is caught.
@Suite struct LotteryDrawTests {
    let prizes = [LotteryPrize(name: "茅台", stock: 1), LotteryPrize(name: "定制酒杯", stock: 5), LotteryPrize(name: "10元券", stock: 20)]
    let entries = (0..<500).map { "fan-\($0)" }

    @Test func theSameSeedAndEntriesGiveTheSameWinnersInAnyOrder() {
        let seed = LotteryDraw.newSeed()
        let a = LotteryDraw.winners(seed: seed, entries: entries, prizes: prizes)
        let b = LotteryDraw.winners(seed: seed, entries: entries.reversed() + entries.prefix(50), prizes: prizes)
        #expect(a.map(\.openId) == b.map(\.openId) && a.map(\.prize) == b.map(\.prize))
        #expect(a.count == 26)
        #expect(Set(a.map(\.openId)).count == 26, "no fan wins twice")
        #expect(a.filter { $0.prize == "茅台" }.count == 1 && a.filter { $0.prize == "定制酒杯" }.count == 5)
        // Another seed, other winners.
        #expect(LotteryDraw.winners(seed: LotteryDraw.newSeed(), entries: entries, prizes: prizes).map(\.openId) != a.map(\.openId))
    }

    @Test func fewerEntriesThanPrizesLeaveTheLastPrizesUnawarded() {
        let winners = LotteryDraw.winners(seed: "s", entries: ["a", "b", "c"], prizes: prizes)
        #expect(winners.count == 3)
        #expect(winners[0].prize == "茅台" && winners[1].prize == "定制酒杯" && winners[2].prize == "定制酒杯")
    }

    @Test func everyWinnerIsAsLikely() {
        // 2,000 seeds, 10 entries, one prize: each entry wins about 200 times.
        var wins: [String: Int] = [:]
        for i in 0..<2_000 {
            let w = LotteryDraw.winners(seed: "seed-\(i)", entries: (0..<10).map { "fan-\($0)" }, prizes: [LotteryPrize(name: "p", stock: 1)])
            wins[w[0].openId, default: 0] += 1
        }
        #expect(wins.count == 10)
        #expect(wins.values.allSatisfy { (140...260).contains($0) }, "\(wins)")
    }

    @Test func aTamperedRecordIsCaught() {
        let seed = LotteryDraw.newSeed()
        let hash = LotteryDraw.hash(seed)
        let winners = LotteryDraw.winners(seed: seed, entries: entries, prizes: prizes)
        #expect(LotteryDraw.problems(seed: seed, seedHash: hash, entries: entries, prizes: prizes, winners: winners).isEmpty)
        // Another seed than the one committed to.
        #expect(LotteryDraw.problems(seed: LotteryDraw.newSeed(), seedHash: hash, entries: entries, prizes: prizes, winners: winners).contains { $0.contains("SHA-256") })
        // A winner swapped for a friend.
        var swapped = winners
        swapped[0].openId = "friend-of-the-operator"
        #expect(LotteryDraw.problems(seed: seed, seedHash: hash, entries: entries, prizes: prizes, winners: swapped).count == 1)
        // An entry dropped from the published list changes the draw, or the list no longer matches.
        let dropped = entries.filter { $0 != winners[0].openId }
        #expect(!LotteryDraw.problems(seed: seed, seedHash: hash, entries: dropped, prizes: prizes, winners: winners).isEmpty)
        // An extra prize given.
        #expect(!LotteryDraw.problems(seed: seed, seedHash: hash, entries: entries, prizes: prizes, winners: winners + [("fan-x", "茅台")]).isEmpty)
    }

    @Test func theSeedHashIsSHA256OfTheSeedText() {
        #expect(LotteryDraw.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(LotteryDraw.newSeed().count == 64)
    }
}
