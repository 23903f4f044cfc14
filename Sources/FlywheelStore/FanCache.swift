import FlywheelDomain
import Synchronization

/// Fans the projector has seen, kept in memory between batches, so a batch reads back from the
/// database only fans it has not seen before. An account's fans are trusted only at the log
/// position they were kept at: when a batch finds the checkpoint elsewhere (another process
/// projected, an event was set aside, a batch failed), it reads from the database again.
public final class FanCache: Sendable {
    private struct Entry {
        var position: ProjectionPosition
        var fans: [String: FanState]
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// Most fans held over all accounts (about 1 KB each in memory).
    public let capacity: Int

    public init(capacity: Int = 1_000_000) { self.capacity = capacity }

    /// The account's fans kept at `position`, or none; the batch owns them until it puts them back.
    public func take(_ account: Account, at position: ProjectionPosition) -> [String: FanState] {
        entries.withLock { entries in
            guard let entry = entries.removeValue(forKey: Self.key(account)), entry.position == position else { return [:] }
            return entry.fans
        }
    }

    /// Keeps the account's fans as they are at `position` (after the batch that made them committed).
    public func put(_ account: Account, _ fans: [String: FanState], at position: ProjectionPosition) {
        guard fans.count <= capacity else { return }
        entries.withLock { entries in
            var held = entries.values.reduce(fans.count) { $0 + $1.fans.count }
            // Over capacity, other accounts' fans go first; they are read from the database again.
            while held > capacity, let other = entries.keys.first(where: { $0 != Self.key(account) }) {
                held -= entries.removeValue(forKey: other)?.fans.count ?? 0
            }
            entries[Self.key(account)] = Entry(position: position, fans: fans)
        }
    }

    private static func key(_ account: Account) -> String { account.tenantId + "/" + account.id }
}
