import Synchronization

/// How many times a closure handed to the code under test was called.
public final class CallCount: Sendable {
    private let count = Mutex(0)
    public init() {}
    public var value: Int { count.withLock { $0 } }
    public func add() { count.withLock { $0 += 1 } }
}
