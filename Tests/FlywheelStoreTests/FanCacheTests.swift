import FlywheelDomain
import FlywheelStore
import Synchronization
import Testing

@Suite struct FanCacheTests {
    let account = Account(tenantId: "t", id: "a", name: "a", appId: "app", openId: "o", timeZone: "Asia/Shanghai", createdAt: 0)

    func fans(_ ids: [String]) -> [String: FanState] {
        Dictionary(uniqueKeysWithValues: ids.map { ($0, FanState(firstSeenThrough: FanEvent(id: $0, kind: .like, openId: $0, occurredAt: 1, channel: .dm))) })
    }

    final class Clock: Sendable {
        let start = ContinuousClock.now
        let offset = Mutex(Duration.zero)
        var now: ContinuousClock.Instant { start + offset.withLock { $0 } }
    }

    @Test func fansAreTrustedOnlyWhereTheirBatchLeftThem() {
        let cache = FanCache()
        let at = ProjectionPosition(lastSeq: 10, rulesVersion: 1)
        cache.put(account, fans(["a", "b"]), touched: ["a", "b"], at: at)
        #expect(cache.take(account, at: ProjectionPosition(lastSeq: 11, rulesVersion: 1)).isEmpty, "another process moved the checkpoint")
        #expect(cache.take(account, at: at).isEmpty, "and the kept fans were let go")
        cache.put(account, fans(["a", "b"]), touched: ["a", "b"], at: at)
        #expect(cache.take(account, at: ProjectionPosition(lastSeq: 10, rulesVersion: 2)).isEmpty, "the rules changed")
        cache.put(account, fans(["a", "b"]), touched: ["a", "b"], at: at)
        #expect(Set(cache.take(account, at: at).keys) == ["a", "b"])
    }

    @Test func fansNoBatchTouchedForAWhileAreLetGo() {
        let clock = Clock()
        let cache = FanCache(idle: .seconds(60)) { clock.now }
        cache.put(account, fans(["hot", "cold"]), touched: ["hot", "cold"], at: ProjectionPosition(lastSeq: 1, rulesVersion: 1))
        clock.offset.withLock { $0 = .seconds(30) }
        var kept = cache.take(account, at: ProjectionPosition(lastSeq: 1, rulesVersion: 1))
        cache.put(account, kept, touched: ["hot"], at: ProjectionPosition(lastSeq: 2, rulesVersion: 1))
        #expect(cache.count(account) == 2, "within the minute both stay")
        clock.offset.withLock { $0 = .seconds(61) }
        kept = cache.take(account, at: ProjectionPosition(lastSeq: 2, rulesVersion: 1))
        cache.put(account, kept, touched: ["hot"], at: ProjectionPosition(lastSeq: 3, rulesVersion: 1))
        #expect(cache.count(account) == 2, "both were touched in the minute that ended")
        clock.offset.withLock { $0 = .seconds(122) }
        kept = cache.take(account, at: ProjectionPosition(lastSeq: 3, rulesVersion: 1))
        cache.put(account, kept, touched: ["hot"], at: ProjectionPosition(lastSeq: 4, rulesVersion: 1))
        #expect(cache.count(account) == 1, "the fan untouched for a whole minute is let go")
        #expect(Set(cache.take(account, at: ProjectionPosition(lastSeq: 4, rulesVersion: 1)).keys) == ["hot"])
    }

    @Test func overCapacityOtherAccountsGoFirst() {
        let other = Account(tenantId: "t", id: "b", name: "b", appId: "app", openId: "p", timeZone: "Asia/Shanghai", createdAt: 0)
        let cache = FanCache(capacity: 3)
        let at = ProjectionPosition(lastSeq: 1, rulesVersion: 1)
        cache.put(other, fans(["x", "y"]), touched: ["x", "y"], at: at)
        cache.put(account, fans(["a", "b"]), touched: ["a", "b"], at: at)
        #expect(cache.count(other) == 0 && cache.count(account) == 2)
        cache.put(account, fans(["a", "b", "c", "d"]), touched: ["a"], at: at)
        #expect(cache.count(account) == 0, "an account larger than the whole cache is not kept")
    }
}
