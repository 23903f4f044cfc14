import FlywheelDomain
import FlywheelStore
import Foundation

/// Segment previews over a column table of the account's fans held in memory (`FanTable`): loaded
/// once, brought up to date before each preview through the log (only fans with events since the
/// last look are read again; fan state changes only through events and rules), and scanned a
/// condition at a time. A new segment's build still scans in SQL, inside the store's transaction.
public actor FanScan {
    struct Snapshot {
        var position: ProjectionPosition
        var table: FanTable
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

    /// How many fans match each predicate at `now`, from one look at the account's fans.
    public func counts(_ predicates: [FanPredicate], of account: Account, now: Int64) async throws -> [Int] {
        let table = try await current(account)
        return predicates.map { table.matches($0, calendar: account.calendar, now: now).reduce(0) { $1 ? $0 + 1 : $0 } }
    }

    /// How many fans match at `now`, and the first `sample` of them in open_id order.
    public func preview(_ predicate: FanPredicate, of account: Account, now: Int64, sample: Int) async throws -> (count: Int, sample: [FanState]) {
        let table = try await current(account)
        let matches = table.matches(predicate, calendar: account.calendar, now: now)
        var count = 0
        var first: [String] = []
        for (i, match) in matches.enumerated() where match {
            count += 1
            Self.keep(table.openIds[i], in: &first, limit: sample)
        }
        var fans: [FanState] = []
        for openId in first { if let fan = try await store.fan(of: account, openId: openId) { fans.append(fan) } }
        return (count, fans)
    }

    /// Loads the tables of the given accounts, the largest first, while they fit in `capacity`:
    /// run at start, so that no operator's first preview waits for a whole account to be read.
    /// Returns the accounts and fans loaded.
    @discardableResult
    public func warm(_ accounts: [Account]) async throws -> (accounts: Int, fans: Int) {
        var sized: [(account: Account, fans: Int)] = []
        for account in accounts { sized.append((account, try await store.tierCounts(of: account).values.reduce(0, +))) }
        var loaded = (accounts: 0, fans: 0)
        for (account, fans) in sized.sorted(by: { $0.fans > $1.fans }) where fans > 0 && loaded.fans + fans <= capacity {
            loaded.fans += try await current(account).count
            loaded.accounts += 1
        }
        return loaded
    }

    func current(_ account: Account) async throws -> FanTable {
        let position = try await store.projectionPosition(of: account)
        if var snapshot = snapshots[account.id], snapshot.position.rulesVersion == position.rulesVersion {
            if snapshot.position.lastSeq < position.lastSeq {
                guard let changed = try await store.fansChanged(of: account, after: snapshot.position.lastSeq, limit: max(10_000, snapshot.table.count / 5)) else {
                    return try await load(account, at: position)
                }
                for fan in changed { snapshot.table.upsert(fan) }
                snapshot.position = position
            }
            snapshot.used = .now
            snapshots[account.id] = snapshot
            return snapshot.table
        }
        return try await load(account, at: position)
    }

    /// Reads every fan of the account (rows may be newer than `position`; the next look reads them again).
    private func load(_ account: Account, at position: ProjectionPosition) async throws -> FanTable {
        snapshots[account.id] = nil
        var fans: [FanState] = []
        var cursor: String?
        repeat {
            let page = try await store.fans(of: account, matching: nil, now: 0, cursor: cursor, limit: 20_000)
            fans += page.items
            cursor = page.nextCursor
        } while cursor != nil
        let table = FanTable(fans)
        snapshots[account.id] = Snapshot(position: position, table: table, used: .now)
        var held = snapshots.values.reduce(0) { $0 + $1.table.count }
        for (id, old) in snapshots.sorted(by: { $0.value.used < $1.value.used }) where held > capacity && id != account.id {
            snapshots[id] = nil
            held -= old.table.count
        }
        return table
    }

    /// Keeps the `limit` smallest open_ids, in byte order as the stores sort them.
    static func keep(_ openId: String, in first: inout [String], limit: Int) {
        func precedes(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
        guard limit > 0 else { return }
        if first.count == limit {
            guard let last = first.last, precedes(openId, last) else { return }
            first.removeLast()
        }
        first.insert(openId, at: first.firstIndex { precedes(openId, $0) } ?? first.count)
    }
}
