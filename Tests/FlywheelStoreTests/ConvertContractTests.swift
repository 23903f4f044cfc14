import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// Red envelopes, lotteries and orders, method by method, on both stores.
@Suite struct ConvertContractTests {
    let t0: Int64 = 1_767_225_600_000

    @Test(arguments: StoreKind.allCases) func anEnvelopeGivesEachShareOnceAndReturnsTheRest(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let envelope = RedEnvelope(id: "env-1", accountId: f.account.id, name: "福袋", totalFen: 600, shares: 3, split: .random(minFen: 100, maxFen: 300), audience: nil,
                                   requiresFollow: false, opensAt: t0, expiresAt: t0 + 1_000, createdAt: t0)
        try await f.store.createRedEnvelope(envelope, shares: [100, 200, 300], audit: f.env.audit(tenantId: f.account.tenantId, actor: "t", action: "x", target: "env-1"))
        #expect(try await f.store.redEnvelopes(of: f.account) == [envelope])
        #expect(try await f.store.claimRedEnvelope(id: "env-1", openId: "fan-a", at: t0 + 1, key: "k-a", of: f.account).amountFen == 100)
        // The same claim asked again answers the share it took; another claim of the fan is refused.
        #expect(try await f.store.claimRedEnvelope(id: "env-1", openId: "fan-a", at: t0 + 2, key: "k-a", of: f.account)
                == EnvelopeClaim(envelopeId: "env-1", openId: "fan-a", amountFen: 100, claimedAt: t0 + 1))
        await #expect(throws: ClaimRefusal.limitReached(1)) { _ = try await f.store.claimRedEnvelope(id: "env-1", openId: "fan-a", at: t0 + 2, key: "k-other", of: f.account) }
        await #expect(throws: ClaimRefusal.limitReached(1)) { _ = try await f.store.claimRedEnvelope(id: "env-1", openId: "fan-a", at: t0 + 2, key: nil, of: f.account) }
        #expect(try await f.store.claimRedEnvelope(id: "env-1", openId: "fan-b", at: t0 + 3, key: nil, of: f.account).amountFen == 200)
        // The last share taken, its claim asked again still answers it (not "none left"); another fan's is refused.
        #expect(try await f.store.claimRedEnvelope(id: "env-1", openId: "fan-c", at: t0 + 3, key: "k-c", of: f.account).amountFen == 300)
        #expect(try await f.store.claimRedEnvelope(id: "env-1", openId: "fan-c", at: t0 + 4, key: "k-c", of: f.account).amountFen == 300)
        await #expect(throws: ClaimRefusal.outOfStock) { _ = try await f.store.claimRedEnvelope(id: "env-1", openId: "fan-d", at: t0 + 4, key: "k-d", of: f.account) }
        #expect(try await f.store.envelopeClaims(id: "env-1", of: f.account, limit: 10).map(\.openId) == ["fan-c", "fan-b", "fan-a"])
        #expect(try await f.store.expireRedEnvelopes(now: t0 + 999) == 0)
        #expect(try await f.store.expireRedEnvelopes(now: t0 + 1_000) == 1)
        let expired = try #require(try await f.store.redEnvelope(id: "env-1", of: f.account))
        #expect(expired.claimed == 3 && expired.claimedFen == 600 && expired.returnedFen == 0)
        await #expect(throws: ClaimRefusal.expired) { _ = try await f.store.claimRedEnvelope(id: "env-1", openId: "fan-c", at: t0 + 4, key: nil, of: f.account) }
    }

    @Test(arguments: StoreKind.allCases) func aLotteryTakesOneEntryAFanAndIsDrawnOnce(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let lottery = Lottery(id: "lot-1", accountId: f.account.id, name: "抽奖", eligibility: nil, requiresFollow: false, opensAt: t0, closesAt: t0 + 1_000,
                              prizes: [LotteryPrize(name: "p", stock: 1)], seed: "s", seedHash: LotteryDraw.hash("s"), createdAt: t0)
        try await f.store.createLottery(lottery, audit: f.env.audit(tenantId: f.account.tenantId, actor: "t", action: "x", target: "lot-1"))
        #expect(try await f.store.lotteries(of: f.account) == [lottery])
        try await f.store.enterLottery(id: "lot-1", openId: "fan-b", at: t0 + 1, key: nil, of: f.account)
        try await f.store.enterLottery(id: "lot-1", openId: "fan-a", at: t0 + 2, key: "k-a", of: f.account)
        // The same entry asked again succeeds, adding nothing; another is refused.
        try await f.store.enterLottery(id: "lot-1", openId: "fan-a", at: t0 + 3, key: "k-a", of: f.account)
        await #expect(throws: ClaimRefusal.limitReached(1)) { try await f.store.enterLottery(id: "lot-1", openId: "fan-a", at: t0 + 3, key: "k-other", of: f.account) }
        await #expect(throws: ClaimRefusal.limitReached(1)) { try await f.store.enterLottery(id: "lot-1", openId: "fan-a", at: t0 + 3, key: nil, of: f.account) }
        await #expect(throws: ClaimRefusal.expired) { try await f.store.enterLottery(id: "lot-1", openId: "fan-c", at: t0 + 1_000, key: nil, of: f.account) }
        try await f.store.enterLottery(id: "lot-1", openId: "fan-a", at: t0 + 1_000, key: "k-a", of: f.account)
        #expect(try await f.store.lotteryEntries(id: "lot-1", of: f.account) == ["fan-a", "fan-b"])
        #expect(try await f.store.lottery(id: "lot-1", of: f.account)?.entries == 2)
        #expect(try await f.store.lotteriesToDraw(now: t0 + 999, limit: 10).isEmpty)
        #expect(try await f.store.lotteriesToDraw(now: t0 + 1_000, limit: 10).map(\.lottery.id) == ["lot-1"])
        let winner = LotteryWinner(openId: "fan-b", prize: "p", notified: false)
        try await f.store.recordDraw(of: lottery, tenantId: f.account.tenantId, at: t0 + 1_001, winners: [winner], messages: [], outbox: [])
        await #expect(throws: StoreError.refused(.changedMeanwhile)) {
            try await f.store.recordDraw(of: lottery, tenantId: f.account.tenantId, at: t0 + 1_002, winners: [LotteryWinner(openId: "fan-a", prize: "p", notified: false)],
                                         messages: [], outbox: [])
        }
        #expect(try await f.store.lotteryWinners(id: "lot-1", of: f.account) == [winner])
        #expect(try await f.store.lotteriesToDraw(now: t0 + 2_000, limit: 10).isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func ordersRefundsAndTouchesComeFromTheLog(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        _ = try await f.store.append(f.events([
            FanEvent(id: "v1", kind: .homepageVisit, openId: "fan-a", occurredAt: t0, channel: .homepage),
            FanEvent(id: "v2", kind: .homepageVisit, openId: "fan-a", occurredAt: t0 + 60_000, channel: .homepage),
            FanEvent(id: Order.paidEventId("o1"), kind: .orderPaid, openId: "fan-a", occurredAt: t0 + 120_000, channel: .liveFeed, amount: 5_000, ref: "o1",
                     attributes: [Order.sourceAttribute: "shop", Order.couponAttribute: "cpn-1"]),
            FanEvent(id: Order.refundEventId("o1", refundId: "r1"), kind: .orderRefunded, openId: "fan-a", occurredAt: t0 + 180_000, channel: .liveFeed, amount: 2_000,
                     ref: "o1", attributes: [Order.partialAttribute: "1"]),
        ])) { _ in }
        await Projector(f.env, batchSize: 10).drain()
        let order = try #require(try await f.store.order(id: "o1", of: f.account))
        #expect(order.amountFen == 5_000 && order.refundedFen == 2_000 && order.status == .partlyRefunded && order.source == .shop && order.couponId == "cpn-1")
        #expect(try await f.store.orders(of: f.account, openId: "fan-a", from: t0, to: t0 + 200_000, before: nil, limit: 10) == [order])
        #expect(try await f.store.orders(of: f.account, openId: nil, from: t0 + 200_000, to: nil, before: nil, limit: 10).isEmpty)
        #expect(try await f.store.refunds(of: f.account, orderIds: ["o1", "o2"]) == ["o1": [Order.refundEventId("o1", refundId: "r1"): 2_000]])
        let touches = try await f.store.touches(of: f.account, openIds: ["fan-a"], from: t0, to: t0 + 86_400_000)
        #expect(touches == ["fan-a": [FanTouch(touchpoint: .homepage, firstAt: t0, lastAt: t0 + 60_000)]])
        #expect(try await f.store.fans(of: f.account, openIds: ["fan-a", "nobody"]).keys.sorted() == ["fan-a"])
    }

    @Test(arguments: StoreKind.allCases) func fissionCodesInvitesAndRewardsAreEachRecordedOnce(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let audit = { f.env.audit(tenantId: f.account.tenantId, actor: "t", action: "x", target: "x") }
        let coupon = CouponTemplate(id: "cpn-r", accountId: f.account.id, name: "r", value: .amount(fen: 100), thresholdFen: 0, validFrom: t0, validUntil: t0 + 1_000,
                                    stock: 1, perFanLimit: 1, audience: nil, requiresFollow: false, activityId: nil, createdAt: t0)
        try await f.store.createCoupon(coupon, audit: audit())
        let campaign = FissionCampaign(id: "fis-1", accountId: f.account.id, name: "邀请", threshold: 1, rewardCouponId: "cpn-r", startsAt: t0, endsAt: t0 + 1_000, createdAt: t0)
        try await f.store.createFissionCampaign(campaign, audit: audit())
        #expect(try await f.store.fissionCampaigns(of: f.account) == [campaign])
        #expect(try await f.store.fissionCampaign(id: "fis-1", of: f.account) == campaign)
        #expect(try await f.store.fissionCode(campaignId: "fis-1", openId: "fan-a", code: "aaa", at: t0, of: f.account) == "aaa")
        #expect(try await f.store.fissionCode(campaignId: "fis-1", openId: "fan-a", code: "other", at: t0 + 1, of: f.account) == "aaa", "kept")
        #expect(try await f.store.fissionInviter(campaignId: "fis-1", code: "aaa", of: f.account) == "fan-a")
        #expect(try await f.store.fissionInviter(campaignId: "fis-1", code: "zzz", of: f.account) == nil)
        let first = try await f.store.recordInvite(FissionInvite(campaignId: "fis-1", inviter: "fan-a", invitee: "fan-b", depth: 0, at: t0 + 2), of: f.account)
        #expect(first.invite.depth == 1 && first.invites == 1)
        let second = try await f.store.recordInvite(FissionInvite(campaignId: "fis-1", inviter: "fan-b", invitee: "fan-c", depth: 0, at: t0 + 3), of: f.account)
        #expect(second.invite.depth == 2 && second.invites == 1)
        await #expect(throws: FissionRefusal.alreadyInvited) {
            _ = try await f.store.recordInvite(FissionInvite(campaignId: "fis-1", inviter: "fan-a", invitee: "fan-c", depth: 0, at: t0 + 4), of: f.account)
        }
        let claim = { (id: String, fan: String) in CouponClaim(id: id, couponId: "cpn-r", accountId: f.account.id, openId: fan, claimedAt: t0 + 5) }
        #expect(try await f.store.reward(campaignId: "fis-1", openId: "fan-a", claim: claim("c1", "fan-a"), at: t0 + 5, of: f.account))
        #expect(try await f.store.reward(campaignId: "fis-1", openId: "fan-a", claim: claim("c2", "fan-a"), at: t0 + 6, of: f.account) == false, "once")
        await #expect(throws: ClaimRefusal.outOfStock) { _ = try await f.store.reward(campaignId: "fis-1", openId: "fan-b", claim: claim("c3", "fan-b"), at: t0 + 7, of: f.account) }
        var stats = FissionStats()
        stats.participants = 1
        stats.inviters = 2
        stats.invites = 2
        stats.rewarded = 1
        stats.deepest = 2
        #expect(try await f.store.fissionStats(campaignId: "fis-1", of: f.account) == stats)
    }

    @Test(arguments: StoreKind.allCases) func aShopKeepsItsProgressUntilAnotherShopReplacesIt(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        var audit: AuditEntry { f.env.audit(tenantId: f.account.tenantId, actor: "t", action: "shop.connect", target: f.account.id) }
        let shop = ShopConnection(accountId: f.account.id, shopId: "77977", appKey: "k", sealedSecret: "sealed", syncedUntil: t0, connectedAt: t0)
        #expect(try await f.store.shopConnection(of: f.account) == nil)
        try await f.store.connectShop(shop, of: f.account, audit: audit)
        #expect(try await f.store.shopConnection(of: f.account) == shop)
        #expect(try await f.store.shopsToSync(before: t0, limit: 10).map(\.shop.accountId) == [f.account.id], "never read: due")
        try await f.store.recordShopSync(of: shop, tenantId: f.account.tenantId, syncedUntil: t0 + 5_000, orders: 7, error: nil, at: t0 + 6_000)
        // A sync that got less far never moves the progress back; its error is kept, and it is not due until its time.
        try await f.store.recordShopSync(of: shop, tenantId: f.account.tenantId, syncedUntil: t0 + 1_000, orders: 2, error: "refused", at: t0 + 7_000)
        var read = try #require(try await f.store.shopConnection(of: f.account))
        #expect(read.syncedUntil == t0 + 5_000 && read.ordersSynced == 9 && read.lastError == "refused" && read.lastSyncAt == t0 + 7_000)
        #expect(try await f.store.shopsToSync(before: t0 + 7_000, limit: 10).isEmpty)
        #expect(try await f.store.shopsToSync(before: t0 + 7_001, limit: 10).count == 1)
        // The same shop with a new secret keeps its progress; another shop starts from its own.
        var renewed = shop
        renewed.sealedSecret = "sealed-2"
        try await f.store.connectShop(renewed, of: f.account, audit: audit)
        read = try #require(try await f.store.shopConnection(of: f.account))
        #expect(read.sealedSecret == "sealed-2" && read.syncedUntil == t0 + 5_000 && read.ordersSynced == 9 && read.lastError == nil)
        var other = shop
        other.shopId = "88888"
        try await f.store.connectShop(other, of: f.account, audit: audit)
        read = try #require(try await f.store.shopConnection(of: f.account))
        #expect(read.shopId == "88888" && read.syncedUntil == t0 && read.ordersSynced == 0)
        // A sync of the shop replaced records nothing on the new one.
        try await f.store.recordShopSync(of: shop, tenantId: f.account.tenantId, syncedUntil: t0 + 9_000, orders: 3, error: nil, at: t0 + 9_000)
        #expect(try await f.store.shopConnection(of: f.account)?.ordersSynced == 0)
        #expect(try await f.store.disconnectShop(of: f.account, audit: audit))
        #expect(try await f.store.disconnectShop(of: f.account, audit: audit) == false)
        #expect(try await f.store.shopConnection(of: f.account) == nil)
    }
}
