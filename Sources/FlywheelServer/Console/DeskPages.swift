import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird
import NIOCore

/// The console's desk: the inbox (threads, the fan beside them, replies, canned answers,
/// hand-off, notes; live as messages arrive), the leads board and the reply-time report.
extension ConsoleRoutes {
    func addDesk(to console: RouterGroup<FlywheelRequestContext>) {
        console.get("inbox", use: inbox)
        console.get("inbox/events", use: inboxEvents)
        console.post("inbox/:openId/reply", use: inboxReply)
        console.post("inbox/:openId/note", use: inboxNote)
        console.post("inbox/:openId/assign", use: inboxAssign)
        console.post("inbox/:openId/resolve", use: inboxResolve)
        console.get("leads", use: leadsBoard)
        console.post("leads/:leadId", use: moveLead)
        console.get("reply-times", use: replyTimes)
    }

    // MARK: Inbox

    struct InboxContent {
        var notice: Notice?
        var account: String
        var q: String
        var filters: [Filter]
        var rows: [Row]
        var thread: Thread?
        var events: String

        struct Filter { var label: String; var href: String; var current: Bool }
        struct Row { var openId: String; var name: String; var state: String; var when: String; var last: String; var unread: Int?; var overdue: Bool; var selected: Bool; var href: String }
        struct Thread {
            var name: String
            var state: String
            var assignee: String?
            var due: String?
            var late: Bool
            var replyBy: String?
            var fanHref: String
            var facts: Facts?
            var messages: [Message]
            var cannotSend: Bool
            var windowClosed: Bool
            var replyForm: ReplyForm?
            var assignForm: AssignForm?
            var resolveForm: Action?
            var noteForm: Action?
        }
        struct Facts { var items: [String] }
        struct Message { var side: String; var code: String; var text: String; var author: String; var at: String; var status: String; var error: String? }
        struct ReplyForm { var action: String; var csrf: String; var canned: [SelectOption] }
        struct AssignForm { var action: String; var csrf: String; var agents: [SelectOption] }
        struct Action { var action: String; var csrf: String }
    }

    /// `?view=` of the inbox: which conversations the list shows.
    enum InboxView: String, CaseIterable {
        case all, queued, mine, overdue, resolved

        var phrase: Phrase {
            switch self {
            case .all: .allConversations
            case .queued: .queuedOnly
            case .mine: .mine
            case .overdue: .overdueOnly
            case .resolved: .resolvedOnly
            }
        }
    }

    @Sendable func inbox(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let caller = try context.caller()
        let scope = try await scope(request, context)
        guard let account = scope.account else { return try await chooseAccount(t(.inbox), nav: .inbox, request, context, scope: scope, path: "/console/inbox") }
        let now = flywheel.env.now()
        let view = request.query("view").flatMap(InboxView.init(rawValue:)) ?? .all
        var filter = ConversationFilter(now: now)
        switch view {
        case .all: filter.states = [.bot, .queued, .assigned]
        case .queued: filter.states = [.queued]
        case .mine: filter.assignee = caller.userId
        case .overdue: filter.waitingAtLeast = 0
        case .resolved: filter.states = [.resolved]
        }
        let q = request.query("q") ?? ""
        filter.search = q.isEmpty ? nil : String(q.prefix(100))
        var conversations = try await Inbox(flywheel).conversations(of: account, filter: filter, cursor: nil, limit: 100, by: caller).items
        if view == .overdue { conversations = conversations.filter { $0.conversation.isOverdue(at: now) } }
        let open = request.query("open")
        let base = "/console/inbox?account=\(account.id)&view=\(view.rawValue)" + (q.isEmpty ? "" : "&q=\(Self.queryValue(q))")
        let rows = conversations.map { s in
            let c = s.conversation
            return InboxContent.Row(openId: c.openId, name: s.nickname ?? c.openId, state: t.conversationState(c.state), when: Self.shortTime(c.lastMessageAt, account),
                                    last: s.lastText ?? "", unread: c.unread > 0 ? c.unread : nil, overdue: c.isOverdue(at: now), selected: c.openId == open,
                                    href: base + "&open=\(Self.queryValue(c.openId))")
        }
        var thread: InboxContent.Thread?
        if let open {
            thread = try await threadView(open, account, caller, context, t, now: now)
        }
        let content = InboxContent(notice: Self.errorNotice(request) ?? request.query("sent").map { _ in Notice(text: t(.replyQueued), isError: false) },
                                   account: account.id, q: q,
                                   filters: InboxView.allCases.map { InboxContent.Filter(label: t($0.phrase), href: "/console/inbox?account=\(account.id)&view=\($0.rawValue)", current: $0 == view) },
                                   rows: rows, thread: thread, events: "/console/inbox/events?account=\(account.id)" + (open.map { "&open=\(Self.queryValue($0))" } ?? ""))
        return try await page("inbox", content, title: t(.inbox), nav: .inbox, request, context, scope: scope, path: "/console/inbox")
    }

    func threadView(_ openId: String, _ account: Account, _ caller: Principal, _ context: FlywheelRequestContext, _ t: Language, now: Int64) async throws -> InboxContent.Thread {
        let read = try await Inbox(flywheel).thread(of: openId, in: account, cursor: nil, limit: 100, by: caller)
        let c = read.conversation
        let fan = try await store.fan(of: account, openId: openId)
        let agents = try await store.agents(tenantId: account.tenantId)
        // People of the enterprise and of the service provider answering for it.
        var names: [String: String] = [:]
        for tenantId in Set(context.tenantIds + [account.tenantId]) {
            for user in try await store.users(tenantId: tenantId) { names[user.id] = user.name }
        }
        let rules = Dictionary(try await store.autoReplyRules(of: account).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let messages = read.messages.items.map { m -> InboxContent.Message in
            let side = m.author == .note ? "note" : m.author == .fan ? "fan" : "ours"
            var who = t.author(m.author)
            if m.author == .agent, let id = m.authorId { who += " · " + (names[id] ?? id) }
            if m.author == .auto, let id = m.authorId { who += " · " + (rules[id] ?? id) }
            let text = m.text ?? (m.isEntry ? "↪ " + t(.openedThread) : "[\(m.messageType)\(m.ref.map { " \($0)" } ?? "")]")
            return InboxContent.Message(side: side, code: m.author.rawValue, text: text, author: who, at: Self.shortTime(m.at, account),
                                        status: t.messageStatus(m.status), error: m.error)
        }
        let mayWork = context.allows(.replyToFan) && (caller.role != .agent || c.assignee == nil || c.assignee == caller.userId || c.state == .resolved)
        let csrf = context.session?.csrf ?? ""
        let path = "/console/inbox/\(Self.pathComponent(openId))"
        let query = "?account=\(account.id)"
        let canned = try await store.cannedReplies(tenantId: account.tenantId).map { SelectOption(value: $0.id, label: "\($0.title) · \($0.text.prefix(30))") }
        var facts: InboxContent.Facts?
        if let fan {
            facts = InboxContent.Facts(items: [t.tier(fan.tier), "\(t(.level)) \(fan.level)", "\(t(.intimacy)) \(fan.intimacy)", "\(t(.gmv)) ¥\(fan.gmv / 100)"]
                                       + fan.tags.sorted())
        }
        return InboxContent.Thread(
            name: fan?.nickname ?? openId, state: t.conversationState(c.state), assignee: c.assignee.map { names[$0] ?? $0 },
            due: c.dueAt.map { Self.shortTime($0, account) }, late: c.isOverdue(at: now),
            replyBy: c.lastFanMessageAt.map { Self.shortTime($0.saturatingAdd(Conversation.replyWindow), account) },
            fanHref: "/console/fans/\(Self.pathComponent(openId))\(query)", facts: facts, messages: messages,
            cannotSend: !read.canSend, windowClosed: read.canSend && !c.canReply(at: now) && !c.mayMessage(at: now),
            replyForm: mayWork && read.canSend && (c.canReply(at: now) || c.mayMessage(at: now)) ? InboxContent.ReplyForm(action: path + "/reply" + query, csrf: csrf, canned: canned) : nil,
            assignForm: mayWork && context.allows(.assignConversation) && !agents.isEmpty
                ? InboxContent.AssignForm(action: path + "/assign" + query, csrf: csrf,
                                          agents: agents.filter { $0.accountIds.contains(account.id) }.map {
                                              SelectOption(value: $0.userId, label: $0.name, selected: $0.userId == c.assignee)
                                          })
                : nil,
            resolveForm: mayWork && c.state != .resolved ? InboxContent.Action(action: path + "/resolve" + query, csrf: csrf) : nil,
            noteForm: context.allows(.addConversationNote) ? InboxContent.Action(action: path + "/note" + query, csrf: csrf) : nil)
    }

    /// `MM-DD HH:MM` in the account's time zone.
    /// A share (0 to 1) as a whole percent; "—" when there is none.
    static func percent(_ share: Double?) -> String { share.map { String(format: "%.0f%%", $0 * 100) } ?? "—" }

    /// `MM-DD HH:MM` in the account's time zone.
    static func shortTime(_ ms: Int64, _ account: Account) -> String { String(localMinute(ms, account).dropFirst(5)) }

    /// Server-sent events for the inbox: a message whenever the account's threads (or the open
    /// one) change, so the page redraws its list and thread; a comment every 15 s keeps the line open.
    @Sendable func inboxEvents(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        let open = request.query("open")
        let inbox = Inbox(flywheel)
        let store = self.store
        let now = flywheel.env.now
        // Checked now, so a caller who may not read the inbox gets the error page, not a stream.
        _ = try await inbox.conversations(of: account, filter: ConversationFilter(now: now()), cursor: nil, limit: 1, by: caller)
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: ResponseBody { writer in
            var last: String?
            for tick in 0..<1_800 {
                let top = try await inbox.conversations(of: account, filter: ConversationFilter(now: now()), cursor: nil, limit: 1, by: caller).items.first?.conversation
                var mark = "\(top?.openId ?? "")|\(top?.lastMessageAt ?? 0)|\(top?.version ?? 0)"
                if let open, let c = try await store.conversation(of: account, openId: open) {
                    let newest = try await store.messages(of: account, openId: open, cursor: nil, limit: 1).items.last
                    mark += "|\(c.version)|\(newest?.id ?? "")|\(newest?.status.rawValue ?? "")"
                }
                if mark != last {
                    if last != nil { try await writer.write(ByteBuffer(string: "data: changed\n\n")) }
                    last = mark
                } else if tick % 15 == 14 {
                    try await writer.write(ByteBuffer(string: ": still here\n\n"))
                }
                try await Task.sleep(for: .seconds(1))
            }
            try await writer.finish(nil)
        })
    }

    func backToThread(_ openId: String, _ account: Account, error: String? = nil, sent: Bool = false) -> Response {
        var location = "/console/inbox?account=\(account.id)&open=\(Self.queryValue(openId))"
        if let error { location += "&error=" + Self.queryValue(error) }
        if sent { location += "&sent=1" }
        return Response(status: .seeOther, headers: [.location: location])
    }

    /// A reply from the box, or the canned answer picked; refusals come back above the thread.
    @Sendable func inboxReply(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let openId = try context.parameters.require("openId")
        guard let account = try await scope(request, context).account else { throw APIError.notFound("conversation \(openId)") }
        var text = (context.form["text"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty, let id = context.form["canned"], !id.isEmpty {
            text = try await store.cannedReplies(tenantId: account.tenantId).first { $0.id == id }?.text ?? ""
        }
        do {
            let content = try MessageContent(typeName: "text", text: text, ref: nil, field: "reply")
            _ = try await Inbox(flywheel).reply(content, to: openId, in: account, key: nil, by: caller)
        } catch let problem as EventProblem {
            return backToThread(openId, account, error: problem.description)
        } catch UseCaseError.invalid(let field, let message) {
            return backToThread(openId, account, error: "\(field): \(message)")
        } catch UseCaseError.conflict(_, let message) {
            return backToThread(openId, account, error: message)
        } catch UseCaseError.forbidden(let message) {
            return backToThread(openId, account, error: message)
        }
        return backToThread(openId, account, sent: true)
    }

    @Sendable func inboxNote(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let openId = try context.parameters.require("openId")
        guard let account = try await scope(request, context).account else { throw APIError.notFound("conversation \(openId)") }
        do {
            _ = try await Inbox(flywheel).note(context.form["text"] ?? "", on: openId, in: account, by: caller)
        } catch UseCaseError.invalid(let field, let message) {
            return backToThread(openId, account, error: "\(field): \(message)")
        }
        return backToThread(openId, account)
    }

    @Sendable func inboxAssign(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let openId = try context.parameters.require("openId")
        guard let account = try await scope(request, context).account else { throw APIError.notFound("conversation \(openId)") }
        do {
            _ = try await Inbox(flywheel).assign(openId, in: account, to: context.form["agentId"] ?? "", by: caller)
        } catch UseCaseError.invalid(let field, let message) {
            return backToThread(openId, account, error: "\(field): \(message)")
        } catch UseCaseError.forbidden(let message) {
            return backToThread(openId, account, error: message)
        }
        return backToThread(openId, account)
    }

    @Sendable func inboxResolve(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let openId = try context.parameters.require("openId")
        guard let account = try await scope(request, context).account else { throw APIError.notFound("conversation \(openId)") }
        do {
            _ = try await Inbox(flywheel).resolve(openId, in: account, by: caller)
        } catch UseCaseError.forbidden(let message) {
            return backToThread(openId, account, error: message)
        }
        return backToThread(openId, account)
    }

    // MARK: Leads

    struct LeadsContent {
        var notice: Notice?
        var cards: [Card]
        var columns: [Column]
        var followUps: FollowUps?
        var sources: [Source]

        struct Column { var label: String; var count: Int; var leads: [LeadCard] }
        struct LeadCard {
            var id: String
            var name: String
            var phone: String
            var city: String
            var source: String
            var submissions: Int
            var assignee: String
            var value: String?
            var lostReason: String?
            var form: Form?
        }
        struct Form { var action: String; var csrf: String; var stages: [SelectOption]; var people: [SelectOption] }
        struct FollowUps { var rows: [FollowUpRow] }
        struct FollowUpRow { var due: String; var lead: String; var note: String; var assignee: String }
        struct Source { var source: String; var leads: Int; var contacted: Int; var won: Int; var lost: Int; var conversion: String; var minutes: String; var value: String }
    }

    /// The enterprise's leads as a board by stage (the newest 50 of each), the overdue follow-ups
    /// and conversion by source over 90 days.
    @Sendable func leadsBoard(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let caller = try context.caller()
        let scope = try await scope(request, context)
        guard let tenantId = scope.accounts.first?.tenantId, Set(scope.accounts.map(\.tenantId)).count == 1 else {
            return try await chooseAccount(t(.leads), nav: .leads, request, context, scope: scope, path: "/console/leads")
        }
        let leads = Leads(flywheel)
        let accounts = Dictionary(scope.all.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let users = try await store.users(tenantId: tenantId)
        let names = Dictionary(users.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let csrf = context.session?.csrf ?? ""
        let query = scope.query
        var columns: [LeadsContent.Column] = []
        var total = 0
        for stage in LeadStage.allCases {
            var filter = LeadFilter()
            filter.stages = [stage]
            if let account = scope.account { filter.accountIds = [account.id] }
            let page = try await leads.list(in: tenantId, filter: filter, cursor: nil, limit: 50, by: caller)
            total += page.items.count
            columns.append(LeadsContent.Column(label: t.leadStage(stage), count: page.items.count, leads: page.items.map { lead in
                let form = context.allows(.changeLead) && lead.stage != .won ? LeadsContent.Form(
                    action: "/console/leads/\(Self.pathComponent(lead.id))\(query)", csrf: csrf,
                    stages: ([lead.stage] + LeadStage.allCases.filter(lead.stage.next.contains)).map { SelectOption(value: $0.rawValue, label: t.leadStage($0), selected: $0 == lead.stage) },
                    people: [SelectOption(value: "", label: t(.nobody), selected: lead.assignee == nil)]
                        + users.map { SelectOption(value: $0.id, label: $0.name, selected: $0.id == lead.assignee) }) : nil
                return LeadsContent.LeadCard(id: lead.id, name: lead.name ?? lead.openId, phone: lead.phone ?? "—", city: lead.city ?? "—",
                                             source: "\(accounts[lead.accountId] ?? lead.accountId) · \(t.channel(lead.channel))", submissions: lead.submissions,
                                             assignee: lead.assignee.map { names[$0] ?? $0 } ?? t(.nobody), value: lead.wonValue.map { "\($0 / 100)" },
                                             lostReason: lead.lostReason, form: form)
            }))
        }
        let now = flywheel.env.now()
        let due = try await leads.followUps(in: tenantId, dueBefore: now, mine: false, limit: 50, by: caller)
        let report = try await leads.report(in: tenantId, days: 90, by: caller)
        let won = report.reduce(0) { $0 + $1.won }, all = report.reduce(0) { $0 + $1.leads }
        let zone = scope.accounts.first ?? scope.all[0]
        let content = LeadsContent(
            notice: Self.errorNotice(request),
            cards: [Card(label: t(.leadsCount), value: "\(all)"), Card(label: t(.won), value: "\(won)"),
                    Card(label: t(.conversion), value: all == 0 ? "—" : String(format: "%.1f%%", Double(won) * 100 / Double(all))),
                    Card(label: t(.overdueFollowUps), value: "\(due.count)")],
            columns: columns,
            followUps: due.isEmpty ? nil : LeadsContent.FollowUps(rows: due.map {
                LeadsContent.FollowUpRow(due: Self.shortTime($0.dueAt, zone), lead: $0.leadId, note: $0.note, assignee: $0.assignee.map { names[$0] ?? $0 } ?? t(.nobody))
            }),
            sources: report.map {
                LeadsContent.Source(source: "\(accounts[$0.accountId] ?? $0.accountId) · \(t.channel($0.channel)) · \(t.domain($0.domain))\($0.campaign.map { " · \($0)" } ?? "")",
                                    leads: $0.leads, contacted: $0.contacted, won: $0.won, lost: $0.lost, conversion: String(format: "%.1f%%", $0.conversion * 100),
                                    minutes: $0.medianMinutesToContact.map { String(format: "%.0f", $0) } ?? "—", value: "\($0.wonValue / 100)")
            })
        return try await page("leads", content, title: t(.leads), nav: .leads, request, context, scope: scope, path: "/console/leads")
    }

    @Sendable func moveLead(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let scope = try await scope(request, context)
        let leadId = try context.parameters.require("leadId")
        let back = "/console/leads\(scope.query)"
        guard let tenantId = scope.accounts.first?.tenantId else { throw APIError.notFound("lead \(leadId)") }
        let stage = (context.form["stage"]).flatMap(LeadStage.init(rawValue:))
        var value: Int64?
        if let text = context.form["value"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard let yuan = Decimal(string: text), yuan >= 0, yuan <= 1_000_000_000 else {
                return Response(status: .seeOther, headers: [.location: back + (back.contains("?") ? "&" : "?") + "error=" + Self.queryValue("value: yuan, such as 128000")])
            }
            value = NSDecimalNumber(decimal: yuan * 100).int64Value
        }
        let assignee = context.form["assignee"].map { $0.isEmpty ? nil : $0 }
        do {
            _ = try await Leads(flywheel).change(leadId, in: tenantId, stage: stage, lostReason: context.form["lostReason"], wonValue: value,
                                                 assignee: assignee.map { .some($0) } ?? nil, by: caller)
        } catch UseCaseError.invalid(let field, let message) {
            return Response(status: .seeOther, headers: [.location: back + (back.contains("?") ? "&" : "?") + "error=" + Self.queryValue("\(field): \(message)")])
        }
        return Response(status: .seeOther, headers: [.location: back])
    }

    // MARK: Reply times

    struct ReplyTimesContent {
        var cards: [Card]
        var charts: [ChartView]
        var tables: [Table]

        struct Table { var title: String; var rows: [Row] }
        struct Row { var key: String; var answered: Int; var share: String; var median: String; var p90: String; var breaches: Int }
    }

    /// The SLA over the last 30 days: answers within target, first responses, breaches, by day,
    /// agent and account.
    @Sendable func replyTimes(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let caller = try context.caller()
        let scope = try await scope(request, context)
        guard let first = scope.accounts.first, Set(scope.accounts.map(\.tenantId)).count == 1 else {
            return try await chooseAccount(t(.replyTimes), nav: .replyTimes, request, context, scope: scope, path: "/console/reply-times")
        }
        let report = try await Inbox(flywheel).slaReport(of: scope.accounts, days: 30, by: caller)
        let settings = try await store.deskSettings(of: first)
        func minutes(_ v: Double?) -> String { v.map { String(format: "%.1f", $0) } ?? "—" }
        func row(_ r: SLAReport.Row, key: String) -> ReplyTimesContent.Row {
            ReplyTimesContent.Row(key: key, answered: r.answered, share: Self.percent(r.withinShare),
                                  median: minutes(r.medianFirstResponse), p90: minutes(r.p90FirstResponse), breaches: r.breaches)
        }
        let total = report.rows.first { $0.scope == "total" }
        let names = Dictionary(scope.all.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let calendar = first.calendar
        let today = calendar.day(ofMillis: flywheel.env.now())
        let days = ((today - 29)...today).map(AccountCalendar.dateText(ofDay:))
        let byDay = Dictionary(report.rows.filter { $0.scope == "day" }.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        // People in the platform's app, and waits nobody had, besides the agents by name.
        let agents = report.rows.filter { $0.scope == "agent" }.map { row -> SLAReport.Row in
            var named = row
            named.name = row.key == "app" ? t.author(.app) : row.key.isEmpty ? t(.nobody) : row.name ?? row.key
            return named
        }
        let cards = [Card(label: t(.target), value: "\(settings.firstResponseMinutes) \(t(.minutes))"),
                     Card(label: t(.answered), value: "\(total?.answered ?? 0)"),
                     Card(label: t(.withinShare), value: Self.percent(total?.withinShare)),
                     Card(label: t(.medianFirstResponse), value: minutes(total?.medianFirstResponse)),
                     Card(label: t(.p90FirstResponse), value: minutes(total?.p90FirstResponse)),
                     Card(label: t(.breaches), value: "\(total?.breaches ?? 0)")]
        let charts = [
            Charts.lines(title: t(.answersPerDay), days: days, series: [
                (t(.answered), days.map { byDay[$0]?.answered ?? 0 }), (t(.withinTarget), days.map { byDay[$0]?.withinTarget ?? 0 }),
                (t(.breaches), days.map { byDay[$0]?.breaches ?? 0 }),
            ]),
            Charts.bars(title: t(.firstResponseByAgent), agents.map { ($0.name ?? $0.key, Int(($0.medianFirstResponse ?? 0).rounded())) }),
        ]
        let content = ReplyTimesContent(cards: cards, charts: charts, tables: [
            ReplyTimesContent.Table(title: t(.byAgent), rows: agents.map { row($0, key: $0.name ?? $0.key) }),
            ReplyTimesContent.Table(title: t(.account), rows: report.rows.filter { $0.scope == "account" }.map { row($0, key: names[$0.key] ?? $0.key) }),
            ReplyTimesContent.Table(title: t(.byDay), rows: report.rows.filter { $0.scope == "day" }.reversed().map { row($0, key: $0.key) }),
        ])
        return try await page("replytimes", content, title: t(.replyTimes), nav: .replyTimes, request, context, scope: scope, path: "/console/reply-times")
    }
}
