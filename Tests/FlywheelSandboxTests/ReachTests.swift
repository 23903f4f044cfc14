import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelSandbox
import FlywheelSimulator
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Hummingbird
import Synchronization
import HummingbirdTesting
import Testing

/// Serves the sandbox's open API (posts included) on a loopback port while `body` runs.
func withSandboxPlatform(_ api: SandboxAPI, _ body: @escaping @Sendable (PlatformClient, any TestClientProtocol) async throws -> Void) async throws {
    let router = Router()
    api.add(to: router)
    try await Application(router: router).test(.live) { client in
        try await body(.sandbox(baseURL: "http://localhost:\(try #require(client.port))"), client)
    }
}

extension DeskWorld {
    /// Delivers what the sandbox pushed (fans' reactions, joins) until it has pushed nothing more.
    func deliverPushes(_ pushes: Pushes) async throws {
        while true {
            // Reactions here come at once: two quiet seconds mean there are no more.
            let taken = try await pushes.take(1, within: 2)
            guard !taken.isEmpty else { return }
            for push in taken { try await deliver(push) }
            await flywheel.reach.drain()
            await flywheel.outbox.drain()
        }
    }

    /// Runs the reach worker and the outbox, then delivers what the sandbox pushed back.
    func work(_ pushes: Pushes) async throws {
        await flywheel.reach.drain()
        await flywheel.outbox.drain()
        try await deliverPushes(pushes)
    }

    /// An event the platform has no webhook for (a live watch, an order), as an import brings it.
    func record(_ kind: EventKind, _ openId: String, at: Int64, channel: Channel, amount: Int64 = 0, ref: String? = nil, id: String) async throws {
        _ = try await store.append([AccountEvent(tenantId: account.tenantId, accountId: account.id,
                                                 event: FanEvent(id: id, kind: kind, openId: openId, occurredAt: at, channel: channel, amount: amount, ref: ref))]) { _ in }
        await flywheel.projector.drain()
    }
}

@Suite struct ReachTests {
    static func api(_ clock: TestClock, _ pushes: Pushes) -> SandboxAPI {
        SandboxAPI(apps: [.init(clientKey: DeskWorld.clientKey, clientSecret: DeskWorld.secret, accountOpenIds: [DeskWorld.accountOpenId], reactions: .standard)],
                   now: { clock.now }, callsPerSecond: 10_000, reactAfter: .zero, push: { pushes.add($0) })
    }

    @Test(arguments: StoreKind.allCases) func postsKeepTheQuotaReachSubscribersAndAreMeasured(_ kind: StoreKind) async throws {
        let clock = TestClock(), pushes = Pushes()
        let api = Self.api(clock, pushes)
        try await withSandboxPlatform(api) { platform, _ in
            let world = try await DeskWorld(kind, clock: clock, api: api, platform: platform)
            let posts = Posts(world.flywheel)
            let fans = (1...30).map { "fan-\($0)" }
            for fan in fans { try await world.fan(fan, .follow, id: "follow-\(fan)") }
            // One non-follower, who gets no post.
            try await world.fan("visitor", .like, id: "like-visitor")

            let first = try await posts.create(.init(title: "新品上市", body: "本周新品", format: "text", mediaRef: nil, toolKind: "coupon", toolRef: "act-1",
                                                     segmentId: nil, scheduledAt: nil), of: world.account, by: world.owner)
            #expect(first.automatic && first.post.state == .scheduled)
            try await world.work(pushes)
            var report = try await posts.read(first.post.id, of: world.account, by: world.owner)
            #expect(report.post.state == .published && report.post.recipients == 30 && report.stats.delivered == 30)
            // Opens and clicks as the sandbox's fans made them: some opened, fewer clicked, none who did not open.
            #expect(report.stats.opened > 0 && report.stats.opened < 30 && report.stats.clicked <= report.stats.opened)
            // Only a click claims the post's coupon (about half of them), and nobody ordered: conversions come from the clickers.
            #expect(report.stats.converted <= report.stats.clicked)

            // A second post the same day is refused, naming the next day with room.
            await #expect(throws: UseCaseError.invalid(field: "scheduledAt",
                                                       "the account already has a post on 2026-01-01 (at most 1 a day); the next day with room is 2026-01-02")) {
                _ = try await posts.create(.init(title: "又一条", body: "", format: "text", mediaRef: nil, toolKind: nil, toolRef: nil, segmentId: nil, scheduledAt: nil),
                                           of: world.account, by: world.owner)
            }
            // Five at once for one free day: exactly one is planned.
            let day3 = clock.now + 2 * 86_400_000
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<5 {
                    group.addTask {
                        (try? await posts.create(.init(title: "并发 \(i)", body: "", format: "text", mediaRef: nil, toolKind: nil, toolRef: nil, segmentId: nil,
                                                       scheduledAt: day3), of: world.account, by: world.owner)) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.count { $0 } == 1)
            // Eight a month: days 4 to 9 take six more; the ninth is refused and points to February.
            for day in 3...8 {
                _ = try await posts.create(.init(title: "第 \(day) 天", body: "", format: "text", mediaRef: nil, toolKind: nil, toolRef: nil, segmentId: nil,
                                                 scheduledAt: clock.now + Int64(day) * 86_400_000), of: world.account, by: world.owner)
            }
            await #expect(throws: UseCaseError.invalid(field: "scheduledAt", "the account's 8 posts of that month are used; the next day with room is 2026-02-01")) {
                _ = try await posts.create(.init(title: "第九条", body: "", format: "text", mediaRef: nil, toolKind: nil, toolRef: nil, segmentId: nil,
                                                 scheduledAt: clock.now + 20 * 86_400_000), of: world.account, by: world.owner)
            }
            // A segment of another tenant's account (or none) is no audience.
            await #expect(throws: UseCaseError.self) {
                _ = try await posts.create(.init(title: "别家", body: "", format: "text", mediaRef: nil, toolKind: nil, toolRef: nil, segmentId: "seg_other",
                                                 scheduledAt: clock.now + 40 * 86_400_000), of: world.account, by: world.owner)
            }

            // The budget: one touch a day, two a week. Day 3's post reaches everyone (one touch this week so far);
            // day 4's holds back every fan (two this week), and says so.
            _ = try await posts.setTouchBudget(TouchBudget(perDay: 1, perWeek: 2), of: world.account, by: world.owner)
            clock.advance(2 * 86_400_000)
            try await world.work(pushes)
            clock.advance(86_400_000)
            try await world.work(pushes)
            let list = try await posts.list(of: world.account, limit: 20, by: world.owner)
            let day3Post = try #require(list.first { $0.post.day == world.account.calendar.day(ofMillis: day3) })
            let day4Post = try #require(list.first { $0.post.day == world.account.calendar.day(ofMillis: day3) + 1 })
            #expect(day3Post.post.state == .published && day3Post.stats.delivered == 30 && day3Post.stats.heldBack == 0)
            #expect(day4Post.post.state == .published && day4Post.stats.delivered == 0 && day4Post.stats.heldBack == 30)
            #expect(try await posts.heldBack(of: world.account, days: 7, by: world.owner) == [.post: 30])

            // Cancelled, a post frees its day; published by hand is only for tasks.
            let day5 = try #require(list.first { $0.post.day == world.account.calendar.day(ofMillis: day3) + 2 })
            #expect(try await posts.cancel(day5.post.id, of: world.account, by: world.owner).post.state == .cancelled)
            await #expect(throws: UseCaseError.self) { _ = try await posts.markPublished(first.post.id, of: world.account, by: world.owner) }
            report = try await posts.read(first.post.id, of: world.account, by: world.owner)
            #expect(report.stats.delivered == 30)
        }
    }

    /// A post with a holdout: the held-out part of its audience is not pushed, and the report
    /// compares what the reached and the held-out fans bought in the week after.
    @Test(arguments: StoreKind.allCases) func aPostsHoldoutIsKeptFromItAndMeasured(_ kind: StoreKind) async throws {
        let clock = TestClock(), pushes = Pushes()
        let api = Self.api(clock, pushes)
        try await withSandboxPlatform(api) { platform, _ in
            let world = try await DeskWorld(kind, clock: clock, api: api, platform: platform)
            let posts = Posts(world.flywheel)
            let fans = (1...120).map { "fan-\($0)" }
            for fan in fans { try await world.fan(fan, .follow, id: "follow-\(fan)") }
            await #expect(throws: UseCaseError.invalid(field: "holdoutPercent", "must be 0 to 50")) {
                _ = try await posts.create(.init(title: "新品", body: "", format: "text", mediaRef: nil, toolKind: nil, toolRef: nil, segmentId: nil, scheduledAt: nil,
                                                 holdoutPercent: 60), of: world.account, by: world.owner)
            }
            let made = try await posts.create(.init(title: "新品", body: "", format: "text", mediaRef: nil, toolKind: nil, toolRef: nil, segmentId: nil, scheduledAt: nil,
                                                    holdoutPercent: 25), of: world.account, by: world.owner)
            #expect(made.experiment == nil, "nothing to compare before it goes out")
            try await world.work(pushes)
            let held = fans.filter {
                ExperimentArm.of($0, experiment: made.post.id, holdoutPercent: 25, tenantId: world.account.tenantId, controlPercent: 0) == .holdout
            }
            // About 25 % of 120 (30); the post's id, new each run, draws them: bounds five deviations wide.
            #expect(held.count > 6 && held.count < 54)
            let recipients = try await world.store.postRecipients(postId: made.post.id, of: world.account)
            #expect(Set(recipients) == Set(fans).subtracting(held), "the held-out fans were not pushed")
            // Every third fan buys within the week, reached or not.
            for (i, fan) in fans.enumerated() where i % 3 == 0 {
                try await world.record(.orderPaid, fan, at: clock.now + 86_400_000, channel: .homepage, amount: 9_900, ref: "o-\(fan)", id: "o-\(fan)")
            }
            let report = try #require(try await posts.read(made.post.id, of: world.account, by: world.owner).experiment)
            #expect(report.arms[.treated]?.fans == recipients.count && report.arms[.holdout]?.fans == held.count)
            let heldBuyers = fans.enumerated().filter { $0.offset % 3 == 0 && held.contains($0.element) }.count
            #expect(report.arms[.holdout]?.converted == heldBuyers && report.arms[.treated]?.converted == 40 - heldBuyers)
            // A third buy on both sides: the difference is the two shares' (the held-out fans, drawn by the post's new id, vary run to run).
            let difference = Double(40 - heldBuyers) / Double(recipients.count) - Double(heldBuyers) / Double(held.count)
            #expect(report.windowDays == 7 && abs(report.conversion.difference - difference) < 1e-9)
        }
    }

    /// Where the platform has no API for posts, a due post becomes the operator's task; marked
    /// published, it is measured from then.
    @Test func withoutAnAPIAPostIsTheOperatorsTask() async throws {
        let clock = TestClock(), pushes = Pushes()
        let api = Self.api(clock, pushes)
        try await withSandbox(api) { platform, _ in
            let world = try await DeskWorld(.sqlite, clock: clock, api: api, platform: platform)
            let posts = Posts(world.flywheel)
            try await world.fan("fan-1", .follow, id: "follow-1")
            let post = try await posts.create(.init(title: "门店活动", body: "", format: "image", mediaRef: "img-1", toolKind: nil, toolRef: nil, segmentId: nil,
                                                    scheduledAt: nil), of: world.account, by: world.owner)
            #expect(!post.automatic)
            try await world.work(pushes)
            var read = try await posts.read(post.post.id, of: world.account, by: world.owner)
            #expect(read.post.state == .task && read.post.recipients == 1)
            clock.advance(600_000)
            read = try await posts.markPublished(post.post.id, of: world.account, by: world.owner)
            #expect(read.post.state == .published && read.post.publishedAt == clock.now)
            #expect(api.sent.isEmpty)

            // A post whose segment is deleted before it is due fails, saying why, and does not hold up the others.
            let segments = Segments(world.flywheel)
            let segment = try await segments.create(name: "老粉", predicate: .isTrue(field: "following"), in: world.account, by: world.owner)
            let later = try await posts.create(.init(title: "老粉专享", body: "", format: "text", mediaRef: nil, toolKind: nil, toolRef: nil, segmentId: segment.id,
                                                     scheduledAt: clock.now + 86_400_000), of: world.account, by: world.owner)
            try await segments.delete(segment, of: world.account, by: world.owner)
            clock.advance(86_400_000)
            try await world.work(pushes)
            let failed = try await posts.read(later.post.id, of: world.account, by: world.owner)
            #expect(failed.post.state == .failed && failed.post.error?.contains("was deleted before the post went out") == true)
            #expect(try await world.store.duePosts(now: clock.now, limit: 10).isEmpty)
        }
    }

    /// The sandbox's fans unfollow when touched beyond their tolerance: eight posts in eight days
    /// lose fans; the same eight within a budget of five a week lose none to fatigue.
    @Test func theTouchBudgetKeepsFansWhoTooManyPostsWouldLose() async throws {
        func unfollowed(budget: TouchBudget) async throws -> Int {
            let clock = TestClock(), pushes = Pushes()
            let api = Self.api(clock, pushes)
            let lost = Mutex(0)
            try await withSandboxPlatform(api) { platform, _ in
                let world = try await DeskWorld(.sqlite, clock: clock, api: api, platform: platform)
                let posts = Posts(world.flywheel)
                for i in 1...40 { try await world.fan("fan-\(i)", .follow, id: "follow-\(i)") }
                _ = try await posts.setTouchBudget(budget, of: world.account, by: world.owner)
                for day in 0..<8 {
                    _ = try await posts.create(.init(title: "第 \(day) 天", body: "", format: "text", mediaRef: nil, toolKind: nil, toolRef: nil, segmentId: nil,
                                                     scheduledAt: nil), of: world.account, by: world.owner)
                    try await world.work(pushes)
                    clock.advance(86_400_000)
                }
                let gone = try await world.store.fans(of: world.account, matching: .not(.isTrue(field: "following")), now: clock.now, cursor: nil, limit: 100)
                lost.withLock { $0 = gone.items.count }
            }
            return lost.withLock { $0 }
        }
        let unlimited = try await unfollowed(budget: TouchBudget(perDay: 20, perWeek: 100))
        let budgeted = try await unfollowed(budget: .standard)
        #expect(unlimited > 0)
        #expect(budgeted == 0)
    }

    @Test(arguments: StoreKind.allCases) func groupsAreCreatedAndDecideApplicationsByTheirThreshold(_ kind: StoreKind) async throws {
        let clock = TestClock(), pushes = Pushes()
        let api = Self.api(clock, pushes)
        try await withSandboxPlatform(api) { platform, sandbox in
            let world = try await DeskWorld(kind, clock: clock, api: api, platform: platform)
            let groups = Groups(world.flywheel)
            // A threshold that does not parse, and an eleventh admin, are refused naming the field.
            await #expect(throws: UseCaseError.self) { _ = try await groups.create(.init(name: "真爱粉群", threshold: "level >="), of: world.account, by: world.owner) }
            do {
                _ = try await groups.create(.init(name: "真爱粉群", admins: (1...11).map { "staff-\($0)" }), of: world.account, by: world.owner)
                Issue.record("an eleventh admin was accepted")
            } catch UseCaseError.invalid(let field, let message) {
                #expect(field == "admins" && message.contains("eleventh (staff-11)"))
            }
            let group = try await groups.create(.init(name: "真爱粉群", description: "老粉专属", threshold: "likes >= 3", welcome: "欢迎加入",
                                                      admins: (1...10).map { "staff-\($0)" }), of: world.account, by: world.owner)
            #expect(group.state == .creating)
            try await world.work(pushes)
            let created = try #require(try await world.store.group(id: group.id, of: world.account))
            let groupId = try #require(created.platformGroupId)
            #expect(created.state == .active && created.groupNumber?.hasPrefix("8000") == true && created.admins.count == 10)
            // The greeting followed the group's creation.
            #expect(try await world.store.outboxCounts() == [.sent: 2])

            // A fan with three likes and one with one apply through the group number.
            for i in 1...3 { try await world.fan("fan-keen", .like, id: "like-keen-\(i)") }
            try await world.fan("fan-new", .like, id: "like-new")
            for fan in ["fan-keen", "fan-new", "stranger"] {
                try await sandbox.execute(uri: "/sandbox/group/apply", method: .post, body: ByteBuffer(string: """
                    {"client_key":"\(DeskWorld.clientKey)","account":"\(DeskWorld.accountOpenId)","group_id":"\(groupId)","fan":"\(fan)"}
                    """)) { #expect($0.status == .ok) }
            }
            try await world.deliverPushes(pushes)
            try await world.work(pushes)
            let applications = try await groups.applications(of: group.id, in: world.account, limit: 10, by: world.owner)
            #expect(applications.count == 3)
            let byFan = Dictionary(uniqueKeysWithValues: applications.map { ($0.openId, $0) })
            #expect(byFan["fan-keen"]?.state == .approved && byFan["fan-keen"]?.reason == "meets likes >= 3")
            #expect(byFan["fan-new"]?.state == .rejected && byFan["fan-new"]?.reason?.hasPrefix("does not meet likes >= 3") == true)
            // Applying makes a stranger a potential fan of the account, still short of the threshold.
            #expect(byFan["stranger"]?.state == .rejected && byFan["stranger"]?.reason == "does not meet likes >= 3 (level 0, potential)")
            // The approved fan joined, as the platform pushed it.
            #expect(try await world.store.groupMembers(platformGroupId: groupId, of: world.account) == ["fan-keen"])
            let read = try await groups.read(group.id, of: world.account, days: 7, by: world.owner)
            #expect(read.stats?.members == 1 && read.stats?.days.last?.joins == 1 && read.stats?.days.last?.members == 1)

            // A group send reaches its members, and counts on their touch budget.
            _ = try await groups.send(.text("今晚八点直播"), to: group.id, of: world.account, key: "k1", by: world.owner)
            _ = try await groups.send(.text("今晚八点直播"), to: group.id, of: world.account, key: "k1", by: world.owner)
            try await world.work(pushes)
            #expect(api.sent.filter { $0.toUser == groupId }.count == 1)
            #expect(try await world.store.recentTouches(of: world.account, openId: "fan-keen", now: clock.now)["fan-keen"] == RecentTouches(lastDay: 1, lastWeek: 1))

            // An eleventh admin on a change is refused too; the threshold can be changed.
            await #expect(throws: UseCaseError.self) {
                _ = try await groups.change(group.id, .init(admins: (1...11).map { "staff-\($0)" }), of: world.account, by: world.owner)
            }
            #expect(try await groups.change(group.id, .init(threshold: .some("level >= 9")), of: world.account, by: world.owner).threshold == "level >= 9")
        }
    }

    @Test(arguments: StoreKind.allCases) func livesArePlannedInTheAccountsZoneRemindBookersAndReadTheirAudience(_ kind: StoreKind) async throws {
        let clock = TestClock(), pushes = Pushes()
        let api = Self.api(clock, pushes)
        try await withSandboxPlatform(api) { platform, sandbox in
            let world = try await DeskWorld(kind, clock: clock, api: api, platform: platform)
            let lives = Lives(world.flywheel)
            // Daily at 08:00 and 19:00 in Shanghai: the clock stands at 08:00 there on 1 January, so the first is that evening.
            let planned = try await lives.create(.init(title: "酒厂直播", weekdays: nil, times: ["19:00", "08:00"], startsAt: nil, durationMinutes: 120,
                                                       reminderMinutes: 30), of: world.account, by: world.owner)
            #expect(planned.lives.first?.startsAt == clock.now + 11 * 3_600_000)
            #expect(planned.lives.count == 2 * LiveSchedule.horizonDays + 1)
            await #expect(throws: UseCaseError.invalid(field: "times[0]", "must be HH:MM between 00:00 and 23:59")) {
                _ = try await lives.create(.init(title: "x", weekdays: nil, times: ["25:00"], startsAt: nil, durationMinutes: nil, reminderMinutes: nil),
                                           of: world.account, by: world.owner)
            }
            let evening = try #require(planned.lives.first)

            // Two fans book; one allowed proactive messages, the other did not.
            try await world.fan("fan-old", .follow, id: "follow-old")
            try await world.fan("fan-old", .dmGranted, id: "grant-old")
            try await world.fan("fan-quiet", .follow, id: "follow-quiet")
            for fan in ["fan-old", "fan-quiet"] {
                try await sandbox.execute(uri: "/sandbox/live/book", method: .post, body: ByteBuffer(string: """
                    {"client_key":"\(DeskWorld.clientKey)","account":"\(DeskWorld.accountOpenId)","live_id":"\(evening.id)","fan":"\(fan)"}
                    """)) { #expect($0.status == .ok) }
            }
            try await world.deliverPushes(pushes)
            #expect(try await lives.read(evening.id, of: world.account, by: world.owner).stats.bookings == 2)

            // Half an hour before, the reminder goes to the booker who allows it; the other is held back and counted.
            clock.advance(10 * 3_600_000 + 30 * 60_000 + 1)
            try await world.work(pushes)
            var read = try await lives.read(evening.id, of: world.account, by: world.owner)
            #expect(read.live.remindedAt != nil && read.stats.remindersSent == 1 && read.stats.remindersHeld == 1)
            #expect(api.sent.filter { $0.toUser == "fan-old" && $0.replyTo == nil }.count == 1)
            #expect(try await world.thread("fan-old").contains { $0.author == .auto && $0.text?.contains("19:00 开播") == true })

            // The live: an old fan, a fan who followed that day, and a viewer who does not follow, watch and buy.
            clock.advance(30 * 60_000)
            try await world.fan("fan-new", .follow, id: "follow-new")
            try await world.record(.liveWatch, "fan-old", at: clock.now + 60_000, channel: .liveFeed, amount: 40, id: "w1")
            try await world.record(.liveWatch, "fan-new", at: clock.now + 60_000, channel: .liveFeed, amount: 20, id: "w2")
            try await world.record(.liveWatch, "passer", at: clock.now + 120_000, channel: .liveSquare, amount: 5, id: "w3")
            try await world.record(.orderPaid, "fan-old", at: clock.now + 600_000, channel: .liveFeed, amount: 30_000, ref: "o1", id: "o1")
            try await world.record(.orderPaid, "passer", at: clock.now + 700_000, channel: .liveSquare, amount: 10_000, ref: "o2", id: "o2")
            read = try await lives.read(evening.id, of: world.account, by: world.owner)
            // The first day's follows are "new" that day: the old fan followed on 1 January too, so all fans here are new ones.
            #expect(read.stats.audiences[.newFan]?.viewers == 2 && read.stats.audiences[.newFan]?.minutes == 60)
            #expect(read.stats.audiences[.nonFan]?.viewers == 1 && read.stats.audiences[.nonFan]?.gmv == 10_000)
            #expect(read.stats.fanShareOfGMV == 0.75)

            // The next evening the same fan is an old fan.
            clock.advance(86_400_000)
            try await world.record(.liveWatch, "fan-old", at: clock.now, channel: .liveFeed, amount: 30, id: "w4")
            let next = try #require(planned.lives.first { $0.startsAt == evening.startsAt + 86_400_000 })
            read = try await lives.read(next.id, of: world.account, by: world.owner)
            #expect(read.stats.audiences[.oldFan]?.viewers == 1 && read.stats.audiences[.oldFan]?.averageMinutes == 30)

            // A reminder for a live that has started is refused, naming the live.
            do {
                _ = try await lives.remind(evening.id, of: world.account, by: world.owner)
                Issue.record("a past live was reminded")
            } catch UseCaseError.invalid(let field, _) {
                #expect(field == "liveId")
            }

            // The homepage sees the schedule; the operator ticks the enterprise info; visits say where they came from.
            for (i, channel) in [Channel.search, .search, .search, .followFeed].enumerated() {
                try await world.record(.homepageVisit, "fan-old", at: clock.now, channel: channel, id: "visit-\(i)")
            }
            let homepage = Homepage(world.flywheel)
            try await homepage.change(["enterprise_info": true], of: world.account, by: world.owner)
            let page = try await homepage.read(of: world.account, days: 7, by: world.owner)
            #expect(page.items.first { $0.item == .liveSchedule }?.source == "detected")
            #expect(page.items.first { $0.item == .enterpriseInfo }?.source == "ticked")
            #expect(page.items.first { $0.item == .groupEntry }?.done == false)
            #expect(page.visits.first?.channel == .search && page.visits.first?.share == 0.75)
            await #expect(throws: UseCaseError.self) { try await homepage.change(["shop_window": true], of: world.account, by: world.owner) }
        }
    }
}
