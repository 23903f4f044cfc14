import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// The console's smart business system for one enterprise: its playbook (and choosing one), the
/// popularity and business values with what moved them, goals with their strategy and tasks,
/// rewards, and the weekly review as a page to print or a file to keep.
extension ConsoleRoutes {
    func addOperate(to console: RouterGroup<FlywheelRequestContext>) {
        console.get("goals", use: goalsPage)
        console.post("goals", use: newGoal)
        console.post("goals/playbook", use: adoptPlaybook)
        console.post("tasks/:taskId/complete", use: completeTask)
        console.post("tasks/:taskId/cancel", use: cancelTask)
        console.get("review", use: reviewPage)
        console.get("review/download", use: reviewDownload)
    }

    struct GoalsContent {
        struct PlaybookBox { var name: String; var aim: String; var seedCase: String; var cadence: String; var tools: String; var kpis: String; var mix: String }
        struct Driver { var label: String; var points: String }
        struct TaskRow { var title: String; var kind: String; var owner: String; var due: String; var state: String; var reason: String; var result: String
                         var open: Bool; var complete: String; var cancel: String }
        struct GoalRow { var name: String; var metric: String; var baseline: String; var current: String; var target: String; var projected: String
                         var status: String; var percent: Int; var deadline: String; var tasks: [TaskRow] }
        struct RewardRow { var when: String; var who: String; var points: Int; var reason: String }
        struct WeekRow { var week: String; var cells: [String] }
        var enterprise: String
        var playbook: PlaybookBox?
        var industries: [SelectOption]
        var cards: [Card]
        var charts: [ChartView]
        var drivers: [Driver]
        // Stored, not computed: templates read values, not computed properties.
        var hasDrivers: Bool
        var goals: [GoalRow]
        var metrics: [SelectOption]
        var scopes: [SelectOption]
        var rewards: [RewardRow]
        var stages: [String]
        var weeks: [WeekRow]
        var hasWeeks: Bool
        var review: String
        var csrf: String
        var notice: Notice?
        var formQuery: String
    }

    /// The enterprise the page is about: the chosen account's or the chosen matrix's, else the user's own.
    func enterprise(_ scope: Scope, _ context: FlywheelRequestContext) throws -> String {
        if let selected = scope.selected, selected.hasPrefix("tenant:") { return String(selected.dropFirst("tenant:".count)) }
        return try scope.account?.tenantId ?? context.caller().tenantId
    }

    @Sendable func goalsPage(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let caller = try context.caller()
        let scope = try await scope(request, context)
        let tenantId = try enterprise(scope, context)
        let tenant = try await store.tenant(id: tenantId)
        let accounts = scope.all.filter { $0.tenantId == tenantId }
        let calendarAccount = accounts.first
        let indicators = try await Indicators(flywheel).report(accountId: nil, tenantId: tenantId, days: 30, reachable: context.tenantIds, by: caller).total
        let days = indicators.values.map { AccountCalendar.dateText(ofDay: $0.day) }
        var charts: [ChartView] = []
        if !indicators.values.isEmpty {
            charts.append(Charts.lines(title: t(.indicatorsLabel), days: days, series: [
                (t(.popularityValue), indicators.values.map { Int($0.popularity.rounded()) }), (t(.businessValue), indicators.values.map { Int($0.business.rounded()) }),
            ]))
        }
        let last = indicators.values.last
        let cards = [Card(label: t(.popularityValue), value: last.map { String(format: "%.1f", $0.popularity) } ?? "—"),
                     Card(label: t(.businessValue), value: last.map { String(format: "%.1f", $0.business) } ?? "—")]
        let drivers = (indicators.popularityDrivers + indicators.businessDrivers).sorted { abs($0.points) > abs($1.points) }.prefix(6).map {
            GoalsContent.Driver(label: t.indicatorInput($0.name), points: String(format: "%+.1f", $0.points))
        }
        let zoneAccount = calendarAccount ?? Account(tenantId: tenantId, id: "", name: "", appId: "", openId: "", timeZone: AccountCalendar.defaultTimeZone, createdAt: 0)
        let names = Dictionary(try await store.users(tenantId: tenantId).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let goals = Goals(flywheel)
        let list = try await goals.list(tenantId: tenantId, reachable: context.tenantIds, by: caller)
        let tasks = try await goals.tasks(tenantId: tenantId, goalId: nil, state: nil, reachable: context.tenantIds, by: caller)
        let at = scope.query.isEmpty ? "?account=tenant:\(tenantId)" : scope.query
        let rows = list.map { goal, progress in
            GoalsContent.GoalRow(
                name: goal.name, metric: t.metric(goal.metric), baseline: t.metricValue(goal.metric, goal.baseline), current: t.metricValue(goal.metric, progress.current),
                target: t.metricValue(goal.metric, goal.target), projected: progress.projected.map { t.metricValue(goal.metric, $0) } ?? "—",
                status: t.goalStatus(progress.status.rawValue), percent: Int((progress.progress * 100).rounded()), deadline: Self.shortTime(goal.deadline, zoneAccount),
                tasks: tasks.filter { $0.goalId == goal.id }.map { task in
                    GoalsContent.TaskRow(title: t.taskTitle(task.action, title: task.title), kind: task.action.isAutomatic ? t(.automatic) : t(.task), owner: task.owner.flatMap { names[$0] } ?? task.owner ?? "—",
                                         due: Self.shortTime(task.dueAt, zoneAccount), state: t.taskState(task.state.rawValue), reason: t.playbook(task.reason),
                                         result: task.result ?? "", open: task.state == .open && goal.state == .active,
                                         complete: "/console/tasks/\(task.id)/complete\(at)", cancel: "/console/tasks/\(task.id)/cancel\(at)")
                })
        }
        let rewards = try await goals.rewards(tenantId: tenantId, days: 90, reachable: context.tenantIds, by: caller).prefix(20).map {
            GoalsContent.RewardRow(when: Self.shortTime($0.grantedAt, zoneAccount), who: $0.userId.flatMap { names[$0] } ?? $0.userId ?? t(.wholeTeam), points: $0.points,
                                   reason: $0.reason)
        }
        // The flywheel week by week: each stage's fans, and the share that moved on that week.
        var weeks: [GoalsContent.WeekRow] = []
        do {
            weeks = try await Funnels(flywheel).history(accountId: nil, tenantId: tenantId, weeks: 8, reachable: context.tenantIds, by: caller).weeks.map { w in
                GoalsContent.WeekRow(week: AccountCalendar.dateText(ofDay: w.firstDay), cells: FunnelStage.allCases.map { stage in
                    "\(w.fans[stage] ?? 0)" + (w.conversion(from: stage).map { String(format: " → %.0f%%", $0 * 100) } ?? "")
                })
            }
        } catch UseCaseError.conflict {
            // Not tracked before a playbook is chosen: the page says to choose one.
        }
        let playbook = tenant?.industry?.playbook
        let content = GoalsContent(
            enterprise: tenant?.name ?? tenantId,
            playbook: playbook.map { p in
                GoalsContent.PlaybookBox(name: t.industry(p.industry), aim: t.playbook(p.aim), seedCase: t.playbook(p.seedCase),
                                         cadence: t.cadence(p.cadence), tools: p.tools.map(t.playbook).joined(separator: " · "),
                                         kpis: p.kpis.map { "\(t.metric($0.metric)) \(t.metricValue($0.metric, $0.target))" }.joined(separator: " · "),
                                         mix: String(format: "%.0f–%.0f%% / %.0f–%.0f%%", p.expectedMix.liking.lowerBound * 100, p.expectedMix.liking.upperBound * 100,
                                                     p.expectedMix.trueLove.lowerBound * 100, p.expectedMix.trueLove.upperBound * 100))
            },
            industries: Industry.allCases.map { SelectOption(value: $0.rawValue, label: t.industry($0), selected: $0 == tenant?.industry) },
            cards: cards, charts: charts, drivers: Array(drivers), hasDrivers: !drivers.isEmpty, goals: rows,
            metrics: GoalMetric.allCases.map { SelectOption(value: $0.rawValue, label: t.metric($0)) },
            scopes: [SelectOption(value: "", label: t(.wholeMatrix))] + accounts.map { SelectOption(value: $0.id, label: $0.name) },
            rewards: Array(rewards), stages: FunnelStage.allCases.map(t.stage), weeks: weeks, hasWeeks: !weeks.isEmpty, review: "/console/review\(at)", csrf: context.session?.csrf ?? "", notice: Self.errorNotice(request), formQuery: at)
        return try await page("goals", content, title: "\(t(.goals)) · \(tenant?.name ?? tenantId)", nav: .goals, request, context, scope: scope, path: "/console/goals")
    }

    func backToGoals(_ query: String, error: String? = nil) -> Response {
        Response(status: .seeOther, headers: [.location: "/console/goals\(query.isEmpty ? "?" : query + "&")" + (error.map { "error=" + Self.queryValue($0) } ?? "")])
    }

    /// Runs a goals form's use case; a refusal goes back to the page, named.
    func goalsForm(_ request: Request, _ context: FlywheelRequestContext, _ work: (String, Principal) async throws -> Void) async throws -> Response {
        let scope = try await scope(request, context)
        let tenantId = try enterprise(scope, context)
        let query = scope.query.isEmpty ? "?account=tenant:\(tenantId)" : scope.query
        do {
            try await work(tenantId, try context.caller())
        } catch let error as UseCaseError {
            return backToGoals(query, error: error.description)
        }
        return backToGoals(query)
    }

    @Sendable func newGoal(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let form = context.form
        return try await goalsForm(request, context) { tenantId, caller in
            guard let target = Self.field(form, "target").flatMap(Double.init) else { throw UseCaseError.invalid(field: "target", "a number, such as 25") }
            let accountId = Self.field(form, "scope")
            let accounts = try await store.accounts(tenantIds: [tenantId])
            let zone = accounts.first { $0.id == accountId } ?? accounts.first
            guard let zone, let deadline = Self.field(form, "deadline").flatMap({ zone.calendar.day(ofDate: $0) }).map({ zone.calendar.startOfDay($0 + 1) - 1 }) else {
                throw UseCaseError.invalid(field: "deadline", "a date such as 2026-12-31")
            }
            _ = try await Goals(flywheel).create(Goals.Draft(name: form["name"] ?? "", metric: form["metric"] ?? "", target: target, deadline: deadline,
                                                             accountId: accountId, rewardPoints: Self.field(form, "rewardPoints").flatMap { Int($0) },
                                                             rewardUserId: nil, plan: true),
                                                 tenantId: tenantId, reachable: context.tenantIds, by: caller)
        }
    }

    @Sendable func adoptPlaybook(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let industry = context.form["industry"] ?? ""
        return try await goalsForm(request, context) { tenantId, caller in
            _ = try await Playbooks(flywheel).adopt(industry, tenantId: tenantId, reachable: context.tenantIds, by: caller)
        }
    }

    @Sendable func completeTask(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let id = try context.parameters.require("taskId")
        let note = Self.field(context.form, "note")
        return try await goalsForm(request, context) { tenantId, caller in
            _ = try await Goals(flywheel).complete(id, note: note, tenantId: tenantId, reachable: context.tenantIds, by: caller)
        }
    }

    @Sendable func cancelTask(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let id = try context.parameters.require("taskId")
        return try await goalsForm(request, context) { tenantId, caller in
            _ = try await Goals(flywheel).cancelTask(id, tenantId: tenantId, reachable: context.tenantIds, by: caller)
        }
    }

    struct ReviewContent {
        struct GoalLine { var name: String; var start: String; var end: String; var target: String; var status: String }
        struct TaskLine { var title: String; var due: String; var state: String; var result: String }
        struct Moved { var label: String; var now: String; var before: String }
        var enterprise: String
        var week: String
        var previous: String
        var next: String
        var download: String
        var goals: [GoalLine]
        var planned: [TaskLine]
        var done: [TaskLine]
        var overdue: [TaskLine]
        var hasOverdue: Bool
        var rewards: [GoalsContent.RewardRow]
        var moved: [Moved]
        var drivers: [GoalsContent.Driver]
        var charts: [ChartView]
        var upcoming: [TaskLine]
        var suggestions: [String]
    }

    func review(_ request: Request, _ context: FlywheelRequestContext) async throws -> (content: ReviewContent, scope: Scope, title: String, file: String) {
        let t = Self.language(request)
        let caller = try context.caller()
        let scope = try await scope(request, context)
        let tenantId = try enterprise(scope, context)
        let r = try await Reviews(flywheel).review(tenantId: tenantId, week: request.query("week"), reachable: context.tenantIds, by: caller)
        let zone = scope.all.first { $0.tenantId == tenantId }
            ?? Account(tenantId: tenantId, id: "", name: "", appId: "", openId: "", timeZone: AccountCalendar.defaultTimeZone, createdAt: 0)
        let names = Dictionary(try await store.users(tenantId: tenantId).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let at = scope.query.isEmpty ? "?account=tenant:\(tenantId)" : scope.query
        func line(_ task: GoalTask) -> ReviewContent.TaskLine {
            ReviewContent.TaskLine(title: t.taskTitle(task.action, title: task.title), due: Self.shortTime(task.dueAt, zone), state: t.taskState(task.state.rawValue), result: task.result ?? "")
        }
        let week = "\(AccountCalendar.dateText(ofDay: r.firstDay)) – \(AccountCalendar.dateText(ofDay: r.lastDay))"
        var moved: [ReviewContent.Moved] = []
        if let p = r.popularity { moved.append(.init(label: t(.popularityValue), now: String(format: "%.1f", p.now), before: String(format: "%.1f", p.before))) }
        if let b = r.business { moved.append(.init(label: t(.businessValue), now: String(format: "%.1f", b.now), before: String(format: "%.1f", b.before))) }
        let content = ReviewContent(
            enterprise: r.tenant.name, week: week,
            previous: "/console/review\(at)&week=\(AccountCalendar.dateText(ofDay: r.firstDay - 7))",
            next: "/console/review\(at)&week=\(AccountCalendar.dateText(ofDay: r.firstDay + 7))",
            download: "/console/review/download\(at)&week=\(AccountCalendar.dateText(ofDay: r.firstDay))",
            goals: r.goals.map { g in
                ReviewContent.GoalLine(name: g.goal.name, start: g.start.map { t.metricValue(g.goal.metric, $0) } ?? "—",
                                       end: g.end.map { t.metricValue(g.goal.metric, $0) } ?? "—", target: t.metricValue(g.goal.metric, g.goal.target),
                                       status: t.goalStatus(g.progress.status.rawValue))
            },
            planned: r.planned.map(line), done: r.done.map(line), overdue: r.overdue.map(line), hasOverdue: !r.overdue.isEmpty,
            rewards: r.rewards.map { GoalsContent.RewardRow(when: Self.shortTime($0.grantedAt, zone), who: $0.userId.flatMap { names[$0] } ?? $0.userId ?? t(.wholeTeam),
                                                            points: $0.points, reason: $0.reason) },
            moved: moved,
            drivers: r.drivers.prefix(6).map { GoalsContent.Driver(label: t.indicatorInput($0.name), points: String(format: "%+.1f", $0.points)) },
            charts: [Charts.funnel(title: t(.flywheelFunnel), FunnelStage.allCases.map { (t.stage($0), r.funnel.fans[$0] ?? 0) })],
            upcoming: r.next.map(line), suggestions: r.suggestions.map { lever in
                "\(t.taskTitle(lever.action, title: Goals.title(of: lever.action))): \(t.playbook(lever.reason))"
            })
        return (content, scope, "\(t(.weeklyReview)) · \(r.tenant.name) · \(week)", "flywheel-review-\(AccountCalendar.dateText(ofDay: r.firstDay)).html")
    }

    @Sendable func reviewPage(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let made = try await review(request, context)
        return try await page("review", made.content, title: made.title, nav: .goals, request, context, scope: made.scope, path: "/console/review")
    }

    /// The same review as one HTML file to keep or send: no navigation, styles inline.
    @Sendable func reviewDownload(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let made = try await review(request, context)
        let t = Self.language(request)
        var content = made.content
        content.previous = ""; content.next = ""; content.download = ""
        let frame = Frame(title: made.title, language: t, menu: false, csrf: nil, here: (request.uri.path, request.uri.query))
        var response = templates.render("review", content, frame: frame, language: t)
        response.headers[.contentDisposition] = "attachment; filename=\"\(made.file)\""
        return response
    }
}

extension Language {
    func metric(_ m: GoalMetric) -> String {
        switch m {
        case .trueLoveShare: pick("True-love share of followers", "真爱粉占比")
        case .groupRepurchase: pick("Group members' repurchase", "群成员复购率")
        case .leads30d: pick("Leads in 30 days", "30天线索数")
        case .dmSLAShare: pick("DMs answered on time", "私信及时回复率")
        case .gmvFromFans: pick("GMV from fans in 30 days", "30天粉丝GMV")
        case .followers: pick("Followers", "粉丝数")
        case .popularity: pick("Popularity value", "人气值")
        case .business: pick("Business value", "经营值")
        }
    }

    func metricValue(_ m: GoalMetric, _ value: Double) -> String {
        switch m.unit {
        case .percent: String(format: "%.1f%%", value)
        case .count: String(format: "%.0f", value)
        case .fen: "¥" + String(format: "%.0f", value / 100)
        case .score: String(format: "%.1f", value)
        }
    }

    func goalStatus(_ status: String) -> String {
        switch status {
        case "achieved": pick("Achieved", "已达成")
        case "on_track": pick("On track", "进度正常")
        case "behind": pick("Behind", "落后")
        case "missed": pick("Missed", "未达成")
        default: pick("Cancelled", "已取消")
        }
    }

    func taskState(_ state: String) -> String {
        switch state {
        case "open": pick("Open", "待办")
        case "done": pick("Done", "已完成")
        case "failed": pick("Failed", "失败")
        default: pick("Cancelled", "已取消")
        }
    }

    func industry(_ i: Industry) -> String {
        switch i {
        case .highFrequencyOnline: pick("High frequency, sold online (food, FMCG, apparel, skincare)", "高频高线上（食品、快消、服饰、美妆）")
        case .highFrequencyOffline: pick("High frequency, sold in store (catering, beauty, fitness)", "高频低线上（餐饮、美业、健身）")
        case .lowFrequencyOnline: pick("Low frequency, sold online (3C, education, finance)", "低频高线上（3C、教育、金融）")
        case .lowFrequencyOffline: pick("Low frequency, sold in store (cars, homes, decoration)", "低频低线上（汽车、房产、家装）")
        }
    }

    func cadence(_ c: Cadence) -> String {
        pick("\(c.lives) lives, \(c.posts) posts, \(c.groupActivities) group activities a week", "每周直播 \(c.lives) 场、推送 \(c.posts) 条、群活动 \(c.groupActivities) 次")
    }

    func indicatorInput(_ name: String) -> String {
        switch name {
        case "views": pick("Views", "播放")
        case "watch_minutes": pick("Live minutes watched", "直播观看时长")
        case "interactions": pick("Interactions", "互动")
        case "fan_growth": pick("Fan growth", "粉丝增长")
        case "tier_mix": pick("Tier mix", "分层结构")
        case "leads": pick("Leads", "线索")
        case "orders": pick("Orders", "订单")
        case "gmv": pick("GMV", "GMV")
        case "repurchase": pick("Repurchase", "复购")
        default: name
        }
    }
}
