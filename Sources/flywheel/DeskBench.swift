import ArgumentParser
import AsyncHTTPClient
import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelSandbox
import FlywheelServer
import FlywheelStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

struct DeskBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "desk",
        abstract: "Fans' DMs through the webhook, the desk's automatic reply and the outbox to the sandbox platform, on loopback; prints messages/s and the p99 from a fan's message to its reply leaving.")
    @Option(help: "Fans' messages to send.") var messages = 20_000
    @Option(help: "Fans writing them.") var fans = 5_000
    @Option(help: "Deliveries in flight at once.") var concurrency = 32
    @Flag(inversion: .prefixedNo, help: "The sandbox echoes every send back through the webhook, as the platform does (twice the webhook's load).") var echo = true
    @OptionGroup var target: BenchTarget

    func validate() throws {
        guard messages > 0, fans > 0, (1...1_024).contains(concurrency) else { throw ValidationError("--messages and --fans must be positive, --concurrency 1 to 1024") }
    }

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let (store, cleanup) = try await target.open(logger: logger)
        defer { cleanup() }
        let port = Int.random(in: 40_000..<50_000)
        let webhook = "http://127.0.0.1:\(port)/webhooks/douyin"
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(
            connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency * 2)))
        // The sandbox platform beside it, which takes every send and echoes it back, as the platform does.
        let clientKey = "ck_desk_bench", secret = "desk-bench-secret", accountOpenId = "desk-bench-account"
        let returned: @Sendable (Delivery) async -> Void = { d in _ = try? await Self.post(client, webhook, d.body, signature: d.signature, msgId: d.msgId) }
        let pushBack = echo ? returned : nil
        let api = SandboxAPI(apps: [.init(clientKey: clientKey, clientSecret: secret, accountOpenIds: [accountOpenId])],
                             now: { Int64(Date().timeIntervalSince1970 * 1_000) }, callsPerSecond: 1_000_000, push: pushBack)
        let sandboxRouter = Router()
        api.add(to: sandboxRouter)
        let sandbox = Task { try await Application(router: sandboxRouter, configuration: .init(address: .hostname("127.0.0.1", port: port + 1)), logger: logger).runService() }
        defer { sandbox.cancel() }

        let (flywheel, registry) = makeFlywheel(store: store, logger: logger, limits: FlywheelLimits(sendsPerSecond: 1_000_000),
                                                platform: .sandbox(baseURL: "http://127.0.0.1:\(port + 1)"), sealer: try TokenSealer(secret: TokenSealer.generateSecret()))
        let env = flywheel.env
        let made = try await flywheel.tenancy.createTenant(name: "Desk bench", kind: .enterprise, actor: "cli")
        let app = PlatformApp(tenantId: made.tenant.id, id: env.newId("app"), name: "bench", clientKey: clientKey, clientSecret: secret, createdAt: env.now())
        try await store.createApp(app, audit: env.audit(tenantId: app.tenantId, actor: "cli", action: "app.create", target: app.id))
        let account = Account(tenantId: app.tenantId, id: env.newId("acc"), name: "bench", appId: app.id, openId: accountOpenId,
                              timeZone: AccountCalendar.defaultTimeZone, createdAt: env.now())
        try await store.createAccount(account, audit: env.audit(tenantId: account.tenantId, actor: "cli", action: "account.create", target: account.id))
        guard let token = api.consent(clientKey: clientKey, openId: accountOpenId, scope: "im.direct_message") else { throw CommandFailure("the sandbox refused consent") }
        try await store.saveTokens(try env.sealer.seal(token, of: account, now: env.now()), of: account,
                                   audit: env.audit(tenantId: account.tenantId, actor: "cli", action: "account.connect", target: account.id))
        let owner = Principal(tenantId: made.tenant.id, userId: made.owner.id, keyId: made.key.record.id, role: .owner)
        _ = try await DeskSetup(flywheel).createAutoReply(name: "price", trigger: "contains", pattern: "价格", priority: 1, hours: nil,
                                                          reply: .text("您好，价格请看主页橱窗"), enabled: nil, of: account, by: owner)
        let server = Task { try await buildApplication(flywheel, registry: registry, settings: ServerSettings(port: port)).runService() }
        defer { server.cancel() }
        try await WebhookBench.waitForServer(client, port: port)

        /// Fan `i`'s message as the platform pushes it at `at`.
        func push(_ i: Int, at: Int64) -> Delivery {
            let id = "m\(i)"
            let text = #"{"event":"im_receive_msg","client_key":"\#(clientKey)","from_user_id":"fan-\#(i % fans)","to_user_id":"\#(accountOpenId)","content":{"conversation_short_id":"c\#(i % fans)","server_message_id":"\#(id)","conversation_type":1,"create_time":\#(at),"message_type":"text","source":"","text":"请问价格多少"}}"#
            let body = Array(text.utf8)
            return Delivery(msgId: id, body: body, signature: WebhookSignature.sign(body: body, secret: secret))
        }
        print("\(messages) messages from \(fans) fans, \(concurrency) in flight; projector, desk and outbox running; echoes \(echo ? "on" : "off")")
        let posted = PostTimes()
        let started = ContinuousClock.now
        let firstPost = Int64(Date().timeIntervalSince1970 * 1_000)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<concurrency {
                group.addTask {
                    for i in stride(from: w, to: messages, by: concurrency) {
                        let at = Int64(Date().timeIntervalSince1970 * 1_000)
                        let b = push(i, at: at)
                        // The platform keeps the message a reply may answer, then pushes it.
                        api.pushed(b)
                        posted.times.withLock { $0[b.msgId] = at }
                        guard try await Self.post(client, webhook, b.body, signature: b.signature, msgId: b.msgId) else { throw CommandFailure("the webhook refused a delivery") }
                    }
                }
            }
            try await group.waitForAll()
        }
        let postSeconds = (ContinuousClock.now - started).milliseconds / 1_000
        let progress = Progress(label: "replies", total: messages)
        while api.sent.count < messages, ContinuousClock.now - started < .seconds(600) {
            progress.update(api.sent.count)
            try await Task.sleep(for: .milliseconds(50))
        }
        progress.finish()
        let sent = api.sent
        let times = posted.times.withLock { $0 }
        let latencies = sent.compactMap { s in s.replyTo.flatMap { times[$0] }.map { Double(s.at - $0) } }.sorted()
        let lastReply = sent.map(\.at).max() ?? firstPost
        let seconds = Double(lastReply - firstPost) / 1_000
        func percentile(_ p: Double) -> String { latencies.isEmpty ? "-" : String(format: "%.0f ms", latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) }
        print(String(format: "webhook: %d messages posted in %.2f s (%.0f/s)", messages, postSeconds, Double(messages) / postSeconds))
        print(String(format: "desk: %.0f messages/s answered end to end (%d replies in %.2f s); message to reply leaving p50 %@, p99 %@, max %@ — budget 2000/s",
                     Double(sent.count) / max(seconds, 0.001), sent.count, seconds, percentile(0.5), percentile(0.99), percentile(1.0)))
        let counts = try await store.outboxCounts()
        print("outbox: \(counts[.sent] ?? 0) sent, \(counts[.failed] ?? 0) failed, \((counts[.pending] ?? 0) + (counts[.sending] ?? 0)) still to go; peak memory \(peakMemoryMB()) MB")
        try await client.shutdown()
    }

    static func post(_ client: HTTPClient, _ url: String, _ body: [UInt8], signature: String, msgId: String) async throws -> Bool {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Douyin-Signature", value: signature)
        request.headers.add(name: "Msg-Id", value: msgId)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 16)
        return response.status == .ok
    }
}

/// When each fan's message was posted, by its id.
final class PostTimes: Sendable {
    let times = Mutex<[String: Int64]>([:])
}
