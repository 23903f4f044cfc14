import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelSandbox
import FlywheelServer
import FlywheelSimulator
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Logging
import Prometheus
import Synchronization
import Testing

/// Pushes the platform made that a test hands on when it chooses (the sandbox's echoes).
final class Pushes: Sendable {
    private let held = Mutex<[Delivery]>([])
    func add(_ d: Delivery) { held.withLock { $0.append(d) } }
    /// Waits up to `seconds` for `count` pushes (on a loaded machine a reaction due in a second can
    /// take several) and takes what came.
    func take(_ count: Int, within seconds: Int = 10) async throws -> [Delivery] {
        for _ in 0..<(seconds * 100) where held.withLock({ $0.count }) < count { try await Task.sleep(for: .milliseconds(10)) }
        return held.withLock { taken in defer { taken = [] }; return taken }
    }
}

/// One enterprise with one connected account, on a store of `kind`, the platform being the sandbox.
struct DeskWorld {
    let flywheel: Flywheel
    let account: Account
    let owner: Principal
    let clock: TestClock
    let api: SandboxAPI
    var store: any Store { flywheel.env.store }

    static let clientKey = "ck-desk", secret = "secret-desk", accountOpenId = "acct-desk"

    init(_ kind: StoreKind, clock: TestClock, api: SandboxAPI, platform: PlatformClient, scope: String = "user_info,im.direct_message") async throws {
        let store = try await makeStore(kind)
        var live = FlywheelEnvironment.live(store: store, metrics: PrometheusMetricsFactory(registry: PrometheusCollectorRegistry()), logger: Logger(label: "test"),
                                            platform: platform, sealer: try TokenSealer(secret: TokenSealer.generateSecret()))
        live.now = { clock.now }
        let env = live
        flywheel = Flywheel(env)
        let made = try await flywheel.tenancy.createTenant(name: "Used cars", kind: .enterprise, actor: "test")
        owner = Principal(tenantId: made.tenant.id, userId: made.owner.id, keyId: made.key.record.id, role: .owner)
        let app = PlatformApp(tenantId: made.tenant.id, id: "app_desk", name: "app", clientKey: Self.clientKey, clientSecret: Self.secret, createdAt: clock.now)
        try await store.createApp(app, audit: env.audit(tenantId: app.tenantId, actor: "test", action: "app.create", target: app.id))
        account = Account(tenantId: made.tenant.id, id: "acc_desk", name: "Dealer", appId: app.id, openId: Self.accountOpenId, timeZone: "Asia/Shanghai",
                          createdAt: clock.now)
        try await store.createAccount(account, audit: env.audit(tenantId: account.tenantId, actor: "test", action: "account.create", target: account.id))
        // The account consents as on the sandbox's page: its tokens last 15 days.
        let token = try #require(api.consent(clientKey: Self.clientKey, openId: Self.accountOpenId, scope: scope))
        let sealed = try env.sealer.seal(token, of: account, now: clock.now)
        try await store.saveTokens(sealed, of: account, audit: env.audit(tenantId: account.tenantId, actor: "test", action: "account.connect", target: account.id))
        self.clock = clock
        self.api = api
    }

    /// The fan writes (or opens the thread): pushed by the platform, stored, projected and handled by the desk.
    func fan(_ openId: String, _ kind: EventKind = .dmReceived, says text: String? = nil, id: String) async throws {
        var sandbox = Sandbox(clientKey: Self.clientKey, clientSecret: Self.secret, accountOpenIds: [Self.accountOpenId], duplicateRate: 0, reorderRate: 0, seed: 1)
        let event = FanEvent(id: id, kind: kind, openId: openId, occurredAt: clock.now, channel: .dm, ref: "conv-\(openId)",
                             attributes: text.map { ["text": $0] } ?? [:])
        for case .delivery(let d) in sandbox.outputs([WorldEvent(account: 0, event: event)]) { try await deliver(d) }
    }

    func deliver(_ d: Delivery) async throws {
        api.pushed(d)
        _ = try await flywheel.ingest.receive(body: d.body, signature: d.signature, msgId: d.msgId)
        await flywheel.projector.drain()
        await flywheel.desk.drain()
    }

    func thread(_ openId: String) async throws -> [DeskMessage] { try await store.messages(of: account, openId: openId, cursor: nil, limit: 100).items }
}

@Suite struct DeskTests {
    @Test(arguments: StoreKind.allCases) func automaticRepliesGoOutOnceAndAgentsAnswersStopTheClock(_ kind: StoreKind) async throws {
        let clock = TestClock()
        let echoes = Pushes()
        let api = SandboxAPI(apps: [.init(clientKey: DeskWorld.clientKey, clientSecret: DeskWorld.secret, accountOpenIds: [DeskWorld.accountOpenId])],
                             now: { clock.now }, push: { echoes.add($0) })
        try await withSandbox(api) { platform, _ in
            let world = try await DeskWorld(kind, clock: clock, api: api, platform: platform)
            let setup = DeskSetup(world.flywheel), inbox = Inbox(world.flywheel)
            _ = try await setup.createAutoReply(name: "price", trigger: "contains", pattern: "价格", priority: 5, hours: nil,
                                                reply: .text("您好，价格请看主页"), enabled: nil, of: world.account, by: world.owner)
            _ = try await setup.createAutoReply(name: "welcome", trigger: "welcome", pattern: nil, priority: nil, hours: nil,
                                                reply: .groupInvitation(groupId: "grp-1"), enabled: nil, of: world.account, by: world.owner)

            // Opening the thread brings the welcome; asking the price, the keyword's answer.
            try await world.fan("fan-1", .dmEntered, id: "enter-1")
            clock.advance(5_000)
            try await world.fan("fan-1", says: "请问价格多少", id: "m-1")
            await world.flywheel.outbox.drain()
            #expect(api.sent.map(\.msgType) == [9, 1])
            #expect(api.sent.allSatisfy { $0.toUser == "fan-1" && $0.account == DeskWorld.accountOpenId })
            var c = try #require(try await world.store.conversation(of: world.account, openId: "fan-1"))
            #expect(c.state == .bot && c.waitingSince == nil && c.welcomedAt != nil)

            // The platform echoes both sends: each shows once, as sent, with the platform's id.
            for echo in try await echoes.take(2) { try await world.deliver(echo) }
            let thread = try await world.thread("fan-1")
            #expect(thread.map(\.author) == [.fan, .auto, .fan, .auto])
            #expect(thread.filter { $0.author == .auto }.allSatisfy { $0.status == .sent && $0.platformId?.hasPrefix("sbx-sent-") == true })
            #expect(try await world.store.outboxCounts() == [.sent: 2])

            // Handled again (the same message id), nothing more is sent.
            try await world.fan("fan-1", says: "请问价格多少", id: "m-1")
            await world.flywheel.outbox.drain()
            #expect(api.sent.count == 2)

            // A question no rule answers waits for a person, with a 30-minute target.
            let asked = clock.now
            try await world.fan("fan-1", says: "能便宜点吗", id: "m-2")
            c = try #require(try await world.store.conversation(of: world.account, openId: "fan-1"))
            #expect(c.state == .queued && c.waitingSince == asked && c.dueAt == asked + 30 * 60_000)

            // An agent answers 10 minutes later: the clock stops, the conversation is theirs, the answer counts as on time.
            clock.advance(10 * 60_000)
            let reply = try await inbox.reply(.text("可以到店详谈"), to: "fan-1", in: world.account, key: "k-1", by: world.owner)
            #expect(reply.status == .queued && reply.author == .agent)
            _ = try await inbox.reply(.text("可以到店详谈"), to: "fan-1", in: world.account, key: "k-1", by: world.owner)
            await world.flywheel.outbox.drain()
            #expect(api.sent.count == 3, "a repeated request with the same key sends once")
            c = try #require(try await world.store.conversation(of: world.account, openId: "fan-1"))
            #expect(c.state == .assigned && c.assignee == world.owner.userId && c.waitingSince == nil && c.unread == 0)
            let responses = try await world.store.deskResponses(of: [world.account], from: 0, to: .max)
            #expect(responses.map(\.waited) == [10 * 60_000] && responses.allSatisfy { $0.first && $0.withinTarget })

            // The next wait goes past its target: the breach is recorded once, at the moment it was due.
            try await world.fan("fan-1", says: "还在吗", id: "m-3")
            let due = clock.now + 30 * 60_000
            clock.advance(45 * 60_000)
            await world.flywheel.desk.drain()
            await world.flywheel.desk.drain()
            let breaches = try await world.store.deskBreaches(of: [world.account], from: 0, to: .max)
            #expect(breaches.map(\.at) == [due] && breaches.first?.detail == "next response")
            let report = try await inbox.slaReport(of: [world.account], days: 7, by: world.owner)
            let total = try #require(report.rows.first { $0.scope == "total" })
            #expect(total.answered == 1 && total.withinTarget == 1 && total.breaches == 1 && total.medianFirstResponse == 10)

            // A day later the platform takes no reply: refused before anything is queued.
            clock.advance(25 * 3_600_000)
            await #expect(throws: UseCaseError.self) {
                _ = try await inbox.reply(.text("还需要吗"), to: "fan-1", in: world.account, key: "k-2", by: world.owner)
            }
            do {
                _ = try await inbox.reply(.text("还需要吗"), to: "fan-1", in: world.account, key: "k-3", by: world.owner)
            } catch UseCaseError.invalid(let field, _) {
                #expect(field == "conversation")
            }
            #expect(try await world.store.outboxCounts()[.pending] == nil)

            // Resolved, then the fan writes again: reopened, back to the same agent.
            _ = try await inbox.resolve("fan-1", in: world.account, by: world.owner)
            try await world.fan("fan-1", says: "我又来了", id: "m-4")
            c = try #require(try await world.store.conversation(of: world.account, openId: "fan-1"))
            #expect(c.state == .assigned && c.assignee == world.owner.userId && c.waitingSince != nil)
            let kinds = try await world.store.deskEvents(of: world.account, openId: "fan-1", limit: 20).map(\.kind)
            #expect(kinds.contains(.reopened) && kinds.contains(.resolved) && kinds.contains(.slaBreached))
        }
    }

    @Test func anAccountWithoutDMRightsStillRecordsAndAssignsButSendsNothing() async throws {
        let clock = TestClock()
        let api = SandboxAPI(apps: [.init(clientKey: DeskWorld.clientKey, clientSecret: DeskWorld.secret, accountOpenIds: [DeskWorld.accountOpenId])],
                             now: { clock.now })
        try await withSandbox(api) { platform, _ in
            let world = try await DeskWorld(.sqlite, clock: clock, api: api, platform: platform, scope: "user_info")
            let setup = DeskSetup(world.flywheel)
            _ = try await setup.createAutoReply(name: "any", trigger: "regex", pattern: ".", priority: nil, hours: nil, reply: .text("您好"),
                                                enabled: nil, of: world.account, by: world.owner)
            let wang = try await world.flywheel.tenancy.createUser(name: "Sales Wang", role: .agent, tenantId: world.account.tenantId, actor: "test")
            _ = try await setup.setAgent(userId: wang.id, capacity: 5, accountIds: [world.account.id], available: true, in: world.account.tenantId,
                                         by: world.owner)
            try await world.fan("fan-9", says: "你好", id: "m-9")
            await world.flywheel.outbox.drain()
            #expect(api.sent.isEmpty)
            let c = try #require(try await world.store.conversation(of: world.account, openId: "fan-9"))
            #expect(c.state == .assigned && c.assignee == wang.id && c.waitingSince != nil)
            do {
                _ = try await Inbox(world.flywheel).reply(.text("您好"), to: "fan-9", in: world.account, key: nil, by: world.owner)
                Issue.record("a reply was queued for an account that cannot send")
            } catch UseCaseError.conflict(let code, _) {
                #expect(code == "cannot_send")
            }
            #expect(try await world.store.outboxCounts().isEmpty)
        }
    }

    /// Scripted answers of the platform for the dispatcher: refusals, rate limits, outages.
    final class Script: Sendable {
        let answers: Mutex<[Result<String, PlatformError>]>
        let calls = Mutex(0)
        /// The texts the platform took, in order.
        let taken = Mutex<[String]>([])
        init(_ answers: [Result<String, PlatformError>]) { self.answers = Mutex(answers) }
        func next(_ message: SendMessage) throws -> String {
            calls.withLock { $0 += 1 }
            let id = try answers.withLock { $0.isEmpty ? .success("sent-\(UUID())") : $0.removeFirst() }.get()
            taken.withLock { $0.append(message.content.text ?? "") }
            return id
        }
    }

    @Test func theDispatcherRetriesWhatMaySucceedAndRecordsWhatWillNot() async throws {
        let clock = TestClock()
        let script = Script([.failure(.rateLimited), .failure(.unreachable("connection reset")), .success("p-1"), .failure(.proactiveLimit)])
        let api = SandboxAPI(apps: [.init(clientKey: DeskWorld.clientKey, clientSecret: DeskWorld.secret, accountOpenIds: [DeskWorld.accountOpenId])],
                             now: { clock.now })
        try await withSandbox(api) { sandbox, _ in
            var platform = PlatformClient.failing
            platform.clientToken = sandbox.clientToken
            platform.sendMessage = { _, _, message in try script.next(message) }
            let world = try await DeskWorld(.sqlite, clock: clock, api: api, platform: platform)
            try await world.fan("fan-1", says: "你好", id: "m-1")
            try await world.fan("fan-2", says: "你好", id: "m-2")
            _ = try await Inbox(world.flywheel).reply(.text("在的"), to: "fan-1", in: world.account, key: "a", by: world.owner)
            // Rate limited, then unreachable: each time back in the queue, later.
            await world.flywheel.outbox.runOnce()
            var o = try #require(try await world.store.outboxCounts()[.pending])
            #expect(o == 1)
            clock.advance(2_000)
            await world.flywheel.outbox.runOnce()
            // Unreachable: the platform may have taken it, so its echo gets ten seconds first.
            clock.advance(5_000)
            await world.flywheel.outbox.runOnce()
            #expect(script.calls.withLock { $0 } == 2)
            clock.advance(6_000)
            await world.flywheel.outbox.runOnce()
            #expect(try await world.store.outboxCounts() == [.sent: 1])
            #expect(script.calls.withLock { $0 } == 3)
            let sent = try #require(try await world.thread("fan-1").last)
            #expect(sent.status == .sent && sent.platformId == "p-1")

            // A refusal is final and shows on the message.
            _ = try await Inbox(world.flywheel).reply(.text("在的"), to: "fan-2", in: world.account, key: "b", by: world.owner)
            await world.flywheel.outbox.runOnce()
            clock.advance(600_000)
            await world.flywheel.outbox.runOnce()
            o = try #require(try await world.store.outboxCounts()[.failed])
            #expect(o == 1 && script.calls.withLock { $0 } == 4)
            let failed = try #require(try await world.thread("fan-2").last)
            #expect(failed.status == .failed && failed.error?.contains("proactive") == true)

            // The first of two messages to a fan is rate limited: the second waits behind it, and they go in order.
            try await world.fan("fan-4", says: "你好", id: "m-4")
            script.answers.withLock { $0 = [.failure(.rateLimited)] }
            _ = try await Inbox(world.flywheel).reply(.text("第一"), to: "fan-4", in: world.account, key: "d1", by: world.owner)
            clock.advance(1)
            _ = try await Inbox(world.flywheel).reply(.text("第二"), to: "fan-4", in: world.account, key: "d2", by: world.owner)
            let before = script.calls.withLock { $0 }
            await world.flywheel.outbox.runOnce()
            #expect(script.calls.withLock { $0 } == before + 1, "the second was held back, not sent ahead")
            clock.advance(2_000)
            await world.flywheel.outbox.runOnce()
            #expect(script.taken.withLock { Array($0.suffix(2)) } == ["第一", "第二"])

            // A reply whose window closed before its turn is not sent at all.
            try await world.fan("fan-3", says: "你好", id: "m-3")
            _ = try await Inbox(world.flywheel).reply(.text("在的"), to: "fan-3", in: world.account, key: "c", by: world.owner)
            let calls = script.calls.withLock { $0 }
            clock.advance(25 * 3_600_000)
            await world.flywheel.outbox.runOnce()
            #expect(script.calls.withLock { $0 } == calls)
            #expect(try await world.thread("fan-3").last?.error?.contains("24 hours") == true)
        }
    }

    @Test func aSendLeftInDoubtIsConfirmedByItsEchoOrSentAgain() async throws {
        let clock = TestClock()
        let echoes = Pushes()
        let api = SandboxAPI(apps: [.init(clientKey: DeskWorld.clientKey, clientSecret: DeskWorld.secret, accountOpenIds: [DeskWorld.accountOpenId])],
                             now: { clock.now }, push: { echoes.add($0) })
        try await withSandbox(api) { platform, _ in
            let world = try await DeskWorld(.sqlite, clock: clock, api: api, platform: platform)
            try await world.fan("fan-1", says: "你好", id: "m-1")
            try await world.fan("fan-2", says: "你好", id: "m-2")
            let inbox = Inbox(world.flywheel)
            _ = try await inbox.reply(.text("第一条"), to: "fan-1", in: world.account, key: "a", by: world.owner)
            // The sender claims it and the platform takes it, but the process dies before it records the answer.
            let claimed = try await world.store.claimOutbox(now: clock.now, limit: 10)
            #expect(claimed.count == 1)
            let token = try await platform.clientToken(DeskWorld.clientKey, DeskWorld.secret).accessToken
            _ = try await platform.sendMessage(token, DeskWorld.accountOpenId, SendMessage(replyTo: "m-1", toUserId: "fan-1", content: .text("第一条")))
            // The echo confirms it: after the lease, nothing is sent again.
            for echo in try await echoes.take(1) { try await world.deliver(echo) }
            clock.advance(120_000)
            await world.flywheel.outbox.drain()
            #expect(api.sent.count == 1)
            #expect(try await world.thread("fan-1").filter { $0.author != .fan }.map(\.status) == [.sent])

            // Claimed but never sent, no echo: after the lease it goes out, once.
            _ = try await inbox.reply(.text("第二条"), to: "fan-2", in: world.account, key: "b", by: world.owner)
            _ = try await world.store.claimOutbox(now: clock.now, limit: 10)
            await world.flywheel.outbox.drain()
            #expect(api.sent.count == 1, "a claim still within its lease is not taken over")
            clock.advance(61_000)
            await world.flywheel.outbox.drain()
            await world.flywheel.outbox.drain()
            #expect(api.sent.count == 2)
            #expect(try await world.store.outboxCounts() == [.sent: 2])
        }
    }
}

@Suite struct ProactiveMessageTests {
    /// The platform's `im_authorize` for a fan of the account, signed as the platform signs it.
    static func permission(_ fan: String, granted: Bool, at: Int64, id: String) -> Delivery {
        let content = #"{\"create_time\":\#(at / 1_000),\"expire_time\":\#(at / 1_000 + 30 * 86_400),\"update_time\":\#(at / 1_000),\"operation_type\":1,\"auth_status\":\#(granted ? 1 : 0),\"source\":\"im.direct_message.bind\"}"#
        let body = Array(#"{"event":"im_authorize","client_key":"\#(DeskWorld.clientKey)","from_user_id":"\#(fan)","to_user_id":"\#(DeskWorld.accountOpenId)","content":"\#(content)"}"#.utf8)
        return Delivery(msgId: id, body: body, signature: WebhookSignature.sign(body: body, secret: DeskWorld.secret))
    }

    @Test(arguments: StoreKind.allCases) func aFanWhoAllowedMessagesGetsThreeADayAfterTheWindowCloses(_ kind: StoreKind) async throws {
        let clock = TestClock()
        let api = SandboxAPI(apps: [.init(clientKey: DeskWorld.clientKey, clientSecret: DeskWorld.secret, accountOpenIds: [DeskWorld.accountOpenId])],
                             now: { clock.now })
        try await withSandbox(api) { platform, _ in
            let world = try await DeskWorld(kind, clock: clock, api: api, platform: platform)
            let inbox = Inbox(world.flywheel)
            try await world.fan("fan-1", says: "你好", id: "m-1")
            clock.advance(25 * 3_600_000)
            await #expect(throws: UseCaseError.self, "no message to answer, no permission") {
                _ = try await inbox.reply(.text("新车到店"), to: "fan-1", in: world.account, key: "p0", by: world.owner)
            }
            try await world.deliver(Self.permission("fan-1", granted: true, at: clock.now, id: "auth-1"))
            #expect(try await world.store.conversation(of: world.account, openId: "fan-1")?.mayMessage(at: clock.now) == true)
            for i in 1...3 {
                let sent = try await inbox.reply(.text("新车到店 \(i)"), to: "fan-1", in: world.account, key: "p\(i)", by: world.owner)
                #expect(sent.status == .queued)
            }
            do {
                _ = try await inbox.reply(.text("新车到店 4"), to: "fan-1", in: world.account, key: "p4", by: world.owner)
                Issue.record("a fourth proactive message was queued the same day")
            } catch UseCaseError.invalid(let field, let message) {
                #expect(field == "conversation" && message.contains("used up"))
            }
            await world.flywheel.outbox.drain()
            let errors = try await world.thread("fan-1").compactMap(\.error)
            #expect(api.sent.count == 3 && api.sent.allSatisfy { $0.replyTo == nil && $0.toUser == "fan-1" }, "sent as proactive messages, which the platform took: \(api.sent.count) \(errors)")
            // The next day, three more; after the fan withdraws, none.
            clock.advance(24 * 3_600_000)
            _ = try await inbox.reply(.text("周末活动"), to: "fan-1", in: world.account, key: "p5", by: world.owner)
            try await world.deliver(Self.permission("fan-1", granted: false, at: clock.now, id: "auth-2"))
            await #expect(throws: UseCaseError.self) {
                _ = try await inbox.reply(.text("还在吗"), to: "fan-1", in: world.account, key: "p6", by: world.owner)
            }
        }
    }
}

@Suite struct FansAnswerBackTests {
    @Test func aFanSentALeadCardFillsItInAndTheLeadArrives() async throws {
        let clock = TestClock()
        let pushes = Pushes()
        let eager = Reactions(replyRate: 1, cardRate: 1, patienceMinutes: 1_000_000, joinRate: 1, claimRate: 1, tolerance: 2, annoyance: 1)
        let api = SandboxAPI(apps: [.init(clientKey: DeskWorld.clientKey, clientSecret: DeskWorld.secret, accountOpenIds: [DeskWorld.accountOpenId],
                                          reactions: eager)], now: { clock.now }, reactAfter: .seconds(1), push: { pushes.add($0) })
        try await withSandbox(api) { platform, _ in
            let world = try await DeskWorld(.sqlite, clock: clock, api: api, platform: platform)
            let setup = DeskSetup(world.flywheel)
            _ = try await setup.createAutoReply(name: "card", trigger: "contains", pattern: "资料", priority: nil, hours: nil, reply: .leadCard(cardId: "card-9"),
                                                enabled: nil, of: world.account, by: world.owner)
            _ = try await setup.createAutoReply(name: "group", trigger: "contains", pattern: "群", priority: nil, hours: nil,
                                                reply: .groupInvitation(groupId: "grp-9"), enabled: nil, of: world.account, by: world.owner)
            _ = try await setup.createAutoReply(name: "hi", trigger: "contains", pattern: "你好", priority: nil, hours: nil, reply: .text("您好"),
                                                enabled: nil, of: world.account, by: world.owner)
            try await world.fan("fan-1", says: "想要资料", id: "m-1")
            await world.flywheel.outbox.drain()
            // The echo, then the card filled in: a DM carrying it.
            for pushed in try await pushes.take(2) { try await world.deliver(pushed) }
            let lead = try #require(try await world.store.leads(tenantId: world.account.tenantId, filter: LeadFilter(), cursor: nil, limit: 10).items.first)
            #expect(lead.channel == .dm && lead.phone?.count == 11 && lead.name != nil && lead.openId == "fan-1")
            #expect(try await world.thread("fan-1").map(\.messageType) == ["text", "lead_card", "card"])

            // Invited to the group, the fan joins; greeted, it writes back; the third DM of the day is one too many.
            clock.advance(60_000)
            try await world.fan("fan-1", says: "有群吗", id: "m-2")
            await world.flywheel.outbox.drain()
            for pushed in try await pushes.take(2) { try await world.deliver(pushed) }
            clock.advance(60_000)
            try await world.fan("fan-1", says: "你好", id: "m-3")
            await world.flywheel.outbox.drain()
            for pushed in try await pushes.take(3) { try await world.deliver(pushed) }
            var fan = try #require(try await world.store.fan(of: world.account, openId: "fan-1"))
            #expect(fan.groups["grp-9"]?.member == true && !fan.following)
            let thread = try await world.thread("fan-1")
            #expect(thread.last.map { $0.author == .fan && ["好的，谢谢", "收到", "多少钱？", "在哪里可以看？", "可以优惠吗", "明天过去看看"].contains($0.text ?? "") } == true,
                    "\(thread.map { "\($0.author.rawValue): \($0.text ?? $0.messageType)" })")

            // Sent a coupon card, the fan claims it.
            _ = try await setup.createAutoReply(name: "coupon", trigger: "contains", pattern: "券", priority: nil, hours: nil,
                                                reply: .coupon(activityId: "act-1", couponMetaId: "meta-1"), enabled: nil, of: world.account, by: world.owner)
            clock.advance(60_000)
            try await world.fan("fan-1", says: "有券吗", id: "m-4")
            await world.flywheel.outbox.drain()
            for pushed in try await pushes.take(3) { try await world.deliver(pushed) }
            fan = try #require(try await world.store.fan(of: world.account, openId: "fan-1"))
            #expect(fan.counters.couponsClaimed == 1)
        }
    }
}

@Suite struct LeadTests {
    @Test(arguments: StoreKind.allCases) func aCardInTheFanGroupBecomesALeadThatIsWorkedAndCounted(_ kind: StoreKind) async throws {
        let clock = TestClock()
        let api = SandboxAPI(apps: [.init(clientKey: DeskWorld.clientKey, clientSecret: DeskWorld.secret, accountOpenIds: [DeskWorld.accountOpenId])],
                             now: { clock.now })
        try await withSandbox(api) { platform, _ in
            let world = try await DeskWorld(kind, clock: clock, api: api, platform: platform)
            let leads = Leads(world.flywheel)
            let tenant = world.account.tenantId
            // The platform pushes the card as a group message carrying it.
            var sandbox = Sandbox(clientKey: DeskWorld.clientKey, clientSecret: DeskWorld.secret, accountOpenIds: [DeskWorld.accountOpenId], duplicateRate: 0,
                                  reorderRate: 0, seed: 1)
            for (i, phone) in ["138 0013 8000", "+8613800138000", "139-0000-0000"].enumerated() {
                let card = FanEvent(id: "card-\(i)", kind: .leadSubmitted, openId: "fan-\(i)", occurredAt: clock.now, channel: .group, ref: "card-1",
                                    attributes: ["name": "客户\(i)", "phone": phone, "city": "毕节"])
                for case .delivery(let d) in sandbox.outputs([WorldEvent(account: 0, event: card)]) { try await world.deliver(d) }
                clock.advance(1_000)
            }
            let listed = try await leads.list(in: tenant, filter: LeadFilter(), cursor: nil, limit: 10, by: world.owner).items
            #expect(listed.map(\.phone) == ["13900000000", "13800138000"], "the same phone twice is one lead")
            #expect(listed.last?.submissions == 2 && listed.allSatisfy { $0.channel == .group && $0.city == "毕节" })

            // Called back after 20 minutes, then won with the car's price; the other lost.
            clock.advance(20 * 60_000 - 3_000)
            let first = try #require(listed.last), second = try #require(listed.first)
            _ = try await leads.change(first.id, in: tenant, stage: .contacted, lostReason: nil, wonValue: nil, assignee: .some(world.owner.userId), by: world.owner)
            _ = try await leads.followUp(first.id, in: tenant, dueAt: clock.now + 3_600_000, note: "到店试驾", by: world.owner)
            let won = try await leads.change(first.id, in: tenant, stage: .won, lostReason: nil, wonValue: 12_800_000, assignee: nil, by: world.owner)
            #expect(won.stage == .won && won.wonValue == 12_800_000 && won.assignee == world.owner.userId)
            do {
                _ = try await leads.change(second.id, in: tenant, stage: .lost, lostReason: nil, wonValue: nil, assignee: nil, by: world.owner)
                Issue.record("a lead was lost without a reason")
            } catch UseCaseError.invalid(let field, _) {
                #expect(field == "lostReason")
            }
            _ = try await leads.change(second.id, in: tenant, stage: .lost, lostReason: "买了别家", wonValue: nil, assignee: nil, by: world.owner)
            clock.advance(2 * 3_600_000)
            #expect(try await leads.followUps(in: tenant, dueBefore: clock.now, mine: false, limit: 10, by: world.owner).map(\.note) == ["到店试驾"])

            let report = try await leads.report(in: tenant, days: 30, by: world.owner)
            #expect(report.count == 1)
            let row = try #require(report.first)
            #expect(row.leads == 2 && row.won == 1 && row.lost == 1 && row.wonValue == 12_800_000 && row.conversion == 0.5)
            // Contacted 20 minutes after the first card, and (lost) 20 minutes less 2 seconds after the second: the lower middle.
            #expect(row.channel == .group && row.accountId == world.account.id && abs((row.medianMinutesToContact ?? 0) - (20 - 2.0 / 60)) < 0.001)
            let detail = try await leads.read(first.id, in: tenant, by: world.owner)
            #expect(detail.activity.map(\.kind) == ["stage", "assigned", "stage", "submitted", "submitted"])
            #expect(detail.followUps.map(\.note) == ["到店试驾"])
        }
    }
}
