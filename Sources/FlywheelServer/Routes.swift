import Crypto
import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelStore
import Foundation
import Hummingbird

/// The `/v1` JSON API. Every lookup is scoped to the caller's reachable tenants: another tenant's
/// account is simply not found.
struct APIRoutes {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }
    var store: any Store { flywheel.env.store }

    func add(to group: RouterGroup<FlywheelRequestContext>) {
        group.get("tenant", use: tenant)
        group.get("enterprises", use: listEnterprises)
        group.post("enterprises", use: createEnterprise)
        group.get("users", use: listUsers)
        group.post("users", use: createUser)
        group.patch("users/:userId", use: changeUser)
        group.delete("users/:userId", use: removeUser)
        group.post("users/:userId/disable", use: disableUser)
        group.post("users/:userId/enable", use: enableUser)
        group.post("users/:userId/keys", use: createKey)
        group.get("keys", use: listKeys)
        group.delete("keys/:keyId", use: revokeKey)
        group.get("apps", use: listApps)
        group.post("apps", use: createApp)
        group.get("accounts", use: listAccounts)
        group.post("accounts", use: createAccount)
        group.get("accounts/:accountId", use: getAccount)
        group.get("accounts/:accountId/rules", use: getRules)
        group.put("accounts/:accountId/rules", use: putRules)
        group.post("accounts/:accountId/events", use: importEvents)
        group.get("accounts/:accountId/fans", use: listFans)
        group.get("accounts/:accountId/fans/:openId", use: getFan)
        group.post("accounts/:accountId/segments/preview", use: previewSegment)
        group.get("accounts/:accountId/segments", use: listSegments)
        group.post("accounts/:accountId/segments", use: createSegment)
        group.get("accounts/:accountId/segments/:segmentId", use: getSegment)
        group.patch("accounts/:accountId/segments/:segmentId", use: changeSegment)
        group.delete("accounts/:accountId/segments/:segmentId", use: deleteSegment)
        group.get("accounts/:accountId/segments/:segmentId/members", use: segmentMembers)
        group.get("accounts/:accountId/segments/:segmentId/changes", use: segmentChanges)
        group.get("accounts/:accountId/segments/:segmentId/portrait", use: segmentPortrait)
        group.get("accounts/:accountId/segments/:segmentId/sizes", use: segmentSizes)
        group.get("accounts/:accountId/segments/:segmentId/export", use: exportSegment)
        group.get("accounts/:accountId/tiers", use: tierStats)
        group.get("accounts/:accountId/sources", use: sourceStats)
        group.get("audit", use: audit)
        addCRM(to: group)
        addQuarantine(to: group)
        addConnections(to: group)
        addDesk(to: group)
        addLeads(to: group)
        addReach(to: group)
        addCommerce(to: group)
        addOperate(to: group)
        addStream(to: group)
        addJourneys(to: group)
    }

    // MARK: Tenancy

    @Sendable func tenant(_ request: Request, context: FlywheelRequestContext) async throws -> TenantView {
        let caller = try context.authorize(.readTenant)
        guard let tenant = try await store.tenant(id: caller.tenantId) else { throw APIError.notFound("tenant") }
        return TenantView(tenant)
    }

    @Sendable func listEnterprises(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<TenantView> {
        let caller = try context.authorize(.listEnterprises)
        return PageView(items: try await store.enterprises(managedBy: caller.tenantId).map(TenantView.init), nextCursor: nil)
    }

    struct NewEnterprise: Decodable { var name: String }
    struct EnterpriseCreated: Encodable, Sendable { var tenant: TenantView; var ownerApiKey: String }

    @Sendable func createEnterprise(_ request: Request, context: FlywheelRequestContext) async throws -> Created<EnterpriseCreated> {
        let body = try await request.decodeJSON(NewEnterprise.self, context: context)
        let made = try await Accounts(flywheel).createEnterprise(name: body.name, by: try context.caller())
        return Created(body: EnterpriseCreated(tenant: TenantView(made.tenant), ownerApiKey: made.ownerKey))
    }

    @Sendable func listUsers(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<UserView> {
        let caller = try context.authorize(.listUsers)
        let tenantId = try Validate.tenant(request.query("tenantId"), caller: caller, reachable: context.tenantIds)
        return PageView(items: try await store.users(tenantId: tenantId).map(UserView.init), nextCursor: nil)
    }

    struct NewUser: Decodable { var name: String; var role: Role; var tenantId: String? }

    @Sendable func createUser(_ request: Request, context: FlywheelRequestContext) async throws -> Created<UserView> {
        let caller = try context.authorize(.createUser)
        let body = try await request.decodeJSON(NewUser.self, context: context)
        let user = try await Members(flywheel).create(name: body.name, role: body.role, tenant: body.tenantId, in: context.tenantIds, by: caller)
        return Created(body: UserView(user))
    }

    struct UserChange: Decodable { var role: Role }

    /// Today a user's role is what changes; nobody gives a role above their own.
    @Sendable func changeUser(_ request: Request, context: FlywheelRequestContext) async throws -> UserView {
        let caller = try context.authorize(.changeUser)
        let userId = try context.parameters.require("userId")
        let body = try await request.decodeJSON(UserChange.self, context: context)
        return UserView(try await Members(flywheel).changeRole(of: userId, to: body.role, in: context.tenantIds, by: caller))
    }

    @Sendable func disableUser(_ request: Request, context: FlywheelRequestContext) async throws -> UserView {
        let caller = try context.caller()
        return UserView(try await Members(flywheel).disable(try context.parameters.require("userId"), in: context.tenantIds, by: caller))
    }

    @Sendable func enableUser(_ request: Request, context: FlywheelRequestContext) async throws -> UserView {
        let caller = try context.caller()
        return UserView(try await Members(flywheel).enable(try context.parameters.require("userId"), in: context.tenantIds, by: caller))
    }

    /// The user goes with its keys and sessions.
    @Sendable func removeUser(_ request: Request, context: FlywheelRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.caller()
        try await Members(flywheel).remove(try context.parameters.require("userId"), in: context.tenantIds, by: caller)
        return .noContent
    }

    /// An optional expiry: a date-time, or a number of days from now; neither for a key that does not expire.
    struct NewKey: Decodable { var expiresAt: String?; var expiresInDays: Int? }
    struct KeyCreated: Encodable, Sendable { var id: String; var userId: String; var token: String; var expiresAt: String? }

    @Sendable func createKey(_ request: Request, context: FlywheelRequestContext) async throws -> Created<KeyCreated> {
        let caller = try context.caller()
        let userId = try context.parameters.require("userId")
        // The body is optional: no body is a key that does not expire.
        let body = try await request.decodeJSONIfPresent(NewKey.self, context: context) ?? NewKey()
        var expiresAt: Int64?
        if let text = body.expiresAt {
            guard let ms = Time.parse(text) else { throw APIError.invalid("expiresAt", "must be a date-time such as 2026-12-31T23:59:59Z") }
            expiresAt = ms
        }
        let key = try await Members(flywheel).issueKey(for: userId, expiresAt: expiresAt, expiresInDays: body.expiresInDays,
                                                       in: context.tenantIds, by: caller)
        return Created(body: KeyCreated(id: key.record.id, userId: key.record.userId, token: key.token, expiresAt: key.record.expiresAt.map(Time.iso)))
    }

    /// The caller's own keys; owners and admins see every key of the tenant (`?userId=` for one user's).
    @Sendable func listKeys(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<KeyView> {
        let caller = try context.caller()
        let keys = try await Members(flywheel).keys(tenant: request.query("tenantId"), userId: request.query("userId"), in: context.tenantIds, by: caller)
        let now = env.now()
        return PageView(items: keys.map { KeyView($0, now: now) }, nextCursor: nil)
    }

    /// Refused from the next request on, by every server process.
    @Sendable func revokeKey(_ request: Request, context: FlywheelRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.caller()
        try await Members(flywheel).revokeKey(try context.parameters.require("keyId"), in: context.tenantIds, by: caller)
        return .noContent
    }

    @Sendable func listApps(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<AppView> {
        let caller = try context.authorize(.listApps)
        let tenantId = try Validate.tenant(request.query("tenantId"), caller: caller, reachable: context.tenantIds)
        return PageView(items: try await store.apps(tenantId: tenantId).map(AppView.init), nextCursor: nil)
    }

    struct NewApp: Decodable { var name: String; var clientKey: String; var clientSecret: String; var tenantId: String? }

    @Sendable func createApp(_ request: Request, context: FlywheelRequestContext) async throws -> Created<AppView> {
        let caller = try context.caller()
        let body = try await request.decodeJSON(NewApp.self, context: context)
        let tenantId = try Validate.tenant(body.tenantId, caller: caller, reachable: context.tenantIds)
        return Created(body: AppView(try await Accounts(flywheel).createApp(name: body.name, clientKey: body.clientKey, clientSecret: body.clientSecret,
                                                                           in: tenantId, by: caller)))
    }

    // MARK: Accounts

    @Sendable func listAccounts(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<AccountView> {
        try context.authorize(.listAccounts)
        return PageView(items: try await store.accounts(tenantIds: context.tenantIds).map(AccountView.init), nextCursor: nil)
    }

    struct NewAccount: Decodable { var name: String; var appId: String; var openId: String; var timeZone: String?; var tenantId: String? }

    @Sendable func createAccount(_ request: Request, context: FlywheelRequestContext) async throws -> Created<AccountView> {
        let caller = try context.caller()
        let body = try await request.decodeJSON(NewAccount.self, context: context)
        let tenantId = try Validate.tenant(body.tenantId, caller: caller, reachable: context.tenantIds)
        return Created(body: AccountView(try await Accounts(flywheel).createAccount(name: body.name, appId: body.appId, openId: body.openId,
                                                                                   timeZone: body.timeZone, in: tenantId, by: caller)))
    }

    @Sendable func getAccount(_ request: Request, context: FlywheelRequestContext) async throws -> AccountView {
        try context.authorize(.readAccount)
        return AccountView(try await account(context))
    }

    /// The request's `Idempotency-Key`: the same request asked again with it has its first answer.
    func idempotencyKey(_ request: Request) throws -> String? {
        let key = request.headers[.idempotencyKey]
        if let key, !(1...200).contains(key.utf8.count) { throw APIError.invalid("Idempotency-Key", "must be 1 to 200 bytes") }
        return key
    }

    func account(_ context: FlywheelRequestContext) async throws -> Account {
        _ = try context.caller()
        let id = try context.parameters.require("accountId")
        guard let account = try await store.account(id: id, tenantIds: context.tenantIds) else { throw APIError.notFound("account \(id)") }
        return account
    }

    struct RulesView: ResponseEncodable {
        var version: Int
        /// The version the projector has applied to the fans; equal to `version` once re-evaluation is done.
        var appliedVersion: Int
        var rules: AccountRules
    }

    @Sendable func getRules(_ request: Request, context: FlywheelRequestContext) async throws -> RulesView {
        try context.authorize(.readRules)
        let rules = try await store.rules(of: try await account(context))
        return RulesView(version: rules.version, appliedVersion: rules.appliedVersion, rules: rules.rules)
    }

    @Sendable func putRules(_ request: Request, context: FlywheelRequestContext) async throws -> RulesView {
        let caller = try context.caller()
        let account = try await account(context)
        let rules = try await request.decodeJSON(AccountRules.self, context: context)
        let version = try await Accounts(flywheel).changeRules(rules, of: account, by: caller)
        return RulesView(version: version, appliedVersion: try await store.rules(of: account).appliedVersion, rules: rules)
    }

    // MARK: Events

    struct ImportedEvents: ResponseEncodable { var appended: Int; var duplicates: Int }

    /// Events the enterprise syncs from the platform's data APIs or another system (orders, lives,
    /// views): NDJSON in the import format of docs/events.md, for this account. All lines are
    /// checked first; one bad line refuses the whole body.
    @Sendable func importEvents(_ request: Request, context: FlywheelRequestContext) async throws -> Created<ImportedEvents> {
        // Checked before a large body is read; the use case checks again, as for every caller.
        let caller = try context.authorize(.importEvents)
        let account = try await account(context)
        let buffer = try await request.body.collect(upTo: Self.maxEventBytes)
        let outcome = try await Events(flywheel).importLines(buffer.readableBytesView, into: account, by: caller)
        return Created(body: ImportedEvents(appended: outcome.inserted, duplicates: outcome.duplicates), status: .accepted)
    }

    static let maxEventBytes = 16 << 20

    // MARK: Fans

    @Sendable func listFans(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<FanView> {
        try context.authorize(.listFans)
        let account = try await account(context)
        // The filters are predicates too: one query, compiled to SQL by the store.
        var terms: [FanPredicate] = []
        if let tier = request.query("tier") {
            guard let t = Tier(name: tier) else { throw APIError.invalid("tier", "must be one of \(Tier.allCases.map(\.name).joined(separator: ", "))") }
            terms.append(.compare(field: "tier", op: .eq, value: .name(t.name)))
        }
        if let domain = request.query("domain") {
            guard let d = SourceDomain(rawValue: domain) else { throw APIError.invalid("domain", "must be one of \(SourceDomain.allCases.map(\.rawValue).joined(separator: ", "))") }
            terms.append(.compare(field: "first_domain", op: .eq, value: .name(d.rawValue)))
        }
        if let following = request.query("following") {
            guard let f = Bool(following) else { throw APIError.invalid("following", "must be true or false") }
            terms.append(f ? .isTrue(field: "following") : .not(.isTrue(field: "following")))
        }
        if let q = request.query("q") {
            terms.append(Fans.search(q))
        }
        if let text = request.query("where") {
            do {
                terms.append(try FanPredicate.parse(text))
            } catch {
                throw APIError.invalid("where", error.description)
            }
        }
        let predicate: FanPredicate? = terms.count > 1 ? .and(terms) : terms.first
        let page = try await store.fans(of: account, matching: predicate, now: env.now(), cursor: try Cursor.decode(request.query("cursor")),
                                        limit: try request.pageLimit())
        return PageView(items: page.items.map(FanView.init), nextCursor: Cursor.encode(page.nextCursor))
    }

    struct FanDetail: ResponseEncodable {
        var fan: FanView
        /// Newest first: the fan's events, operators' tags and notes, tier changes, segment entries
        /// and exits, and what rules did.
        var timeline: [TimelineEntry]
        /// The next page of the timeline (`?cursor=`), while there is one.
        var nextCursor: String?
    }

    @Sendable func getFan(_ request: Request, context: FlywheelRequestContext) async throws -> FanDetail {
        try context.authorize(.readFan)
        let account = try await account(context)
        let openId = try context.parameters.require("openId")
        guard let fan = try await store.fan(of: account, openId: openId) else { throw APIError.notFound("fan \(openId)") }
        let caller = try context.caller()
        // The cursor is how many entries earlier pages showed.
        let skipping = try Cursor.decode(request.query("cursor")).map { text -> Int in
            guard let n = Int(text), n >= 0 else { throw APIError.invalid("cursor", "not a cursor this API returned; start again without one") }
            return n
        } ?? 0
        let limit = try request.pageLimit()
        let page = try await Fans(flywheel).timeline(of: openId, in: account, skipping: skipping, limit: limit, by: caller)
        return FanDetail(fan: FanView(fan), timeline: page.items.map(TimelineEntry.init), nextCursor: page.more ? Cursor.encode(String(skipping + limit)) : nil)
    }

    // MARK: Segments

    struct SegmentView: ResponseEncodable {
        var id: String
        var name: String
        /// `dynamic` (kept current by its predicate) or `static` (imported or a lookalike).
        var kind: String
        /// Canonical text form; null for a static segment.
        var predicate: String?
        var state: Segment.State
        var failure: String?
        var size: Int
        var createdAt: String
        var updatedAt: String

        init(_ s: Segment) {
            id = s.id; name = s.name; kind = s.predicate == nil ? "static" : "dynamic"; predicate = s.predicate?.description; state = s.state; failure = s.failure; size = s.size
            createdAt = Time.iso(s.createdAt); updatedAt = Time.iso(s.updatedAt)
        }
    }

    /// The predicate as text (`"level >= 9"`) or in its JSON form.
    struct NewSegment: Decodable {
        var name: String
        var predicate: FanPredicate
    }

    @Sendable func listSegments(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<SegmentView> {
        try context.authorize(.listSegments)
        return PageView(items: try await store.segments(of: try await account(context)).map(SegmentView.init), nextCursor: nil)
    }

    /// Creates the segment and runs its one full scan; the answer shows it ready, or failed and why.
    @Sendable func createSegment(_ request: Request, context: FlywheelRequestContext) async throws -> Created<SegmentView> {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(NewSegment.self, context: context)
        return Created(body: SegmentView(try await Segments(flywheel).create(name: body.name, predicate: body.predicate, in: account, by: caller)))
    }

    struct SegmentChangeRequest: Decodable {
        var name: String?
        var predicate: FanPredicate?
    }

    /// Renames, or redefines and rebuilds, a segment.
    @Sendable func changeSegment(_ request: Request, context: FlywheelRequestContext) async throws -> SegmentView {
        let caller = try context.caller()
        let (account, segment) = try await segment(context)
        let body = try await request.decodeJSON(SegmentChangeRequest.self, context: context)
        return SegmentView(try await Segments(flywheel).change(segment, of: account, name: body.name, predicate: body.predicate, by: caller))
    }

    func segment(_ context: FlywheelRequestContext) async throws -> (Account, Segment) {
        let account = try await account(context)
        let id = try context.parameters.require("segmentId")
        guard let segment = try await store.segment(id: id, of: account) else { throw APIError.notFound("segment \(id)") }
        return (account, segment)
    }

    @Sendable func getSegment(_ request: Request, context: FlywheelRequestContext) async throws -> SegmentView {
        try context.authorize(.readSegment)
        return SegmentView(try await segment(context).1)
    }

    @Sendable func deleteSegment(_ request: Request, context: FlywheelRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.caller()
        let (account, segment) = try await segment(context)
        try await Segments(flywheel).delete(segment, of: account, by: caller)
        return .noContent
    }

    @Sendable func segmentMembers(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<String> {
        try context.authorize(.listSegmentMembers)
        let (account, segment) = try await segment(context)
        let page = try await store.segmentMembers(id: segment.id, of: account, cursor: try Cursor.decode(request.query("cursor")), limit: try request.pageLimit())
        return PageView(items: page.items, nextCursor: Cursor.encode(page.nextCursor))
    }

    struct ChangeView: Encodable {
        var openId: String
        var change: String
        var at: String
        var cause: String
    }

    @Sendable func segmentChanges(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<ChangeView> {
        try context.authorize(.listSegmentChanges)
        let (account, segment) = try await segment(context)
        let changes = try await store.segmentChanges(id: segment.id, of: account, limit: try request.pageLimit())
        return PageView(items: changes.map { ChangeView(openId: $0.openId, change: $0.entered ? "entered" : "left", at: Time.iso($0.at), cause: $0.cause) }, nextCursor: nil)
    }

    struct SizesView: ResponseEncodable {
        struct Day: Encodable { var date: String; var size: Int; var entered: Int; var left: Int }
        var days: [Day]
    }

    /// The segment's size at the end of each day of `?from=&to=`, with the day's entries and exits,
    /// counted back from today's size through its history.
    @Sendable func segmentSizes(_ request: Request, context: FlywheelRequestContext) async throws -> SizesView {
        let (account, segment) = try await segment(context)
        let range = try dateRange(request, account)
        let sizes = try await Segments(flywheel).sizes(of: segment, in: account, days: range, by: try context.caller())
        return SizesView(days: sizes.map { .init(date: AccountCalendar.dateText(ofDay: $0.day), size: $0.size, entered: $0.entered, left: $0.left) })
    }

    struct PortraitView: ResponseEncodable {
        var size: Int
        /// dimension → value → fans; tiers by name, `following` as true/false.
        var distributions: [String: [String: Int]]
    }

    @Sendable func segmentPortrait(_ request: Request, context: FlywheelRequestContext) async throws -> PortraitView {
        let caller = try context.caller()
        let (account, segment) = try await segment(context)
        let portrait = try await Segments(flywheel).portrait(of: segment, in: account, by: caller)
        return PortraitView(size: portrait.size, distributions: portrait.distributions)
    }

    /// The members as CSV of open_ids for ad targeting: plain, or SHA-256 hashed (`?hash=sha256`).
    @Sendable func exportSegment(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let (account, segment) = try await segment(context)
        return Response.csv(try await Segments(flywheel).export(segment, of: account, hash: request.query("hash"), by: caller))
    }


    struct Preview: ResponseEncodable {
        var count: Int
        var sample: [FanView]
        /// The predicate in its canonical text form.
        var predicate: String
    }

    struct PreviewRequest: Decodable { var predicate: FanPredicate }

    @Sendable func previewSegment(_ request: Request, context: FlywheelRequestContext) async throws -> Preview {
        try context.authorize(.previewSegment)
        let account = try await account(context)
        let input = try await request.decodeJSON(PreviewRequest.self, context: context)
        let result = try await flywheel.fanScan.preview(input.predicate, of: account, now: env.now(), sample: 10)
        return Preview(count: result.count, sample: result.sample.map(FanView.init), predicate: input.predicate.description)
    }

    // MARK: Statistics

    struct TierStats: ResponseEncodable {
        struct Day: Encodable { var date: String; var counts: [String: Int] }
        struct Flow: Encodable { var from: String; var to: String; var fans: Int }
        var from: String
        var to: String
        var current: [String: Int]
        /// Fans per tier at the end of each day.
        var days: [Day]
        /// Moves between tiers within the range; `from` is `new` for fans first seen.
        var transitions: [Flow]
    }

    @Sendable func tierStats(_ request: Request, context: FlywheelRequestContext) async throws -> TierStats {
        try context.authorize(.readTierStats)
        let account = try await account(context)
        let range = try dateRange(request, account)
        var counts = try await store.tierCounts(of: account, before: range.lowerBound)
        let flows = try await store.tierFlows(of: account, days: range)
        var days: [TierStats.Day] = []
        for day in range {
            for (flow, n) in flows where flow.day == day {
                counts[flow.to, default: 0] += n
                if let from = flow.from { counts[from, default: 0] -= n }
            }
            days.append(.init(date: AccountCalendar.dateText(ofDay: day), counts: Self.named(counts)))
        }
        var totals: [String: TierStats.Flow] = [:]
        for (flow, n) in flows where flow.from != flow.to {
            let from = flow.from?.name ?? "new"
            totals["\(from)>\(flow.to.name)", default: .init(from: from, to: flow.to.name, fans: 0)].fans += n
        }
        return TierStats(from: AccountCalendar.dateText(ofDay: range.lowerBound), to: AccountCalendar.dateText(ofDay: range.upperBound),
                         current: Self.named(try await store.tierCounts(of: account)), days: days,
                         transitions: totals.values.sorted { ($0.from, $0.to) < ($1.from, $1.to) })
    }

    struct SourceStats: ResponseEncodable {
        struct Row: Encodable { var domain: SourceDomain; var channel: Channel?; var events: Int; var newFans: Int }
        var from: String
        var to: String
        var domains: [Row]
        var channels: [Row]
    }

    @Sendable func sourceStats(_ request: Request, context: FlywheelRequestContext) async throws -> SourceStats {
        try context.authorize(.readSourceStats)
        let account = try await account(context)
        let range = try dateRange(request, account)
        var domains: [SourceDomain: ActivityCount] = [:]
        var channels: [Channel: ActivityCount] = [:]
        for (cell, count) in try await store.activity(of: account, days: range) {
            domains[cell.domain, default: .init()].events += count.events
            domains[cell.domain, default: .init()].newFans += count.newFans
            channels[cell.channel, default: .init()].events += count.events
            channels[cell.channel, default: .init()].newFans += count.newFans
        }
        return SourceStats(
            from: AccountCalendar.dateText(ofDay: range.lowerBound), to: AccountCalendar.dateText(ofDay: range.upperBound),
            domains: SourceDomain.allCases.map { .init(domain: $0, channel: nil, events: domains[$0]?.events ?? 0, newFans: domains[$0]?.newFans ?? 0) },
            channels: channels.map { .init(domain: $0.key.defaultDomain, channel: $0.key, events: $0.value.events, newFans: $0.value.newFans) }
                .sorted { $0.events > $1.events })
    }

    /// `?from=&to=` as dates in the account's time zone; the last 30 days by default; at most 366 days.
    func dateRange(_ request: Request, _ account: Account) throws -> ClosedRange<Int> {
        let calendar = account.calendar
        let today = calendar.day(ofMillis: env.now())
        func parse(_ name: String, default value: Int) throws -> Int {
            guard let text = request.query(name) else { return value }
            guard let day = calendar.day(ofDate: text) else { throw APIError.invalid(name, "must be a date as YYYY-MM-DD") }
            return day
        }
        let to = try parse("to", default: today)
        let from = try parse("from", default: to - 29)
        guard from <= to else { throw APIError.invalid("from", "must not be after 'to'") }
        guard to - from < 366 else { throw APIError.invalid("from", "the range may span at most 366 days") }
        return from...to
    }

    static func named(_ counts: [Tier: Int]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: Tier.allCases.map { ($0.name, counts[$0] ?? 0) })
    }

    @Sendable func audit(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<AuditEntry> {
        let caller = try context.authorize(.readAudit)
        let tenantId = try Validate.tenant(request.query("tenantId"), caller: caller, reachable: context.tenantIds)
        let page = try await store.auditLog(tenantId: tenantId, cursor: try Cursor.decode(request.query("cursor")), limit: try request.pageLimit())
        return PageView(items: page.items, nextCursor: Cursor.encode(page.nextCursor))
    }
}

extension AuditEntry: ResponseEncodable {}

/// Input checks shared by the routes.
