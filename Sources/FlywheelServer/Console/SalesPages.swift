import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// The console's sales: GMV of the chosen account, enterprise or every account, read as the GMV
/// report reads it (fans and non-fans, old and new, tiers, the three attribution models side by
/// side, repurchase); and for one account its coupons, red envelopes, lotteries and orders.
extension ConsoleRoutes {
    func addSales(to console: RouterGroup<FlywheelRequestContext>) {
        console.get("sales", use: salesPage)
        console.post("sales/coupons", use: newCoupon)
        console.post("sales/red-envelopes", use: newRedEnvelope)
        console.post("sales/lotteries", use: newLottery)
    }

    struct SalesContent {
        var cards: [Card]
        var charts: [ChartView]
        var attribution: [Attribution]
        var perAccount: Bool
        var coupons: [CouponRow]
        var envelopes: [EnvelopeRow]
        var lotteries: [LotteryRow]
        var orders: [OrderRow]
        var campaigns: [CampaignRow]
        var shop: String?
        var notice: Notice?
        var csrf = ""
        var actions: Actions?

        struct Actions { var coupon: String; var envelope: String; var lottery: String }

        struct Attribution { var touchpoint: String; var first: String; var last: String; var position: String }
        struct CouponRow { var name: String; var value: String; var stock: Int; var issued: Int; var redeemed: Int; var gmv: String; var roi: String
                           var state: String }
        struct EnvelopeRow { var name: String; var claimed: String; var claimedYuan: String; var returnedYuan: String; var state: String }
        struct LotteryRow { var name: String; var eligibility: String; var entries: Int; var prizes: String; var state: String; var seedHash: String; var winners: Int }
        struct OrderRow { var id: String; var fan: String; var channel: String; var paid: String; var amount: String; var refunded: String; var status: String }
        struct CampaignRow { var name: String; var threshold: Int; var participants: Int; var inviters: Int; var invites: Int; var deepest: Int; var rewarded: Int
                             var kFactor: String }
    }

    @Sendable func salesPage(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let caller = try context.caller()
        let scope = try await scope(request, context)
        let tenantId = scope.selected?.hasPrefix("tenant:") == true ? scope.selected.map { String($0.dropFirst("tenant:".count)) } : nil
        let r = try await GMVReports(flywheel).report(.init(accountId: scope.account?.id, tenantId: tenantId, from: nil, to: nil, cut: nil, windowDays: nil),
                                                      reachable: context.tenantIds, by: caller).report
        let yuan = { (fen: Int64) in "¥" + Self.yuan(fen) }
        let cards = [Card(label: t(.gmv), value: yuan(r.total.gmv)), Card(label: t(.ordersCount), value: "\(r.total.orders)"),
                     Card(label: t(.fansShareOfGmv), value: Self.percent(GMVReport.share(r.fans.gmv, of: r.total.gmv))),
                     Card(label: t(.fansShareOfLiveGmv), value: Self.percent(GMVReport.share(r.liveFans.gmv, of: r.live.gmv))),
                     Card(label: t(.oldFansShareOfLiveGmv), value: Self.percent(GMVReport.share(r.liveOldFans.gmv, of: r.live.gmv))),
                     Card(label: t(.fansShareOfGroupGmv), value: Self.percent(GMVReport.share(r.groupFans.gmv, of: r.group.gmv))),
                     Card(label: t(.groupMemberRepurchase), value: Self.percent(r.groupMembers > 0 ? Double(r.groupMembersRepurchasing) / Double(r.groupMembers) : nil)),
                     Card(label: t(.repurchaseRate), value: Self.percent(r.total.buyers > 0 ? Double(r.repurchasers) / Double(r.total.buyers) : nil)),
                     Card(label: t(.medianRepurchaseDays), value: r.medianRepurchaseDays.map { String(format: "%.1f", $0) } ?? "—")]
        let inYuan = { (fen: Int64) in Int(fen / 100) }
        var charts = [Charts.bars(title: t(.gmvByAudience), [(t(.fans), inYuan(r.fans.gmv)), (t(.nonFans), inYuan(r.nonFans.gmv)), (t(.oldFans), inYuan(r.oldFans.gmv)),
                                                              (t(.newFans), inYuan(r.newFans.gmv))]),
                      Charts.bars(title: t(.gmvByTier), Tier.allCases.reversed().map { (t.tier($0), inYuan(r.byTier[$0]?.gmv ?? 0)) })]
        for (model, title) in [(AttributionModel.firstTouch, t(.firstTouch)), (.lastTouch, t(.lastTouch)), (.positionBased, t(.positionBased))] {
            charts.append(Charts.bars(title: title, SalesTouchpoint.allCases.map { (t.touchpointName($0), inYuan(r.attribution[model]?[$0] ?? 0)) }))
        }
        let attribution = SalesTouchpoint.allCases.map { p in
            SalesContent.Attribution(touchpoint: t.touchpointName(p), first: yuan(r.attribution[.firstTouch]?[p] ?? 0), last: yuan(r.attribution[.lastTouch]?[p] ?? 0),
                                     position: yuan(r.attribution[.positionBased]?[p] ?? 0))
        } + [SalesContent.Attribution(touchpoint: t(.unattributed), first: yuan(r.unattributed.gmv), last: yuan(r.unattributed.gmv), position: yuan(r.unattributed.gmv))]
        var content = SalesContent(cards: cards, charts: charts, attribution: attribution, perAccount: scope.account != nil, coupons: [], envelopes: [], lotteries: [],
                                   orders: [], campaigns: [], shop: nil, notice: Self.errorNotice(request))
        if let account = scope.account {
            let now = flywheel.env.now()
            let returns = Dictionary(r.coupons.map { ($0.couponId, $0) }) { a, _ in a }
            content.coupons = try await Coupons(flywheel).list(of: account, by: caller).map { c in
                let back = returns[c.id]
                let value = switch c.value {
                case .amount(let fen): yuan(fen)
                case .discount(let percent): "\(percent)%"
                }
                let state = c.state(at: now)
                return SalesContent.CouponRow(name: c.name, value: value, stock: c.stock, issued: c.issued, redeemed: c.redeemed, gmv: yuan(back?.gmv ?? 0),
                                              roi: back.flatMap { $0.discountFen > 0 ? String(format: "%.1f", Double($0.gmv) / Double($0.discountFen)) : nil } ?? "—",
                                              state: t.commerceState(state) + (state == "expired" ? " · \(t(.unclaimed)) \(c.unclaimed)" : ""))
            }
            content.envelopes = try await RedEnvelopes(flywheel).list(of: account, by: caller).map { e in
                SalesContent.EnvelopeRow(name: e.name, claimed: "\(e.claimed) / \(e.shares)", claimedYuan: yuan(e.claimedFen), returnedYuan: e.returnedFen.map(yuan) ?? "—",
                                         state: t.commerceState(e.state(at: now)))
            }
            for l in try await Lotteries(flywheel).list(of: account, by: caller) {
                let winners = l.drawnAt == nil ? 0 : try await store.lotteryWinners(id: l.id, of: account).count
                content.lotteries.append(SalesContent.LotteryRow(name: l.name, eligibility: l.eligibility ?? "—", entries: l.entries,
                                                                 prizes: l.prizes.map { "\($0.name) ×\($0.stock)" }.joined(separator: "，"),
                                                                 state: t.commerceState(l.state(at: now)), seedHash: String(l.seedHash.prefix(16)) + "…", winners: winners))
            }
            content.csrf = context.session?.csrf ?? ""
            let at = "?account=\(account.id)"
            content.actions = .init(coupon: "/console/sales/coupons" + at, envelope: "/console/sales/red-envelopes" + at, lottery: "/console/sales/lotteries" + at)
            let shop = try await store.shopConnection(of: account)
            content.shop = t.shopLine(shop, syncedUntil: shop.map { Self.shortTime($0.syncedUntil, account) } ?? "")
            content.orders = try await Orders(flywheel).list(of: account, openId: nil, from: nil, to: nil, cursor: nil, limit: 20, by: caller).orders.map { o in
                SalesContent.OrderRow(id: o.id, fan: o.openId, channel: t.channel(o.channel), paid: Self.shortTime(o.paidAt, account), amount: yuan(o.amountFen),
                                      refunded: o.refundedFen > 0 ? yuan(o.refundedFen) : "—", status: t.orderStatus(o.status))
            }
        }
        if let account = scope.account {
            let campaigns = try await FissionCampaigns(flywheel).list(of: account, by: caller)
            content.campaigns = campaigns.map { c, s in
                SalesContent.CampaignRow(name: c.name, threshold: c.threshold, participants: s.participants, inviters: s.inviters, invites: s.invites, deepest: s.deepest,
                                         rewarded: s.rewarded, kFactor: s.kFactor.map { String(format: "%.2f", $0) } ?? "—")
            }
            content.charts += campaigns.prefix(1).map { c, s in
                Charts.funnel(title: t(.fissionFunnel), [(t(.participants), s.participants), (t(.inviters), s.inviters), (t(.rewardedInviters), s.rewarded)])
            }
        }
        return try await page("sales", content, title: t(.sales), nav: .sales, request, context, scope: scope, path: "/console/sales")
    }

    /// Yuan as people write them (`12`, `12.5`, `12.50`) in fen; nil when it is not such a number.
    static func fen(fromYuan text: String) -> Int64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int64(parts[0]), whole >= 0, whole < 1_000_000_000 else { return nil }
        guard parts.count == 2 else { return whole * 100 }
        guard (1...2).contains(parts[1].count), parts[1].allSatisfy(\.isNumber), let cents = Int64(parts[1]) else { return nil }
        return whole * 100 + (parts[1].count == 1 ? cents * 10 : cents)
    }

    /// A form's time (`datetime-local`, in the account's zone), in ms.
    static func time(_ form: [String: String], _ name: String, _ account: Account) -> Int64? {
        field(form, name).flatMap { localTime($0, account) }
    }

    @Sendable func newCoupon(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let account = try await formAccount(request, context)
        let form = context.form
        let kind = Self.field(form, "valueKind") ?? "amount"
        let valueText = Self.field(form, "value") ?? ""
        // An amount in yuan; a discount in percent.
        guard let value = kind == "amount" ? Self.fen(fromYuan: valueText) : Int64(valueText) else {
            return back(to: "sales", account, error: "value: \(kind == "amount" ? "an amount in yuan, such as 20 or 9.90" : "a percent, such as 85")")
        }
        let threshold = Self.field(form, "threshold").map(Self.fen(fromYuan:))
        if let threshold, threshold == nil { return back(to: "sales", account, error: "threshold: an amount in yuan, such as 99") }
        guard let until = Self.time(form, "validUntil", account) else {
            return back(to: "sales", account, error: "validUntil: a date and time such as 2026-12-31T19:00")
        }
        return try await submit("sales", account) {
            _ = try await Coupons(flywheel).create(.init(name: form["name"] ?? "", valueKind: kind, value: value, thresholdFen: threshold ?? nil, validFrom: nil,
                                                         validUntil: until, stock: Int(Self.field(form, "stock") ?? "") ?? 0,
                                                         perFanLimit: Self.field(form, "perFanLimit").flatMap { Int($0) }, audience: Self.field(form, "audience"),
                                                         requiresFollow: form["requiresFollow"] == "on", activityId: nil),
                                                   of: account, by: caller)
        }
    }

    @Sendable func newRedEnvelope(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let account = try await formAccount(request, context)
        let form = context.form
        guard let total = Self.field(form, "total").flatMap(Self.fen(fromYuan:)) else { return back(to: "sales", account, error: "total: an amount in yuan, such as 1500") }
        let bounds = (Self.field(form, "min").map(Self.fen(fromYuan:)), Self.field(form, "max").map(Self.fen(fromYuan:)))
        if bounds.0 == .some(nil) || bounds.1 == .some(nil) { return back(to: "sales", account, error: "min, max: amounts in yuan, such as 1 and 10") }
        guard let expires = Self.time(form, "expiresAt", account) else {
            return back(to: "sales", account, error: "expiresAt: a date and time such as 2026-12-31T19:00")
        }
        return try await submit("sales", account) {
            _ = try await RedEnvelopes(flywheel).create(.init(name: form["name"] ?? "", totalFen: total, shares: Int(Self.field(form, "shares") ?? "") ?? 0,
                                                              split: Self.field(form, "split"), minFen: bounds.0 ?? nil, maxFen: bounds.1 ?? nil,
                                                              audience: Self.field(form, "audience"), requiresFollow: nil, opensAt: nil, expiresAt: expires),
                                                        of: account, by: caller)
        }
    }

    @Sendable func newLottery(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let account = try await formAccount(request, context)
        let form = context.form
        // One prize a line: its name, then how many.
        var prizes: [LotteryPrize] = []
        for line in (form["prizes"] ?? "").split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let words = line.split(whereSeparator: \.isWhitespace)
            guard words.count >= 2, let stock = Int(words[words.count - 1]) else {
                return back(to: "sales", account, error: "prizes: one prize a line, its name then how many, such as 一等奖 1")
            }
            prizes.append(LotteryPrize(name: words.dropLast().joined(separator: " "), stock: stock))
        }
        guard let closes = Self.time(form, "closesAt", account) else {
            return back(to: "sales", account, error: "closesAt: a date and time such as 2026-12-31T19:00")
        }
        return try await submit("sales", account) {
            _ = try await Lotteries(flywheel).create(.init(name: form["name"] ?? "", eligibility: Self.field(form, "eligibility"), requiresFollow: nil, opensAt: nil,
                                                           closesAt: closes, prizes: prizes), of: account, by: caller)
        }
    }
}
