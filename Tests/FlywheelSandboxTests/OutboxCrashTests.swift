import AsyncHTTPClient
import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelSandbox
import FlywheelSimulator
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Logging
import Metrics
import NIOCore
import Synchronization
import Testing

/// `flywheel serve` answering fans through the outbox, killed with SIGKILL three times while it
/// sends, then left to finish: every fan gets exactly one answer, none twice, none lost.
extension KilledProcessTests { @Suite struct OutboxCrashTests {
    /// Where the server listens, once it runs: the sandbox pushes its echoes there, retrying while it is down.
    final class Webhook: Sendable {
        let url = Mutex<String?>(nil)
        func deliver(_ d: Delivery) async {
            for _ in 0..<300 {
                if let url = url.withLock({ $0 }) {
                    var request = HTTPClientRequest(url: url)
                    request.method = .POST
                    request.headers.add(name: "X-Douyin-Signature", value: d.signature)
                    request.headers.add(name: "Msg-Id", value: d.msgId)
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(bytes: d.body))
                    if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)), response.status == .ok { return }
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    static func serve(_ place: KilledProcessTests.ImportCrashTests.Place, port: Int, platform: String, secret: String) throws -> Process {
        let process = Process()
        process.executableURL = try DemoTests.flywheelBinary()
        process.arguments = ["serve", "--port", String(port), "--platform-url", platform, "--sends-per-second", "100", "--send-lease", "5"] + place.arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["FLYWHEEL_SECRET_KEY": secret]) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test(arguments: StoreKind.allCases)
    func aServerKilledWhileItSendsSendsEveryAnswerOnce(_ kind: StoreKind) async throws {
        let fans = 300
        let webhook = Webhook()
        let clientKey = "ck-crash-\(kind.rawValue)", secret = "s-crash", accountOpenId = "acct-crash"
        let api = SandboxAPI(apps: [.init(clientKey: clientKey, clientSecret: secret, accountOpenIds: [accountOpenId])], now: { Int64(Date().timeIntervalSince1970 * 1_000) },
                             callsPerSecond: 1_000, push: { await webhook.deliver($0) })
        try await withSandbox(api) { platform, _ in
            let place = try await KilledProcessTests.ImportCrashTests.Place(kind)
            let key = TokenSealer.generateSecret()
            let env = FlywheelEnvironment.live(store: place.store, metrics: NOOPMetricsHandler.instance, logger: Logger(label: "test"), platform: platform,
                                               sealer: try TokenSealer(secret: key))
            let flywheel = Flywheel(env)
            let made = try await flywheel.tenancy.createTenant(name: "Crash", kind: .enterprise, actor: "test")
            let app = PlatformApp(tenantId: made.tenant.id, id: "app_c", name: "app", clientKey: clientKey, clientSecret: secret, createdAt: env.now())
            try await env.store.createApp(app, audit: env.audit(tenantId: app.tenantId, actor: "t", action: "app.create", target: app.id))
            let account = Account(tenantId: made.tenant.id, id: "acc_c", name: "main", appId: app.id, openId: accountOpenId, timeZone: "Asia/Shanghai",
                                  createdAt: env.now())
            try await env.store.createAccount(account, audit: env.audit(tenantId: account.tenantId, actor: "t", action: "account.create", target: account.id))
            let token = try #require(api.consent(clientKey: clientKey, openId: accountOpenId, scope: "im.direct_message"))
            try await env.store.saveTokens(try env.sealer.seal(token, of: account, now: env.now()), of: account,
                                           audit: env.audit(tenantId: account.tenantId, actor: "t", action: "account.connect", target: account.id))
            let owner = Principal(tenantId: made.tenant.id, userId: made.owner.id, keyId: made.key.record.id, role: .owner)
            _ = try await DeskSetup(flywheel).createAutoReply(name: "any", trigger: "regex", pattern: ".", priority: nil, hours: nil,
                                                              reply: .text("您好，马上为您安排"), enabled: nil, of: account, by: owner)
            // Every fan writes once; the platform (and so the sandbox) has each message.
            var sandbox = Sandbox(clientKey: clientKey, clientSecret: secret, accountOpenIds: [accountOpenId], duplicateRate: 0, reorderRate: 0, seed: 3)
            let now = env.now()
            let messages = (0..<fans).map { WorldEvent(account: 0, event: FanEvent(id: "m-\($0)", kind: .dmReceived, openId: "fan-\($0)", occurredAt: now,
                                                                                  channel: .dm, ref: "conv-\($0)", attributes: ["text": "在吗"])) }
            for case .delivery(let d) in sandbox.outputs(messages) {
                api.pushed(d)
                _ = try await flywheel.ingest.receive(body: d.body, signature: d.signature, msgId: d.msgId)
            }

            let port = Int.random(in: 30_000..<60_000)
            webhook.url.withLock { $0 = "http://127.0.0.1:\(port)/webhooks/douyin" }
            // The sandbox's address, as the client knows it.
            let base = try #require(platform.authorizeURL(clientKey, "s", "http://r", "st").components(separatedBy: "/platform/").first)
            // Kill it three times as the answers go out, then let it finish.
            for round in 1...3 {
                let server = try Self.serve(place, port: port, platform: base, secret: key)
                let deadline = Date().addingTimeInterval(60)
                while Date() < deadline, api.sent.count < fans * round / 4 { try await Task.sleep(for: .milliseconds(5)) }
                kill(server.processIdentifier, SIGKILL)
                server.waitUntilExit()
                #expect(api.sent.count < fans, "killed while answers were still going out")
            }
            let server = try Self.serve(place, port: port, platform: base, secret: key)
            defer { server.terminate() }
            let deadline = Date().addingTimeInterval(90)
            while Date() < deadline, try await env.store.outboxCounts()[.sent, default: 0] < fans { try await Task.sleep(for: .milliseconds(100)) }
            // A little longer: anything sent twice would show now.
            try await Task.sleep(for: .seconds(6))
            let sent = api.sent
            #expect(try await env.store.outboxCounts() == [.sent: fans])
            #expect(sent.count == fans, "sent \(sent.count) for \(fans) fans")
            #expect(Set(sent.map(\.toUser)).count == fans, "every fan answered once")
        }
    }
}
}
