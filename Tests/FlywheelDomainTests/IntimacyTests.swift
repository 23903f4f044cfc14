import FlywheelDomain
import Foundation
import Testing

/// A fan's day of heavy activity: far more than the cap's worth of points.
func busyDay(_ openId: String, day: Int, calendar: AccountCalendar) -> [FanEvent] {
    let start = calendar.startOfDay(day) + 9 * 3_600_000
    return (0..<50).map { i in
        FanEvent(id: "\(day)-\(i)", kind: .share, openId: openId, occurredAt: start + Int64(i) * 60_000, channel: .followFeed)
    }
}

@Suite struct IntimacyTests {
    let calendar = AccountCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
    let rules = AccountRules.standard.compiled(calendar: AccountCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!))

    @Test func aFanAtTheDailyCapReachesLevelNineOnDay31AndNotBefore() {
        let firstDay = calendar.day(ofDate: "2026-03-01")!
        var fan = FanState(firstSeenThrough: busyDay("f", day: firstDay, calendar: calendar)[0])
        var levelByDay: [Int] = []
        var pointsByDay: [Int] = []
        for d in 0..<31 {
            for e in busyDay("f", day: firstDay + d, calendar: calendar) { _ = fan.apply(e, rules: rules, day: firstDay + d) }
            levelByDay.append(fan.level)
            pointsByDay.append(fan.intimacy)
        }
        #expect(pointsByDay[0] == 420, "500 points of shares, capped at 420")
        #expect(pointsByDay[29] == 30 * 420)
        #expect(levelByDay[29] == 8, "after 30 capped days (12,600 points) the fan is still level 8")
        #expect(levelByDay[30] == 9, "day 31 brings 13,020 points and level 9")
    }

    @Test func theCapCountsDaysInTheAccountsTimeZone() {
        // 23:30 and 00:30 Shanghai time are two days, though both fall on one UTC date.
        let evening = calendar.startOfDay(calendar.day(ofDate: "2026-03-01")!) + 23 * 3_600_000 + 30 * 60_000
        let morning = evening + 3_600_000
        #expect(calendar.day(ofMillis: morning) == calendar.day(ofMillis: evening) + 1)
        var fan = FanState(firstSeenThrough: FanEvent(id: "0", kind: .share, openId: "f", occurredAt: evening, channel: .dm))
        for (i, t) in [evening, morning].enumerated() {
            for j in 0..<50 {
                let e = FanEvent(id: "\(i)-\(j)", kind: .share, openId: "f", occurredAt: t + Int64(j), channel: .dm)
                _ = fan.apply(e, rules: rules, day: calendar.day(ofMillis: e.occurredAt))
            }
        }
        #expect(fan.intimacy == 840)
    }

    @Test func lateEventsRespectTheCapOfTheirOwnDayAndVeryLateOnesEarnNothing() {
        var ledger = IntimacyLedger()
        #expect(ledger.credit(400, on: 100, cap: 420) == 400)
        #expect(ledger.credit(400, on: 101, cap: 420) == 400)
        #expect(ledger.credit(50, on: 100, cap: 420) == 20, "day 100 had 20 points of room left")
        #expect(ledger.credit(50, on: 95, cap: 420) == 50, "six days back is still inside the window")
        #expect(ledger.credit(50, on: 94, cap: 420) == 0, "seven days back is outside the window")
        #expect(IntimacyLedger(encoded: ledger.encoded) == ledger)
        // A new newest day lets go of the days that fell out of the window; a late day in between
        // still finds its own place and cap.
        #expect(ledger.credit(10, on: 103, cap: 420) == 10)
        #expect(ledger.credit(10, on: 102, cap: 420) == 10)
        #expect(ledger.credit(500, on: 102, cap: 420) == 410)
        #expect(ledger.credit(10, on: 108, cap: 420) == 10)
        #expect(ledger.days.map(\.day) == [102, 103, 108], "days 95 to 101 are seven or more days before 108")
        #expect(ledger.credit(10, on: 101, cap: 420) == 0)
        #expect(ledger.credit(10, on: 105, cap: 420) == 10)
        #expect(ledger.days.map(\.day) == [102, 103, 105, 108])
    }

    @Test func giftsAndWatchTimeEarnByAmount() {
        let gift = FanEvent(id: "g", kind: .liveGift, openId: "f", occurredAt: 0, channel: .liveFeed, amount: 1_000)
        let watch = FanEvent(id: "w", kind: .liveWatch, openId: "f", occurredAt: 0, channel: .liveFeed, amount: 45)
        #expect(PointTable.standard.points(for: gift) == 100, "10 yuan is 100 Douyin coins, a point each")
        #expect(PointTable.standard.points(for: watch) == 45)
    }

    @Test func levelTablesThatCannotWorkAreRejectedNamingTheField() {
        var levels = LevelTable.standard
        levels.thresholds[3] = levels.thresholds[2]
        #expect(throws: RuleError.invalid(field: "levels.thresholds", "must increase: level 4 needs 600, level 3 needs 600")) { try levels.validate() }
        levels = .standard
        levels.dailyCaps.removeLast()
        #expect(throws: RuleError.self) { try levels.validate() }
        var points = PointTable.standard
        points.rules[.tagAdded] = PointRule(flat: 5)
        #expect(throws: RuleError.invalid(field: "points.tag_added", "points are earned by what fans do, not by operator actions")) {
            try AccountRules(points: points).validate()
        }
    }

    @Test func absurdNumbersSaturateInsteadOfStoppingTheProcess() {
        var points = PointTable.standard
        points.rules[.like] = PointRule(flat: Int.max)
        points.rules[.orderPaid] = PointRule(flat: 1, perAmount: Int.max, amountUnit: 1)
        let levels = LevelTable(thresholds: [1, 2], dailyCaps: [Int.max, Int.max, Int.max])
        let rules = AccountRules(points: points, levels: levels).compiled(calendar: calendar)
        let order = FanEvent(id: "o", kind: .orderPaid, openId: "f", occurredAt: .max, channel: .liveFeed, amount: .max)
        var fan = FanState(firstSeenThrough: order)
        for i in 0..<3 {
            _ = fan.apply(order, rules: rules, day: Int.max)
            _ = fan.apply(FanEvent(id: "l\(i)", kind: .like, openId: "f", occurredAt: .min, channel: .search), rules: rules, day: Int.min)
        }
        #expect(fan.gmv == Int.max)
        #expect(fan.intimacy > 0 && fan.level == 2)
        #expect(fan.counters.ordersPaid == 3)
        _ = fan.apply(FanEvent(id: "r", kind: .orderRefunded, openId: "f", occurredAt: 0, channel: .liveFeed, amount: .max), rules: rules, day: 0)
        #expect(fan.gmv == 0, "a refund of as much takes it back down")
    }

    @Test func rulesBeyondTheirBoundsAreRefusedNamingTheField() {
        func field(_ change: (inout AccountRules) -> Void) -> String? {
            var rules = AccountRules.standard
            change(&rules)
            do {
                try rules.validate()
                return nil
            } catch RuleError.invalid(let field, _) { return field } catch { return "?" }
        }
        #expect(field { $0.points.rules[.like] = PointRule(flat: 3_000_000_000) } == "points.like.flat")
        #expect(field { $0.points.rules[.liveGift] = PointRule(perAmount: 1, amountUnit: 0) } == "points.live_gift.amountUnit")
        #expect(field { $0.levels.dailyCaps[3] = 10_000_000_000 } == "levels.dailyCaps")
        #expect(field { $0.levels.thresholds[14] = 10_000_000_000_000 } == "levels.thresholds")
        #expect(field { $0.points.rules[.like] = PointRule(flat: 100_000) } == nil)
    }
}
