import FlywheelDomain
import FlywheelStore
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Reach at work: pushes subscription posts when they fall due (through the outbox where the
/// platform takes them, as the operator's task where it does not), within the touch budget; and
/// decides applications to join fan groups by each group's threshold.
public final class Reach: Service, Sendable {
    let env: FlywheelEnvironment
    private let failures: Counter
    private let heldBack: Counter

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
                    failures.increment()
                    env.logger.error("a due post could not be started; will retry", metadata: ["post": "\(post.id)", "error": "\(error)"])
                }
            }
            let pending = try await env.store.pendingApplications(limit: Self.batch)
            for (key, applications) in Dictionary(grouping: pending, by: { "\($0.tenantId)|\($0.application.accountId)" }) {
                do {
                    done += try await decide(applications.map(\.application), tenantId: applications[0].tenantId)
                } catch {
                    failures.increment()
                    env.logger.error("applications could not be decided; will retry", metadata: ["account": "\(key)", "error": "\(error)"])
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

    /// Starts a due post: its touches, and its push through the outbox, or the operator's task.
    func start(_ due: Post, of account: Account) async throws {
        let now = env.now()
        let (reached, held) = try await audience(of: due, in: account, now: now)
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
                                      fanout: TouchFanout(touchpoint: .post, ref: post.id, at: now, reached: reached, heldBack: held), outbox: outbox)
        heldBack.increment(by: held.count)
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
