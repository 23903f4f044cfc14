@testable import FlywheelDomain
import Testing

/// Text read again and again (an account's rules, segments' predicates, patterns) is parsed once.
@Suite struct TextMemoTests {
    struct Unreadable: Error {}

    @Test func eachTextIsMadeOnceUntilTheMemoIsFull() throws {
        let memo = TextMemo<Int>(limit: 2)
        var made = 0
        func value(_ text: String) -> Int { memo.value(for: text) { made += 1; return $0.count } }
        #expect(value("ab") == 2 && value("ab") == 2 && made == 1)
        #expect(value("abc") == 3 && value("ab") == 2 && made == 2)
        // Past its limit it starts again empty: each text is then made once more.
        #expect(value("abcd") == 4 && value("ab") == 2 && value("abcd") == 4 && made == 4)
        // What cannot be made is not kept: the next read tries again.
        for _ in 0..<2 { #expect(throws: Unreadable.self) { try memo.value(for: "bad") { _ in made += 1; throw Unreadable() } } }
        #expect(made == 6)
    }
}
