import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// Reach: subscription posts within their quota, fan groups with thresholds and applications,
/// group sends, and the touch budget.
extension APIRoutes {
    func addReach(to group: RouterGroup<FlywheelRequestContext>) {
        group.get("accounts/:accountId/posts", use: listPosts)
        group.post("accounts/:accountId/posts", use: createPost)
        group.get("accounts/:accountId/posts/:postId", use: readPost)
        group.post("accounts/:accountId/posts/:postId/cancel", use: cancelPost)
        group.post("accounts/:accountId/posts/:postId/published", use: markPostPublished)
        group.get("accounts/:accountId/groups", use: listGroups)
        group.post("accounts/:accountId/groups", use: createGroup)
        group.get("accounts/:accountId/groups/:groupId", use: readGroup)
        group.patch("accounts/:accountId/groups/:groupId", use: changeGroup)
        group.post("accounts/:accountId/groups/:groupId/messages", use: sendToGroup)
        group.get("accounts/:accountId/touch-budget", use: readTouchBudget)
        group.put("accounts/:accountId/touch-budget", use: changeTouchBudget)
        group.get("accounts/:accountId/lives", use: listLives)
        group.post("accounts/:accountId/lives", use: createLive)
        group.get("accounts/:accountId/lives/:liveId", use: readLive)
        group.post("accounts/:accountId/lives/:liveId/cancel", use: cancelLive)
        group.post("accounts/:accountId/lives/:liveId/remind", use: remindLive)
        group.get("accounts/:accountId/homepage", use: readHomepage)
        group.put("accounts/:accountId/homepage", use: changeHomepage)
    }

    // MARK: Posts

    struct PostList: ResponseEncodable {
        var items: [PostView]
        var quota: QuotaView
        /// How the account's reach actions go out: `automatic` through the API, `task` by the operator in the app.
        var actions: [ActionModeView]
    }

    struct QuotaView: ResponseEncodable {
        /// Posts this month (the account's calendar), published, scheduled or waiting as tasks.
        var usedThisMonth: Int
        var perMonth: Int
        var perDay: Int
        /// The first day with room, from today.
        var nextAllowedDay: String
    }

    struct ActionModeView: ResponseEncodable {
        var action: String
        var mode: String
    }

    func actionModes(posts automatic: Bool) -> [ActionModeView] {
        [ActionModeView(action: "subscription_post", mode: automatic ? "automatic" : "task"),
         ActionModeView(action: "live_booking", mode: automatic ? "automatic" : "task"),
         ActionModeView(action: "group_create", mode: "automatic"), ActionModeView(action: "group_send", mode: "automatic"),
         ActionModeView(action: "join_approval", mode: "automatic"), ActionModeView(action: "group_greeting", mode: "automatic"),
         ActionModeView(action: "dm", mode: "automatic"), ActionModeView(action: "group_admins", mode: "task"),
         ActionModeView(action: "dm_menu", mode: "task")]
    }

    @Sendable func listPosts(_ request: Request, context: FlywheelRequestContext) async throws -> PostList {
        let caller = try context.caller()
        let account = try await account(context)
        let posts = Posts(flywheel)
        let reports = try await posts.list(of: account, limit: try request.pageLimit(), by: caller)
        let quota = try await posts.quota(of: account, from: account.calendar.day(ofMillis: env.now()), by: caller)
        return PostList(items: reports.map(PostView.init),
                        quota: QuotaView(usedThisMonth: quota.used, perMonth: quota.perMonth, perDay: SubscriptionQuota.perDay,
                                         nextAllowedDay: AccountCalendar.dateText(ofDay: quota.nextAllowedDay)),
                        actions: actionModes(posts: posts.automatic))
    }

    struct ToolBody: Decodable {
        var kind: String
        var ref: String
    }

    struct NewPost: Decodable {
        var title: String
        var body: String?
        var format: String?
        var mediaRef: String?
        var tool: ToolBody?
        var segmentId: String?
        var scheduledAt: String?
        var holdoutPercent: Int?
    }

    @Sendable func createPost(_ request: Request, context: FlywheelRequestContext) async throws -> Created<PostView> {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(NewPost.self, context: context)
        let at = try Time.parse(body.scheduledAt, field: "scheduledAt")
        let report = try await Posts(flywheel).create(Posts.Draft(title: body.title, body: body.body ?? "", format: body.format ?? "text", mediaRef: body.mediaRef,
                                                                  toolKind: body.tool?.kind, toolRef: body.tool?.ref, segmentId: body.segmentId, scheduledAt: at,
                                                                  holdoutPercent: body.holdoutPercent),
                                                      of: account, by: caller)
        return Created(body: PostView(report))
    }

    @Sendable func readPost(_ request: Request, context: FlywheelRequestContext) async throws -> PostView {
        let caller = try context.caller()
        return PostView(try await Posts(flywheel).read(try context.parameters.require("postId"), of: try await account(context), by: caller))
    }

    @Sendable func cancelPost(_ request: Request, context: FlywheelRequestContext) async throws -> PostView {
        let caller = try context.caller()
        return PostView(try await Posts(flywheel).cancel(try context.parameters.require("postId"), of: try await account(context), by: caller))
    }

    @Sendable func markPostPublished(_ request: Request, context: FlywheelRequestContext) async throws -> PostView {
        let caller = try context.caller()
        return PostView(try await Posts(flywheel).markPublished(try context.parameters.require("postId"), of: try await account(context), by: caller))
    }

    // MARK: Groups

    struct GroupBody: Decodable {
        var name: String?
        var description: String?
        /// A predicate in the one language; "" removes it.
        var threshold: String?
        /// "" removes it.
        var welcome: String?
        var admins: [String]?
        var liveReminder: Bool?
        var shareNewWorks: Bool?

        var settings: Groups.Settings {
            Groups.Settings(name: name, description: description, threshold: threshold.map { $0.isEmpty ? nil : $0 }, welcome: welcome.map { $0.isEmpty ? nil : $0 },
                            admins: admins, liveReminder: liveReminder, shareNewWorks: shareNewWorks)
        }
    }

    @Sendable func listGroups(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<GroupView> {
        let caller = try context.caller()
        return PageView(items: try await Groups(flywheel).list(of: try await account(context), by: caller).map(GroupView.init), nextCursor: nil)
    }

    @Sendable func createGroup(_ request: Request, context: FlywheelRequestContext) async throws -> Created<GroupView> {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(GroupBody.self, context: context)
        return Created(body: GroupView(try await Groups(flywheel).create(body.settings, of: account, by: caller)), status: .accepted)
    }

    struct GroupDetail: ResponseEncodable {
        var group: GroupView
        /// Nil until the platform has created the group.
        var stats: GroupStatsView?
        /// Newest first.
        var applications: [ApplicationView]
    }

    @Sendable func readGroup(_ request: Request, context: FlywheelRequestContext) async throws -> GroupDetail {
        let caller = try context.caller()
        let account = try await account(context)
        let id = try context.parameters.require("groupId")
        let groups = Groups(flywheel)
        let read = try await groups.read(id, of: account, days: try request.integer("days", otherwise: 30), by: caller)
        return GroupDetail(group: GroupView(read.group), stats: read.stats.map { GroupStatsView($0) },
                           applications: try await groups.applications(of: id, in: account, limit: 100, by: caller).map(ApplicationView.init))
    }

    @Sendable func changeGroup(_ request: Request, context: FlywheelRequestContext) async throws -> GroupView {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(GroupBody.self, context: context)
        return GroupView(try await Groups(flywheel).change(try context.parameters.require("groupId"), body.settings, of: account, by: caller))
    }

    struct GroupSendView: ResponseEncodable {
        var outboxId: String
        var groupId: String
        var state: OutboxState
    }

    @Sendable func sendToGroup(_ request: Request, context: FlywheelRequestContext) async throws -> Created<GroupSendView> {
        let caller = try context.caller()
        let account = try await account(context)
        let content = try await request.decodeJSON(ContentBody.self, context: context).content(field: "")
        let id = try context.parameters.require("groupId")
        let outbox = try await Groups(flywheel).send(content, to: id, of: account, key: try idempotencyKey(request), by: caller)
        return Created(body: GroupSendView(outboxId: outbox.id, groupId: id, state: outbox.state), status: .accepted)
    }

    // MARK: Touch budget

    struct TouchBudgetView: ResponseEncodable {
        var perDay: Int
        var perWeek: Int
        /// Touches held back in the last 30 days, per touchpoint.
        var heldBackLast30Days: [String: Int]
    }

    struct TouchBudgetBody: Decodable {
        var perDay: Int
        var perWeek: Int
    }

    @Sendable func readTouchBudget(_ request: Request, context: FlywheelRequestContext) async throws -> TouchBudgetView {
        let caller = try context.caller()
        let account = try await account(context)
        let posts = Posts(flywheel)
        let budget = try await posts.touchBudget(of: account, by: caller)
        let held = try await posts.heldBack(of: account, days: 30, by: caller)
        return TouchBudgetView(perDay: budget.perDay, perWeek: budget.perWeek,
                               heldBackLast30Days: Dictionary(uniqueKeysWithValues: held.map { ($0.key.rawValue, $0.value) }))
    }

    @Sendable func changeTouchBudget(_ request: Request, context: FlywheelRequestContext) async throws -> TouchBudgetView {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(TouchBudgetBody.self, context: context)
        let budget = try await Posts(flywheel).setTouchBudget(TouchBudget(perDay: body.perDay, perWeek: body.perWeek), of: account, by: caller)
        return TouchBudgetView(perDay: budget.perDay, perWeek: budget.perWeek, heldBackLast30Days: [:])
    }
}

extension APIRoutes {
    // MARK: Lives

    struct LiveList: ResponseEncodable {
        var schedules: [ScheduleView]
        /// From a week ago through the next two weeks, earliest first.
        var lives: [LiveView]
    }

    @Sendable func listLives(_ request: Request, context: FlywheelRequestContext) async throws -> LiveList {
        let caller = try context.caller()
        let account = try await account(context)
        let list = try await Lives(flywheel).list(of: account, by: caller)
        return LiveList(schedules: list.schedules.map(ScheduleView.init), lives: list.lives.map { LiveView($0, now: env.now()) })
    }

    struct NewLive: Decodable {
        var title: String
        var weekdays: [Int]?
        var times: [String]?
        var startsAt: String?
        var durationMinutes: Int?
        var reminderMinutes: Int?
    }

    struct PlannedLives: ResponseEncodable {
        var schedule: ScheduleView?
        var lives: [LiveView]
    }

    @Sendable func createLive(_ request: Request, context: FlywheelRequestContext) async throws -> Created<PlannedLives> {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(NewLive.self, context: context)
        let startsAt = try Time.parse(body.startsAt, field: "startsAt")
        let planned = try await Lives(flywheel).create(Lives.Plan(title: body.title, weekdays: body.weekdays, times: body.times, startsAt: startsAt,
                                                                  durationMinutes: body.durationMinutes, reminderMinutes: body.reminderMinutes),
                                                       of: account, by: caller)
        let now = env.now()
        return Created(body: PlannedLives(schedule: planned.schedule.map(ScheduleView.init),
                                          lives: planned.lives.map { LiveView(Lives.Report(live: $0, stats: LiveStats()), now: now) }))
    }

    @Sendable func readLive(_ request: Request, context: FlywheelRequestContext) async throws -> LiveView {
        let caller = try context.caller()
        return LiveView(try await Lives(flywheel).read(try context.parameters.require("liveId"), of: try await account(context), by: caller), now: env.now())
    }

    @Sendable func cancelLive(_ request: Request, context: FlywheelRequestContext) async throws -> LiveView {
        let caller = try context.caller()
        let live = try await Lives(flywheel).cancel(try context.parameters.require("liveId"), of: try await account(context), by: caller)
        return LiveView(Lives.Report(live: live, stats: LiveStats()), now: env.now())
    }

    struct RemindedView: ResponseEncodable {
        var sent: Int
        var heldBack: Int
    }

    @Sendable func remindLive(_ request: Request, context: FlywheelRequestContext) async throws -> RemindedView {
        let caller = try context.caller()
        let done = try await Lives(flywheel).remind(try context.parameters.require("liveId"), of: try await account(context), by: caller)
        return RemindedView(sent: done.sent, heldBack: done.heldBack)
    }

    // MARK: Homepage

    struct HomepageView: ResponseEncodable {
        struct Item: Encodable, Sendable {
            var item: HomepageItem
            var done: Bool
            var source: String
        }

        struct Visits: Encodable, Sendable {
            var channel: Channel
            var domain: SourceDomain
            var visits: Int
            var share: Double
        }

        var items: [Item]
        /// The last `days` days' visits by channel and domain, most first.
        var visits: [Visits]

        init(_ read: (items: [Homepage.Item], visits: [Homepage.Visits])) {
            items = read.items.map { Item(item: $0.item, done: $0.done, source: $0.source) }
            visits = read.visits.map { Visits(channel: $0.channel, domain: $0.domain, visits: $0.visits, share: $0.share) }
        }
    }

    @Sendable func readHomepage(_ request: Request, context: FlywheelRequestContext) async throws -> HomepageView {
        let caller = try context.caller()
        return HomepageView(try await Homepage(flywheel).read(of: try await account(context), days: try request.integer("days", otherwise: 30), by: caller))
    }

    struct HomepageBody: Decodable {
        var items: [String: Bool]
    }

    @Sendable func changeHomepage(_ request: Request, context: FlywheelRequestContext) async throws -> HomepageView {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(HomepageBody.self, context: context)
        let homepage = Homepage(flywheel)
        try await homepage.change(body.items, of: account, by: caller)
        return HomepageView(try await homepage.read(of: account, days: 30, by: caller))
    }
}

struct ScheduleView: ResponseEncodable {
    var id: String
    var title: String
    var weekdays: [Int]
    var times: [String]
    var durationMinutes: Int
    var reminderMinutes: Int

    init(_ s: LiveSchedule) {
        id = s.id; title = s.title; weekdays = s.weekdays; times = s.times.map(LiveSchedule.text(ofMinutes:)); durationMinutes = s.durationMinutes
        reminderMinutes = s.reminderMinutes
    }
}

struct LiveView: ResponseEncodable {
    struct Audience: Encodable, Sendable {
        var viewers: Int
        var averageWatchMinutes: Double?
        var gmvFen: Int64
        var giftsFen: Int64
    }

    var id: String
    var scheduleId: String?
    var title: String
    var startsAt: String
    var endsAt: String
    /// planned, live, ended or cancelled.
    var state: String
    var remindedAt: String?
    var bookings: Int
    var remindersSent: Int
    var remindersHeldBack: Int
    /// By `old_fan`, `new_fan` and `non_fan`.
    var audiences: [String: Audience]
    var gmvFen: Int64
    /// Fans' (old and new) share of the live's GMV, and old fans' share, 0 to 1.
    var fanShareOfGMV: Double?
    var oldFanShareOfGMV: Double?

    init(_ r: Lives.Report, now: Int64) {
        let l = r.live, s = r.stats
        id = l.id; scheduleId = l.scheduleId; title = l.title; startsAt = Time.iso(l.startsAt); endsAt = Time.iso(l.endsAt)
        state = l.cancelled ? "cancelled" : now < l.startsAt ? "planned" : now < l.endsAt ? "live" : "ended"
        remindedAt = l.remindedAt.map(Time.iso); bookings = s.bookings; remindersSent = s.remindersSent; remindersHeldBack = s.remindersHeld
        audiences = Dictionary(uniqueKeysWithValues: s.audiences.map { ($0.key.rawValue, Audience(viewers: $0.value.viewers, averageWatchMinutes: $0.value.averageMinutes,
                                                                                                   gmvFen: $0.value.gmv, giftsFen: $0.value.gifts)) })
        gmvFen = s.gmv; fanShareOfGMV = s.fanShareOfGMV; oldFanShareOfGMV = s.oldFanShareOfGMV
    }
}

struct PostView: ResponseEncodable {
    var id: String
    var accountId: String
    var title: String
    var body: String
    var format: PostFormat
    var mediaRef: String?
    var tool: ToolView?
    var segmentId: String?
    var scheduledAt: String
    var state: PostState
    /// `automatic`: Flywheel pushes it; `task`: publish it in the platform's app and mark it published.
    var mode: String
    var recipients: Int
    var heldBack: Int
    var publishedAt: String?
    var error: String?
    var stats: PostStatsView
    var holdoutPercent: Int
    /// Reached against held out over the 7 days after the push, once a post with a holdout went out.
    var experiment: APIRoutes.HoldoutExperimentView?

    struct ToolView: Encodable, Sendable {
        var kind: PostTool.Kind
        var ref: String
    }

    init(_ r: Posts.Report) {
        let p = r.post
        id = p.id; accountId = p.accountId; title = p.title; body = p.body; format = p.format; mediaRef = p.mediaRef
        tool = p.tool.map { ToolView(kind: $0.kind, ref: $0.ref) }; segmentId = p.segmentId; scheduledAt = Time.iso(p.scheduledAt); state = p.state
        mode = r.automatic ? "automatic" : "task"; recipients = p.recipients; heldBack = p.heldBack; publishedAt = p.publishedAt.map(Time.iso); error = p.error
        stats = PostStatsView(r.stats)
        holdoutPercent = p.holdoutPercent
        experiment = r.experiment.map(APIRoutes.HoldoutExperimentView.init)
    }
}

struct PostStatsView: Encodable, Sendable {
    var delivered: Int
    var heldBack: Int
    /// Opens and clicks as the sandbox reports them; the platform reports neither.
    var opened: Int
    var clicked: Int
    /// Recipients who ordered, claimed a coupon or booked a live within 72 hours of the push, and their orders' value.
    var converted: Int
    var conversionValueFen: Int64
    /// Recipients who unfollowed within 72 hours of the push.
    var unfollowed: Int

    init(_ s: PostStats) {
        delivered = s.delivered; heldBack = s.heldBack; opened = s.opened; clicked = s.clicked; converted = s.converted
        conversionValueFen = s.conversionValue; unfollowed = s.unfollowed
    }
}

struct GroupView: ResponseEncodable {
    var id: String
    var accountId: String
    var name: String
    var description: String
    var platformGroupId: String?
    var groupNumber: String?
    var threshold: String?
    var welcome: String?
    var admins: [String]
    var liveReminder: Bool
    var shareNewWorks: Bool
    var state: GroupState
    var error: String?
    var createdAt: String

    init(_ g: FanGroup) {
        id = g.id; accountId = g.accountId; name = g.name; description = g.description; platformGroupId = g.platformGroupId; groupNumber = g.groupNumber
        threshold = g.threshold; welcome = g.welcome; admins = g.admins; liveReminder = g.liveReminder; shareNewWorks = g.shareNewWorks; state = g.state
        error = g.error; createdAt = Time.iso(g.createdAt)
    }
}

struct GroupStatsView: Encodable, Sendable {
    struct Day: Encodable, Sendable {
        var date: String
        var members: Int
        var joins: Int
        var leaves: Int
        var messages: Int
    }

    var members: Int
    /// Members who wrote in the last 7 days.
    var activeMembers: Int
    /// Of members and of the account's other fans who ordered, the share who ordered again (0 to 1).
    var memberRepurchaseRate: Double?
    var otherRepurchaseRate: Double?
    var days: [Day]

    init(_ s: GroupStats) {
        members = s.members; activeMembers = s.activeMembers
        memberRepurchaseRate = GroupStats.rate(s.repeatMembers, of: s.buyingMembers)
        otherRepurchaseRate = GroupStats.rate(s.repeatOthers, of: s.buyingOthers)
        days = s.days.map { Day(date: AccountCalendar.dateText(ofDay: $0.day), members: $0.members, joins: $0.joins, leaves: $0.leaves, messages: $0.messages) }
    }
}

struct ApplicationView: Encodable, Sendable {
    var applyId: String
    var openId: String
    var appliedAt: String
    var state: ApplicationState
    var reason: String?
    var decidedAt: String?

    init(_ a: JoinApplication) {
        applyId = a.applyId; openId = a.openId; appliedAt = Time.iso(a.appliedAt); state = a.state; reason = a.reason; decidedAt = a.decidedAt.map(Time.iso)
    }
}
