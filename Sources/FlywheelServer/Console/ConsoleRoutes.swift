import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// The operator's console, rendered on the server (docs/console.md): sign-in with a session
/// cookie, CSRF tokens on every form, roles from the tenancy model, Chinese and English.
struct ConsoleRoutes {
    let flywheel: Flywheel
    var store: any Store { flywheel.env.store }
    static let cookie = "fw_session"

    func add(to router: Router<FlywheelRequestContext>) {
        router.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/console"]) }
        router.get("/console/login") { request, _ in self.loginPage(request, error: nil) }
        router.post("/console/login", use: login)
        let console = router.group("console").add(middleware: SessionMiddleware(flywheel: flywheel))
        console.post("logout", use: logout)
        console.get("", use: overview)
        console.get("fans", use: fans)
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
        console.post("settings/keys", use: issueKey)
        console.post("settings/apps", use: addApp)
    }

    /// A query parameter as browsers send forms: `+` is a space.
    static func parameter(_ request: Request, _ name: String) -> String? {
        for pair in (request.uri.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.first.flatMap({ $0.removingPercentEncoding }) == name else { continue }
            let value = parts.count > 1 ? String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" : ""
            return value.isEmpty ? nil : value
        }
        return nil
    }

    static func language(_ request: Request) -> Language {
        if let chosen = Self.parameter(request, "lang").flatMap(Language.init(rawValue:)) { return chosen }
        return request.cookies["fw_lang"].flatMap { Language(rawValue: $0.value) } ?? .zh
    }

    /// Remembers a language chosen with `?lang=`.
    static func remember(_ request: Request, _ response: Response) -> Response {
        guard let chosen = Self.parameter(request, "lang").flatMap(Language.init(rawValue:)) else { return response }
        var response = response
        response.setCookie(Cookie(name: "fw_lang", value: chosen.rawValue, maxAge: 365 * 86_400, path: "/", httpOnly: true, sameSite: .lax))
        return response
    }

    // MARK: Signing in and out

    func loginPage(_ request: Request, error: String?) -> Response {
        let t = Self.language(request)
        let body = """
            <form class="login" method="post" action="/console/login">
            \(error.map { "<p class=\"error\" role=\"alert\">\(html($0))</p>" } ?? "")
            <label for="name">\(html(t("User")))</label><input id="name" name="name" autocomplete="username" required>
            <label for="password">\(html(t("Password")))</label><input id="password" name="password" type="password" autocomplete="current-password" required>
            <p><button class="primary" type="submit">\(html(t("Sign in")))</button></p></form>
            """
        return Self.remember(request, Page(title: t("Sign in"), language: t, body: body).response(status: error == nil ? .ok : .unauthorized))
    }

    @Sendable func login(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        guard let signedIn = try await flywheel.signIn.signIn(name: form["name"] ?? "", password: form["password"] ?? "") else {
            return loginPage(request, error: Self.language(request)("Wrong user or password"))
        }
        var response = Response(status: .seeOther, headers: [.location: "/console"])
        response.setCookie(Cookie(name: Self.cookie, value: signedIn.token, maxAge: Int(ConsoleSignIn.lifetime / 1_000), path: "/",
                                  httpOnly: true, sameSite: .lax))
        return response
    }

    @Sendable func logout(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        if let token = request.cookies[Self.cookie]?.value { try await flywheel.signIn.signOut(token: token) }
        var response = Response(status: .seeOther, headers: [.location: "/console/login"])
        response.setCookie(Cookie(name: Self.cookie, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .lax))
        return response
    }

    /// An `application/x-www-form-urlencoded` body.
    static func form(_ request: Request) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: 1 << 16)
        var parts = URLComponents()
        parts.percentEncodedQuery = String(buffer: buffer).replacingOccurrences(of: "+", with: "%20")
        return Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
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
        guard let selected = Self.parameter(request, "account") else {
            return Scope(accounts: all, all: all, selected: nil)
        }
        let chosen = selected.hasPrefix("tenant:")
            ? all.filter { "tenant:\($0.tenantId)" == selected }
            : all.filter { $0.id == selected }
        return chosen.isEmpty ? Scope(accounts: all, all: all, selected: nil) : Scope(accounts: chosen, all: all, selected: selected)
    }

    func switcher(_ scope: Scope, _ t: Language, path: String) async throws -> String {
        var groups: [(name: String, id: String, accounts: [Account])] = []
        for (tenantId, accounts) in Dictionary(grouping: scope.all, by: \.tenantId) {
            groups.append((try await store.tenant(id: tenantId)?.name ?? tenantId, tenantId, accounts.sorted { $0.name < $1.name }))
        }
        func option(_ value: String, _ label: String) -> String {
            "<option value=\"\(html(value))\"\(value == scope.selected ? " selected" : "")>\(html(label))</option>"
        }
        let options = groups.sorted { $0.name < $1.name }.map { group in
            "<optgroup label=\"\(html(group.name))\">" + option("tenant:\(group.id)", "\(group.name) · \(t("All accounts"))")
                + group.accounts.map { option($0.id, "\(group.name) · \($0.name)") }.joined() + "</optgroup>"
        }.joined()
        return """
            <form method="get" action="\(path)"><select name="account" aria-label="\(html(t("Account")))" onchange="this.form.submit()">
            <option value="">\(html(t("All accounts")))</option>\(options)</select><noscript><button>→</button></noscript></form>
            """
    }

    /// What a one-account page shows while the scope is wider.
    func chooseAccount(_ title: String, nav: String, _ request: Request, _ context: FlywheelRequestContext, scope: Scope, path: String) async throws -> Response {
        try await page(title, nav: nav, request, context, scope: scope, path: path,
                       body: "<p>\(html(Self.language(request)("Choose an account to see its fans.")))</p>")
    }

    /// The `?error=` a form's handler sent the browser back with, shown where it happened.
    static func errorNotice(_ request: Request) -> String {
        parameter(request, "error").map { "<p class=\"error\" role=\"alert\">\(html($0))</p>" } ?? ""
    }

    func page(_ title: String, nav: String, _ request: Request, _ context: FlywheelRequestContext, scope: Scope, path: String, body: String) async throws -> Response {
        let t = Self.language(request)
        var page = Page(title: title, language: t, csrf: context.session?.csrf, nav: nav, scope: try await switcher(scope, t, path: path), body: body)
        page.scopeQuery = scope.query
        return Self.remember(request, page.response())
    }

    // MARK: Overview

    @Sendable func overview(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let scope = try await scope(request, context)
        let calendar = AccountCalendar(timeZone: TimeZone(identifier: AccountCalendar.defaultTimeZone) ?? .gmt)
        let today = calendar.day(ofMillis: flywheel.env.now())
        let days = (today - 29)...today
        var current: [Tier: Int] = [:]
        var daily = Array(repeating: [Tier: Int](), count: days.count)
        var domains: [SourceDomain: Int] = [:]
        var channels: [Channel: Int] = [:]
        var moves: [String: Int] = [:]
        var growth = Array(repeating: 0, count: days.count)
        for account in scope.accounts {
            for (tier, n) in try await store.tierCounts(of: account) { current[tier, default: 0] += n }
            var counts = try await store.tierCounts(of: account, before: days.lowerBound)
            let flows = try await store.tierFlows(of: account, days: days)
            for (i, day) in days.enumerated() {
                for (flow, n) in flows where flow.day == day {
                    counts[flow.to, default: 0] += n
                    if let from = flow.from { counts[from, default: 0] -= n }
                    if flow.from != flow.to { moves["\(t(flow.from?.name ?? "new")) → \(t(flow.to.name))", default: 0] += n }
                }
                for (tier, n) in counts { daily[i][tier, default: 0] += n }
            }
            for (cell, count) in try await store.activity(of: account, days: days) {
                growth[cell.day - days.lowerBound] += count.newFans
                domains[cell.domain, default: 0] += count.newFans
                channels[cell.channel, default: 0] += count.events
            }
        }
        let total = current.values.reduce(0, +)
        let tiers = Tier.allCases
        let cards = [("Total fans", total)] + tiers.reversed().map { ($0.name, current[$0] ?? 0) }
        let body = """
            <div class="cards">\(cards.map { "<div class=\"card\">\(html(t($0.0)))<b>\($0.1)</b></div>" }.joined())</div>
            <div class="grid">
            \(Charts.funnel(title: t("Fans by tier"), tiers.map { (t($0.name), current[$0] ?? 0) }))
            \(Charts.lines(title: t("Tier mix over 30 days"), days: days.map(AccountCalendar.dateText(ofDay:)),
                           series: tiers.map { tier in (t(tier.name), daily.map { $0[tier] ?? 0 }) }))
            \(Charts.lines(title: t("New fans per day"), days: days.map(AccountCalendar.dateText(ofDay:)), series: [(t("New fans"), growth)]))
            \(Charts.bars(title: t("New fans by domain, 30 days"), SourceDomain.allCases.map { (t($0.rawValue), domains[$0] ?? 0) }))
            \(Charts.bars(title: t("Events by channel, 30 days"), channels.sorted { $0.value > $1.value }.prefix(8).map { ($0.key.rawValue, $0.value) }))
            </div>
            <h2>\(html(t("Transitions, 30 days")))</h2>
            <table><tbody>\(moves.sorted { $0.value > $1.value }.prefix(10).map { "<tr><td>\(html($0.key))</td><td>\($0.value)</td></tr>" }.joined())</tbody></table>
            """
        return try await page(t("Overview"), nav: "Overview", request, context, scope: scope, path: "/console", body: body)
    }

    // MARK: Fans

    @Sendable func fans(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let scope = try await scope(request, context)
        guard let account = scope.account else { return try await chooseAccount(t("Fans"), nav: "Fans", request, context, scope: scope, path: "/console/fans") }
        let q = Self.parameter(request, "q") ?? ""
        let tier = Self.parameter(request, "tier").flatMap(Tier.init(name:))
        var terms: [FanPredicate] = []
        if !q.isEmpty { terms.append(APIRoutes.search(q)) }
        if let tier { terms.append(.compare(field: "tier", op: .eq, value: .name(tier.name))) }
        let cursor = Self.parameter(request, "cursor")
        let page = try await store.fans(of: account, matching: terms.isEmpty ? nil : .and(terms), now: flywheel.env.now(), cursor: cursor, limit: 50)
        let tierOptions = Tier.allCases.map { "<option value=\"\($0.name)\"\($0 == tier ? " selected" : "")>\(html(t($0.name)))</option>" }.joined()
        let rows = page.items.map { fan in
            """
            <tr><td><a href="/console/fans/\(html(fan.openId.addingPercentEncoding(withAllowedCharacters: CharacterSet.urlPathAllowed) ?? fan.openId))?account=\(account.id)">\(html(fan.nickname ?? fan.openId))</a></td>
            <td>\(html(t(fan.tier.name)))</td><td>\(fan.level)</td><td>\(fan.intimacy)</td><td>\(html(t(fan.firstDomain.rawValue)))</td>
            <td>\(fan.lastActiveAt > 0 ? Time.iso(fan.lastActiveAt).prefix(10) : "—")</td><td>¥\(fan.gmv / 100)</td></tr>
            """
        }.joined()
        let next = page.nextCursor.map { "<p><a href=\"/console/fans?account=\(account.id)&q=\(html(q))&tier=\(tier?.name ?? "")&cursor=\(html($0))\">\(html(t("Next page"))) →</a></p>" } ?? ""
        let body = """
            <form class="inline" method="get" action="/console/fans"><input type="hidden" name="account" value="\(html(account.id))">
            <input name="q" value="\(html(q))" placeholder="open_id / \(html(t("Nickname"))) / 138…" aria-label="\(html(t("Search")))">
            <select name="tier" aria-label="\(html(t("Tier")))"><option value="">\(html(t("Any tier")))</option>\(tierOptions)</select>
            <button class="primary">\(html(t("Filter")))</button></form>
            <table><thead><tr><th>\(html(t("Nickname")))</th><th>\(html(t("Tier")))</th><th>\(html(t("Level")))</th><th>\(html(t("Intimacy")))</th>
            <th>\(html(t("Source")))</th><th>\(html(t("Last active")))</th><th>\(html(t("GMV")))</th></tr></thead><tbody>\(rows)</tbody></table>\(next)
            """
        return try await self.page(t("Fans"), nav: "Fans", request, context, scope: scope, path: "/console/fans", body: body)
    }

    @Sendable func fan(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let scope = try await scope(request, context)
        let openId = try context.parameters.require("openId")
        guard let account = scope.account, let fan = try await store.fan(of: account, openId: openId) else {
            throw APIError.notFound("fan \(openId)")
        }
        let timeline = try await APIRoutes.timeline(of: openId, in: account, limit: 60, store: store)
        let profile = zip(FanProfile.attributeNames, fan.profile.attributeValues).compactMap { name, value in value.map { "\(name): \($0)" } }
        let pills = { (items: [String]) in items.map { "<span class=\"pill\">\(html($0))</span>" }.joined() }
        let lines = timeline.map { entry in
            "<tr><td>\(entry.at.prefix(16).replacingOccurrences(of: "T", with: " "))</td><td>\(html(t(entry.actor)))</td><td>\(html(entry.kind))</td><td>\(html(entry.detail ?? ""))</td></tr>"
        }.joined()
        var actions = ""
        if context.principal?.role.worksWithFans == true, let csrf = context.session?.csrf {
            let path = "/console/fans/\(html(Self.pathComponent(openId)))"
            let defined = try await store.tags(tenantId: account.tenantId)
            let options = defined.map { "<option value=\"\(html($0.name))\">\(html($0.group)) · \(html($0.name))</option>" }.joined()
            let tagForm = defined.isEmpty ? "<p><a href=\"/console/tags?account=\(account.id)\">\(html(t("Tags")))</a></p>" : """
                <form class="inline" method="post" action="\(path)/tags?account=\(account.id)"><input type="hidden" name="csrf" value="\(html(csrf))">
                <select name="tag" aria-label="\(html(t("Tags")))">\(options)</select>
                <button class="primary" name="op" value="add">\(html(t("Add tag")))</button><button name="op" value="remove">\(html(t("Remove tag")))</button></form>
                """
            actions = """
                <div class="grid">\(tagForm)
                <form class="inline" method="post" action="\(path)/notes?account=\(account.id)"><input type="hidden" name="csrf" value="\(html(csrf))">
                <input name="text" size="40" required maxlength="2000" aria-label="\(html(t("Note")))" placeholder="\(html(t("Note")))">
                <button class="primary">\(html(t("Add note")))</button></form></div>
                """
        }
        let notice = Self.errorNotice(request)
        let body = """
            \(notice)<div class="cards">
            <div class="card">\(html(t("Tier")))<b>\(html(t(fan.tier.name)))</b></div><div class="card">\(html(t("Level")))<b>\(fan.level)</b></div>
            <div class="card">\(html(t("Intimacy")))<b>\(fan.intimacy)</b></div><div class="card">\(html(t("GMV")))<b>¥\(fan.gmv / 100)</b></div>
            <div class="card">\(html(t("Source")))<b>\(html(t(fan.firstDomain.rawValue)))</b></div></div>
            <h2>\(html(t("Profile")))</h2><p>\(pills([t(fan.following ? "Following" : "Not following")] + profile))</p>
            <p>\(html(t("Tags"))): \(pills(fan.tags.sorted())) · \(html(t("Interests"))): \(pills(fan.profile.interests.sorted())) · \(html(t("Groups"))): \(pills(fan.groups.filter(\.value.member).keys.sorted()))</p>
            \(actions)
            <h2>\(html(t("Timeline")))</h2><table><tbody>\(lines)</tbody></table>
            """
        return try await page(fan.nickname ?? fan.openId, nav: "Fans", request, context, scope: scope, path: "/console/fans", body: body)
    }

    static func pathComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? text
    }

    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    /// Back to the fan's page, with what went wrong if anything did.
    func backToFan(_ openId: String, _ account: Account, error: String? = nil) -> Response {
        let location = "/console/fans/\(Self.pathComponent(openId))?account=\(account.id)" + (error.map { "&error=\(Self.queryValue($0))" } ?? "")
        return Response(status: .seeOther, headers: [.location: location])
    }

    @Sendable func tagFan(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard caller.role.worksWithFans else { throw APIError.forbidden }
        let openId = try context.parameters.require("openId")
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        let tag = context.form["tag"] ?? ""
        let add = context.form["op"] != "remove"
        do {
            _ = try await flywheel.tagging.tag(.fans([openId]), of: account, add: add ? [tag] : [], remove: add ? [] : [tag], actor: "user:\(caller.userId)")
        } catch Tagging.Failure.invalid(_, let message) {
            return backToFan(openId, account, error: message)
        }
        // Applied now rather than at the projector's next turn, so the page shows it.
        await flywheel.projector.runOnce()
        return backToFan(openId, account)
    }

    @Sendable func noteFan(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard caller.role.worksWithFans else { throw APIError.forbidden }
        let openId = try context.parameters.require("openId")
        guard let account = try await scope(request, context).account, try await store.fan(of: account, openId: openId) != nil else {
            throw APIError.notFound("fan \(openId)")
        }
        let text = (context.form["text"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...2_000).contains(text.count) else { return backToFan(openId, account, error: "text: must be 1 to 2,000 characters") }
        _ = try await flywheel.tagging.note(text, about: openId, of: account, actor: "user:\(caller.userId)")
        await flywheel.projector.runOnce()
        return backToFan(openId, account)
    }

    // MARK: Segments

    /// The editor's count follows the typing: the same page is fetched and its preview swapped
    /// in. Without scripts the Preview button does the same.
    static let livePreview = """
        (() => { const form = document.getElementById("editor"), out = document.getElementById("preview"); let timer;
          form.elements.predicate.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(async () => {
            const url = new URL(form.action, location); url.search = new URLSearchParams(new FormData(form));
            const page = new DOMParser().parseFromString(await (await fetch(url)).text(), "text/html");
            out.innerHTML = page.getElementById("preview").innerHTML; history.replaceState(null, "", url); }, 350); }); })();
        """

    @Sendable func segments(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let scope = try await scope(request, context)
        guard let account = scope.account else { return try await chooseAccount(t("Segments"), nav: "Segments", request, context, scope: scope, path: "/console/segments") }
        let text = Self.parameter(request, "predicate") ?? ""
        var result = ""
        if !text.isEmpty {
            do {
                let predicate = try FanPredicate.parse(text)
                let preview = try await flywheel.fanScan.preview(predicate, of: account, now: flywheel.env.now(), sample: 10)
                result = "<p class=\"ok\" role=\"status\">\(html(t("Matching fans"))): <b>\(preview.count)</b></p><p>"
                    + preview.sample.map { "<span class=\"pill\">\(html($0.nickname ?? $0.openId))</span>" }.joined() + "</p>"
            } catch let error as FlywheelDomain.PredicateError {
                result = "<p class=\"error\" role=\"alert\">\(html(error.description))</p>"
            }
        }
        let rows = try await store.segments(of: account).map { s in
            "<tr><td><a href=\"/console/segments/\(s.id)?account=\(account.id)\">\(html(s.name))</a></td><td><code>\(html(s.predicate?.description ?? "static"))</code></td><td>\(s.size)</td><td>\(s.state.rawValue)</td></tr>"
        }.joined()
        var save = ""
        if !text.isEmpty, result.contains("class=\"ok\""), context.principal?.role.configuresRules == true, let csrf = context.session?.csrf {
            save = """
                <form class="inline" method="post" action="/console/segments?account=\(account.id)"><input type="hidden" name="csrf" value="\(html(csrf))">
                <input type="hidden" name="predicate" value="\(html(text))"><input name="name" required maxlength="200" aria-label="\(html(t("Name")))" placeholder="\(html(t("Name")))">
                <button class="primary">\(html(t("Save segment")))</button></form>
                """
        }
        var importForm = ""
        if context.principal?.role.configuresRules == true, let csrf = context.session?.csrf {
            let error = Self.errorNotice(request)
            importForm = """
                <h2>\(html(t("Import open_ids")))</h2>\(error)<form method="post" action="/console/segments/import?account=\(account.id)">
                <input type="hidden" name="csrf" value="\(html(csrf))"><p><input name="name" required maxlength="200" placeholder="\(html(t("Name")))" aria-label="\(html(t("Name")))"></p>
                <p><textarea name="csv" rows="4" cols="60" required placeholder="open_id" aria-label="open_id"></textarea></p>
                <p><button class="primary">\(html(t("Import")))</button></p></form>
                """
        }
        let body = """
            <form id="editor" class="inline" method="get" action="/console/segments"><input type="hidden" name="account" value="\(html(account.id))">
            <input name="predicate" value="\(html(text))" size="70" autocomplete="off" aria-label="\(html(t("Predicate")))" placeholder="tier >= liking and last_active within 30d">
            <button class="primary">\(html(t("Preview")))</button></form><div id="preview" aria-live="polite">\(result)\(save)</div>
            <script>\(Self.livePreview)</script>
            <table><thead><tr><th>\(html(t("Name")))</th><th>\(html(t("Predicate")))</th><th>\(html(t("Size")))</th><th>\(html(t("State")))</th></tr></thead><tbody>\(rows)</tbody></table>
            \(importForm)
            """
        return try await page(t("Segments"), nav: "Segments", request, context, scope: scope, path: "/console/segments", body: body)
    }
}

extension ConsoleRoutes {
    // MARK: One segment

    @Sendable func saveSegment(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard caller.role.configuresRules else { throw APIError.forbidden }
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        let text = context.form["predicate"] ?? ""
        let predicate: FanPredicate
        do { predicate = try FanPredicate.parse(text) } catch { throw APIError.invalid("predicate", error.description) }
        let name = try Validate.name(context.form["name"] ?? "", field: "name")
        let segment = try await APIRoutes(flywheel: flywheel).create(name: name, predicate: predicate, in: account, actor: "user:\(caller.userId)")
        return Response(status: .seeOther, headers: [.location: "/console/segments/\(segment.id)?account=\(account.id)"])
    }

    func chosenSegment(_ request: Request, _ context: FlywheelRequestContext) async throws -> (Scope, Account, Segment) {
        let scope = try await scope(request, context)
        let id = try context.parameters.require("segmentId")
        guard let account = scope.account, let segment = try await store.segment(id: id, of: account) else { throw APIError.notFound("segment \(id)") }
        return (scope, account, segment)
    }

    @Sendable func segment(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let (scope, account, segment) = try await chosenSegment(request, context)
        let portrait = try await APIRoutes.portrait(of: segment, in: account, store: store)
        func chart(_ title: String, _ dimension: String, translate: Bool = false, top: Int = 8) -> String {
            let items = (portrait.distributions[dimension] ?? [:]).sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(top)
            return Charts.bars(title: t(title), items.map { (translate ? t($0.key) : ($0.key.isEmpty ? "—" : $0.key), $0.value) })
        }
        let export = "/console/segments/\(segment.id)/export?account=\(account.id)"
        var lookalikeForm = Self.errorNotice(request)
        if context.principal?.role.configuresRules == true, let csrf = context.session?.csrf {
            lookalikeForm += """
                <form class="inline" method="post" action="/console/segments/\(segment.id)/lookalike?account=\(account.id)"><input type="hidden" name="csrf" value="\(html(csrf))">
                <input name="name" required maxlength="200" placeholder="\(html(t("Name")))" aria-label="\(html(t("Name")))">
                <input name="size" required inputmode="numeric" size="8" placeholder="\(html(t("Size")))" aria-label="\(html(t("Size")))">
                <button class="primary">\(html(t("Find lookalikes")))</button></form>
                """
        }
        let body = """
            <div class="cards"><div class="card">\(html(t("Size")))<b>\(segment.size)</b></div><div class="card">\(html(t("State")))<b>\(segment.state.rawValue)</b></div></div>
            <p><code>\(html(segment.predicate?.description ?? "static"))</code>\(segment.failure.map { " <span class=\"error\">\(html($0))</span>" } ?? "")</p>
            <p><a href="\(export)">\(html(t("Export CSV")))</a> · <a href="\(export)&hash=sha256">\(html(t("Export SHA-256")))</a></p>
            \(lookalikeForm)
            <h2>\(html(t("Portrait")))</h2><div class="grid">
            \(chart("Tier", "tier", translate: true))\(chart("Gender", "gender", translate: true))\(chart("Age band", "age_band"))
            \(chart("First domain", "first_domain", translate: true))\(chart("Interests", "interests"))\(chart("Level", "level", top: 12))</div>
            """
        return try await page(segment.name, nav: "Segments", request, context, scope: scope, path: "/console/segments", body: body)
    }

    @Sendable func importSegment(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard caller.role.configuresRules else { throw APIError.forbidden }
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        do {
            let name = try Validate.name(context.form["name"] ?? "", field: "name")
            let (segment, _) = try await APIRoutes(flywheel: flywheel).importSegment(name: name, csv: context.form["csv"] ?? "", into: account, actor: "user:\(caller.userId)")
            return Response(status: .seeOther, headers: [.location: "/console/segments/\(segment.id)?account=\(account.id)"])
        } catch let error as APIError {
            return Response(status: .seeOther, headers: [.location: "/console/segments?account=\(account.id)&error=\(Self.queryValue(error.message))"])
        }
    }

    @Sendable func lookalikeSegment(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard caller.role.configuresRules else { throw APIError.forbidden }
        let (_, account, seed) = try await chosenSegment(request, context)
        do {
            let name = try Validate.name(context.form["name"] ?? "", field: "name")
            guard let size = Int((context.form["size"] ?? "").trimmingCharacters(in: .whitespaces)) else { throw APIError.invalid("size", "must be a whole number") }
            let made = try await APIRoutes(flywheel: flywheel).lookalike(of: seed, in: account, name: name, size: size, actor: "user:\(caller.userId)")
            return Response(status: .seeOther, headers: [.location: "/console/segments/\(made.id)?account=\(account.id)"])
        } catch let error as APIError {
            return Response(status: .seeOther, headers: [.location: "/console/segments/\(seed.id)?account=\(account.id)&error=\(Self.queryValue(error.message))"])
        }
    }

    @Sendable func exportSegment(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let (_, account, segment) = try await chosenSegment(request, context)
        return try await APIRoutes.export(segment, of: account, hash: Self.parameter(request, "hash"), store: store)
    }

    // MARK: Tags and settings

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
        var rows = ""
        for (group, names) in groups.sorted(by: { $0.key < $1.key }) {
            let cells = names.sorted().map { "<span class=\"pill\">\(html($0)) · \(counts[$0] ?? 0)</span>" }.joined()
            rows += "<tr><th>\(html(group))</th><td>\(cells)</td></tr>"
        }
        var body = groups.isEmpty ? "<p>—</p>" : "<table><tbody>\(rows)</tbody></table>"
        if context.principal?.role.configuresRules == true, let csrf = context.session?.csrf {
            body = """
                <form class="inline" method="post" action="/console/tags\(scope.query)"><input type="hidden" name="csrf" value="\(html(csrf))">
                <input name="group" required maxlength="200" aria-label="\(html(t("Tag group")))" placeholder="\(html(t("Tag group")))">
                <input name="name" required maxlength="50" aria-label="\(html(t("Name")))" placeholder="\(html(t("Name")))">
                <button class="primary">\(html(t("New tag")))</button></form>
                """ + body
        }
        return try await page(t("Tags"), nav: "Tags", request, context, scope: scope, path: "/console/tags", body: body)
    }

    /// Saves the tier rules; the projector re-places every fan. A rule that does not parse or
    /// check comes back to the form with the reason and the text as typed.
    @Sendable func saveTierRules(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard caller.role.configuresRules else { throw APIError.forbidden }
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        let texts = ["trueLove", "liking", "passerby"].map { ($0, context.form[$0] ?? "") }
        let back = "/console/settings?account=\(account.id)" + texts.map { "&\($0.0)=\(Self.queryValue($0.1))" }.joined()
        var rules = try await store.rules(of: account).rules
        do {
            func parse(_ field: String) throws -> FanPredicate {
                do { return try FanPredicate.parse(context.form[field] ?? "") } catch { throw RuleError.invalid(field: "tiers.\(field)", error.description) }
            }
            rules.tiers = TierRules(passerby: try parse("passerby"), liking: try parse("liking"), trueLove: try parse("trueLove"))
            try rules.validate()
        } catch RuleError.invalid(let field, let message) {
            return Response(status: .seeOther, headers: [.location: back + "&error=" + Self.queryValue("\(field): \(message)")])
        }
        _ = try await store.setRules(rules, of: account, audit: flywheel.env.audit(tenantId: account.tenantId, actor: "user:\(caller.userId)",
                                                                              action: "rules.update", target: account.id))
        return Response(status: .seeOther, headers: [.location: "/console/settings?account=\(account.id)"])
    }

    func backToSettings(_ account: Account, notice: String? = nil, error: String? = nil) -> Response {
        let query = (notice.map { "&notice=\(Self.queryValue($0))" } ?? "") + (error.map { "&error=\(Self.queryValue($0))" } ?? "")
        return Response(status: .seeOther, headers: [.location: "/console/settings?account=\(account.id)\(query)"])
    }

    /// Flat points per event kind; amounts keep their per-amount rules.
    @Sendable func savePoints(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard caller.role.configuresRules else { throw APIError.forbidden }
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
        try rules.validate()
        _ = try await store.setRules(rules, of: account, audit: flywheel.env.audit(tenantId: account.tenantId, actor: "user:\(caller.userId)",
                                                                              action: "rules.update", target: account.id))
        return backToSettings(account)
    }

    @Sendable func addUser(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard caller.role.managesTenancy else { throw APIError.forbidden }
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        guard let role = Role(rawValue: context.form["role"] ?? "") else { return backToSettings(account, error: "role: unknown role") }
        if role == .owner, caller.role != .owner { return backToSettings(account, error: "role: only an owner can create another owner") }
        let password = context.form["password"] ?? ""
        guard password.count >= 8 else { return backToSettings(account, error: "password: must be 8 characters or more") }
        let user: User
        do {
            user = try await flywheel.tenancy.createUser(name: try Validate.name(context.form["name"] ?? "", field: "name"), role: role,
                                                         tenantId: account.tenantId, actor: "user:\(caller.userId)")
        } catch StoreError.conflict {
            return backToSettings(account, error: "name: a user of that name exists")
        }
        try await flywheel.signIn.setPassword(password, of: user, actor: "user:\(caller.userId)")
        return backToSettings(account, notice: "\(user.name) (\(role.rawValue))")
    }

    /// A new API key for the signed-in user, shown once on the page.
    @Sendable func issueKey(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        guard let user = try await store.users(tenantId: caller.tenantId).first(where: { $0.id == caller.userId }) else { throw APIError.forbidden }
        let key = try await flywheel.tenancy.createKey(for: user, actor: "user:\(caller.userId)")
        let t = Self.language(request)
        let body = """
            <p class="ok" role="status">\(html(t("Your new API key, shown once:")))</p><p><code>\(html(key.token))</code></p>
            <p><a href="/console/settings?account=\(account.id)">\(html(t("Settings")))</a></p>
            """
        return Page(title: t("Settings"), language: t, csrf: context.session?.csrf, nav: "Settings", body: body).response()
    }

    @Sendable func addApp(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard caller.role.managesTenancy else { throw APIError.forbidden }
        guard let account = try await scope(request, context).account else { throw APIError.notFound("account") }
        let app: PlatformApp
        do {
            app = PlatformApp(tenantId: account.tenantId, id: flywheel.env.newId("app"), name: try Validate.name(context.form["name"] ?? "", field: "name"),
                              clientKey: try Validate.token(context.form["clientKey"] ?? "", field: "clientKey"),
                              clientSecret: try Validate.token(context.form["clientSecret"] ?? "", field: "clientSecret"), createdAt: flywheel.env.now())
            try await store.createApp(app, audit: flywheel.env.audit(tenantId: app.tenantId, actor: "user:\(caller.userId)", action: "app.create",
                                                                     target: app.id, detail: app.clientKey))
        } catch let error as APIError {
            return backToSettings(account, error: error.message)
        } catch StoreError.conflict {
            return backToSettings(account, error: "clientKey: already registered")
        }
        return backToSettings(account, notice: app.clientKey)
    }

    /// Defines a tag in the tenant of the chosen scope (the caller's own when it spans several).
    @Sendable func createTag(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard caller.role.configuresRules else { throw APIError.forbidden }
        let scope = try await scope(request, context)
        let tenantId = Set(scope.accounts.map(\.tenantId)).count == 1 ? scope.accounts[0].tenantId : caller.tenantId
        let name = (context.form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        guard SetField.isValidName(name) else { throw APIError.invalid("name", "must be 1 to 50 characters without ',' or '='") }
        let tag = TagDefinition(name: name, group: try Validate.name(context.form["group"] ?? "", field: "group"), createdAt: flywheel.env.now())
        try await store.createTag(tag, tenantId: tenantId, audit: flywheel.env.audit(tenantId: tenantId, actor: "user:\(caller.userId)", action: "tag.create",
                                                                                  target: tag.name, detail: tag.group))
        return Response(status: .seeOther, headers: [.location: "/console/tags\(scope.query)"])
    }

    @Sendable func settings(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let scope = try await scope(request, context)
        guard let account = scope.account else { return try await chooseAccount(t("Settings"), nav: "Settings", request, context, scope: scope, path: "/console/settings") }
        let rules = try await store.rules(of: account).rules
        let editable = context.principal?.role.configuresRules == true
        let tiers = [("trueLove", "true_love", rules.tiers.trueLove), ("liking", "liking", rules.tiers.liking), ("passerby", "passerby", rules.tiers.passerby)].map {
            let text = Self.parameter(request, $0.0) ?? $0.2.description
            return "<tr><th><label for=\"\($0.0)\">\(html(t($0.1)))</label></th><td>" + (editable
                ? "<input id=\"\($0.0)\" name=\"\($0.0)\" value=\"\(html(text))\" size=\"48\">" : "<code>\(html(text))</code>") + "</td></tr>"
        }.joined()
        let tierError = Self.errorNotice(request)
        let tierForm = editable ? """
            \(tierError)<form method="post" action="/console/settings?account=\(account.id)"><input type="hidden" name="csrf" value="\(html(context.session?.csrf ?? ""))">
            <table><tbody>\(tiers)</tbody></table><p><button class="primary">\(html(t("Save")))</button></p></form>
            """ : "<table><tbody>\(tiers)</tbody></table>"
        let tagRules = rules.tagRules.map { "<tr><th>\(html($0.tag))</th><td><code>\(html($0.when.description))</code></td></tr>" }.joined()
        let csrfField = "<input type=\"hidden\" name=\"csrf\" value=\"\(html(context.session?.csrf ?? ""))\">"
        let points = EventKind.allCases.filter { !$0.isOperatorAction }.map { kind in
            let rule = rules.points.rules[kind]
            let flat = editable ? "<input name=\"\(kind.rawValue)\" value=\"\(rule?.flat ?? 0)\" size=\"5\" inputmode=\"numeric\" aria-label=\"\(kind.rawValue)\">" : "\(rule?.flat ?? 0)"
            return "<tr><td>\(kind.rawValue)</td><td>\(flat)</td><td>\(rule.flatMap { $0.perAmount > 0 ? "\($0.perAmount) / \($0.amountUnit)" : nil } ?? "—")</td></tr>"
        }.joined()
        let pointsForm = editable ? "<form method=\"post\" action=\"/console/settings/points?account=\(account.id)\">\(csrfField)" : ""
        let manages = context.principal?.role.managesTenancy == true
        let roles = Role.allCases.map { "<option\($0 == .operator ? " selected" : "")>\($0.rawValue)</option>" }.joined()
        let userForm = manages ? """
            <form class="inline" method="post" action="/console/settings/users?account=\(account.id)">\(csrfField)
            <input name="name" required placeholder="\(html(t("User")))" aria-label="\(html(t("User")))"><select name="role" aria-label="role">\(roles)</select>
            <input name="password" type="password" minlength="8" required placeholder="\(html(t("Password")))" aria-label="\(html(t("Password")))">
            <button class="primary">\(html(t("Add user")))</button></form>
            <form method="post" action="/console/settings/keys?account=\(account.id)">\(csrfField)<button>\(html(t("Issue me an API key")))</button></form>
            """ : ""
        let appForm = manages ? """
            <form class="inline" method="post" action="/console/settings/apps?account=\(account.id)">\(csrfField)
            <input name="name" required placeholder="\(html(t("Name")))" aria-label="\(html(t("Name")))"><input name="clientKey" required placeholder="client_key" aria-label="client_key">
            <input name="clientSecret" required placeholder="client_secret" aria-label="client_secret"><button class="primary">\(html(t("Add app")))</button></form>
            """ : ""
        let issued = Self.parameter(request, "notice").map { "<p class=\"ok\" role=\"status\">\(html($0))</p>" } ?? ""
        let levels = rules.levels.thresholds.enumerated().map { "<tr><td>\($0.offset + 1)</td><td>\($0.element)</td><td>\(rules.levels.dailyCaps[$0.offset + 1])</td></tr>" }.joined()
        let users = try await store.users(tenantId: account.tenantId).map { "<tr><td>\(html($0.name))</td><td>\($0.role.rawValue)</td></tr>" }.joined()
        let apps = try await store.apps(tenantId: account.tenantId).map { "<tr><td>\(html($0.name))</td><td><code>\(html($0.clientKey))</code></td></tr>" }.joined()
        let body = """
            <div class="grid"><div><h2>\(html(t("Tier rules")))</h2>\(tierForm)
            <h2>\(html(t("Auto-tag rules")))</h2><table><tbody>\(tagRules.isEmpty ? "<tr><td>—</td></tr>" : tagRules)</tbody></table>
            <h2>\(html(t("Users")))</h2>\(issued)<table><tbody>\(users)</tbody></table>\(userForm)
            <h2>\(html(t("Platform apps")))</h2><table><tbody>\(apps)</tbody></table>\(appForm)</div>
            <div><h2>\(html(t("Points")))</h2>\(pointsForm)<table><thead><tr><th></th><th>\(html(t("Flat")))</th><th>\(html(t("Per amount")))</th></tr></thead><tbody>\(points)</tbody></table>
            \(editable ? "<p><button class=\"primary\">\(html(t("Save")))</button></p></form>" : "")
            <h2>\(html(t("Levels")))</h2><table><thead><tr><th>\(html(t("Level")))</th><th>\(html(t("Points")))</th><th>\(html(t("Daily cap")))</th></tr></thead><tbody>\(levels)</tbody></table></div></div>
            """
        return try await page(t("Settings"), nav: "Settings", request, context, scope: scope, path: "/console/settings", body: body)
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
            context.form = try await ConsoleRoutes.form(request)
            guard context.form["csrf"] == found.session.csrf else { throw APIError(.forbidden, "csrf", "the form is stale or forged; reload the page") }
        }
        return try await next(request, context)
    }
}
