import Synchronization

/// Values made from text by a pure function, kept for reuse: what is read again and again as text
/// (an account's rules and its segments' predicates at every projection batch, a regular
/// expression at every row) is parsed once. Bounded: past `limit` texts it starts again empty.
/// A `make` that throws keeps nothing, so the next read tries again.
public final class TextMemo<Value: Sendable>: Sendable {
    private let values = Mutex<[String: Value]>([:])
    private let limit: Int

    public init(limit: Int = 256) { self.limit = limit }

    public func value(for text: String, _ make: (String) throws -> Value) rethrows -> Value {
        if let hit = values.withLock({ $0[text] }) { return hit }
        let made = try make(text)
        values.withLock { values in
            if values.count >= limit { values.removeAll() }
            values[text] = made
        }
        return made
    }
}
