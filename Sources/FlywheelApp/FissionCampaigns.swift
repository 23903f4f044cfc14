import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// Fission: a fan takes an invite code and shares it; a friend new to the account joins through
/// it (the enterprise's share page or mini-app reports the join with the friend's open_id) and
/// may invite in turn; at the campaign's threshold the inviter gets the reward coupon, once.
public struct FissionCampaigns: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    public struct Draft: Sendable {
        public var name: String
        public var threshold: Int
        public var rewardCouponId: String?
        public var startsAt: Int64?
        public var endsAt: Int64
        public var holdoutPercent: Int?

        public init(name: String, threshold: Int, rewardCouponId: String?, startsAt: Int64?, endsAt: Int64) {
            self.name = name
            self.threshold = threshold
            self.rewardCouponId = rewardCouponId
            self.startsAt = startsAt
            self.endsAt = endsAt
        }
    }

    /// A join's outcome: the friend's invite, and whether it earned the inviter the reward now.
    public struct Joined: Sendable {
        public var invite: FissionInvite
        public var rewarded: Bool
        /// Why the reward could not be given (its coupon is used up), when it could not.
        public var rewardRefused: String?
    }

    public func list(of account: Account, by caller: Principal) async throws -> [(campaign: FissionCampaign, stats: FissionStats)] {
        try caller.authorize(.listFissionCampaigns)
        var out: [(FissionCampaign, FissionStats)] = []
        for c in try await env.store.fissionCampaigns(of: account) { out.append((c, try await env.store.fissionStats(campaignId: c.id, of: account))) }
        return out
    }

    public func read(_ id: String, of account: Account, by caller: Principal) async throws -> (campaign: FissionCampaign, stats: FissionStats) {
        try caller.authorize(.readFissionCampaign)
        guard let c = try await env.store.fissionCampaign(id: id, of: account) else { throw UseCaseError.notFound("fission campaign \(id)") }
        return (c, try await env.store.fissionStats(campaignId: id, of: account))
    }

    public func create(_ d: Draft, of account: Account, by caller: Principal) async throws -> FissionCampaign {
        try caller.authorize(.createFissionCampaign)
        let now = env.now()
        guard FissionCampaign.thresholds.contains(d.threshold) else { throw UseCaseError.invalid(field: "threshold", "must be 1 to 100 friends") }
        let starts = try Validate.period(d.startsAt, d.endsAt, now: now, fields: ("startsAt", "endsAt"))
        if let coupon = d.rewardCouponId, try await env.store.coupon(id: coupon, of: account) == nil {
            throw UseCaseError.invalid(field: "rewardCouponId", "no coupon \(coupon) of this account; create it with POST /v1/accounts/{accountId}/coupons")
        }
        var campaign = FissionCampaign(id: env.newId("fis"), accountId: account.id, name: try Validate.name(d.name, field: "name"), threshold: d.threshold,
                                       rewardCouponId: d.rewardCouponId, startsAt: starts, endsAt: d.endsAt, createdAt: now)
        campaign.holdoutPercent = try Validate.holdout(d.holdoutPercent)
        try await env.store.createFissionCampaign(campaign, audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "fission.create",
                                                                             target: campaign.id, detail: campaign.name))
        return campaign
    }

    /// The fan's invite code (the same every time); refused `held_out` to a fan the campaign's
    /// holdout keeps from it.
    public func code(of id: String, for openId: String, of account: Account, by caller: Principal) async throws -> String {
        try caller.authorize(.issueFissionCode)
        let openId = try Validate.token(openId, field: "openId")
        let (campaign, _) = try await read(id, of: account, by: caller)
        guard env.now() < campaign.endsAt else { throw UseCaseError.conflict(code: FissionRefusal.ended.code, "fission campaign \(id): \(FissionRefusal.ended)") }
        do {
            try await CampaignHoldout.keep(id, percent: campaign.holdoutPercent, openId: openId, of: account, store: env.store, at: env.now())
        } catch let refusal as ClaimRefusal {
            throw UseCaseError.conflict(code: refusal.code, "fission campaign \(id): \(refusal)")
        }
        return try await env.store.fissionCode(campaignId: id, openId: openId, code: campaign.code(of: openId, digest: LotteryDraw.hash), at: env.now(), of: account)
    }

    /// A friend joins through `code`: refused, saying why, outside the campaign, for an unknown
    /// code, one's own code, a friend the account knew before, or one already brought.
    public func join(_ id: String, code: String, openId: String, of account: Account, by caller: Principal) async throws -> Joined {
        try caller.authorize(.joinFission)
        let openId = try Validate.token(openId, field: "openId")
        let code = try Validate.token(code, field: "code")
        let (campaign, _) = try await read(id, of: account, by: caller)
        let now = env.now()
        do {
            guard let inviter = try await env.store.fissionInviter(campaignId: id, code: code, of: account) else { throw FissionRefusal.unknownCode }
            if let refusal = campaign.refusal(inviter: inviter, invitee: openId, inviteeFan: try await env.store.fan(of: account, openId: openId), at: now) { throw refusal }
            let (invite, invites) = try await env.store.recordInvite(FissionInvite(campaignId: id, inviter: inviter, invitee: openId, depth: 1, at: now), of: account)
            var joined = Joined(invite: invite, rewarded: false)
            if invites >= campaign.threshold {
                let claim = campaign.rewardCouponId.map { CouponClaim(id: env.newId("clm"), couponId: $0, accountId: account.id, openId: inviter, claimedAt: now) }
                do {
                    joined.rewarded = try await env.store.reward(campaignId: id, openId: inviter, claim: claim, at: now, of: account)
                } catch let refusal as ClaimRefusal {
                    joined.rewardRefused = "the reward coupon: \(refusal)"
                }
            }
            return joined
        } catch let refusal as FissionRefusal {
            throw UseCaseError.conflict(code: refusal.code, "fission campaign \(id): \(refusal)")
        }
    }

    /// Fans who got a code against fans held out, over the 30 days after each; nil without a holdout.
    public func experiment(of campaign: FissionCampaign, in account: Account) async throws -> ExperimentReport? {
        try await CampaignHoldout.report(.fission, id: campaign.id, name: campaign.name, percent: campaign.holdoutPercent, of: account, store: env.store)
    }
}
