import Crypto
import FlywheelDomain
import FlywheelPlatform

/// The verifiable draw (docs/commerce.md): each entry is ranked by SHA-256 of "<seed>:<open_id>"
/// (lowercase hex, ascending); the first prize goes to the best-ranked entries, as many as its
/// stock, the next prize to the following ones, and so on. Nothing else is drawn: whoever has
/// the seed and the entry list gets the same winners, and the seed's hash, published when the
/// lottery opened, shows the seed was not chosen after the entries were known.
public enum LotteryDraw {
    /// The rule in words, published with every draw.
    public static let method = """
        Each entry's score is the SHA-256 (lowercase hex) of the seed, a colon and the entry's open_id; entries are ranked by score, \
        ascending; the first prize goes to the best-ranked entries, as many as its stock, then the next prize, and so on. \
        seedHash is the SHA-256 of the seed.
        """

    /// SHA-256 of the text's UTF-8, lowercase hex.
    public static func hash(_ text: String) -> String {
        Array(SHA256.hash(data: Array(text.utf8))).hex
    }

    /// A new secret seed: 32 random bytes, hex.
    public static func newSeed() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }.hex
    }

    /// The winners and their prizes, best-ranked first; no prize given more often than its stock,
    /// no entry winning twice (repeated entries count once).
    public static func winners(seed: String, entries: [String], prizes: [LotteryPrize]) -> [(openId: String, prize: String)] {
        let ranked = Set(entries).map { (score: hash(seed + ":" + $0), openId: $0) }.sorted { ($0.score, $0.openId) < ($1.score, $1.openId) }
        var winners: [(openId: String, prize: String)] = []
        var next = ranked.makeIterator()
        for prize in prizes {
            for _ in 0..<max(0, prize.stock) {
                guard let entry = next.next() else { return winners }
                winners.append((entry.openId, prize.name))
            }
        }
        return winners
    }
}

extension LotteryDraw {
    /// What is wrong with a published draw: the seed does not match its hash, or the winners are
    /// not those the seed and the entries give. Empty when the draw checks out.
    public static func problems(seed: String, seedHash: String, entries: [String], prizes: [LotteryPrize], winners: [(openId: String, prize: String)]) -> [String] {
        var problems: [String] = []
        if hash(seed) != seedHash.lowercased() { problems.append("the seed's SHA-256 is \(hash(seed)), not the published \(seedHash)") }
        let expected = self.winners(seed: seed, entries: entries, prizes: prizes)
        for (i, (want, got)) in zip(expected, winners).enumerated() where want != got {
            problems.append("winner \(i + 1) should be \(want.openId) (\(want.prize)), the record says \(got.openId) (\(got.prize))")
        }
        if expected.count != winners.count { problems.append("the draw gives \(expected.count) winners, the record lists \(winners.count)") }
        return problems
    }
}
