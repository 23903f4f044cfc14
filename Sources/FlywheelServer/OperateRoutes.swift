import FlywheelApp
import FlywheelDomain
import FlywheelStore
import Hummingbird

/// Operating the flywheel: the funnel, the playbooks, the two indicators, goals with their tasks
/// and rewards, and the weekly review.
extension APIRoutes {
    func addOperate(to group: RouterGroup<FlywheelRequestContext>) {
        group.get("funnel", use: readFunnel)
        group.get("funnel/history", use: readFunnelHistory)
        group.get("playbooks", use: listPlaybooks)
        group.get("playbooks/:industry", use: readPlaybook)
        group.post("playbooks/:industry/adopt", use: adoptPlaybook)
        group.get("indicators", use: readIndicators)
        group.get("goals", use: listGoals)
        group.post("goals", use: createGoal)
        group.get("goals/:goalId", use: readGoal)
        group.post("goals/:goalId/cancel", use: cancelGoal)
        group.post("goals/:goalId/tasks", use: createTask)
        group.get("tasks", use: listTasks)
        group.post("tasks/:taskId/complete", use: completeTask)
        group.post("tasks/:taskId/cancel", use: cancelTask)
        group.get("rewards", use: listRewards)
        group.get("reviews", use: readReview)
    }

    @Sendable func readFunnelHistory(_ request: Request, context: FlywheelRequestContext) async throws -> FunnelHistoryView {
        let made = try await Funnels(flywheel).history(accountId: request.query("accountId"), tenantId: request.query("tenantId"),
                                                       weeks: try request.integer("weeks", otherwise: 8), reachable: context.tenantIds, by: try context.caller())
        return FunnelHistoryView(weeks: made.weeks.map { w in
            FunnelHistoryView.Week(weekStart: AccountCalendar.dateText(ofDay: w.firstDay), stages: FunnelStage.allCases.map { stage in
                .init(stage: stage.rawValue, fans: w.fans[stage] ?? 0, entered: w.entered[stage] ?? 0, left: w.left[stage] ?? 0, conversionToNext: w.conversion(from: stage))
            })
        }, moves: made.moves.map { .init(stage: $0.stage.rawValue, openId: $0.change.openId, entered: $0.change.entered, at: Time.iso($0.change.at), cause: $0.change.cause) })
    }

    @Sendable func listPlaybooks(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<PlaybookView> {
        PageView(items: try Playbooks(flywheel).list(by: try context.caller()).map(PlaybookView.init), nextCursor: nil)
    }

    @Sendable func readPlaybook(_ request: Request, context: FlywheelRequestContext) async throws -> PlaybookView {
        PlaybookView(try Playbooks(flywheel).read(try context.parameters.require("industry"), by: try context.caller()))
    }

    struct Adoption: Decodable { var tenantId: String? }
    struct Adopted: ResponseEncodable { var tenantId: String; var industry: String; var accounts: Int }

    @Sendable func adoptPlaybook(_ request: Request, context: FlywheelRequestContext) async throws -> Adopted {
        let body = try await request.decodeJSONIfPresent(Adoption.self, context: context)
        let made = try await Playbooks(flywheel).adopt(try context.parameters.require("industry"), tenantId: body?.tenantId ?? request.query("tenantId"),
                                                        reachable: context.tenantIds, by: try context.caller())
        return Adopted(tenantId: made.tenant.id, industry: made.tenant.industry?.rawValue ?? "", accounts: made.accounts)
    }

    @Sendable func readIndicators(_ request: Request, context: FlywheelRequestContext) async throws -> IndicatorsView {
        let made = try await Indicators(flywheel).report(accountId: request.query("accountId"), tenantId: request.query("tenantId"),
                                                         days: try request.integer("days", otherwise: 30), reachable: context.tenantIds, by: try context.caller())
        return IndicatorsView(total: IndicatorsView.SeriesView(made.total), accounts: made.accounts.map {
            IndicatorsView.AccountSeries(accountId: $0.account.id, name: $0.account.name, series: IndicatorsView.SeriesView($0.series))
        })
    }

    @Sendable func listGoals(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<GoalView> {
        let list = try await Goals(flywheel).list(tenantId: request.query("tenantId"), reachable: context.tenantIds, by: try context.caller())
        return PageView(items: list.map { GoalView($0.goal, $0.progress) }, nextCursor: nil)
    }

    struct NewGoal: Decodable {
        var name: String
        var metric: String
        var target: Double
        var deadline: String
        var accountId: String?
        var rewardPoints: Int?
        var rewardUserId: String?
        var plan: Bool?
        var tenantId: String?
    }

    struct CreatedGoal: ResponseEncodable { var goal: GoalView; var tasks: [TaskView] }

    @Sendable func createGoal(_ request: Request, context: FlywheelRequestContext) async throws -> Created<CreatedGoal> {
        let body = try await request.decodeJSON(NewGoal.self, context: context)
        guard let deadline = Time.parse(body.deadline) else { throw APIError.invalid("deadline", "must be an ISO 8601 date-time such as 2026-12-31T23:59:59+08:00") }
        let made = try await Goals(flywheel).create(Goals.Draft(name: body.name, metric: body.metric, target: body.target, deadline: deadline, accountId: body.accountId,
                                                                rewardPoints: body.rewardPoints, rewardUserId: body.rewardUserId, plan: body.plan ?? true),
                                                    tenantId: body.tenantId, reachable: context.tenantIds, by: try context.caller())
        return Created(body: CreatedGoal(goal: GoalView(made.goal, try await Goals(flywheel).progress(of: made.goal)), tasks: made.tasks.map(TaskView.init)))
    }

    @Sendable func readGoal(_ request: Request, context: FlywheelRequestContext) async throws -> GoalDetailView {
        let d = try await Goals(flywheel).read(try context.parameters.require("goalId"), tenantId: request.query("tenantId"), reachable: context.tenantIds,
                                               by: try context.caller())
        return GoalDetailView(goal: GoalView(d.goal, d.progress), industry: d.industry?.rawValue,
                              observations: d.observations.map { .init(date: AccountCalendar.dateText(ofDay: $0.day), value: $0.value) },
                              strategy: d.strategy.map(LeverView.init), tasks: d.tasks.map(TaskView.init), rewards: d.rewards.map(RewardView.init))
    }

    @Sendable func cancelGoal(_ request: Request, context: FlywheelRequestContext) async throws -> GoalView {
        let goal = try await Goals(flywheel).cancel(try context.parameters.require("goalId"), tenantId: request.query("tenantId"), reachable: context.tenantIds,
                                                    by: try context.caller())
        return GoalView(goal, try await Goals(flywheel).progress(of: goal))
    }

    struct NewTask: Decodable {
        var title: String
        var reason: String?
        var owner: String?
        var dueAt: String
        var points: Int?
        var action: String?
        var detail: String?
        var tenantId: String?
    }

    @Sendable func createTask(_ request: Request, context: FlywheelRequestContext) async throws -> Created<TaskView> {
        let body = try await request.decodeJSON(NewTask.self, context: context)
        guard let due = Time.parse(body.dueAt) else { throw APIError.invalid("dueAt", "must be an ISO 8601 date-time such as 2026-12-31T18:00:00+08:00") }
        let task = try await Goals(flywheel).addTask(Goals.TaskDraft(title: body.title, reason: body.reason, owner: body.owner, dueAt: due, points: body.points,
                                                                     action: body.action, detail: body.detail),
                                                     to: try context.parameters.require("goalId"), tenantId: body.tenantId, reachable: context.tenantIds,
                                                     by: try context.caller())
        return Created(body: TaskView(task))
    }

    @Sendable func listTasks(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<TaskView> {
        let tasks = try await Goals(flywheel).tasks(tenantId: request.query("tenantId"), goalId: request.query("goalId"), state: request.query("state"),
                                                    reachable: context.tenantIds, by: try context.caller())
        return PageView(items: tasks.map(TaskView.init), nextCursor: nil)
    }

    struct TaskCompletion: Decodable { var note: String?; var tenantId: String? }

    @Sendable func completeTask(_ request: Request, context: FlywheelRequestContext) async throws -> TaskView {
        let body = try await request.decodeJSONIfPresent(TaskCompletion.self, context: context)
        return TaskView(try await Goals(flywheel).complete(try context.parameters.require("taskId"), note: body?.note, tenantId: body?.tenantId ?? request.query("tenantId"),
                                                           reachable: context.tenantIds, by: try context.caller()))
    }

    @Sendable func cancelTask(_ request: Request, context: FlywheelRequestContext) async throws -> TaskView {
        TaskView(try await Goals(flywheel).cancelTask(try context.parameters.require("taskId"), tenantId: request.query("tenantId"), reachable: context.tenantIds,
                                                      by: try context.caller()))
    }

    @Sendable func listRewards(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<RewardView> {
        let list = try await Goals(flywheel).rewards(tenantId: request.query("tenantId"), days: try request.integer("days", otherwise: 30), reachable: context.tenantIds,
                                                     by: try context.caller())
        return PageView(items: list.map(RewardView.init), nextCursor: nil)
    }

    @Sendable func readReview(_ request: Request, context: FlywheelRequestContext) async throws -> ReviewView {
        ReviewView(try await Reviews(flywheel).review(tenantId: request.query("tenantId"), week: request.query("week"), reachable: context.tenantIds,
                                                      by: try context.caller()))
    }

    @Sendable func readFunnel(_ request: Request, context: FlywheelRequestContext) async throws -> FunnelView {
        let caller = try context.caller()
        var overrides: [FunnelStage: String] = [:]
        for stage in FunnelStage.allCases { if let text = request.query(stage.rawValue) { overrides[stage] = text } }
        let made = try await Funnels(flywheel).report(accountId: request.query("accountId"), tenantId: request.query("tenantId"), overrides: overrides,
                                                      reachable: context.tenantIds, by: caller)
        return FunnelView(stages: FunnelView.stages(made.total), accounts: made.accounts.map {
            FunnelView.AccountFunnel(accountId: $0.account.id, name: $0.account.name, stages: FunnelView.stages($0.funnel))
        })
    }
}

/// The funnel as the API gives it (docs/operate.md): every stage with its condition, its fans and
/// the share of them that reached the next; in all and per account.
struct FunnelView: ResponseEncodable {
    struct Stage: Encodable {
        var stage: String
        var condition: String?
        var fans: Int
        var conversionToNext: Double?
    }

    struct AccountFunnel: Encodable {
        var accountId: String
        var name: String
        var stages: [Stage]
    }

    var stages: [Stage]
    var accounts: [AccountFunnel]

    static func stages(_ f: Funnel) -> [Stage] {
        FunnelStage.allCases.map { Stage(stage: $0.rawValue, condition: f.conditions[$0], fans: f.fans[$0] ?? 0, conversionToNext: f.conversion(from: $0)) }
    }
}

struct PlaybookView: ResponseEncodable {
    struct KPIView: Encodable { var metric: String; var target: Double }
    struct Mix: Encodable { var likingShare: [Double]; var trueLoveShare: [Double] }
    var industry: String
    var name: String
    var industries: String
    var aim: String
    var seedCase: String
    var tiers: TierRules
    var stages: [String: String]
    var cadence: [String: Int]
    var tools: [String]
    var kpis: [KPIView]
    var levers: [LeverView]
    var expectedMix: Mix

    init(_ p: Playbook) {
        industry = p.industry.rawValue
        name = p.name
        industries = p.industries
        aim = p.aim
        seedCase = p.seedCase
        tiers = p.tiers
        stages = Dictionary(uniqueKeysWithValues: Funnel.conditions(p.stages).map { ($0.key.rawValue, $0.value) })
        cadence = ["livesPerWeek": p.cadence.lives, "postsPerWeek": p.cadence.posts, "groupActivitiesPerWeek": p.cadence.groupActivities]
        tools = p.tools
        kpis = p.kpis.map { KPIView(metric: $0.metric.rawValue, target: $0.target) }
        levers = p.levers.map(LeverView.init)
        expectedMix = Mix(likingShare: [p.expectedMix.liking.lowerBound, p.expectedMix.liking.upperBound],
                          trueLoveShare: [p.expectedMix.trueLove.lowerBound, p.expectedMix.trueLove.upperBound])
    }
}

struct LeverView: Encodable {
    var metric: String
    var action: String
    var detail: String
    var automatic: Bool
    var title: String
    var reason: String

    init(_ l: Lever) {
        metric = l.metric.rawValue
        action = l.action.kind
        detail = l.action.detail
        automatic = l.action.isAutomatic
        title = Goals.title(of: l.action)
        reason = l.reason
    }
}

struct IndicatorsView: ResponseEncodable {
    struct Input: Encodable { var name: String; var rate: Double; var reference: Double; var score: Double }
    struct Day: Encodable {
        var date: String
        var popularity: Double
        var business: Double
        /// Today: the window ends in a day still going.
        var partial: Bool
        var popularityInputs: [Input]
        var businessInputs: [Input]
    }
    struct Driver: Encodable { var input: String; var points: Double }
    struct SeriesView: Encodable {
        var days: [Day]
        var popularityDrivers: [Driver]
        var businessDrivers: [Driver]

        init(_ s: Indicators.Series) {
            func inputs(_ list: [IndicatorInput]) -> [Input] { list.map { Input(name: $0.name, rate: $0.rate, reference: $0.reference, score: $0.score) } }
            days = s.values.enumerated().map { i, v in
                Day(date: AccountCalendar.dateText(ofDay: v.day), popularity: v.popularity, business: v.business, partial: i == s.values.count - 1,
                    popularityInputs: inputs(v.popularityInputs), businessInputs: inputs(v.businessInputs))
            }
            popularityDrivers = s.popularityDrivers.map { Driver(input: $0.name, points: $0.points) }
            businessDrivers = s.businessDrivers.map { Driver(input: $0.name, points: $0.points) }
        }
    }
    struct AccountSeries: Encodable { var accountId: String; var name: String; var series: SeriesView }
    var total: SeriesView
    var accounts: [AccountSeries]
}

struct GoalView: ResponseEncodable {
    var id: String
    var tenantId: String
    var accountId: String?
    var name: String
    var metric: String
    var unit: String
    var target: Double
    var baseline: Double
    var deadline: String
    var rewardPoints: Int
    var rewardUserId: String?
    var state: String
    var createdAt: String
    var achievedAt: String?
    var current: Double
    var projected: Double?
    var progress: Double
    var status: String

    init(_ g: Goal, _ p: GoalProgress) {
        id = g.id
        tenantId = g.tenantId
        accountId = g.accountId
        name = g.name
        metric = g.metric.rawValue
        unit = g.metric.unit.rawValue
        target = g.target
        baseline = g.baseline
        deadline = Time.iso(g.deadline)
        rewardPoints = g.rewardPoints
        rewardUserId = g.rewardUserId
        state = g.state.rawValue
        createdAt = Time.iso(g.createdAt)
        achievedAt = g.achievedAt.map(Time.iso)
        current = p.current
        projected = p.projected
        progress = p.progress
        status = p.status.rawValue
    }
}

struct TaskView: ResponseEncodable {
    var id: String
    var goalId: String
    var title: String
    var action: String
    var detail: String
    var automatic: Bool
    var reason: String
    var owner: String?
    var dueAt: String
    var points: Int
    var state: String
    var result: String?
    var metricAtStart: Double
    var metricAtDone: Double?
    var createdAt: String
    var doneAt: String?

    init(_ t: GoalTask) {
        id = t.id
        goalId = t.goalId
        title = t.title
        action = t.action.kind
        detail = t.action.detail
        automatic = t.action.isAutomatic
        reason = t.reason
        owner = t.owner
        dueAt = Time.iso(t.dueAt)
        points = t.points
        state = t.state.rawValue
        result = t.result
        metricAtStart = t.metricAtStart
        metricAtDone = t.metricAtDone
        createdAt = Time.iso(t.createdAt)
        doneAt = t.doneAt.map(Time.iso)
    }
}

struct RewardView: ResponseEncodable {
    var id: String
    var goalId: String
    var taskId: String?
    var userId: String?
    var points: Int
    var reason: String
    var grantedAt: String

    init(_ r: RewardGrant) {
        id = r.id
        goalId = r.goalId
        taskId = r.taskId
        userId = r.userId
        points = r.points
        reason = r.reason
        grantedAt = Time.iso(r.grantedAt)
    }
}

struct GoalDetailView: ResponseEncodable {
    struct Observation: Encodable { var date: String; var value: Double }
    var goal: GoalView
    var industry: String?
    var observations: [Observation]
    var strategy: [LeverView]
    var tasks: [TaskView]
    var rewards: [RewardView]
}

struct ReviewView: ResponseEncodable {
    struct GoalLine: Encodable { var goal: GoalView; var weekStart: Double?; var weekEnd: Double? }
    struct Change: Encodable { var now: Double; var weekBefore: Double }
    struct Driver: Encodable { var input: String; var points: Double }
    var tenantId: String
    var name: String
    var industry: String?
    var weekStart: String
    var weekEnd: String
    var goals: [GoalLine]
    var planned: [TaskView]
    var done: [TaskView]
    var overdue: [TaskView]
    var rewards: [RewardView]
    var popularity: Change?
    var business: Change?
    var drivers: [Driver]
    var funnel: [FunnelView.Stage]
    var next: [TaskView]
    var suggestions: [LeverView]

    init(_ r: Reviews.Review) {
        tenantId = r.tenant.id
        name = r.tenant.name
        industry = r.tenant.industry?.rawValue
        weekStart = AccountCalendar.dateText(ofDay: r.firstDay)
        weekEnd = AccountCalendar.dateText(ofDay: r.lastDay)
        goals = r.goals.map { GoalLine(goal: GoalView($0.goal, $0.progress), weekStart: $0.start, weekEnd: $0.end) }
        planned = r.planned.map(TaskView.init)
        done = r.done.map(TaskView.init)
        overdue = r.overdue.map(TaskView.init)
        rewards = r.rewards.map(RewardView.init)
        popularity = r.popularity.map { Change(now: $0.now, weekBefore: $0.before) }
        business = r.business.map { Change(now: $0.now, weekBefore: $0.before) }
        drivers = r.drivers.map { Driver(input: $0.name, points: $0.points) }
        funnel = FunnelView.stages(r.funnel)
        next = r.next.map(TaskView.init)
        suggestions = r.suggestions.map(LeverView.init)
    }
}

/// The funnel week by week, and the latest moves between its stages (docs/operate.md).
struct FunnelHistoryView: ResponseEncodable {
    struct Stage: Encodable { var stage: String; var fans: Int; var entered: Int; var left: Int; var conversionToNext: Double? }
    struct Week: Encodable { var weekStart: String; var stages: [Stage] }
    struct Move: Encodable { var stage: String; var openId: String; var entered: Bool; var at: String; var cause: String }
    var weeks: [Week]
    var moves: [Move]
}
