import FlywheelDomain
import FlywheelStore
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Reach at work: pushes subscription posts when they fall due (through the outbox where the
/// platform takes them, as the operator's task where it does not), within the touch budget; and
/// decides applications to join fan groups by each group's threshold.
public final class Reach: Service, Sendable {
    let env: FlywheelEnvironment
    private let failures: Counter
    private let heldBack: Counter
    /// When lives were last planned ahead from the schedules.
    private let planned = Mutex<Int64?>(nil)

    public init(_ env: FlywheelEnvironment) {
        self.env = env
        failures = Counter(label: "flywheel_reach_failures_total", factory: env.metrics)
        heldBack = Counter(label: "flywheel_reach_held_back_total", factory: env.metrics)
    }

    /// Applications decided per round.
    static let batch = 500

    /// One round: due posts, then waiting applications; returns how many it handled. One
    /// account's failure is logged and leaves the others be.
    @discardableResult
    public func runOnce() async -> Int {
        var done = 0
        do {
            for (tenantId, post) in try await env.store.duePosts(now: env.now(), limit: 20) {
                do {
                    guard let account = try await env.store.account(id: post.accountId, tenantIds: [tenantId]) else { continue }
                    try await start(post, of: account)
                    done += 1
                } catch StoreError.refused(.changedMeanwhile) {
                    continue
                } catch {
                    // Failed where the operator sees it, with the reason, rather than tried forever ahead of every other post.
                    failures.increment()
                    env.logger.error("a due post could not be started", metadata: ["post": "\(post.id)", "error": "\(error)"])
                    try? await fail(post, tenantId: tenantId, because: "\(error)")
                }
            }
            done += await planLives()
            for (tenantId, live) in try await env.store.livesToRemind(now: env.now(), limit: 20) {
                do {
                    guard let account = try await env.store.account(id: live.accountId, tenantIds: [tenantId]) else { continue }
                    _ = try await remind(live, of: account, audit: nil)
                    done += 1
                } catch StoreError.refused(.changedMeanwhile) {
                    continue
                } catch {
                    failures.increment()
                    env.logger.error("a live's reminders could not be sent; will retry", metadata: ["live": "\(live.id)", "error": "\(error)"])
                }
            }
            let pending = try await env.store.pendingApplications(limit: Self.batch)
            for (key, applications) in Dictionary(grouping: pending, by: { AccountKey(tenantId: $0.tenantId, accountId: $0.application.accountId) }) {
                do {
                    done += try await decide(applications.map(\.application), tenantId: key.tenantId)
                } catch {
                    failures.increment()
                    env.logger.error("applications could not be decided; will retry", metadata: [
                        "account": "\(key.accountId)", "tenant": "\(key.tenantId)", "error": "\(error)",
                    ])
                }
            }
        } catch {
            failures.increment()
            env.logger.error("reach could not list its work", metadata: ["error": "\(error)"])
        }
        return done
    }

    /// Handles everything due until nothing is left (tests, the demo).
    public func drain() async {
        while await runOnce() > 0 {}
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            if await runOnce() == 0 { try? await Task.sleep(for: .milliseconds(200)) }
        }
    }

    /// The fans a post goes to: the segment's members, or every follower, split by the touch budget.
    public func audience(of post: Post, in account: Account, now: Int64) async throws -> (reached: [String], heldBack: [String]) {
        var fans: [String] = []
        if let segmentId = post.segmentId {
            guard try await env.store.segment(id: segmentId, of: account) != nil else {
                throw StoreError.notFound("the segment \(segmentId) was deleted before the post went out")
            }
            var cursor: String?
            repeat {
                let page = try await env.store.segmentMembers(id: segmentId, of: account, cursor: cursor, limit: 10_000)
                fans += page.items
                cursor = page.nextCursor
            } while cursor != nil
        } else {
            let followers = FanPredicate.isTrue(field: "following")
            var cursor: String?
            repeat {
                let page = try await env.store.fans(of: account, matching: followers, now: now, cursor: cursor, limit: 10_000)
                fans += page.items.map(\.openId)
                cursor = page.nextCursor
            } while cursor != nil
        }
        return try await split(fans, of: account, now: now)
    }

    /// Fans the touch budget lets through now, and those it holds back.
    public func split(_ fans: [String], of account: Account, now: Int64) async throws -> (reached: [String], heldBack: [String]) {
        let budget = try await env.store.touchBudget(of: account)
        let recent = try await env.store.recentTouches(of: account, openId: nil, now: now)
        var reached: [String] = [], held: [String] = []
        for fan in fans {
            if budget.admits(recent[fan] ?? RecentTouches()) { reached.append(fan) } else { held.append(fan) }
        }
        return (reached, held)
    }

    func fail(_ post: Post, tenantId: String, because why: String) async throws {
        guard let account = try await env.store.account(id: post.accountId, tenantIds: [tenantId]) else { return }
        var failed = post
        failed.state = .failed
        failed.error = "could not be started: \(why)"
        try await env.store.setPostState(failed, readVersion: post.version, of: account,
                                         audit: env.audit(tenantId: tenantId, actor: "reach", action: "post.failed", target: post.id, detail: why))
    }

    /// Starts a due post: its touches, and its push through the outbox, or the operator's task.
    func start(_ due: Post, of account: Account) async throws {
        let now = env.now()
        let (audience, held) = try await audience(of: due, in: account, now: now)
        // The post's holdout is kept from it on purpose, by fan and post, to measure it against.
        let heldOut = due.holdoutPercent == 0 ? [] : audience.filter {
            ExperimentArm.of($0, experiment: due.id, holdoutPercent: due.holdoutPercent, tenantId: account.tenantId, controlPercent: 0) == .holdout
        }
        let reached = heldOut.isEmpty ? audience : Array(Set(audience).subtracting(heldOut)).sorted()
        var post = due
        post.recipients = reached.count
        post.heldBack = held.count
        var outbox: OutboxMessage?
        if env.platform.publishPost != nil {
            post.state = .publishing
            outbox = OutboxMessage(tenantId: account.tenantId, id: env.newId("out"), idempotencyKey: "post:\(post.id)", accountId: account.id, openId: "",
                                   replyTo: nil, replyBy: nil, content: .text(String(post.title.prefix(MessageContent.maxText))), messageId: "",
                                   createdAt: now, action: .publishPost, target: post.id)
        } else {
            post.state = .task
        }
        try await env.store.startPost(post, readVersion: due.version, of: account,
                                      fanout: TouchFanout(touchpoint: .post, ref: post.id, at: now, reached: reached, heldBack: held, heldOut: heldOut),
                                      outbox: outbox)
        heldBack.increment(by: held.count)
    }

    /// Plans every schedule's lives `LiveSchedule.horizonDays` ahead, every ten minutes; returns
    /// how many schedules it went through.
    func planLives() async -> Int {
        let now = env.now()
        guard planned.withLock({ last in
            if let last, now - last < 600_000 { return false }
            last = now
            return true
        }) else { return 0 }
        do {
            let schedules = try await env.store.allLiveSchedules()
            for (tenantId, schedule) in schedules {
                guard let account = try await env.store.account(id: schedule.accountId, tenantIds: [tenantId]) else { continue }
                try await env.store.createLives(Self.lives(of: schedule, in: account, from: now), schedule: nil, tenantId: tenantId, audit: nil)
            }
            return 0
        } catch {
            failures.increment()
            env.logger.error("lives could not be planned; will retry", metadata: ["error": "\(error)"])
            planned.withLock { $0 = nil }
            return 0
        }
    }

    /// A schedule's lives from today through the horizon, those not yet started.
    public static func lives(of schedule: LiveSchedule, in account: Account, from now: Int64) -> [Live] {
        let calendar = account.calendar
        let today = calendar.day(ofMillis: now)
        return (today...(today + LiveSchedule.horizonDays)).flatMap { schedule.lives(on: $0, startOfDay: calendar.startOfDay($0)) }.filter { $0.startsAt > now }
    }

    /// A live's reminders: a DM to each booker who allowed proactive messages (within the
    /// platform's three a day and the touch budget; the others are held back and counted), and a
    /// message to each active group that wants live reminders. Returns (sent, held back).
    public func remind(_ live: Live, of account: Account, audit: AuditEntry?) async throws -> (sent: Int, heldBack: Int) {
        let now = env.now()
        let text = "直播预告：「\(live.title)」\(LiveSchedule.text(ofMinutes: Int((live.startsAt - account.calendar.startOfDay(account.calendar.day(ofMillis: live.startsAt))) / 60_000))) 开播，记得来看"
        let content = MessageContent.text(String(text.prefix(MessageContent.maxText)))
        let budget = try await env.store.touchBudget(of: account)
        let recent = try await env.store.recentTouches(of: account, openId: nil, now: now)
        let today = account.calendar.startOfDay(account.calendar.day(ofMillis: now))
        let dmsAllowed = try await env.store.tokens(of: account).map { Desk.allowsDirectMessages($0.scope) } ?? false
        var messages: [DeskMessage] = [], outbox: [OutboxMessage] = [], reached: [String] = [], held: [String] = []
        for fan in try await env.store.liveBookers(liveId: live.id, of: account) {
            let conversation = try await env.store.conversation(of: account, openId: fan)
            guard dmsAllowed, conversation?.mayMessage(at: now) == true, budget.admits(recent[fan] ?? RecentTouches()),
                  try await env.store.proactiveMessages(of: account, openId: fan, since: today) < Conversation.proactivePerDay else {
                held.append(fan)
                continue
            }
            let (message, dm) = Desk.queue(content, to: fan, of: account, author: .auto, authorId: "live:\(live.id)", replyTo: nil, replyBy: nil,
                                           key: "remind:\(live.id):\(fan)", id: env.newId("out"), at: now)
            messages.append(message)
            outbox.append(dm)
            reached.append(fan)
        }
        var fanouts = [TouchFanout(touchpoint: .reminder, ref: live.id, at: now, reached: reached, heldBack: held)]
        for group in try await env.store.groups(of: account) where group.liveReminder && group.state == .active {
            guard let platformId = group.platformGroupId else { continue }
            let send = OutboxMessage(tenantId: account.tenantId, id: env.newId("out"), idempotencyKey: "remind:\(live.id):group:\(group.id)", accountId: account.id,
                                     openId: "", replyTo: nil, replyBy: nil, content: content, messageId: "", createdAt: now, action: .groupMessage, target: platformId)
            outbox.append(send)
            fanouts.append(TouchFanout(touchpoint: .groupMessage, ref: send.idempotencyKey, at: now,
                                       reached: try await env.store.groupMembers(platformGroupId: platformId, of: account), heldBack: []))
        }
        try await env.store.remindLive(live, tenantId: account.tenantId, at: now, messages: messages, outbox: outbox, fanouts: fanouts, audit: audit)
        heldBack.increment(by: held.count)
        return (reached.count, held.count)
    }

    /// Decides one account's applications by their groups' thresholds; an application to a group
    /// Flywheel does not manage is left to the app.
    func decide(_ applications: [JoinApplication], tenantId: String) async throws -> Int {
        guard let first = applications.first, let account = try await env.store.account(id: first.accountId, tenantIds: [tenantId]) else { return 0 }
        let groups = Dictionary(try await env.store.groups(of: account).compactMap { g in g.platformGroupId.map { ($0, g) } }) { a, _ in a }
        var thresholds: [String: CompiledPredicate] = [:]
        for (id, group) in groups {
            if let text = group.threshold, let predicate = try? FanPredicate.parse(text) { thresholds[id] = predicate.compile(calendar: account.calendar) }
        }
        let now = env.now()
        var decisions: [(application: JoinApplication, outbox: OutboxMessage?)] = []
        for application in applications {
            guard let group = groups[application.platformGroupId] else {
                var manual = application
                manual.state = .manual
                manual.reason = "not a group Flywheel manages: decide it in the app"
                manual.decidedAt = now
                decisions.append((manual, nil))
                continue
            }
            let fan = try await env.store.fan(of: account, openId: application.openId)
            let decided = application.decided(by: group, threshold: thresholds[application.platformGroupId], fan: fan, at: now)
            let outbox = OutboxMessage(tenantId: tenantId, id: env.newId("out"), idempotencyKey: "join:\(account.id):\(application.applyId)", accountId: account.id,
                                       openId: "", replyTo: nil, replyBy: nil, content: .text(String((decided.reason ?? "").prefix(MessageContent.maxText))),
                                       messageId: "", createdAt: now, action: decided.state == .approved ? .approveJoin : .rejectJoin,
                                       target: application.applyId)
            decisions.append((decided, outbox))
        }
        try await env.store.decideApplications(decisions, tenantId: tenantId)
        return decisions.count
    }
}
