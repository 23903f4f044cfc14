import FlywheelDomain
import FlywheelPlatform
import FlywheelStore
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Delivers the outbox (DMs, group messages and greetings, group creation, join decisions,
/// posts) through `PlatformClient`: the platform's rules checked first, each app held
/// to its rate (and slowed when the platform says 28003070), passing failures retried with
/// growing, jittered waits, refusals recorded on the message. A message is claimed before it is
/// sent; one a dead process left claimed is in doubt, and is sent again only if the platform's
/// echo has not confirmed it by then.
public final class OutboxDispatcher: Service, Sendable {
    let env: FlywheelEnvironment
    let limiter: SendRate
    /// Messages sent at once.
    let concurrency: Int
    /// How long a claim may last before its message is in doubt (ms): well past the client's
    /// timeout, and longer than the platform takes to echo a message it took.
    let lease: Int64
    private let sent: Counter
    private let failed: Counter
    private let retried: Counter

    public init(_ env: FlywheelEnvironment, sendsPerSecond: Int = 20, lease: Int64 = 60_000, concurrency: Int = 64) {
        self.env = env
        self.lease = lease
        limiter = SendRate(perSecond: sendsPerSecond)
        self.concurrency = concurrency
        sent = Counter(label: "flywheel_outbox_sent_total", factory: env.metrics)
        failed = Counter(label: "flywheel_outbox_failed_total", factory: env.metrics)
        retried = Counter(label: "flywheel_outbox_retries_total", factory: env.metrics)
    }

    /// Sends what is due; returns how many messages it handled.
    @discardableResult
    public func runOnce() async -> Int {
        let now = env.now()
        do {
            let doubtful = try await env.store.inDoubtOutbox(before: now - lease, limit: 100).map { message in
                var again = message
                again.state = .pending
                again.nextAttemptAt = now
                again.lastError = "no answer from the platform before the sender stopped, and no echo since: sent again"
                return again
            }
            try await env.store.finishOutbox(doubtful)
            let claimed = try await env.store.claimOutbox(now: now, limit: concurrency * 4)
            guard !claimed.isEmpty else { return doubtful.count }
            // Each account is looked up once a round; one fan's messages go in the order they were decided, different fans' at once.
            var senders: [String: Result<Sender, Refusal>] = [:]
            for message in claimed where senders[message.accountId] == nil {
                senders[message.accountId] = await sender(for: message)
            }
            // A fan's DMs form a thread; every other action stands alone.
            let threads = Dictionary(grouping: claimed) { "\($0.tenantId)|\($0.accountId)|" + ($0.action == .directMessage ? $0.openId : "#" + $0.id) }.values
                .map { $0.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
            let outcomes = await withTaskGroup(of: [OutboxMessage].self) { group in
                var running = 0
                var outcomes: [OutboxMessage] = []
                for thread in threads {
                    if running >= concurrency, let done = await group.next() {
                        outcomes += done
                        running -= 1
                    }
                    let sender = senders[thread[0].accountId] ?? .failure(.accountGone)
                    group.addTask {
                        var done: [OutboxMessage] = []
                        // A message waiting for another try holds back the fan's later ones, unsent and uncounted.
                        var heldUntil: Int64?
                        for message in thread {
                            if let heldUntil {
                                var held = message
                                held.state = .pending
                                held.attempts -= 1
                                held.nextAttemptAt = heldUntil
                                done.append(held)
                                continue
                            }
                            let outcome = await self.deliver(message, by: sender)
                            if outcome.state == .pending { heldUntil = outcome.nextAttemptAt }
                            done.append(outcome)
                        }
                        return done
                    }
                    running += 1
                }
                for await done in group { outcomes += done }
                return outcomes
            }
            try await env.store.finishOutbox(outcomes)
            return claimed.count
        } catch {
            env.logger.error("outbox dispatcher failed; will retry", metadata: ["error": "\(error)"])
            return 0
        }
    }

    /// Sends until nothing is due now (tests).
    public func drain() async {
        while await runOnce() > 0 {}
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            if await runOnce() == 0 { try? await Task.sleep(for: .milliseconds(50)) }
        }
    }

    /// Why a message is not sent at all.
    enum Refusal: Error, CustomStringConvertible {
        case replyWindowClosed
        case notConnected
        case noDirectMessages
        case noOpenAPI
        case accountGone
        /// The account or its tokens could not be read now (the store, the key): tried again later.
        case unreadable(String)

        var description: String {
            switch self {
            case .replyWindowClosed: "the fan's message is more than 24 hours old: the platform no longer takes a reply"
            case .notConnected: "the account is not connected: connect it to send DMs from Flywheel"
            case .noDirectMessages: "the account's app has no DM capability: answer in the platform's app"
            case .noOpenAPI: "the platform has no open API for this: do it in the platform's app"
            case .accountGone: "the account no longer exists"
            case .unreadable(let why): "the account's tokens could not be read: \(why)"
            }
        }
    }

    /// What sends for one account: the account (its app and open_id), its access token and the scopes it was granted.
    struct Sender: Sendable {
        var account: Account
        var accessToken: String
        var scope: String
        var appId: String { account.appId }
        var openId: String { account.openId }
    }

    /// The account's sender, or why it cannot send.
    func sender(for message: OutboxMessage) async -> Result<Sender, Refusal> {
        do {
            guard let account = try await env.store.account(id: message.accountId, tenantIds: [message.tenantId]) else { return .failure(.accountGone) }
            guard let tokens = try await env.store.tokens(of: account) else { return .failure(.notConnected) }
            return .success(Sender(account: account, accessToken: try env.sealer.open(tokens, of: account).accessToken, scope: tokens.scope))
        } catch {
            return .failure(.unreadable("\(error)"))
        }
    }

    /// Sends one claimed message; returns it with what became of it.
    func deliver(_ claimed: OutboxMessage, by sender: Result<Sender, Refusal>) async -> OutboxMessage {
        var message = claimed
        let now = env.now()
        do {
            if message.replyTo != nil, let by = message.replyBy, now > by { throw Refusal.replyWindowClosed }
            let sender = try sender.get()
            if message.action == .directMessage, !Desk.allowsDirectMessages(sender.scope) { throw Refusal.noDirectMessages }
            await limiter.wait(for: sender.appId)
            do {
                let id = try await perform(message, as: sender)
                message.state = .sent
                message.platformId = id.platformId
                message.result = id.result
                message.sentAt = env.now()
                message.lastError = nil
                sent.increment()
            } catch let error as PlatformError {
                switch error {
                case .rateLimited:
                    // Not the message's fault: the attempt is not counted, and the app slows down.
                    limiter.pause(sender.appId, for: 1_000)
                    message.attempts -= 1
                    retry(&message, error.description, now: now)
                case .unreachable where message.action == .directMessage:
                    // The platform may have taken it: its echo gets time to say so before the message goes again.
                    retry(&message, error.description, now: now, atLeast: Self.echoWait)
                case .invalidToken, .other, .unreachable:
                    retry(&message, error.description, now: now)
                case .outsideReplyWindow, .notGranted, .proactiveLimit:
                    give(up: &message, error.description)
                }
            }
        } catch let refusal as Refusal {
            if case .unreadable = refusal { retry(&message, refusal.description, now: now) } else { give(up: &message, refusal.description) }
        } catch {
            retry(&message, "\(error)", now: now)
        }
        return message
    }

    /// The platform call a message asks for; returns the platform's id of what it made and anything
    /// else the answer said that the follow-up write keeps (a new group's number).
    func perform(_ message: OutboxMessage, as sender: Sender) async throws -> (platformId: String?, result: String?) {
        let platform = env.platform
        func target() throws -> String {
            guard let target = message.target else { throw PlatformError.other(errNo: -1, message: "the outbox message names nothing to act on") }
            return target
        }
        switch message.action {
        case .directMessage:
            let id = try await platform.sendMessage(sender.accessToken, sender.openId, SendMessage(replyTo: message.replyTo, toUserId: message.openId,
                                                                                                  content: message.content))
            return (id.isEmpty ? nil : id, nil)
        case .groupMessage:
            let id = try await platform.sendGroupMessage(sender.accessToken, sender.openId, try target(), message.content)
            return (id.isEmpty ? nil : id, nil)
        case .createGroup:
            guard let group = try await env.store.group(id: try target(), of: sender.account) else { throw Refusal.accountGone }
            let created = try await platform.createGroup(sender.accessToken, sender.openId, GroupSpec(
                name: group.name, description: group.description, auditsEntries: true, syncsWorks: group.shareNewWorks, syncsLives: group.liveReminder))
            return (created.groupId, created.groupNumber)
        case .groupGreeting:
            try await platform.setGroupGreeting(sender.accessToken, sender.openId, try target(), message.content)
            return (nil, nil)
        case .approveJoin, .rejectJoin:
            try await platform.decideJoin(sender.accessToken, sender.openId, try target(), message.action == .approveJoin)
            return (nil, nil)
        case .publishPost:
            guard let publish = platform.publishPost else { throw Refusal.noOpenAPI }
            let account = sender.account
            guard let post = try await env.store.post(id: try target(), of: account) else { throw Refusal.accountGone }
            let push = PostPush(postId: post.id, title: post.title, body: post.body, format: post.format.rawValue, mediaRef: post.mediaRef,
                                toolKind: post.tool?.kind.rawValue, toolRef: post.tool?.ref,
                                recipients: try await env.store.postRecipients(postId: post.id, of: account))
            return (try await publish(sender.accessToken, sender.openId, push), nil)
        }
    }

    /// How long a send whose answer was lost waits for the platform's echo before it is tried again.
    static let echoWait: Int64 = 10_000

    func retry(_ message: inout OutboxMessage, _ why: String, now: Int64, atLeast: Int64 = 0) {
        guard message.attempts < OutboxMessage.maxAttempts else {
            give(up: &message, "\(why) (after \(message.attempts) attempts)")
            return
        }
        retried.increment()
        message.state = .pending
        message.lastError = why
        message.nextAttemptAt = now.saturatingAdd(max(atLeast, OutboxMessage.backoff(afterAttempts: message.attempts, jitter: Double.random(in: 0...1))))
    }

    func give(up message: inout OutboxMessage, _ why: String) {
        failed.increment()
        message.state = .failed
        message.lastError = why
    }
}

/// Each app's sends a second: a steady pace, paused when the platform says the app went over.
final class SendRate: Sendable {
    let interval: Int64
    private let next = Mutex<[String: Int64]>([:])

    init(perSecond: Int) { interval = 1_000_000 / Int64(max(1, perSecond)) }

    /// Waits for the app's next slot.
    func wait(for app: String) async {
        let now = Self.micros()
        let at = next.withLock { next in
            let slot = max(next[app] ?? now, now)
            next[app] = slot + interval
            return slot
        }
        if at > now { try? await Task.sleep(for: .microseconds(at - now)) }
    }

    func pause(_ app: String, for ms: Int64) {
        let until = Self.micros() + ms * 1_000
        next.withLock { $0[app] = max($0[app] ?? 0, until) }
    }

    static func micros() -> Int64 { Int64(DispatchTime.now().uptimeNanoseconds / 1_000) }
}
