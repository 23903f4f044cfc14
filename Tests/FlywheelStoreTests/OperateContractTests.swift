import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// The operate context, method by method, on both stores: the industry and its rules, the
/// indicators' daily inputs, goals, tasks, observations and rewards each ended or granted once.
@Suite struct OperateContractTests {
    @Test(arguments: StoreKind.allCases) func anIndustryGivesItsAccountsThePlaybooksRules(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        #expect(try await f.store.rules(of: f.account).rules == .standard)
        let audit = f.env.audit(tenantId: f.account.tenantId, actor: "t", action: "playbook.adopt", target: f.account.tenantId)
        #expect(try await f.store.adoptIndustry(.lowFrequencyOffline, tenantId: f.account.tenantId, audit: audit) == 1)
        let rules = try await f.store.rules(of: f.account)
        #expect(rules.rules == Industry.lowFrequencyOffline.playbook.rules && rules.version == 1)
        #expect(try await f.store.tenant(id: f.account.tenantId)?.industry == .lowFrequencyOffline)
        await #expect(throws: StoreError.self) { _ = try await f.store.adoptIndustry(.lowFrequencyOffline, tenantId: "ten_none", audit: audit) }
    }

    @Test(arguments: StoreKind.allCases) func indicatorDaysCountTheLogDayByDay(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let calendar = f.account.calendar
        let day = calendar.day(ofMillis: 1_767_225_600_000)
        let t = calendar.startOfDay(day) + 3_600_000, next = t + 86_400_000
        let events = [FanEvent(id: "1", kind: .follow, openId: "a", occurredAt: t, channel: .search),
                      FanEvent(id: "2", kind: .videoView, openId: "a", occurredAt: t, channel: .search),
                      FanEvent(id: "3", kind: .follow, openId: "b", occurredAt: next, channel: .search),
                      FanEvent(id: "4", kind: .orderPaid, openId: "b", occurredAt: next, channel: .search, amount: 500, ref: "o1"),
                      FanEvent(id: "5", kind: .orderPaid, openId: "b", occurredAt: next + 1, channel: .search, amount: 300, ref: "o2")]
        _ = try await f.store.append(f.events(events)) { _ in }
        await Projector(f.env, batchSize: 100).drain()
        let days = try await f.store.indicatorDays(of: f.account, days: day...day + 1)
        #expect(days.map(\.followers) == [1, 2] && days.map(\.follows) == [1, 1] && days.map(\.views) == [1, 0])
        #expect(days[1].orders == 2 && days[1].repeatOrders == 1 && days[1].gmv == 800)
    }

    @Test(arguments: StoreKind.allCases) func aGoalEndsOnceAndATaskIsFinishedOnce(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let tenant = f.account.tenantId
        var audit: AuditEntry { f.env.audit(tenantId: tenant, actor: "t", action: "x", target: "g") }
        let goal = Goal(id: "goal-1", tenantId: tenant, accountId: f.account.id, name: "more true love", metric: .trueLoveShare, target: 25.5, baseline: 10.125,
                        deadline: 2_000, rewardPoints: 100, rewardUserId: "u1", createdAt: 1_000)
        let task = GoalTask(id: "task-1", goalId: "goal-1", title: "threshold", action: .groupThreshold("level >= 3"), reason: "r", owner: "u1", dueAt: 1_500,
                            points: 10, metricAtStart: 10.125, createdAt: 1_000)
        try await f.store.createGoal(goal, tasks: [task], audit: audit)
        #expect(try await f.store.goals(tenantId: tenant) == [goal])
        #expect(try await f.store.goal("goal-1", tenantId: tenant) == goal)
        #expect(try await f.store.goal("goal-1", tenantId: "other") == nil)
        #expect(try await f.store.activeGoals(limit: 10).map(\.id).contains("goal-1"))
        var manual = GoalTask(id: "task-2", goalId: "goal-1", title: "call", action: .manual("call"), reason: "r", owner: nil, dueAt: 1_600, points: 0,
                              metricAtStart: 11, createdAt: 1_100)
        try await f.store.addTask(manual, tenantId: tenant, audit: audit)
        #expect(try await f.store.tasks(tenantId: tenant, goalId: "goal-1") == [task, manual])
        try await f.store.observe(goal, day: 7, value: 12.5, at: 1_200)
        try await f.store.observe(goal, day: 7, value: 13.25, at: 1_300)
        try await f.store.observe(goal, day: 8, value: 14, at: 1_400)
        #expect(try await f.store.observations(of: goal).map { "\($0.day):\($0.value)" } == ["7:13.25", "8:14.0"])

        var done = task
        done.state = .done; done.doneAt = 1_450; done.metricAtDone = 14; done.result = "set on 1 group"
        let grant = RewardGrant(id: "rwd-1", goalId: "goal-1", taskId: "task-1", userId: "u1", points: 10, reason: "task done", grantedAt: 1_450)
        #expect(try await f.store.finishTask(done, tenantId: tenant, grant: grant, audit: audit))
        #expect(try await !f.store.finishTask(done, tenantId: tenant, grant: RewardGrant(id: "rwd-2", goalId: "goal-1", taskId: "task-1", userId: "u1", points: 10,
                                                                                        reason: "again", grantedAt: 1_460), audit: audit))
        #expect(try await f.store.task("task-1", tenantId: tenant) == done)
        manual.state = .cancelled
        #expect(try await f.store.finishTask(manual, tenantId: tenant, grant: nil, audit: audit))

        let hit = RewardGrant(id: "rwd-3", goalId: "goal-1", taskId: nil, userId: "u1", points: 100, reason: "goal hit", grantedAt: 1_500)
        #expect(try await f.store.endGoal(goal, state: .achieved, at: 1_500, grant: hit, audit: audit))
        #expect(try await !f.store.endGoal(goal, state: .missed, at: 1_600, grant: nil, audit: audit))
        #expect(try await f.store.goal("goal-1", tenantId: tenant)?.state == .achieved)
        #expect(try await !f.store.activeGoals(limit: 10).map(\.id).contains("goal-1"))
        #expect(try await f.store.rewards(tenantId: tenant, since: 0).map(\.id) == ["rwd-3", "rwd-1"])
    }
}
