import FlywheelDomain
import FlywheelEngine
import FlywheelStore

/// The industry playbooks, and an enterprise choosing its own.
public struct Playbooks: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    public func list(by caller: Principal) throws -> [Playbook] {
        try caller.authorize(.listPlaybooks)
        return Playbook.all
    }

    public func read(_ name: String, by caller: Principal) throws -> Playbook {
        try caller.authorize(.readPlaybook)
        guard let industry = Industry(rawValue: name) else { throw UseCaseError.notFound("playbook \(name)") }
        return industry.playbook
    }

    /// The tenant (the caller's, or an enterprise its provider names) takes the industry's playbook:
    /// every account goes back to the playbook's tier rules, and the projector re-evaluates every
    /// fan; each funnel stage becomes a live segment, so the funnel's history is kept from then on.
    /// Rules changed on an account afterwards stay until the next adoption. Returns the accounts.
    public func adopt(_ name: String, tenantId: String?, reachable: [String], by caller: Principal) async throws -> (tenant: Tenant, accounts: Int) {
        try caller.authorize(.adoptPlaybook)
        guard let industry = Industry(rawValue: name) else {
            throw UseCaseError.invalid(field: "industry", "'\(name)' is not one of \(Industry.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let id = try Validate.tenant(tenantId, caller: caller, reachable: reachable)
        guard var tenant = try await env.store.tenant(id: id) else { throw UseCaseError.notFound("tenant \(id)") }
        let accounts = try await env.store.adoptIndustry(industry, tenantId: id,
                                                         audit: env.audit(tenantId: id, actor: caller.actor, action: "playbook.adopt", target: id, detail: industry.rawValue))
        tenant.industry = industry
        // The playbook's rules put these tags on; defined, so operators can filter and act on them.
        let defined = Set(try await env.store.tags(tenantId: id).map(\.name))
        for rule in Playbook.tagRules where !defined.contains(rule.tag) {
            try await env.store.createTag(TagDefinition(name: rule.tag, group: "playbook", createdAt: env.now()), tenantId: id,
                                          audit: env.audit(tenantId: id, actor: caller.actor, action: "tag.create", target: rule.tag, detail: "playbook"))
        }
        // The funnel's stages follow the playbook, and from now on its history is kept.
        try await Funnels(flywheel).track(try await env.store.accounts(tenantIds: [id]), by: caller)
        return (tenant, accounts)
    }
}
