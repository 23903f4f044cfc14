import FlywheelDomain
import Foundation

/// Operating the flywheel: the enterprise's industry, the indicators' daily inputs, goals with
/// their tasks and observations, and the rewards granted to staff.
public protocol OperateStore: Sendable {
    /// Sets the enterprise's industry and puts each of its accounts back on the playbook's rules
    /// (rules of their own dropped; the projector re-evaluates every fan). Returns the accounts.
    func adoptIndustry(_ industry: Industry, tenantId: String, audit: AuditEntry) async throws -> Int
    /// One entry a day of `days` (the account's calendar), zeros where nothing happened.
    func indicatorDays(of account: Account, days: ClosedRange<Int>) async throws -> [IndicatorDay]

    func createGoal(_ goal: Goal, tasks: [GoalTask], audit: AuditEntry) async throws
    func goals(tenantId: String) async throws -> [Goal]
    func goal(_ id: String, tenantId: String) async throws -> Goal?
    /// Active goals of every tenant, for the watch.
    func activeGoals(limit: Int) async throws -> [Goal]
    /// The day's value, replacing an earlier one of the same day.
    func observe(_ goal: Goal, day: Int, value: Double, at: Int64) async throws
    func observations(of goal: Goal) async throws -> [(day: Int, value: Double)]
    /// Ends an active goal (achieved, missed or cancelled) with its reward, once: false when it
    /// had ended already.
    func endGoal(_ goal: Goal, state: GoalState, at: Int64, grant: RewardGrant?, audit: AuditEntry) async throws -> Bool

    func tasks(tenantId: String, goalId: String?) async throws -> [GoalTask]
    func task(_ id: String, tenantId: String) async throws -> GoalTask?
    func addTask(_ task: GoalTask, tenantId: String, audit: AuditEntry) async throws
    /// Records how an open task ended, granting its points when done, once: false when it had
    /// ended already.
    func finishTask(_ task: GoalTask, tenantId: String, grant: RewardGrant?, audit: AuditEntry) async throws -> Bool
    /// Granted since `since`, newest first.
    func rewards(tenantId: String, since: Int64) async throws -> [RewardGrant]
}

/// The operate context, written once for both databases.
extension OperateStore where Self: SQLStore {
    public func adoptIndustry(_ industry: Industry, tenantId: String, audit: AuditEntry) async throws -> Int {
        let rows = try await runner.transaction([
            .require(SQLStatement("UPDATE tenants SET industry = ? WHERE tenant_id = ? RETURNING tenant_id",
                                  [.text(industry.rawValue), .text(tenantId)]), orElse: .notFound("tenant \(tenantId)")),
            .execute(TenancyRows.record(audit)),
            .execute(SQLStatement("UPDATE accounts SET rules = NULL, rules_version = rules_version + 1 WHERE tenant_id = ? RETURNING account_id", [.text(tenantId)])),
        ])
        return rows.count
    }

    public func indicatorDays(of account: Account, days: ClosedRange<Int>) async throws -> [IndicatorDay] {
        let calendar = account.calendar
        let key: [Cell] = [.text(account.tenantId), .text(account.id)]
        let start = calendar.startOfDay(days.lowerBound), end = calendar.startOfDay(days.upperBound + 1)
        var byDay = Dictionary(uniqueKeysWithValues: days.map { ($0, IndicatorDay(day: $0)) })
        func add(at time: Int64, _ change: (inout IndicatorDay) -> Void) {
            let day = calendar.day(ofMillis: time)
            if byDay[day] != nil { change(&byDay[day]!) }
        }
        for row in try await runner.query(SQLStatement("""
            SELECT day, views, watch_minutes, interactions, follows, unfollows FROM popularity_daily
            WHERE tenant_id = ? AND account_id = ? AND day BETWEEN ? AND ?
            """, key + [.int(Int64(days.lowerBound)), .int(Int64(days.upperBound))])) {
            let day = Int(try row.int("day"))
            byDay[day]?.views = Int(try row.int("views"))
            byDay[day]?.watchMinutes = Int(try row.int("watch_minutes"))
            byDay[day]?.interactions = Int(try row.int("interactions"))
            byDay[day]?.follows = Int(try row.int("follows"))
            byDay[day]?.unfollows = Int(try row.int("unfollows"))
        }
        for row in try await runner.query(SQLStatement("""
            SELECT o.paid_at, o.amount_fen, CASE WHEN EXISTS (SELECT 1 FROM orders p WHERE p.tenant_id = o.tenant_id AND p.account_id = o.account_id
              AND p.open_id = o.open_id AND p.paid_at < o.paid_at) THEN 1 ELSE 0 END AS repeat_order
            FROM orders o WHERE o.tenant_id = ? AND o.account_id = ? AND o.paid_at >= ? AND o.paid_at < ?
            """, key + [.int(start), .int(end)])) {
            let amount = try row.int("amount_fen"), repeated = try row.int("repeat_order") == 1
            add(at: try row.int("paid_at")) { $0.orders += 1; $0.gmv = $0.gmv.saturatingAdd(amount); if repeated { $0.repeatOrders += 1 } }
        }
        for row in try await runner.query(SQLStatement("""
            SELECT refunded_at, amount_fen FROM order_refunds WHERE tenant_id = ? AND account_id = ? AND refunded_at >= ? AND refunded_at < ?
            """, key + [.int(start), .int(end)])) {
            let amount = try row.int("amount_fen")
            add(at: try row.int("refunded_at")) { $0.gmv = $0.gmv.saturatingSubtract(amount) }
        }
        for row in try await runner.query(SQLStatement("""
            SELECT created_at FROM leads WHERE tenant_id = ? AND created_at >= ? AND created_at < ? AND account_id = ?
            """, [.text(account.tenantId), .int(start), .int(end), .text(account.id)])) {
            add(at: try row.int("created_at")) { $0.leads += 1 }
        }
        // Followers and engaged fans at the end of each day: today's counts, walked back through
        // the tier flows of the days after it.
        var tiers = [Int](repeating: 0, count: Tier.allCases.count)
        for row in try await runner.query(SQLStatement("SELECT tier, COUNT(*) AS n FROM fans WHERE tenant_id = ? AND account_id = ? GROUP BY tier", key)) {
            let tier = Int(try row.int("tier"))
            if tiers.indices.contains(tier) { tiers[tier] = Int(try row.int("n")) }
        }
        var flows: [Int: [(from: Int, to: Int, fans: Int)]] = [:]
        for row in try await runner.query(SQLStatement("""
            SELECT day, from_tier, to_tier, CAST(SUM(fans) AS BIGINT) AS n FROM tier_flow_daily WHERE tenant_id = ? AND account_id = ? AND day > ?
            GROUP BY day, from_tier, to_tier
            """, key + [.int(Int64(days.lowerBound))])) {
            flows[Int(try row.int("day")), default: []].append((Int(try row.int("from_tier")), Int(try row.int("to_tier")), Int(try row.int("n"))))
        }
        let last = max(days.upperBound, flows.keys.max() ?? days.upperBound)
        for day in stride(from: last, through: days.lowerBound, by: -1) {
            if days.contains(day) {
                byDay[day]?.followers = tiers[Tier.passerby.rawValue...].reduce(0, +)
                byDay[day]?.engaged = tiers[Tier.liking.rawValue...].reduce(0, +)
            }
            // Undo the day's moves to get the end of the day before.
            for f in flows[day] ?? [] {
                if tiers.indices.contains(f.to) { tiers[f.to] = max(0, tiers[f.to] - f.fans) }
                if tiers.indices.contains(f.from) { tiers[f.from] += f.fans }
            }
        }
        return days.compactMap { byDay[$0] }
    }

    public func createGoal(_ goal: Goal, tasks: [GoalTask], audit: AuditEntry) async throws {
        try await runner.transaction([.execute(OperateRows.insert(goal))] + tasks.map { .execute(OperateRows.insert($0, tenantId: goal.tenantId)) }
                                     + [.execute(TenancyRows.record(audit))])
    }

    public func goals(tenantId: String) async throws -> [Goal] {
        try await runner.query(SQLStatement("SELECT \(OperateRows.goalColumns) FROM goals WHERE tenant_id = ? ORDER BY created_at DESC, goal_id",
                                            [.text(tenantId)])).map(OperateRows.goal)
    }

    public func goal(_ id: String, tenantId: String) async throws -> Goal? {
        try await runner.query(SQLStatement("SELECT \(OperateRows.goalColumns) FROM goals WHERE tenant_id = ? AND goal_id = ?",
                                            [.text(tenantId), .text(id)])).first.map(OperateRows.goal)
    }

    public func activeGoals(limit: Int) async throws -> [Goal] {
        try await runner.query(SQLStatement("SELECT \(OperateRows.goalColumns) FROM goals WHERE state = 'active' ORDER BY tenant_id, goal_id LIMIT ?",
                                            [.int(Int64(limit))])).map(OperateRows.goal)
    }

    public func observe(_ goal: Goal, day: Int, value: Double, at: Int64) async throws {
        try await runner.transaction([.execute(SQLStatement("""
            INSERT INTO goal_observations (tenant_id, goal_id, day, value_milli, observed_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (tenant_id, goal_id, day) DO UPDATE SET value_milli = excluded.value_milli, observed_at = excluded.observed_at
            """, [.text(goal.tenantId), .text(goal.id), .int(Int64(day)), .int(OperateRows.milli(value)), .int(at)]))])
    }

    public func observations(of goal: Goal) async throws -> [(day: Int, value: Double)] {
        try await runner.query(SQLStatement("SELECT day, value_milli FROM goal_observations WHERE tenant_id = ? AND goal_id = ? ORDER BY day",
                                            [.text(goal.tenantId), .text(goal.id)])).map { (Int(try $0.int("day")), OperateRows.value(try $0.int("value_milli"))) }
    }

    public func endGoal(_ goal: Goal, state: GoalState, at: Int64, grant: RewardGrant?, audit: AuditEntry) async throws -> Bool {
        do {
            try await runner.transaction([
                .require(SQLStatement("""
                    UPDATE goals SET state = ?, achieved_at = ? WHERE tenant_id = ? AND goal_id = ? AND state = 'active' RETURNING goal_id
                    """, [.text(state.rawValue), state == .achieved ? .int(at) : .null, .text(goal.tenantId), .text(goal.id)]), orElse: .conflict(field: "state", "the goal has ended")),
                .execute(TenancyRows.record(audit)),
            ] + (grant.map { [.execute(OperateRows.insert($0, tenantId: goal.tenantId))] } ?? []))
            return true
        } catch StoreError.conflict(field: "state", _) {
            return false
        }
    }

    public func tasks(tenantId: String, goalId: String?) async throws -> [GoalTask] {
        try await runner.query(SQLStatement("""
            SELECT \(OperateRows.taskColumns) FROM goal_tasks WHERE tenant_id = ?\(goalId == nil ? "" : " AND goal_id = ?") ORDER BY due_at, task_id
            """, [.text(tenantId)] + (goalId.map { [Cell.text($0)] } ?? []))).compactMap(OperateRows.task)
    }

    public func task(_ id: String, tenantId: String) async throws -> GoalTask? {
        try await runner.query(SQLStatement("SELECT \(OperateRows.taskColumns) FROM goal_tasks WHERE tenant_id = ? AND task_id = ?",
                                            [.text(tenantId), .text(id)])).first.flatMap(OperateRows.task)
    }

    public func addTask(_ task: GoalTask, tenantId: String, audit: AuditEntry) async throws {
        try await runner.transaction([
            .require(SQLStatement("SELECT 1 FROM goals WHERE tenant_id = ? AND goal_id = ?", [.text(tenantId), .text(task.goalId)]), orElse: .notFound("goal \(task.goalId)")),
            .execute(OperateRows.insert(task, tenantId: tenantId)),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func finishTask(_ task: GoalTask, tenantId: String, grant: RewardGrant?, audit: AuditEntry) async throws -> Bool {
        do {
            try await runner.transaction([
                .require(SQLStatement("""
                    UPDATE goal_tasks SET state = ?, result = ?, metric_at_done_milli = ?, done_at = ?
                    WHERE tenant_id = ? AND task_id = ? AND state = 'open' RETURNING task_id
                    """, [.text(task.state.rawValue), .nullable(task.result), task.metricAtDone.map { .int(OperateRows.milli($0)) } ?? .null, .nullable(task.doneAt),
                          .text(tenantId), .text(task.id)]), orElse: .conflict(field: "state", "the task has ended")),
                .execute(TenancyRows.record(audit)),
            ] + (grant.map { [.execute(OperateRows.insert($0, tenantId: tenantId))] } ?? []))
            return true
        } catch StoreError.conflict(field: "state", _) {
            return false
        }
    }

    public func rewards(tenantId: String, since: Int64) async throws -> [RewardGrant] {
        try await runner.query(SQLStatement("""
            SELECT grant_id, goal_id, task_id, user_id, points, reason, granted_at FROM reward_grants WHERE tenant_id = ? AND granted_at >= ?
            ORDER BY granted_at DESC, grant_id
            """, [.text(tenantId), .int(since)])).map {
            RewardGrant(id: try $0.text("grant_id"), goalId: try $0.text("goal_id"), taskId: $0.optionalText("task_id"), userId: $0.optionalText("user_id"),
                        points: Int(try $0.int("points")), reason: try $0.text("reason"), grantedAt: try $0.int("granted_at"))
        }
    }
}

/// The popularity value's inputs of a batch, a row a day added to what the day had.
public struct PopularityWrite: StatementWrite {
    public var days: [Int: (views: Int, watchMinutes: Int, interactions: Int, follows: Int, unfollows: Int)] = [:]

    public init() {}

    public func statements(of account: Account) -> [SQLStatement] {
        SQLStatement.insert("popularity_daily (tenant_id, account_id, day, views, watch_minutes, interactions, follows, unfollows)",
                            key: [.text(account.tenantId), .text(account.id)],
                            rows: days.sorted { $0.key < $1.key }.map { day, d in
                                [.int(Int64(day)), .int(Int64(d.views)), .int(Int64(d.watchMinutes)), .int(Int64(d.interactions)), .int(Int64(d.follows)), .int(Int64(d.unfollows))]
                            },
                            then: """
                                ON CONFLICT (tenant_id, account_id, day) DO UPDATE SET views = popularity_daily.views + excluded.views,
                                  watch_minutes = popularity_daily.watch_minutes + excluded.watch_minutes, interactions = popularity_daily.interactions + excluded.interactions,
                                  follows = popularity_daily.follows + excluded.follows, unfollows = popularity_daily.unfollows + excluded.unfollows
                                """)
    }
}

/// The operate tables' rows; metrics are kept in thousandths, as integers both databases read alike.
enum OperateRows {
    static let goalColumns = """
        tenant_id, goal_id, account_id, name, metric, target_milli, baseline_milli, deadline, reward_points, reward_user_id, state, created_at, achieved_at
        """
    static let taskColumns = """
        goal_id, task_id, title, action, detail, reason, owner, due_at, points, state, result, metric_at_start_milli, metric_at_done_milli, created_at, done_at
        """

    static func milli(_ value: Double) -> Int64 {
        let x = (value * 1_000).rounded()
        return x.isFinite ? Int64(min(max(x, -9e18), 9e18)) : 0
    }
    static func value(_ milli: Int64) -> Double { Double(milli) / 1_000 }

    static func insert(_ g: Goal) -> SQLStatement {
        SQLStatement("INSERT INTO goals (\(goalColumns)) VALUES (\(SQLStatement.placeholders(13)))", [
            .text(g.tenantId), .text(g.id), .nullable(g.accountId), .text(g.name), .text(g.metric.rawValue), .int(milli(g.target)), .int(milli(g.baseline)),
            .int(g.deadline), .int(Int64(g.rewardPoints)), .nullable(g.rewardUserId), .text(g.state.rawValue), .int(g.createdAt), .nullable(g.achievedAt),
        ])
    }

    static func insert(_ t: GoalTask, tenantId: String) -> SQLStatement {
        SQLStatement("INSERT INTO goal_tasks (tenant_id, \(taskColumns)) VALUES (\(SQLStatement.placeholders(16)))", [
            .text(tenantId), .text(t.goalId), .text(t.id), .text(t.title), .text(t.action.kind), .text(t.action.detail), .text(t.reason), .nullable(t.owner),
            .int(t.dueAt), .int(Int64(t.points)), .text(t.state.rawValue), .nullable(t.result), .int(milli(t.metricAtStart)),
            t.metricAtDone.map { .int(milli($0)) } ?? .null, .int(t.createdAt), .nullable(t.doneAt),
        ])
    }

    static func insert(_ r: RewardGrant, tenantId: String) -> SQLStatement {
        SQLStatement("INSERT INTO reward_grants (tenant_id, grant_id, goal_id, task_id, user_id, points, reason, granted_at) VALUES (\(SQLStatement.placeholders(8)))",
                     [.text(tenantId), .text(r.id), .text(r.goalId), .nullable(r.taskId), .nullable(r.userId), .int(Int64(r.points)), .text(r.reason), .int(r.grantedAt)])
    }

    static func goal(_ row: SQLRow) throws -> Goal {
        guard let metric = GoalMetric(rawValue: try row.text("metric")) else { throw StoreError.corrupt("goal metric '\(try row.text("metric"))'") }
        var g = Goal(id: try row.text("goal_id"), tenantId: try row.text("tenant_id"), accountId: row.optionalText("account_id"), name: try row.text("name"),
                     metric: metric, target: value(try row.int("target_milli")), baseline: value(try row.int("baseline_milli")), deadline: try row.int("deadline"),
                     rewardPoints: Int(try row.int("reward_points")), rewardUserId: row.optionalText("reward_user_id"), createdAt: try row.int("created_at"))
        g.state = GoalState(rawValue: try row.text("state")) ?? .active
        g.achievedAt = row.optionalInt("achieved_at")
        return g
    }

    /// Nil for a task whose action this build does not know.
    static func task(_ row: SQLRow) throws -> GoalTask? {
        guard let action = TaskAction(kind: try row.text("action"), detail: try row.text("detail")) else { return nil }
        var t = GoalTask(id: try row.text("task_id"), goalId: try row.text("goal_id"), title: try row.text("title"), action: action, reason: try row.text("reason"),
                         owner: row.optionalText("owner"), dueAt: try row.int("due_at"), points: Int(try row.int("points")),
                         metricAtStart: value(try row.int("metric_at_start_milli")), createdAt: try row.int("created_at"))
        t.state = TaskState(rawValue: try row.text("state")) ?? .open
        t.result = row.optionalText("result")
        t.metricAtDone = row.optionalInt("metric_at_done_milli").map(value)
        t.doneAt = row.optionalInt("done_at")
        return t
    }
}
