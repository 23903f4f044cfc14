/// Slows password guessing: counts failed sign-ins per client address and per user, and after a
/// few failures locks that address or user out, for a minute at first, twice as long at each
/// further failure, up to 15 minutes. A successful sign-in clears the user's count; a key with no
/// failure for an hour starts again from zero.
///
/// Kept in memory and bounded (the oldest records go first when it is full), so **each server
/// process limits on its own**: several servers behind one balancer allow as many attempts each.
public actor SignInLimiter {
    /// What is counted: where attempts come from, and whom they are for.
    public enum Key: Hashable, Sendable {
        /// A client address (the peer, or the proxy's `X-Forwarded-For` when trusted).
        case address(String)
        /// A user that exists (`tenant id/user id`), or the name as typed when it names no one user.
        case user(String)
    }

    /// When a key is locked out, in milliseconds.
    public struct Policy: Sendable, Equatable {
        /// Failures allowed before the first lockout.
        public var allowed: Int
        public var firstLockout: Int64
        public var longestLockout: Int64
        /// A key without a failure for this long starts again from zero.
        public var forgetAfter: Int64

        public init(allowed: Int, firstLockout: Int64 = 60_000, longestLockout: Int64 = 15 * 60_000, forgetAfter: Int64 = 3_600_000) {
            self.allowed = allowed
            self.firstLockout = firstLockout
            self.longestLockout = longestLockout
            self.forgetAfter = forgetAfter
        }

        /// Five wrong passwords for one user.
        public static let user = Policy(allowed: 5)
        /// More from one address: an office or a carrier's NAT puts many people behind it.
        public static let address = Policy(allowed: 20)

        /// How long `failures` failures lock the key: nothing up to `allowed - 1`, then doubling.
        func lockout(after failures: Int) -> Int64 {
            guard failures >= allowed else { return 0 }
            let doublings = min(failures - allowed, 20)
            return min(firstLockout << Int64(doublings), longestLockout)
        }
    }

    struct Record {
        var failures: Int
        var lastFailure: Int64
        var lockedUntil: Int64
    }

    private let userPolicy: Policy
    private let addressPolicy: Policy
    private let capacity: Int
    private let now: @Sendable () -> Int64
    private var records: [Key: Record] = [:]

    /// - Parameters:
    ///   - now: milliseconds since 1970 (the environment's clock; a test's own).
    ///   - capacity: records kept at most; beyond it the oldest are forgotten.
    public init(now: @escaping @Sendable () -> Int64, user: Policy = .user, address: Policy = .address, capacity: Int = 100_000) {
        self.now = now
        userPolicy = user
        addressPolicy = address
        self.capacity = max(1, capacity)
    }

    private func policy(_ key: Key) -> Policy {
        switch key {
        case .address: addressPolicy
        case .user: userPolicy
        }
    }

    /// Until when (milliseconds) the latest lockout of `keys` lasts; nil when none is locked.
    public func lockedUntil(_ keys: [Key]) -> Int64? {
        let at = now()
        return keys.compactMap { records[$0]?.lockedUntil }.filter { $0 > at }.max()
    }

    /// Counts a failure against each of `keys`; returns until when one of them is now locked, if one is.
    @discardableResult
    public func failed(_ keys: [Key]) -> Int64? {
        let at = now()
        for key in keys {
            let rule = policy(key)
            var record = records[key].flatMap { at - $0.lastFailure < rule.forgetAfter ? $0 : nil }
                ?? Record(failures: 0, lastFailure: at, lockedUntil: 0)
            if records[key] == nil { makeRoom(at: at) }
            record.failures += 1
            record.lastFailure = at
            let lockout = rule.lockout(after: record.failures)
            if lockout > 0 { record.lockedUntil = max(record.lockedUntil, at + lockout) }
            records[key] = record
        }
        return lockedUntil(keys)
    }

    /// A successful sign-in: the user starts again from zero. (The address keeps its count, so
    /// one good password does not buy an address more guesses at other users.)
    public func succeeded(_ key: Key) {
        records[key] = nil
    }

    /// Failures counted against `key` that still count.
    public func failures(_ key: Key) -> Int {
        guard let record = records[key], now() - record.lastFailure < policy(key).forgetAfter else { return 0 }
        return record.failures
    }

    /// Keeps the table within `capacity`: first what has been forgotten anyway, then the quarter
    /// with the oldest failures. Amortized: the scan runs once per quarter of the capacity.
    private func makeRoom(at: Int64) {
        guard records.count >= capacity else { return }
        records = records.filter { at - $0.value.lastFailure < policy($0.key).forgetAfter || $0.value.lockedUntil > at }
        guard records.count >= capacity else { return }
        let oldest = records.sorted { $0.value.lastFailure < $1.value.lastFailure }.prefix(max(1, records.count / 4)).map(\.key)
        for key in oldest { records[key] = nil }
    }
}
