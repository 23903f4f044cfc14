import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// Commerce: coupons, red envelopes, lotteries and orders.
extension APIRoutes {
    func addCommerce(to group: RouterGroup<FlywheelRequestContext>) {
        group.get("accounts/:accountId/coupons", use: listCoupons)
        group.post("accounts/:accountId/coupons", use: createCoupon)
        group.get("accounts/:accountId/coupons/:couponId", use: readCoupon)
        group.post("accounts/:accountId/coupons/:couponId/claims", use: claimCoupon)
        group.get("accounts/:accountId/red-envelopes", use: listRedEnvelopes)
        group.post("accounts/:accountId/red-envelopes", use: createRedEnvelope)
        group.get("accounts/:accountId/red-envelopes/:envelopeId", use: readRedEnvelope)
        group.get("accounts/:accountId/red-envelopes/:envelopeId/claims", use: listEnvelopeClaims)
        group.post("accounts/:accountId/red-envelopes/:envelopeId/claims", use: claimRedEnvelope)
        group.get("accounts/:accountId/lotteries", use: listLotteries)
        group.post("accounts/:accountId/lotteries", use: createLottery)
        group.get("accounts/:accountId/lotteries/:lotteryId", use: readLottery)
        group.post("accounts/:accountId/lotteries/:lotteryId/entries", use: enterLottery)
        group.get("accounts/:accountId/lotteries/:lotteryId/draw", use: readDraw)
        group.get("accounts/:accountId/orders", use: listOrders)
        group.post("accounts/:accountId/orders", use: syncOrders)
        group.get("accounts/:accountId/orders/:orderId", use: readOrder)
        group.get("reports/gmv", use: readGMVReport)
        group.get("accounts/:accountId/fission", use: listFissionCampaigns)
        group.post("accounts/:accountId/fission", use: createFissionCampaign)
        group.get("accounts/:accountId/fission/:campaignId", use: readFissionCampaign)
        group.post("accounts/:accountId/fission/:campaignId/codes", use: issueFissionCode)
        group.post("accounts/:accountId/fission/:campaignId/joins", use: joinFission)
        group.get("accounts/:accountId/shop", use: readShop)
        group.put("accounts/:accountId/shop", use: connectShop)
        group.delete("accounts/:accountId/shop", use: disconnectShop)
    }

    @Sendable func listCoupons(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<CouponView> {
        let caller = try context.caller()
        return PageView(items: try await Coupons(flywheel).list(of: try await account(context), by: caller).map { CouponView($0, now: flywheel.env.now()) }, nextCursor: nil)
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
        var holdoutPercent: Int?
    }

    @Sendable func createCoupon(_ request: Request, context: FlywheelRequestContext) async throws -> Created<CouponView> {
        let caller = try context.caller()
        let account = try await account(context)
        let b = try await request.decodeJSON(NewCoupon.self, context: context)
        guard let until = try Time.parse(b.validUntil, field: "validUntil") else { throw APIError.invalid("validUntil", "is required") }
        var draft = Coupons.Draft(name: b.name, valueKind: b.valueKind, value: b.value, thresholdFen: b.thresholdFen,
                                  validFrom: try Time.parse(b.validFrom, field: "validFrom"), validUntil: until, stock: b.stock, perFanLimit: b.perFanLimit,
                                  audience: b.audience, requiresFollow: b.requiresFollow, activityId: b.activityId)
        draft.holdoutPercent = b.holdoutPercent
        let coupon = try await Coupons(flywheel).create(draft, of: account, by: caller)
        return Created(body: CouponView(coupon, now: flywheel.env.now()))
    }

    @Sendable func readCoupon(_ request: Request, context: FlywheelRequestContext) async throws -> CouponView {
        let caller = try context.caller()
        let account = try await account(context)
        let coupons = Coupons(flywheel)
        let coupon = try await coupons.read(try context.parameters.require("couponId"), of: account, by: caller)
        var view = CouponView(coupon, now: flywheel.env.now())
        view.experiment = try await coupons.experiment(of: coupon, in: account).map(APIRoutes.HoldoutExperimentView.init)
        return view
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
        let claim = try await Coupons(flywheel).claim(try context.parameters.require("couponId"), for: body.openId, of: account,
                                                      key: try idempotencyKey(request), by: caller)
        return Created(body: ClaimView(id: claim.id, couponId: claim.couponId, openId: claim.openId, claimedAt: Time.iso(claim.claimedAt)))
    }
}

// MARK: Red envelopes

extension APIRoutes {
    @Sendable func listRedEnvelopes(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<RedEnvelopeView> {
        let caller = try context.caller()
        return PageView(items: try await RedEnvelopes(flywheel).list(of: try await account(context), by: caller).map { RedEnvelopeView($0, now: flywheel.env.now()) }, nextCursor: nil)
    }

    struct NewRedEnvelope: Decodable {
        var name: String
        var totalFen: Int64
        var shares: Int
        var split: String?
        var minFen: Int64?
        var maxFen: Int64?
        var audience: String?
        var requiresFollow: Bool?
        var opensAt: String?
        var expiresAt: String
        var holdoutPercent: Int?
    }

    @Sendable func createRedEnvelope(_ request: Request, context: FlywheelRequestContext) async throws -> Created<RedEnvelopeView> {
        let caller = try context.caller()
        let account = try await account(context)
        let b = try await request.decodeJSON(NewRedEnvelope.self, context: context)
        guard let expires = try Time.parse(b.expiresAt, field: "expiresAt") else { throw APIError.invalid("expiresAt", "is required") }
        var draft = RedEnvelopes.Draft(name: b.name, totalFen: b.totalFen, shares: b.shares, split: b.split, minFen: b.minFen, maxFen: b.maxFen,
                                       audience: b.audience, requiresFollow: b.requiresFollow, opensAt: try Time.parse(b.opensAt, field: "opensAt"),
                                       expiresAt: expires)
        draft.holdoutPercent = b.holdoutPercent
        let envelope = try await RedEnvelopes(flywheel).create(draft, of: account, by: caller)
        return Created(body: RedEnvelopeView(envelope, now: flywheel.env.now()))
    }

    @Sendable func readRedEnvelope(_ request: Request, context: FlywheelRequestContext) async throws -> RedEnvelopeView {
        let caller = try context.caller()
        let account = try await account(context)
        let envelopes = RedEnvelopes(flywheel)
        let envelope = try await envelopes.read(try context.parameters.require("envelopeId"), of: account, by: caller)
        var view = RedEnvelopeView(envelope, now: flywheel.env.now())
        view.experiment = try await envelopes.experiment(of: envelope, in: account).map(APIRoutes.HoldoutExperimentView.init)
        return view
    }

    @Sendable func listEnvelopeClaims(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<EnvelopeClaimView> {
        let caller = try context.caller()
        let claims = try await RedEnvelopes(flywheel).claims(of: try context.parameters.require("envelopeId"), of: try await account(context), by: caller)
        return PageView(items: claims.map(EnvelopeClaimView.init), nextCursor: nil)
    }

    @Sendable func claimRedEnvelope(_ request: Request, context: FlywheelRequestContext) async throws -> Created<EnvelopeClaimView> {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(ClaimBody.self, context: context)
        let claim = try await RedEnvelopes(flywheel).claim(try context.parameters.require("envelopeId"), for: body.openId, of: account,
                                                           key: try idempotencyKey(request), by: caller)
        return Created(body: EnvelopeClaimView(claim))
    }
}

struct RedEnvelopeView: ResponseEncodable {
    var id: String
    var accountId: String
    var name: String
    var totalFen: Int64
    var shares: Int
    var split: String
    var minFen: Int64?
    var maxFen: Int64?
    var audience: String?
    var requiresFollow: Bool
    var opensAt: String
    var expiresAt: String
    /// scheduled, open, ended (past its time, the rest about to go back) or expired (returnedFen went back).
    var state: String
    var claimed: Int
    var claimedFen: Int64
    var returnedFen: Int64?

    /// 0 to 50: the share of fans who asked and may have it kept from it, to measure it against.
    var holdoutPercent: Int
    /// Who got it against who was held out, over the 30 days after each (read one to see it).
    var experiment: APIRoutes.HoldoutExperimentView?

    init(_ e: RedEnvelope, now: Int64) {
        holdoutPercent = e.holdoutPercent
        id = e.id; accountId = e.accountId; name = e.name; totalFen = e.totalFen; shares = e.shares; split = e.split.kind
        if case .random(let low, let high) = e.split { minFen = low; maxFen = high }
        audience = e.audience; requiresFollow = e.requiresFollow; opensAt = Time.iso(e.opensAt); expiresAt = Time.iso(e.expiresAt)
        state = e.state(at: now); claimed = e.claimed; claimedFen = e.claimedFen; returnedFen = e.returnedFen
    }
}

struct EnvelopeClaimView: ResponseEncodable {
    var envelopeId: String
    var openId: String
    var amountFen: Int64
    var claimedAt: String

    init(_ c: EnvelopeClaim) { envelopeId = c.envelopeId; openId = c.openId; amountFen = c.amountFen; claimedAt = Time.iso(c.claimedAt) }
}

// MARK: Lotteries

extension APIRoutes {
    @Sendable func listLotteries(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<LotteryView> {
        let caller = try context.caller()
        return PageView(items: try await Lotteries(flywheel).list(of: try await account(context), by: caller).map { LotteryView($0, now: flywheel.env.now()) }, nextCursor: nil)
    }

    struct NewLottery: Decodable {
        struct Prize: Decodable { var name: String; var stock: Int }
        var name: String
        var eligibility: String?
        var requiresFollow: Bool?
        var opensAt: String?
        var closesAt: String
        var prizes: [Prize]
        var holdoutPercent: Int?
    }

    @Sendable func createLottery(_ request: Request, context: FlywheelRequestContext) async throws -> Created<LotteryView> {
        let caller = try context.caller()
        let account = try await account(context)
        let b = try await request.decodeJSON(NewLottery.self, context: context)
        guard let closes = try Time.parse(b.closesAt, field: "closesAt") else { throw APIError.invalid("closesAt", "is required") }
        var draft = Lotteries.Draft(name: b.name, eligibility: b.eligibility, requiresFollow: b.requiresFollow, opensAt: try Time.parse(b.opensAt, field: "opensAt"),
                                    closesAt: closes, prizes: b.prizes.map { LotteryPrize(name: $0.name, stock: $0.stock) })
        draft.holdoutPercent = b.holdoutPercent
        let lottery = try await Lotteries(flywheel).create(draft, of: account, by: caller)
        return Created(body: LotteryView(lottery, now: flywheel.env.now()))
    }

    @Sendable func readLottery(_ request: Request, context: FlywheelRequestContext) async throws -> LotteryView {
        let caller = try context.caller()
        let account = try await account(context)
        let lotteries = Lotteries(flywheel)
        let lottery = try await lotteries.read(try context.parameters.require("lotteryId"), of: account, by: caller)
        var view = LotteryView(lottery, now: flywheel.env.now())
        view.experiment = try await lotteries.experiment(of: lottery, in: account).map(APIRoutes.HoldoutExperimentView.init)
        return view
    }

    struct EntryView: ResponseEncodable {
        var lotteryId: String
        var openId: String
    }

    @Sendable func enterLottery(_ request: Request, context: FlywheelRequestContext) async throws -> Created<EntryView> {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(ClaimBody.self, context: context)
        let id: String = try context.parameters.require("lotteryId")
        try await Lotteries(flywheel).enter(id, for: body.openId, of: account, key: try idempotencyKey(request), by: caller)
        return Created(body: EntryView(lotteryId: id, openId: body.openId))
    }

    @Sendable func readDraw(_ request: Request, context: FlywheelRequestContext) async throws -> DrawView {
        let caller = try context.caller()
        return DrawView(try await Lotteries(flywheel).record(try context.parameters.require("lotteryId"), of: try await account(context), by: caller))
    }
}

struct LotteryView: ResponseEncodable {
    var id: String
    var accountId: String
    var name: String
    var eligibility: String?
    var requiresFollow: Bool
    var opensAt: String
    var closesAt: String
    var prizes: [LotteryPrize]
    /// SHA-256 of the seed, public from the start.
    var seedHash: String
    /// The seed, once the draw is made.
    var seed: String?
    var entries: Int
    /// scheduled, open, closed (entries over, the draw about to be made) or drawn.
    var state: String
    var drawnAt: String?

    /// 0 to 50: the share of fans who asked and may have it kept from it, to measure it against.
    var holdoutPercent: Int
    /// Who got it against who was held out, over the 30 days after each (read one to see it).
    var experiment: APIRoutes.HoldoutExperimentView?

    init(_ l: Lottery, now: Int64) {
        holdoutPercent = l.holdoutPercent
        id = l.id; accountId = l.accountId; name = l.name; eligibility = l.eligibility; requiresFollow = l.requiresFollow
        opensAt = Time.iso(l.opensAt); closesAt = Time.iso(l.closesAt); prizes = l.prizes; seedHash = l.seedHash; seed = l.revealedSeed
        entries = l.entries; state = l.state(at: now); drawnAt = l.drawnAt.map(Time.iso)
    }
}

/// The draw's public record: what `flywheel lottery verify` checks.
struct DrawView: ResponseEncodable {
    var lotteryId: String
    var name: String
    var method: String
    var seedHash: String
    var seed: String?
    var prizes: [LotteryPrize]
    var entries: [String]
    var winners: [LotteryWinner]

    init(_ r: Lotteries.Record) {
        lotteryId = r.lottery.id; name = r.lottery.name; method = LotteryDraw.method; seedHash = r.lottery.seedHash; seed = r.lottery.revealedSeed
        prizes = r.lottery.prizes; entries = r.entries; winners = r.winners
    }
}

// MARK: Orders

extension APIRoutes {
    @Sendable func listOrders(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<OrderView> {
        let caller = try context.caller()
        let account = try await account(context)
        let openId = try request.query("openId").map { try Validate.token($0, field: "openId") }
        let page = try await Orders(flywheel).list(of: account, openId: openId, from: try Time.parse(request.query("from"), field: "from"),
                                                   to: try Time.parse(request.query("to"), field: "to"), cursor: try Cursor.decode(request.query("cursor")),
                                                   limit: try request.pageLimit(), by: caller)
        return PageView(items: page.orders.map(OrderView.init), nextCursor: Cursor.encode(page.nextCursor))
    }

    @Sendable func readOrder(_ request: Request, context: FlywheelRequestContext) async throws -> OrderView {
        let caller = try context.caller()
        return OrderView(try await Orders(flywheel).read(try context.parameters.require("orderId"), of: try await account(context), by: caller))
    }

    struct OrderBatch: Decodable {
        struct Line: Decodable { var sku: String; var title: String; var quantity: Int; var priceFen: Int64 }
        struct Refund: Decodable { var id: String; var amountFen: Int64; var at: String }
        struct Item: Decodable {
            var id: String
            var openId: String
            var amountFen: Int64
            var paidAt: String
            var channel: String?
            var source: String?
            var couponId: String?
            var lines: [Line]?
            var refunds: [Refund]?
        }
        var orders: [Item]
    }

    struct SyncedOrders: ResponseEncodable { var appended: Int; var duplicates: Int }

    @Sendable func syncOrders(_ request: Request, context: FlywheelRequestContext) async throws -> Created<SyncedOrders> {
        let caller = try context.caller()
        let account = try await account(context)
        let b = try await request.decodeJSON(OrderBatch.self, context: context)
        var drafts: [Orders.Draft] = []
        for (i, o) in b.orders.enumerated() {
            guard let paid = try Time.parse(o.paidAt, field: "orders[\(i)].paidAt") else { throw APIError.invalid("orders[\(i)].paidAt", "is required") }
            var refunds: [Orders.Refund] = []
            for (j, r) in (o.refunds ?? []).enumerated() {
                guard let at = try Time.parse(r.at, field: "orders[\(i)].refunds[\(j)].at") else { throw APIError.invalid("orders[\(i)].refunds[\(j)].at", "is required") }
                refunds.append(Orders.Refund(id: r.id, amountFen: r.amountFen, at: at))
            }
            drafts.append(Orders.Draft(id: o.id, openId: o.openId, amountFen: o.amountFen, paidAt: paid, channel: o.channel, source: o.source, couponId: o.couponId,
                                       lines: (o.lines ?? []).map { OrderLine(sku: $0.sku, title: $0.title, quantity: $0.quantity, priceFen: $0.priceFen) },
                                       refunds: refunds))
        }
        let outcome = try await Orders(flywheel).sync(drafts, into: account, by: caller)
        return Created(body: SyncedOrders(appended: outcome.inserted, duplicates: outcome.duplicates), status: .accepted)
    }
}

struct OrderView: ResponseEncodable {
    var id: String
    var accountId: String
    var openId: String
    var source: String
    /// The touchpoint it was paid through.
    var channel: String
    var amountFen: Int64
    var refundedFen: Int64
    var netFen: Int64
    /// paid, partly_refunded or refunded.
    var status: String
    var couponId: String?
    var lines: [OrderLine]
    var paidAt: String

    init(_ o: Order) {
        id = o.id; accountId = o.accountId; openId = o.openId; source = o.source.rawValue; channel = o.channel.rawValue; amountFen = o.amountFen
        refundedFen = o.refundedFen; netFen = o.netFen; status = o.status.rawValue; couponId = o.couponId; lines = o.lines; paidAt = Time.iso(o.paidAt)
    }
}

// MARK: Fission

extension APIRoutes {
    @Sendable func listFissionCampaigns(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<FissionView> {
        let caller = try context.caller()
        let list = try await FissionCampaigns(flywheel).list(of: try await account(context), by: caller)
        return PageView(items: list.map { FissionView($0.campaign, $0.stats) }, nextCursor: nil)
    }

    struct NewFission: Decodable {
        var name: String
        var threshold: Int
        var rewardCouponId: String?
        var startsAt: String?
        var endsAt: String
        var holdoutPercent: Int?
    }

    @Sendable func createFissionCampaign(_ request: Request, context: FlywheelRequestContext) async throws -> Created<FissionView> {
        let caller = try context.caller()
        let account = try await account(context)
        let b = try await request.decodeJSON(NewFission.self, context: context)
        guard let ends = try Time.parse(b.endsAt, field: "endsAt") else { throw APIError.invalid("endsAt", "is required") }
        var draft = FissionCampaigns.Draft(name: b.name, threshold: b.threshold, rewardCouponId: b.rewardCouponId,
                                           startsAt: try Time.parse(b.startsAt, field: "startsAt"), endsAt: ends)
        draft.holdoutPercent = b.holdoutPercent
        let campaign = try await FissionCampaigns(flywheel).create(draft, of: account, by: caller)
        return Created(body: FissionView(campaign, FissionStats()))
    }

    @Sendable func readFissionCampaign(_ request: Request, context: FlywheelRequestContext) async throws -> FissionView {
        let caller = try context.caller()
        let account = try await account(context)
        let campaigns = FissionCampaigns(flywheel)
        let read = try await campaigns.read(try context.parameters.require("campaignId"), of: account, by: caller)
        var view = FissionView(read.campaign, read.stats)
        view.experiment = try await campaigns.experiment(of: read.campaign, in: account).map(APIRoutes.HoldoutExperimentView.init)
        return view
    }

    struct CodeView: ResponseEncodable {
        var campaignId: String
        var openId: String
        var code: String
    }

    @Sendable func issueFissionCode(_ request: Request, context: FlywheelRequestContext) async throws -> Created<CodeView> {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(ClaimBody.self, context: context)
        let id: String = try context.parameters.require("campaignId")
        let code = try await FissionCampaigns(flywheel).code(of: id, for: body.openId, of: account, by: caller)
        return Created(body: CodeView(campaignId: id, openId: body.openId, code: code))
    }

    struct JoinBody: Decodable { var code: String; var openId: String }

    struct JoinView: ResponseEncodable {
        var campaignId: String
        var inviter: String
        var invitee: String
        /// 1: the friend of a fan nobody brought; 2: a friend of that friend; …
        var depth: Int
        /// The inviter reached the threshold with this friend and got the reward.
        var rewarded: Bool
        var rewardRefused: String?
    }

    @Sendable func joinFission(_ request: Request, context: FlywheelRequestContext) async throws -> Created<JoinView> {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(JoinBody.self, context: context)
        let joined = try await FissionCampaigns(flywheel).join(try context.parameters.require("campaignId"), code: body.code, openId: body.openId, of: account, by: caller)
        let i = joined.invite
        return Created(body: JoinView(campaignId: i.campaignId, inviter: i.inviter, invitee: i.invitee, depth: i.depth, rewarded: joined.rewarded,
                                      rewardRefused: joined.rewardRefused))
    }
}

struct FissionView: ResponseEncodable {
    var id: String
    var accountId: String
    var name: String
    var threshold: Int
    var rewardCouponId: String?
    var startsAt: String
    var endsAt: String
    var participants: Int
    var inviters: Int
    var invites: Int
    var rewarded: Int
    var deepest: Int
    /// Friends brought per fan who took a code; absent before anyone took one.
    var kFactor: Double?
    /// 0 to 50: the share of fans who ask for a code kept from one, to measure the campaign against.
    var holdoutPercent: Int
    /// Who got a code against who was held out, over the 30 days after each (read one to see it).
    var experiment: APIRoutes.HoldoutExperimentView?

    init(_ c: FissionCampaign, _ s: FissionStats) {
        holdoutPercent = c.holdoutPercent
        id = c.id; accountId = c.accountId; name = c.name; threshold = c.threshold; rewardCouponId = c.rewardCouponId
        startsAt = Time.iso(c.startsAt); endsAt = Time.iso(c.endsAt)
        participants = s.participants; inviters = s.inviters; invites = s.invites; rewarded = s.rewarded; deepest = s.deepest; kFactor = s.kFactor
    }
}

// MARK: The shop

extension APIRoutes {
    struct ShopBody: Decodable {
        var shopId: String
        var appKey: String
        var appSecret: String
    }

    @Sendable func readShop(_ request: Request, context: FlywheelRequestContext) async throws -> ShopView {
        let caller = try context.caller()
        return ShopView(try await Shops(flywheel).read(of: try await account(context), by: caller))
    }

    @Sendable func connectShop(_ request: Request, context: FlywheelRequestContext) async throws -> ShopView {
        let caller = try context.caller()
        let account = try await account(context)
        let b = try await request.decodeJSON(ShopBody.self, context: context)
        return ShopView(try await Shops(flywheel).connect(shopId: b.shopId, appKey: b.appKey, appSecret: b.appSecret, of: account, by: caller))
    }

    @Sendable func disconnectShop(_ request: Request, context: FlywheelRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.caller()
        try await Shops(flywheel).disconnect(of: try await account(context), by: caller)
        return .noContent
    }
}

/// A shop connection as the API shows it: never its secret.
struct ShopView: ResponseEncodable {
    var accountId: String
    var shopId: String
    var appKey: String
    var syncedUntil: String
    var ordersSynced: Int64
    var lastSyncAt: String?
    var lastError: String?
    var connectedAt: String

    init(_ s: ShopConnection) {
        accountId = s.accountId; shopId = s.shopId; appKey = s.appKey; syncedUntil = Time.iso(s.syncedUntil); ordersSynced = s.ordersSynced
        lastSyncAt = s.lastSyncAt.map(Time.iso); lastError = s.lastError; connectedAt = Time.iso(s.connectedAt)
    }
}

// MARK: GMV analysis

extension APIRoutes {
    @Sendable func readGMVReport(_ request: Request, context: FlywheelRequestContext) async throws -> GMVReportView {
        let caller = try context.caller()
        let q = GMVReports.Query(accountId: request.query("accountId"), tenantId: request.query("tenantId"), from: try Time.parse(request.query("from"), field: "from"),
                                 to: try Time.parse(request.query("to"), field: "to"), cut: try Time.parse(request.query("cut"), field: "cut"),
                                 windowDays: try request.query("windowDays").map { text in
                                     guard let n = Int(text) else { throw APIError.invalid("windowDays", "must be an integer from 1 to 90") }
                                     return n
                                 })
        return GMVReportView(try await GMVReports(flywheel).report(q, reachable: context.tenantIds, by: caller).report)
    }
}

/// The GMV report as the API gives it (docs/commerce.md).
struct GMVReportView: ResponseEncodable {
    struct Part: Encodable {
        var orders: Int
        var gmvFen: Int64
        var buyers: Int

        init(_ p: GMVReport.Part) { orders = p.orders; gmvFen = p.gmv; buyers = p.buyers }
    }

    struct Keyed: Encodable {
        var key: String
        var orders: Int
        var gmvFen: Int64
        var buyers: Int

        init(_ key: String, _ p: GMVReport.Part) { self.key = key; orders = p.orders; gmvFen = p.gmv; buyers = p.buyers }
    }

    struct Attribution: Encodable {
        var touchpoint: String
        var firstTouchFen: Int64
        var lastTouchFen: Int64
        var positionBasedFen: Int64
    }

    struct Coupon: Encodable {
        var couponId: String
        var name: String
        var redemptions: Int
        var gmvFen: Int64
        var discountFen: Int64
        /// GMV per fen of discount; nil when it took nothing off.
        var roi: Double?
    }

    /// The seeds' figures, each a share from 0 to 1 (nil without the orders to read it).
    struct Headlines: Encodable {
        var fansShareOfGmv: Double?
        var fansShareOfLiveGmv: Double?
        var oldFansShareOfLiveGmv: Double?
        var fansShareOfGroupGmv: Double?
        var groupMemberRepurchaseRate: Double?
        var repurchaseRate: Double?
    }

    var from: String
    var to: String
    var cut: String
    var windowDays: Int
    var total: Part
    var fans: Part
    var nonFans: Part
    var oldFans: Part
    var newFans: Part
    var byTier: [Keyed]
    var byDomain: [Keyed]
    var byChannel: [Keyed]
    var attribution: [Attribution]
    var unattributed: Part
    var repurchasers: Int
    var medianRepurchaseDays: Double?
    var coupons: [Coupon]
    var headlines: Headlines

    init(_ r: GMVReport) {
        from = Time.iso(r.from); to = Time.iso(r.to); cut = Time.iso(r.cut); windowDays = r.windowDays
        total = Part(r.total); fans = Part(r.fans); nonFans = Part(r.nonFans); oldFans = Part(r.oldFans); newFans = Part(r.newFans)
        byTier = Tier.allCases.reversed().compactMap { t in r.byTier[t].map { Keyed(t.name, $0) } }
        byDomain = r.byDomain.sorted { ($0.value.gmv, $1.key.rawValue) > ($1.value.gmv, $0.key.rawValue) }.map { Keyed($0.key.rawValue, $0.value) }
        byChannel = r.byChannel.sorted { ($0.value.gmv, $1.key.rawValue) > ($1.value.gmv, $0.key.rawValue) }.map { Keyed($0.key.rawValue, $0.value) }
        attribution = SalesTouchpoint.allCases.map { t in
            Attribution(touchpoint: t.rawValue, firstTouchFen: r.attribution[.firstTouch]?[t] ?? 0, lastTouchFen: r.attribution[.lastTouch]?[t] ?? 0,
                        positionBasedFen: r.attribution[.positionBased]?[t] ?? 0)
        }
        unattributed = Part(r.unattributed); repurchasers = r.repurchasers; medianRepurchaseDays = r.medianRepurchaseDays
        coupons = r.coupons.map { Coupon(couponId: $0.couponId, name: $0.name, redemptions: $0.redemptions, gmvFen: $0.gmv, discountFen: $0.discountFen,
                                         roi: $0.discountFen > 0 ? Double($0.gmv) / Double($0.discountFen) : nil) }
        headlines = Headlines(fansShareOfGmv: GMVReport.share(r.fans.gmv, of: r.total.gmv), fansShareOfLiveGmv: GMVReport.share(r.liveFans.gmv, of: r.live.gmv),
                              oldFansShareOfLiveGmv: GMVReport.share(r.liveOldFans.gmv, of: r.live.gmv),
                              fansShareOfGroupGmv: GMVReport.share(r.groupFans.gmv, of: r.group.gmv),
                              groupMemberRepurchaseRate: r.groupMembers > 0 ? Double(r.groupMembersRepurchasing) / Double(r.groupMembers) : nil,
                              repurchaseRate: r.total.buyers > 0 ? Double(r.repurchasers) / Double(r.total.buyers) : nil)
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
    /// scheduled, open or expired.
    var state: String
    /// Once expired: the coupons never claimed.
    var unclaimedAtExpiry: Int?

    /// 0 to 50: the share of fans who asked and may have it kept from it, to measure it against.
    var holdoutPercent: Int
    /// Who got it against who was held out, over the 30 days after each (read one to see it).
    var experiment: APIRoutes.HoldoutExperimentView?

    init(_ c: CouponTemplate, now: Int64) {
        holdoutPercent = c.holdoutPercent
        id = c.id; accountId = c.accountId; name = c.name; valueKind = c.value.kind; value = c.value.number; thresholdFen = c.thresholdFen
        validFrom = Time.iso(c.validFrom); validUntil = Time.iso(c.validUntil); stock = c.stock; issued = c.issued; redeemed = c.redeemed
        perFanLimit = c.perFanLimit; audience = c.audience; requiresFollow = c.requiresFollow; activityId = c.activityId
        state = c.state(at: now); unclaimedAtExpiry = state == "expired" ? c.unclaimed : nil
    }
}
