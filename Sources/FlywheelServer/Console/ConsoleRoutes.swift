import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// The operator's console, rendered on the server (docs/console.md): sign-in with a session
/// cookie, CSRF tokens on every form, roles from the tenancy model, Chinese and English. Each
/// page is a view model in the reader's language, drawn by its template (`ConsoleTemplates`).
struct ConsoleRoutes {
    let flywheel: Flywheel
    let templates: ConsoleTemplates
    /// Behind a proxy of our own: the client's address is the last `X-Forwarded-For` entry.
    var trustProxy = false
    var store: any Store { flywheel.env.store }
    static let cookie = "fw_session"
    /// The sign-in form's CSRF token: the form carries it and so does this short-lived cookie, and
    /// a sign-in is taken only when the two match (a form posted from another site cannot know it).
    static let signInCookie = "fw_signin"

    func add(to router: Router<FlywheelRequestContext>) {
        router.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/console"]) }
        router.get("/console/login") { request, _ in self.loginPage(request, LoginContent()) }
        router.post("/console/login", use: login)
        let console = router.group("console").add(middleware: SessionMiddleware(flywheel: flywheel))
        console.post("logout", use: logout)
        console.get("", use: overview)
        console.get("fans/:openId", use: fan)
        console.post("fans/:openId/tags", use: tagFan)
        console.post("fans/:openId/notes", use: noteFan)
        console.get("segments", use: segments)
        console.post("segments", use: saveSegment)
        console.get("segments/:segmentId", use: segment)
        console.get("segments/:segmentId/export", use: exportSegment)
        console.post("segments/import", use: importSegment)
        console.post("segments/:segmentId/lookalike", use: lookalikeSegment)
        console.get("tags", use: tags)
        console.post("tags", use: createTag)
        console.get("settings", use: settings)
        console.post("settings", use: saveTierRules)
        console.post("settings/points", use: savePoints)
        console.post("settings/users", use: addUser)
        console.post("settings/users/:userId/role", use: changeUserRole)
        console.post("settings/users/:userId/disable", use: disableUser)
        console.post("settings/users/:userId/enable", use: enableUser)
        console.post("settings/users/:userId/remove", use: removeUser)
        console.post("settings/keys", use: issueKey)
        console.post("settings/keys/:keyId/revoke", use: revokeKey)
        console.post("settings/apps", use: addApp)
        console.post("settings/quarantine/:seq/retry", use: retryQuarantined)
        console.post("settings/quarantine/:seq/drop", use: dropQuarantined)
        addDesk(to: console)
        addReach(to: console)
        addSales(to: console)
        addOperate(to: console)
        addPeople(to: console)
        addJourneys(to: console)
    }

    /// `?lang=` when given, else the language remembered in the cookie, else Chinese.
    static func language(_ request: Request) -> Language {
        if let chosen = request.query("lang").flatMap(Language.init(rawValue:)) { return chosen }
        return request.cookies["fw_lang"].flatMap { Language(rawValue: $0.value) } ?? .zh
    }

    /// Remembers a language chosen with `?lang=`.
    static func remember(_ request: Request, _ response: Response, trustProxy: Bool) -> Response {
        guard let chosen = request.query("lang").flatMap(Language.init(rawValue:)) else { return response }
        var response = response
        response.setCookie(Cookie(name: "fw_lang", value: chosen.rawValue, maxAge: 365 * 86_400, path: "/",
                                  secure: isSecure(request, trustProxy: trustProxy), httpOnly: true, sameSite: .lax))
        return response
    }

    func remember(_ request: Request, _ response: Response) -> Response { Self.remember(request, response, trustProxy: trustProxy) }

    /// Whether the browser reached the server over TLS: directly, or through a proxy of our own
    /// that says so in `X-Forwarded-Proto` (its last entry, the one that proxy set). Cookies are
    /// then `Secure`, so a browser never sends them over plain HTTP.
    static func isSecure(_ request: Request, trustProxy: Bool) -> Bool {
        if request.head.scheme?.lowercased() == "https" { return true }
        guard trustProxy, let proto = request.headers[.xForwardedProto] else { return false }
        return proto.split(separator: ",").last?.trimmingCharacters(in: .whitespaces).lowercased() == "https"
    }

    static func pathComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? text
    }

    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    /// A time to the minute, as the console shows it: `2025-03-01 14:05` (UTC).
    static func minute(_ ms: Int64) -> String {
        Time.iso(ms).prefix(16).replacingOccurrences(of: "T", with: " ")
    }

    /// `YYYY-MM-DD HH:MM` in the account's time zone: the day the page's "today" counts in.
    static func localMinute(_ ms: Int64, _ account: Account) -> String {
        let calendar = account.calendar
        let day = calendar.day(ofMillis: ms)
        let minutes = (ms - calendar.startOfDay(day)) / 60_000
        return AccountCalendar.dateText(ofDay: day) + String(format: " %02d:%02d", minutes / 60, minutes % 60)
    }

    // MARK: Signing in and out

    struct LoginContent {
        var problem: String?
        /// What was typed, given back with the problem (never the password).
        var name = ""
        var organisation = ""
        /// The form's CSRF token, the same as in the `signInCookie` sent with the page.
        var csrf = ""
    }

    /// The sign-in page, each time with a fresh CSRF token in the form and in its cookie.
    func loginPage(_ request: Request, _ content: LoginContent, status: HTTPResponse.Status = .ok, retryAfter: Int? = nil) -> Response {
        let t = Self.language(request)
        var content = content
        content.csrf = flywheel.env.randomHex(32)
        let frame = Frame(title: t(.signIn), language: t, menu: false, csrf: nil, here: (request.uri.path, request.uri.query))
        var response = templates.render("login", content, frame: frame, language: t, status: status)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        // Lives as long as a sign-in form is worth filling in, and goes only to the sign-in route.
        response.setCookie(Cookie(name: Self.signInCookie, value: content.csrf, maxAge: 3_600, path: "/console/login",
                                  secure: Self.isSecure(request, trustProxy: trustProxy), httpOnly: true, sameSite: .strict))
        return remember(request, response)
    }

    @Sendable func login(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        let t = Self.language(request)
        let name = form["name"] ?? "", organisation = form["organisation"] ?? ""
        func problem(_ text: String) -> LoginContent { LoginContent(problem: text, name: name, organisation: organisation) }
        // Double submit, checked before any lookup or hash: a form posted from another site has
        // neither our cookie's token nor a way to read it.
        guard let submitted = form["csrf"], let expected = request.cookies[Self.signInCookie]?.value, Self.sameToken(submitted, expected) else {
            return loginPage(request, problem(t(.signInFormExpired)), status: .forbidden)
        }
        let secure = Self.isSecure(request, trustProxy: trustProxy)
        switch try await flywheel.signIn.signIn(name: name, password: form["password"] ?? "", organisation: organisation,
                                                client: clientAddress(request, context)) {
        case .signedIn(let token, _):
            var response = Response(status: .seeOther, headers: [.location: "/console"])
            // The session first: it is the cookie that matters, the other only goes.
            response.setCookie(Cookie(name: Self.cookie, value: token, maxAge: Int(ConsoleSignIn.lifetime / 1_000), path: "/",
                                      secure: secure, httpOnly: true, sameSite: .lax))
            response.setCookie(Cookie(name: Self.signInCookie, value: "", maxAge: 0, path: "/console/login", secure: secure, httpOnly: true, sameSite: .strict))
            return response
        case .refused:
            return loginPage(request, problem(t(.wrongPassword)), status: .unauthorized)
        case .organisationNeeded:
            return loginPage(request, problem(t(.organisationNeeded)), status: .unauthorized)
        case .locked(let until):
            let seconds = max(1, Int((until - flywheel.env.now() + 999) / 1_000))
            return loginPage(request, problem(t.tooManyAttempts(tryAgainAt: Self.clock(until))), status: .tooManyRequests, retryAfter: seconds)
        case .busy:
            return loginPage(request, problem(t(.signInBusy)), status: .tooManyRequests, retryAfter: 1)
        }
    }

    /// Equal tokens, compared in constant time; an empty token never matches.
    static func sameToken(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard !x.isEmpty, x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// A time of day as the sign-in page says when to try again: `14:05 UTC`, rounded up to the
    /// minute so that trying at that minute works.
    static func clock(_ ms: Int64) -> String {
        String(minute(ms + 59_999).suffix(5)) + " UTC"
    }

    /// Where the request came from, for the sign-in limiter: the peer's address, or behind a
    /// trusted proxy the last address in `X-Forwarded-For` (the one that proxy added; the
    /// entries before it are whatever the client sent).
    func clientAddress(_ request: Request, _ context: FlywheelRequestContext) -> String? {
        if trustProxy, let forwarded = request.headers[.xForwardedFor],
           let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty {
            return last
        }
        return context.remoteAddress.flatMap { $0.ipAddress }
    }

    @Sendable func logout(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        if let token = request.cookies[Self.cookie]?.value { try await flywheel.signIn.signOut(token: token) }
        var response = Response(status: .seeOther, headers: [.location: "/console/login"])
        response.setCookie(Cookie(name: Self.cookie, value: "", maxAge: 0, path: "/", secure: Self.isSecure(request, trustProxy: trustProxy),
                                  httpOnly: true, sameSite: .lax))
        return response
    }

    /// An `application/x-www-form-urlencoded` body: 64 KiB, but as much as the API takes for a
    /// segment's CSV of open_ids, which the import form carries.
    static func form(_ request: Request) async throws -> [String: String] {
        Dictionary(try await formFields(request), uniquingKeysWith: { _, last in last })
    }

    /// The form's fields in order, a field sent several times once each time.
    static func formFields(_ request: Request) async throws -> [(String, String)] {
        let limit = request.uri.path.hasSuffix("/segments/import") ? APIRoutes.maxImportBytes : 1 << 16
        let buffer = try await request.body.collect(upTo: limit)
        var parts = URLComponents()
        parts.percentEncodedQuery = String(buffer: buffer).replacingOccurrences(of: "+", with: "%20")
        return (parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }
    }

    // MARK: Scope: one account, or every account of an enterprise

    /// One account (`?account=acc_…`), one enterprise's matrix (`?account=tenant:ten_…`), or
    /// every account the user may see.
    struct Scope {
        var accounts: [Account]
        var all: [Account]
        var selected: String?

        /// One account, for the pages that show one account's fans.
        var account: Account? { selected?.hasPrefix("tenant:") == false ? accounts.first : nil }

        /// `?account=` keeps the switcher's choice across pages.
        var query: String { selected.map { "?account=\($0)" } ?? "" }
    }

    func scope(_ request: Request, _ context: FlywheelRequestContext) async throws -> Scope {
        let all = try await store.accounts(tenantIds: context.tenantIds)
        guard let selected = request.query("account") else {
            return Scope(accounts: all, all: all, selected: nil)
        }
        let chosen = selected.hasPrefix("tenant:")
            ? all.filter { "tenant:\($0.tenantId)" == selected }
            : all.filter { $0.id == selected }
        return chosen.isEmpty ? Scope(accounts: all, all: all, selected: nil) : Scope(accounts: chosen, all: all, selected: selected)
    }

    /// Every account the user may see, grouped by enterprise, each enterprise's matrix first.
    func switcher(_ scope: Scope, _ t: Language, path: String) async throws -> Switcher {
        var groups: [Switcher.Group] = []
        for (tenantId, accounts) in Dictionary(grouping: scope.all, by: \.tenantId) {
            let name = try await store.tenant(id: tenantId)?.name ?? tenantId
            let matrix = SelectOption(value: "tenant:\(tenantId)", label: "\(name) · \(t(.allAccounts))", selected: scope.selected == "tenant:\(tenantId)")
            let each = accounts.sorted { $0.name < $1.name }.map {
                SelectOption(value: $0.id, label: "\(name) · \($0.name)", selected: scope.selected == $0.id)
            }
            groups.append(Switcher.Group(label: name, options: [matrix] + each))
        }
        return Switcher(action: path, groups: groups.sorted { $0.label < $1.label })
    }

    /// A page of the signed-in console: `template` filled with `content`, in the frame with `nav`
    /// marked and the scope switcher sending to `path`.
    func page<Content>(_ template: String, _ content: Content, title: String, nav: Phrase, _ request: Request,
                       _ context: FlywheelRequestContext, scope: Scope, path: String) async throws -> Response {
        let t = Self.language(request)
        let switcher = try await switcher(scope, t, path: path)
        let frame = Frame(title: title, language: t, menu: true, current: nav, scopeQuery: scope.query, csrf: context.session?.csrf,
                          switcher: switcher, here: (request.uri.path, request.uri.query))
        return remember(request, templates.render(template, content, frame: frame, language: t))
    }

    struct NoContent {}

    /// What a one-account page shows while the scope is wider.
    func chooseAccount(_ title: String, nav: Phrase, _ request: Request, _ context: FlywheelRequestContext, scope: Scope, path: String) async throws -> Response {
        try await page("choose", NoContent(), title: title, nav: nav, request, context, scope: scope, path: path)
    }

    /// The `?error=` a form's handler sent the browser back with, shown where it happened.
    static func errorNotice(_ request: Request) -> Notice? {
        request.query("error").map { Notice(text: $0, isError: true) }
    }

    // MARK: Overview

    struct OverviewContent {
        /// The date range picked, and the last day it may end.
        var range: Range
        var notice: Notice?
        var cards: [Card]
        /// Accounts with events set aside; nil when there are none.
        var quarantine: Quarantine?
        var charts: [ChartView]
        var transitions: [Card]
        /// Why some events have no channel, with how many.
        var unknownChannel: String?

        struct Range { var scope: String?; var from: String; var to: String; var max: String }
        struct Quarantine { var accounts: [Entry] }
        struct Entry { var name: String; var count: Int; var href: String }
    }

    @Sendable func overview(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let scope = try await scope(request, context)
        let calendar = AccountCalendar(timeZone: TimeZone(identifier: AccountCalendar.defaultTimeZone) ?? .gmt)
        let today = calendar.day(ofMillis: flywheel.env.now())
        // The range picked, 30 days to today unless a valid one is given (a year at most, not past today).
        let from = request.query("from").flatMap(calendar.day(ofDate:)), to = request.query("to").flatMap(calendar.day(ofDate:))
        var problem: String?
        var days = (today - 29)...today
        if from != nil || to != nil {
            let end = to ?? today, start = from ?? end - 29
            if start <= end, end <= today, end - start < 366 { days = start...end } else {
                problem = t.pick("Choose a range of at most a year that ends today or earlier, the first day before the last; showing the last 30 days.",
                                 "请选择不超过一年、结束日不晚于今天且开始日早于结束日的范围；当前显示近 30 天。")
            }
        }
        var current: [Tier: Int] = [:]
        var daily = Array(repeating: [Tier: Int](), count: days.count)
        var domains: [SourceDomain: Int] = [:]
        var channels: [Channel: Int] = [:]
        var moves: [String: Int] = [:]
        var growth = Array(repeating: 0, count: days.count)
        var sales = (gmv: Int64(0), orders: 0, leads: 0)
        var answered = 0
        var quarantined: [OverviewContent.Entry] = []
        for account in scope.accounts {
            for (tier, n) in try await store.tierCounts(of: account) { current[tier, default: 0] += n }
            var counts = try await store.tierCounts(of: account, before: days.lowerBound)
            let flows = try await store.tierFlows(of: account, days: days)
            for (i, day) in days.enumerated() {
                for (flow, n) in flows where flow.day == day {
                    counts[flow.to, default: 0] += n
                    if let from = flow.from { counts[from, default: 0] -= n }
                    if flow.from != flow.to { moves["\(t.tierOrNew(flow.from)) → \(t.tier(flow.to))", default: 0] += n }
                }
                for (tier, n) in counts { daily[i][tier, default: 0] += n }
            }
            for (cell, count) in try await store.activity(of: account, days: days) {
                growth[cell.day - days.lowerBound] += count.newFans
                domains[cell.domain, default: 0] += count.newFans
                channels[cell.channel, default: 0] += count.events
            }
            for d in try await store.indicatorDays(of: account, days: days) {
                sales.gmv = sales.gmv.saturatingAdd(d.gmv)
                sales.orders += d.orders
                sales.leads += d.leads
            }
            answered += try await store.deskResponses(of: [account], from: calendar.startOfDay(days.lowerBound), to: calendar.startOfDay(days.upperBound + 1)).count
            let setAside = try await store.quarantinedEvents(of: account, limit: 1_000).count
            if setAside > 0 {
                quarantined.append(OverviewContent.Entry(name: account.name, count: setAside, href: "/console/settings?account=\(account.id)#health"))
            }
        }
        let total = current.values.reduce(0, +)
        let tiers = Tier.allCases
        let dayTexts = days.map(AccountCalendar.dateText(ofDay:))
        let cards = [Card(label: t(.totalFans), value: "\(total)")] + tiers.reversed().map { Card(label: t.tier($0), value: "\(current[$0] ?? 0)") }
            + [Card(label: t.inDays(.gmv, days.count), value: "¥" + Self.yuan(sales.gmv)), Card(label: t.inDays(.ordersLabel, days.count), value: "\(sales.orders)"),
               Card(label: t.inDays(.leadsLabel, days.count), value: "\(sales.leads)"), Card(label: t.inDays(.dmsAnswered, days.count), value: "\(answered)")]
        // Followers' tiers as shares: potential fans, the many who never followed, would flatten the small tiers.
        let followerTiers: [Tier] = [.passerby, .liking, .trueLove]
        let shares = daily.map { counts -> [Tier: Int] in
            let followers = followerTiers.reduce(0) { $0 + (counts[$1] ?? 0) }
            return Dictionary(uniqueKeysWithValues: followerTiers.map { ($0, followers == 0 ? 0 : Int((100 * Double(counts[$0] ?? 0) / Double(followers)).rounded())) })
        }
        let funnel = try await Funnels(flywheel).report(of: scope.accounts, overrides: [:], by: try context.caller()).total
        let charts = [
            Charts.funnel(title: t(.flywheelFunnel), FunnelStage.allCases.map { (t.stage($0), funnel.fans[$0] ?? 0) }),
            Charts.bars(title: t(.fansByTier), tiers.reversed().map { (t.tier($0), current[$0] ?? 0) }),
            Charts.lines(title: t(.tierMix), days: dayTexts, series: followerTiers.map { tier in (t.tier(tier), shares.map { $0[tier] ?? 0 }) }, today: t(.soFar)),
            Charts.lines(title: t(.newFansPerDay), days: dayTexts, series: [(t(.newFans), growth)], today: t(.soFar)),
            Charts.bars(title: t(.newFansByDomain), SourceDomain.allCases.map { (t.domain($0), domains[$0] ?? 0) }),
            Charts.rows(title: t(.eventsByChannel), channels.filter { $0.key != .unknown }.sorted { $0.value > $1.value }.prefix(10).map { (t.channel($0.key), $0.value) }),
        ]
        let content = OverviewContent(range: .init(scope: scope.selected, from: AccountCalendar.dateText(ofDay: days.lowerBound),
                                                   to: AccountCalendar.dateText(ofDay: days.upperBound), max: AccountCalendar.dateText(ofDay: today)),
                                      notice: problem.map { Notice(text: $0, isError: true) },
                                      cards: cards, quarantine: quarantined.isEmpty ? nil : OverviewContent.Quarantine(accounts: quarantined),
                                      charts: charts,
                                      transitions: moves.sorted { $0.value > $1.value }.prefix(10).map { Card(label: $0.key, value: "\($0.value)") },
                                      unknownChannel: channels[.unknown].map { t.unknownChannel($0) })
        return try await page("overview", content, title: t(.overview), nav: .overview, request, context, scope: scope, path: "/console")
    }

    // MARK: Fans

    struct FanContent {
        var notice: Notice?
        var cards: [Card]
        /// Following or not, then the profile's attributes.
        var profile: [String]
        var tagList: [String]
        var interests: [String]
        var groups: [String]
        /// The tag and note forms, for roles that work with fans.
        var actions: Actions?
        var timeline: [TimelineRow]
        /// The same page with twice the entries, while the history has more.
        var more: String?

        struct Actions {
            var csrf: String
            var tagAction: String
            var notesAction: String
            /// nil while the tenant has no tag defined: a link to define one instead.
            var tagForm: TagForm?
            var tagsHref: String
        }
        struct TagForm { var options: [SelectOption] }
        /// `code` is the kind as the API names it, kept in the page for scripts and tests.
        struct TimelineRow { var at: String; var actor: String; var code: String; var kind: String; var detail: String }
    }

    @Sendable func fan(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let scope = try await scope(request, context)
        let openId = try context.parameters.require("openId")
        guard let account = scope.account, let fan = try await store.fan(of: account, openId: openId) else {
            throw APIError.notFound("fan \(openId)")
        }
        // The history a page at a time: each "more" doubles what is shown, as deep as the timeline pages.
        let shown = min(max(Int(request.query("entries") ?? "") ?? 60, 60), Fans.timelineDepth)
        let history = try await Fans(flywheel).timeline(of: openId, in: account, skipping: 0, limit: shown, by: try context.caller())
        let timeline = history.items.map { Self.timelineRow($0, t, account) }
        let more = history.more ? "/console/fans/\(Self.pathComponent(openId))?account=\(account.id)&entries=\(min(shown * 2, Fans.timelineDepth))#timeline" : nil
        let profile = zip(FanProfile.attributeNames, fan.profile.attributeValues).compactMap { name, value in
            value.map { "\(t.attribute(name)): \(t.attributeValue(name, $0))" }
        }
        var actions: FanContent.Actions?
        if context.allows(.tagFans), let csrf = context.session?.csrf {
            let path = "/console/fans/\(Self.pathComponent(openId))"
            let defined = try await store.tags(tenantId: account.tenantId)
            let tagForm = defined.isEmpty ? nil : FanContent.TagForm(options: defined.map { SelectOption(value: $0.name, label: "\($0.group) · \($0.name)") })
            actions = FanContent.Actions(csrf: csrf, tagAction: "\(path)/tags?account=\(account.id)", notesAction: "\(path)/notes?account=\(account.id)",
                                         tagForm: tagForm, tagsHref: "/console/tags?account=\(account.id)")
        }
        let cards = [Card(label: t(.tier), value: t.tier(fan.tier)), Card(label: t(.level), value: "\(fan.level)"),
                     Card(label: t(.intimacy), value: "\(fan.intimacy)"), Card(label: t(.gmv), value: "¥\(fan.gmv / 100)"),
                     Card(label: t(.source), value: t.domain(fan.firstDomain))]
        let content = FanContent(notice: Self.errorNotice(request), cards: cards, profile: [t(fan.following ? .following : .notFollowing)] + profile,
                                 tagList: fan.tags.sorted(), interests: fan.profile.interests.sorted(),
                                 groups: fan.groups.filter(\.value.member).keys.sorted(), actions: actions, timeline: timeline, more: more)
        return try await page("fan", content, title: fan.nickname ?? fan.openId, nav: .fans, request, context, scope: scope, path: "/console/fans")
    }

    /// A timeline entry in the reader's words, at the account's local time: tiers, kinds, actors,
    /// causes, channels and domains translated, amounts in yuan or minutes; tags, notes and segment
    /// names as they were written.
    static func timelineRow(_ item: Fans.TimelineItem, _ t: Language, _ account: Account) -> FanContent.TimelineRow {
        let minute = { (ms: Int64) in localMinute(ms, account) }
        switch item {
        case .event(let stored):
            let event = stored.event, entry = TimelineEntry(event: event, seq: stored.seq)
            var parts = [entry.detail].compactMap { $0 }
            if !event.kind.isOperatorAction {
                parts.append("\(t.channel(event.channel)) · \(t.domain(event.domain))")
                switch event.kind {
                case .orderPaid, .orderRefunded, .liveGift: parts.append("¥" + yuan(event.amount))
                case .liveWatch: parts.append(t.pick("\(event.amount) min", "\(event.amount) 分钟"))
                default: break
                }
            }
            return FanContent.TimelineRow(at: minute(event.occurredAt), actor: t.actor(entry.actor), code: entry.kind,
                                          kind: t.kind(event.kind), detail: parts.joined(separator: " · "))
        case .tierChanged(let at, let from, let to, let cause):
            return FanContent.TimelineRow(at: minute(at), actor: t.actor("system"), code: "tier_changed", kind: t.kind(code: "tier_changed"),
                                          detail: "\(t.tierOrNew(from)) → \(t.tier(to)) (\(t.cause(cause)))")
        case .segment(let at, let entered, let name, let cause):
            let code = entered ? "segment_entered" : "segment_left"
            return FanContent.TimelineRow(at: minute(at), actor: t.actor("system"), code: code, kind: t.kind(code: code),
                                          detail: "\(name) (\(t.cause(cause)))")
        case .action(let at, let action, let detail):
            return FanContent.TimelineRow(at: minute(at), actor: t.actor("system"), code: action, kind: t.kind(code: action),
                                          detail: "\(detail) (\(t(.byRule)))")
        case .journey(let at, let name, let step, let kind, let outcome):
            return FanContent.TimelineRow(at: minute(at), actor: t.actor("system"), code: "journey_step", kind: t.kind(code: "journey_step"),
                                          detail: step == 0 ? "\(name) · \(t.arm(outcome))" : "\(name) · \(t.stepNumber(step)) \(t.stepKind(kind)) · \(t.stepOutcome(outcome))")
        }
    }

    /// Back to the fan's page, with what went wrong if anything did.
    func backToFan(_ openId: String, _ account: Account, error: String? = nil) -> Response {
        let location = "/console/fans/\(Self.pathComponent(openId))?account=\(account.id)" + (error.map { "&error=\(Self.queryValue($0))" } ?? "")
        return Response(status: .seeOther, headers: [.location: location])
    }

    @Sendable func tagFan(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let openId = try context.parameters.require("openId")
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        let tag = context.form["tag"] ?? ""
        let add = context.form["op"] != "remove"
        do {
            _ = try await Tags(flywheel).tag(.fans([openId]), of: account, add: add ? [tag] : [], remove: add ? [] : [tag], by: caller)
        } catch UseCaseError.invalid(_, let message) {
            return backToFan(openId, account, error: message)
        }
        // Applied now rather than at the projector's next turn, so the page shows it.
        await flywheel.projector.runOnce()
        return backToFan(openId, account)
    }

    @Sendable func noteFan(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let openId = try context.parameters.require("openId")
        guard let account = try await scope(request, context).account else { throw APIError.notFound("fan \(openId)") }
        do {
            _ = try await Tags(flywheel).note(context.form["text"] ?? "", about: openId, of: account, by: caller)
        } catch UseCaseError.invalid(let field, let message) {
            return backToFan(openId, account, error: "\(field): \(message)")
        }
        await flywheel.projector.runOnce()
        return backToFan(openId, account)
    }

    // MARK: Segments

    struct SegmentsContent {
        var account: String
        var predicate: String
        var predicateError: String?
        var preview: Preview?
        /// Saving what was previewed, for roles that may.
        var save: Save?
        var rows: [Row]
        var importForm: ImportForm?
        var help: FieldHelp

        struct Preview { var count: Int; var sample: [Sample] }
        struct Sample { var name: String; var href: String }
        struct Save { var action: String; var csrf: String; var predicate: String }
        struct Row { var href: String; var name: String; var predicate: String; var size: Int; var state: String }
        struct ImportForm { var action: String; var csrf: String; var notice: Notice? }
    }

    /// The editor's count follows the typing: the page's script fetches the same page and swaps its
    /// preview in (segments.mustache). Without scripts the Preview button does the same.
    @Sendable func segments(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let scope = try await scope(request, context)
        guard let account = scope.account else { return try await matrixSegments(request, context, scope: scope) }
        let text = request.query("predicate") ?? ""
        // Values may be typed in the page's words; what is saved is the predicate in codes.
        let canonical = Language.canonicalPredicate(text)
        var content = SegmentsContent(account: account.id, predicate: text, rows: [], help: FieldHelp(t))
        if !text.isEmpty {
            do {
                let predicate = try FanPredicate.parse(canonical)
                let preview = try await flywheel.fanScan.preview(predicate, of: account, now: flywheel.env.now(), sample: 10)
                content.preview = SegmentsContent.Preview(count: preview.count, sample: preview.sample.map {
                    SegmentsContent.Sample(name: $0.nickname ?? $0.openId, href: "/console/fans/\(Self.pathComponent($0.openId))?account=\(account.id)")
                })
            } catch let error as FlywheelDomain.PredicateError {
                content.predicateError = t.predicateError(error)
            }
        }
        content.rows = try await store.segments(of: account).map { s in
            SegmentsContent.Row(href: "/console/segments/\(s.id)?account=\(account.id)", name: s.name,
                                predicate: s.predicate?.description ?? t(.staticList), size: s.size, state: t.state(s.state))
        }
        if context.allows(.createSegment), let csrf = context.session?.csrf {
            if content.preview != nil {
                content.save = SegmentsContent.Save(action: "/console/segments?account=\(account.id)", csrf: csrf, predicate: canonical)
            }
            content.importForm = SegmentsContent.ImportForm(action: "/console/segments/import?account=\(account.id)", csrf: csrf,
                                                            notice: Self.errorNotice(request))
        }
        return try await page("segments", content, title: t(.segments), nav: .segments, request, context, scope: scope, path: "/console/segments")
    }
}

extension ConsoleRoutes {
    // MARK: One segment

    @Sendable func saveSegment(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let scope = try await scope(request, context)
        guard let account = scope.account else { return try await saveMatrixSegment(request, context, scope: scope) }
        let text = context.form["predicate"] ?? ""
        let predicate: FanPredicate
        do { predicate = try FanPredicate.parse(text) } catch { throw APIError.invalid("predicate", error.description) }
        let segment = try await Segments(flywheel).create(name: context.form["name"] ?? "", predicate: predicate, in: account, by: caller)
        return Response(status: .seeOther, headers: [.location: "/console/segments/\(segment.id)?account=\(account.id)"])
    }

    func chosenSegment(_ request: Request, _ context: FlywheelRequestContext) async throws -> (Scope, Account, Segment) {
        let scope = try await scope(request, context)
        let id = try context.parameters.require("segmentId")
        guard let account = scope.account, let segment = try await store.segment(id: id, of: account) else { throw APIError.notFound("segment \(id)") }
        return (scope, account, segment)
    }

    struct SegmentContent {
        var cards: [Card]
        var predicate: String
        var failure: String?
        /// The members in the fan list, with its tools.
        var membersHref: String
        var exportHref: String
        var exportHashedHref: String
        var notice: Notice?
        var lookalike: Lookalike?
        /// Size over time, entries and exits.
        var history: [ChartView]
        var charts: [ChartView]

        struct Lookalike { var action: String; var csrf: String }
    }

    @Sendable func segment(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let (scope, account, segment) = try await chosenSegment(request, context)
        let portrait = try await Segments(flywheel).portrait(of: segment, in: account, by: try context.caller())
        func chart(_ title: Phrase, _ dimension: String, top: Int = 8) -> ChartView {
            var items = Array((portrait.distributions[dimension] ?? [:]).sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(top))
            // Tiers, age bands and levels read in their own order (the most common kept); the rest most common first.
            if let rank = Self.naturalRank(dimension) { items.sort { rank($0.key) < rank($1.key) } }
            return Charts.bars(title: t(title), items.map { (Self.portraitLabel(dimension, $0.key, t), $0.value) })
        }
        // Size over the last 30 days, with each day's entries and exits.
        let today = account.calendar.day(ofMillis: flywheel.env.now())
        let sizes = try await Segments(flywheel).sizes(of: segment, in: account, days: (today - 29)...today, by: try context.caller())
        let dayTexts = sizes.map { AccountCalendar.dateText(ofDay: $0.day) }
        let history = [Charts.lines(title: t(.sizeOverTime), days: dayTexts, series: [(t(.size), sizes.map(\.size))], today: t(.soFar)),
                       Charts.lines(title: t(.entriesAndExits), days: dayTexts,
                                    series: [(t(.enteredLabel), sizes.map(\.entered)), (t(.leftLabel), sizes.map(\.left))], today: t(.soFar))]
        let export = "/console/segments/\(segment.id)/export?account=\(account.id)"
        var lookalike: SegmentContent.Lookalike?
        if context.allows(.createLookalike), let csrf = context.session?.csrf {
            lookalike = SegmentContent.Lookalike(action: "/console/segments/\(segment.id)/lookalike?account=\(account.id)", csrf: csrf)
        }
        let content = SegmentContent(
            cards: [Card(label: t(.size), value: "\(segment.size)"), Card(label: t(.state), value: t.state(segment.state))],
            predicate: segment.predicate?.description ?? t(.staticList), failure: segment.failure,
            membersHref: "/console/fans?account=\(account.id)&segment=\(Self.queryValue(segment.id))", exportHref: export, exportHashedHref: export + "&hash=sha256", notice: Self.errorNotice(request), lookalike: lookalike,
            history: history, charts: [chart(.tier, "tier"), chart(.gender, "gender"), chart(.ageBand, "age_band"),
                     chart(.firstDomain, "first_domain"), chart(.interests, "interests"), chart(.level, "level", top: 12)])
        return try await page("segment", content, title: segment.name, nav: .segments, request, context, scope: scope, path: "/console/segments")
    }

    /// The order a dimension's values have of their own (unknown values last); nil for those
    /// without one, which read most common first.
    static func naturalRank(_ dimension: String) -> ((String) -> Int)? {
        switch dimension {
        case "tier": { Tier(name: $0)?.rawValue ?? .max }
        case "age_band": { FanProfile.ageBands.firstIndex(of: $0) ?? .max }
        case "level": { Int($0) ?? .max }
        default: nil
        }
    }

    /// A portrait's value in the reader's words: tiers, domains, genders and devices are codes;
    /// age bands, interests and levels are shown as they are.
    static func portraitLabel(_ dimension: String, _ key: String, _ t: Language) -> String {
        if key.isEmpty { return "—" }
        switch dimension {
        case "tier": return Tier(name: key).map { t.tier($0) } ?? key
        case "first_domain", "latest_domain": return SourceDomain(rawValue: key).map { t.domain($0) } ?? key
        case "first_channel": return Channel(rawValue: key).map { t.channel($0) } ?? key
        default: return t.attributeValue(dimension, key)
        }
    }

    @Sendable func importSegment(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        do {
            let (segment, _) = try await Segments(flywheel).importStatic(name: context.form["name"] ?? "", csv: context.form["csv"] ?? "", into: account, by: caller)
            return Response(status: .seeOther, headers: [.location: "/console/segments/\(segment.id)?account=\(account.id)"])
        } catch let error as UseCaseError {
            return Response(status: .seeOther, headers: [.location: "/console/segments?account=\(account.id)&error=\(Self.queryValue(error.description))"])
        }
    }

    @Sendable func lookalikeSegment(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let (_, account, seed) = try await chosenSegment(request, context)
        do {
            guard let size = Int((context.form["size"] ?? "").trimmingCharacters(in: .whitespaces)) else {
                throw UseCaseError.invalid(field: "size", "must be a whole number")
            }
            let made = try await Segments(flywheel).lookalike(of: seed, in: account, name: context.form["name"] ?? "", size: size, by: caller)
            return Response(status: .seeOther, headers: [.location: "/console/segments/\(made.id)?account=\(account.id)"])
        } catch let error as UseCaseError {
            return Response(status: .seeOther, headers: [.location: "/console/segments/\(seed.id)?account=\(account.id)&error=\(Self.queryValue(error.description))"])
        }
    }

    @Sendable func exportSegment(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let (_, account, segment) = try await chosenSegment(request, context)
        return Response.csv(try await Segments(flywheel).export(segment, of: account, hash: request.query("hash"), by: try context.caller()))
    }

    // MARK: Tags and settings

    struct TagsContent {
        var form: TagForm?
        /// nil while the tenant has no tag.
        var groups: Groups?

        struct TagForm { var action: String; var csrf: String }
        struct Groups { var rows: [Row] }
        struct Row { var name: String; var tags: [Count] }
        struct Count { var name: String; var count: Int }
    }

    @Sendable func tags(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let scope = try await scope(request, context)
        var groups: [String: [String]] = [:]
        for tenantId in Set(scope.accounts.map(\.tenantId)) {
            for tag in try await store.tags(tenantId: tenantId) { groups[tag.group, default: []].append(tag.name) }
        }
        // One look at each account's fans counts every tag.
        let names = Array(Set(groups.values.joined()))
        var counts: [String: Int] = [:]
        for account in scope.accounts {
            let found = try await flywheel.fanScan.counts(names.map { .has(field: "tags", value: $0) }, of: account, now: flywheel.env.now())
            for (name, n) in zip(names, found) { counts[name, default: 0] += n }
        }
        let rows = groups.sorted { $0.key < $1.key }.map { group, names in
            TagsContent.Row(name: group, tags: names.sorted().map { TagsContent.Count(name: $0, count: counts[$0] ?? 0) })
        }
        var form: TagsContent.TagForm?
        if context.allows(.createTag), let csrf = context.session?.csrf {
            form = TagsContent.TagForm(action: "/console/tags\(scope.query)", csrf: csrf)
        }
        let content = TagsContent(form: form, groups: rows.isEmpty ? nil : TagsContent.Groups(rows: rows))
        return try await page("tags", content, title: t(.tags), nav: .tags, request, context, scope: scope, path: "/console/tags")
    }

    /// Saves the tier rules; the projector re-places every fan. A rule that does not parse or
    /// check comes back to the form with the reason and the text as typed.
    @Sendable func saveTierRules(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        let texts = ["trueLove", "liking", "passerby"].map { ($0, context.form[$0] ?? "") }
        let back = "/console/settings?account=\(account.id)" + texts.map { "&\($0.0)=\(Self.queryValue($0.1))" }.joined()
        var rules = try await store.rules(of: account).rules
        do {
            func parse(_ field: String) throws -> FanPredicate {
                do { return try FanPredicate.parse(context.form[field] ?? "") } catch { throw RuleError.invalid(field: "tiers.\(field)", error.description) }
            }
            rules.tiers = TierRules(passerby: try parse("passerby"), liking: try parse("liking"), trueLove: try parse("trueLove"))
            _ = try await Accounts(flywheel).changeRules(rules, of: account, by: caller)
        } catch RuleError.invalid(let field, let message) {
            return Response(status: .seeOther, headers: [.location: back + "&error=" + Self.queryValue("\(field): \(message)")])
        } catch UseCaseError.invalid(let field, let message) {
            return Response(status: .seeOther, headers: [.location: back + "&error=" + Self.queryValue("\(field): \(message)")])
        }
        return Response(status: .seeOther, headers: [.location: "/console/settings?account=\(account.id)"])
    }

    func backToSettings(_ account: Account, notice: String? = nil, error: String? = nil) -> Response {
        let query = (notice.map { "&notice=\(Self.queryValue($0))" } ?? "") + (error.map { "&error=\(Self.queryValue($0))" } ?? "")
        return Response(status: .seeOther, headers: [.location: "/console/settings?account=\(account.id)\(query)"])
    }

    /// Flat points per event kind; amounts keep their per-amount rules.
    @Sendable func savePoints(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        var rules = try await store.rules(of: account).rules
        for kind in EventKind.allCases where !kind.isOperatorAction {
            guard let text = context.form[kind.rawValue] else { continue }
            guard let flat = Int(text.trimmingCharacters(in: .whitespaces)), flat >= 0 else {
                return backToSettings(account, error: "points.\(kind.rawValue): must be a whole number, 0 or more")
            }
            var rule = rules.points.rules[kind] ?? PointRule()
            rule.flat = flat
            rules.points.rules[kind] = rule.flat == 0 && rule.perAmount == 0 ? nil : rule
        }
        do {
            _ = try await Accounts(flywheel).changeRules(rules, of: account, by: caller)
        } catch let error as UseCaseError {
            return backToSettings(account, error: error.description)
        }
        return backToSettings(account)
    }

    @Sendable func addUser(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        try context.authorize(.createUser)
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        let t = Self.language(request)
        guard let role = Role(rawValue: context.form["role"] ?? "") else { return backToSettings(account, error: "role: unknown role") }
        let password = context.form["password"] ?? ""
        guard password.count >= 8 else { return backToSettings(account, error: "password: must be 8 characters or more") }
        let user: User
        do {
            user = try await Members(flywheel).create(name: context.form["name"] ?? "", role: role, tenant: account.tenantId,
                                                      in: context.tenantIds, by: caller)
        } catch UseCaseError.forbidden {
            return backToSettings(account, error: "role: \(t(.notThisUser))")
        } catch UseCaseError.conflict {
            return backToSettings(account, error: "name: a user of that name exists")
        } catch let error as UseCaseError {
            return backToSettings(account, error: error.description)
        }
        try await flywheel.signIn.setPassword(password, of: user, actor: caller.actor)
        return backToSettings(account, notice: "\(user.name) (\(t.role(role)))")
    }

    /// A new API key for the signed-in user, shown once on the page; it expires after the days
    /// chosen, or never.
    @Sendable func issueKey(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.authorize(.createOwnKey)
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        let days = (context.form["expiresInDays"] ?? "").trimmingCharacters(in: .whitespaces)
        let key: Tenancy.IssuedKey
        do {
            guard days.isEmpty || Int(days) != nil else { throw UseCaseError.invalid(field: "expiresInDays", "must be a whole number of days") }
            key = try await Members(flywheel).issueKey(for: caller.userId, expiresAt: nil, expiresInDays: Int(days), in: [caller.tenantId], by: caller)
        } catch let error as UseCaseError {
            return backToMembers(account, section: .keys, error: error.description)
        }
        let t = Self.language(request)
        // Answered to a post: the language link opens the settings page, not this one.
        let frame = Frame(title: t(.settings), language: t, menu: true, current: .settings, scopeQuery: "?account=\(account.id)",
                          csrf: context.session?.csrf, here: ("/console/settings", "account=\(account.id)"))
        return remember(request, templates.render("key", KeyContent(token: key.token, settingsHref: "/console/settings?account=\(account.id)"),
                                                  frame: frame, language: t))
    }

    struct KeyContent {
        var token: String
        var settingsHref: String
    }

    @Sendable func addApp(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        do {
            let app = try await Accounts(flywheel).createApp(name: context.form["name"] ?? "", clientKey: context.form["clientKey"] ?? "",
                                                             clientSecret: context.form["clientSecret"] ?? "", in: account.tenantId, by: caller)
            return backToSettings(account, notice: app.clientKey)
        } catch let error as UseCaseError {
            return backToSettings(account, error: error.description)
        }
    }

    /// Defines a tag in the tenant of the chosen scope (the caller's own when it spans several).
    @Sendable func createTag(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let scope = try await scope(request, context)
        let tenantId = Set(scope.accounts.map(\.tenantId)).count == 1 ? scope.accounts[0].tenantId : caller.tenantId
        _ = try await Tags(flywheel).define(name: context.form["name"] ?? "", group: context.form["group"] ?? "", in: tenantId, by: caller)
        return Response(status: .seeOther, headers: [.location: "/console/tags\(scope.query)"])
    }

    // MARK: Users and keys

    /// The settings page's two sections about people: its users, and the signed-in user's keys.
    enum MembersSection: String { case users, keys }

    /// Back to the settings page's users or keys, with what was done or why not.
    func backToMembers(_ account: Account, section: MembersSection, notice: String? = nil, error: String? = nil) -> Response {
        let query = (notice.map { "&\(section.rawValue)Notice=\(Self.queryValue($0))" } ?? "")
            + (error.map { "&\(section.rawValue)Error=\(Self.queryValue($0))" } ?? "")
        return Response(status: .seeOther, headers: [.location: "/console/settings?account=\(account.id)\(query)#\(section.rawValue)"])
    }

    /// Runs a change to users or keys (as the API's), and goes back to the settings page with its
    /// notice, or with why it was refused in the reader's words.
    func changeMembers(_ request: Request, _ context: FlywheelRequestContext, section: MembersSection,
                       _ change: (Members, Principal, Language) async throws -> String) async throws -> Response {
        let caller = try context.caller()
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        let t = Self.language(request)
        do {
            return backToMembers(account, section: section, notice: try await change(Members(flywheel), caller, t))
        } catch UseCaseError.conflict(let code, let message) {
            let said: String = switch code {
            case "last_owner": t(.lastOwnerStays)
            case "changed_meanwhile": t(.changedMeanwhile)
            default: message
            }
            return backToMembers(account, section: section, error: said)
        } catch UseCaseError.forbidden {
            return backToMembers(account, section: section, error: t(.notThisUser))
        } catch let error as UseCaseError {
            return backToMembers(account, section: section, error: error.description)
        }
    }

    @Sendable func changeUserRole(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let userId = try context.parameters.require("userId")
        return try await changeMembers(request, context, section: .users) { members, caller, t in
            guard let role = Role(rawValue: context.form["role"] ?? "") else { throw UseCaseError.invalid(field: "role", "unknown role") }
            let user = try await members.changeRole(of: userId, to: role, in: context.tenantIds, by: caller)
            return "\(user.name): \(t.role(user.role))"
        }
    }

    @Sendable func disableUser(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let userId = try context.parameters.require("userId")
        return try await changeMembers(request, context, section: .users) { members, caller, t in
            let user = try await members.disable(userId, in: context.tenantIds, by: caller)
            return "\(user.name): \(t(.disabledState))"
        }
    }

    @Sendable func enableUser(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let userId = try context.parameters.require("userId")
        return try await changeMembers(request, context, section: .users) { members, caller, t in
            let user = try await members.enable(userId, in: context.tenantIds, by: caller)
            return "\(user.name): \(t(.activeState))"
        }
    }

    /// The user goes with its keys and sessions.
    @Sendable func removeUser(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let userId = try context.parameters.require("userId")
        return try await changeMembers(request, context, section: .users) { members, caller, t in
            let user = try await members.user(userId, in: context.tenantIds)
            try await members.remove(userId, in: context.tenantIds, by: caller)
            return "\(user.name): \(t(.removed))"
        }
    }

    /// Revokes one of the signed-in user's keys: refused from its next request on.
    @Sendable func revokeKey(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let keyId = try context.parameters.require("keyId")
        return try await changeMembers(request, context, section: .keys) { members, caller, t in
            try await members.revokeKey(keyId, in: context.tenantIds, by: caller)
            return "\(keyId): \(t.keyState(.revoked))"
        }
    }

    struct SettingsContent {
        var notice: Notice?
        /// Set when the rules may be edited.
        var tierForm: FormTarget?
        var tierRows: [TierRow]
        var tagRules: [Card]
        var usersNotice: Notice?
        var users: [UserRow]
        var userForm: UserForm?
        var keys: Keys
        var apps: [Card]
        var appForm: FormTarget?
        var pointsForm: FormTarget?
        var points: [PointRow]
        var levels: [LevelRow]
        /// The account's quarantined events, for owners and admins.
        var health: Health?

        struct TierRow { var field: String; var label: String; var rule: String; var editable: Bool }
        struct UserForm { var action: String; var csrf: String; var roles: [SelectOption] }
        /// A user with the changes the caller may make to them: each form is there only when allowed.
        struct UserRow { var name: String; var role: String; var state: String; var roleForm: RoleForm?; var stateForm: PostForm?; var removeForm: PostForm? }
        struct RoleForm { var action: String; var csrf: String; var roles: [SelectOption] }
        /// A form of one button.
        struct PostForm { var action: String; var csrf: String; var label: String }
        /// The signed-in user's own keys (newest first), and the form that issues another.
        struct Keys { var keysNotice: Notice?; var rows: [KeyRow]; var issueAction: String; var csrf: String; var expiries: [SelectOption] }
        struct KeyRow { var id: String; var createdAt: String; var expiresAt: String; var state: String; var revokeForm: PostForm? }
        struct PointRow { var code: String; var label: String; var flat: Int; var perAmount: String; var editable: Bool }
        struct LevelRow { var level: Int; var threshold: Int; var cap: Int }
        struct Health { var csrf: String; var healthNotice: Notice?; var events: Events? }
        struct Events { var rows: [QuarantineRow] }
        struct QuarantineRow { var seq: Int64; var eventId: String; var reason: String; var at: String; var retryAction: String; var dropAction: String }
    }

    /// Where a form posts, with the session's CSRF token.
    struct FormTarget {
        var action: String
        var csrf: String
    }

    @Sendable func settings(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let scope = try await scope(request, context)
        guard let account = scope.account else { return try await chooseAccount(t(.settings), nav: .settings, request, context, scope: scope, path: "/console/settings") }
        let rules = try await store.rules(of: account).rules
        let editable = context.allows(.changeRules)
        let manages = context.allows(.createUser)
        let csrf = context.session?.csrf ?? ""
        func target(_ path: String) -> FormTarget { FormTarget(action: "\(path)?account=\(account.id)", csrf: csrf) }

        // A rule that did not save comes back as typed, with the reason above it.
        let tierRules: [(field: String, tier: Tier, rule: FanPredicate)] = [
            ("trueLove", .trueLove, rules.tiers.trueLove), ("liking", .liking, rules.tiers.liking), ("passerby", .passerby, rules.tiers.passerby),
        ]
        let tierRows = tierRules.map {
            SettingsContent.TierRow(field: $0.field, label: t.tier($0.tier), rule: request.query($0.field) ?? $0.rule.description, editable: editable)
        }
        let points = EventKind.allCases.filter { !$0.isOperatorAction }.map { kind in
            let rule = rules.points.rules[kind]
            return SettingsContent.PointRow(code: kind.rawValue, label: t.kind(kind), flat: rule?.flat ?? 0,
                                            perAmount: rule.flatMap { $0.perAmount > 0 ? "\($0.perAmount) / \($0.amountUnit)" : nil } ?? "—",
                                            editable: editable)
        }
        let levels = rules.levels.thresholds.enumerated().map {
            SettingsContent.LevelRow(level: $0.offset + 1, threshold: $0.element, cap: rules.levels.dailyCaps[$0.offset + 1])
        }
        var health: SettingsContent.Health?
        if manages {
            let rows = try await store.quarantinedEvents(of: account, limit: 200).map { e in
                SettingsContent.QuarantineRow(seq: e.seq, eventId: e.eventId, reason: e.reason, at: Self.minute(e.at),
                                              retryAction: "/console/settings/quarantine/\(e.seq)/retry?account=\(account.id)",
                                              dropAction: "/console/settings/quarantine/\(e.seq)/drop?account=\(account.id)")
            }
            let notice = request.query("healthError").map { Notice(text: $0, isError: true) }
                ?? request.query("healthNotice").map { Notice(text: $0, isError: false) }
            health = SettingsContent.Health(csrf: csrf, healthNotice: notice, events: rows.isEmpty ? nil : SettingsContent.Events(rows: rows))
        }
        let caller = try context.caller()
        let users = try await store.users(tenantId: account.tenantId).map { user in
            userRow(user, caller: caller, account: account, csrf: csrf, context, t)
        }
        let now = flywheel.env.now()
        let keyRows = try await store.apiKeys(tenantId: caller.tenantId, userId: caller.userId).reversed().map { key in
            SettingsContent.KeyRow(
                id: key.id, createdAt: Self.minute(key.createdAt), expiresAt: key.expiresAt.map(Self.minute) ?? t(.never),
                state: t.keyState(key.state(at: now)),
                revokeForm: key.revokedAt == nil && context.allows(.revokeOwnKey)
                    ? SettingsContent.PostForm(action: "/console/settings/keys/\(Self.pathComponent(key.id))/revoke?account=\(account.id)",
                                               csrf: csrf, label: t(.revokeKey))
                    : nil)
        }
        let keysNotice = request.query("keysError").map { Notice(text: $0, isError: true) } ?? request.query("keysNotice").map { Notice(text: $0, isError: false) }
        let expiries = [SelectOption(value: "", label: t(.never), selected: true)]
            + [30, 90, 365].map { SelectOption(value: "\($0)", label: t.days($0)) }
        let apps = try await store.apps(tenantId: account.tenantId).map { Card(label: $0.name, value: $0.clientKey) }
        let content = SettingsContent(
            notice: Self.errorNotice(request),
            tierForm: editable ? target("/console/settings") : nil,
            tierRows: tierRows,
            tagRules: rules.tagRules.map { Card(label: $0.tag, value: $0.when.description) },
            usersNotice: request.query("usersError").map { Notice(text: $0, isError: true) }
                ?? (request.query("usersNotice") ?? request.query("notice")).map { Notice(text: $0, isError: false) },
            users: users,
            userForm: manages ? SettingsContent.UserForm(action: "/console/settings/users?account=\(account.id)", csrf: csrf,
                                                         roles: Role.allCases.filter { Access.mayGrant(caller.role, $0) }
                                                             .map { SelectOption(value: $0.rawValue, label: t.role($0), selected: $0 == .operator) })
                : nil,
            keys: SettingsContent.Keys(keysNotice: keysNotice, rows: Array(keyRows), issueAction: "/console/settings/keys?account=\(account.id)",
                                       csrf: csrf, expiries: expiries),
            apps: apps,
            appForm: manages ? target("/console/settings/apps") : nil,
            pointsForm: editable ? target("/console/settings/points") : nil,
            points: points,
            levels: levels,
            health: health)
        return try await page("settings", content, title: t(.settings), nav: .settings, request, context, scope: scope, path: "/console/settings")
    }

    /// A user's row on the settings page, with the forms the access table and the role rules allow
    /// the caller: change the role (to roles up to the caller's own), disable or enable, remove.
    func userRow(_ user: User, caller: Principal, account: Account, csrf: String, _ context: FlywheelRequestContext,
                 _ t: Language) -> SettingsContent.UserRow {
        let path = "/console/settings/users/\(Self.pathComponent(user.id))"
        let manages = Access.mayManage(caller.role, user.role)
        func form(_ operation: FlywheelApp.Operation, _ action: String, _ label: Phrase) -> SettingsContent.PostForm? {
            manages && context.allows(operation) ? SettingsContent.PostForm(action: "\(path)/\(action)?account=\(account.id)", csrf: csrf, label: t(label)) : nil
        }
        let roleForm = manages && context.allows(.changeUser)
            ? SettingsContent.RoleForm(action: "\(path)/role?account=\(account.id)", csrf: csrf,
                                       roles: Role.allCases.filter { Access.mayGrant(caller.role, $0) }
                                           .map { SelectOption(value: $0.rawValue, label: t.role($0), selected: $0 == user.role) })
            : nil
        return SettingsContent.UserRow(name: user.name, role: t.role(user.role), state: t(user.isDisabled ? .disabledState : .activeState),
                                       roleForm: roleForm,
                                       stateForm: user.isDisabled ? form(.enableUser, "enable", .enableUser) : form(.disableUser, "disable", .disableUser),
                                       removeForm: form(.removeUser, "remove", .removeUser))
    }

    // MARK: Account health

    /// Back to the settings page's health section, with what happened.
    func backToHealth(_ account: Account, notice: String? = nil, error: String? = nil) -> Response {
        let query = (notice.map { "&healthNotice=\(Self.queryValue($0))" } ?? "") + (error.map { "&healthError=\(Self.queryValue($0))" } ?? "")
        return Response(status: .seeOther, headers: [.location: "/console/settings?account=\(account.id)\(query)#health"])
    }

    static func quarantinedSeq(_ context: FlywheelRequestContext) throws -> Int64 {
        guard let seq = Int64(try context.parameters.require("seq")), seq > 0 else { throw APIError.invalid("seq", "must be a positive whole number") }
        return seq
    }

    /// Puts a quarantined event back in the log (as `POST /v1/accounts/{id}/quarantine/{seq}/retry`),
    /// or says why it still cannot be applied.
    @Sendable func retryQuarantined(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        let seq = try Self.quarantinedSeq(context)
        let t = Self.language(request)
        do {
            let newSeq = try await Quarantine(flywheel).retry(seq, of: account, by: caller)
            return backToHealth(account, notice: "\(seq) → \(newSeq): \(t(.requeued))")
        } catch UseCaseError.conflict(_, let reason) {
            return backToHealth(account, error: "\(seq): \(t(.stillInvalid)): \(reason)")
        } catch UseCaseError.notFound {
            return backToHealth(account, error: "\(seq): \(t(.notQuarantined))")
        }
    }

    /// Forgets a quarantined event for good (as `DELETE /v1/accounts/{id}/quarantine/{seq}`).
    @Sendable func dropQuarantined(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        let seq = try Self.quarantinedSeq(context)
        let t = Self.language(request)
        do {
            try await Quarantine(flywheel).drop(seq, of: account, by: caller)
        } catch UseCaseError.notFound {
            return backToHealth(account, error: "\(seq): \(t(.notQuarantined))")
        }
        return backToHealth(account, notice: "\(seq): \(t(.dropped))")
    }
}

/// Resolves the session cookie to a principal (or sends the browser to sign in), and refuses a
/// form posted without the session's CSRF token.
struct SessionMiddleware: RouterMiddleware {
    let flywheel: Flywheel

    func handle(_ request: Request, context: FlywheelRequestContext,
                next: (Request, FlywheelRequestContext) async throws -> Response) async throws -> Response {
        guard let token = request.cookies[ConsoleRoutes.cookie]?.value, let found = try await flywheel.signIn.session(token: token) else {
            return Response(status: .seeOther, headers: [.location: "/console/login"])
        }
        var context = context
        context.principal = found.principal
        context.session = found.session
        context.tenantIds = try await flywheel.tenancy.reachableTenants(of: found.principal)
        if request.method == .post {
            let fields = try await ConsoleRoutes.formFields(request)
            context.form = Dictionary(fields, uniquingKeysWith: { _, last in last })
            context.formLists = Dictionary(grouping: fields, by: \.0).mapValues { $0.map(\.1) }
            guard context.form["csrf"] == found.session.csrf else { throw APIError(.forbidden, "csrf", "the form is stale or forged; reload the page") }
        }
        return try await next(request, context)
    }
}
