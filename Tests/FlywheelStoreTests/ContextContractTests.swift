import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// The tenancy, tags, segments and fan-history contexts, method by method, on both stores.
@Suite struct ContextContractTests {
    func audit(_ f: StoreFixture, _ action: String) -> AuditEntry {
        f.env.audit(tenantId: f.account.tenantId, actor: "test", action: action, target: f.account.id)
    }

    @Test(arguments: StoreKind.allCases)
    func tenantsUsersKeysAndSessions(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let tenantId = f.account.tenantId
        let tenant = try #require(try await f.store.tenant(id: tenantId))
        #expect(tenant.name == "Acme" && tenant.kind == .enterprise)
        #expect(try await f.store.tenant(id: "ten_nobody") == nil)
        #expect(try await f.store.allTenants().map(\.id) == [tenantId])
        let other = Tenant(id: "ten_other", name: "Other", kind: .enterprise, providerId: nil, createdAt: 2)
        let otherOwner = User(tenantId: other.id, id: "usr_other", name: "owner", role: .owner, createdAt: 2)
        try await f.store.createTenant(other, owner: otherOwner, key: APIKeyRecord(tenantId: other.id, id: "key_other", userId: otherOwner.id, secretHash: "h", createdAt: 2),
                                       audit: f.env.audit(tenantId: other.id, actor: "test", action: "tenant.create", target: other.id))
        #expect(try await f.store.tenant(id: "ten_other") == other)
        #expect(try await f.store.apiKey(id: "key_other")?.role == .owner)
        let provider = try await Tenancy(f.env).createTenant(name: "Agency", kind: .provider, actor: "test")
        let managed = try await Tenancy(f.env).createTenant(name: "Managed", kind: .enterprise, provider: provider.tenant, actor: "test")
        #expect(try await f.store.enterprises(managedBy: provider.tenant.id).map(\.id) == [managed.tenant.id])
        #expect(try await f.store.enterprises(managedBy: tenantId).isEmpty)

        let agent = User(tenantId: tenantId, id: "usr_agent", name: "小王", role: .agent, createdAt: 5)
        try await f.store.createUser(agent, audit: audit(f, "user.create"))
        await #expect(throws: StoreError.self) { try await f.store.createUser(agent, audit: audit(f, "user.create")) }
        #expect(try await f.store.users(tenantId: tenantId).map(\.name).sorted() == ["owner", "小王"])

        let key = APIKeyRecord(tenantId: tenantId, id: "key_agent", userId: agent.id, secretHash: "h", createdAt: 6)
        try await f.store.createAPIKey(key, audit: audit(f, "key.create"))
        let found = try #require(try await f.store.apiKey(id: "key_agent"))
        #expect(found.key == key && found.role == .agent)
        #expect(try await f.store.apiKey(id: "key_nobody") == nil)

        try await f.store.setPassword(hash: "pbkdf2-sha256$1$salt$hash", of: agent, audit: audit(f, "user.password"))
        let candidates = try await f.store.signInCandidates(name: "小王", tenant: nil)
        #expect(candidates.map(\.user) == [agent] && candidates.map(\.passwordHash) == ["pbkdf2-sha256$1$salt$hash"])

        let session = SessionRecord(tokenHash: "sess", tenantId: tenantId, userId: agent.id, csrf: "c", createdAt: 100, expiresAt: 200)
        try await f.store.createSession(session, audit: audit(f, "session.create"))
        #expect(try await f.store.session(tokenHash: "sess", now: 150)?.session == session)
        #expect(try await f.store.session(tokenHash: "sess", now: 250) == nil, "an expired session is not found")
        try await f.store.deleteSession(tokenHash: "sess")
        #expect(try await f.store.session(tokenHash: "sess", now: 150) == nil)
        #expect(try await f.store.app(clientKey: "ck-nobody") == nil)
        let app = try #require(try await f.store.apps(tenantId: tenantId).first)
        #expect(try await f.store.app(clientKey: app.clientKey) == app)
    }

    @Test(arguments: StoreKind.allCases)
    func tagsAreDefinedListedByGroupAndDeleted(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let tenantId = f.account.tenantId
        for (name, group) in [("vip", "value"), ("白酒", "interest"), ("new", "value")] {
            try await f.store.createTag(TagDefinition(name: name, group: group, createdAt: 1), tenantId: tenantId, audit: audit(f, "tag.create"))
        }
        await #expect(throws: StoreError.self) {
            try await f.store.createTag(TagDefinition(name: "vip", group: "value", createdAt: 2), tenantId: tenantId, audit: audit(f, "tag.create"))
        }
        #expect(try await f.store.tags(tenantId: tenantId).map(\.name) == ["白酒", "new", "vip"], "by group, then name")
        try await f.store.deleteTag(name: "new", tenantId: tenantId, audit: audit(f, "tag.delete"))
        #expect(try await f.store.tags(tenantId: tenantId).map(\.name) == ["白酒", "vip"])
    }

    @Test(arguments: StoreKind.allCases)
    func staticSegmentsPortraitsMovementsAndUpdates(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let events = mixedEvents(count: 600)
        _ = try await f.store.append(f.events(events)) { _ in }
        await Flywheel(f.env).projector.drain()
        let fans = try await f.fans()
        let chosen = Array(fans.keys.sorted().prefix(5))
        let segment = Segment(tenantId: f.account.tenantId, accountId: f.account.id, id: "seg_static", name: "imported", predicate: nil,
                              state: .building, createdAt: 1_000, updatedAt: 1_000)
        let made = try await f.store.createStaticSegment(segment, of: f.account, members: chosen + ["not-a-fan"], cause: "imported", audit: audit(f, "segment.import"))
        #expect(made.state == .ready && made.size == 5, "only fans of the account are members")
        #expect(try await f.store.segments(of: f.account).map(\.id) == ["seg_static"])
        #expect(try await f.store.segmentMovements(id: "seg_static", of: f.account, since: 0).map(\.delta) == Array(repeating: 1, count: 5))
        #expect(try await f.store.segmentMovements(id: "seg_static", of: f.account, since: 2_000).isEmpty)
        let portrait = try await f.store.portrait(ofSegment: "seg_static", of: f.account)
        #expect(portrait.size == 5)
        #expect(portrait.distributions["tier"]?.values.reduce(0, +) == 5)
        let tiers = Dictionary(grouping: chosen.compactMap { fans[$0] }, by: { String($0.tier.rawValue) }).mapValues(\.count)
        #expect(portrait.distributions["tier"] == tiers)

        var renamed = made
        renamed.name = "imported in March"
        renamed.updatedAt = 3_000
        try await f.store.updateSegment(renamed, audit: audit(f, "segment.change"))
        #expect(try await f.store.segment(id: "seg_static", of: f.account)?.name == "imported in March")
    }

    @Test(arguments: StoreKind.allCases)
    func aFansHistoryAndTheAccountsFlows(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        var rules = AccountRules.standard
        rules.tagRules = [TagRule(tag: "regular", when: try FanPredicate.parse("likes >= 2"))]
        try await f.store.createTag(TagDefinition(name: "regular", group: "value", createdAt: 1), tenantId: f.account.tenantId, audit: audit(f, "tag.create"))
        _ = try await f.store.setRules(rules, of: f.account, audit: audit(f, "rules.update"))
        let t0: Int64 = 1_772_323_200_000
        _ = try await f.store.append(f.events([
            FanEvent(id: "1", kind: .follow, openId: "fan-a", occurredAt: t0, channel: .search),
            FanEvent(id: "2", kind: .like, openId: "fan-a", occurredAt: t0 + 1, channel: .search),
            FanEvent(id: "3", kind: .like, openId: "fan-a", occurredAt: t0 + 2, channel: .search),
            FanEvent(id: "4", kind: .like, openId: "fan-b", occurredAt: t0 + 3, channel: .douPlus),
        ])) { _ in }
        let before = try await f.store.projectionPosition(of: f.account)
        await Flywheel(f.env).projector.drain()
        #expect(try await f.store.actions(of: f.account, openId: "fan-a", limit: 10).map(\.detail) == ["regular"])
        #expect(try await f.store.actions(of: f.account, openId: "fan-b", limit: 10).isEmpty)
        let day = f.account.calendar.day(ofMillis: t0)
        let flows = try await f.store.tierFlows(of: f.account, days: day...day)
        #expect(flows[TierFlow(day: day, from: nil, to: .passerby)] == 1, "fan-a came in following")
        #expect(flows[TierFlow(day: day, from: nil, to: .potential)] == 1, "fan-b came in liking")
        #expect(try await f.store.fan(of: f.account, openId: "fan-a")?.counters.likes == 2)
        #expect(try await f.store.fan(of: f.account, openId: "fan-z") == nil)

        // A window segment: both fans active at t0, both gone three days on, found by the recheck alone.
        let recent = Segment(tenantId: f.account.tenantId, accountId: f.account.id, id: "seg_recent", name: "recent",
                             predicate: try FanPredicate.parse("last_active within 1d"), state: .building, createdAt: t0, updatedAt: t0)
        try await f.store.createSegment(recent, audit: audit(f, "segment.create"))
        #expect(try await f.store.buildSegment(id: "seg_recent", of: f.account, now: t0 + 3_600_000).size == 2)
        let calendar = f.account.calendar
        let left = try await f.store.recheckSegments(of: f.account, now: t0 + 3 * 86_400_000) { segments, fans, memberships in
            Projector.segmentChanges(segments, memberships: memberships, fans: fans, causes: [], otherwise: ("time_passed", 0, t0 + 3 * 86_400_000),
                                     calendar: calendar, now: t0 + 3 * 86_400_000)
        }
        #expect(left == 2)
        #expect(try await f.store.segment(id: "seg_recent", of: f.account)?.size == 0)
        let changed = try #require(try await f.store.fansChanged(of: f.account, after: before.lastSeq, limit: 10))
        #expect(Set(changed.map(\.openId)) == ["fan-a", "fan-b"])
        #expect(try await f.store.fansChanged(of: f.account, after: before.lastSeq, limit: 1) == nil, "more changed than the limit")
        #expect(try await f.store.fansChanged(of: f.account, after: 4, limit: 10)?.isEmpty == true)
    }

    @Test(arguments: StoreKind.allCases)
    func theNextEventIsSetAsideOnlyWhileTheCheckpointStands(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        _ = try await f.store.append(f.events(Array(mixedEvents(count: 3)))) { _ in }
        #expect(try await f.store.quarantine(f.account, after: 1, reason: "x", at: 5) == false, "the checkpoint is at 0, not 1")
        #expect(try await f.store.quarantine(f.account, after: 0, reason: "kept failing", at: 5))
        #expect(try await f.store.quarantinedEvents(of: f.account, limit: 10).map(\.seq) == [1])
        #expect(try await f.store.projectionPosition(of: f.account).lastSeq == 1)
    }
}

/// Every method of every store protocol is called by the contract suite, which runs each test on
/// both databases: a new store method without a contract test fails here.
@Suite struct StoreCoverageTests {
    @Test func everyStoreMethodIsExercisedByTheContractSuite() throws {
        var here = URL(fileURLWithPath: #filePath)
        here.deleteLastPathComponent()
        let sources = here.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources/FlywheelStore")
        var protocols = ""
        for file in try FileManager.default.contentsOfDirectory(atPath: sources.path) where file.hasSuffix(".swift") {
            protocols += try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
        }
        var methods = Set<String>()
        for block in protocols.components(separatedBy: "public protocol ").dropFirst() where block.prefix(while: { $0 != ":" }).hasSuffix("Store") {
            let body = block.components(separatedBy: "\n}\n").first ?? ""
            for line in body.split(separator: "\n") where line.hasPrefix("    func ") {
                methods.insert(String(line.dropFirst(9).prefix { $0 != "(" && $0 != "<" }))
            }
        }
        #expect(methods.count >= 60)
        var tests = ""
        for file in try FileManager.default.contentsOfDirectory(atPath: here.path) where file.hasSuffix(".swift") {
            tests += try String(contentsOf: here.appendingPathComponent(file), encoding: .utf8)
        }
        let unexercised = methods.filter { !tests.contains("store.\($0)(") }.sorted()
        #expect(unexercised == [], "store methods no contract test calls")
    }
}
