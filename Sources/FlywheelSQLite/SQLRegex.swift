import FlywheelDomain

/// The regular expression function SQLite lacks (`flywheel_matches(text, pattern)`), with
/// compiled patterns kept for reuse across rows.
enum SQLRegex {
    private static let compiled = TextMemo<TextPattern?>()

    static func matches(_ text: String?, _ pattern: String?) -> Bool {
        guard let text, let pattern else { return false }
        return compiled.value(for: pattern, TextPattern.init)?.matches(text) ?? false
    }
}
