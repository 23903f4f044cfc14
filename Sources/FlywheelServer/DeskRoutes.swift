import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// The desk: conversations and their threads, replies, notes, hand-offs, automatic replies, the
/// desk's settings, agents and the SLA report.
extension APIRoutes {
    func addDesk(to group: RouterGroup<FlywheelRequestContext>) {
        group.get("accounts/:accountId/conversations", use: listConversations)
        group.get("accounts/:accountId/conversations/:openId", use: readConversation)
        group.post("accounts/:accountId/conversations/:openId/messages", use: replyToFan)
        group.post("accounts/:accountId/conversations/:openId/notes", use: addConversationNote)
        group.post("accounts/:accountId/conversations/:openId/assign", use: assignConversation)
        group.post("accounts/:accountId/conversations/:openId/resolve", use: resolveConversation)
        group.get("accounts/:accountId/auto-replies", use: listAutoReplies)
        group.post("accounts/:accountId/auto-replies", use: createAutoReply)
        group.delete("accounts/:accountId/auto-replies/:ruleId", use: deleteAutoReply)
        group.get("accounts/:accountId/desk", use: readDeskSettings)
        group.put("accounts/:accountId/desk", use: changeDeskSettings)
        group.get("accounts/:accountId/sla", use: readSlaReport)
        group.get("agents", use: listAgents)
        group.put("agents/:userId", use: setAgent)
        group.delete("agents/:userId", use: removeAgent)
        group.get("canned-replies", use: listCannedReplies)
        group.post("canned-replies", use: createCannedReply)
        group.delete("canned-replies/:replyId", use: deleteCannedReply)
    }

    // MARK: Conversations

    @Sendable func listConversations(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<ConversationView> {
        let caller = try context.caller()
        let account = try await account(context)
        var filter = ConversationFilter(now: env.now())
        if let states = request.query("state") {
            for name in states.split(separator: ",") {
                guard let state = ConversationState(rawValue: String(name)) else { throw APIError.invalid("state", "must be bot, queued, assigned or resolved (comma-separated)") }
                filter.states.insert(state)
            }
        }
        if let assignee = request.query("assignee") {
            if assignee == "none" { filter.unassignedOnly = true } else if assignee == "me" { filter.assignee = caller.userId } else { filter.assignee = assignee }
        }
        switch request.query("unread") {
        case nil, "false": break
        case "true": filter.unreadOnly = true
        default: throw APIError.invalid("unread", "must be true or false")
        }
        if let minutes = request.query("waitingMinutes") {
            guard let n = Int64(minutes), (0...525_600).contains(n) else { throw APIError.invalid("waitingMinutes", "must be 0 to 525,600 minutes") }
            filter.waitingAtLeast = n * 60_000
        }
        if let tier = request.query("tier") {
            guard let t = Tier(name: tier) else { throw APIError.invalid("tier", "must be potential, passerby, liking or true_love") }
            filter.tier = t
        }
        filter.segmentId = request.query("segmentId")
        if let search = request.query("q") {
            guard search.count <= 100 else { throw APIError.invalid("q", "must be at most 100 characters") }
            filter.search = search
        }
        let page = try await Inbox(flywheel).conversations(of: account, filter: filter, cursor: try Cursor.decode(request.query("cursor")),
                                                           limit: try request.pageLimit(), by: caller)
        return PageView(items: page.items.map { ConversationView($0, now: filter.now) }, nextCursor: Cursor.encode(page.nextCursor))
    }

    struct ThreadView: ResponseEncodable {
        var conversation: ConversationView
        /// Oldest first; `nextCursor` pages back to older ones.
        var messages: [MessageView]
        var nextCursor: String?
        /// Hand-offs, resolves, reopenings and breaches, newest first.
        var events: [DeskEventView]
        /// Whether Flywheel can send DMs for the account; without, answers are given in the platform's app.
        var canSend: Bool
    }

    @Sendable func readConversation(_ request: Request, context: FlywheelRequestContext) async throws -> ThreadView {
        let caller = try context.caller()
        let account = try await account(context)
        let thread = try await Inbox(flywheel).thread(of: try context.parameters.require("openId"), in: account,
                                                      cursor: try Cursor.decode(request.query("cursor")), limit: try request.pageLimit(), by: caller)
        let now = env.now()
        return ThreadView(conversation: ConversationView(ConversationSummary(conversation: thread.conversation, nickname: nil, lastText: thread.messages.items.last?.text),
                                                         now: now),
                          messages: thread.messages.items.map(MessageView.init), nextCursor: Cursor.encode(thread.messages.nextCursor),
                          events: thread.events.map(DeskEventView.init), canSend: thread.canSend)
    }

    /// What an account sends: `type` and its field.
    struct ContentBody: Decodable {
        var type: String
        var text: String?
        var mediaId: String?
        var itemId: String?
        var cardId: String?
        var groupId: String?
        var activityId: String?
        var couponMetaId: String?

        func content(field: String) throws -> MessageContent {
            var ref = mediaId ?? itemId ?? cardId ?? groupId
            if type == "coupon", let activityId { ref = activityId + "|" + (couponMetaId ?? "") }
            let result = Result { () throws(EventProblem) -> MessageContent in try MessageContent(typeName: type, text: text, ref: ref, field: field) }
            switch result {
            case .success(let content): return content
            case .failure(let problem): throw APIError.invalid(problem.field, problem.message)
            }
        }
    }

    @Sendable func replyToFan(_ request: Request, context: FlywheelRequestContext) async throws -> Created<MessageView> {
        let caller = try context.caller()
        let account = try await account(context)
        let content = try await request.decodeJSON(ContentBody.self, context: context).content(field: "")
        let message = try await Inbox(flywheel).reply(content, to: try context.parameters.require("openId"), in: account, key: try idempotencyKey(request), by: caller)
        return Created(body: MessageView(message), status: .accepted)
    }

    struct NoteBody: Decodable { var text: String }

    @Sendable func addConversationNote(_ request: Request, context: FlywheelRequestContext) async throws -> Created<MessageView> {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(NoteBody.self, context: context)
        return Created(body: MessageView(try await Inbox(flywheel).note(body.text, on: try context.parameters.require("openId"), in: account, by: caller)))
    }

    struct AssignBody: Decodable { var agentId: String }

    @Sendable func assignConversation(_ request: Request, context: FlywheelRequestContext) async throws -> ConversationView {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(AssignBody.self, context: context)
        let c = try await Inbox(flywheel).assign(try context.parameters.require("openId"), in: account, to: body.agentId, by: caller)
        return ConversationView(ConversationSummary(conversation: c, nickname: nil, lastText: nil), now: env.now())
    }

    @Sendable func resolveConversation(_ request: Request, context: FlywheelRequestContext) async throws -> ConversationView {
        let caller = try context.caller()
        let account = try await account(context)
        let c = try await Inbox(flywheel).resolve(try context.parameters.require("openId"), in: account, by: caller)
        return ConversationView(ConversationSummary(conversation: c, nickname: nil, lastText: nil), now: env.now())
    }

    @Sendable func readSlaReport(_ request: Request, context: FlywheelRequestContext) async throws -> SLAReportView {
        let caller = try context.caller()
        let account = try await account(context)
        let days = try request.integer("days", otherwise: 7)
        let settings = try await store.deskSettings(of: account)
        return SLAReportView(try await Inbox(flywheel).slaReport(of: [account], days: days, by: caller), settings: settings)
    }

    // MARK: Automatic replies and settings

    @Sendable func listAutoReplies(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<AutoReplyView> {
        let caller = try context.caller()
        return PageView(items: try await DeskSetup(flywheel).autoReplies(of: try await account(context), by: caller).map(AutoReplyView.init), nextCursor: nil)
    }

    struct NewAutoReply: Decodable {
        var name: String
        var trigger: String
        var pattern: String?
        var priority: Int?
        var hours: String?
        var reply: ContentBody
        var enabled: Bool?
    }

    @Sendable func createAutoReply(_ request: Request, context: FlywheelRequestContext) async throws -> Created<AutoReplyView> {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(NewAutoReply.self, context: context)
        let rule = try await DeskSetup(flywheel).createAutoReply(name: body.name, trigger: body.trigger, pattern: body.pattern, priority: body.priority,
                                                                 hours: body.hours, reply: try body.reply.content(field: "reply"), enabled: body.enabled,
                                                                 of: account, by: caller)
        return Created(body: AutoReplyView(rule))
    }

    @Sendable func deleteAutoReply(_ request: Request, context: FlywheelRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.caller()
        try await DeskSetup(flywheel).deleteAutoReply(id: try context.parameters.require("ruleId"), of: try await account(context), by: caller)
        return .noContent
    }

    @Sendable func readDeskSettings(_ request: Request, context: FlywheelRequestContext) async throws -> DeskSettingsView {
        let caller = try context.caller()
        return DeskSettingsView(try await DeskSetup(flywheel).settings(of: try await account(context), by: caller))
    }

    @Sendable func changeDeskSettings(_ request: Request, context: FlywheelRequestContext) async throws -> DeskSettingsView {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(DeskSettingsView.self, context: context)
        return DeskSettingsView(try await DeskSetup(flywheel).changeSettings(try body.settings(), of: account, by: caller))
    }

    // MARK: Agents

    @Sendable func listAgents(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<AgentView> {
        let caller = try context.caller()
        let tenantId = try Validate.tenant(request.query("tenantId"), caller: caller, reachable: context.tenantIds)
        let agents = try await DeskSetup(flywheel).agents(in: tenantId, by: caller)
        let loads = try await store.agentLoads(tenantId: tenantId)
        return PageView(items: agents.map { AgentView($0, load: loads[$0.userId] ?? 0) }, nextCursor: nil)
    }

    struct AgentBody: Decodable { var capacity: Int?; var accountIds: [String]; var available: Bool?; var tenantId: String? }

    @Sendable func setAgent(_ request: Request, context: FlywheelRequestContext) async throws -> AgentView {
        let caller = try context.caller()
        let body = try await request.decodeJSON(AgentBody.self, context: context)
        let tenantId = try Validate.tenant(body.tenantId, caller: caller, reachable: context.tenantIds)
        let agent = try await DeskSetup(flywheel).setAgent(userId: try context.parameters.require("userId"), capacity: body.capacity ?? 20,
                                                          accountIds: body.accountIds, available: body.available ?? true, in: tenantId, by: caller)
        return AgentView(agent, load: try await store.agentLoads(tenantId: tenantId)[agent.userId] ?? 0)
    }

    @Sendable func removeAgent(_ request: Request, context: FlywheelRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.caller()
        let tenantId = try Validate.tenant(request.query("tenantId"), caller: caller, reachable: context.tenantIds)
        try await DeskSetup(flywheel).removeAgent(userId: try context.parameters.require("userId"), in: tenantId, by: caller)
        return .noContent
    }
}

extension APIRoutes {
    // MARK: Canned replies

    @Sendable func listCannedReplies(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<CannedReplyView> {
        let caller = try context.caller()
        let tenantId = try Validate.tenant(request.query("tenantId"), caller: caller, reachable: context.tenantIds)
        return PageView(items: try await DeskSetup(flywheel).cannedReplies(in: tenantId, by: caller).map(CannedReplyView.init), nextCursor: nil)
    }

    struct NewCannedReply: Decodable { var title: String; var text: String; var tenantId: String? }

    @Sendable func createCannedReply(_ request: Request, context: FlywheelRequestContext) async throws -> Created<CannedReplyView> {
        let caller = try context.caller()
        let body = try await request.decodeJSON(NewCannedReply.self, context: context)
        let tenantId = try Validate.tenant(body.tenantId, caller: caller, reachable: context.tenantIds)
        return Created(body: CannedReplyView(try await DeskSetup(flywheel).createCannedReply(title: body.title, text: body.text, in: tenantId, by: caller)))
    }

    @Sendable func deleteCannedReply(_ request: Request, context: FlywheelRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.caller()
        let tenantId = try Validate.tenant(request.query("tenantId"), caller: caller, reachable: context.tenantIds)
        try await DeskSetup(flywheel).deleteCannedReply(id: try context.parameters.require("replyId"), in: tenantId, by: caller)
        return .noContent
    }
}

struct CannedReplyView: ResponseEncodable {
    var id: String
    var title: String
    var text: String
    var createdAt: String

    init(_ r: CannedReply) { id = r.id; title = r.title; text = r.text; createdAt = Time.iso(r.createdAt) }
}

struct ConversationView: ResponseEncodable {
    var openId: String
    var accountId: String
    var nickname: String?
    var state: ConversationState
    var assignee: String?
    var lastMessageAt: String
    var lastText: String?
    var unread: Int
    /// When the fan started waiting for a person; nil when nobody owes an answer.
    var waitingSince: String?
    var dueAt: String?
    var overdue: Bool
    var breachedAt: String?
    /// Until when a reply may go out (24 hours after the fan's last message).
    var replyBy: String?
    /// Until when the fan allows proactive messages (three a day), if it does.
    var messagesAllowedUntil: String?

    init(_ s: ConversationSummary, now: Int64) {
        let c = s.conversation
        openId = c.openId; accountId = c.accountId; nickname = s.nickname; state = c.state; assignee = c.assignee
        lastMessageAt = Time.iso(c.lastMessageAt); lastText = s.lastText; unread = c.unread
        waitingSince = c.waitingSince.map(Time.iso); dueAt = c.dueAt.map(Time.iso); overdue = c.isOverdue(at: now); breachedAt = c.breachedAt.map(Time.iso)
        replyBy = c.replyTo == nil ? nil : c.lastFanMessageAt.map { Time.iso($0.saturatingAdd(Conversation.replyWindow)) }
        messagesAllowedUntil = c.grantedUntil.flatMap { $0 > now ? Time.iso($0) : nil }
    }
}

struct MessageView: ResponseEncodable {
    var id: String
    var at: String
    var author: MessageAuthor
    /// The agent's user id, or the automatic reply's rule id.
    var authorId: String?
    var type: String
    var text: String?
    var ref: String?
    var status: MessageStatus
    var error: String?

    init(_ m: DeskMessage) {
        id = m.id; at = Time.iso(m.at); author = m.author; authorId = m.authorId; type = m.messageType; text = m.text; ref = m.ref
        status = m.status; error = m.error
    }
}

struct DeskEventView: Encodable, Sendable {
    var at: String
    var kind: DeskEvent.Kind
    var agent: String?
    var detail: String?

    init(_ e: DeskEvent) { at = Time.iso(e.at); kind = e.kind; agent = e.agent; detail = e.detail }
}

struct AutoReplyView: ResponseEncodable {
    var id: String
    var name: String
    var trigger: String
    var pattern: String?
    var priority: Int
    var hours: AutoReplyRule.Hours
    var reply: [String: String]
    var enabled: Bool
    var createdAt: String

    init(_ r: AutoReplyRule) {
        id = r.id; name = r.name; trigger = r.trigger.name; pattern = r.trigger.pattern; priority = r.priority; hours = r.hours
        reply = ContentFields.of(r.reply); enabled = r.enabled; createdAt = Time.iso(r.createdAt)
    }
}

/// A message's content as the API writes it: `type` and its fields.
enum ContentFields {
    static func of(_ content: MessageContent) -> [String: String] {
        var fields = ["type": content.typeName]
        switch content {
        case .text(let text): fields["text"] = text
        case .image(let id): fields["mediaId"] = id
        case .video(let id): fields["itemId"] = id
        case .leadCard(let id): fields["cardId"] = id
        case .groupInvitation(let id): fields["groupId"] = id
        case .coupon(let activityId, let metaId):
            fields["activityId"] = activityId
            fields["couponMetaId"] = metaId
        }
        return fields
    }
}

struct DeskSettingsView: ResponseEncodable, Decodable {
    struct Hours: Codable, Sendable {
        /// 1 (Monday) to 7 (Sunday).
        var days: [Int]
        /// `HH:MM` in the account's time zone.
        var start: String
        var end: String
    }

    var firstResponseMinutes: Int
    var nextResponseMinutes: Int
    /// Absent: the team answers at all hours.
    var businessHours: Hours?
    var assignment: AssignmentPolicy

    init(_ s: DeskSettings) {
        firstResponseMinutes = s.firstResponseMinutes; nextResponseMinutes = s.nextResponseMinutes; assignment = s.assignment
        businessHours = s.businessHours.map { Hours(days: $0.days.sorted(), start: Self.clock($0.start), end: Self.clock($0.end)) }
    }

    static func clock(_ minutes: Int) -> String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }

    static func minutes(_ text: String, field: String) throws -> Int {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy { ("0"..."9").contains($0) } }), let h = Int(parts[0]), let m = Int(parts[1]),
              (0..<60).contains(m), h * 60 + m <= 1_440 else {
            throw APIError.invalid(field, "must be HH:MM between 00:00 and 24:00")
        }
        return h * 60 + m
    }

    func settings() throws -> DeskSettings {
        DeskSettings(firstResponseMinutes: firstResponseMinutes, nextResponseMinutes: nextResponseMinutes,
                     businessHours: try businessHours.map {
                         BusinessHours(days: Set($0.days), start: try Self.minutes($0.start, field: "businessHours.start"),
                                       end: try Self.minutes($0.end, field: "businessHours.end"))
                     }, assignment: assignment)
    }
}

struct AgentView: ResponseEncodable {
    var userId: String
    var name: String
    var capacity: Int
    var accountIds: [String]
    var available: Bool
    /// Conversations assigned to them now.
    var load: Int

    init(_ a: Agent, load: Int) {
        userId = a.userId; name = a.name; capacity = a.capacity; accountIds = a.accountIds.sorted(); available = a.available; self.load = load
    }
}

struct SLAReportView: ResponseEncodable {
    struct Row: Encodable, Sendable {
        var scope: String
        var key: String
        var name: String?
        var answered: Int
        var withinTarget: Int
        var withinShare: Double?
        var firstResponses: Int
        var medianFirstResponseMinutes: Double?
        var p90FirstResponseMinutes: Double?
        var breaches: Int
    }

    var firstResponseMinutes: Int
    var nextResponseMinutes: Int
    var rows: [Row]

    init(_ report: SLAReport, settings: DeskSettings) {
        firstResponseMinutes = settings.firstResponseMinutes
        nextResponseMinutes = settings.nextResponseMinutes
        rows = report.rows.map {
            Row(scope: $0.scope, key: $0.key, name: $0.name, answered: $0.answered, withinTarget: $0.withinTarget, withinShare: $0.withinShare,
                firstResponses: $0.firstResponses, medianFirstResponseMinutes: $0.medianFirstResponse, p90FirstResponseMinutes: $0.p90FirstResponse,
                breaches: $0.breaches)
        }
    }
}
