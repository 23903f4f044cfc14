import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// How an account's desk works: its automatic replies, reply targets and hours, and its agents.
public struct DeskSetup: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    public func autoReplies(of account: Account, by caller: Principal) async throws -> [AutoReplyRule] {
        try caller.authorize(.listAutoReplies)
        return try await env.store.autoReplyRules(of: account)
    }

    /// A new rule, checked: its trigger (a regular expression must compile), priority, hours and reply.
    public func createAutoReply(name: String, trigger triggerName: String, pattern: String?, priority: Int?, hours: String?, reply: MessageContent,
                                enabled: Bool?, of account: Account, by caller: Principal) async throws -> AutoReplyRule {
        try caller.authorize(.createAutoReply)
        let trigger: AutoReplyRule.Trigger
        do throws(EventProblem) {
            trigger = try AutoReplyRule.Trigger(name: triggerName, pattern: pattern)
        } catch {
            throw UseCaseError.invalid(field: error.field, error.message)
        }
        let priority = priority ?? 0
        guard AutoReplyRule.priorities.contains(priority) else { throw UseCaseError.invalid(field: "priority", "must be -1000 to 1000 (higher answers first)") }
        guard let hours = AutoReplyRule.Hours(rawValue: hours ?? "always") else {
            throw UseCaseError.invalid(field: "hours", "must be always, business_hours or outside_business_hours")
        }
        let rule = AutoReplyRule(id: env.newId("ar"), accountId: account.id, name: try Validate.name(name, field: "name"), trigger: trigger,
                                 priority: priority, hours: hours, reply: reply, enabled: enabled ?? true, createdAt: env.now())
        do {
            try await env.store.createAutoReplyRule(rule, of: account, audit: env.audit(tenantId: account.tenantId, actor: caller.actor,
                                                                                         action: "auto_reply.create", target: rule.id, detail: rule.name))
        } catch StoreError.conflict(let field, let message) {
            throw UseCaseError.conflict(code: "too_many", "\(field): \(message)")
        }
        return rule
    }

    public func deleteAutoReply(id: String, of account: Account, by caller: Principal) async throws {
        try caller.authorize(.deleteAutoReply)
        do {
            try await env.store.deleteAutoReplyRule(id: id, of: account, audit: env.audit(tenantId: account.tenantId, actor: caller.actor,
                                                                                           action: "auto_reply.delete", target: id))
        } catch StoreError.notFound {
            throw UseCaseError.notFound("automatic reply \(id)")
        }
    }

    public func settings(of account: Account, by caller: Principal) async throws -> DeskSettings {
        try caller.authorize(.readDeskSettings)
        return try await env.store.deskSettings(of: account)
    }

    public func changeSettings(_ settings: DeskSettings, of account: Account, by caller: Principal) async throws -> DeskSettings {
        try caller.authorize(.changeDeskSettings)
        for (field, minutes) in [("firstResponseMinutes", settings.firstResponseMinutes), ("nextResponseMinutes", settings.nextResponseMinutes)] {
            guard DeskSettings.targetMinutes.contains(minutes) else { throw UseCaseError.invalid(field: field, "must be 1 to 10,080 minutes (a week)") }
        }
        if let hours = settings.businessHours, !hours.isValid {
            throw UseCaseError.invalid(field: "businessHours", "needs days 1 (Monday) to 7 (Sunday) and start before end, as HH:MM between 00:00 and 24:00")
        }
        try await env.store.setDeskSettings(settings, of: account, audit: env.audit(tenantId: account.tenantId, actor: caller.actor,
                                                                                    action: "desk.settings", target: account.id))
        return settings
    }

    public func agents(in tenantId: String, by caller: Principal) async throws -> [Agent] {
        try caller.authorize(.listAgents)
        return try await env.store.agents(tenantId: tenantId)
    }

    /// Makes a user of the tenant an agent, or changes what they take on.
    public func setAgent(userId: String, capacity: Int, accountIds: [String], available: Bool, in tenantId: String, by caller: Principal) async throws -> Agent {
        try caller.authorize(.setAgent)
        guard let user = try await env.store.user(id: userId, tenantIds: [tenantId]) else { throw UseCaseError.notFound("user \(userId)") }
        guard Agent.capacities.contains(capacity) else { throw UseCaseError.invalid(field: "capacity", "must be 0 to 1,000 open conversations") }
        let accounts = Set(try await env.store.accounts(tenantIds: [tenantId]).map(\.id))
        if let unknown = accountIds.first(where: { !accounts.contains($0) }) {
            throw UseCaseError.invalid(field: "accountIds", "no account '\(unknown)' in this tenant")
        }
        let agent = Agent(userId: userId, name: user.name, capacity: capacity, accountIds: Set(accountIds), available: available)
        try await env.store.setAgent(agent, tenantId: tenantId, audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "agent.set",
                                                                                   target: userId, detail: "capacity \(capacity)"))
        return agent
    }

    public func removeAgent(userId: String, in tenantId: String, by caller: Principal) async throws {
        try caller.authorize(.removeAgent)
        do {
            try await env.store.removeAgent(userId: userId, tenantId: tenantId, audit: env.audit(tenantId: tenantId, actor: caller.actor,
                                                                                                action: "agent.remove", target: userId))
        } catch StoreError.notFound {
            throw UseCaseError.notFound("agent \(userId)")
        }
    }

    public func cannedReplies(in tenantId: String, by caller: Principal) async throws -> [CannedReply] {
        try caller.authorize(.listCannedReplies)
        return try await env.store.cannedReplies(tenantId: tenantId)
    }

    /// A saved answer the team picks in the reply box.
    public func createCannedReply(title: String, text: String, in tenantId: String, by caller: Principal) async throws -> CannedReply {
        try caller.authorize(.createCannedReply)
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...MessageContent.maxText).contains(text.count) else { throw UseCaseError.invalid(field: "text", "must be 1 to \(MessageContent.maxText) characters, as a DM") }
        let reply = CannedReply(id: env.newId("cr"), title: try Validate.name(title, field: "title"), text: text, createdAt: env.now())
        try await env.store.createCannedReply(reply, tenantId: tenantId, audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "canned_reply.create",
                                                                                       target: reply.id, detail: reply.title))
        return reply
    }

    public func deleteCannedReply(id: String, in tenantId: String, by caller: Principal) async throws {
        try caller.authorize(.deleteCannedReply)
        do {
            try await env.store.deleteCannedReply(id: id, tenantId: tenantId, audit: env.audit(tenantId: tenantId, actor: caller.actor,
                                                                                            action: "canned_reply.delete", target: id))
        } catch StoreError.notFound {
            throw UseCaseError.notFound("canned reply \(id)")
        }
    }
}
