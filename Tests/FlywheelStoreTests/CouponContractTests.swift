import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// The coupons context, method by method, on both stores.
@Suite struct CouponContractTests {
    @Test(arguments: StoreKind.allCases)
    func claimsStopAtTheStockAndTheFansLimitAndThePlatformsClaimsAreRecorded(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let t0: Int64 = 1_767_225_600_000
        let coupon = CouponTemplate(id: "cpn-1", accountId: f.account.id, name: "满100减10", value: .amount(fen: 1_000), thresholdFen: 10_000, validFrom: t0,
                                    validUntil: t0 + 86_400_000, stock: 3, perFanLimit: 2, audience: nil, requiresFollow: true, activityId: "act-1", createdAt: t0)
        try await f.store.createCoupon(coupon, audit: f.env.audit(tenantId: f.account.tenantId, actor: "t", action: "coupon.create", target: coupon.id))
        #expect(try await f.store.coupons(of: f.account) == [coupon])
        func claim(_ id: String, _ fan: String) async throws { try await f.store.claimCoupon(CouponClaim(id: id, couponId: "cpn-1", accountId: f.account.id, openId: fan, claimedAt: t0), of: f.account) }
        try await claim("c1", "fan-a")
        try await claim("c2", "fan-a")
        await #expect(throws: ClaimRefusal.limitReached(2)) { try await claim("c3", "fan-a") }
        try await claim("c4", "fan-b")
        await #expect(throws: ClaimRefusal.outOfStock) { try await claim("c5", "fan-c") }
        #expect(try await f.store.coupon(id: "cpn-1", of: f.account)?.issued == 3)
        #expect(try await f.store.couponClaims(of: f.account, openId: "fan-a").map(\.id).sorted() == ["c1", "c2"])

        // Claimed and redeemed on the platform (the DM coupon card), through the projector.
        let second = CouponTemplate(id: "cpn-2", accountId: f.account.id, name: "粉丝券", value: .discount(percent: 85), thresholdFen: 0, validFrom: t0,
                                    validUntil: t0 + 86_400_000, stock: 10, perFanLimit: 1, audience: "following", requiresFollow: false, activityId: "act-2", createdAt: t0 + 1)
        try await f.store.createCoupon(second, audit: f.env.audit(tenantId: f.account.tenantId, actor: "t", action: "coupon.create", target: second.id))
        _ = try await f.store.append(f.events([
            FanEvent(id: "pc1", kind: .couponClaimed, openId: "fan-d", occurredAt: t0 + 10, channel: .dm, ref: "meta-2", attributes: ["activity_id": "act-2"]),
            FanEvent(id: "pr1", kind: .couponRedeemed, openId: "fan-d", occurredAt: t0 + 20, channel: .dm, attributes: ["activity_id": "act-2"]),
        ])) { _ in }
        await Projector(f.env, batchSize: 10).drain()
        let recorded = try #require(try await f.store.coupon(id: "cpn-2", of: f.account))
        #expect(recorded.issued == 1 && recorded.redeemed == 1)
        #expect(try await f.store.couponClaims(of: f.account, openId: "fan-d").first?.redeemedAt == t0 + 20)
    }
}
