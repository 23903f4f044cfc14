import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// The leads pipeline: leads from lead cards, worked through their stages by salespeople, with
/// follow-ups and a conversion report per source. An agent works the leads of the accounts they serve.
public struct Leads: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    /// The accounts whose leads the caller works: nil for all of the tenant's.
    func scope(_ tenantId: String, _ caller: Principal) async throws -> [String]? {
        guard caller.role == .agent else { return nil }
        return try await Inbox(flywheel).workable(try await env.store.accounts(tenantIds: [tenantId]), by: caller).map(\.id)
    }

    public func list(in tenantId: String, filter: LeadFilter, cursor: String?, limit: Int, by caller: Principal) async throws -> Page<Lead> {
        try caller.authorize(.listLeads)
        var filter = filter
        if let scope = try await scope(tenantId, caller) { filter.accountIds = (filter.accountIds ?? scope).filter(scope.contains) }
        return try await env.store.leads(tenantId: tenantId, filter: filter, cursor: cursor, limit: limit)
    }

    /// The lead, if the caller may see it.
    func visible(_ id: String, in tenantId: String, _ caller: Principal) async throws -> Lead {
        guard let lead = try await env.store.lead(id: id, tenantId: tenantId) else { throw UseCaseError.notFound("lead \(id)") }
        if let scope = try await scope(tenantId, caller), !scope.contains(lead.accountId) { throw UseCaseError.notFound("lead \(id)") }
        return lead
    }

    public func read(_ id: String, in tenantId: String, by caller: Principal) async throws -> (lead: Lead, activity: [LeadActivity], followUps: [FollowUp]) {
        try caller.authorize(.readLead)
        let lead = try await visible(id, in: tenantId, caller)
        return (lead, try await env.store.leadActivity(of: id, tenantId: tenantId, limit: 100),
                try await env.store.followUps(tenantId: tenantId, leadId: id, dueBefore: nil, assignee: nil, limit: 100))
    }

    /// Moves the lead to another stage (a lost one with a reason, a won one with its order value),
    /// and gives it to a salesperson.
    public func change(_ id: String, in tenantId: String, stage: LeadStage?, lostReason: String?, wonValue: Int64?, assignee: String??,
                       by caller: Principal) async throws -> Lead {
        try caller.authorize(.changeLead)
        for _ in 0..<3 {
            let before = try await visible(id, in: tenantId, caller)
            let now = env.now()
            var lead = before
            var activity: [LeadActivity] = []
            if let stage {
                switch Result(catching: { () throws(EventProblem) in try lead.moved(to: stage, reason: lostReason, value: wonValue, at: now) }) {
                case .success(let moved): lead = moved
                case .failure(let problem): throw UseCaseError.invalid(field: problem.field, problem.message)
                }
                if lead.stage != before.stage {
                    activity.append(LeadActivity(leadId: id, at: now, kind: "stage", detail: "\(before.stage.rawValue) → \(lead.stage.rawValue)"
                                                    + (lead.lostReason.map { ": \($0)" } ?? "") + (lead.wonValue.map { ", \($0) fen" } ?? ""),
                                                 actor: caller.actor))
                }
            }
            if let assignee {
                if let assignee {
                    guard try await env.store.user(id: assignee, tenantIds: [tenantId]) != nil else {
                        throw UseCaseError.invalid(field: "assignee", "no user '\(assignee)' in this tenant")
                    }
                }
                if assignee != lead.assignee {
                    lead.assignee = assignee
                    activity.append(LeadActivity(leadId: id, at: now, kind: "assigned", detail: assignee ?? "nobody", actor: caller.actor))
                }
            }
            guard !activity.isEmpty else { return lead }
            // Journeys triggered by the new stage take the fan in with the move.
            var entering: [(reentry: Bool, run: JourneyRun)] = []
            if lead.stage != before.stage {
                entering = try await env.store.journeys(tenantId: tenantId, accountIds: [lead.accountId])
                    .filter { $0.state == .active && $0.trigger.kind == .leadStage && $0.trigger.value == lead.stage.rawValue }
                    .map { ($0.reentry, $0.entry(lead.openId, seq: now, at: now)) }
            }
            do {
                try await env.store.updateLead(lead, readVersion: before.version, tenantId: tenantId, activity: activity, entering: entering,
                                               audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "lead.change", target: id,
                                                                detail: activity.map(\.detail).joined(separator: "; ")))
                lead.version += 1
                return lead
            } catch StoreError.refused(.changedMeanwhile) {
                continue
            }
        }
        throw UseCaseError.conflict(code: "changed_meanwhile", "the lead kept changing while this was decided; read it again and retry")
    }

    public func followUp(_ leadId: String, in tenantId: String, dueAt: Int64, note: String, by caller: Principal) async throws -> FollowUp {
        try caller.authorize(.createFollowUp)
        let lead = try await visible(leadId, in: tenantId, caller)
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...500).contains(note.count) else { throw UseCaseError.invalid(field: "note", "must be 1 to 500 characters") }
        guard (EventBounds.earliest..<EventBounds.latest).contains(dueAt) else { throw UseCaseError.invalid(field: "dueAt", "must be between 2000 and 2100") }
        let f = FollowUp(id: env.newId("fu"), leadId: leadId, dueAt: dueAt, note: note, assignee: lead.assignee ?? caller.userId, createdAt: env.now())
        try await env.store.createFollowUp(f, tenantId: tenantId, audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "follow_up.create",
                                                                                  target: f.id, detail: leadId))
        return f
    }

    public func complete(_ followUpId: String, of leadId: String, in tenantId: String, by caller: Principal) async throws {
        try caller.authorize(.completeFollowUp)
        _ = try await visible(leadId, in: tenantId, caller)
        do {
            try await env.store.completeFollowUp(id: followUpId, leadId: leadId, tenantId: tenantId, at: env.now(),
                                                 audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "follow_up.done", target: followUpId))
        } catch StoreError.notFound {
            throw UseCaseError.notFound("open follow-up \(followUpId) of lead \(leadId)")
        }
    }

    /// Open follow-ups due before `dueBefore` (now: the overdue list), the caller's own or everyone's.
    public func followUps(in tenantId: String, dueBefore: Int64, mine: Bool, limit: Int, by caller: Principal) async throws -> [FollowUp] {
        try caller.authorize(.listFollowUps)
        return try await env.store.followUps(tenantId: tenantId, leadId: nil, dueBefore: dueBefore, assignee: mine || caller.role == .agent ? caller.userId : nil,
                                             limit: limit)
    }

    /// How the leads first submitted in the last `days` days fared, per source.
    public func report(in tenantId: String, days: Int, by caller: Principal) async throws -> [LeadSourceReport] {
        try caller.authorize(.readLeadReport)
        guard (1...366).contains(days) else { throw UseCaseError.invalid(field: "days", "must be 1 to 366") }
        let now = env.now()
        var leads = try await env.store.leadsSubmitted(tenantId: tenantId, from: now - Int64(days) * 86_400_000, to: now + 1)
        if let scope = try await scope(tenantId, caller) { leads = leads.filter { scope.contains($0.accountId) } }
        return LeadSourceReport.rows(leads)
    }
}

/// How the leads of one source fared: the account, touchpoint, domain and campaign they came through.
public struct LeadSourceReport: Sendable, Equatable {
    public var accountId: String
    public var channel: Channel
    public var domain: SourceDomain
    public var campaign: String?
    public var leads: Int
    /// Leads that left `new`.
    public var contacted: Int
    public var won: Int
    public var lost: Int
    public var wonValue: Int64
    /// Won over all leads, 0 to 1.
    public var conversion: Double
    /// Minutes from submission to first contact, over the contacted.
    public var medianMinutesToContact: Double?

    static func rows(_ leads: [Lead]) -> [LeadSourceReport] {
        struct Key: Hashable { var account: String; var channel: Channel; var domain: SourceDomain; var campaign: String? }
        return Dictionary(grouping: leads) { Key(account: $0.accountId, channel: $0.channel, domain: $0.domain, campaign: $0.campaign) }
            .map { key, group in
                let waits = group.compactMap { l in l.contactedAt.map { Double($0 - l.createdAt) / 60_000 } }.sorted()
                let won = group.filter { $0.stage == .won }
                return LeadSourceReport(accountId: key.account, channel: key.channel, domain: key.domain, campaign: key.campaign, leads: group.count,
                                        contacted: group.count { $0.contactedAt != nil }, won: won.count, lost: group.count { $0.stage == .lost },
                                        wonValue: won.reduce(0) { $0.saturatingAdd($1.wonValue ?? 0) },
                                        conversion: Double(won.count) / Double(group.count),
                                        medianMinutesToContact: SLAReport.quantile(waits, 0.5))
            }
            .sorted { ($0.leads, $0.accountId, $0.channel.rawValue) > ($1.leads, $1.accountId, $1.channel.rawValue) }
    }
}
