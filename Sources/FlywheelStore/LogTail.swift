import FlywheelDomain
import Synchronization

/// The newest events each account's appends committed, kept in memory until the projector has
/// read them: it takes its batches from here instead of reading the log back (decoding a bulk
/// batch's 250,000 rows was a quarter of the time between its commits). Only what committed comes
/// in, and a tail is always a run of consecutive seqs ending at the newest it was given; what it
/// does not hold (older events past the capacity, another process's appends) the projector reads
/// from the log, as before.
public final class LogTail: Sendable {
    private struct State {
        /// Each account's tail: consecutive seqs, oldest first.
        var tails: [AccountKey: [StoredEvent]] = [:]
        var count = 0
    }

    private let state = Mutex(State())
    /// Most events held over all accounts (about 100 bytes each, plus their texts): two bulk batches.
    public let capacity: Int

    public init(capacity: Int = 500_000) { self.capacity = capacity }

    /// Events held over all accounts.
    public var count: Int { state.withLock { $0.count } }

    /// After a commit: the events it appended, each account's in seq order (consecutive seqs).
    /// Past the capacity the account's oldest go; after a gap (events appended elsewhere) the
    /// newer start the tail over; older ones (commits noted out of order) are left to the log.
    public func committed(_ appended: [AccountKey: [StoredEvent]]) {
        state.withLock { state in
            for (key, events) in appended {
                guard let first = events.first?.seq else { continue }
                var tail = state.tails.removeValue(forKey: key) ?? []
                state.count -= tail.count
                switch tail.last?.seq {
                case let last? where first <= last: break
                case let last? where first - last == 1: tail += events
                default: tail = events
                }
                let over = tail.count - max(capacity - state.count, 0)
                if over > 0 { tail.removeFirst(min(over, tail.count)) }
                state.count += tail.count
                if !tail.isEmpty { state.tails[key] = tail }
            }
        }
    }

    /// Lets go of the account's events through `seq`: a batch that ended there committed (the
    /// last of a run is not read past, so its events would stay until the account's next batch).
    public func release(_ key: AccountKey, through seq: Int64) {
        state.withLock { state in
            guard var tail = state.tails.removeValue(forKey: key) else { return }
            state.count -= Self.drop(&tail, through: seq)
            if !tail.isEmpty { state.tails[key] = tail }
        }
    }

    /// Lets the account's tail go: another process projects the account, so this one's would only
    /// fill up to the capacity and stay.
    public func forget(_ key: AccountKey) {
        state.withLock { state in state.count -= state.tails.removeValue(forKey: key)?.count ?? 0 }
    }

    /// What a batch of at most `limit` events after `seq` takes from the tail, `head` being the
    /// log's head as its reader sees it.
    public func take(_ key: AccountKey, after seq: Int64, limit: Int, head: Int64) -> Take {
        let held = events(of: key, after: seq, through: min(seq.saturatingAdd(Int64(limit)), head)) ?? []
        return Take(fromLog: held.first.map { Int($0.seq - seq - 1) } ?? limit, held: held)
    }

    /// The events a batch takes from the tail, and how many before them it reads from the log.
    public struct Take: Sendable {
        public var fromLog: Int
        public var held: [StoredEvent]

        /// The log's read (events and rows it could not read), then the held events. A read that
        /// comes back short (its snapshot older than some of their commits) ends the batch there.
        public func joined(_ read: (events: [StoredEvent], unreadable: [QuarantinedEvent])) -> (events: [StoredEvent], unreadable: [QuarantinedEvent]) {
            read.events.count + read.unreadable.count == fromLog ? (read.events + held, read.unreadable) : read
        }
    }

    /// The account's events after `seq` through `last` (the log's head as the reader sees it),
    /// from the first the tail holds; nil when it holds none of them or not up to `last` (a
    /// commit not yet noted). The projector reads any before that first one from the log. Those
    /// through `seq` are projected: they are let go.
    public func events(of key: AccountKey, after seq: Int64, through last: Int64) -> [StoredEvent]? {
        state.withLock { state in
            guard var tail = state.tails.removeValue(forKey: key) else { return nil }
            state.count -= Self.drop(&tail, through: seq)
            guard let start = tail.first?.seq, let end = tail.last?.seq else { return nil }
            state.tails[key] = tail
            guard start <= last, end >= last else { return nil }
            return Array(tail[...Int(last - start)])
        }
    }

    /// Drops the tail's events through `seq`; returns how many.
    private static func drop(_ tail: inout [StoredEvent], through seq: Int64) -> Int {
        guard let first = tail.first?.seq else { return 0 }
        let projected = Int(clamping: min(max(seq.saturatingSubtract(first).saturatingAdd(1), 0), Int64(tail.count)))
        tail.removeFirst(projected)
        return projected
    }
}
