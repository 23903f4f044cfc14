import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelSandbox
import FlywheelSimulator
import FlywheelStore

/// The demo's conversion tools, through the same use cases (and so the same rules) as the API,
/// each enterprise using them as its industry would: the liquor brand's live coupon, red
/// envelope, likes lottery and invite-three-friends campaign; the photo studio's add-fan coupon;
/// the academy's lottery and returning-student coupon; the dealer's orders from won leads.
extension PresetEnterprise {
    func setUpConvert(_ flywheel: Flywheel) async throws {
        let env = flywheel.env
        let now = env.now()
        let hour: Int64 = 3_600_000
        let owner = Principal(tenantId: tenant.id, userId: "demo", keyId: "demo", role: .owner)
        let coupons = Coupons(flywheel), envelopes = RedEnvelopes(flywheel), lotteries = Lotteries(flywheel)
        for account in accounts {
            // Fans who qualify take what is offered, through the use cases' checks: the first 300 followers.
            let followers = try await env.store.fans(of: account, matching: FanPredicate.isTrue(field: "following"), now: now, cursor: nil, limit: 300).items.map(\.openId)
            func claimAll(_ claim: (String) async throws -> Void) async {
                for fan in followers { try? await claim(fan) }
            }
            switch preset.name {
            case Preset.liquor.name:
                let coupon = try await coupons.create(.init(name: "直播间专属券 满199减20", valueKind: "amount", value: 2_000, thresholdFen: 19_900, validFrom: nil,
                                                            validUntil: now + 14 * 24 * hour, stock: 5_000, perFanLimit: 1, audience: nil, requiresFollow: false,
                                                            activityId: "act-\(account.openId)-live"), of: account, by: owner)
                await claimAll { _ = try await coupons.claim(coupon.id, for: $0, of: account, by: owner) }
                let envelope = try await envelopes.create(.init(name: "开播福袋", totalFen: 100_000, shares: 200, split: "random", minFen: 100, maxFen: 2_000,
                                                                audience: nil, requiresFollow: true, opensAt: nil, expiresAt: now + 2 * hour), of: account, by: owner)
                await claimAll { _ = try await envelopes.claim(envelope.id, for: $0, of: account, by: owner) }
                let lottery = try await lotteries.create(.init(name: "点赞满3次抽飞天", eligibility: "likes >= 3", requiresFollow: true, opensAt: nil,
                                                               closesAt: now + hour / 2, prizes: [LotteryPrize(name: "53度飞天", stock: 1),
                                                                                                  LotteryPrize(name: "定制酒杯", stock: 10)]), of: account, by: owner)
                await claimAll { try await lotteries.enter(lottery.id, for: $0, of: account, by: owner) }
                try await invite(flywheel, account: account, followers: followers, by: owner)
            case Preset.photoStudio.name:
                let coupon = try await coupons.create(.init(name: "关注领50元拍摄券", valueKind: "amount", value: 5_000, thresholdFen: 0, validFrom: nil,
                                                            validUntil: now + 30 * 24 * hour, stock: 2_000, perFanLimit: 1, audience: nil, requiresFollow: true,
                                                            activityId: nil), of: account, by: owner)
                await claimAll { _ = try await coupons.claim(coupon.id, for: $0, of: account, by: owner) }
            case Preset.careerEducation.name:
                let lottery = try await lotteries.create(.init(name: "课程抽奖：点赞满3次参与", eligibility: "likes >= 3", requiresFollow: false, opensAt: nil,
                                                               closesAt: now + 120_000, prizes: [LotteryPrize(name: "全额课程", stock: 1),
                                                                                                 LotteryPrize(name: "半价课程券", stock: 5)]), of: account, by: owner)
                await claimAll { try await lotteries.enter(lottery.id, for: $0, of: account, by: owner) }
                _ = try await coupons.create(.init(name: "老学员续报立减300", valueKind: "amount", value: 30_000, thresholdFen: 100_000, validFrom: nil,
                                                   validUntil: now + 30 * 24 * hour, stock: 500, perFanLimit: 1, audience: "orders >= 1", requiresFollow: false,
                                                   activityId: nil), of: account, by: owner)
            case Preset.usedCar.name:
                // A won lead is a car sold: its order is synced, paid where the lead came from.
                var filter = LeadFilter()
                filter.stages = [.won]
                filter.accountIds = [account.id]
                let won = try await env.store.leads(tenantId: tenant.id, filter: filter, cursor: nil, limit: 500).items
                let drafts = won.compactMap { lead in
                    lead.wonValue.map { Orders.Draft(id: "won-\(lead.id)", openId: lead.openId, amountFen: $0, paidAt: lead.closedAt ?? now, channel: lead.channel.rawValue,
                                                     source: OrderSource.localServices.rawValue, couponId: nil, lines: [], refunds: []) }
                }
                if !drafts.isEmpty { _ = try await Orders(flywheel).sync(drafts, into: account, by: owner) }
            default:
                break
            }
        }
    }

    /// "Invite 3 friends, get 20 yuan": 40 followers share their codes; the friends they bring
    /// follow the account and join through the codes, some bringing friends of their own.
    func invite(_ flywheel: Flywheel, account: Account, followers: [String], by owner: Principal) async throws {
        let now = flywheel.env.now()
        let reward = try await Coupons(flywheel).create(.init(name: "邀请有礼 20元券", valueKind: "amount", value: 2_000, thresholdFen: 0, validFrom: nil,
                                                              validUntil: now + 30 * 86_400_000, stock: 20, perFanLimit: 1, audience: nil, requiresFollow: false,
                                                              activityId: nil), of: account, by: owner)
        let campaign = try await FissionCampaigns(flywheel).create(.init(name: "邀3位好友关注，得20元券", threshold: 3, rewardCouponId: reward.id, startsAt: nil,
                                                                         endsAt: now + 14 * 86_400_000), of: account, by: owner)
        for (i, fan) in followers.prefix(40).enumerated() {
            try await share(flywheel, campaign: campaign.id, account: account, fan: fan, friends: i % 5, chain: i % 3 == 0, by: owner)
        }
    }

    /// A fan shares its code with `friends` friends, who follow the account through it and join;
    /// with `chain`, the first friend shares in turn and brings one of its own.
    func share(_ flywheel: Flywheel, campaign: String, account: Account, fan: String, friends: Int, chain: Bool, by owner: Principal) async throws {
        let fission = FissionCampaigns(flywheel)
        let now = flywheel.env.now()
        let code = try await fission.code(of: campaign, for: fan, of: account, by: owner)
        var follows: [AccountEvent] = []
        for j in 0..<friends {
            let friend = "\(fan)-friend-\(j)"
            follows.append(AccountEvent(tenantId: tenant.id, accountId: account.id,
                                        event: FanEvent(id: "invite-\(friend)", kind: .follow, openId: friend, occurredAt: now + Int64(j), channel: .homepage)))
            do {
                _ = try await fission.join(campaign, code: code, openId: friend, of: account, by: owner)
            } catch UseCaseError.conflict {
                // A friend some earlier share brought already, or one the account knew: it joins no second time.
                continue
            }
            if j == 0, chain {
                try await share(flywheel, campaign: campaign, account: account, fan: friend, friends: 1, chain: false, by: owner)
            }
        }
        _ = try await flywheel.env.store.append(follows) { _ in }
    }

    /// What a fan active in the running demo does on sharing: if its account runs a campaign,
    /// take a code and bring 0 to 3 friends (drawn from its open_id, so a replay brings the same).
    static func shareLive(_ flywheel: Flywheel) -> LiveSimulation.Share {
        { enterprise, account, fan, now in
            let owner = Principal(tenantId: enterprise.tenant.id, userId: "demo", keyId: "demo", role: .owner)
            guard let campaign = try await flywheel.env.store.fissionCampaigns(of: account).first(where: { $0.startsAt <= now && now < $0.endsAt }) else { return }
            let draw = Int(LotteryDraw.hash(fan).prefix(2), radix: 16) ?? 0
            try await enterprise.share(flywheel, campaign: campaign.id, account: account, fan: fan, friends: draw % 4, chain: draw % 7 == 0, by: owner)
        }
    }
}

extension PresetEnterprise {
    /// Goals from the playbook's first two KPIs, set nine days ago with their strategy turned into
    /// tasks; the first goal's first task done five days ago (an automatic one by Flywheel), the
    /// rest open: last week's review has something to say.
    func setUpGoals(_ flywheel: Flywheel) async throws {
        let owner = Principal(tenantId: tenant.id, userId: "demo", keyId: "demo", role: .owner)
        let day: Int64 = 86_400_000
        func at(daysAgo: Int64) -> Goals {
            var env = flywheel.env
            let then = env.now() - daysAgo * day
            env.now = { then }
            return Goals(Flywheel(env))
        }
        var set = 0
        for kpi in preset.industry.playbook.kpis where set < 2 {
            // The playbook's typical target, or a fifth above where the enterprise stands when it is there already;
            // a metric at its ceiling (every DM answered on time) needs no goal.
            let now = try await at(daysAgo: 9).current(kpi.metric, accountId: nil, tenantId: nil, reachable: [tenant.id], by: owner)
            let target = min(kpi.metric.maxTarget, max(kpi.target, (now * 1.2).rounded(.up), now + 1))
            guard target > now else { continue }
            let i = set
            set += 1
            let made = try await at(daysAgo: 9).create(Goals.Draft(name: "\(kpi.metric.title) to \(Int(target))", metric: kpi.metric.rawValue, target: target,
                                                                   deadline: flywheel.env.now() + Int64(30 + 30 * i) * day, accountId: nil, rewardPoints: 500,
                                                                   rewardUserId: nil, plan: true),
                                                       tenantId: nil, reachable: [tenant.id], by: owner)
            if i == 0, let first = made.tasks.first {
                _ = try await at(daysAgo: 5).complete(first.id, note: nil, tenantId: nil, reachable: [tenant.id], by: owner)
            }
        }
    }
}
