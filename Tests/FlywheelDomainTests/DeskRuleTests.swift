import FlywheelDomain
import Foundation
import Testing

@Suite struct DeskRuleTests {
    let calendar = AccountCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
    /// 2026-03-06, a Friday, 17:50 in Shanghai.
    let fridayEvening: Int64 = 1_772_790_600_000

    @Test func aTargetCountsOnlyBusinessHours() {
        let weekdays = BusinessHours(days: [1, 2, 3, 4, 5], start: 9 * 60, end: 18 * 60)
        #expect(AccountCalendar.weekday(ofDay: calendar.day(ofMillis: fridayEvening)) == 5)
        #expect(weekdays.isOpen(at: fridayEvening, calendar))
        // 10 minutes on Friday, the other 20 from Monday 09:00.
        let due = weekdays.adding(minutes: 30, to: fridayEvening, calendar)
        let monday = calendar.startOfDay(calendar.day(ofMillis: fridayEvening) + 3)
        #expect(due == monday + (9 * 60 + 20) * 60_000)
        #expect(!weekdays.isOpen(at: monday + 8 * 3_600_000, calendar))
        // Asked before opening: the clock starts at opening.
        #expect(weekdays.adding(minutes: 30, to: monday + 8 * 3_600_000, calendar) == monday + (9 * 60 + 30) * 60_000)
        #expect(DeskSettings.standard.due(from: fridayEvening, first: true, calendar) == fridayEvening + 30 * 60_000, "always open by default")
        #expect(!BusinessHours(days: [], start: 0, end: 10).isValid && !BusinessHours(days: [1], start: 600, end: 600).isValid)
    }

    @Test func theHighestPriorityRuleThatMatchesAnswers() throws {
        func rule(_ id: String, _ trigger: AutoReplyRule.Trigger, _ priority: Int, _ hours: AutoReplyRule.Hours = .always) -> AutoReplyRule {
            AutoReplyRule(id: id, accountId: "a", name: id, trigger: trigger, priority: priority, hours: hours, reply: .text(id), enabled: true, createdAt: 1)
        }
        let replies = AutoReplies([rule("exact", .exact("价格"), 1), rule("contains", .contains("价"), 0), rule("regex", .regex("^\\d{11}$"), 5),
                                   rule("night", .contains("在吗"), 9, .outside), rule("welcome", .welcome, 0), rule("menu", .menu("预约看车"), 2)])
        #expect(replies.answer("预约看车", open: true)?.id == "menu", "a DM-menu item tapped comes as its label")
        #expect(replies.answer(" 价格 ", open: true)?.id == "exact")
        #expect(replies.answer("什么价位", open: true)?.id == "contains")
        #expect(replies.answer("13800138000", open: true)?.id == "regex")
        #expect(replies.answer("在吗", open: true) == nil && replies.answer("在吗", open: false)?.id == "night")
        #expect(replies.welcome(open: true)?.id == "welcome")
        #expect(throws: EventProblem.self) { try AutoReplyRule.Trigger(name: "regex", pattern: "([") }
        #expect(throws: EventProblem.self) { try AutoReplyRule.Trigger(name: "contains", pattern: " ") }
        #expect(throws: EventProblem.self) { try MessageContent(typeName: "text", text: String(repeating: "长", count: 501), ref: nil, field: "reply") }
        #expect(try MessageContent(typeName: "coupon", text: nil, ref: "act|meta", field: "reply") == .coupon(activityId: "act", couponMetaId: "meta"))
    }

    func message(_ text: String, at: Int64, author: MessageAuthor = .fan, id: String = UUID().uuidString) -> DeskMessage {
        DeskMessage(accountId: "a", openId: "fan", id: id, at: at, author: author, messageType: "text", text: text, platformId: "p-\(id)", status: .received)
    }

    @Test func aConversationWaitsForAPersonOnlyWhenNoRuleAnswers() {
        let none = AutoReplies([])
        let t = fridayEvening
        var outcome = DeskRule.receive(message("你好", at: t), nil, replies: none, settings: .standard, calendar: calendar, canSend: true)
        #expect(outcome.conversation.state == .queued && outcome.conversation.waitingSince == t && outcome.conversation.dueAt == t + 1_800_000)
        #expect(outcome.events.map(\.kind) == [.queued])
        // A second message while waiting keeps the first one's clock; the reply names the newest.
        outcome = DeskRule.receive(message("在吗", at: t + 60_000, id: "m2"), outcome.conversation, replies: none, settings: .standard, calendar: calendar, canSend: true)
        #expect(outcome.conversation.waitingSince == t && outcome.conversation.unread == 2 && outcome.conversation.replyTo == "p-m2")
        // An older message arriving late does not move what a reply names.
        outcome = DeskRule.receive(message("早", at: t - 60_000, id: "m0"), outcome.conversation, replies: none, settings: .standard, calendar: calendar, canSend: true)
        #expect(outcome.conversation.replyTo == "p-m2")
        // A person in the platform's app answers at 40 minutes: counted, and late.
        outcome = DeskRule.receive(message("您好", at: t + 2_400_000, author: .app), outcome.conversation, replies: none, settings: .standard, calendar: calendar,
                                   canSend: true)
        #expect(outcome.response == DeskResponse(accountId: "a", openId: "fan", answeredAt: t + 2_400_000, by: "app", first: true, waited: 2_400_000, withinTarget: false))
        #expect(outcome.conversation.waitingSince == nil && outcome.conversation.answered)
    }

    @Test func breachesAreRecordedOnceAndResolvesStopTheClock() throws {
        var c = Conversation(accountId: "a", openId: "fan", at: 0)
        c.state = .assigned
        c.assignee = "usr_1"
        c.waitingSince = 0
        c.dueAt = 100
        let breached = try #require(DeskRule.breach(c))
        #expect(breached.events.map(\.at) == [100] && breached.events.first?.agent == "usr_1")
        #expect(DeskRule.breach(breached.conversation) == nil)
        let resolved = DeskRule.resolve(breached.conversation, at: 200, by: "usr_1")
        #expect(resolved.conversation.state == .resolved && resolved.conversation.dueAt == nil && resolved.response == nil)
        let reopened = DeskRule.receive(message("还在吗", at: 300), resolved.conversation, replies: AutoReplies([]), settings: .standard, calendar: calendar,
                                        canSend: true)
        #expect(reopened.conversation.state == .assigned && reopened.events.map(\.kind) == [.reopened] && reopened.conversation.waitingSince == 300)
    }

    @Test func agentsTakeTurnsOrTheLeastLoadedTakesTheNext() {
        let agents = ["a", "b", "c"].map { Agent(userId: $0, name: $0, capacity: 2, accountIds: ["acc"], available: $0 != "c") }
        #expect(Agent.choose(agents, for: "acc", loads: [:], policy: .roundRobin, last: nil)?.userId == "a")
        #expect(Agent.choose(agents, for: "acc", loads: [:], policy: .roundRobin, last: "a")?.userId == "b")
        #expect(Agent.choose(agents, for: "acc", loads: [:], policy: .roundRobin, last: "b")?.userId == "a", "c is away: back to the first")
        #expect(Agent.choose(agents, for: "acc", loads: ["a": 1], policy: .leastLoaded, last: nil)?.userId == "b")
        #expect(Agent.choose(agents, for: "acc", loads: ["a": 2, "b": 2], policy: .roundRobin, last: nil) == nil, "nobody has room")
        #expect(Agent.choose(agents, for: "other", loads: [:], policy: .roundRobin, last: nil) == nil)
    }

    @Test func retriesWaitLongerEachTimeUpToFiveMinutes() {
        #expect(OutboxMessage.backoff(afterAttempts: 1, jitter: 0) == 500 && OutboxMessage.backoff(afterAttempts: 1, jitter: 1) == 1_000)
        #expect(OutboxMessage.backoff(afterAttempts: 4, jitter: 1) == 8_000)
        #expect(OutboxMessage.backoff(afterAttempts: 40, jitter: 1) == 300_000)
    }
}

@Suite struct LeadRuleTests {
    @Test func phonesAreComparedAsTheirDigits() {
        #expect(Phone.normalize("+86 138-0013-8000") == "13800138000")
        #expect(Phone.normalize("0086 13800138000") == "13800138000")
        #expect(Phone.normalize("138 0013 8000") == "13800138000")
        #expect(Phone.normalize("0857-8221234") == "08578221234")
        #expect(Phone.normalize("1380013800") == nil, "a mobile number one digit short")
        #expect(Phone.normalize("abc") == nil && Phone.normalize("") == nil && Phone.normalize("１３８") == nil)
    }

    @Test func leadsMoveForwardOrAreLostWithAReason() throws {
        let lead = Lead(id: "l", accountId: "a", openId: "f", name: nil, phone: "13800138000", city: nil, channel: .dm, domain: .private, campaign: nil, at: 0)
        let contacted = try lead.moved(to: .contacted, reason: nil, value: nil, at: 60_000)
        #expect(contacted.contactedAt == 60_000 && contacted.closedAt == nil)
        #expect(throws: EventProblem.self) { try contacted.moved(to: .new, reason: nil, value: nil, at: 1) }
        #expect(throws: EventProblem.self) { try contacted.moved(to: .lost, reason: " ", value: nil, at: 1) }
        let lost = try contacted.moved(to: .lost, reason: "bought elsewhere", value: nil, at: 120_000)
        #expect(lost.closedAt == 120_000 && lost.lostReason == "bought elsewhere" && lost.contactedAt == 60_000)
        let won = try lost.moved(to: .contacted, reason: nil, value: nil, at: 130_000).moved(to: .won, reason: nil, value: 15_800_000, at: 140_000)
        #expect(won.wonValue == 15_800_000 && won.lostReason == nil && won.closedAt == 140_000)
        #expect(throws: EventProblem.self) { try won.moved(to: .lost, reason: "x", value: nil, at: 1) }
        #expect(throws: EventProblem.self) { try contacted.moved(to: .won, reason: nil, value: -1, at: 1) }
    }
}
