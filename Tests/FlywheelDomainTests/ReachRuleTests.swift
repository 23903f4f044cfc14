import FlywheelDomain
import Foundation
import Testing

@Suite struct ReachRuleTests {
    let calendar = AccountCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!)

    func day(_ text: String) -> Int { calendar.day(ofDate: text)! }

    @Test func aMonthTakesEightPostsAndADayOne() {
        var quota = SubscriptionQuota(taken: [day("2026-03-02")])
        #expect(!quota.allows(day("2026-03-02")) && quota.allows(day("2026-03-03")))
        #expect(quota.nextAllowedDay(from: day("2026-03-02")) == day("2026-03-03"))
        quota.taken = (1...8).map { day(String(format: "2026-03-%02d", $0 * 3)) }
        #expect(quota.used(inMonthOf: day("2026-03-31")) == 8)
        // The ninth in March is refused on any day of March; April's first day has room.
        #expect(!quota.allows(day("2026-03-05")) && !quota.allows(day("2026-03-31")))
        #expect(quota.nextAllowedDay(from: day("2026-03-05")) == day("2026-04-01"))
        // A full month is no reason to refuse the next one, nor last February.
        #expect(quota.allows(day("2026-04-01")) && quota.allows(day("2026-02-28")))
        #expect(SubscriptionQuota.firstDay(ofMonthOf: day("2026-03-17")) == day("2026-03-01"))
        #expect(SubscriptionQuota.month(of: day("2026-12-31")) + 1 == SubscriptionQuota.month(of: day("2027-01-01")))
    }

    @Test func theBudgetCountsTheLastDayAndTheLastWeek() {
        let budget = TouchBudget(perDay: 2, perWeek: 5)
        #expect(budget.admits(RecentTouches()) && budget.admits(RecentTouches(lastDay: 1, lastWeek: 4)))
        #expect(!budget.admits(RecentTouches(lastDay: 2, lastWeek: 2)) && !budget.admits(RecentTouches(lastDay: 0, lastWeek: 5)))
        #expect(budget.isValid && !TouchBudget(perDay: 3, perWeek: 2).isValid && !TouchBudget(perDay: 0, perWeek: 5).isValid)
    }

    @Test func anApplicationIsDecidedByTheGroupsThreshold() throws {
        var group = FanGroup(id: "g", accountId: "a", name: "真爱粉群", description: "", threshold: "level >= 9", welcome: nil, admins: [],
                             liveReminder: true, shareNewWorks: true, createdAt: 0)
        let threshold = try FanPredicate.parse("level >= 9").compile(calendar: calendar)
        let application = JoinApplication(applyId: "ap", accountId: "a", platformGroupId: "pg", openId: "f", appliedAt: 0)
        var fan = FanState(firstSeenThrough: FanEvent(id: "e", kind: .follow, openId: "f", occurredAt: 0, channel: .search))
        fan.level = 9
        let approved = application.decided(by: group, threshold: threshold, fan: fan, at: 5)
        #expect(approved.state == .approved && approved.reason == "meets level >= 9" && approved.decidedAt == 5)
        fan.level = 8
        let rejected = application.decided(by: group, threshold: threshold, fan: fan, at: 5)
        #expect(rejected.state == .rejected && rejected.reason == "does not meet level >= 9 (level 8, potential)")
        #expect(application.decided(by: group, threshold: threshold, fan: nil, at: 5).state == .rejected)
        group.threshold = nil
        #expect(application.decided(by: group, threshold: nil, fan: nil, at: 5).state == .approved)
    }

    @Test func aScheduleMakesItsLivesOnItsWeekdaysInTheAccountsZone() {
        // Monday 2026-03-02 to Sunday 2026-03-08; weekdays only, at 08:00 and 19:00 Shanghai time.
        let schedule = LiveSchedule(id: "s", accountId: "a", title: "直播", weekdays: [1, 2, 3, 4, 5], times: [19 * 60, 8 * 60], durationMinutes: 90,
                                    reminderMinutes: 30, createdAt: 0)
        let week = (day("2026-03-02")...day("2026-03-08")).flatMap { schedule.lives(on: $0, startOfDay: calendar.startOfDay($0)) }
        #expect(week.count == 10)
        let first = week[0]
        #expect(first.startsAt == 1_772_409_600_000, "2026-03-02T00:00Z is 08:00 in Shanghai")
        #expect(first.endsAt - first.startsAt == 90 * 60_000 && first.remindAt == first.startsAt - 30 * 60_000)
        #expect(week[1].startsAt - first.startsAt == 11 * 3_600_000)
        #expect(Set(week.map(\.id)).count == 10, "each live has its own id, the same every time it is planned")
        #expect(LiveSchedule.minutes(of: "19:00") == 1_140 && LiveSchedule.minutes(of: "24:00") == nil && LiveSchedule.minutes(of: "7:00") == nil)
        #expect(LiveSchedule.text(ofMinutes: 8 * 60 + 5) == "08:05")
    }

    @Test func aViewerIsAnOldFanANewFanOrNotAFan() {
        let dayStart: Int64 = 1_000_000
        var fan = FanState(firstSeenThrough: FanEvent(id: "e", kind: .follow, openId: "f", occurredAt: 0, channel: .search))
        #expect(LiveAudience.of(fan, dayStart: dayStart) == .nonFan)
        fan.following = true
        fan.followedAt = dayStart - 1
        #expect(LiveAudience.of(fan, dayStart: dayStart) == .oldFan)
        fan.followedAt = dayStart
        #expect(LiveAudience.of(fan, dayStart: dayStart) == .newFan)
        var stats = LiveStats()
        stats.audiences[.oldFan, default: .init()].gmv = 59
        stats.audiences[.newFan, default: .init()].gmv = 24
        stats.audiences[.nonFan, default: .init()].gmv = 17
        #expect(stats.fanShareOfGMV == 0.83 && stats.oldFanShareOfGMV == 0.59)
    }
}
