import FlywheelDomain
import FlywheelEngine
import FlywheelStore

/// The flywheel funnel of an account, an enterprise, or every account the caller reaches: how
/// many fans reached each stage now, under the default conditions or the ones given.
public struct Funnels: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    /// `overrides`: conditions that replace a stage's default (not `new`, which is every fan).
    public func report(accountId: String?, tenantId: String?, overrides: [FunnelStage: String], reachable: [String], by caller: Principal) async throws
        -> (total: Funnel, accounts: [(account: Account, funnel: Funnel)]) {
        let accounts = try await ReportScope.accounts(accountId: accountId, tenantId: tenantId, reachable: reachable, caller: caller, store: env.store)
        return try await report(of: accounts, overrides: overrides, by: caller)
    }

    /// The funnel of accounts the caller was already found to reach (the console's scope).
    public func report(of accounts: [Account], overrides: [FunnelStage: String], by caller: Principal) async throws
        -> (total: Funnel, accounts: [(account: Account, funnel: Funnel)]) {
        try caller.authorize(.readFunnel)
        var given = try await playbookStages(of: accounts)
        for (stage, text) in overrides {
            guard stage != .new else { throw UseCaseError.invalid(field: "new", "is every fan the account knows of; it takes no condition") }
            given[stage] = try Validate.predicate(text, field: stage.rawValue, example: stage.defaultCondition ?? "following")
        }
        let conditions = Funnel.conditions(given)
        let predicates = try Funnel.predicates(conditions)
        let now = env.now()
        var funnels: [(account: Account, funnel: Funnel)] = []
        for account in accounts {
            let counts = try await flywheel.fanScan.counts(predicates, of: account, now: now)
            funnels.append((account, Funnel(conditions: conditions, fans: Dictionary(uniqueKeysWithValues: zip(FunnelStage.allCases, counts)))))
        }
        return (Funnel.sum(funnels.map(\.funnel), conditions: conditions), funnels)
    }
}

extension Funnels {
    /// The stage conditions of the accounts' playbook, where they all follow one.
    func playbookStages(of accounts: [Account]) async throws -> [FunnelStage: String] {
        var industries = Set<String>()
        for tenantId in Set(accounts.map(\.tenantId)) { industries.insert(try await env.store.tenant(id: tenantId)?.industry?.rawValue ?? "") }
        guard industries.count == 1, let industry = industries.first.flatMap(Industry.init(rawValue:)) else { return [:] }
        return industry.playbook.stages
    }

    /// Keeps each stage of the accounts' funnel (but `new`, every fan) as a live segment, so the
    /// projector records who enters and leaves it, when and why: the funnel's history from now on.
    /// Segments already there are redefined when the stage's condition changed.
    public func track(_ accounts: [Account], by caller: Principal) async throws {
        let segments = Segments(flywheel)
        for account in accounts {
            let conditions = Funnel.conditions(try await playbookStages(of: [account]))
            let predicates = try Funnel.predicates(conditions)
            let existing = try await env.store.segments(of: account)
            for (stage, predicate) in zip(FunnelStage.allCases, predicates) where stage != .new {
                if let segment = existing.first(where: { $0.name == stage.segmentName }) {
                    if segment.predicate != predicate { _ = try await segments.change(segment, of: account, name: nil, predicate: predicate, by: caller) }
                } else {
                    _ = try await segments.create(name: stage.segmentName, predicate: predicate, in: account, by: caller)
                }
            }
        }
    }

    /// The funnel week by week, over the last `weeks` weeks (this one included), of an account or
    /// the accounts in scope added up; with one account, its latest moves between stages.
    public func history(accountId: String?, tenantId: String?, weeks: Int, reachable: [String], by caller: Principal) async throws
        -> (weeks: [FunnelWeek], moves: [(stage: FunnelStage, change: SegmentChange)]) {
        try caller.authorize(.readFunnelHistory)
        guard (1...52).contains(weeks) else { throw UseCaseError.invalid(field: "weeks", "must be 1 to 52") }
        let accounts = try await ReportScope.accounts(accountId: accountId, tenantId: tenantId, reachable: reachable, caller: caller, store: env.store)
        var series: [[FunnelWeek]] = [], moves: [(stage: FunnelStage, change: SegmentChange)] = []
        let now = env.now()
        for account in accounts {
            let calendar = account.calendar
            let today = calendar.day(ofMillis: now)
            let firstDay = AccountCalendar.weekStart(ofDay: today) - 7 * (weeks - 1)
            let segments = try await env.store.segments(of: account)
            var sizes: [FunnelStage: Int] = [:], stageMoves: [FunnelStage: [(day: Int, delta: Int)]] = [:]
            sizes[.new] = try await env.store.tierCounts(of: account).values.reduce(0, +)
            stageMoves[.new] = try await env.store.tierFlows(of: account, days: firstDay...today).filter { $0.key.from == nil }
                .flatMap { flow, n in Array(repeating: (flow.day, 1), count: n) }
            for stage in FunnelStage.allCases where stage != .new {
                guard let segment = segments.first(where: { $0.name == stage.segmentName && $0.state == .ready }) else {
                    throw UseCaseError.conflict(code: "not_tracked", "the funnel of \(account.name) is not tracked yet: it is from when the enterprise adopts a playbook (POST /v1/playbooks/{industry}/adopt)")
                }
                sizes[stage] = segment.size
                stageMoves[stage] = try await env.store.segmentMovements(id: segment.id, of: account, since: calendar.startOfDay(firstDay))
                    .map { (calendar.day(ofMillis: $0.at), $0.delta) }
                if accounts.count == 1 {
                    moves += try await env.store.segmentChanges(id: segment.id, of: account, limit: 20).map { (stage, $0) }
                }
            }
            series.append(FunnelWeek.weeks(firstDay: firstDay, count: weeks, sizes: sizes, moves: stageMoves, today: today))
        }
        return (FunnelWeek.sum(series), moves.sorted { $0.change.at > $1.change.at }.prefix(50).map { $0 })
    }
}

/// The accounts a report covers: the one named, the enterprise named, or every account of the
/// tenants the caller reaches (its own, and a provider's enterprises).
enum ReportScope {
    static func accounts(accountId: String?, tenantId: String?, reachable: [String], caller: Principal, store: any Store) async throws -> [Account] {
        if let id = accountId {
            guard let account = try await store.account(id: id, tenantIds: reachable) else { throw UseCaseError.notFound("account \(id)") }
            return [account]
        }
        let tenant = try Validate.tenant(tenantId, caller: caller, reachable: reachable)
        return try await store.accounts(tenantIds: tenantId == nil ? reachable : [tenant])
    }
}
