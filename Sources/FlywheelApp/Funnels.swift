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
        var given: [FunnelStage: String] = [:]
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
