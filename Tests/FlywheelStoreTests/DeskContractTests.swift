import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// The desk context, method by method, on both stores.
@Suite struct DeskContractTests {
    func audit(_ f: StoreFixture, _ action: String) -> AuditEntry {
        f.env.audit(tenantId: f.account.tenantId, actor: "test", action: action, target: f.account.id)
    }

    @Test(arguments: StoreKind.allCases)
    func settingsRulesAgentsAndCannedReplies(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let tenantId = f.account.tenantId
        #expect(try await f.store.deskSettings(of: f.account) == .standard)
        let hours = DeskSettings(firstResponseMinutes: 15, nextResponseMinutes: 60, businessHours: BusinessHours(days: [1, 2, 3, 4, 5], start: 540, end: 1_080),
                                 assignment: .leastLoaded)
        try await f.store.setDeskSettings(hours, of: f.account, audit: audit(f, "desk.settings"))
        #expect(try await f.store.deskSettings(of: f.account) == hours)
        #expect(try await f.store.lastAssignee(of: f.account) == nil)

        let rule = AutoReplyRule(id: "ar_1", accountId: f.account.id, name: "price", trigger: .regex("价格|多少钱"), priority: 3, hours: .business,
                                 reply: .coupon(activityId: "act-1", couponMetaId: "meta-1"), enabled: true, createdAt: 10)
        try await f.store.createAutoReplyRule(rule, of: f.account, audit: audit(f, "auto_reply.create"))
        #expect(try await f.store.autoReplyRules(of: f.account) == [rule])
        try await f.store.deleteAutoReplyRule(id: "ar_1", of: f.account, audit: audit(f, "auto_reply.delete"))
        #expect(try await f.store.autoReplyRules(of: f.account).isEmpty)
        await #expect(throws: StoreError.notFound("automatic reply ar_1")) {
            try await f.store.deleteAutoReplyRule(id: "ar_1", of: f.account, audit: audit(f, "auto_reply.delete"))
        }

        let owner = try #require(try await f.store.users(tenantId: tenantId).first)
        try await f.store.setAgent(Agent(userId: owner.id, name: owner.name, capacity: 3, accountIds: [f.account.id], available: true), tenantId: tenantId,
                                   audit: audit(f, "agent.set"))
        #expect(try await f.store.agents(tenantId: tenantId).map(\.accountIds) == [[f.account.id]])
        await #expect(throws: StoreError.self) {
            try await f.store.setAgent(Agent(userId: "usr_nobody", name: "", capacity: 1, accountIds: [], available: true), tenantId: tenantId,
                                       audit: audit(f, "agent.set"))
        }
        #expect(try await f.store.agentLoads(tenantId: tenantId).isEmpty)
        try await f.store.removeAgent(userId: owner.id, tenantId: tenantId, audit: audit(f, "agent.remove"))
        #expect(try await f.store.agents(tenantId: tenantId).isEmpty)

        try await f.store.createCannedReply(CannedReply(id: "cr_1", title: "到店", text: "欢迎到店试驾", createdAt: 1), tenantId: tenantId, audit: audit(f, "canned.create"))
        #expect(try await f.store.cannedReplies(tenantId: tenantId).map(\.text) == ["欢迎到店试驾"])
        try await f.store.deleteCannedReply(id: "cr_1", tenantId: tenantId, audit: audit(f, "canned.delete"))
        #expect(try await f.store.cannedReplies(tenantId: tenantId).isEmpty)
    }

    /// 301 messages: a statement of 200 rows and the rest in powers of two on SQLite, one of
    /// arrays on PostgreSQL; whatever a fan types comes back as typed, a message without text as none.
    @Test(arguments: StoreKind.allCases)
    func everyTextAFanTypesSurvivesTheManyRowInsert(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let t0: Int64 = 1_772_294_400_000
        let texts: [String?] = [#"say "hi""#, #"back\slash \"#, "{1,2}", "NULL", "line\nbreak\ttab", "价格多少？🚗", "", "\u{01}ctl", nil, "a,b\"c}"]
        let events = (0..<301).map { i in
            var attributes = ["message_id": "pm-\(i)"]
            if let text = texts[i % texts.count] { attributes["text"] = text } else { attributes["message_type"] = "image" }
            return FanEvent(id: "m-\(i)", kind: .dmReceived, openId: "fan-\(i % 7)", occurredAt: t0 + Int64(i), channel: .dm, attributes: attributes)
        }
        _ = try await f.store.append(f.events(events)) { _ in }
        await Projector(f.env, batchSize: 1_000).drain()
        let pending = try await f.store.pendingDeskMessages(of: f.account, limit: 1_000)
        #expect(pending.count == 301)
        let byId = Dictionary(uniqueKeysWithValues: pending.map { ($0.message.id, $0.message) })
        for i in 0..<301 {
            #expect(byId["m-\(i)"]?.text == texts[i % texts.count], "message m-\(i)")
            #expect(byId["m-\(i)"]?.platformId == "pm-\(i)")
        }
        #expect(byId["m-8"]?.messageType == "image")
    }

    @Test(arguments: StoreKind.allCases)
    func threadsComeFromTheLogAndDecisionsCommitWhole(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let t0: Int64 = 1_772_294_400_000
        _ = try await f.store.append(f.events([
            FanEvent(id: "m-1", kind: .dmReceived, openId: "fan-1", occurredAt: t0, channel: .dm, attributes: ["text": "在吗", "message_id": "pm-1"]),
            FanEvent(id: "m-2", kind: .dmSent, openId: "fan-1", occurredAt: t0 + 1_000, channel: .dm, attributes: ["text": "在的", "sent_by": "app"]),
            FanEvent(id: "v-1", kind: .videoView, openId: "fan-2", occurredAt: t0, channel: .recommendFeed),
        ])) { _ in }
        await Projector(f.env, batchSize: 100).drain()
        #expect(try await f.store.accountsWithDeskWork(now: t0).map(\.id) == [f.account.id])
        let pending = try await f.store.pendingDeskMessages(of: f.account, limit: 10)
        #expect(pending.map(\.message.id) == ["m-1", "m-2"] && pending.map(\.message.author) == [.fan, .app])
        #expect(pending.first?.message.platformId == "pm-1" && pending.first?.message.text == "在吗")

        // A decision: the conversation, an answer queued with its outbox entry, the pending messages handled.
        var c = Conversation(accountId: f.account.id, openId: "fan-1", at: t0)
        c.state = .queued
        c.waitingSince = t0
        c.dueAt = t0 + 60_000
        c.replyTo = "pm-1"
        c.lastFanMessageAt = t0
        var change = DeskChange(accountId: f.account.id)
        change.conversations = [(c, nil)]
        change.handled = pending.map { ($0.seq, $0.message.id) }
        let answer = DeskMessage(accountId: f.account.id, openId: "fan-1", id: "fw:k1", at: t0 + 2_000, author: .agent, authorId: "usr_1", messageType: "text",
                                 text: "您好", status: .queued)
        change.messages = [answer]
        change.outbox = [OutboxMessage(tenantId: f.account.tenantId, id: "out_1", idempotencyKey: "k1", accountId: f.account.id, openId: "fan-1", replyTo: "pm-1",
                                       replyBy: t0 + Conversation.replyWindow, content: .text("您好"), messageId: "fw:k1", createdAt: t0 + 2_000)]
        change.events = [DeskEvent(accountId: f.account.id, openId: "fan-1", at: t0, kind: .queued)]
        try await f.store.commitDesk(change, tenantId: f.account.tenantId)
        await #expect(throws: StoreError.refused(.changedMeanwhile), "the same pending messages are handled once") {
            try await f.store.commitDesk(change, tenantId: f.account.tenantId)
        }
        #expect(try await f.store.pendingDeskMessages(of: f.account, limit: 10).isEmpty)
        let stored = try #require(try await f.store.conversation(of: f.account, openId: "fan-1"))
        #expect(stored.state == .queued && stored.version == 0 && stored.dueAt == t0 + 60_000)
        #expect(try await f.store.conversations(of: f.account, openIds: ["fan-1", "fan-9"]).keys.sorted() == ["fan-1"])
        #expect(try await f.store.queuedConversations(of: f.account, limit: 10).map(\.openId) == ["fan-1"])
        #expect(try await f.store.overdueConversations(of: f.account, now: t0 + 59_999, limit: 10).isEmpty)
        #expect(try await f.store.overdueConversations(of: f.account, now: t0 + 60_000, limit: 10).map(\.openId) == ["fan-1"])
        #expect(try await f.store.deskEvents(of: f.account, openId: "fan-1", limit: 10).map(\.kind) == [.queued])
        #expect(try await f.store.deskMessage(id: "fw:k1", of: f.account)?.text == "您好")
        #expect(try await f.store.deskMessage(id: "fw:nothing", of: f.account) == nil)
        let thread = try await f.store.messages(of: f.account, openId: "fan-1", cursor: nil, limit: 2)
        #expect(thread.items.map(\.id) == ["m-2", "fw:k1"] && thread.nextCursor != nil)
        #expect(try await f.store.messages(of: f.account, openId: "fan-1", cursor: thread.nextCursor, limit: 2).items.map(\.id) == ["m-1"])

        // A change made on an older read is refused whole.
        var stale = DeskChange(accountId: f.account.id)
        var moved = stored
        moved.state = .resolved
        stale.conversations = [(moved, 7)]
        stale.events = [DeskEvent(accountId: f.account.id, openId: "fan-1", at: t0, kind: .resolved)]
        await #expect(throws: StoreError.refused(.changedMeanwhile)) { try await f.store.commitDesk(stale, tenantId: f.account.tenantId) }
        #expect(try await f.store.deskEvents(of: f.account, openId: "fan-1", limit: 10).count == 1)

        // Lists with filters, newest first.
        var filter = ConversationFilter(now: t0 + 120_000)
        filter.states = [.queued]
        filter.waitingAtLeast = 60_000
        filter.search = "您好"
        let listed = try await f.store.conversations(of: [f.account], filter: filter, cursor: nil, limit: 10)
        #expect(listed.items.map(\.conversation.openId) == ["fan-1"] && listed.items.first?.lastText == "您好")
        filter.waitingAtLeast = 180_000
        #expect(try await f.store.conversations(of: [f.account], filter: filter, cursor: nil, limit: 10).items.isEmpty)

        // The outbox: claimed once, in doubt after its lease, finished with the thread's message.
        #expect(try await f.store.claimOutbox(now: t0 + 1_000, limit: 10).isEmpty, "not due before it was decided")
        let claimed = try await f.store.claimOutbox(now: t0 + 3_000, limit: 10)
        #expect(claimed.map(\.id) == ["out_1"] && claimed.first?.attempts == 1 && claimed.first?.state == .sending)
        #expect(try await f.store.claimOutbox(now: t0 + 3_000, limit: 10).isEmpty, "claimed once")
        #expect(try await f.store.inDoubtOutbox(before: t0 + 3_001, limit: 10).map(\.id) == ["out_1"])
        #expect(try await f.store.unconfirmedOutbox(of: f.account, openIds: ["fan-1", "fan-2"]).mapValues { $0.map(\.id) } == ["fan-1": ["out_1"]])
        var done = try #require(claimed.first)
        done.state = .sent
        done.platformId = "p-1"
        done.sentAt = t0 + 3_500
        try await f.store.finishOutbox([done])
        var late = done
        late.state = .failed
        late.lastError = "too late"
        try await f.store.finishOutbox([late])
        #expect(try await f.store.outboxCounts() == [.sent: 1], "a message no longer sending keeps its outcome")
        let answered = try await f.store.messages(of: f.account, openId: "fan-1", cursor: nil, limit: 10).items.last
        #expect(answered?.platformId == "p-1" && answered?.status == .sent && answered?.error == nil)
        var confirm = DeskChange(accountId: f.account.id)
        confirm.confirmed = [("out_1", "p-1", t0 + 4_000)]
        try await f.store.commitDesk(confirm, tenantId: f.account.tenantId)
        #expect(try await f.store.unconfirmedOutbox(of: f.account, openIds: ["fan-1"]).isEmpty)

        // Proactive messages (no message answered) are counted for the platform's three a day.
        #expect(try await f.store.proactiveMessages(of: f.account, openId: "fan-1", since: t0) == 0)
        var proactive = DeskChange(accountId: f.account.id)
        proactive.outbox = [OutboxMessage(tenantId: f.account.tenantId, id: "out_2", idempotencyKey: "k2", accountId: f.account.id, openId: "fan-1", replyTo: nil,
                                          replyBy: nil, content: .text("新品"), messageId: "fw:k2", createdAt: t0 + 5_000)]
        try await f.store.commitDesk(proactive, tenantId: f.account.tenantId)
        #expect(try await f.store.proactiveMessages(of: f.account, openId: "fan-1", since: t0) == 1)
        #expect(try await f.store.proactiveMessages(of: f.account, openId: "fan-1", since: t0 + 6_000) == 0)

        // Answers and breaches for the report.
        var counted = DeskChange(accountId: f.account.id)
        counted.responses = [DeskResponse(accountId: f.account.id, openId: "fan-1", answeredAt: t0 + 2_000, by: "usr_1", first: true, waited: 2_000, withinTarget: true)]
        counted.events = [DeskEvent(accountId: f.account.id, openId: "fan-1", at: t0 + 60_000, kind: .slaBreached)]
        try await f.store.commitDesk(counted, tenantId: f.account.tenantId)
        #expect(try await f.store.deskResponses(of: [f.account], from: t0, to: t0 + 3_000).map(\.waited) == [2_000])
        #expect(try await f.store.deskBreaches(of: [f.account], from: t0, to: t0 + 61_000).map(\.at) == [t0 + 60_000])
    }
}
