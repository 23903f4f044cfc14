import FlywheelDomain
import FlywheelStore
import Foundation

/// Segment previews over fans held in memory: the account's fans are loaded once, brought up to
/// date before each preview through the log (only fans with events since the last look are read
/// again; fan state changes only through events and rules), and scanned with the same compiled
/// evaluator the projector uses, split over the cores. A new segment's build still scans in SQL,
/// inside the store's transaction.
public actor FanScan {
    struct Snapshot {
        var position: ProjectionPosition
        var fans: [FanState]
        var index: [String: Int]
        var used: ContinuousClock.Instant
    }

    let store: any Store
    /// Fans held over all accounts; the least recently previewed accounts are dropped beyond it.
    let capacity: Int
    private var snapshots: [String: Snapshot] = [:]

    public init(store: any Store, capacity: Int = 2_000_000) {
        self.store = store
        self.capacity = capacity
    }

    /// How many fans match at `now`, and the first `sample` of them in open_id order.
    public func preview(_ predicate: FanPredicate, of account: Account, now: Int64, sample: Int) async throws -> (count: Int, sample: [FanState]) {
        let fans = try await current(account)
        return await Self.scan(fans, predicate.compile(calendar: account.calendar), now: now, sample: sample)
    }

    func current(_ account: Account) async throws -> [FanState] {
        let position = try await store.projectionPosition(of: account)
        if var snapshot = snapshots[account.id], snapshot.position.rulesVersion == position.rulesVersion {
            if snapshot.position.lastSeq < position.lastSeq {
                guard let changed = try await store.fansChanged(of: account, after: snapshot.position.lastSeq, limit: max(10_000, snapshot.fans.count / 5)) else {
                    return try await load(account, at: position)
                }
                for fan in changed {
                    if let i = snapshot.index[fan.openId] {
                        snapshot.fans[i] = fan
                    } else {
                        snapshot.index[fan.openId] = snapshot.fans.count
                        snapshot.fans.append(fan)
                    }
                }
                snapshot.position = position
            }
            snapshot.used = .now
            snapshots[account.id] = snapshot
            return snapshot.fans
        }
        return try await load(account, at: position)
    }

    /// Reads every fan of the account (rows may be newer than `position`; the next look reads them again).
    private func load(_ account: Account, at position: ProjectionPosition) async throws -> [FanState] {
        var fans: [FanState] = []
        var cursor: String?
        repeat {
            let page = try await store.fans(of: account, matching: nil, now: 0, cursor: cursor, limit: 20_000)
            fans += page.items
            cursor = page.nextCursor
        } while cursor != nil
        let index = Dictionary(uniqueKeysWithValues: fans.enumerated().map { ($1.openId, $0) })
        snapshots[account.id] = Snapshot(position: position, fans: fans, index: index, used: .now)
        var held = snapshots.values.reduce(0) { $0 + $1.fans.count }
        for (id, old) in snapshots.sorted(by: { $0.value.used < $1.value.used }) where held > capacity && id != account.id {
            snapshots[id] = nil
            held -= old.fans.count
        }
        return fans
    }

    static func scan(_ fans: [FanState], _ predicate: CompiledPredicate, now: Int64, sample: Int) async -> (count: Int, sample: [FanState]) {
        let parts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, fans.count / 10_000))
        let size = (fans.count + parts - 1) / max(parts, 1)
        return await withTaskGroup(of: (Int, [FanState]).self) { group in
            for part in 0..<parts {
                let range = min(part * size, fans.count)..<min((part + 1) * size, fans.count)
                group.addTask {
                    var count = 0
                    var first: [FanState] = []
                    for i in range where predicate.matches(fans[i], now: now) {
                        count += 1
                        Self.keep(fans[i], in: &first, limit: sample)
                    }
                    return (count, first)
                }
            }
            var count = 0
            var first: [FanState] = []
            for await (n, some) in group {
                count += n
                for fan in some { keep(fan, in: &first, limit: sample) }
            }
            return (count, first)
        }
    }

    /// Keeps the `limit` smallest open_ids, in byte order as the stores sort them.
    static func keep(_ fan: FanState, in first: inout [FanState], limit: Int) {
        func precedes(_ a: FanState, _ b: FanState) -> Bool { a.openId.utf8.lexicographicallyPrecedes(b.openId.utf8) }
        guard limit > 0 else { return }
        if first.count == limit {
            guard let last = first.last, precedes(fan, last) else { return }
            first.removeLast()
        }
        first.insert(fan, at: first.firstIndex { precedes(fan, $0) } ?? first.count)
    }
}
