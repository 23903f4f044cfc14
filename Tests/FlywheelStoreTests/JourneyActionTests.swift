import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// A date journey on both stores, with the real projector and runner: at its moment the fans
/// matching its condition enter (once; a fan who matches later does not), and its treated fans
/// join a post's audience (a static segment, with the entry in the segment's history) and get a
/// share of a red envelope under the envelope's rules, each once.
@Suite struct JourneyActionTests {
    @Test(arguments: StoreKind.allCases)
    func aDateJourneyEntersItsFansOnceAndAddsThemToAnAudienceWithARedEnvelope(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let clock = JourneyClock(JourneyContractTests.tenOClock)
        var env = f.env
        env.now = { clock.now }
        let flywheel = Flywheel(env)
        let store = f.store
        func audit(_ action: String) -> AuditEntry { env.audit(tenantId: f.account.tenantId, actor: "t", action: action, target: "x") }
        let audience = Segment(tenantId: f.account.tenantId, accountId: f.account.id, id: "seg-audience", name: "双十二推送", predicate: nil, state: .building,
                               createdAt: clock.now, updatedAt: clock.now)
        _ = try await store.createStaticSegment(audience, of: f.account, members: [], cause: "import", audit: audit("segment.import"))
        let envelope = RedEnvelope(id: "env-1", accountId: f.account.id, name: "老客红包", totalFen: 10_000, shares: 100, split: .fixed, audience: "orders >= 1",
                                   requiresFollow: false, opensAt: clock.now, expiresAt: clock.now + 7 * 86_400_000, createdAt: clock.now)
        try await store.createRedEnvelope(envelope, shares: Array(repeating: 100, count: 100), audit: audit("red_envelope.create"))

        // 200 fans, 150 of them buyers (about 128 treated, more than the envelope's 100 shares); the
        // journey fires tomorrow at 10:00 for the buyers.
        let fans = (0..<200).map { "fan-\($0)" }
        _ = try await store.append(f.events(fans.enumerated().flatMap { i, fan in
            [FanEvent(id: "f\(i)", kind: .follow, openId: fan, occurredAt: clock.now, channel: .search)]
                + (i < 150 ? [FanEvent(id: "o\(i)", kind: .orderPaid, openId: fan, occurredAt: clock.now, channel: .homepage, amount: 5_000, ref: "order-\(i)")] : [])
        })) { _ in }
        await flywheel.projector.drain()
        let moment = clock.now + 86_400_000
        let journey = Journey(tenantId: f.account.tenantId, accountId: f.account.id, id: "jrn-date", name: "双十二",
                              trigger: JourneyTrigger(kind: .date, value: "2026-11-03 10:00", condition: "orders >= 1"),
                              steps: [JourneyStep(kind: .audience, segmentId: audience.id), JourneyStep(kind: .redEnvelope, envelopeId: envelope.id)],
                              quietHours: nil, createdAt: clock.now)
        #expect(journey.problem() == nil && journey.trigger.date(in: f.account.calendar) == moment)
        try await store.createJourney(journey, audit: audit("journey.create"))
        try await store.setJourneyState(journey.id, tenantId: journey.tenantId, state: .active, launchedAt: clock.now, firesAt: moment, audit: audit("journey.launch"))

        try await flywheel.journeys.drain()
        #expect(try await store.journeyProgress(journey.id, tenantId: journey.tenantId).runs.isEmpty, "not yet its moment")
        clock.advance(86_400_000)
        try await flywheel.journeys.drain()
        let arms = Dictionary(grouping: fans.prefix(150)) { ExperimentArm.of($0, experiment: journey.id, holdoutPercent: 10, tenantId: f.account.tenantId, controlPercent: 5) }
        let treated = Set(arms[.treated] ?? [])
        let progress = try await store.journeyProgress(journey.id, tenantId: journey.tenantId)
        #expect(progress.entered(.treated) == treated.count && progress.entered(.holdout) == arms[.holdout]?.count ?? 0
                    && progress.entered(.control) == arms[.control]?.count ?? 0, "the 150 buyers, on their arms")
        #expect(progress.runs[.treated]?[.done] == treated.count)

        // Every treated buyer joined the audience once, as an entry the journey caused; the others did not.
        let members = try await store.segmentMembers(id: audience.id, of: f.account, cursor: nil, limit: 1_000).items
        #expect(Set(members) == treated && members.count == treated.count)
        #expect(try await store.segment(id: audience.id, of: f.account)?.size == treated.count)
        let history = try await store.segmentChanges(id: audience.id, of: f.account, limit: 1_000)
        #expect(history.count == treated.count && history.allSatisfy { $0.entered && $0.cause == "journey:\(journey.id)" })
        // The envelope's 100 shares of 100 fen went to 100 of them; the rest were told none is left, once each.
        let claims = try await store.envelopeClaims(id: envelope.id, of: f.account, limit: 1_000)
        #expect(claims.count == 100 && Set(claims.map(\.openId)).isSubset(of: treated) && claims.allSatisfy { $0.amountFen == 100 })
        #expect(try await store.redEnvelope(id: envelope.id, of: f.account)?.claimed == 100)
        let outcomes = try await store.journeyProgress(journey.id, tenantId: journey.tenantId).steps.filter { $0.step == 2 }.map { "\($0.outcome) \($0.fans)" }
        #expect(outcomes == ["gave 100 fen 100", "skipped: none is left \(treated.count - 100)"])
        let one = try #require(claims.first?.openId)
        #expect(try await store.journeySteps(of: f.account, openId: one, limit: 5).map(\.outcome) == ["gave 100 fen", "joined \(audience.id)", "treated"])

        // Fired once: a fan who buys now does not enter, and nothing runs again.
        _ = try await store.append(f.events([FanEvent(id: "late", kind: .orderPaid, openId: "fan-199", occurredAt: clock.now, channel: .homepage, amount: 5_000,
                                                      ref: "order-late")])) { _ in }
        await flywheel.projector.drain()
        clock.advance(86_400_000)
        try await flywheel.journeys.drain()
        #expect(try await store.journeyProgress(journey.id, tenantId: journey.tenantId).runs == progress.runs)
        #expect(try await store.journeysToFire(now: clock.now, limit: 10).isEmpty)
        #expect(try await store.envelopeClaims(id: envelope.id, of: f.account, limit: 1_000).count == 100)
    }

    /// A fan not eligible for the envelope (no order) is passed over, saying why, and the journey goes on.
    @Test(arguments: StoreKind.allCases)
    func aRedEnvelopeStepKeepsTheEnvelopesRules(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let clock = JourneyClock(JourneyContractTests.tenOClock)
        var env = f.env
        env.now = { clock.now }
        let flywheel = Flywheel(env)
        func audit(_ action: String) -> AuditEntry { env.audit(tenantId: f.account.tenantId, actor: "t", action: action, target: "x") }
        let envelope = RedEnvelope(id: "env-2", accountId: f.account.id, name: "老客红包", totalFen: 200, shares: 2, split: .fixed, audience: "orders >= 1",
                                   requiresFollow: true, opensAt: clock.now, expiresAt: clock.now + 86_400_000, createdAt: clock.now)
        try await f.store.createRedEnvelope(envelope, shares: [100, 100], audit: audit("red_envelope.create"))
        let journey = Journey(tenantId: f.account.tenantId, accountId: f.account.id, id: "jrn-env", name: "关注红包", trigger: JourneyTrigger(kind: .event, value: "follow"),
                              steps: [JourneyStep(kind: .redEnvelope, envelopeId: envelope.id), JourneyStep(kind: .tag, tag: "领过红包")],
                              holdoutPercent: 0, controlPercent: 0, quietHours: nil, state: .active, createdAt: clock.now, launchedAt: clock.now)
        try await f.store.createJourney(journey, audit: audit("journey.create"))
        _ = try await f.store.append(f.events([
            FanEvent(id: "o1", kind: .orderPaid, openId: "buyer", occurredAt: clock.now, channel: .homepage, amount: 5_000, ref: "order-1"),
            FanEvent(id: "f1", kind: .follow, openId: "buyer", occurredAt: clock.now, channel: .search),
            FanEvent(id: "f2", kind: .follow, openId: "browser", occurredAt: clock.now, channel: .search),
        ])) { _ in }
        await flywheel.projector.drain()
        try await flywheel.journeys.drain()
        #expect(try await f.store.journeySteps(of: f.account, openId: "buyer", limit: 5).map(\.outcome) == ["tagged 领过红包", "gave 100 fen", "treated"])
        let skipped = try await f.store.journeySteps(of: f.account, openId: "browser", limit: 5).map(\.outcome)
        #expect(skipped == ["tagged 领过红包", "skipped: the fan does not meet its condition (orders >= 1)", "treated"])
        #expect(try await f.store.envelopeClaims(id: envelope.id, of: f.account, limit: 10).map(\.openId) == ["buyer"])
    }

    /// Entering outside the projector is idempotent (a page entered again after a crash enters
    /// nobody twice) and marks a date journey fired only when told; a campaign's holdout is
    /// recorded once and its experiment reads claims against holdouts, with what each bought after.
    @Test(arguments: StoreKind.allCases)
    func entriesAndCampaignHoldoutsAreRecordedOnce(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let now = JourneyContractTests.tenOClock
        func audit(_ action: String) -> AuditEntry { f.env.audit(tenantId: f.account.tenantId, actor: "t", action: action, target: "x") }
        let journey = Journey(tenantId: f.account.tenantId, accountId: f.account.id, id: "jrn-d", name: "d", trigger: JourneyTrigger(kind: .date, value: "2026-11-02 10:00"),
                              steps: [JourneyStep(kind: .webhook, label: "x")], holdoutPercent: 0, controlPercent: 0, state: .draft, createdAt: now - 1)
        try await f.store.createJourney(journey, audit: audit("journey.create"))
        try await f.store.setJourneyState(journey.id, tenantId: journey.tenantId, state: .active, launchedAt: now - 1, firesAt: now, audit: audit("journey.launch"))
        #expect(try await f.store.journeysToFire(now: now - 1, limit: 5).isEmpty)
        #expect(try await f.store.journeysToFire(now: now, limit: 5).map(\.id) == [journey.id])
        let runs = ["a", "b"].map { journey.entry($0, seq: now, at: now) }
        try await f.store.enterJourney(journey, runs: runs, fired: false)
        try await f.store.enterJourney(journey, runs: runs, fired: false)
        #expect(try await f.store.journeyProgress(journey.id, tenantId: journey.tenantId).entered(.treated) == 2)
        #expect(try await f.store.journeysToFire(now: now, limit: 5).count == 1, "not fired until told")
        try await f.store.enterJourney(journey, runs: [journey.entry("c", seq: now, at: now)], fired: true)
        #expect(try await f.store.journeysToFire(now: now + 86_400_000, limit: 5).isEmpty)
        #expect(try await f.store.journeyProgress(journey.id, tenantId: journey.tenantId).entered(.treated) == 3)
        // Launched again after a pause, a fired journey does not fire again.
        try await f.store.setJourneyState(journey.id, tenantId: journey.tenantId, state: .active, launchedAt: now + 5, firesAt: now + 10, audit: audit("journey.launch"))
        #expect(try await f.store.journeysToFire(now: now + 86_400_000, limit: 5).isEmpty)

        var coupon = CouponTemplate(id: "cpn-h", accountId: f.account.id, name: "券", value: .amount(fen: 500), thresholdFen: 0, validFrom: now - 1, validUntil: now + 86_400_000,
                                    stock: 10, perFanLimit: 1, audience: nil, requiresFollow: false, activityId: nil, createdAt: now - 1)
        coupon.holdoutPercent = 30
        try await f.store.createCoupon(coupon, audit: audit("coupon.create"))
        #expect(try await f.store.coupon(id: coupon.id, of: f.account)?.holdoutPercent == 30)
        try await f.store.claimCoupon(CouponClaim(id: "clm-1", couponId: coupon.id, accountId: f.account.id, openId: "got", claimedAt: now), of: f.account)
        try await f.store.holdOut(campaignId: coupon.id, openId: "kept", at: now, of: f.account)
        try await f.store.holdOut(campaignId: coupon.id, openId: "kept", at: now + 5, of: f.account)
        _ = try await f.store.append(f.events([
            FanEvent(id: "o1", kind: .orderPaid, openId: "got", occurredAt: now + 60_000, channel: .homepage, amount: 3_000, ref: "order-1"),
            FanEvent(id: "o2", kind: .orderPaid, openId: "kept", occurredAt: now - 60_000, channel: .homepage, amount: 3_000, ref: "order-2"),
        ])) { _ in }
        await Flywheel(f.env).projector.drain()
        #expect(try await f.store.holdoutEntries(.coupon, id: coupon.id, of: f.account).map { "\($0.openId) \($0.arm) \($0.at)" } == ["kept holdout \(now)", "got treated \(now)"],
                "the first holdout kept")
        let fans = try await f.store.campaignExperimentFans(.coupon, id: coupon.id, of: f.account, window: 30 * 86_400_000)
        #expect(fans.sorted { $0.arm.rawValue > $1.arm.rawValue } == [ExperimentFan(arm: .treated, orders: 1, gmv: 3_000, unfollowed: false),
                                                                      ExperimentFan(arm: .holdout, orders: 0, gmv: 0, unfollowed: false)],
                "one fan each; the held-out fan's order before it asked is not counted")
        #expect(try await f.store.campaignExperimentFans(.lottery, id: coupon.id, of: f.account, window: 86_400_000).map(\.arm) == [.holdout], "no entries: the holdout alone")
    }
}
