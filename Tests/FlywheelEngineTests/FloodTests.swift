import Dispatch
@testable import FlywheelEngine
import FlywheelStore
import Synchronization
import Testing

/// A clock the test moves by hand, in milliseconds.
final class TestClock: Sendable {
    private let millis = Mutex<Int64>(0)
    var now: @Sendable () -> Int64 { { [self] in millis.withLock { $0 } } }
    var value: Int64 { millis.withLock { $0 } }
    func advance(_ ms: Int64) { millis.withLock { $0 += ms } }
}

/// Waits (at most 5 s) until `condition` holds.
func eventually(_ what: String, _ condition: () async -> Bool) async throws {
    for _ in 0..<500 {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("never happened: \(what)")
}

/// The bounds that keep floods from taking the process down: the sign-in limiter, the password
/// hasher's queue, the webhook's group commit.
@Suite struct FloodTests {
    @Test func fiveWrongPasswordsLockAUserForAMinuteThenTwiceAsLongUpToFifteen() async {
        let clock = TestClock()
        let limiter = SignInLimiter(now: clock.now)
        let user = SignInLimiter.Key.user("ten_1/usr_1")
        for _ in 0..<4 { #expect(await limiter.failed([user]) == nil) }
        #expect(await limiter.failed([user]) == 60_000, "the fifth failure locks for a minute")
        #expect(await limiter.lockedUntil([user]) == 60_000)
        clock.advance(30_000)
        #expect(await limiter.lockedUntil([user]) == 60_000, "still locked half-way")
        clock.advance(30_000)
        #expect(await limiter.lockedUntil([user]) == nil)
        #expect(await limiter.failed([user]) == clock.value + 120_000, "the next failure locks twice as long")
        clock.advance(120_000)
        #expect(await limiter.failed([user]) == clock.value + 240_000)
        for _ in 0..<6 {
            clock.advance(15 * 60_000)
            _ = await limiter.failed([user])
        }
        #expect(await limiter.lockedUntil([user]) == clock.value + 15 * 60_000, "never longer than 15 minutes")
    }

    @Test func aSuccessClearsTheUserButNotTheAddress() async {
        let clock = TestClock()
        let limiter = SignInLimiter(now: clock.now)
        let address = SignInLimiter.Key.address("10.0.0.1"), user = SignInLimiter.Key.user("ten_1/usr_1")
        for _ in 0..<4 { await limiter.failed([address, user]) }
        await limiter.succeeded(user)
        #expect(await limiter.failures(user) == 0)
        #expect(await limiter.failures(address) == 4)
        #expect(await limiter.failed([user]) == nil, "the user starts again from zero")
    }

    @Test func anAddressMayFailMoreThanAUserAndFailuresAreForgottenAfterAnHour() async {
        let clock = TestClock()
        let limiter = SignInLimiter(now: clock.now)
        let address = SignInLimiter.Key.address("10.0.0.1")
        for _ in 0..<19 { #expect(await limiter.failed([address]) == nil) }
        #expect(await limiter.failed([address]) != nil, "the twentieth failure from one address locks it")
        let user = SignInLimiter.Key.user("someone")
        for _ in 0..<4 { await limiter.failed([user]) }
        clock.advance(3_600_000)
        #expect(await limiter.failures(user) == 0)
        #expect(await limiter.failed([user]) == nil, "an hour later the count starts again")
    }

    @Test func theLimiterForgetsTheOldestWhenFull() async {
        let clock = TestClock()
        let limiter = SignInLimiter(now: clock.now, capacity: 10)
        for i in 0..<20 {
            clock.advance(1)
            await limiter.failed([.address("10.0.0.\(i)")])
        }
        #expect(await limiter.failures(.address("10.0.0.0")) == 0, "the oldest went first")
        #expect(await limiter.failures(.address("10.0.0.19")) == 1)
    }

    @Test func theHasherRefusesPastItsQueueAndRunsTheRestInTurn() async throws {
        let hasher = PasswordHasher(slots: 1, maxWaiting: 1)
        let hold = DispatchSemaphore(value: 0)
        let first = Task { try await hasher.run { hold.wait(); return 1 } }
        try await eventually("the first derivation runs") { await hasher.load.running == 1 }
        let second = Task { try await hasher.run { 2 } }
        try await eventually("the second waits") { await hasher.load.waiting == 1 }
        await #expect(throws: PasswordHasher.Busy()) { try await hasher.run { 3 } }
        let third = Task { try await hasher.run(mayRefuse: false) { 4 } }
        try await eventually("setting a password waits whatever the queue") { await hasher.load.waiting == 2 }
        hold.signal()
        #expect(try await first.value == 1)
        #expect(try await second.value == 2)
        #expect(try await third.value == 4)
        let load = await hasher.load
        #expect(load.running == 0 && load.waiting == 0)
    }

    @Test func groupCommitRefusesDeliveriesPastItsBound() async throws {
        let gate = Gate()
        let writer = GroupCommit(maxWaiting: 2) { batch in
            await gate.pass()
            return batch.map { _ in DeliveryOutcome.stored(events: 0) }
        }
        let first = Task { try await writer.write(Self.delivery(1)) }
        try await eventually("the first batch is being written") { await gate.arrived == 1 }
        let waiting = [2, 3].map { n in Task { try await writer.write(Self.delivery(n)) } }
        try await eventually("two wait for the next commit") { await writer.waitingCount == 2 }
        await #expect(throws: GroupCommit.Full()) { try await writer.write(Self.delivery(4)) }
        await gate.open()
        #expect(try await first.value == .stored(events: 0))
        for task in waiting { #expect(try await task.value == .stored(events: 0)) }
        #expect(try await writer.write(Self.delivery(5)) == .stored(events: 0), "room again once the store caught up")
    }

    static func delivery(_ n: Int) -> IncomingDelivery {
        IncomingDelivery(WebhookDelivery(tenantId: "ten_1", appId: "app_1", msgId: "m\(n)", event: "follow", accountId: nil, receivedAt: 0, body: "{}"),
                         events: [])
    }
}

/// Holds every caller of `pass` until `open`.
actor Gate {
    private var isOpen = false
    private var held: [CheckedContinuation<Void, Never>] = []
    private(set) var arrived = 0

    func pass() async {
        arrived += 1
        guard !isOpen else { return }
        await withCheckedContinuation { held.append($0) }
    }

    func open() {
        isOpen = true
        for continuation in held { continuation.resume() }
        held = []
    }
}
