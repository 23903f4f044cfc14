import FlywheelDomain
import Synchronization

/// Fans the projector has seen, kept in memory between batches, so a batch reads back from the
/// database only fans it has not seen before. An account's fans are trusted only at the log
/// position they were kept at: when a batch finds the checkpoint elsewhere (another process
/// projected, an event was set aside, a batch failed), it reads from the database again. Fans no
/// batch has touched for `idle` (10 s) are let go: live traffic keeps its hot fans and memory stays
/// flat (a minute held a soak's whole population, 100 MB and growing); a catch-up's large batches
/// keep the fans they go through.
public final class FanCache: Sendable {
    private struct Entry {
        var position: ProjectionPosition
        var fans: [String: FanState]
        /// Fans touched since `since`; the others are let go when `idle` has passed.
        var touched: Set<String> = []
        var since: ContinuousClock.Instant
    }

    private let entries = Mutex<[AccountKey: Entry]>([:])
    /// Most fans held over all accounts (about 1 KB each in memory).
    public let capacity: Int
    let idle: Duration
    let now: @Sendable () -> ContinuousClock.Instant

    public init(capacity: Int = 1_000_000, idle: Duration = .seconds(10), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.capacity = capacity
        self.idle = idle
        self.now = now
    }

    /// The fans the events touch that `kept` holds, and the open_ids of those it does not (to read
    /// from the database). Looked up by index, not value: a fan's state is copied once a batch, not
    /// once an event.
    public static func fans(touchedBy events: [StoredEvent], in kept: [String: FanState]) -> (fans: [String: FanState], unknown: Set<String>) {
        var fans: [String: FanState] = [:]
        // Room for every kept fan a bulk batch touches, without growing as they come.
        fans.reserveCapacity(min(events.count, kept.count))
        var unknown: Set<String> = []
        for stored in events {
            let openId = stored.event.openId
            guard fans.index(forKey: openId) == nil, !unknown.contains(openId) else { continue }
            if let fan = kept[openId] { fans[openId] = fan } else { unknown.insert(openId) }
        }
        return (fans, unknown)
    }

    /// The account's fans kept at `position`, or none; the batch owns them until it puts them back.
    public func take(_ account: Account, at position: ProjectionPosition) -> [String: FanState] {
        let key = AccountKey(account)
        return entries.withLock { entries in
            guard let entry = entries[key], entry.position == position else {
                entries[key] = nil
                return [:]
            }
            // Taken out so the batch changes them in place; the rest of the entry stays.
            entries[key]?.fans = [:]
            return entry.fans
        }
    }

    /// Keeps the account's fans as they are at `position` (after the batch that made them
    /// committed); `touched` are the open_ids of the batch's fans.
    public func put(_ account: Account, _ fans: [String: FanState], touched: some Sequence<String>, at position: ProjectionPosition) {
        let key = AccountKey(account)
        let now = now()
        entries.withLock { entries in
            guard fans.count <= capacity else {
                entries[key] = nil
                return
            }
            // Out of the map while it changes, so its sets are changed in place, not copied.
            var entry = entries.removeValue(forKey: key) ?? Entry(position: position, fans: [:], since: now)
            entry.position = position
            entry.fans = fans
            entry.touched.formUnion(touched)
            if now - entry.since >= idle {
                entry.fans = entry.fans.filter { entry.touched.contains($0.key) }
                entry.touched = []
                entry.since = now
            }
            var held = entries.values.reduce(entry.fans.count) { $0 + $1.fans.count }
            // Over capacity, other accounts' fans go first; they are read from the database again.
            while held > capacity, let other = entries.keys.first {
                held -= entries.removeValue(forKey: other)?.fans.count ?? 0
            }
            entries[key] = entry
        }
    }

    /// Fans held for the account (for tests and reports).
    public func count(_ account: Account) -> Int { entries.withLock { $0[AccountKey(account)]?.fans.count ?? 0 } }
}
