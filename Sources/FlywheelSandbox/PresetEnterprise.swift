import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelSimulator
import FlywheelStore

/// A preset's enterprise on Flywheel: its tenant, its platform app and its matrix of accounts,
/// named from the preset and the seed so a rerun finds them again (and the platform's `Msg-Id`s
/// make a rerun change nothing).
public struct PresetEnterprise: Sendable {
    public var preset: Preset
    public var seed: UInt64
    public var tenant: Tenant
    public var app: PlatformApp
    public var accounts: [Account]

    public static func clientKey(_ preset: Preset, seed: UInt64) -> String { "sbx_\(preset.name)_\(seed)" }

    public static func clientSecret(_ preset: Preset, seed: UInt64) -> String {
        var g = SeededGenerator(seed: seed ^ 0x5EC2_E7)
        return (0..<4).map { _ in String(g.next(), radix: 16) }.joined() + preset.name
    }

    public static func accountOpenId(_ preset: Preset, seed: UInt64, index: Int) -> String { "\(preset.name)-\(seed)-account-\(index + 1)" }

    /// The app as the sandbox's open API knows it.
    public var apiApp: SandboxAPI.App {
        SandboxAPI.App(clientKey: app.clientKey, clientSecret: app.clientSecret, accountOpenIds: Set(accounts.map(\.openId)), reactions: preset.reactions)
    }

    /// The platform side for this enterprise.
    public func sandbox(duplicateRate: Double = 0.02, reorderRate: Double = 0.02) -> Sandbox {
        Self.sandbox(preset, seed: seed, duplicateRate: duplicateRate, reorderRate: reorderRate)
    }

    /// The platform side for the enterprise of this preset and seed, wherever it is set up.
    public static func sandbox(_ preset: Preset, seed: UInt64, duplicateRate: Double, reorderRate: Double) -> Sandbox {
        Sandbox(clientKey: clientKey(preset, seed: seed), clientSecret: clientSecret(preset, seed: seed),
                accountOpenIds: preset.accounts.indices.map { accountOpenId(preset, seed: seed, index: $0) },
                duplicateRate: duplicateRate, reorderRate: reorderRate, seed: seed &+ 17)
    }

    /// Finds the enterprise of this preset and seed, or creates it (under `provider`, when given);
    /// `ownerKey` is set when it was created.
    public static func setUp(_ flywheel: Flywheel, preset: Preset, seed: UInt64, provider: Tenant? = nil) async throws -> (enterprise: PresetEnterprise, ownerKey: String?) {
        let env = flywheel.env
        let clientKey = clientKey(preset, seed: seed)
        if let app = try await env.store.app(clientKey: clientKey), let tenant = try await env.store.tenant(id: app.tenantId) {
            let accounts = try await env.store.accounts(tenantIds: [tenant.id]).filter { $0.appId == app.id }
                .sorted { $0.openId.utf8.lexicographicallyPrecedes($1.openId.utf8) }
            return (PresetEnterprise(preset: preset, seed: seed, tenant: tenant, app: app, accounts: accounts), nil)
        }
        var made = try await flywheel.tenancy.createTenant(name: preset.enterprise, kind: .enterprise, provider: provider, actor: "simulator")
        // The enterprise runs its quadrant's playbook: its accounts' tiers mean what they mean for its buyers.
        _ = try await env.store.adoptIndustry(preset.industry, tenantId: made.tenant.id,
                                              audit: env.audit(tenantId: made.tenant.id, actor: "simulator", action: "playbook.adopt", target: made.tenant.id))
        made.tenant.industry = preset.industry
        let app = PlatformApp(tenantId: made.tenant.id, id: env.newId("app"), name: "\(preset.enterprise) app", clientKey: clientKey,
                              clientSecret: clientSecret(preset, seed: seed), createdAt: env.now())
        try await env.store.createApp(app, audit: env.audit(tenantId: app.tenantId, actor: "simulator", action: "app.create", target: app.id))
        var accounts: [Account] = []
        for (i, name) in preset.accounts.enumerated() {
            let account = Account(tenantId: made.tenant.id, id: env.newId("acc"), name: name, appId: app.id, openId: accountOpenId(preset, seed: seed, index: i),
                                  timeZone: AccountCalendar.defaultTimeZone, createdAt: env.now())
            try await env.store.createAccount(account, audit: env.audit(tenantId: account.tenantId, actor: "simulator", action: "account.create", target: account.id))
            accounts.append(account)
        }
        return (PresetEnterprise(preset: preset, seed: seed, tenant: made.tenant, app: app, accounts: accounts), made.key.token)
    }

    public struct Fed: Sendable, Equatable {
        public var deliveries = 0
        public var repeats = 0
        public var events = 0

        public init() {}
    }

    /// Feeds the platform's output through Flywheel's own doors, without HTTP: pushes through
    /// `Ingest` (verified, deduplicated, stored), synced records appended to the accounts' logs.
    /// `api` learns what was pushed (fans' messages a reply may answer).
    public func feed(_ outputs: [PlatformOutput], into flywheel: Flywheel, api: SandboxAPI? = nil) async throws -> Fed {
        var fed = Fed()
        var synced: [AccountEvent] = []
        for output in outputs {
            switch output {
            case .delivery(let d):
                api?.pushed(d)
                switch try await flywheel.ingest.receive(body: d.body, signature: d.signature, msgId: d.msgId) {
                case .stored(let n): fed.deliveries += 1; fed.events += n
                case .duplicate: fed.repeats += 1
                case .challenge: break
                }
            case .sync(let account, let event):
                // Bought online where the account has a shop: the shop records it, and Flywheel reads it from the shop's order API.
                if let api, event.kind == .orderPaid || event.kind == .orderRefunded, api.sellsOnline(for: accounts[account].openId) {
                    api.sell(event, account: accounts[account].openId)
                    continue
                }
                synced.append(AccountEvent(tenantId: tenant.id, accountId: accounts[account].id, event: event))
            }
        }
        fed.events += try await flywheel.env.store.append(synced) { _ in }.inserted
        return fed
    }
}

extension PresetEnterprise {
    /// Each account sells online through a shop of its own on the sandbox (its self-use app's
    /// key and secret drawn from the app's), from now on; `connect`: the shop is connected to the
    /// account too (once: the database keeps it, the sandbox forgets and is opened again each run).
    public func openShops(_ flywheel: Flywheel, api: SandboxAPI, connect: Bool) async throws {
        let env = flywheel.env
        for (i, account) in accounts.enumerated() {
            let shopId = "shop-\(account.openId)", appKey = "\(app.clientKey)-shop-\(i)", secret = "\(app.clientSecret)-shop-\(i)"
            api.openShop(shopId, appKey: appKey, appSecret: secret, account: account.openId)
            guard connect else { continue }
            let sealed = try env.sealer.seal(secret, context: TokenSealer.context(account, ShopSync.secretColumn))
            try await env.store.connectShop(ShopConnection(accountId: account.id, shopId: shopId, appKey: appKey, sealedSecret: sealed, syncedUntil: env.now(),
                                                           connectedAt: env.now()),
                                            of: account, audit: env.audit(tenantId: tenant.id, actor: "simulator", action: "shop.connect", target: account.id))
        }
    }

    /// The demo's desk: the accounts connected to the sandbox with DM rights, agents Sales Wang and
    /// Sales Zhao serving every account, a welcome that offers the fan group, keyword replies and
    /// canned answers. Made once; the accounts consent again on every run (the sandbox forgets).
    public func setUpDesk(_ flywheel: Flywheel, api: SandboxAPI) async throws {
        let env = flywheel.env
        let store = env.store
        for account in accounts {
            guard let token = api.consent(clientKey: app.clientKey, openId: account.openId, scope: "user_info,im.direct_message,im.group_message") else { continue }
            try await store.saveTokens(try env.sealer.seal(token, of: account, now: env.now()), of: account,
                                       audit: env.audit(tenantId: tenant.id, actor: "simulator", action: "account.connect", target: account.id))
        }
        guard try await store.agents(tenantId: tenant.id).isEmpty else { return }
        for name in ["Sales Wang", "Sales Zhao"] {
            let user = try await flywheel.tenancy.createUser(name: name, role: .agent, tenantId: tenant.id, actor: "simulator")
            try await store.setAgent(Agent(userId: user.id, name: name, capacity: 30, accountIds: Set(accounts.map(\.id)), available: true), tenantId: tenant.id,
                                     audit: env.audit(tenantId: tenant.id, actor: "simulator", action: "agent.set", target: user.id))
        }
        let replies: [(String, AutoReplyRule.Trigger, Int, MessageContent)] = [
            ("welcome", .welcome, 0, .groupInvitation(groupId: "\(app.clientKey)-fans")),
            ("price", .regex("价格|多少钱|优惠"), 10, .text("您好！今天的价格和优惠都在主页橱窗，直播间还有专属券。")),
            ("store", .contains("地址"), 5, .text("门店地址和营业时间见主页「门店」，欢迎到店。")),
            ("details", .contains("资料"), 5, .leadCard(cardId: "\(app.clientKey)-lead-card")),
        ]
        for account in accounts {
            for (i, (name, trigger, priority, reply)) in replies.enumerated() {
                let rule = AutoReplyRule(id: env.newId("ar"), accountId: account.id, name: name, trigger: trigger, priority: priority, hours: .always,
                                         reply: reply, enabled: true, createdAt: env.now() + Int64(i))
                try await store.createAutoReplyRule(rule, of: account, audit: env.audit(tenantId: tenant.id, actor: "simulator", action: "auto_reply.create",
                                                                                        target: rule.id))
            }
        }
        for (title, text) in [("到店", "欢迎到店体验，到店报暗号「粉丝」有礼。"), ("稍等", "收到，我查一下马上回复您。"), ("加群", "粉丝群里每天有专属福利，点上面的邀请就能进群。")] {
            try await store.createCannedReply(CannedReply(id: env.newId("cr"), title: title, text: text, createdAt: env.now()), tenantId: tenant.id,
                                              audit: env.audit(tenantId: tenant.id, actor: "simulator", action: "canned_reply.create", target: title))
        }
    }
}

extension PresetEnterprise {
    /// The demo's sales team at work on the leads of the history: each lead that waited a day is
    /// given to Sales Wang or Sales Zhao and, by a seeded draw, contacted, qualified, won (at the
    /// preset's price) or lost, with follow-ups ahead and some overdue; the rest stay new.
    public func workLeads(_ flywheel: Flywheel, seed: UInt64) async throws {
        let env = flywheel.env
        let store = env.store
        let now = env.now()
        let agents = try await store.agents(tenantId: tenant.id).map(\.userId)
        guard !agents.isEmpty else { return }
        var g = SeededGenerator(seed: seed ^ 0x1EAD)
        func draw() -> Double { Double(g.next() >> 11) / Double(1 << 53) }
        var cursor: String?
        var filter = LeadFilter()
        filter.stages = [.new]
        filter.unassignedOnly = true
        repeat {
            let page = try await store.leads(tenantId: tenant.id, filter: filter, cursor: cursor, limit: 500)
            for (i, lead) in page.items.enumerated() where now - lead.createdAt > 86_400_000 {
                let roll = draw()
                let stage: LeadStage = roll < 0.2 ? .new : roll < 0.45 ? .contacted : roll < 0.6 ? .qualified : roll < 0.78 ? .won : .lost
                let at = min(now, lead.createdAt + Int64(5 + draw() * 600) * 60_000)
                var worked = lead
                worked.assignee = agents[i % agents.count]
                for step in [LeadStage.contacted, .qualified, stage] where step != .new && worked.stage.next.contains(step) {
                    let price = Int64(preset.price.lowerBound + Int(draw() * Double(preset.price.upperBound - preset.price.lowerBound))) * 100
                    worked = try worked.moved(to: step, reason: Self.lostReasons[Int(draw() * 3)], value: price, at: at)
                    if step == stage { break }
                }
                try await store.updateLead(worked, readVersion: lead.version, tenantId: tenant.id,
                                           activity: [LeadActivity(leadId: lead.id, at: at, kind: "stage", detail: "new → \(worked.stage.rawValue)", actor: "simulator")],
                                           entering: [],
                                           audit: env.audit(tenantId: tenant.id, actor: "simulator", action: "lead.change", target: lead.id))
                if worked.stage == .contacted || worked.stage == .qualified {
                    let due = now + Int64((draw() - 0.3) * 3 * 86_400_000)
                    try await store.createFollowUp(FollowUp(id: env.newId("fu"), leadId: lead.id, dueAt: due, note: worked.stage == .contacted ? "回访，约到店" : "报价，约试驾",
                                                            assignee: worked.assignee, createdAt: at),
                                                   tenantId: tenant.id, audit: env.audit(tenantId: tenant.id, actor: "simulator", action: "follow_up.create", target: lead.id))
                }
            }
            cursor = page.nextCursor
        } while cursor != nil
    }

    static let lostReasons = ["价格不合适", "买了别家", "联系不上"]
}

extension PresetEnterprise {
    /// Who may join each industry's fan group, as its playbook would keep it.
    var groupThreshold: String {
        switch preset.name {
        case "liquor": "following and level >= 2"
        case "photo_studio": "following"
        case "career_education": "following and interactions >= 3"
        default: "leads >= 1 or dms_received >= 1"
        }
    }

    /// The simulated world's fan group of the account at `index`.
    public static func groupId(_ preset: Preset, index: Int) -> String { "group-\(preset.name)-\(index)" }
    static func groupNumber(_ preset: Preset, index: Int) -> String { "\(8_000 + (Preset.all.firstIndex { $0.name == preset.name } ?? 0) * 10 + index)" }

    /// The sandbox learns the groups the simulated accounts ran before Flywheel (it forgets at every start).
    public func registerGroups(in api: SandboxAPI) {
        for (index, account) in accounts.enumerated() {
            api.existingGroup(clientKey: app.clientKey, account: account.openId, group: Self.groupId(preset, index: index),
                              number: Self.groupNumber(preset, index: index))
        }
    }

    /// The demo's reach on a new database: each account's fan group (the one it ran before, now
    /// with the industry's threshold), its lives (the preset's daily
    /// hours, the last 30 days for their audience and the next two weeks), and a month of posts:
    /// one going out now, four more planned.
    public func setUpReach(_ flywheel: Flywheel) async throws {
        let env = flywheel.env
        let store = env.store
        let now = env.now()
        for (index, account) in accounts.enumerated() {
            // The fan group the account ran before Flywheel (its members are in the history), taken
            // under Flywheel's rules: the industry's threshold, admins, a greeting sent through the outbox.
            var group = FanGroup(id: env.newId("grp"), accountId: account.id, name: String("\(preset.enterprise.prefix(20)) 粉丝群 \(index + 1)".prefix(30)),
                                 description: "粉丝专属福利与直播提醒", threshold: groupThreshold, welcome: "欢迎加入！每天直播前会在群里提醒，群内有专属优惠。",
                                 admins: ["\(account.openId)-staff-1", "\(account.openId)-staff-2"], liveReminder: true, shareNewWorks: true, createdAt: now)
            group.platformGroupId = Self.groupId(preset, index: index)
            group.groupNumber = Self.groupNumber(preset, index: index)
            group.state = .active
            try await store.createGroup(group, outbox: OutboxMessage(tenantId: tenant.id, id: env.newId("out"), idempotencyKey: "greeting:\(group.id):0",
                                                                     accountId: account.id, openId: "", replyTo: nil, replyBy: nil, content: .text(group.welcome ?? ""),
                                                                     messageId: "", createdAt: now, action: .groupGreeting, target: group.platformGroupId),
                                        audit: env.audit(tenantId: tenant.id, actor: "simulator", action: "group.create", target: group.id))
            if !preset.lives.isEmpty {
                let schedule = LiveSchedule(id: env.newId("sched"), accountId: account.id, title: "\(preset.enterprise) 直播", weekdays: Array(1...7),
                                            times: preset.lives.map { $0 * 60 }, durationMinutes: 120, reminderMinutes: 30, createdAt: now)
                let calendar = account.calendar
                let today = calendar.day(ofMillis: now)
                let past = ((today - 30)..<today).flatMap { schedule.lives(on: $0, startOfDay: calendar.startOfDay($0)) }
                try await store.createLives(past + Reach.lives(of: schedule, in: account, from: now), schedule: schedule, tenantId: tenant.id,
                                            audit: env.audit(tenantId: tenant.id, actor: "simulator", action: "live.create", target: schedule.id))
            }
            let calendar = account.calendar
            let today = calendar.day(ofMillis: now)
            for (i, (offset, title)) in [(0, "本周新品上市"), (2, "直播间专属券"), (5, "粉丝日福利"), (9, "门店活动预告"), (13, "老粉回馈")].enumerated() {
                let day = today + offset
                // The month's quota holds: later posts wait for the next month.
                guard SubscriptionQuota(taken: try await store.quotaDays(of: account, in: SubscriptionQuota.firstDay(ofMonthOf: day)...(day + 31))).allows(day) else { continue }
                let at = offset == 0 ? now : calendar.startOfDay(day) + Int64(preset.lives.first ?? 12) * 3_600_000 - 3_600_000
                let post = Post(id: env.newId("post"), accountId: account.id, title: title, body: "\(preset.enterprise)：\(title)，点开领取。", format: .text, mediaRef: nil,
                                tool: i == 1 ? PostTool(kind: .coupon, ref: "\(app.clientKey)-coupon") : nil, segmentId: nil, scheduledAt: at, day: day,
                                state: .scheduled, createdBy: "simulator", createdAt: now)
                try await store.createPost(post, of: account, audit: env.audit(tenantId: tenant.id, actor: "simulator", action: "post.create", target: post.id))
            }
            try await store.setHomepageItems([.enterpriseInfo: true, .businessTemplate: index == 0], of: account, at: now,
                                             audit: env.audit(tenantId: tenant.id, actor: "simulator", action: "homepage.change", target: account.id))
        }
    }
}
