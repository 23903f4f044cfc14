import FlywheelDomain
import FlywheelEngine
import FlywheelStore

/// The weekly review of an enterprise: what was planned, what was done, what moved, what to do
/// next (docs/operate.md). Weeks run Monday to Sunday in the enterprise's first account's zone.
public struct Reviews: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    public struct GoalLine: Sendable {
        public var goal: Goal
        public var progress: GoalProgress
        /// The metric at the start and at the end of the week, as observed.
        public var start: Double?
        public var end: Double?
    }

    public struct Review: Sendable {
        public var tenant: Tenant
        /// Monday and Sunday, day numbers.
        public var firstDay: Int
        public var lastDay: Int
        public var goals: [GoalLine]
        /// Tasks due in the week.
        public var planned: [GoalTask]
        /// Tasks done in the week, wherever they were due.
        public var done: [GoalTask]
        /// Open tasks due before the week ended.
        public var overdue: [GoalTask]
        public var rewards: [RewardGrant]
        /// The indicators on the week's last day and a week before it, with what moved them (points
        /// of the indicator each input belongs to).
        public var popularity: (now: Double, before: Double)?
        public var business: (now: Double, before: Double)?
        public var drivers: [(name: String, points: Double)]
        public var funnel: Funnel
        /// Open tasks due in the week after.
        public var next: [GoalTask]
        /// Levers of active goals' metrics no task uses yet.
        public var suggestions: [Lever]
    }

    /// `week`: any date (YYYY-MM-DD) in the week; by default the last full week.
    public func review(tenantId: String?, week: String?, reachable: [String], by caller: Principal) async throws -> Review {
        try caller.authorize(.readReview)
        let tenantId = try Validate.tenant(tenantId, caller: caller, reachable: reachable)
        guard let tenant = try await env.store.tenant(id: tenantId) else { throw UseCaseError.notFound("tenant \(tenantId)") }
        let accounts = try await env.store.accounts(tenantIds: [tenantId])
        let calendar = accounts.first?.calendar ?? AccountCalendar(timeZone: .gmt)
        let today = calendar.day(ofMillis: env.now())
        var day = today - 7
        if let week {
            guard let d = calendar.day(ofDate: week) else { throw UseCaseError.invalid(field: "week", "must be a date as YYYY-MM-DD") }
            day = d
        }
        let first = AccountCalendar.weekStart(ofDay: day), last = first + 6
        let start = calendar.startOfDay(first), end = calendar.startOfDay(last + 1)
        let goals = Goals(flywheel)
        var lines: [GoalLine] = []
        var suggestions: [Lever] = []
        let tasks = try await env.store.tasks(tenantId: tenantId, goalId: nil)
        for goal in try await env.store.goals(tenantId: tenantId) where goal.createdAt < end {
            let observed = try await env.store.observations(of: goal)
            lines.append(GoalLine(goal: goal, progress: try await goals.progress(of: goal), start: observed.last { $0.day < first }?.value ?? observed.first { $0.day <= last }?.value,
                                  end: observed.last { $0.day <= last }?.value))
            if goal.state == .active, let playbook = tenant.industry?.playbook {
                let used = Set(tasks.filter { $0.goalId == goal.id }.map(\.action))
                suggestions += playbook.levers(for: goal.metric).filter { !used.contains($0.action) }
            }
        }
        let indicators = try await Indicators(flywheel).report(of: accounts, days: max(Indicators.days.lowerBound, today - last + 8)).total
        let atEnd = indicators.values.last { $0.day == last }, before = indicators.values.last { $0.day == last - 7 }
        let funnel = try await Funnels(flywheel).report(of: accounts, overrides: [:], by: caller).total
        return Review(
            tenant: tenant, firstDay: first, lastDay: last, goals: lines,
            planned: tasks.filter { $0.dueAt >= start && $0.dueAt < end },
            done: tasks.filter { $0.state == .done && ($0.doneAt ?? 0) >= start && ($0.doneAt ?? 0) < end },
            overdue: tasks.filter { $0.state == .open && $0.dueAt < end },
            rewards: try await env.store.rewards(tenantId: tenantId, since: start).filter { $0.grantedAt < end },
            popularity: atEnd.map { ($0.popularity, before?.popularity ?? 0) }, business: atEnd.map { ($0.business, before?.business ?? 0) },
            drivers: atEnd.flatMap { a in before.map { b in
                (IndicatorValues.drivers(a.popularityInputs, since: b.popularityInputs) + IndicatorValues.drivers(a.businessInputs, since: b.businessInputs))
                    .sorted { abs($0.points) > abs($1.points) }
            } } ?? [],
            funnel: funnel,
            next: tasks.filter { $0.state == .open && $0.dueAt >= end && $0.dueAt < end + 7 * 86_400_000 },
            suggestions: suggestions)
    }
}
