import Foundation

/// Runs password derivations (PBKDF2 at 210,000 rounds: about a tenth of a second of CPU each) on
/// threads of their own, a few at a time. On the event loops or Swift's cooperative pool a flood
/// of sign-ins would stall every webhook and API call; here at most `slots` run at once, at most
/// `maxWaiting` wait their turn, and any further one is refused at once (`Busy`) rather than queued
/// without end.
public actor PasswordHasher {
    /// Every slot is taken and the queue is full: try again in a moment.
    public struct Busy: Error, Equatable, Sendable {
        public init() {}
    }

    public let slots: Int
    public let maxWaiting: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []
    // Not the cooperative pool: a derivation blocks its thread for its whole length.
    private let queue = DispatchQueue(label: "flywheel.password-hashing", attributes: .concurrent)

    /// One slot fewer than the machine has cores (at least one), so hashing never takes them all.
    public static var defaultSlots: Int { max(1, ProcessInfo.processInfo.activeProcessorCount - 1) }

    public init(slots: Int = PasswordHasher.defaultSlots, maxWaiting: Int = 16) {
        self.slots = max(1, slots)
        self.maxWaiting = max(0, maxWaiting)
    }

    /// `work` on a hashing thread once a slot is free. With `mayRefuse` false the caller waits
    /// whatever the queue's length: for setting a password, which an owner or the CLI does rarely.
    public func run<T: Sendable>(mayRefuse: Bool = true, _ work: @escaping @Sendable () -> T) async throws -> T {
        if running < slots {
            running += 1
        } else {
            guard !mayRefuse || waiting.count < maxWaiting else { throw Busy() }
            // `release` hands its slot straight to the first waiter, so `running` stays as it is.
            await withCheckedContinuation { waiting.append($0) }
        }
        let result: T = await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            queue.async { continuation.resume(returning: work()) }
        }
        release()
        return result
    }

    /// Derivations running and waiting: for tests and metrics.
    public var load: (running: Int, waiting: Int) { (running, waiting.count) }

    private func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
