import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// Commerce: coupons and their claims.
extension APIRoutes {
    func addCommerce(to group: RouterGroup<FlywheelRequestContext>) {
        group.get("accounts/:accountId/coupons", use: listCoupons)
        group.post("accounts/:accountId/coupons", use: createCoupon)
        group.get("accounts/:accountId/coupons/:couponId", use: readCoupon)
        group.post("accounts/:accountId/coupons/:couponId/claims", use: claimCoupon)
    }

    @Sendable func listCoupons(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<CouponView> {
        let caller = try context.caller()
        return PageView(items: try await Coupons(flywheel).list(of: try await account(context), by: caller).map(CouponView.init), nextCursor: nil)
    }

    struct NewCoupon: Decodable {
        var name: String
        var valueKind: String
        var value: Int64
        var thresholdFen: Int64?
        var validFrom: String?
        var validUntil: String
        var stock: Int
        var perFanLimit: Int?
        var audience: String?
        var requiresFollow: Bool?
        var activityId: String?
    }

    @Sendable func createCoupon(_ request: Request, context: FlywheelRequestContext) async throws -> Created<CouponView> {
        let caller = try context.caller()
        let account = try await account(context)
        let b = try await request.decodeJSON(NewCoupon.self, context: context)
        guard let until = try Time.parse(b.validUntil, field: "validUntil") else { throw APIError.invalid("validUntil", "is required") }
        let coupon = try await Coupons(flywheel).create(.init(name: b.name, valueKind: b.valueKind, value: b.value, thresholdFen: b.thresholdFen,
                                                              validFrom: try Time.parse(b.validFrom, field: "validFrom"), validUntil: until, stock: b.stock,
                                                              perFanLimit: b.perFanLimit, audience: b.audience, requiresFollow: b.requiresFollow,
                                                              activityId: b.activityId), of: account, by: caller)
        return Created(body: CouponView(coupon))
    }

    @Sendable func readCoupon(_ request: Request, context: FlywheelRequestContext) async throws -> CouponView {
        let caller = try context.caller()
        return CouponView(try await Coupons(flywheel).read(try context.parameters.require("couponId"), of: try await account(context), by: caller))
    }

    struct ClaimBody: Decodable { var openId: String }

    struct ClaimView: ResponseEncodable {
        var id: String
        var couponId: String
        var openId: String
        var claimedAt: String
    }

    @Sendable func claimCoupon(_ request: Request, context: FlywheelRequestContext) async throws -> Created<ClaimView> {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(ClaimBody.self, context: context)
        let claim = try await Coupons(flywheel).claim(try context.parameters.require("couponId"), for: body.openId, of: account, by: caller)
        return Created(body: ClaimView(id: claim.id, couponId: claim.couponId, openId: claim.openId, claimedAt: Time.iso(claim.claimedAt)))
    }
}

struct CouponView: ResponseEncodable {
    var id: String
    var accountId: String
    var name: String
    var valueKind: String
    /// Fen off for an amount; the share paid for a discount.
    var value: Int64
    var thresholdFen: Int64
    var validFrom: String
    var validUntil: String
    var stock: Int
    var issued: Int
    var redeemed: Int
    var perFanLimit: Int
    var audience: String?
    var requiresFollow: Bool
    var activityId: String?

    init(_ c: CouponTemplate) {
        id = c.id; accountId = c.accountId; name = c.name; valueKind = c.value.kind; value = c.value.number; thresholdFen = c.thresholdFen
        validFrom = Time.iso(c.validFrom); validUntil = Time.iso(c.validUntil); stock = c.stock; issued = c.issued; redeemed = c.redeemed
        perFanLimit = c.perFanLimit; audience = c.audience; requiresFollow = c.requiresFollow; activityId = c.activityId
    }
}
