import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// The console's reach: the post composer with the month's quota and each post's numbers, fan
/// groups with their thresholds, members and applications, the live calendar with each live's
/// audience, and the homepage checklist with where visits come from.
extension ConsoleRoutes {
    func addReach(to console: RouterGroup<FlywheelRequestContext>) {
        console.get("posts", use: postsPage)
        console.post("posts", use: composePost)
        console.post("posts/:postId/published", use: postPublished)
        console.post("posts/:postId/cancel", use: postCancelled)
        console.post("touch-budget", use: changeBudget)
        console.get("groups", use: groupsPage)
        console.post("groups", use: newGroup)
        console.post("groups/:groupId", use: changeFanGroup)
        console.get("lives", use: livesPage)
        console.post("lives", use: scheduleLives)
        console.post("lives/:liveId/remind", use: remindNow)
        console.get("homepage", use: homepagePage)
        console.post("homepage", use: tickHomepage)
    }

    /// Back to a reach page of the account, with what went wrong in the form.
    func back(to page: String, _ account: Account, error: String? = nil, extra: String = "") -> Response {
        Response(status: .seeOther, headers: [.location: "/console/\(page)?account=\(account.id)\(extra)" + (error.map { "&error=" + Self.queryValue($0) } ?? "")])
    }

    /// Runs a form's use case: a refusal goes back to the page, named.
    func submit(_ page: String, _ account: Account, extra: String = "", _ work: () async throws -> Void) async throws -> Response {
        do {
            try await work()
        } catch let error as UseCaseError {
            return back(to: page, account, error: error.description, extra: extra)
        }
        return back(to: page, account, extra: extra)
    }

    /// A form's text without its surrounding spaces; nil when left empty.
    static func field(_ form: [String: String], _ name: String) -> String? {
        form[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    func formAccount(_ request: Request, _ context: FlywheelRequestContext) async throws -> Account {
        guard let account = try await scope(request, context).account else { throw APIError.invalid("account", "choose one account") }
        return account
    }

    static func yuan(_ fen: Int64) -> String { String(format: "%.2f", Double(fen) / 100) }

    // MARK: Posts

    struct PostsContent {
        var notice: Notice?
        var cards: [Card]
        var charts: [ChartView]
        var csrf: String
        var composeAction: String
        var segments: [SelectOption]
        var modes: [Mode]
        var rows: [Row]
        var budget: Budget

        struct Mode { var action: String; var mode: String }
        struct Row { var title: String; var when: String; var state: String; var mode: String; var delivered: Int; var held: Int; var opened: Int; var clicked: Int
                     var converted: Int; var value: String; var unfollowed: Int; var uplift: String; var publishAction: String?; var cancelAction: String? }
        struct Budget { var action: String; var perDay: Int; var perWeek: Int }
    }

    @Sendable func postsPage(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let caller = try context.caller()
        let scope = try await scope(request, context)
        guard let account = scope.account else { return try await chooseAccount(t(.posts), nav: .posts, request, context, scope: scope, path: "/console/posts") }
        let posts = Posts(flywheel)
        let reports = try await posts.list(of: account, limit: 50, by: caller)
        let today = account.calendar.day(ofMillis: flywheel.env.now())
        let quota = try await posts.quota(of: account, from: today, by: caller)
        let budget = try await posts.touchBudget(of: account, by: caller)
        let held = try await posts.heldBack(of: account, days: 30, by: caller).values.reduce(0, +)
        let segments = try await store.segments(of: account)
        let csrf = context.session?.csrf ?? ""
        let cards = [Card(label: t(.quotaThisMonth), value: "\(quota.used) / \(quota.perMonth)"),
                     Card(label: t(.nextAllowedDay), value: AccountCalendar.dateText(ofDay: quota.nextAllowedDay)),
                     Card(label: t(.heldBack), value: "\(held)"),
                     Card(label: t(.touchBudget), value: "\(budget.perDay) / \(budget.perWeek)")]
        let published = reports.filter { $0.post.state == .published }.prefix(10).reversed()
        let charts = [Charts.bars(title: t(.openedByPost), published.map { ("\($0.post.title.prefix(12))", $0.stats.opened) }),
                      Charts.bars(title: t(.unfollowedByPost), published.map { ("\($0.post.title.prefix(12))", $0.stats.unfollowed) })]
        let rows = reports.map { r -> PostsContent.Row in
            let p = r.post, s = r.stats
            let base = "/console/posts/\(p.id)"
            return PostsContent.Row(title: p.title, when: Self.shortTime(p.scheduledAt, account), state: t.postState(p.state), mode: r.automatic ? t(.automatic) : t(.task),
                                    delivered: s.delivered, held: s.heldBack, opened: s.opened, clicked: s.clicked, converted: s.converted,
                                    value: Self.yuan(s.conversionValue), unfollowed: s.unfollowed,
                                    uplift: r.experiment.map { "\(Self.verdict($0.conversion, t, percent: true)) (\(t(.holdoutArm)) \($0.arms[.holdout]?.fans ?? 0))" } ?? "",
                                    publishAction: p.state == .task ? "\(base)/published?account=\(account.id)" : nil,
                                    cancelAction: p.state == .scheduled || p.state == .task ? "\(base)/cancel?account=\(account.id)" : nil)
        }
        let modes = [(t(.posts), posts.automatic), (t(.liveBooking), posts.automatic), (t(.groups), true), (t(.applications), true), (t(.groupAdmins), false)]
            .map { PostsContent.Mode(action: $0.0, mode: $0.1 ? t(.automatic) : t(.task)) }
        let content = PostsContent(notice: Self.errorNotice(request), cards: cards, charts: charts, csrf: csrf, composeAction: "/console/posts?account=\(account.id)",
                                   // `?segment=` chooses the audience: the fans a bulk selection put in a segment.
                                   segments: [SelectOption(value: "", label: t(.allSubscribers), selected: !segments.contains { $0.id == request.query("segment") })]
                                       + segments.map { SelectOption(value: $0.id, label: $0.name, selected: $0.id == request.query("segment")) },
                                   modes: modes, rows: rows,
                                   budget: PostsContent.Budget(action: "/console/touch-budget?account=\(account.id)", perDay: budget.perDay, perWeek: budget.perWeek))
        return try await page("posts", content, title: t(.posts), nav: .posts, request, context, scope: scope, path: "/console/posts")
    }

    @Sendable func composePost(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let account = try await formAccount(request, context)
        let form = context.form
        func field(_ name: String) -> String? { Self.field(form, name) }
        var at: Int64?
        if let text = field("scheduledAt") {
            // `datetime-local` gives the account's wall time without a zone.
            guard let ms = Self.localTime(text, account) else { return back(to: "posts", account, error: "scheduledAt: a date and time such as 2026-12-31T19:00") }
            at = ms
        }
        return try await submit("posts", account) {
            let holdout = try field("holdoutPercent").map { text throws(UseCaseError) -> Int in
                guard let n = Int(text) else { throw .invalid(field: "holdoutPercent", "must be a whole number, 0 to 50") }
                return n
            }
            _ = try await Posts(flywheel).create(.init(title: form["title"] ?? "", body: form["body"] ?? "", format: field("format") ?? "text", mediaRef: field("mediaRef"),
                                                       toolKind: field("toolKind"), toolRef: field("toolRef"), segmentId: field("segmentId"), scheduledAt: at,
                                                       holdoutPercent: holdout),
                                                 of: account, by: caller)
        }
    }

    /// `YYYY-MM-DDTHH:MM` in the account's time zone, in ms.
    static func localTime(_ text: String, _ account: Account) -> Int64? {
        let parts = text.split(separator: "T")
        guard parts.count == 2, let day = account.calendar.day(ofDate: String(parts[0])), let minutes = LiveSchedule.minutes(of: String(parts[1].prefix(5))) else { return nil }
        return account.calendar.startOfDay(day) + Int64(minutes) * 60_000
    }

    @Sendable func postPublished(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let account = try await formAccount(request, context)
        let id = try context.parameters.require("postId")
        return try await submit("posts", account) { _ = try await Posts(flywheel).markPublished(id, of: account, by: caller) }
    }

    @Sendable func postCancelled(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let account = try await formAccount(request, context)
        let id = try context.parameters.require("postId")
        return try await submit("posts", account) { _ = try await Posts(flywheel).cancel(id, of: account, by: caller) }
    }

    @Sendable func changeBudget(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let account = try await formAccount(request, context)
        guard let perDay = Int(context.form["perDay"] ?? ""), let perWeek = Int(context.form["perWeek"] ?? "") else {
            return back(to: "posts", account, error: "perDay, perWeek: whole numbers")
        }
        return try await submit("posts", account) { _ = try await Posts(flywheel).setTouchBudget(TouchBudget(perDay: perDay, perWeek: perWeek), of: account, by: caller) }
    }

    // MARK: Groups

    struct GroupsContent {
        var notice: Notice?
        var csrf: String
        var createAction: String
        var hasGroups: Bool
        var groups: [Item]
        var selected: Selected?

        struct Item { var name: String; var state: String; var number: String; var threshold: String; var href: String; var current: Bool }
        struct Selected {
            var name: String
            var cards: [Card]
            var charts: [ChartView]
            var changeAction: String
            var threshold: String
            var welcome: String
            var admins: String
            var liveReminder: Bool
            var shareNewWorks: Bool
            var applications: [Application]
            /// The first members, each linking to the fan.
            var members: [MemberLink]
            var moreMembers: Int?
        }
        struct MemberLink { var name: String; var href: String }
        struct Application { var fan: String; var when: String; var state: String; var reason: String }
    }

    @Sendable func groupsPage(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let caller = try context.caller()
        let scope = try await scope(request, context)
        guard let account = scope.account else { return try await chooseAccount(t(.groups), nav: .groups, request, context, scope: scope, path: "/console/groups") }
        let groups = Groups(flywheel)
        let list = try await groups.list(of: account, by: caller)
        let chosen = request.query("group").flatMap { id in list.first { $0.id == id } } ?? list.first
        var selected: GroupsContent.Selected?
        if let group = chosen {
            let read = try await groups.read(group.id, of: account, days: 30, by: caller)
            let stats = read.stats
            let applications = try await groups.applications(of: group.id, in: account, limit: 50, by: caller)
            let cards = [Card(label: t(.groupNumber), value: group.groupNumber ?? "—"), Card(label: t(.members), value: "\(stats?.members ?? 0)"),
                         Card(label: t(.activeMembers), value: "\(stats?.activeMembers ?? 0)"),
                         Card(label: t(.repurchaseMembers), value: Self.percent(stats.flatMap { GroupStats.rate($0.repeatMembers, of: $0.buyingMembers) })),
                         Card(label: t(.repurchaseOthers), value: Self.percent(stats.flatMap { GroupStats.rate($0.repeatOthers, of: $0.buyingOthers) }))]
            let days = stats?.days ?? []
            let charts = days.isEmpty ? [] : [
                Charts.lines(title: t(.membersOverTime), days: days.map { AccountCalendar.dateText(ofDay: $0.day) },
                             series: [(t(.members), days.map(\.members)), (t(.groupMessages), days.map(\.messages))]),
            ]
            var members: [String] = []
            if let platformId = group.platformGroupId { members = try await store.groupMembers(platformGroupId: platformId, of: account) }
            let shown = members.prefix(60).map {
                GroupsContent.MemberLink(name: $0, href: "/console/fans/\(Self.pathComponent($0))?account=\(account.id)")
            }
            selected = GroupsContent.Selected(name: group.name, cards: cards, charts: charts, changeAction: "/console/groups/\(group.id)?account=\(account.id)",
                                              threshold: group.threshold ?? "", welcome: group.welcome ?? "", admins: group.admins.joined(separator: ", "),
                                              liveReminder: group.liveReminder, shareNewWorks: group.shareNewWorks,
                                              applications: applications.map {
                                                  GroupsContent.Application(fan: $0.openId, when: Self.shortTime($0.appliedAt, account), state: t.applicationState($0.state),
                                                                            reason: $0.reason ?? "")
                                              }, members: Array(shown), moreMembers: members.count > shown.count ? members.count - shown.count : nil)
        }
        let items = list.map {
            GroupsContent.Item(name: $0.name, state: t.groupState($0.state), number: $0.groupNumber ?? "—", threshold: $0.threshold ?? "—",
                               href: "/console/groups?account=\(account.id)&group=\($0.id)", current: $0.id == chosen?.id)
        }
        let content = GroupsContent(notice: Self.errorNotice(request), csrf: context.session?.csrf ?? "", createAction: "/console/groups?account=\(account.id)",
                                    hasGroups: !items.isEmpty, groups: items, selected: selected)
        return try await page("groups", content, title: t(.groups), nav: .groups, request, context, scope: scope, path: "/console/groups")
    }

    /// A group's settings from the form: admins comma-separated, checkboxes present when ticked.
    func groupSettings(_ form: [String: String], creating: Bool) -> Groups.Settings {
        let admins = (form["admins"] ?? "").split(whereSeparator: { $0 == "," || $0 == "，" || $0.isWhitespace }).map(String.init)
        return Groups.Settings(name: creating ? form["name"] ?? "" : nil, description: creating ? form["description"] ?? "" : nil,
                               threshold: .some(form["threshold"].flatMap { $0.isEmpty ? nil : $0 }), welcome: .some(form["welcome"].flatMap { $0.isEmpty ? nil : $0 }),
                               admins: admins, liveReminder: form["liveReminder"] != nil, shareNewWorks: form["shareNewWorks"] != nil)
    }

    @Sendable func newGroup(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let account = try await formAccount(request, context)
        return try await submit("groups", account) { _ = try await Groups(flywheel).create(groupSettings(context.form, creating: true), of: account, by: caller) }
    }

    @Sendable func changeFanGroup(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let account = try await formAccount(request, context)
        let id = try context.parameters.require("groupId")
        return try await submit("groups", account, extra: "&group=\(id)") {
            _ = try await Groups(flywheel).change(id, groupSettings(context.form, creating: false), of: account, by: caller)
        }
    }

    // MARK: Lives

    struct LivesContent {
        var notice: Notice?
        var csrf: String
        var scheduleAction: String
        var schedules: [String]
        var days: [Day]
        var ended: [Ended]
        var charts: [ChartView]

        struct Day { var date: String; var lives: [Planned] }
        struct Planned { var time: String; var title: String; var bookings: Int; var reminded: String; var remindAction: String? }
        struct Ended { var when: String; var title: String; var viewers: String; var minutes: String; var gmv: String; var fanShare: String; var oldShare: String }
    }

    @Sendable func livesPage(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let caller = try context.caller()
        let scope = try await scope(request, context)
        guard let account = scope.account else { return try await chooseAccount(t(.lives), nav: .lives, request, context, scope: scope, path: "/console/lives") }
        let list = try await Lives(flywheel).list(of: account, by: caller)
        let now = flywheel.env.now()
        let calendar = account.calendar
        let upcoming = list.lives.filter { $0.live.startsAt > now && !$0.live.cancelled }
        func planned(_ r: Lives.Report, on day: Int) -> LivesContent.Planned {
            let minutes = Int((r.live.startsAt - calendar.startOfDay(day)) / 60_000)
            let reminded: String = r.live.remindedAt == nil ? "—" : "\(r.stats.remindersSent) / \(r.stats.remindersHeld)"
            let action: String? = r.live.remindedAt == nil ? "/console/lives/\(r.live.id)/remind?account=\(account.id)" : nil
            return LivesContent.Planned(time: LiveSchedule.text(ofMinutes: minutes), title: r.live.title, bookings: r.stats.bookings, reminded: reminded,
                                        remindAction: action)
        }
        let byDay = Dictionary(grouping: upcoming) { calendar.day(ofMillis: $0.live.startsAt) }.sorted { $0.key < $1.key }.prefix(7)
        let days = byDay.map { day, lives in LivesContent.Day(date: AccountCalendar.dateText(ofDay: day), lives: lives.map { planned($0, on: day) }) }
        let ended = list.lives.filter { $0.live.endsAt <= now }.reversed()
        func audience(_ s: LiveStats, _ key: KeyPath<LiveStats.Audience, Int>) -> String {
            LiveAudience.allCases.map { "\(s.audiences[$0]?[keyPath: key] ?? 0)" }.joined(separator: " / ")
        }
        let rows = ended.map { r in
            LivesContent.Ended(when: Self.shortTime(r.live.startsAt, account), title: r.live.title, viewers: audience(r.stats, \.viewers),
                               minutes: LiveAudience.allCases.map { r.stats.audiences[$0]?.averageMinutes.map { String(format: "%.0f", $0) } ?? "—" }.joined(separator: " / "),
                               gmv: Self.yuan(r.stats.gmv), fanShare: Self.percent(r.stats.fanShareOfGMV), oldShare: Self.percent(r.stats.oldFanShareOfGMV))
        }
        var charts: [ChartView] = []
        if let last = ended.first(where: { $0.stats.gmv > 0 }) {
            charts.append(Charts.bars(title: t(.liveGmvByAudience), LiveAudience.allCases.map { (t.audience($0), Int((last.stats.audiences[$0]?.gmv ?? 0) / 100)) }))
            charts.append(Charts.bars(title: t(.viewers), LiveAudience.allCases.map { (t.audience($0), last.stats.audiences[$0]?.viewers ?? 0) }))
        }
        let content = LivesContent(notice: Self.errorNotice(request), csrf: context.session?.csrf ?? "", scheduleAction: "/console/lives?account=\(account.id)",
                                   schedules: list.schedules.map { s in "\(s.title): \(s.times.map(LiveSchedule.text(ofMinutes:)).joined(separator: ", ")) · \(s.durationMinutes) \(t(.minutes))" },
                                   days: Array(days), ended: Array(rows.prefix(20)), charts: charts)
        return try await page("lives", content, title: t(.lives), nav: .lives, request, context, scope: scope, path: "/console/lives")
    }

    @Sendable func scheduleLives(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let account = try await formAccount(request, context)
        let form = context.form
        let times = (form["times"] ?? "").split(whereSeparator: { $0 == "," || $0 == "，" || $0.isWhitespace }).map(String.init)
        let weekdays = (form["weekdays"] ?? "").split(whereSeparator: { $0 == "," || $0 == "，" || $0.isWhitespace }).map { Int($0) ?? 0 }
        return try await submit("lives", account) {
            _ = try await Lives(flywheel).create(.init(title: form["title"] ?? "", weekdays: weekdays.isEmpty ? nil : weekdays, times: times, startsAt: nil,
                                                       durationMinutes: Int(form["durationMinutes"] ?? ""), reminderMinutes: Int(form["reminderMinutes"] ?? "")),
                                                 of: account, by: caller)
        }
    }

    @Sendable func remindNow(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let account = try await formAccount(request, context)
        let id = try context.parameters.require("liveId")
        return try await submit("lives", account) { _ = try await Lives(flywheel).remind(id, of: account, by: caller) }
    }

    // MARK: Homepage

    struct HomepageContent {
        var notice: Notice?
        var csrf: String
        var action: String
        var items: [Item]
        var charts: [ChartView]
        var rows: [Row]

        struct Item { var name: String; var label: String; var status: String; var done: Bool; var ticked: Bool; var detected: Bool }
        struct Row { var channel: String; var domain: String; var visits: Int; var share: String }
    }

    @Sendable func homepagePage(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let caller = try context.caller()
        let scope = try await scope(request, context)
        guard let account = scope.account else { return try await chooseAccount(t(.homepage), nav: .homepage, request, context, scope: scope, path: "/console/homepage") }
        let read = try await Homepage(flywheel).read(of: account, days: 30, by: caller)
        var byChannel: [Channel: Int] = [:]
        for v in read.visits { byChannel[v.channel, default: 0] += v.visits }
        let content = HomepageContent(notice: Self.errorNotice(request), csrf: context.session?.csrf ?? "", action: "/console/homepage?account=\(account.id)",
                                      items: read.items.map {
                                          HomepageContent.Item(name: $0.item.rawValue, label: t.homepageItem($0.item), status: t.checkSource($0.source), done: $0.done,
                                                               ticked: $0.source == "ticked", detected: $0.source == "detected")
                                      },
                                      charts: [Charts.bars(title: t(.visitsByChannel), byChannel.sorted { $0.value > $1.value }.prefix(8).map { (t.channel($0.key), $0.value) })],
                                      rows: read.visits.map {
                                          HomepageContent.Row(channel: t.channel($0.channel), domain: t.domain($0.domain), visits: $0.visits, share: Self.percent($0.share))
                                      })
        return try await page("homepage", content, title: t(.homepage), nav: .homepage, request, context, scope: scope, path: "/console/homepage")
    }

    @Sendable func tickHomepage(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let account = try await formAccount(request, context)
        // Every item the operator can tick, on or off as the form says.
        let items = Dictionary(uniqueKeysWithValues: HomepageItem.allCases.filter { !$0.detected }.map { ($0.rawValue, context.form[$0.rawValue] != nil) })
        return try await submit("homepage", account) { try await Homepage(flywheel).change(items, of: account, by: caller) }
    }
}
