import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// Subscription posts: planned within the platform's quota (8 a month, 1 a day), pushed to the
/// account's subscribers or a segment within the touch budget, and measured. Where the platform
/// has no API for posts, a due post becomes the operator's task, marked done by hand.
public struct Posts: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    /// What a new post says and whom it is for.
    public struct Draft: Sendable {
        public var title: String
        public var body: String
        public var format: String
        public var mediaRef: String?
        public var toolKind: String?
        public var toolRef: String?
        public var segmentId: String?
        /// Now when nil.
        public var scheduledAt: Int64?
        /// Share of the audience kept from the post to measure it against (0 to 50; none when nil).
        public var holdoutPercent: Int?

        public init(title: String, body: String, format: String, mediaRef: String?, toolKind: String?, toolRef: String?, segmentId: String?, scheduledAt: Int64?,
                    holdoutPercent: Int? = nil) {
            self.title = title
            self.body = body
            self.format = format
            self.mediaRef = mediaRef
            self.toolKind = toolKind
            self.toolRef = toolRef
            self.segmentId = segmentId
            self.scheduledAt = scheduledAt
            self.holdoutPercent = holdoutPercent
        }
    }

    /// A post with how it did and how it goes out.
    public struct Report: Sendable {
        public var post: Post
        public var stats: PostStats
        /// True when Flywheel pushes it; false when the operator publishes it in the app.
        public var automatic: Bool
        /// Reached against held out, once a post with a holdout went out.
        public var experiment: ExperimentReport?
    }

    /// What a post's buyers are counted over after it went out.
    public static let experimentDays = 7

    func experiment(of post: Post, in account: Account) async throws -> ExperimentReport? {
        guard post.state != .scheduled, post.state != .cancelled else { return nil }
        return try await CampaignHoldout.report(.post, id: post.id, name: post.title, percent: post.holdoutPercent, days: Self.experimentDays, of: account,
                                                store: env.store)
    }

    /// Where the quota of the month of `day` stands, and the first day with room from `day`.
    public struct Quota: Sendable, Equatable {
        public var used: Int
        public var perMonth: Int
        public var nextAllowedDay: Int
    }

    /// Whether posts go out by themselves (the sandbox) or as the operator's tasks (the platform).
    public var automatic: Bool { env.platform.publishPost != nil }

    public func list(of account: Account, limit: Int, by caller: Principal) async throws -> [Report] {
        try caller.authorize(.listPosts)
        let posts = try await env.store.posts(of: account, limit: limit)
        let stats = try await env.store.postStats(of: account, postIds: posts.map(\.id))
        var reports: [Report] = []
        for post in posts {
            reports.append(Report(post: post, stats: stats[post.id] ?? PostStats(), automatic: automatic, experiment: try await experiment(of: post, in: account)))
        }
        return reports
    }

    public func read(_ id: String, of account: Account, by caller: Principal) async throws -> Report {
        try caller.authorize(.readPost)
        guard let post = try await env.store.post(id: id, of: account) else { throw UseCaseError.notFound("post \(id)") }
        return Report(post: post, stats: try await env.store.postStats(of: account, postIds: [id])[id] ?? PostStats(), automatic: automatic,
                      experiment: try await experiment(of: post, in: account))
    }

    public func quota(of account: Account, from day: Int, by caller: Principal) async throws -> Quota {
        try caller.authorize(.listPosts)
        let quota = SubscriptionQuota(taken: try await takenDays(of: account, around: day))
        return Quota(used: quota.used(inMonthOf: day), perMonth: SubscriptionQuota.perMonth, nextAllowedDay: quota.nextAllowedDay(from: day))
    }

    /// Days holding a post from the month of `day` through the two after it: enough to find the next free day.
    func takenDays(of account: Account, around day: Int) async throws -> [Int] {
        let first = SubscriptionQuota.firstDay(ofMonthOf: day)
        return try await env.store.quotaDays(of: account, in: first...(first + 3 * 31))
    }

    /// Plans a post; refused when its day or month is full, naming the next day with room.
    public func create(_ draft: Draft, of account: Account, by caller: Principal) async throws -> Report {
        try caller.authorize(.createPost)
        let now = env.now()
        let title = try Validate.trimmed(draft.title, field: "title", length: Post.titleLength)
        guard Post.bodyLength.contains(draft.body.unicodeScalars.count) else { throw UseCaseError.invalid(field: "body", "must be at most \(Post.bodyLength.upperBound) characters") }
        guard let format = PostFormat(rawValue: draft.format) else { throw UseCaseError.invalid(field: "format", "must be text, image or video") }
        var mediaRef: String?
        if format != .text {
            guard let ref = draft.mediaRef else { throw UseCaseError.invalid(field: "mediaRef", "an \(format.rawValue) post needs the media id of its \(format.rawValue)") }
            mediaRef = try Validate.token(ref, field: "mediaRef")
        }
        var tool: PostTool?
        if let kindName = draft.toolKind {
            guard let kind = PostTool.Kind(rawValue: kindName) else { throw UseCaseError.invalid(field: "tool.kind", "must be coupon, live_booking or product") }
            guard let ref = draft.toolRef else { throw UseCaseError.invalid(field: "tool.ref", "names the coupon, live or product the post carries") }
            tool = PostTool(kind: kind, ref: try Validate.token(ref, field: "tool.ref"))
        }
        if let segmentId = draft.segmentId {
            guard try await env.store.segment(id: segmentId, of: account) != nil else {
                throw UseCaseError.invalid(field: "segmentId", "the account has no segment '\(segmentId)'; leave it out to reach every subscriber")
            }
        }
        let holdout = try Validate.holdout(draft.holdoutPercent)
        let at = draft.scheduledAt ?? now
        // A minute's grace for a clock that runs behind; a year ahead at most.
        guard at >= now - 60_000 else { throw UseCaseError.invalid(field: "scheduledAt", "is in the past; leave it out to post now") }
        guard at <= now + 366 * 86_400_000 else { throw UseCaseError.invalid(field: "scheduledAt", "must be within a year") }
        let day = account.calendar.day(ofMillis: at)
        let quota = SubscriptionQuota(taken: try await takenDays(of: account, around: day))
        guard quota.allows(day) else { throw quotaRefusal(quota, day: day) }
        var post = Post(id: env.newId("post"), accountId: account.id, title: title, body: draft.body, format: format, mediaRef: mediaRef, tool: tool,
                        segmentId: draft.segmentId, scheduledAt: at, day: day, state: .scheduled, createdBy: caller.actor, createdAt: now)
        post.holdoutPercent = holdout
        do {
            try await env.store.createPost(post, of: account, audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "post.create",
                                                                               target: post.id, detail: title))
        } catch StoreError.conflict {
            // Another post took the day or the month's last push meanwhile.
            throw quotaRefusal(SubscriptionQuota(taken: try await takenDays(of: account, around: day)), day: day)
        }
        return Report(post: post, stats: PostStats(), automatic: automatic)
    }

    func quotaRefusal(_ quota: SubscriptionQuota, day: Int) -> UseCaseError {
        let next = AccountCalendar.dateText(ofDay: quota.nextAllowedDay(from: day))
        let why = quota.used(inMonthOf: day) >= SubscriptionQuota.perMonth
            ? "the account's \(SubscriptionQuota.perMonth) posts of that month are used"
            : "the account already has a post on \(AccountCalendar.dateText(ofDay: day)) (at most \(SubscriptionQuota.perDay) a day)"
        return .invalid(field: "scheduledAt", "\(why); the next day with room is \(next)")
    }

    /// Takes a post back before it goes out (it frees its day).
    public func cancel(_ id: String, of account: Account, by caller: Principal) async throws -> Report {
        try caller.authorize(.cancelPost)
        return try await change(id, of: account, from: [.scheduled, .task], action: "post.cancel", by: caller) { post, _ in post.state = .cancelled }
    }

    /// The operator published the post in the app (a task): its effect is measured from now.
    public func markPublished(_ id: String, of account: Account, by caller: Principal) async throws -> Report {
        try caller.authorize(.markPostPublished)
        return try await change(id, of: account, from: [.task], action: "post.published", by: caller) { post, now in
            post.state = .published
            post.publishedAt = now
        }
    }

    func change(_ id: String, of account: Account, from states: Set<PostState>, action: String, by caller: Principal,
                _ edit: (inout Post, Int64) -> Void) async throws -> Report {
        guard var post = try await env.store.post(id: id, of: account) else { throw UseCaseError.notFound("post \(id)") }
        guard states.contains(post.state) else {
            throw UseCaseError.conflict(code: "post_state", "the post is \(post.state.rawValue); only a post that is \(states.map(\.rawValue).sorted().joined(separator: " or ")) can be")
        }
        let read = post.version
        edit(&post, env.now())
        do {
            try await env.store.setPostState(post, readVersion: read, of: account, audit: env.audit(tenantId: account.tenantId, actor: caller.actor,
                                                                                                     action: action, target: id))
        } catch StoreError.refused(.changedMeanwhile) {
            throw UseCaseError.conflict(code: "changed_meanwhile", "the post changed meanwhile (it may have gone out); read it again")
        }
        post.version += 1
        return Report(post: post, stats: try await env.store.postStats(of: account, postIds: [id])[id] ?? PostStats(), automatic: automatic)
    }

    public func touchBudget(of account: Account, by caller: Principal) async throws -> TouchBudget {
        try caller.authorize(.readTouchBudget)
        return try await env.store.touchBudget(of: account)
    }

    public func setTouchBudget(_ budget: TouchBudget, of account: Account, by caller: Principal) async throws -> TouchBudget {
        try caller.authorize(.changeTouchBudget)
        guard TouchBudget.perDayRange.contains(budget.perDay) else { throw UseCaseError.invalid(field: "perDay", "must be 1 to \(TouchBudget.perDayRange.upperBound)") }
        guard TouchBudget.perWeekRange.contains(budget.perWeek), budget.perWeek >= budget.perDay else {
            throw UseCaseError.invalid(field: "perWeek", "must be \(budget.perDay) (perDay) to \(TouchBudget.perWeekRange.upperBound)")
        }
        try await env.store.setTouchBudget(budget, of: account, audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "touch_budget.change",
                                                                                 target: account.id, detail: "\(budget.perDay) a day, \(budget.perWeek) a week"))
        return budget
    }

    /// Touches the budget held back in the last `days` days, per touchpoint.
    public func heldBack(of account: Account, days: Int, by caller: Principal) async throws -> [Touchpoint: Int] {
        try caller.authorize(.readTouchBudget)
        guard (1...366).contains(days) else { throw UseCaseError.invalid(field: "days", "must be 1 to 366") }
        return try await env.store.heldBackTouches(of: account, since: env.now() - Int64(days) * 86_400_000)
    }
}
