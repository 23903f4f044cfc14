import FlywheelDomain

/// A post or a group send fanned out to fans: who got it and who the touch budget held back.
public struct TouchFanout: Sendable, Equatable {
    public var touchpoint: Touchpoint
    /// The post id, or the outbox id of a group send or reminder.
    public var ref: String
    public var at: Int64
    public var reached: [String]
    public var heldBack: [String]
    /// A post's holdout: audience fans it was kept from on purpose, to measure it against.
    public var heldOut: [String]

    public init(touchpoint: Touchpoint, ref: String, at: Int64, reached: [String], heldBack: [String], heldOut: [String] = []) {
        self.touchpoint = touchpoint
        self.ref = ref
        self.at = at
        self.reached = reached
        self.heldBack = heldBack
        self.heldOut = heldOut
    }
}

/// A group's numbers over a window of days.
public struct GroupStats: Sendable, Equatable {
    public struct Day: Sendable, Equatable {
        public var day: Int
        public var joins: Int
        public var leaves: Int
        public var messages: Int
        /// Members at the end of the day.
        public var members: Int
    }

    public var members = 0
    /// Members who wrote in the last 7 days.
    public var activeMembers = 0
    public var days: [Day] = []
    /// Members and other fans of the account who ordered, and who ordered again.
    public var buyingMembers = 0
    public var repeatMembers = 0
    public var buyingOthers = 0
    public var repeatOthers = 0

    public init() {}

    /// Repeat buyers over buyers, 0 to 1; nil without buyers.
    public static func rate(_ repeats: Int, of buyers: Int) -> Double? { buyers == 0 ? nil : Double(repeats) / Double(buyers) }
}

/// Reach: subscription posts within their quota, fan groups with their thresholds and
/// applications, and the touch budget across every touchpoint.
public protocol ReachStore: Sendable {
    func touchBudget(of account: Account) async throws -> TouchBudget
    func setTouchBudget(_ budget: TouchBudget, of account: Account, audit: AuditEntry) async throws
    /// Fans of the account (or just `openId`) touched in the last week, with their counts at
    /// `now`; held-back touches do not count.
    func recentTouches(of account: Account, openId: String?, now: Int64) async throws -> [String: RecentTouches]
    /// Touches held back by the budget since `since`, per touchpoint.
    func heldBackTouches(of account: Account, since: Int64) async throws -> [Touchpoint: Int]

    /// Newest first.
    func posts(of account: Account, limit: Int) async throws -> [Post]
    func post(id: String, of account: Account) async throws -> Post?
    /// Days in `days` holding a post that counts against the quota.
    func quotaDays(of account: Account, in days: ClosedRange<Int>) async throws -> [Int]
    /// Saves a new post; `conflict` on `scheduledAt` when its day or month has no room any more
    /// (another post took it meanwhile).
    func createPost(_ post: Post, of account: Account, audit: AuditEntry) async throws
    /// Changes a post's state (cancelled, published by hand); `changedMeanwhile` when it moved since read.
    func setPostState(_ post: Post, readVersion: Int64, of account: Account, audit: AuditEntry) async throws
    /// Scheduled posts of every tenant due at `now`.
    func duePosts(now: Int64, limit: Int) async throws -> [(tenantId: String, post: Post)]
    /// Starts a due post: its state (publishing or a task), its touches, and the outbox message
    /// that pushes it, in one transaction; `changedMeanwhile` when another worker started it.
    func startPost(_ post: Post, readVersion: Int64, of account: Account, fanout: TouchFanout, outbox: OutboxMessage?) async throws
    /// The fans a post goes to.
    func postRecipients(postId: String, of account: Account) async throws -> [String]
    func postStats(of account: Account, postIds: [String]) async throws -> [String: PostStats]

    func groups(of account: Account) async throws -> [FanGroup]
    func group(id: String, of account: Account) async throws -> FanGroup?
    /// Saves a new group with the outbox message that creates it on the platform.
    func createGroup(_ group: FanGroup, outbox: OutboxMessage, audit: AuditEntry) async throws
    /// Saves a changed group (and its new greeting's outbox message); `changedMeanwhile` when it moved since read.
    func updateGroup(_ group: FanGroup, readVersion: Int64, outbox: OutboxMessage?, tenantId: String, audit: AuditEntry) async throws
    /// A group send with the touches it makes, in one transaction.
    func sendToGroup(_ outbox: OutboxMessage, fanout: TouchFanout, audit: AuditEntry) async throws
    /// Members of the group now (fans whose state says they joined and did not leave).
    func groupMembers(platformGroupId: String, of account: Account) async throws -> [String]
    func groupStats(platformGroupId: String, of account: Account, days: ClosedRange<Int>, now: Int64) async throws -> GroupStats

    /// Applications of every tenant waiting for a decision, oldest first.
    func pendingApplications(limit: Int) async throws -> [(tenantId: String, application: JoinApplication)]
    /// Records decisions with the outbox messages that tell the platform; one decided meanwhile is skipped.
    func decideApplications(_ decisions: [(application: JoinApplication, outbox: OutboxMessage?)], tenantId: String) async throws
    func applications(platformGroupId: String, of account: Account, limit: Int) async throws -> [JoinApplication]

    func liveSchedules(of account: Account) async throws -> [LiveSchedule]
    /// Every tenant's schedules, to plan their lives ahead.
    func allLiveSchedules() async throws -> [(tenantId: String, schedule: LiveSchedule)]
    /// Saves a schedule (nil for a one-off live) with the lives it plans; lives planned already are kept.
    func createLives(_ lives: [Live], schedule: LiveSchedule?, tenantId: String, audit: AuditEntry?) async throws
    /// The account's lives starting in `[from, to)`, earliest first.
    func lives(of account: Account, from: Int64, to: Int64) async throws -> [Live]
    func live(id: String, of account: Account) async throws -> Live?
    func cancelLive(id: String, of account: Account, audit: AuditEntry) async throws
    /// Lives of every tenant whose reminders are due at `now` and not sent, before their start.
    func livesToRemind(now: Int64, limit: Int) async throws -> [(tenantId: String, live: Live)]
    /// Records a live's reminders with what they send and whom they touch, once: `changedMeanwhile`
    /// when another worker reminded it first.
    func remindLive(_ live: Live, tenantId: String, at: Int64, messages: [DeskMessage], outbox: [OutboxMessage], fanouts: [TouchFanout],
                    audit: AuditEntry?) async throws
    func liveBookers(liveId: String, of account: Account) async throws -> [String]
    func liveStats(_ live: Live, of account: Account) async throws -> LiveStats

    /// The checklist items the operator ticked.
    func homepageItems(of account: Account) async throws -> [HomepageItem: Bool]
    func setHomepageItems(_ items: [HomepageItem: Bool], of account: Account, at: Int64, audit: AuditEntry) async throws
    /// Homepage visits on days `days` by channel and domain.
    func homepageVisits(of account: Account, days: ClosedRange<Int>) async throws -> [(channel: Channel, domain: SourceDomain, visits: Int)]
}

/// What a projection batch brings to reach: applications to decide, groups' joins, leaves and
/// messages, and what fans did after a touch (opened, clicked, ordered, claimed, unfollowed).
public struct ReachWrite: StatementWrite {
    public var applications: [JoinApplication] = []
    /// (platform group id, day, joins, leaves, messages).
    public var groupDays: [(group: String, day: Int, joins: Int, leaves: Int, messages: Int)] = []
    /// (platform group id, open_id, messages, last message time).
    public var writers: [(group: String, openId: String, messages: Int, at: Int64)] = []
    /// Post opens and clicks: (post id, open_id, time, clicked).
    public var postActions: [(postId: String, openId: String, at: Int64, clicked: Bool)] = []
    /// Orders, claims and bookings: (open_id, time, value in fen).
    public var conversions: [(openId: String, at: Int64, value: Int64)] = []
    public var unfollows: [(openId: String, at: Int64)] = []
    public var bookings: [(liveId: String, openId: String, at: Int64)] = []
    /// What each viewer did in an hour of a live: (hour since 1970, open_id, audience, minutes, gifts, gmv in fen).
    public var viewers: [(hour: Int64, openId: String, audience: LiveAudience, minutes: Int64, gifts: Int64, gmv: Int64)] = []
    /// Homepage visits: (day, channel, domain, visits).
    public var visits: [(day: Int, channel: Channel, domain: SourceDomain, count: Int)] = []

    public init() {}

    public var isEmpty: Bool {
        applications.isEmpty && groupDays.isEmpty && writers.isEmpty && postActions.isEmpty && conversions.isEmpty && unfollows.isEmpty
            && bookings.isEmpty && viewers.isEmpty && visits.isEmpty
    }

    public func statements(of account: Account) -> [SQLStatement] {
        let key: [Cell] = [.text(account.tenantId), .text(account.id)]
        var statements: [SQLStatement] = []
        // Rows go many to a statement: the batch holds each key once, so an upsert never meets its own row twice.
        statements += SQLStatement.insert("group_applications (tenant_id, account_id, apply_id, platform_group_id, open_id, applied_at, state)", key: key,
                                  rows: applications.map { [.text($0.applyId), .text($0.platformGroupId), .text($0.openId), .int($0.appliedAt), .text("pending")] },
                                  then: "ON CONFLICT (tenant_id, account_id, apply_id) DO NOTHING")
        statements += SQLStatement.insert("group_days (tenant_id, account_id, platform_group_id, day, joins, leaves, messages)", key: key,
                                  rows: groupDays.map { [.text($0.group), .int(Int64($0.day)), .int(Int64($0.joins)), .int(Int64($0.leaves)), .int(Int64($0.messages))] },
                                  then: """
                                      ON CONFLICT (tenant_id, account_id, platform_group_id, day) DO UPDATE SET joins = group_days.joins + excluded.joins,
                                        leaves = group_days.leaves + excluded.leaves, messages = group_days.messages + excluded.messages
                                      """)
        statements += SQLStatement.insert("group_members (tenant_id, account_id, platform_group_id, open_id, messages, last_message_at)", key: key,
                                  rows: writers.map { [.text($0.group), .text($0.openId), .int(Int64($0.messages)), .int($0.at)] },
                                  then: """
                                      ON CONFLICT (tenant_id, account_id, platform_group_id, open_id) DO UPDATE SET messages = group_members.messages + excluded.messages,
                                        last_message_at = CASE WHEN excluded.last_message_at > group_members.last_message_at THEN excluded.last_message_at
                                                               ELSE group_members.last_message_at END
                                      """)
        for p in postActions {
            let column = p.clicked ? "clicked_at" : "opened_at"
            statements.append(SQLStatement("""
                UPDATE touches SET \(column) = COALESCE(\(column), ?)\(p.clicked ? ", opened_at = COALESCE(opened_at, ?)" : "")
                WHERE tenant_id = ? AND account_id = ? AND touchpoint = 'post' AND ref = ? AND open_id = ? AND held = 0
                """, [.int(p.at)] + (p.clicked ? [.int(p.at)] : []) + key + [.text(p.postId), .text(p.openId)]))
        }
        // What a fan did within the window after a touch is put down to every touch in that window:
        // one statement for a chunk of the batch's conversions (and one for its unfollows), which
        // finds the touched fans by the index and leaves the others alone.
        // Earliest first: a touch's first conversion (and unfollow) is set by the first chunk that has one.
        let window = Cell.int(Post.attributionWindow)
        for chunk in SQLStatement.chunks(conversions.sorted { $0.at < $1.at }, of: 300, fewForms: true) {
            statements.append(SQLStatement("""
                WITH v(open_id, at, value) AS (VALUES \(Array(repeating: "(CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT))", count: chunk.count).joined(separator: ", ")))
                UPDATE touches SET
                  converted_at = COALESCE(converted_at, (SELECT MIN(v.at) FROM v WHERE v.open_id = touches.open_id AND touches.at <= v.at AND touches.at > v.at - ?)),
                  conversion_value = conversion_value
                    + (SELECT COALESCE(SUM(v.value), 0) FROM v WHERE v.open_id = touches.open_id AND touches.at <= v.at AND touches.at > v.at - ?)
                WHERE tenant_id = ? AND account_id = ? AND held = 0 AND open_id IN (SELECT open_id FROM v)
                  AND EXISTS (SELECT 1 FROM v WHERE v.open_id = touches.open_id AND touches.at <= v.at AND touches.at > v.at - ?)
                """, chunk.flatMap { [Cell.text($0.openId), .int($0.at), .int($0.value)] } + [window, window] + key + [window]))
        }
        for chunk in SQLStatement.chunks(unfollows.sorted { $0.at < $1.at }, of: 300, fewForms: true) {
            statements.append(SQLStatement("""
                WITH v(open_id, at) AS (VALUES \(Array(repeating: "(CAST(? AS TEXT), CAST(? AS BIGINT))", count: chunk.count).joined(separator: ", ")))
                UPDATE touches SET
                  unfollowed_at = COALESCE(unfollowed_at, (SELECT MIN(v.at) FROM v WHERE v.open_id = touches.open_id AND touches.at <= v.at AND touches.at > v.at - ?))
                WHERE tenant_id = ? AND account_id = ? AND held = 0 AND open_id IN (SELECT open_id FROM v)
                  AND EXISTS (SELECT 1 FROM v WHERE v.open_id = touches.open_id AND touches.at <= v.at AND touches.at > v.at - ?)
                """, chunk.flatMap { [Cell.text($0.openId), .int($0.at)] } + [window] + key + [window]))
        }
        statements += SQLStatement.insert("live_bookings (tenant_id, account_id, live_id, open_id, booked_at)", key: key,
                                  rows: bookings.map { [.text($0.liveId), .text($0.openId), .int($0.at)] },
                                  then: "ON CONFLICT (tenant_id, account_id, live_id, open_id) DO NOTHING")
        statements += SQLStatement.insert("live_viewers (tenant_id, account_id, hour, open_id, audience, minutes, gifts, gmv)", key: key,
                                  rows: viewers.map { [.int($0.hour), .text($0.openId), .text($0.audience.rawValue), .int($0.minutes), .int($0.gifts), .int($0.gmv)] },
                                  then: """
                                      ON CONFLICT (tenant_id, account_id, hour, open_id) DO UPDATE SET minutes = live_viewers.minutes + excluded.minutes,
                                        gifts = live_viewers.gifts + excluded.gifts, gmv = live_viewers.gmv + excluded.gmv
                                      """)
        statements += SQLStatement.insert("homepage_days (tenant_id, account_id, day, channel, domain, visits)", key: key,
                                  rows: visits.map { [.int(Int64($0.day)), .text($0.channel.rawValue), .text($0.domain.rawValue), .int(Int64($0.count))] },
                                  then: "ON CONFLICT (tenant_id, account_id, day, channel, domain) DO UPDATE SET visits = homepage_days.visits + excluded.visits")
        return statements
    }
}

/// The reach context, written once for both databases.
extension ReachStore where Self: SQLStore {
    public func touchBudget(of account: Account) async throws -> TouchBudget {
        guard let row = try await runner.query(SQLStatement("SELECT touches_per_day, touches_per_week FROM reach_settings WHERE tenant_id = ? AND account_id = ?",
                                                            ReachRows.key(account))).first else { return .standard }
        return TouchBudget(perDay: Int(try row.int("touches_per_day")), perWeek: Int(try row.int("touches_per_week")))
    }

    public func setTouchBudget(_ budget: TouchBudget, of account: Account, audit: AuditEntry) async throws {
        try await runner.transaction([
            .execute(SQLStatement("""
                INSERT INTO reach_settings (tenant_id, account_id, touches_per_day, touches_per_week) VALUES (?, ?, ?, ?)
                ON CONFLICT (tenant_id, account_id) DO UPDATE SET touches_per_day = excluded.touches_per_day, touches_per_week = excluded.touches_per_week
                """, ReachRows.key(account) + [.int(Int64(budget.perDay)), .int(Int64(budget.perWeek))])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func recentTouches(of account: Account, openId: String?, now: Int64) async throws -> [String: RecentTouches] {
        var found: [String: RecentTouches] = [:]
        for row in try await runner.query(SQLStatement("""
            SELECT open_id, CAST(SUM(CASE WHEN at > ? THEN 1 ELSE 0 END) AS BIGINT) AS day, COUNT(*) AS week FROM touches
            WHERE tenant_id = ? AND account_id = ?\(openId == nil ? "" : " AND open_id = ?") AND held = 0 AND at > ? GROUP BY open_id
            """, [.int(now - TouchBudget.day)] + ReachRows.key(account) + (openId.map { [Cell.text($0)] } ?? []) + [.int(now - TouchBudget.week)])) {
            found[try row.text("open_id")] = RecentTouches(lastDay: Int(try row.int("day")), lastWeek: Int(try row.int("week")))
        }
        return found
    }

    public func heldBackTouches(of account: Account, since: Int64) async throws -> [Touchpoint: Int] {
        var counts: [Touchpoint: Int] = [:]
        for row in try await runner.query(SQLStatement("""
            SELECT touchpoint, COUNT(*) AS n FROM touches WHERE tenant_id = ? AND account_id = ? AND held = 1 AND at >= ? GROUP BY touchpoint
            """, ReachRows.key(account) + [.int(since)])) {
            if let point = Touchpoint(rawValue: try row.text("touchpoint")) { counts[point] = Int(try row.int("n")) }
        }
        return counts
    }

    public func posts(of account: Account, limit: Int) async throws -> [Post] {
        try await runner.query(SQLStatement("""
            SELECT \(ReachRows.postColumns) FROM posts WHERE tenant_id = ? AND account_id = ? ORDER BY scheduled_at DESC, post_id LIMIT ?
            """, ReachRows.key(account) + [.int(Int64(limit))])).map(ReachRows.post)
    }

    public func post(id: String, of account: Account) async throws -> Post? {
        try await runner.query(SQLStatement("SELECT \(ReachRows.postColumns) FROM posts WHERE tenant_id = ? AND account_id = ? AND post_id = ?",
                                            ReachRows.key(account) + [.text(id)])).first.map(ReachRows.post)
    }

    public func quotaDays(of account: Account, in days: ClosedRange<Int>) async throws -> [Int] {
        try await runner.query(SQLStatement("""
            SELECT day FROM posts WHERE tenant_id = ? AND account_id = ? AND day >= ? AND day <= ? AND state NOT IN ('failed', 'cancelled')
            """, ReachRows.key(account) + [.int(Int64(days.lowerBound)), .int(Int64(days.upperBound))])).map { Int(try $0.int("day")) }
    }

    public func createPost(_ post: Post, of account: Account, audit: AuditEntry) async throws {
        let month = SubscriptionQuota.firstDay(ofMonthOf: post.day)
        let nextMonth = SubscriptionQuota.firstDay(ofMonthOf: month + 31)
        let taken = "SELECT COUNT(*) FROM posts WHERE tenant_id = ? AND account_id = ? AND state NOT IN ('failed', 'cancelled')"
        try await runner.transaction([
            // Two posts decided at once for one account see each other's day.
            .postgresOnly(SQLStatement("SELECT pg_advisory_xact_lock(hashtext(?))", [.text("posts:\(account.tenantId):\(account.id)")])),
            .forbid(SQLStatement("SELECT 1 WHERE (\(taken) AND day = ?) >= ?", ReachRows.key(account) + [.int(Int64(post.day)), .int(Int64(SubscriptionQuota.perDay))]),
                    orElse: .conflict(field: "scheduledAt", "the account already has a post that day")),
            .forbid(SQLStatement("SELECT 1 WHERE (\(taken) AND day >= ? AND day < ?) >= ?",
                                 ReachRows.key(account) + [.int(Int64(month)), .int(Int64(nextMonth)), .int(Int64(SubscriptionQuota.perMonth))]),
                    orElse: .conflict(field: "scheduledAt", "the account's \(SubscriptionQuota.perMonth) posts of that month are used")),
            .execute(SQLStatement("INSERT INTO posts (tenant_id, \(ReachRows.postColumns)) VALUES (?, \(SQLStatement.placeholders(20)))",
                                  [.text(account.tenantId)] + ReachRows.cells(post))),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func setPostState(_ post: Post, readVersion: Int64, of account: Account, audit: AuditEntry) async throws {
        try await runner.transaction([
            .require(SQLStatement("""
                UPDATE posts SET state = ?, published_at = ?, error = ?, version = version + 1
                WHERE tenant_id = ? AND account_id = ? AND post_id = ? AND version = ? RETURNING version
                """, [.text(post.state.rawValue), .nullable(post.publishedAt), .nullable(post.error)] + ReachRows.key(account) + [.text(post.id), .int(readVersion)]),
                     orElse: .refused(.changedMeanwhile)),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func duePosts(now: Int64, limit: Int) async throws -> [(tenantId: String, post: Post)] {
        try await runner.query(SQLStatement("""
            SELECT tenant_id, \(ReachRows.postColumns) FROM posts WHERE state = 'scheduled' AND scheduled_at <= ? ORDER BY scheduled_at LIMIT ?
            """, [.int(now), .int(Int64(limit))])).map { (try $0.text("tenant_id"), try ReachRows.post($0)) }
    }

    public func startPost(_ post: Post, readVersion: Int64, of account: Account, fanout: TouchFanout, outbox: OutboxMessage?) async throws {
        var steps: [SQLStep] = [.require(SQLStatement("""
            UPDATE posts SET state = ?, recipients = ?, held_back = ?, version = version + 1
            WHERE tenant_id = ? AND account_id = ? AND post_id = ? AND state = 'scheduled' AND version = ? RETURNING version
            """, [.text(post.state.rawValue), .int(Int64(post.recipients)), .int(Int64(post.heldBack))] + ReachRows.key(account) + [.text(post.id), .int(readVersion)]),
                                             orElse: .refused(.changedMeanwhile))]
        steps += ReachRows.touches(fanout, tenantId: account.tenantId, accountId: account.id)
        if let outbox { steps.append(.execute(ReachRows.insert(outbox))) }
        try await runner.transaction(steps)
    }

    public func postRecipients(postId: String, of account: Account) async throws -> [String] {
        try await runner.query(SQLStatement("""
            SELECT open_id FROM touches WHERE tenant_id = ? AND account_id = ? AND touchpoint = 'post' AND ref = ? AND held = 0 ORDER BY open_id
            """, ReachRows.key(account) + [.text(postId)])).map { try $0.text("open_id") }
    }

    public func postStats(of account: Account, postIds: [String]) async throws -> [String: PostStats] {
        guard !postIds.isEmpty else { return [:] }
        var stats: [String: PostStats] = [:]
        for row in try await runner.query(SQLStatement("""
            SELECT ref, CAST(SUM(CASE WHEN held = 0 THEN 1 ELSE 0 END) AS BIGINT) AS delivered, CAST(SUM(held) AS BIGINT) AS held,
              COUNT(opened_at) AS opened, COUNT(clicked_at) AS clicked, COUNT(converted_at) AS converted,
              CAST(SUM(conversion_value) AS BIGINT) AS value, COUNT(unfollowed_at) AS unfollowed
            FROM touches WHERE tenant_id = ? AND account_id = ? AND touchpoint = 'post' AND ref IN (\(SQLStatement.placeholders(postIds.count)))
            GROUP BY ref
            """, ReachRows.key(account) + postIds.map(Cell.text))) {
            var s = PostStats()
            s.delivered = Int(try row.int("delivered"))
            s.heldBack = Int(try row.int("held"))
            s.opened = Int(try row.int("opened"))
            s.clicked = Int(try row.int("clicked"))
            s.converted = Int(try row.int("converted"))
            s.conversionValue = try row.int("value")
            s.unfollowed = Int(try row.int("unfollowed"))
            stats[try row.text("ref")] = s
        }
        return stats
    }

    public func groups(of account: Account) async throws -> [FanGroup] {
        try await runner.query(SQLStatement("SELECT \(ReachRows.groupColumns) FROM fan_groups WHERE tenant_id = ? AND account_id = ? ORDER BY created_at, group_id",
                                            ReachRows.key(account))).map(ReachRows.group)
    }

    public func group(id: String, of account: Account) async throws -> FanGroup? {
        try await runner.query(SQLStatement("SELECT \(ReachRows.groupColumns) FROM fan_groups WHERE tenant_id = ? AND account_id = ? AND group_id = ?",
                                            ReachRows.key(account) + [.text(id)])).first.map(ReachRows.group)
    }

    public func createGroup(_ group: FanGroup, outbox: OutboxMessage, audit: AuditEntry) async throws {
        try await runner.transaction([
            .execute(SQLStatement("INSERT INTO fan_groups (tenant_id, \(ReachRows.groupColumns)) VALUES (?, \(SQLStatement.placeholders(15)))",
                                  [.text(outbox.tenantId)] + ReachRows.cells(group))),
            .execute(ReachRows.insert(outbox)),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func updateGroup(_ group: FanGroup, readVersion: Int64, outbox: OutboxMessage?, tenantId: String, audit: AuditEntry) async throws {
        var steps: [SQLStep] = [.require(SQLStatement("""
            UPDATE fan_groups SET name = ?, description = ?, threshold = ?, welcome = ?, admins = ?, live_reminder = ?, share_new_works = ?, version = version + 1
            WHERE tenant_id = ? AND group_id = ? AND version = ? RETURNING version
            """, [.text(group.name), .text(group.description), .nullable(group.threshold), .nullable(group.welcome), .text(group.admins.joined(separator: "\n")),
                  .int(group.liveReminder ? 1 : 0), .int(group.shareNewWorks ? 1 : 0), .text(tenantId), .text(group.id), .int(readVersion)]),
                                             orElse: .refused(.changedMeanwhile))]
        if let outbox { steps.append(.execute(ReachRows.insert(outbox))) }
        steps.append(.execute(TenancyRows.record(audit)))
        try await runner.transaction(steps)
    }

    public func sendToGroup(_ outbox: OutboxMessage, fanout: TouchFanout, audit: AuditEntry) async throws {
        try await runner.transaction([.execute(ReachRows.insert(outbox))] + ReachRows.touches(fanout, tenantId: outbox.tenantId, accountId: outbox.accountId)
                                     + [.execute(TenancyRows.record(audit))])
    }

    public func groupMembers(platformGroupId: String, of account: Account) async throws -> [String] {
        try await runner.query(SQLStatement("SELECT open_id FROM fans WHERE tenant_id = ? AND account_id = ? AND fan_groups LIKE ? ESCAPE '\\' ORDER BY open_id",
                                            ReachRows.key(account) + [SQLStatement.containing(",\(platformGroupId)=+")])).map { try $0.text("open_id") }
    }

    public func groupStats(platformGroupId: String, of account: Account, days: ClosedRange<Int>, now: Int64) async throws -> GroupStats {
        var stats = GroupStats()
        let member = SQLStatement.containing(",\(platformGroupId)=+")
        if let row = try await runner.query(SQLStatement("""
            SELECT CAST(SUM(CASE WHEN fan_groups LIKE ? ESCAPE '\\' THEN 1 ELSE 0 END) AS BIGINT) AS members,
              CAST(SUM(CASE WHEN fan_groups LIKE ? ESCAPE '\\' AND orders_paid >= 1 THEN 1 ELSE 0 END) AS BIGINT) AS buying_members,
              CAST(SUM(CASE WHEN fan_groups LIKE ? ESCAPE '\\' AND orders_paid >= 2 THEN 1 ELSE 0 END) AS BIGINT) AS repeat_members,
              CAST(SUM(CASE WHEN fan_groups NOT LIKE ? ESCAPE '\\' AND orders_paid >= 1 THEN 1 ELSE 0 END) AS BIGINT) AS buying_others,
              CAST(SUM(CASE WHEN fan_groups NOT LIKE ? ESCAPE '\\' AND orders_paid >= 2 THEN 1 ELSE 0 END) AS BIGINT) AS repeat_others
            FROM fans WHERE tenant_id = ? AND account_id = ?
            """, [member, member, member, member, member] + ReachRows.key(account))).first {
            stats.members = Int(row.optionalInt("members") ?? 0)
            stats.buyingMembers = Int(row.optionalInt("buying_members") ?? 0)
            stats.repeatMembers = Int(row.optionalInt("repeat_members") ?? 0)
            stats.buyingOthers = Int(row.optionalInt("buying_others") ?? 0)
            stats.repeatOthers = Int(row.optionalInt("repeat_others") ?? 0)
        }
        stats.activeMembers = Int(try await runner.query(SQLStatement("""
            SELECT COUNT(*) AS n FROM group_members WHERE tenant_id = ? AND account_id = ? AND platform_group_id = ? AND last_message_at > ?
            """, ReachRows.key(account) + [.text(platformGroupId), .int(now - TouchBudget.week)])).first?.int("n") ?? 0)
        let rows = try await runner.query(SQLStatement("""
            SELECT day, joins, leaves, messages FROM group_days WHERE tenant_id = ? AND account_id = ? AND platform_group_id = ? AND day <= ? ORDER BY day
            """, ReachRows.key(account) + [.text(platformGroupId), .int(Int64(days.upperBound))]))
        var counts: [Int: (joins: Int, leaves: Int, messages: Int)] = [:]
        var before = 0
        for row in rows {
            let day = Int(try row.int("day"))
            let c = (Int(try row.int("joins")), Int(try row.int("leaves")), Int(try row.int("messages")))
            if day < days.lowerBound { before += c.0 - c.1 } else { counts[day] = c }
        }
        // Members over time from the joins and leaves the log holds; fans who joined before Flywheel saw them make up the rest.
        let seen = before + counts.values.reduce(0) { $0 + $1.joins - $1.leaves }
        var members = max(0, before + (stats.members - seen))
        for day in days {
            let c = counts[day] ?? (0, 0, 0)
            members = max(0, members + c.joins - c.leaves)
            stats.days.append(GroupStats.Day(day: day, joins: c.joins, leaves: c.leaves, messages: c.messages, members: members))
        }
        return stats
    }

    public func pendingApplications(limit: Int) async throws -> [(tenantId: String, application: JoinApplication)] {
        try await runner.query(SQLStatement("""
            SELECT tenant_id, \(ReachRows.applicationColumns) FROM group_applications WHERE state = 'pending' ORDER BY applied_at LIMIT ?
            """, [.int(Int64(limit))])).map { (try $0.text("tenant_id"), try ReachRows.application($0)) }
    }

    public func decideApplications(_ decisions: [(application: JoinApplication, outbox: OutboxMessage?)], tenantId: String) async throws {
        guard !decisions.isEmpty else { return }
        var steps: [SQLStep] = []
        for (a, outbox) in decisions {
            steps.append(.execute(SQLStatement("""
                UPDATE group_applications SET state = ?, reason = ?, decided_at = ? WHERE tenant_id = ? AND account_id = ? AND apply_id = ? AND state = 'pending'
                """, [.text(a.state.rawValue), .nullable(a.reason), .nullable(a.decidedAt), .text(tenantId), .text(a.accountId), .text(a.applyId)])))
            if let outbox { steps.append(.execute(ReachRows.insert(outbox))) }
        }
        try await runner.transaction(steps)
    }

    public func applications(platformGroupId: String, of account: Account, limit: Int) async throws -> [JoinApplication] {
        try await runner.query(SQLStatement("""
            SELECT \(ReachRows.applicationColumns) FROM group_applications WHERE tenant_id = ? AND account_id = ? AND platform_group_id = ?
            ORDER BY applied_at DESC LIMIT ?
            """, ReachRows.key(account) + [.text(platformGroupId), .int(Int64(limit))])).map(ReachRows.application)
    }
}

extension ReachStore where Self: SQLStore {
    public func liveSchedules(of account: Account) async throws -> [LiveSchedule] {
        try await runner.query(SQLStatement("SELECT \(ReachRows.scheduleColumns) FROM live_schedules WHERE tenant_id = ? AND account_id = ? ORDER BY created_at",
                                            ReachRows.key(account))).map(ReachRows.schedule)
    }

    public func allLiveSchedules() async throws -> [(tenantId: String, schedule: LiveSchedule)] {
        try await runner.query(SQLStatement("SELECT tenant_id, \(ReachRows.scheduleColumns) FROM live_schedules ORDER BY tenant_id, created_at"))
            .map { (try $0.text("tenant_id"), try ReachRows.schedule($0)) }
    }

    public func createLives(_ lives: [Live], schedule: LiveSchedule?, tenantId: String, audit: AuditEntry?) async throws {
        let tenant = Cell.text(tenantId)
        var steps: [SQLStep] = []
        if let s = schedule {
            steps.append(.execute(SQLStatement("""
                INSERT INTO live_schedules (tenant_id, \(ReachRows.scheduleColumns)) VALUES (?, \(SQLStatement.placeholders(8)))
                """, [tenant, .text(s.id), .text(s.accountId), .text(s.title), .text(s.weekdays.map(String.init).joined(separator: ",")),
                      .text(s.times.map(String.init).joined(separator: ",")), .int(Int64(s.durationMinutes)), .int(Int64(s.reminderMinutes)), .int(s.createdAt)])))
        }
        for l in lives {
            steps.append(.execute(SQLStatement("""
                INSERT INTO lives (tenant_id, \(ReachRows.liveColumns)) VALUES (?, \(SQLStatement.placeholders(9)))
                ON CONFLICT (tenant_id, live_id) DO NOTHING
                """, [tenant] + ReachRows.cells(l))))
        }
        if let audit { steps.append(.execute(TenancyRows.record(audit))) }
        guard !steps.isEmpty else { return }
        try await runner.transaction(steps)
    }

    public func lives(of account: Account, from: Int64, to: Int64) async throws -> [Live] {
        try await runner.query(SQLStatement("""
            SELECT \(ReachRows.liveColumns) FROM lives WHERE tenant_id = ? AND account_id = ? AND starts_at >= ? AND starts_at < ? ORDER BY starts_at, live_id
            """, ReachRows.key(account) + [.int(from), .int(to)])).map(ReachRows.live)
    }

    public func live(id: String, of account: Account) async throws -> Live? {
        try await runner.query(SQLStatement("SELECT \(ReachRows.liveColumns) FROM lives WHERE tenant_id = ? AND account_id = ? AND live_id = ?",
                                            ReachRows.key(account) + [.text(id)])).first.map(ReachRows.live)
    }

    public func cancelLive(id: String, of account: Account, audit: AuditEntry) async throws {
        try await runner.transaction([
            .require(SQLStatement("UPDATE lives SET cancelled = 1 WHERE tenant_id = ? AND account_id = ? AND live_id = ? RETURNING live_id",
                                  ReachRows.key(account) + [.text(id)]), orElse: .notFound("live \(id)")),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func livesToRemind(now: Int64, limit: Int) async throws -> [(tenantId: String, live: Live)] {
        try await runner.query(SQLStatement("""
            SELECT tenant_id, \(ReachRows.liveColumns) FROM lives WHERE reminded_at IS NULL AND cancelled = 0 AND starts_at > ?
              AND starts_at - reminder_minutes * 60000 <= ? ORDER BY starts_at LIMIT ?
            """, [.int(now), .int(now), .int(Int64(limit))])).map { (try $0.text("tenant_id"), try ReachRows.live($0)) }
    }

    public func remindLive(_ live: Live, tenantId: String, at: Int64, messages: [DeskMessage], outbox: [OutboxMessage], fanouts: [TouchFanout],
                           audit: AuditEntry?) async throws {
        var steps: [SQLStep] = [.require(SQLStatement("""
            UPDATE lives SET reminded_at = ? WHERE tenant_id = ? AND live_id = ? AND reminded_at IS NULL RETURNING live_id
            """, [.int(at), .text(tenantId), .text(live.id)]), orElse: .refused(.changedMeanwhile))]
        steps += DeskRows.queued(messages, outbox: outbox, tenantId: tenantId)
        steps += fanouts.flatMap { ReachRows.touches($0, tenantId: tenantId, accountId: live.accountId) }
        if let audit { steps.append(.execute(TenancyRows.record(audit))) }
        try await runner.transaction(steps)
    }

    public func liveBookers(liveId: String, of account: Account) async throws -> [String] {
        try await runner.query(SQLStatement("SELECT open_id FROM live_bookings WHERE tenant_id = ? AND account_id = ? AND live_id = ? ORDER BY open_id",
                                            ReachRows.key(account) + [.text(liveId)])).map { try $0.text("open_id") }
    }

    public func liveStats(_ live: Live, of account: Account) async throws -> LiveStats {
        var stats = LiveStats()
        for row in try await runner.query(SQLStatement("""
            SELECT audience, COUNT(DISTINCT open_id) AS viewers, CAST(SUM(minutes) AS BIGINT) AS minutes, CAST(SUM(gifts) AS BIGINT) AS gifts,
              CAST(SUM(gmv) AS BIGINT) AS gmv FROM live_viewers
            WHERE tenant_id = ? AND account_id = ? AND hour >= ? AND hour <= ? GROUP BY audience
            """, ReachRows.key(account) + [.int(live.startsAt / 3_600_000), .int((live.endsAt - 1) / 3_600_000)])) {
            guard let audience = LiveAudience(rawValue: try row.text("audience")) else { continue }
            var a = LiveStats.Audience()
            a.viewers = Int(try row.int("viewers"))
            a.minutes = row.optionalInt("minutes") ?? 0
            a.gifts = row.optionalInt("gifts") ?? 0
            a.gmv = row.optionalInt("gmv") ?? 0
            stats.audiences[audience] = a
        }
        stats.bookings = Int(try await runner.query(SQLStatement("SELECT COUNT(*) AS n FROM live_bookings WHERE tenant_id = ? AND account_id = ? AND live_id = ?",
                                                                 ReachRows.key(account) + [.text(live.id)])).first?.int("n") ?? 0)
        for row in try await runner.query(SQLStatement("""
            SELECT held, COUNT(*) AS n FROM touches WHERE tenant_id = ? AND account_id = ? AND touchpoint = 'reminder' AND ref = ? GROUP BY held
            """, ReachRows.key(account) + [.text(live.id)])) {
            if try row.int("held") == 1 { stats.remindersHeld = Int(try row.int("n")) } else { stats.remindersSent = Int(try row.int("n")) }
        }
        return stats
    }

    public func homepageItems(of account: Account) async throws -> [HomepageItem: Bool] {
        var items: [HomepageItem: Bool] = [:]
        for row in try await runner.query(SQLStatement("SELECT item, done FROM homepage_items WHERE tenant_id = ? AND account_id = ?", ReachRows.key(account))) {
            if let item = HomepageItem(rawValue: try row.text("item")) { items[item] = try row.int("done") == 1 }
        }
        return items
    }

    public func setHomepageItems(_ items: [HomepageItem: Bool], of account: Account, at: Int64, audit: AuditEntry) async throws {
        try await runner.transaction(items.sorted { $0.key.rawValue < $1.key.rawValue }.map { item, done in
            .execute(SQLStatement("""
                INSERT INTO homepage_items (tenant_id, account_id, item, done, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (tenant_id, account_id, item) DO UPDATE SET done = excluded.done, updated_at = excluded.updated_at
                """, ReachRows.key(account) + [.text(item.rawValue), .int(done ? 1 : 0), .int(at)]))
        } + [.execute(TenancyRows.record(audit))])
    }

    public func homepageVisits(of account: Account, days: ClosedRange<Int>) async throws -> [(channel: Channel, domain: SourceDomain, visits: Int)] {
        try await runner.query(SQLStatement("""
            SELECT channel, domain, CAST(SUM(visits) AS BIGINT) AS visits FROM homepage_days WHERE tenant_id = ? AND account_id = ? AND day >= ? AND day <= ?
            GROUP BY channel, domain ORDER BY visits DESC, channel, domain
            """, ReachRows.key(account) + [.int(Int64(days.lowerBound)), .int(Int64(days.upperBound))])).map {
            (Channel(rawValue: try $0.text("channel")) ?? .unknown, SourceDomain(rawValue: try $0.text("domain")) ?? .public, Int(try $0.int("visits")))
        }
    }
}

/// Rows of the reach tables and the values they hold.
enum ReachRows {
    static let scheduleColumns = "schedule_id, account_id, title, weekdays, times, duration_minutes, reminder_minutes, created_at"

    static func schedule(_ row: SQLRow) throws -> LiveSchedule {
        LiveSchedule(id: try row.text("schedule_id"), accountId: try row.text("account_id"), title: try row.text("title"),
                     weekdays: try row.text("weekdays").split(separator: ",").compactMap { Int($0) },
                     times: try row.text("times").split(separator: ",").compactMap { Int($0) }, durationMinutes: Int(try row.int("duration_minutes")),
                     reminderMinutes: Int(try row.int("reminder_minutes")), createdAt: try row.int("created_at"))
    }

    static let liveColumns = "live_id, account_id, schedule_id, title, starts_at, ends_at, reminder_minutes, reminded_at, cancelled"

    static func cells(_ l: Live) -> [Cell] {
        [.text(l.id), .text(l.accountId), .nullable(l.scheduleId), .text(l.title), .int(l.startsAt), .int(l.endsAt), .int(Int64(l.reminderMinutes)),
         .nullable(l.remindedAt), .int(l.cancelled ? 1 : 0)]
    }

    static func live(_ row: SQLRow) throws -> Live {
        var l = Live(id: try row.text("live_id"), accountId: try row.text("account_id"), scheduleId: row.optionalText("schedule_id"), title: try row.text("title"),
                     startsAt: try row.int("starts_at"), endsAt: try row.int("ends_at"), reminderMinutes: Int(try row.int("reminder_minutes")))
        l.remindedAt = row.optionalInt("reminded_at")
        l.cancelled = try row.int("cancelled") == 1
        return l
    }

    static func key(_ account: Account) -> [Cell] { [.text(account.tenantId), .text(account.id)] }

    static func insert(_ o: OutboxMessage) -> SQLStatement {
        SQLStatement("""
            INSERT INTO outbox (tenant_id, \(DeskRows.outboxColumns)) VALUES (?, \(SQLStatement.placeholders(20)))
            ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
            """, [.text(o.tenantId)] + DeskRows.cells(o))
    }

    /// What a settled outbox message changes beyond itself: a post published or failed, a group
    /// created (and its greeting queued) or failed, a join decision the platform refused. Each
    /// only when the outbox took this outcome (an echo or another sender may have settled it first).
    static func followUp(_ m: OutboxMessage) -> [SQLStep] {
        guard m.state == .sent || m.state == .failed, let target = m.target else { return [] }
        let tenant = Cell.text(m.tenantId)
        let tookIt = "EXISTS (SELECT 1 FROM outbox WHERE tenant_id = ? AND outbox_id = ? AND state = ? AND attempts = ?)"
        let tookItBinds: [Cell] = [tenant, .text(m.id), .text(m.state.rawValue), .int(Int64(m.attempts))]
        let sent = m.state == .sent
        switch m.action {
        case .publishPost:
            return [.execute(SQLStatement("""
                UPDATE posts SET state = ?, published_at = ?, error = ?, version = version + 1
                WHERE tenant_id = ? AND post_id = ? AND state = 'publishing' AND \(tookIt)
                """, [.text(sent ? PostState.published.rawValue : PostState.failed.rawValue), .nullable(sent ? m.sentAt : nil), .nullable(sent ? nil : m.lastError),
                      tenant, .text(target)] + tookItBinds))]
        case .createGroup:
            guard sent else {
                return [.execute(SQLStatement("""
                    UPDATE fan_groups SET state = 'failed', error = ?, version = version + 1 WHERE tenant_id = ? AND group_id = ? AND state = 'creating' AND \(tookIt)
                    """, [.nullable(m.lastError), tenant, .text(target)] + tookItBinds))]
            }
            return [.execute(SQLStatement("""
                UPDATE fan_groups SET state = 'active', platform_group_id = ?, group_number = ?, error = NULL, version = version + 1
                WHERE tenant_id = ? AND group_id = ? AND state = 'creating' AND \(tookIt)
                """, [.nullable(m.platformId), .nullable(m.result), tenant, .text(target)] + tookItBinds)),
                    // The greeting needs the platform's id, which only this answer gives.
                    .execute(SQLStatement("""
                INSERT INTO outbox (tenant_id, outbox_id, idempotency_key, account_id, open_id, content_type, content_text, message_id, state, attempts,
                  next_attempt_at, created_at, action, target)
                SELECT tenant_id, 'ob_greet_' || group_id, 'greeting:' || group_id || ':created', account_id, '', 'text', welcome, '', 'pending', 0, ?, ?,
                  'group_greeting', platform_group_id
                FROM fan_groups WHERE tenant_id = ? AND group_id = ? AND welcome IS NOT NULL AND platform_group_id IS NOT NULL
                ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
                """, [.int(m.sentAt ?? m.nextAttemptAt), .int(m.sentAt ?? m.nextAttemptAt), tenant, .text(target)]))]
        case .approveJoin, .rejectJoin:
            guard !sent else { return [] }
            return [.execute(SQLStatement("""
                UPDATE group_applications SET reason = ? WHERE tenant_id = ? AND account_id = ? AND apply_id = ? AND \(tookIt)
                """, [.text("decided here, but the platform refused it: \(m.lastError ?? "no reason given"); decide it in the app"), tenant, .text(m.accountId),
                      .text(target)] + tookItBinds))]
        case .directMessage, .groupMessage, .groupGreeting:
            return []
        }
    }

    /// The touches of a fan-out, many rows a statement.
    static func touches(_ f: TouchFanout, tenantId: String, accountId: String) -> [SQLStep] {
        let rows = f.reached.map { ($0, 0) } + f.heldBack.map { ($0, 1) }
        let heldOut: [SQLStep] = SQLStatement.insert("post_holdouts", key: [.text(tenantId), .text(accountId)],
                                                     rows: f.heldOut.map { [.text(f.ref), .text($0), .int(f.at)] }, then: "ON CONFLICT DO NOTHING").map(SQLStep.execute)
        return heldOut + SQLStatement.chunks(rows, of: 500).map { chunk in
            .execute(SQLStatement("""
                INSERT INTO touches (tenant_id, account_id, touchpoint, ref, open_id, at, held)
                VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", "))
                ON CONFLICT (tenant_id, account_id, touchpoint, ref, open_id) DO NOTHING
                """, chunk.flatMap { openId, held -> [Cell] in
                    [.text(tenantId), .text(accountId), .text(f.touchpoint.rawValue), .text(f.ref), .text(openId), .int(f.at), .int(Int64(held))]
                }))
        }
    }

    static let postColumns = """
        post_id, account_id, title, body, format, media_ref, tool_kind, tool_ref, segment_id, scheduled_at, day, state, recipients, held_back, \
        published_at, error, created_by, created_at, version, holdout_percent
        """

    static func cells(_ p: Post) -> [Cell] {
        [.text(p.id), .text(p.accountId), .text(p.title), .text(p.body), .text(p.format.rawValue), .nullable(p.mediaRef), .nullable(p.tool?.kind.rawValue),
         .nullable(p.tool?.ref), .nullable(p.segmentId), .int(p.scheduledAt), .int(Int64(p.day)), .text(p.state.rawValue), .int(Int64(p.recipients)),
         .int(Int64(p.heldBack)), .nullable(p.publishedAt), .nullable(p.error), .text(p.createdBy), .int(p.createdAt), .int(p.version),
         .int(Int64(p.holdoutPercent))]
    }

    static func post(_ row: SQLRow) throws -> Post {
        guard let format = PostFormat(rawValue: try row.text("format")), let state = PostState(rawValue: try row.text("state")) else {
            throw StoreError.corrupt("posts.format or posts.state")
        }
        let tool = row.optionalText("tool_kind").flatMap(PostTool.Kind.init(rawValue:)).flatMap { kind in row.optionalText("tool_ref").map { PostTool(kind: kind, ref: $0) } }
        var p = Post(id: try row.text("post_id"), accountId: try row.text("account_id"), title: try row.text("title"), body: try row.text("body"), format: format,
                     mediaRef: row.optionalText("media_ref"), tool: tool, segmentId: row.optionalText("segment_id"), scheduledAt: try row.int("scheduled_at"),
                     day: Int(try row.int("day")), state: state, createdBy: try row.text("created_by"), createdAt: try row.int("created_at"))
        p.recipients = Int(try row.int("recipients"))
        p.heldBack = Int(try row.int("held_back"))
        p.holdoutPercent = Int(try row.int("holdout_percent"))
        p.publishedAt = row.optionalInt("published_at")
        p.error = row.optionalText("error")
        p.version = try row.int("version")
        return p
    }

    static let groupColumns = """
        group_id, account_id, name, description, platform_group_id, group_number, threshold, welcome, admins, live_reminder, share_new_works, state, error, \
        created_at, version
        """

    static func cells(_ g: FanGroup) -> [Cell] {
        [.text(g.id), .text(g.accountId), .text(g.name), .text(g.description), .nullable(g.platformGroupId), .nullable(g.groupNumber), .nullable(g.threshold),
         .nullable(g.welcome), .text(g.admins.joined(separator: "\n")), .int(g.liveReminder ? 1 : 0), .int(g.shareNewWorks ? 1 : 0), .text(g.state.rawValue),
         .nullable(g.error), .int(g.createdAt), .int(g.version)]
    }

    static func group(_ row: SQLRow) throws -> FanGroup {
        guard let state = GroupState(rawValue: try row.text("state")) else { throw StoreError.corrupt("fan_groups.state") }
        let admins = try row.text("admins")
        var g = FanGroup(id: try row.text("group_id"), accountId: try row.text("account_id"), name: try row.text("name"), description: try row.text("description"),
                         threshold: row.optionalText("threshold"), welcome: row.optionalText("welcome"),
                         admins: admins.isEmpty ? [] : admins.split(separator: "\n").map(String.init),
                         liveReminder: try row.int("live_reminder") == 1, shareNewWorks: try row.int("share_new_works") == 1, createdAt: try row.int("created_at"))
        g.platformGroupId = row.optionalText("platform_group_id")
        g.groupNumber = row.optionalText("group_number")
        g.state = state
        g.error = row.optionalText("error")
        g.version = try row.int("version")
        return g
    }

    static let applicationColumns = "account_id, apply_id, platform_group_id, open_id, applied_at, state, reason, decided_at"

    static func application(_ row: SQLRow) throws -> JoinApplication {
        guard let state = ApplicationState(rawValue: try row.text("state")) else { throw StoreError.corrupt("group_applications.state") }
        var a = JoinApplication(applyId: try row.text("apply_id"), accountId: try row.text("account_id"), platformGroupId: try row.text("platform_group_id"),
                                openId: try row.text("open_id"), appliedAt: try row.int("applied_at"))
        a.state = state
        a.reason = row.optionalText("reason")
        a.decidedAt = row.optionalInt("decided_at")
        return a
    }
}
