import FlywheelDomain
import Synchronization

/// The regular expression function SQLite lacks (`flywheel_matches(text, pattern)`), with
/// compiled patterns kept for reuse across rows.
enum SQLRegex {
    private static let compiled = Mutex<[String: TextPattern]>([:])

    static func matches(_ text: String?, _ pattern: String?) -> Bool {
        guard let text, let pattern else { return false }
        let found = compiled.withLock { cache -> TextPattern? in
            if let hit = cache[pattern] { return hit }
            guard let made = TextPattern(pattern) else { return nil }
            if cache.count > 256 { cache.removeAll() }
            cache[pattern] = made
            return made
        }
        return found?.matches(text) ?? false
    }
}
