import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// Leads from lead cards, their stages, salespeople, follow-ups and the conversion report.
extension APIRoutes {
    func addLeads(to group: RouterGroup<FlywheelRequestContext>) {
        group.get("leads", use: listLeads)
        group.get("leads/:leadId", use: readLead)
        group.patch("leads/:leadId", use: changeLead)
        group.post("leads/:leadId/follow-ups", use: createFollowUp)
        group.post("leads/:leadId/follow-ups/:followUpId/done", use: completeFollowUp)
        group.get("follow-ups", use: listFollowUps)
        group.get("lead-report", use: readLeadReport)
    }

    @Sendable func listLeads(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<LeadView> {
        let caller = try context.caller()
        let tenantId = try Validate.tenant(request.query("tenantId"), caller: caller, reachable: context.tenantIds)
        var filter = LeadFilter()
        if let stages = request.query("stage") {
            for name in stages.split(separator: ",") {
                guard let stage = LeadStage(rawValue: String(name)) else { throw APIError.invalid("stage", "must be new, contacted, qualified, won or lost (comma-separated)") }
                filter.stages.insert(stage)
            }
        }
        switch request.query("assignee") {
        case nil: break
        case "none": filter.unassignedOnly = true
        case "me": filter.assignee = caller.userId
        case let id?: filter.assignee = id
        }
        if let account = request.query("accountId") { filter.accountIds = [account] }
        if let search = request.query("q") {
            guard search.count <= 100 else { throw APIError.invalid("q", "must be at most 100 characters") }
            filter.search = search
        }
        let page = try await Leads(flywheel).list(in: tenantId, filter: filter, cursor: try Cursor.decode(request.query("cursor")),
                                                  limit: try request.pageLimit(), by: caller)
        return PageView(items: page.items.map(LeadView.init), nextCursor: Cursor.encode(page.nextCursor))
    }

    struct LeadDetail: ResponseEncodable {
        var lead: LeadView
        var followUps: [FollowUpView]
        /// Newest first.
        var activity: [LeadActivityView]
    }

    @Sendable func readLead(_ request: Request, context: FlywheelRequestContext) async throws -> LeadDetail {
        let caller = try context.caller()
        let tenantId = try Validate.tenant(request.query("tenantId"), caller: caller, reachable: context.tenantIds)
        let read = try await Leads(flywheel).read(try context.parameters.require("leadId"), in: tenantId, by: caller)
        return LeadDetail(lead: LeadView(read.lead), followUps: read.followUps.map { FollowUpView($0, now: env.now()) },
                          activity: read.activity.map(LeadActivityView.init))
    }

    /// Each field optional; `assignee: null` takes the lead off its salesperson.
    struct LeadChange: Decodable {
        var stage: LeadStage?
        var lostReason: String?
        var wonValueFen: Int64?
        var assignee: String??
        var tenantId: String?

        enum CodingKeys: String, CodingKey { case stage, lostReason, wonValueFen, assignee, tenantId }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            stage = try c.decodeIfPresent(LeadStage.self, forKey: .stage)
            lostReason = try c.decodeIfPresent(String.self, forKey: .lostReason)
            wonValueFen = try c.decodeIfPresent(Int64.self, forKey: .wonValueFen)
            assignee = c.contains(.assignee) ? .some(try c.decodeIfPresent(String.self, forKey: .assignee)) : nil
            tenantId = try c.decodeIfPresent(String.self, forKey: .tenantId)
        }
    }

    @Sendable func changeLead(_ request: Request, context: FlywheelRequestContext) async throws -> LeadView {
        let caller = try context.caller()
        let body = try await request.decodeJSON(LeadChange.self, context: context)
        let tenantId = try Validate.tenant(body.tenantId, caller: caller, reachable: context.tenantIds)
        return LeadView(try await Leads(flywheel).change(try context.parameters.require("leadId"), in: tenantId, stage: body.stage,
                                                         lostReason: body.lostReason, wonValue: body.wonValueFen, assignee: body.assignee, by: caller))
    }

    struct NewFollowUp: Decodable { var dueAt: String; var note: String; var tenantId: String? }

    @Sendable func createFollowUp(_ request: Request, context: FlywheelRequestContext) async throws -> Created<FollowUpView> {
        let caller = try context.caller()
        let body = try await request.decodeJSON(NewFollowUp.self, context: context)
        let tenantId = try Validate.tenant(body.tenantId, caller: caller, reachable: context.tenantIds)
        guard let due = Time.parse(body.dueAt) else { throw APIError.invalid("dueAt", "must be an ISO 8601 date-time such as 2026-12-31T09:00:00+08:00") }
        let f = try await Leads(flywheel).followUp(try context.parameters.require("leadId"), in: tenantId, dueAt: due, note: body.note, by: caller)
        return Created(body: FollowUpView(f, now: env.now()))
    }

    @Sendable func completeFollowUp(_ request: Request, context: FlywheelRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.caller()
        let tenantId = try Validate.tenant(request.query("tenantId"), caller: caller, reachable: context.tenantIds)
        try await Leads(flywheel).complete(try context.parameters.require("followUpId"), of: try context.parameters.require("leadId"), in: tenantId, by: caller)
        return .noContent
    }

    @Sendable func listFollowUps(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<FollowUpView> {
        let caller = try context.caller()
        let tenantId = try Validate.tenant(request.query("tenantId"), caller: caller, reachable: context.tenantIds)
        let now = env.now()
        let before = try request.query("dueBefore").map { text -> Int64 in
            guard let at = Time.parse(text) else { throw APIError.invalid("dueBefore", "must be an ISO 8601 date-time") }
            return at
        } ?? now
        let mine: Bool
        switch request.query("mine") {
        case nil, "false": mine = false
        case "true": mine = true
        default: throw APIError.invalid("mine", "must be true or false")
        }
        let list = try await Leads(flywheel).followUps(in: tenantId, dueBefore: before, mine: mine, limit: try request.pageLimit(), by: caller)
        return PageView(items: list.map { FollowUpView($0, now: now) }, nextCursor: nil)
    }

    @Sendable func readLeadReport(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<LeadSourceView> {
        let caller = try context.caller()
        let tenantId = try Validate.tenant(request.query("tenantId"), caller: caller, reachable: context.tenantIds)
        let days = try request.integer("days", otherwise: 30)
        return PageView(items: try await Leads(flywheel).report(in: tenantId, days: days, by: caller).map(LeadSourceView.init), nextCursor: nil)
    }
}

struct LeadView: ResponseEncodable {
    var id: String
    var accountId: String
    var openId: String
    var name: String?
    var phone: String?
    var city: String?
    var channel: Channel
    var domain: SourceDomain
    var campaign: String?
    var stage: LeadStage
    var lostReason: String?
    var assignee: String?
    var wonValueFen: Int64?
    var submissions: Int
    var createdAt: String
    var lastSubmittedAt: String
    var contactedAt: String?
    var closedAt: String?

    init(_ l: Lead) {
        id = l.id; accountId = l.accountId; openId = l.openId; name = l.name; phone = l.phone; city = l.city; channel = l.channel; domain = l.domain
        campaign = l.campaign; stage = l.stage; lostReason = l.lostReason; assignee = l.assignee; wonValueFen = l.wonValue; submissions = l.submissions
        createdAt = Time.iso(l.createdAt); lastSubmittedAt = Time.iso(l.lastSubmittedAt); contactedAt = l.contactedAt.map(Time.iso); closedAt = l.closedAt.map(Time.iso)
    }
}

struct FollowUpView: ResponseEncodable {
    var id: String
    var leadId: String
    var dueAt: String
    var note: String
    var assignee: String?
    var doneAt: String?
    var overdue: Bool

    init(_ f: FollowUp, now: Int64) {
        id = f.id; leadId = f.leadId; dueAt = Time.iso(f.dueAt); note = f.note; assignee = f.assignee; doneAt = f.doneAt.map(Time.iso); overdue = f.isOverdue(at: now)
    }
}

struct LeadActivityView: Encodable, Sendable {
    var at: String
    var kind: String
    var detail: String
    var actor: String

    init(_ a: LeadActivity) { at = Time.iso(a.at); kind = a.kind; detail = a.detail; actor = a.actor }
}

struct LeadSourceView: ResponseEncodable {
    var accountId: String
    var channel: Channel
    var domain: SourceDomain
    var campaign: String?
    var leads: Int
    var contacted: Int
    var won: Int
    var lost: Int
    var wonValueFen: Int64
    var conversion: Double
    var medianMinutesToContact: Double?

    init(_ r: LeadSourceReport) {
        accountId = r.accountId; channel = r.channel; domain = r.domain; campaign = r.campaign; leads = r.leads; contacted = r.contacted; won = r.won
        lost = r.lost; wonValueFen = r.wonValue; conversion = r.conversion; medianMinutesToContact = r.medianMinutesToContact
    }
}
