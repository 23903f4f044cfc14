import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// The fan list at any scope and the merged person: one account's fans, or an enterprise's matrix
/// (or a provider's enterprises) where one person (one open_id under the enterprise's app) who
/// relates to several accounts is one row, with the best tier, the union of tags, each account's
/// state beside the others and one timeline.
extension ConsoleRoutes {
    func addPeople(to console: RouterGroup<FlywheelRequestContext>) {
        console.get("fans", use: fans)
        console.get("people/:tenantId/:openId", use: person)
        console.post("msegments/:segmentId/delete", use: deleteMatrixSegment)
        addBulk(to: console)
    }

    struct FansContent {
        var account: String
        var q: String
        var tierOptions: [SelectOption]
        var domainOptions: [SelectOption]
        var channelOptions: [SelectOption]
        var tagOptions: [SelectOption]
        var arrivedOptions: [SelectOption]
        var activeOptions: [SelectOption]
        var reachedOptions: [SelectOption]
        var level: String
        var sort: String
        var dir: String
        var total: Int
        /// The segment whose members these are, when the list is one's.
        var segmentTitle: String?
        var segment: String
        var msegment: String
        /// Several accounts in scope: people merged, with their number of accounts.
        var matrix: Bool
        var columns: [Column]
        var rows: [Row]
        var nextHref: String?
        var previousHref: String?
        /// The bulk form, for roles that may tag in bulk; nil otherwise.
        var bulk: Bulk?

        struct Column { var label: String; var href: String; var mark: String }
        struct Row {
            /// `tenant/open_id`, what the bulk form sends for a ticked row.
            var key: String
            var href: String
            var name: String
            var tier: String
            var level: Int
            var intimacy: Int
            var source: String
            var lastActive: String
            var gmv: String
            var accounts: Int
        }
        struct Bulk { var action: String; var csrf: String; var filters: [Hidden]; var all: String }
        struct Hidden { var name: String; var value: String }
    }

    /// The fan list's filters, each a condition in the predicate language, so the list and its
    /// total agree with a segment of the same conditions. Read from the page's address or from a
    /// bulk form, which carries them so "all that match" is the same list.
    struct FanFilter {
        static let days = [1, 7, 30, 90]
        /// The fields it reads, in the address and in forms.
        static let names = ["q", "tier", "domain", "channel", "tag", "level", "arrived", "active", "reached", "segment", "msegment"]
        var q = "", tier: Tier?, domain: SourceDomain?, channel: Channel?, tag = "", level: Int?, arrived: Int?, active: Int?
        /// Reached its tier within so many days: "this week's new true-love fans".
        var reached: Int?
        /// Members of one account's segment, or of a segment of the matrix.
        var segment = "", matrixSegment = ""

        init(_ value: (String) -> String, tags: [String]) {
            q = value("q")
            tier = Tier(name: value("tier"))
            domain = SourceDomain(rawValue: value("domain"))
            channel = Channel(rawValue: value("channel"))
            tag = tags.contains(value("tag")) ? value("tag") : ""
            level = Int(value("level")).map { min(max(0, $0), 99) }
            arrived = Int(value("arrived")).flatMap { Self.days.contains($0) ? $0 : nil }
            active = Int(value("active")).flatMap { Self.days.contains($0) ? $0 : nil }
            reached = Int(value("reached")).flatMap { Self.days.contains($0) ? $0 : nil }
            segment = String(value("segment").prefix(100))
            matrixSegment = String(value("msegment").prefix(100))
        }

        var predicate: FanPredicate? {
            var terms: [FanPredicate] = []
            if !q.isEmpty { terms.append(Fans.search(q)) }
            if let tier { terms.append(.compare(field: "tier", op: .eq, value: .name(tier.name))) }
            if let domain { terms.append(.compare(field: "first_domain", op: .eq, value: .name(domain.rawValue))) }
            if let channel { terms.append(.compare(field: "first_channel", op: .eq, value: .name(channel.rawValue))) }
            if !tag.isEmpty { terms.append(.has(field: "tags", value: tag)) }
            if let level { terms.append(.compare(field: "level", op: .ge, value: .int(Int64(level)))) }
            if let arrived { terms.append(.within(field: "first_seen", seconds: Int64(arrived) * 86_400)) }
            if let active { terms.append(.within(field: "last_active", seconds: Int64(active) * 86_400)) }
            if let reached { terms.append(.within(field: "tier_changed", seconds: Int64(reached) * 86_400)) }
            return terms.isEmpty ? nil : .and(terms)
        }

        /// The filters as address or form fields, empty ones left out.
        var fields: [(String, String)] {
            [("q", q), ("tier", tier?.name ?? ""), ("domain", domain?.rawValue ?? ""), ("channel", channel?.rawValue ?? ""), ("tag", tag),
             ("level", level.map(String.init) ?? ""), ("arrived", arrived.map(String.init) ?? ""), ("active", active.map(String.init) ?? ""),
             ("reached", reached.map(String.init) ?? ""), ("segment", segment), ("msegment", matrixSegment)]
                .filter { !$0.1.isEmpty }
        }
    }

    /// The filter as conditions on people; a segment named that the scope does not hold is a 404.
    func conditions(_ filter: FanFilter, scope: Scope) async throws -> [PeopleCondition] {
        var conditions = filter.predicate.map { [PeopleCondition.anyAccount($0)] } ?? []
        if !filter.segment.isEmpty {
            guard let account = scope.account, try await store.segment(id: filter.segment, of: account) != nil else { throw APIError.notFound("segment \(filter.segment)") }
            conditions.append(.inSegment(accountId: account.id, segmentId: filter.segment))
        }
        if !filter.matrixSegment.isEmpty {
            guard let segment = try await matrixSegment(filter.matrixSegment, scope: scope) else { throw APIError.notFound("segment \(filter.matrixSegment)") }
            conditions.append(segment.condition)
        }
        return conditions
    }

    func segmentTitle(_ filter: FanFilter, scope: Scope) async throws -> String? {
        if !filter.matrixSegment.isEmpty { return try await matrixSegment(filter.matrixSegment, scope: scope)?.name }
        if !filter.segment.isEmpty, let account = scope.account { return try await store.segment(id: filter.segment, of: account)?.name }
        return nil
    }

    func matrixSegment(_ id: String, scope: Scope) async throws -> MatrixSegment? {
        for tenantId in Set(scope.accounts.map(\.tenantId)) {
            if let found = try await store.matrixSegments(tenantId: tenantId).first(where: { $0.id == id }) { return found }
        }
        return nil
    }

    /// Tags defined by the scope's enterprises, once each.
    func tagNames(_ scope: Scope) async throws -> [String] {
        var names = Set<String>()
        for tenantId in Set(scope.accounts.map(\.tenantId)) { names.formUnion(try await store.tags(tenantId: tenantId).map(\.name)) }
        return names.sorted()
    }

    @Sendable func fans(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let scope = try await scope(request, context)
        func value(_ name: String) -> String { request.query(name).map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
        let tags = try await tagNames(scope)
        let filter = FanFilter(value, tags: tags)
        let sort = PersonSort(rawValue: value("sort")) ?? .lastActive
        let descending = value("dir").isEmpty ? sort.descendingFirst : value("dir") == "desc"
        let pageSize = 50
        let pageNumber = min(max(Int(value("page")) ?? 0, 0), 10_000)
        let found = try await store.people(in: scope.accounts, matching: try await conditions(filter, scope: scope), now: flywheel.env.now(), sort: sort, descending: descending,
                                           offset: pageNumber * pageSize, limit: pageSize)
        let matrix = scope.accounts.count > 1
        // Times in the zone of the scope's first account: an enterprise's accounts share one.
        let zone = scope.accounts.first
        let rows = found.items.map { person in
            let href = matrix
                ? "/console/people/\(Self.pathComponent(person.tenantId))/\(Self.pathComponent(person.openId))\(scope.query)"
                : "/console/fans/\(Self.pathComponent(person.openId))\(scope.query)"
            return FansContent.Row(key: "\(person.tenantId)/\(person.openId)", href: href, name: person.nickname ?? person.openId,
                                   tier: t.tier(person.tier), level: person.level, intimacy: person.intimacy, source: t.domain(person.firstDomain),
                                   lastActive: person.lastActiveAt > 0 ? zone.map { Self.localMinute(person.lastActiveAt, $0) } ?? "" : "—",
                                   gmv: "¥" + Self.yuan(person.gmv), accounts: person.accounts)
        }
        let base = (scope.selected.map { [("account", $0)] } ?? []) + filter.fields
        func link(_ extra: [(String, String)]) -> String {
            "/console/fans?" + (base + extra).map { "\($0.0)=\(Self.queryValue($0.1))" }.joined(separator: "&")
        }
        let order = [("sort", sort.rawValue), ("dir", descending ? "desc" : "asc")]
        let next = (pageNumber + 1) * pageSize < found.total ? link(order + [("page", "\(pageNumber + 1)")]) : nil
        let previous = pageNumber > 0 ? link(order + (pageNumber > 1 ? [("page", "\(pageNumber - 1)")] : [])) : nil
        let columns: [(PersonSort, Phrase)] = [(.name, .nickname), (.tier, .tier), (.level, .level), (.intimacy, .intimacy), (.source, .source),
                                               (.lastActive, .lastActive), (.gmv, .gmv)] + (matrix ? [(.accounts, .accountsLabel)] : [])
        let heads = columns.map { column, label in
            // A header sorts by its column; a second click turns the order round.
            let flip = column == sort ? !descending : column.descendingFirst
            return FansContent.Column(label: t(label), href: link([("sort", column.rawValue), ("dir", flip ? "desc" : "asc")]),
                                      mark: column == sort ? (descending ? " ↓" : " ↑") : "")
        }
        var bulk: FansContent.Bulk?
        if context.allows(.tagFansInBulk), let csrf = context.session?.csrf {
            bulk = FansContent.Bulk(action: "/console/bulk\(scope.query)", csrf: csrf,
                                    filters: filter.fields.map { FansContent.Hidden(name: $0.0, value: $0.1) }, all: t.allMatching(found.total))
        }
        func days(_ chosen: Int?) -> [SelectOption] { FanFilter.days.map { SelectOption(value: "\($0)", label: t.withinDays($0), selected: $0 == chosen) } }
        let content = FansContent(account: scope.selected ?? "", q: filter.q,
                                  tierOptions: Tier.allCases.map { SelectOption(value: $0.name, label: t.tier($0), selected: $0 == filter.tier) },
                                  domainOptions: SourceDomain.allCases.map { SelectOption(value: $0.rawValue, label: t.domain($0), selected: $0 == filter.domain) },
                                  channelOptions: Channel.allCases.filter { $0 != .unknown }.map { SelectOption(value: $0.rawValue, label: t.channel($0), selected: $0 == filter.channel) },
                                  tagOptions: tags.map { SelectOption(value: $0, label: $0, selected: $0 == filter.tag) },
                                  arrivedOptions: days(filter.arrived), activeOptions: days(filter.active), reachedOptions: days(filter.reached),
                                  level: filter.level.map(String.init) ?? "", sort: sort.rawValue, dir: descending ? "desc" : "asc", total: found.total,
                                  segmentTitle: try await segmentTitle(filter, scope: scope), segment: filter.segment, msegment: filter.matrixSegment,
                                  matrix: matrix, columns: heads, rows: rows, nextHref: next, previousHref: previous, bulk: bulk)
        return try await page("fans", content, title: t(.fans), nav: .fans, request, context, scope: scope, path: "/console/fans")
    }

    // MARK: The merged person

    struct PersonContent {
        var cards: [Card]
        var tagList: [String]
        var accounts: [AccountRow]
        var timeline: [TimelineRow]
        var more: String?

        struct AccountRow { var name: String; var href: String; var tier: String; var level: Int; var intimacy: Int; var gmv: String
                            var following: String; var arrived: String; var lastActive: String; var tags: String }
        struct TimelineRow { var at: String; var account: String; var actor: String; var code: String; var kind: String; var detail: String }
    }

    @Sendable func person(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let scope = try await scope(request, context)
        let tenantId = try context.parameters.require("tenantId"), openId = try context.parameters.require("openId")
        let accounts = scope.accounts.filter { $0.tenantId == tenantId }
        var states: [(Account, FanState)] = []
        for account in accounts {
            if let fan = try await store.fan(of: account, openId: openId) { states.append((account, fan)) }
        }
        guard let first = states.first else { throw APIError.notFound("person \(openId)") }
        // One timeline: each account's entries merged newest first, as deep as a fan's timeline pages.
        let shown = min(max(Int(request.query("entries") ?? "") ?? 60, 60), Fans.timelineDepth)
        var merged: [(at: Int64, order: Int, row: PersonContent.TimelineRow)] = []
        var more = false
        for (account, _) in states {
            let history = try await Fans(flywheel).timeline(of: openId, in: account, skipping: 0, limit: shown, by: try context.caller())
            more = more || history.more
            for item in history.items {
                let row = Self.timelineRow(item, t, account)
                merged.append((item.at, merged.count, PersonContent.TimelineRow(at: row.at, account: account.name, actor: row.actor, code: row.code, kind: row.kind, detail: row.detail)))
            }
        }
        // Newest first; at the same time, each account's own order (a tier change above its cause).
        merged.sort { ($0.at, -$0.order) > ($1.at, -$1.order) }
        more = more || merged.count > shown
        let path = "/console/people/\(Self.pathComponent(tenantId))/\(Self.pathComponent(openId))"
        let moreHref = more && shown < Fans.timelineDepth ? "\(path)?\(scope.selected.map { "account=\(Self.queryValue($0))&" } ?? "")entries=\(min(shown * 2, Fans.timelineDepth))#timeline" : nil
        let fans = states.map(\.1)
        let best = fans.map(\.tier).max() ?? .potential
        let tags = Set(fans.flatMap(\.tags)).sorted()
        let gmv = fans.reduce(Int64(0)) { $0.saturatingAdd(Int64($1.gmv)) }
        let cards = [Card(label: t(.tier), value: t.tier(best)), Card(label: t(.level), value: "\(fans.map(\.level).max() ?? 0)"),
                     Card(label: t(.intimacy), value: "\(fans.map(\.intimacy).max() ?? 0)"), Card(label: t(.gmv), value: "¥" + Self.yuan(gmv)),
                     Card(label: t(.accountsLabel), value: "\(states.count)")]
        let rows = states.map { account, fan in
            PersonContent.AccountRow(name: account.name, href: "/console/fans/\(Self.pathComponent(openId))?account=\(account.id)", tier: t.tier(fan.tier),
                                     level: fan.level, intimacy: fan.intimacy, gmv: "¥" + Self.yuan(Int64(fan.gmv)),
                                     following: t(fan.following ? .following : .notFollowing), arrived: Self.localMinute(fan.firstSeenAt, account),
                                     lastActive: fan.lastActiveAt > 0 ? Self.localMinute(fan.lastActiveAt, account) : "—", tags: fan.tags.sorted().joined(separator: ", "))
        }
        let content = PersonContent(cards: cards, tagList: tags, accounts: rows, timeline: Array(merged.prefix(shown).map(\.row)), more: moreHref)
        return try await page("person", content, title: first.1.nickname ?? openId, nav: .fans, request, context, scope: scope, path: "/console/fans")
    }
}

extension Fans.TimelineItem {
    /// When it happened.
    var at: Int64 {
        switch self {
        case .event(let stored): stored.event.occurredAt
        case .tierChanged(let at, _, _, _), .segment(let at, _, _, _), .action(let at, _, _), .journey(let at, _, _, _, _): at
        }
    }
}
