import FlywheelApp
import FlywheelDomain
import Hummingbird

/// Operating the flywheel: the funnel.
extension APIRoutes {
    func addOperate(to group: RouterGroup<FlywheelRequestContext>) {
        group.get("funnel", use: readFunnel)
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
