import Crypto
import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelStore
import Foundation

/// Coupons and add-fan coupons: templates with a value, a threshold, a validity, a stock, a
/// limit per fan and an audience in the predicate language; claims that never issue more than
/// the stock, nor more to a fan than its limit.
public struct Coupons: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    public struct Draft: Sendable {
        public var name: String
        public var valueKind: String
        public var value: Int64
        public var thresholdFen: Int64?
        public var validFrom: Int64?
        public var validUntil: Int64
        public var stock: Int
        public var perFanLimit: Int?
        public var audience: String?
        public var requiresFollow: Bool?
        public var activityId: String?
        public var holdoutPercent: Int?

        public init(name: String, valueKind: String, value: Int64, thresholdFen: Int64?, validFrom: Int64?, validUntil: Int64, stock: Int, perFanLimit: Int?,
                    audience: String?, requiresFollow: Bool?, activityId: String?) {
            self.name = name
            self.valueKind = valueKind
            self.value = value
            self.thresholdFen = thresholdFen
            self.validFrom = validFrom
            self.validUntil = validUntil
            self.stock = stock
            self.perFanLimit = perFanLimit
            self.audience = audience
            self.requiresFollow = requiresFollow
            self.activityId = activityId
        }
    }

    public func list(of account: Account, by caller: Principal) async throws -> [CouponTemplate] {
        try caller.authorize(.listCoupons)
        return try await env.store.coupons(of: account)
    }

    public func read(_ id: String, of account: Account, by caller: Principal) async throws -> CouponTemplate {
        try caller.authorize(.readCoupon)
        guard let coupon = try await env.store.coupon(id: id, of: account) else { throw UseCaseError.notFound("coupon \(id)") }
        return coupon
    }

    public func create(_ d: Draft, of account: Account, by caller: Principal) async throws -> CouponTemplate {
        try caller.authorize(.createCoupon)
        let now = env.now()
        guard let value = CouponValue(kind: d.valueKind, number: d.value) else {
            throw UseCaseError.invalid(field: "value", "an amount is 1 to 100,000,000 fen; a discount is the share paid, 1 to 99 (85 takes 15% off)")
        }
        let threshold = d.thresholdFen ?? 0
        guard (0...100_000_000).contains(threshold) else { throw UseCaseError.invalid(field: "thresholdFen", "must be 0 to 100,000,000 fen") }
        let from = d.validFrom ?? now
        guard (EventBounds.earliest..<EventBounds.latest).contains(from) else { throw UseCaseError.invalid(field: "validFrom", "must be between 2000 and 2100") }
        guard d.validUntil > from, d.validUntil < EventBounds.latest else { throw UseCaseError.invalid(field: "validUntil", "must be after validFrom, before 2100") }
        guard CouponTemplate.stocks.contains(d.stock) else { throw UseCaseError.invalid(field: "stock", "must be 1 to 10,000,000") }
        let limit = d.perFanLimit ?? 1
        guard CouponTemplate.limits.contains(limit) else { throw UseCaseError.invalid(field: "perFanLimit", "must be 1 to 100") }
        var coupon = CouponTemplate(id: env.newId("cpn"), accountId: account.id, name: try Validate.name(d.name, field: "name"), value: value, thresholdFen: threshold,
                                    validFrom: from, validUntil: d.validUntil, stock: d.stock, perFanLimit: limit,
                                    audience: try Validate.predicate(d.audience, field: "audience", example: "tier >= liking"),
                                    requiresFollow: d.requiresFollow ?? false, activityId: try d.activityId.map { try Validate.token($0, field: "activityId") },
                                    createdAt: now)
        coupon.holdoutPercent = try Validate.holdout(d.holdoutPercent)
        try await env.store.createCoupon(coupon, audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "coupon.create", target: coupon.id,
                                                                  detail: coupon.name))
        return coupon
    }

    /// Issues the coupon to a fan of the account: refused, saying why, when the fan may not claim
    /// it (not following an add-fan coupon, outside its audience or its validity), when the stock
    /// is used up, or when the fan holds its limit. `key` (the request's Idempotency-Key): the same
    /// claim asked again answers the claim it made, and issues nothing more.
    public func claim(_ id: String, for openId: String, of account: Account, key: String? = nil, by caller: Principal) async throws -> CouponClaim {
        try caller.authorize(.claimCoupon)
        let openId = try Validate.token(openId, field: "openId")
        let coupon = try await read(id, of: account, by: caller)
        let now = env.now()
        let fan = try await env.store.fan(of: account, openId: openId)
        let audience = try coupon.audience.map { try FanPredicate.parse($0).compile(calendar: account.calendar) }
        // A keyed claim's id comes from the coupon, the fan and the key: asked again, it is found.
        let claimId = key.map { "clm_k" + SHA256.hash(data: Data("\(id)|\(openId)|\($0)".utf8)).prefix(12).hex }
        func made() async throws -> CouponClaim? {
            guard let claimId else { return nil }
            return try await env.store.couponClaims(of: account, openId: openId).first { $0.id == claimId }
        }
        if let earlier = try await made() { return earlier }
        let claim = CouponClaim(id: claimId ?? env.newId("clm"), couponId: id, accountId: account.id, openId: openId, claimedAt: now)
        do {
            if let refusal = coupon.refusal(for: fan, audience: audience, at: now) { throw refusal }
            try await CampaignHoldout.keep(id, percent: coupon.holdoutPercent, openId: openId, of: account, store: env.store, at: now)
            try await env.store.claimCoupon(claim, of: account)
        } catch {
            // The same claim asked at the same moment made it first.
            if let earlier = try await made() { return earlier }
            guard let refusal = error as? ClaimRefusal else { throw error }
            throw UseCaseError.conflict(code: refusal.code, "coupon \(id): \(refusal)")
        }
        return claim
    }

    /// Fans who got it against fans held out, over the 30 days after each; nil without a holdout.
    public func experiment(of coupon: CouponTemplate, in account: Account) async throws -> ExperimentReport? {
        try await CampaignHoldout.report(.coupon, id: coupon.id, name: coupon.name, percent: coupon.holdoutPercent, of: account, store: env.store)
    }
}
