import FlywheelDomain
import Foundation
import Testing

@Suite struct PredicateTests {
    let calendar = AccountCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
    let now: Int64 = 1_772_323_200_000  // 2026-03-01T08:00+08:00

    func fan(_ build: (inout FanState) -> Void) -> FanState {
        var fan = FanState(firstSeenThrough: FanEvent(id: "0", kind: .videoView, openId: "u1", occurredAt: now - 100 * 86_400_000, channel: .douPlus))
        build(&fan)
        return fan
    }

    func matches(_ text: String, _ fan: FanState) throws -> Bool {
        try FanPredicate.parse(text).compile(calendar: calendar).matches(fan, now: now)
    }

    @Test func theDesignExampleReadsAndDecides() throws {
        let text = "tier >= liking and level >= 9 and last_active within 30d and first_domain = commercial"
        let close = fan { $0.tier = .trueLove; $0.level = 9; $0.lastActiveAt = now - 29 * 86_400_000 }
        let stale = fan { $0.tier = .trueLove; $0.level = 9; $0.lastActiveAt = now - 31 * 86_400_000 }
        let passerby = fan { $0.tier = .passerby; $0.level = 12; $0.lastActiveAt = now }
        #expect(try matches(text, close))
        #expect(try !matches(text, stale))
        #expect(try !matches(text, passerby))
    }

    @Test func notOrParenthesesListsRangesAndDates() throws {
        let buyer = fan { $0.counters.ordersPaid = 3; $0.counters.ordersRefunded = 1; $0.following = true; $0.followedAt = now - 400 * 86_400_000 }
        #expect(try matches("orders = 2 and following", buyer))
        #expect(try matches("not (orders > 5 or level between 1 and 3)", buyer))
        #expect(try matches("first_domain in (public, commercial)", buyer))
        #expect(try !matches("first_domain in (private, offsite)", buyer))
        #expect(try matches("followed_at before 2026-01-01", buyer))
        #expect(try !matches("followed_at after 2026-01-01", buyer))
        #expect(try !matches("followed_at within 365d", buyer))
        #expect(try !matches("followed_at before 2026-01-01", fan { _ in }), "a fan that never followed was not followed before any date")
        #expect(try matches("nickname matches \"^王\"", fan { $0.nickname = "王小明" }))
        #expect(try matches("likes >= 0 and dms_received = 0", buyer), "every counter is a field")
    }

    @Test func errorsSayWhereAndSuggest() {
        func error(_ text: String) -> String? {
            do {
                _ = try FanPredicate.parse(text)
                return nil
            } catch { return error.description }
        }
        #expect(error("teir >= liking") == "1:1: unknown field 'teir', did you mean 'tier'?")
        #expect(error("tier >= likng") == "1:9: 'likng' is not a value of tier, did you mean 'liking'?")
        #expect(error("level >= 9 and\n  first_domian = public") == "2:3: unknown field 'first_domian', did you mean 'first_domain'?")
        #expect(error("level >= \"nine\"") == "1:10: 'level' takes a whole number, not 'nine'")
        #expect(error("first_domain > public") == "1:14: 'first_domain' has no order, use = or != (or in (...))")
        #expect(error("last_active within soon") == "1:20: expected a duration such as 30d but found 'soon', units: h, d, w, m (30 days)")
        #expect(error("nickname matches \"([\"") == "1:18: the pattern \"([\" does not compile, check its brackets and escapes")
        #expect(error("(level > 1") == "1:11: expected ')' but found 'end of input', every '(' needs its ')'")
        #expect(error("level > 1 level < 3") == "1:11: unexpected 'level', join conditions with 'and' or 'or'")
        #expect(error("level") == "1:6: expected an operator after 'level' but found 'end of input', one of = != < <= > >= in between within before after matches has")
    }

    @Test(arguments: [
        "tier >= liking and level >= 9",
        "not (orders > 5 or level between 1 and 3) and following",
        "first_channel in (dou_plus, brand_ad) or last_active within 30d",
        "followed_at before 2026-01-01 and nickname matches \"^\\\"王\"",
        "not following and first_seen after 2025-12-31 and open_id != \"u-1\"",
    ])
    func textAndJSONFormsRoundTrip(_ text: String) throws {
        let predicate = try FanPredicate.parse(text)
        #expect(try FanPredicate.parse(predicate.description) == predicate)
        let json = try JSONEncoder().encode(predicate)
        #expect(try JSONDecoder().decode(FanPredicate.self, from: json) == predicate)
    }

    @Test func jsonThatDoesNotFitIsRefusedAsTheTextWouldBe() {
        let bad = Data(#"{"field":"level","op":">=","value":"high"}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(FanPredicate.self, from: bad) }
        let unknown = Data(#"{"and":[{"field":"teir","op":"=","value":"liking"}]}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(FanPredicate.self, from: unknown) }
    }

    func refusal(_ text: String) -> FlywheelDomain.PredicateError? {
        do {
            _ = try FanPredicate.parse(text)
            return nil
        } catch { return error }
    }

    @Test func deepOrLongPredicatesAreRefusedWithAClearError() throws {
        let deep = String(repeating: "not ", count: 100_000) + "following"
        #expect(refusal(deep)?.message == "the predicate is 400009 bytes long; at most 10000")
        let nested = String(repeating: "not ", count: 1_000) + "following"
        guard let error = refusal(nested) else {
            Issue.record("1,000 nested 'not' parsed")
            return
        }
        #expect(error.message == "nested more than 32 deep")
        #expect(error.column == 1 + 4 * 32, "the error points at the first 'not' too many")
        let parens = String(repeating: "(", count: 100) + "following" + String(repeating: ")", count: 100)
        #expect(refusal(parens)?.message == "nested more than 32 deep")
        let ok = String(repeating: "not ", count: 32) + "following"
        #expect(try FanPredicate.parse(ok).description.hasSuffix("following"))
        let long = (0..<2_000).map { "level = \($0)" }.joined(separator: " or ")
        #expect(refusal(long)?.message.hasSuffix("at most 10000") == true)
        #expect(refusal("last_active within 99999999999999999d")?.message.hasPrefix("expected a duration") == true)

        let json = String(repeating: #"{"not":"#, count: 5_000) + #"{"field":"following","op":"is","value":true}"# + String(repeating: "}", count: 5_000)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(FanPredicate.self, from: Data(json.utf8)) }
    }

    @Test func plainPatternsMatchAsTheRegularExpressionDoes() throws {
        let texts = ["fan-12", "afan-1", "fan-", "", "我爱白酒", "白酒", "e\u{301}", "é", "FAN-1", "x fan-1 y"]
        for (plain, regex) in [("^fan-1", "^(?:fan-1)"), ("fan-1", "(?:fan-1)"), ("白酒", "(?:白酒)"), ("^é", "^(?:é)")] {
            let fast = try #require(TextPattern(plain))
            let slow = try #require(TextPattern(regex))
            for text in texts { #expect(fast.matches(text) == slow.matches(text), "\(plain) on \(text)") }
        }
    }
}
