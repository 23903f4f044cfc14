import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// The smart business system: goal → state → strategy → tasks → rewards (docs/operate.md). A goal
/// is a metric from the catalogue, a target, a deadline and a scope; its strategy is the
/// playbook's levers for that metric; its tasks are done by people or, for automatic actions,
/// by Flywheel; rewards are granted once, when a target is hit or a task is done.
public struct Goals: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    public struct Draft: Sendable {
        public var name: String
        public var metric: String
        public var target: Double
        public var deadline: Int64
        public var accountId: String?
        public var rewardPoints: Int?
        public var rewardUserId: String?
        /// Whether the playbook's levers become tasks at once.
        public var plan: Bool

        public init(name: String, metric: String, target: Double, deadline: Int64, accountId: String?, rewardPoints: Int?, rewardUserId: String?, plan: Bool) {
            self.name = name
            self.metric = metric
            self.target = target
            self.deadline = deadline
            self.accountId = accountId
            self.rewardPoints = rewardPoints
            self.rewardUserId = rewardUserId
            self.plan = plan
        }
    }

    /// A goal as the operator sees it: where it stands, the strategy, its tasks and rewards.
    public struct Detail: Sendable {
        public var goal: Goal
        public var progress: GoalProgress
        public var observations: [(day: Int, value: Double)]
        /// The playbook's levers for the metric; empty until the enterprise picks its industry.
        public var strategy: [Lever]
        public var industry: Industry?
        public var tasks: [GoalTask]
        public var rewards: [RewardGrant]
    }

    public static let horizon: Int64 = 366 * 86_400_000
    /// Points a task generated from the playbook is worth to its owner.
    public static let taskPoints = 10

    public func create(_ draft: Draft, tenantId: String?, reachable: [String], by caller: Principal) async throws -> (goal: Goal, tasks: [GoalTask]) {
        try caller.authorize(.createGoal)
        let tenantId = try Validate.tenant(tenantId, caller: caller, reachable: reachable)
        guard let tenant = try await env.store.tenant(id: tenantId) else { throw UseCaseError.notFound("tenant \(tenantId)") }
        let name = try Validate.trimmed(draft.name, field: "name", length: Goal.nameLength)
        guard let metric = GoalMetric(rawValue: draft.metric) else {
            throw UseCaseError.invalid(field: "metric", "'\(draft.metric)' is not one of \(GoalMetric.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard draft.target.isFinite, (0...metric.maxTarget).contains(draft.target) else {
            throw UseCaseError.invalid(field: "target", "must be 0 to \(Int(metric.maxTarget)) (\(metric.unit.rawValue))")
        }
        let now = env.now()
        guard draft.deadline > now, draft.deadline <= now + Self.horizon else { throw UseCaseError.invalid(field: "deadline", "must be after now and within a year") }
        let points = draft.rewardPoints ?? 0
        guard (0...Goal.maxRewardPoints).contains(points) else { throw UseCaseError.invalid(field: "rewardPoints", "must be 0 to \(Goal.maxRewardPoints)") }
        if let user = draft.rewardUserId, try await env.store.user(id: user, tenantIds: [tenantId]) == nil {
            throw UseCaseError.invalid(field: "rewardUserId", "no user '\(user)' in the enterprise")
        }
        let accounts = try await scope(accountId: draft.accountId, tenantId: tenantId)
        let baseline = try await value(metric, of: accounts, now: now)
        guard draft.target > baseline else {
            throw UseCaseError.invalid(field: "target", "the metric is \(Self.text(baseline)) already; set a target above it")
        }
        let goal = Goal(id: env.newId("goal"), tenantId: tenantId, accountId: draft.accountId, name: name, metric: metric, target: draft.target, baseline: baseline,
                        deadline: draft.deadline, rewardPoints: points, rewardUserId: draft.rewardUserId, createdAt: now)
        let owner = draft.rewardUserId ?? caller.userId
        let tasks = draft.plan ? (tenant.industry?.playbook.levers(for: metric) ?? []).enumerated().map { i, lever in
            GoalTask(id: env.newId("task"), goalId: goal.id, title: Self.title(of: lever.action), action: lever.action, reason: lever.reason, owner: owner,
                     // Automatic changes first, then a week a person's task, within the deadline.
                     dueAt: min(goal.deadline, now + (lever.action.isAutomatic ? 1 : Int64(i + 1) * 7) * 86_400_000), points: Self.taskPoints,
                     metricAtStart: baseline, createdAt: now)
        } : []
        try await env.store.createGoal(goal, tasks: tasks, audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "goal.create", target: goal.id, detail: name))
        try await env.store.observe(goal, day: try await calendar(of: goal).day(ofMillis: now), value: baseline, at: now)
        return (goal, tasks)
    }

    /// A metric's value now over an account or the enterprise's matrix: where a new goal would start.
    public func current(_ metric: GoalMetric, accountId: String?, tenantId: String?, reachable: [String], by caller: Principal) async throws -> Double {
        try caller.authorize(.readGoal)
        let tenantId = try Validate.tenant(tenantId, caller: caller, reachable: reachable)
        return try await value(metric, of: try await scope(accountId: accountId, tenantId: tenantId), now: env.now())
    }

    static func text(_ value: Double) -> String { value == value.rounded() ? String(format: "%.0f", value) : String(format: "%.2f", value) }

    /// What a task generated from a lever is called.
    public static func title(of action: TaskAction) -> String {
        switch action {
        case .manual(let text): text
        case .groupThreshold(let threshold): "Set the fan groups' entry threshold to \(threshold)"
        case .liveSchedule(let hours): "Schedule a daily live at \(hours.map { String(format: "%02d:00", $0) }.joined(separator: " and "))"
        case .welcomeReply: "Set the DM welcome reply"
        }
    }

    public func list(tenantId: String?, reachable: [String], by caller: Principal) async throws -> [(goal: Goal, progress: GoalProgress)] {
        try caller.authorize(.listGoals)
        let tenantId = try Validate.tenant(tenantId, caller: caller, reachable: reachable)
        var out: [(goal: Goal, progress: GoalProgress)] = []
        for goal in try await env.store.goals(tenantId: tenantId) { out.append((goal, try await progress(of: goal))) }
        return out
    }

    public func read(_ id: String, tenantId: String?, reachable: [String], by caller: Principal) async throws -> Detail {
        try caller.authorize(.readGoal)
        let goal = try await existing(id, tenantId: try Validate.tenant(tenantId, caller: caller, reachable: reachable))
        let industry = try await env.store.tenant(id: goal.tenantId)?.industry
        return Detail(goal: goal, progress: try await progress(of: goal), observations: try await env.store.observations(of: goal),
                      strategy: industry?.playbook.levers(for: goal.metric) ?? [], industry: industry,
                      tasks: try await env.store.tasks(tenantId: goal.tenantId, goalId: goal.id),
                      rewards: try await env.store.rewards(tenantId: goal.tenantId, since: 0).filter { $0.goalId == goal.id })
    }

    public func cancel(_ id: String, tenantId: String?, reachable: [String], by caller: Principal) async throws -> Goal {
        try caller.authorize(.cancelGoal)
        var goal = try await existing(id, tenantId: try Validate.tenant(tenantId, caller: caller, reachable: reachable))
        guard try await env.store.endGoal(goal, state: .cancelled, at: env.now(), grant: nil,
                                          audit: env.audit(tenantId: goal.tenantId, actor: caller.actor, action: "goal.cancel", target: goal.id)) else {
            throw UseCaseError.conflict(code: "ended", "the goal is \(goal.state.rawValue) already")
        }
        goal.state = .cancelled
        return goal
    }

    public struct TaskDraft: Sendable {
        public var title: String
        public var reason: String?
        public var owner: String?
        public var dueAt: Int64
        public var points: Int?
        /// `manual` (the default) or an automatic action's kind, with its detail.
        public var action: String?
        public var detail: String?

        public init(title: String, reason: String?, owner: String?, dueAt: Int64, points: Int?, action: String?, detail: String?) {
            self.title = title
            self.reason = reason
            self.owner = owner
            self.dueAt = dueAt
            self.points = points
            self.action = action
            self.detail = detail
        }
    }

    public func addTask(_ draft: TaskDraft, to goalId: String, tenantId: String?, reachable: [String], by caller: Principal) async throws -> GoalTask {
        try caller.authorize(.createTask)
        let goal = try await existing(goalId, tenantId: try Validate.tenant(tenantId, caller: caller, reachable: reachable))
        guard goal.state == .active else { throw UseCaseError.conflict(code: "ended", "the goal is \(goal.state.rawValue); tasks go to active goals") }
        let title = try Validate.trimmed(draft.title, field: "title", length: GoalTask.titleLength)
        let kind = draft.action ?? "manual"
        guard let action = TaskAction(kind: kind, detail: kind == "manual" ? title : draft.detail ?? "") else {
            throw UseCaseError.invalid(field: kind == "live_schedule" ? "detail" : "action",
                                       "must be manual, group_threshold (detail: a predicate), live_schedule (detail: hours such as 8,19) or welcome_reply (detail: the text)")
        }
        switch action {
        case .groupThreshold(let threshold): _ = try Validate.predicate(threshold, field: "detail", example: "level >= 9")
        case .welcomeReply(let text): _ = try Validate.trimmed(text, field: "detail", length: 1...500)
        case .manual, .liveSchedule: break
        }
        let now = env.now()
        guard draft.dueAt > now - 86_400_000, draft.dueAt <= now + Self.horizon else { throw UseCaseError.invalid(field: "dueAt", "must be from today to a year ahead") }
        let points = draft.points ?? Self.taskPoints
        guard (0...GoalTask.maxPoints).contains(points) else { throw UseCaseError.invalid(field: "points", "must be 0 to \(GoalTask.maxPoints)") }
        if let owner = draft.owner, try await env.store.user(id: owner, tenantIds: [goal.tenantId]) == nil {
            throw UseCaseError.invalid(field: "owner", "no user '\(owner)' in the enterprise")
        }
        let reason = try Validate.trimmed(draft.reason ?? "set by \(caller.actor)", field: "reason", length: 1...500)
        let task = GoalTask(id: env.newId("task"), goalId: goal.id, title: title, action: action, reason: reason, owner: draft.owner ?? caller.userId,
                            dueAt: draft.dueAt, points: points, metricAtStart: try await value(goal.metric, of: try await scope(of: goal), now: now), createdAt: now)
        try await env.store.addTask(task, tenantId: goal.tenantId, audit: env.audit(tenantId: goal.tenantId, actor: caller.actor, action: "task.create", target: task.id, detail: title))
        return task
    }

    public func tasks(tenantId: String?, goalId: String?, state: String?, reachable: [String], by caller: Principal) async throws -> [GoalTask] {
        try caller.authorize(.listTasks)
        let tenantId = try Validate.tenant(tenantId, caller: caller, reachable: reachable)
        var wanted: TaskState?
        if let state {
            guard let s = TaskState(rawValue: state) else { throw UseCaseError.invalid(field: "state", "must be open, done, failed or cancelled") }
            wanted = s
        }
        return try await env.store.tasks(tenantId: tenantId, goalId: goalId).filter { wanted == nil || $0.state == wanted }
    }

    /// Marks a person's task done with their note; an automatic task is done by doing its action
    /// now, with the caller's rights, over the goal's accounts. The owner's points are granted once.
    public func complete(_ taskId: String, note: String?, tenantId: String?, reachable: [String], by caller: Principal) async throws -> GoalTask {
        try caller.authorize(.completeTask)
        let tenantId = try Validate.tenant(tenantId, caller: caller, reachable: reachable)
        guard var task = try await env.store.task(taskId, tenantId: tenantId) else { throw UseCaseError.notFound("task \(taskId)") }
        guard task.state == .open else { throw UseCaseError.conflict(code: "ended", "the task is \(task.state.rawValue) already") }
        let goal = try await existing(task.goalId, tenantId: tenantId)
        let accounts = try await scope(of: goal)
        let result = try await perform(task.action, on: accounts, by: caller)
        let now = env.now()
        task.state = .done
        task.result = try note.map { try Validate.trimmed($0, field: "note", length: 1...1_000) } ?? result
        task.doneAt = now
        task.metricAtDone = try await value(goal.metric, of: accounts, now: now)
        let grant = task.points > 0 ? RewardGrant(id: env.newId("rwd"), goalId: goal.id, taskId: task.id, userId: task.owner, points: task.points,
                                                  reason: "task done: \(task.title)", grantedAt: now) : nil
        guard try await env.store.finishTask(task, tenantId: tenantId, grant: grant,
                                             audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "task.complete", target: task.id)) else {
            throw UseCaseError.conflict(code: "ended", "the task ended meanwhile")
        }
        return task
    }

    public func cancelTask(_ taskId: String, tenantId: String?, reachable: [String], by caller: Principal) async throws -> GoalTask {
        try caller.authorize(.cancelTask)
        let tenantId = try Validate.tenant(tenantId, caller: caller, reachable: reachable)
        guard var task = try await env.store.task(taskId, tenantId: tenantId) else { throw UseCaseError.notFound("task \(taskId)") }
        task.state = .cancelled
        task.doneAt = env.now()
        guard try await env.store.finishTask(task, tenantId: tenantId, grant: nil,
                                             audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "task.cancel", target: task.id)) else {
            throw UseCaseError.conflict(code: "ended", "the task has ended already")
        }
        return task
    }

    public func rewards(tenantId: String?, days: Int, reachable: [String], by caller: Principal) async throws -> [RewardGrant] {
        try caller.authorize(.listRewards)
        guard (1...366).contains(days) else { throw UseCaseError.invalid(field: "days", "must be 1 to 366") }
        return try await env.store.rewards(tenantId: try Validate.tenant(tenantId, caller: caller, reachable: reachable), since: env.now() - Int64(days) * 86_400_000)
    }

    /// An automatic action done through the use cases that own it (each authorizes the caller);
    /// what it did, in words.
    func perform(_ action: TaskAction, on accounts: [Account], by caller: Principal) async throws -> String {
        switch action {
        case .manual:
            return "done"
        case .groupThreshold(let threshold):
            var groups = 0, changed = 0
            for account in accounts {
                for group in try await Groups(flywheel).list(of: account, by: caller) where group.state != .failed {
                    groups += 1
                    guard group.threshold != threshold else { continue }
                    _ = try await Groups(flywheel).change(group.id, Groups.Settings(threshold: .some(threshold)), of: account, by: caller)
                    changed += 1
                }
            }
            // A threshold with no group to hold it moves nothing: the task stays open.
            guard groups > 0 else {
                throw UseCaseError.conflict(code: "no_groups", "there is no fan group to set the threshold on; create one (POST /v1/accounts/{id}/groups), then mark the task done")
            }
            return "threshold \(threshold) set on \(changed) of \(groups) fan group(s)"
        case .liveSchedule(let hours):
            for account in accounts {
                _ = try await Lives(flywheel).create(Lives.Plan(title: "Daily live", weekdays: nil, times: hours.map { String(format: "%02d:00", $0) }, startsAt: nil,
                                                                durationMinutes: nil, reminderMinutes: nil), of: account, by: caller)
            }
            return "daily lives scheduled on \(accounts.count) account(s)"
        case .welcomeReply(let text):
            for account in accounts {
                _ = try await DeskSetup(flywheel).createAutoReply(name: "Welcome (playbook)", trigger: "welcome", pattern: nil, priority: 100, hours: nil,
                                                                  reply: .text(text), enabled: true, of: account, by: caller)
            }
            return "welcome reply set on \(accounts.count) account(s)"
        }
    }

    // MARK: The metric and the watch

    /// Observes every active goal's metric (one value a day, the latest kept) and ends the goals
    /// that hit their target (granting the reward, once) or passed their deadline. Returns how
    /// many goals it looked at.
    public func watch() async throws -> Int {
        let goals = try await env.store.activeGoals(limit: 1_000)
        for goal in goals {
            let now = env.now()
            let current = try await value(goal.metric, of: try await scope(of: goal), now: now)
            try await env.store.observe(goal, day: try await calendar(of: goal).day(ofMillis: now), value: current, at: now)
            if current >= goal.target {
                let grant = goal.rewardPoints > 0 ? RewardGrant(id: env.newId("rwd"), goalId: goal.id, taskId: nil, userId: goal.rewardUserId, points: goal.rewardPoints,
                                                                reason: "goal hit: \(goal.name)", grantedAt: now) : nil
                _ = try await env.store.endGoal(goal, state: .achieved, at: now, grant: grant,
                                                audit: env.audit(tenantId: goal.tenantId, actor: "flywheel", action: "goal.achieve", target: goal.id))
            } else if now > goal.deadline {
                _ = try await env.store.endGoal(goal, state: .missed, at: now, grant: nil,
                                                audit: env.audit(tenantId: goal.tenantId, actor: "flywheel", action: "goal.miss", target: goal.id))
            }
        }
        return goals.count
    }

    /// Where the goal stands now (its metric read afresh while it is active).
    public func progress(of goal: Goal) async throws -> GoalProgress {
        let now = env.now()
        let calendar = try await calendar(of: goal)
        let observations = try await env.store.observations(of: goal)
        let current = goal.state == .active ? try await value(goal.metric, of: try await scope(of: goal), now: now) : observations.last?.value ?? goal.baseline
        return GoalProgress.assess(goal, current: current, observations: observations, today: calendar.day(ofMillis: now),
                                   deadlineDay: calendar.day(ofMillis: goal.deadline))
    }

    func existing(_ id: String, tenantId: String) async throws -> Goal {
        guard let goal = try await env.store.goal(id, tenantId: tenantId) else { throw UseCaseError.notFound("goal \(id)") }
        return goal
    }

    func scope(of goal: Goal) async throws -> [Account] { try await scope(accountId: goal.accountId, tenantId: goal.tenantId) }

    func scope(accountId: String?, tenantId: String) async throws -> [Account] {
        if let accountId {
            guard let account = try await env.store.account(id: accountId, tenantIds: [tenantId]) else {
                throw UseCaseError.invalid(field: "accountId", "no account '\(accountId)' in the enterprise")
            }
            return [account]
        }
        return try await env.store.accounts(tenantIds: [tenantId])
    }

    /// Days of a goal are its first account's.
    func calendar(of goal: Goal) async throws -> AccountCalendar {
        try await scope(of: goal).first?.calendar ?? AccountCalendar(timeZone: TimeZone(identifier: AccountCalendar.defaultTimeZone) ?? .gmt)
    }

    /// The metric over `accounts` now (docs/operate.md gives each definition).
    func value(_ metric: GoalMetric, of accounts: [Account], now: Int64) async throws -> Double {
        func counts(_ texts: [String]) async throws -> [Int] {
            let predicates = try texts.map { try FanPredicate.parse($0) }
            var sums = [Int](repeating: 0, count: texts.count)
            for account in accounts {
                for (i, n) in try await flywheel.fanScan.counts(predicates, of: account, now: now).enumerated() { sums[i] += n }
            }
            return sums
        }
        func percent(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : 100 * Double(part) / Double(whole) }
        let month: Int64 = 30 * 86_400_000
        switch metric {
        case .trueLoveShare:
            let c = try await counts(["following and tier = true_love", "following"])
            return percent(c[0], c[1])
        case .groupRepurchase:
            let c = try await counts(["group_joins >= 1 and orders >= 2", "group_joins >= 1 and orders >= 1"])
            return percent(c[0], c[1])
        case .followers:
            return Double(try await counts(["following"])[0])
        case .leads30d:
            var leads = 0
            for account in accounts {
                let today = account.calendar.day(ofMillis: now)
                leads += try await env.store.indicatorDays(of: account, days: today - 29...today).reduce(0) { $0 + $1.leads }
            }
            return Double(leads)
        case .dmSLAShare:
            let responses = try await env.store.deskResponses(of: accounts, from: now - month, to: now + 1)
            return percent(responses.count { $0.withinTarget }, responses.count)
        case .gmvFromFans:
            let sales = try await GMVReports(flywheel).sales(of: accounts, from: now - month, to: now, windowDays: 7)
            return Double(GMVReport.make(sales, coupons: [], from: now - month, to: now, cut: now - month, windowDays: 7).fans.gmv)
        case .popularity, .business:
            let last = try await Indicators(flywheel).report(of: accounts, days: IndicatorValues.window + 1).total.values.last
            return metric == .popularity ? last?.popularity ?? 0 : last?.business ?? 0
        }
    }
}
