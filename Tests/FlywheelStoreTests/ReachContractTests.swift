import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// The reach context, method by method, on both stores.
@Suite struct ReachContractTests {
    let t0: Int64 = 1_767_225_600_000  // 2026-01-01T00:00Z, 08:00 in Shanghai

    func audit(_ f: StoreFixture, _ action: String) -> AuditEntry { f.env.audit(tenantId: f.account.tenantId, actor: "test", action: action, target: "x") }

    @Test(arguments: StoreKind.allCases)
    func postsKeepTheQuotaAndCountWhatFollowedTheirTouches(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let calendar = f.account.calendar
        func post(_ id: String, day: Int) -> Post {
            Post(id: id, accountId: f.account.id, title: id, body: "", format: .text, mediaRef: nil, tool: PostTool(kind: .coupon, ref: "act-1"), segmentId: nil,
                 scheduledAt: calendar.startOfDay(day) + 3_600_000, day: day, state: .scheduled, createdBy: "test", createdAt: t0)
        }
        let today = calendar.day(ofMillis: t0)
        try await f.store.createPost(post("p1", day: today), of: f.account, audit: audit(f, "post.create"))
        // The store keeps the quota itself: a second post that day, or a ninth that month, is refused.
        await #expect(throws: StoreError.conflict(field: "scheduledAt", "the account already has a post that day")) {
            try await f.store.createPost(post("p1b", day: today), of: f.account, audit: audit(f, "post.create"))
        }
        for i in 1...7 { try await f.store.createPost(post("p\(i + 1)", day: today + i), of: f.account, audit: audit(f, "post.create")) }
        await #expect(throws: StoreError.self) { try await f.store.createPost(post("p9", day: today + 20), of: f.account, audit: audit(f, "post.create")) }
        #expect(try await f.store.quotaDays(of: f.account, in: today...(today + 30)).sorted() == Array(today...(today + 7)))

        // Due, started: its touches, and its push in the outbox, in one go; started twice, refused.
        let due = try await f.store.duePosts(now: t0 + 3_600_000, limit: 10)
        #expect(due.map(\.post.id) == ["p1"] && due.first?.tenantId == f.account.tenantId)
        var started = try #require(try await f.store.post(id: "p1", of: f.account))
        started.state = .publishing
        started.recipients = 2
        started.heldBack = 1
        let push = OutboxMessage(tenantId: f.account.tenantId, id: "out-p1", idempotencyKey: "post:p1", accountId: f.account.id, openId: "", replyTo: nil,
                                 replyBy: nil, content: .text("p1"), messageId: "", createdAt: t0, action: .publishPost, target: "p1")
        let fanout = TouchFanout(touchpoint: .post, ref: "p1", at: t0 + 3_600_000, reached: ["fan-a", "fan-b"], heldBack: ["fan-c"], heldOut: ["fan-d"])
        try await f.store.startPost(started, readVersion: 0, of: f.account, fanout: fanout, outbox: push)
        await #expect(throws: StoreError.refused(.changedMeanwhile)) {
            try await f.store.startPost(started, readVersion: 0, of: f.account, fanout: fanout, outbox: push)
        }
        #expect(try await f.store.postRecipients(postId: "p1", of: f.account) == ["fan-a", "fan-b"])
        // Its experiment: the reached fans treated, the held-out one on the holdout; none bought yet.
        let arms = try await f.store.campaignExperimentFans(.post, id: "p1", of: f.account, window: 7 * 86_400_000)
        #expect(arms.map(\.arm).sorted { $0.rawValue < $1.rawValue } == [.holdout, .treated, .treated] && arms.allSatisfy { $0.orders == 0 && $0.gmv == 0 })
        #expect(try await f.store.recentTouches(of: f.account, openId: nil, now: t0 + 4_000_000) == ["fan-a": RecentTouches(lastDay: 1, lastWeek: 1),
                                                                                                       "fan-b": RecentTouches(lastDay: 1, lastWeek: 1)])
        #expect(try await f.store.heldBackTouches(of: f.account, since: t0) == [.post: 1])

        // The outbox's outcome publishes the post.
        var claimed = try #require(try await f.store.claimOutbox(now: t0 + 3_600_000, limit: 10).first)
        claimed.state = .sent
        claimed.sentAt = t0 + 3_700_000
        try await f.store.finishOutbox([claimed])
        let published = try #require(try await f.store.post(id: "p1", of: f.account))
        #expect(published.state == .published && published.publishedAt == t0 + 3_700_000)

        // What the fans did next, through the projector: fan-a opened, clicked and bought; fan-b unfollowed; fan-c (held back) bought too, uncounted.
        let events = [FanEvent(id: "o", kind: .postOpened, openId: "fan-a", occurredAt: t0 + 3_800_000, channel: .subscription, ref: "p1"),
                      FanEvent(id: "c", kind: .postClicked, openId: "fan-a", occurredAt: t0 + 3_900_000, channel: .subscription, ref: "p1"),
                      FanEvent(id: "b", kind: .orderPaid, openId: "fan-a", occurredAt: t0 + 4_000_000, channel: .subscription, amount: 9_900, ref: "o1"),
                      // A second order of the same fan in the same batch counts too.
                      FanEvent(id: "b2", kind: .orderPaid, openId: "fan-a", occurredAt: t0 + 4_100_000, channel: .subscription, amount: 100, ref: "o4"),
                      FanEvent(id: "u", kind: .unfollow, openId: "fan-b", occurredAt: t0 + 5_000_000, channel: .unknown),
                      FanEvent(id: "x", kind: .orderPaid, openId: "fan-c", occurredAt: t0 + 4_000_000, channel: .subscription, amount: 100, ref: "o2"),
                      // Long after the window, an order is no conversion of the post.
                      FanEvent(id: "late", kind: .orderPaid, openId: "fan-b", occurredAt: t0 + 4 * 86_400_000, channel: .subscription, amount: 100, ref: "o3")]
        _ = try await f.store.append(f.events(events)) { _ in }
        await Projector(f.env, batchSize: 100).drain()
        var expected = PostStats()
        (expected.delivered, expected.heldBack, expected.opened, expected.clicked, expected.converted, expected.conversionValue, expected.unfollowed) = (2, 1, 1, 1, 1, 10_000, 1)
        #expect(try await f.store.postStats(of: f.account, postIds: ["p1", "p2"]) == ["p1": expected])

        // Cancelled by its version; a stale version is refused.
        var second = try #require(try await f.store.post(id: "p2", of: f.account))
        second.state = .cancelled
        try await f.store.setPostState(second, readVersion: second.version, of: f.account, audit: audit(f, "post.cancel"))
        await #expect(throws: StoreError.refused(.changedMeanwhile)) {
            try await f.store.setPostState(second, readVersion: 0, of: f.account, audit: audit(f, "post.cancel"))
        }
        #expect(try await f.store.posts(of: f.account, limit: 3).map(\.id) == ["p8", "p7", "p6"])
        #expect(!(try await f.store.quotaDays(of: f.account, in: today...(today + 30)).contains(today + 1)), "a cancelled post frees its day")

        try await f.store.setTouchBudget(TouchBudget(perDay: 1, perWeek: 3), of: f.account, audit: audit(f, "budget"))
        #expect(try await f.store.touchBudget(of: f.account) == TouchBudget(perDay: 1, perWeek: 3))
    }

    @Test(arguments: StoreKind.allCases)
    func groupsTakeApplicationsOnceAndCountTheirMembers(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let tenantId = f.account.tenantId
        let group = FanGroup(id: "grp-1", accountId: f.account.id, name: "真爱粉群", description: "", threshold: "likes >= 1", welcome: "欢迎",
                             admins: ["staff-1", "staff-2"], liveReminder: true, shareNewWorks: false, createdAt: t0)
        let create = OutboxMessage(tenantId: tenantId, id: "out-g", idempotencyKey: "group:grp-1", accountId: f.account.id, openId: "", replyTo: nil, replyBy: nil,
                                   content: .text("真爱粉群"), messageId: "", createdAt: t0, action: .createGroup, target: "grp-1")
        try await f.store.createGroup(group, outbox: create, audit: audit(f, "group.create"))
        #expect(try await f.store.groups(of: f.account) == [group])
        // Created on the platform: the group is active with its id and number, and its greeting is queued.
        var claimed = try #require(try await f.store.claimOutbox(now: t0, limit: 10).first)
        (claimed.state, claimed.platformId, claimed.result, claimed.sentAt) = (.sent, "pg-1", "80000001", t0 + 1)
        try await f.store.finishOutbox([claimed])
        var active = try #require(try await f.store.group(id: "grp-1", of: f.account))
        #expect(active.state == .active && active.platformGroupId == "pg-1" && active.groupNumber == "80000001" && active.version == 1)
        let greeting = try await f.store.claimOutbox(now: t0 + 1, limit: 10)
        #expect(greeting.map(\.action) == [.groupGreeting] && greeting.first?.target == "pg-1" && greeting.first?.content == .text("欢迎"))

        active.admins = (1...10).map { "staff-\($0)" }
        try await f.store.updateGroup(active, readVersion: active.version, outbox: nil, tenantId: tenantId, audit: audit(f, "group.change"))
        await #expect(throws: StoreError.refused(.changedMeanwhile)) {
            try await f.store.updateGroup(active, readVersion: active.version, outbox: nil, tenantId: tenantId, audit: audit(f, "group.change"))
        }
        #expect(try await f.store.group(id: "grp-1", of: f.account)?.admins.count == 10)

        // Applications, joins, leaves and messages through the projector.
        let events = [FanEvent(id: "l", kind: .like, openId: "fan-a", occurredAt: t0, channel: .unknown),
                      FanEvent(id: "a1", kind: .groupApplied, openId: "fan-a", occurredAt: t0 + 1, channel: .group, ref: "pg-1", attributes: ["apply_id": "ap-1"]),
                      FanEvent(id: "a2", kind: .groupApplied, openId: "fan-b", occurredAt: t0 + 2, channel: .group, ref: "pg-1", attributes: ["apply_id": "ap-2"]),
                      FanEvent(id: "j1", kind: .groupJoin, openId: "fan-a", occurredAt: t0 + 10, channel: .group, ref: "pg-1"),
                      FanEvent(id: "j2", kind: .groupJoin, openId: "fan-c", occurredAt: t0 + 11, channel: .group, ref: "pg-1"),
                      FanEvent(id: "m1", kind: .groupMessage, openId: "fan-a", occurredAt: t0 + 12, channel: .group, ref: "pg-1"),
                      FanEvent(id: "m2", kind: .groupMessage, openId: "fan-a", occurredAt: t0 + 13, channel: .group, ref: "pg-1"),
                      FanEvent(id: "x1", kind: .groupLeave, openId: "fan-c", occurredAt: t0 + 86_400_000, channel: .group, ref: "pg-1"),
                      FanEvent(id: "o1", kind: .orderPaid, openId: "fan-a", occurredAt: t0 + 20, channel: .group, amount: 100, ref: "o1"),
                      FanEvent(id: "o2", kind: .orderPaid, openId: "fan-a", occurredAt: t0 + 21, channel: .group, amount: 100, ref: "o2"),
                      FanEvent(id: "o3", kind: .orderPaid, openId: "fan-d", occurredAt: t0 + 22, channel: .dm, amount: 100, ref: "o3")]
        _ = try await f.store.append(f.events(events)) { _ in }
        await Projector(f.env, batchSize: 4).drain()
        let pending = try await f.store.pendingApplications(limit: 10)
        #expect(pending.map(\.application.applyId) == ["ap-1", "ap-2"] && pending.allSatisfy { $0.tenantId == tenantId })
        var approve = pending[0].application
        (approve.state, approve.reason, approve.decidedAt) = (.approved, "meets likes >= 1", t0 + 100)
        let decision = OutboxMessage(tenantId: tenantId, id: "out-ap-1", idempotencyKey: "join:ap-1", accountId: f.account.id, openId: "", replyTo: nil, replyBy: nil,
                                     content: .text("meets likes >= 1"), messageId: "", createdAt: t0 + 100, action: .approveJoin, target: "ap-1")
        try await f.store.decideApplications([(approve, decision)], tenantId: tenantId)
        // Decided again (another worker), nothing changes and nothing more is queued.
        var again = approve
        again.state = .rejected
        try await f.store.decideApplications([(again, decision)], tenantId: tenantId)
        let listed = try await f.store.applications(platformGroupId: "pg-1", of: f.account, limit: 10)
        #expect(listed.map(\.applyId) == ["ap-2", "ap-1"] && listed.last?.state == .approved && listed.first?.state == .pending)
        #expect(try await f.store.pendingApplications(limit: 10).map(\.application.applyId) == ["ap-2"])

        #expect(try await f.store.groupMembers(platformGroupId: "pg-1", of: f.account) == ["fan-a"])
        let today = f.account.calendar.day(ofMillis: t0)
        let stats = try await f.store.groupStats(platformGroupId: "pg-1", of: f.account, days: today...(today + 1), now: t0 + 86_400_000)
        #expect(stats.members == 1 && stats.activeMembers == 1)
        #expect(stats.days.map(\.members) == [2, 1] && stats.days.map(\.joins) == [2, 0] && stats.days.map(\.leaves) == [0, 1] && stats.days[0].messages == 2)
        #expect(stats.buyingMembers == 1 && stats.repeatMembers == 1 && stats.buyingOthers == 1 && stats.repeatOthers == 0)

        // A group send with its touches.
        let send = OutboxMessage(tenantId: tenantId, id: "out-s", idempotencyKey: "group_send:1", accountId: f.account.id, openId: "", replyTo: nil, replyBy: nil,
                                 content: .text("今晚直播"), messageId: "", createdAt: t0 + 200, action: .groupMessage, target: "pg-1")
        try await f.store.sendToGroup(send, fanout: TouchFanout(touchpoint: .groupMessage, ref: "group_send:1", at: t0 + 200, reached: ["fan-a"], heldBack: []),
                                      audit: audit(f, "group.send"))
        #expect(try await f.store.recentTouches(of: f.account, openId: "fan-a", now: t0 + 300)["fan-a"]?.lastDay == 1)
    }

    @Test(arguments: StoreKind.allCases)
    func livesArePlannedOnceRemindedOnceAndReadByAudience(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let tenantId = f.account.tenantId
        let schedule = LiveSchedule(id: "s1", accountId: f.account.id, title: "酒厂直播", weekdays: Array(1...7), times: [8 * 60, 19 * 60], durationMinutes: 120,
                                    reminderMinutes: 30, createdAt: t0)
        let lives = Reach.lives(of: schedule, in: f.account, from: t0)
        try await f.store.createLives(lives, schedule: schedule, tenantId: tenantId, audit: audit(f, "live.create"))
        // Planned again (the worker tops up), nothing is duplicated.
        try await f.store.createLives(lives, schedule: nil, tenantId: tenantId, audit: nil)
        #expect(try await f.store.liveSchedules(of: f.account) == [schedule])
        #expect(try await f.store.allLiveSchedules().map(\.schedule) == [schedule])
        let evening = lives[0]
        #expect(try await f.store.lives(of: f.account, from: t0, to: t0 + 86_400_000 + 1).map(\.id) == [evening.id, lives[1].id])
        #expect(try await f.store.live(id: evening.id, of: f.account) == evening)

        #expect(try await f.store.livesToRemind(now: evening.remindAt - 1, limit: 10).isEmpty)
        let due = try await f.store.livesToRemind(now: evening.remindAt, limit: 10)
        #expect(due.map(\.live.id) == [evening.id])
        let booking = FanEvent(id: "b1", kind: .liveBooked, openId: "fan-a", occurredAt: t0, channel: .liveFeed, ref: evening.id)
        _ = try await f.store.append(f.events([booking])) { _ in }
        await Projector(f.env, batchSize: 10).drain()
        #expect(try await f.store.liveBookers(liveId: evening.id, of: f.account) == ["fan-a"])
        let message = DeskMessage(accountId: f.account.id, openId: "fan-a", id: "fw:remind", at: evening.remindAt, author: .auto, authorId: "live:\(evening.id)",
                                  messageType: "text", text: "直播预告", status: .queued)
        let dm = OutboxMessage(tenantId: tenantId, id: "out-r", idempotencyKey: "remind:\(evening.id):fan-a", accountId: f.account.id, openId: "fan-a", replyTo: nil,
                               replyBy: nil, content: .text("直播预告"), messageId: "fw:remind", createdAt: evening.remindAt)
        let reminders = TouchFanout(touchpoint: .reminder, ref: evening.id, at: evening.remindAt, reached: ["fan-a"], heldBack: ["fan-b"])
        try await f.store.remindLive(evening, tenantId: tenantId, at: evening.remindAt, messages: [message], outbox: [dm], fanouts: [reminders], audit: nil)
        await #expect(throws: StoreError.refused(.changedMeanwhile)) {
            try await f.store.remindLive(evening, tenantId: tenantId, at: evening.remindAt, messages: [message], outbox: [dm], fanouts: [reminders], audit: nil)
        }
        #expect(try await f.store.livesToRemind(now: evening.remindAt, limit: 10).isEmpty)
        #expect(try await f.store.deskMessage(id: "fw:remind", of: f.account)?.text == "直播预告")

        let watch = [FanEvent(id: "f", kind: .follow, openId: "fan-a", occurredAt: t0 - 86_400_000, channel: .search),
                     FanEvent(id: "w1", kind: .liveWatch, openId: "fan-a", occurredAt: evening.startsAt + 60_000, channel: .liveFeed, amount: 50),
                     FanEvent(id: "w2", kind: .liveWatch, openId: "fan-z", occurredAt: evening.startsAt + 3_700_000, channel: .liveSquare, amount: 10),
                     FanEvent(id: "g1", kind: .liveGift, openId: "fan-a", occurredAt: evening.startsAt + 70_000, channel: .liveFeed, amount: 500),
                     FanEvent(id: "o1", kind: .orderPaid, openId: "fan-a", occurredAt: evening.startsAt + 80_000, channel: .liveFeed, amount: 20_000, ref: "o1"),
                     // An order in the feed at another hour is not this live's.
                     FanEvent(id: "o2", kind: .orderPaid, openId: "fan-z", occurredAt: evening.endsAt + 3_600_000, channel: .liveFeed, amount: 5_000, ref: "o2")]
        _ = try await f.store.append(f.events(watch)) { _ in }
        await Projector(f.env, batchSize: 10).drain()
        let stats = try await f.store.liveStats(evening, of: f.account)
        #expect(stats.bookings == 1 && stats.remindersSent == 1 && stats.remindersHeld == 1)
        #expect(stats.audiences[.oldFan]?.viewers == 1 && stats.audiences[.oldFan]?.minutes == 50 && stats.audiences[.oldFan]?.gifts == 500)
        #expect(stats.audiences[.nonFan]?.viewers == 1 && stats.gmv == 20_000 && stats.fanShareOfGMV == 1)

        try await f.store.cancelLive(id: lives[1].id, of: f.account, audit: audit(f, "live.cancel"))
        #expect(try await f.store.live(id: lives[1].id, of: f.account)?.cancelled == true)
        #expect(try await f.store.livesToRemind(now: lives[1].remindAt, limit: 10).isEmpty, "a cancelled live is not reminded")

        // The homepage: ticked items, and visits by channel and domain.
        try await f.store.setHomepageItems([.enterpriseInfo: true, .consultEntry: false], of: f.account, at: t0, audit: audit(f, "homepage"))
        #expect(try await f.store.homepageItems(of: f.account) == [.enterpriseInfo: true, .consultEntry: false])
        let visits = [FanEvent(id: "v1", kind: .homepageVisit, openId: "fan-a", occurredAt: t0, channel: .search),
                      FanEvent(id: "v2", kind: .homepageVisit, openId: "fan-z", occurredAt: t0 + 1, channel: .search),
                      FanEvent(id: "v3", kind: .homepageVisit, openId: "fan-z", occurredAt: t0 + 2, channel: .douPlus)]
        _ = try await f.store.append(f.events(visits)) { _ in }
        await Projector(f.env, batchSize: 10).drain()
        let today = f.account.calendar.day(ofMillis: t0)
        let rows = try await f.store.homepageVisits(of: f.account, days: today...today)
        #expect(rows.map(\.channel) == [.search, .douPlus] && rows.map(\.visits) == [2, 1] && rows.last?.domain == .commercial)
    }
}
