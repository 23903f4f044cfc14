import FlywheelEngine
import FlywheelPlatform
import FlywheelSandbox
import FlywheelServer
import FlywheelSQLite
import FlywheelStore
import FlywheelTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing

/// Connecting an account end to end: Flywheel's connect link, the sandbox's consent page, the
/// callback, the account with its sealed tokens, and the refresher renewing them before they expire.
@Suite struct ConnectAccountTests {
    static func json(_ response: TestResponse) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:]
    }

    static func encode(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text }

    @Test func anOwnerConnectsAnAccountAndTheRefresherRenewsItsTokens() async throws {
        let clock = TestClock()
        let api = SandboxAPI(apps: [.init(clientKey: "ck-connect", clientSecret: "secret", accountOpenIds: ["acct-1", "acct-2"])], now: { clock.now })
        try await withSandbox(api) { platform, browser in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-connect-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let store = try SQLiteStore(path: dir.appendingPathComponent("connect.sqlite").path)
            try await store.migrate()
            let registry = PrometheusCollectorRegistry()
            var live = FlywheelEnvironment.live(store: store, metrics: PrometheusMetricsFactory(registry: registry), logger: Logger(label: "test"),
                                                platform: platform, sealer: try TokenSealer(secret: TokenSealer.generateSecret()))
            live.now = { clock.now }
            let env = live
            let flywheel = Flywheel(env)
            let made = try await flywheel.tenancy.createTenant(name: "Acme", kind: .enterprise, actor: "test")
            let app = PlatformApp(tenantId: made.tenant.id, id: env.newId("app"), name: "Acme app", clientKey: "ck-connect", clientSecret: "secret",
                                  createdAt: clock.now)
            try await store.createApp(app, audit: env.audit(tenantId: app.tenantId, actor: "test", action: "app.create", target: app.id))
            let server = buildApplication(flywheel, registry: registry, settings: ServerSettings(runProjector: false))

            try await server.test(.router) { client in
                let owner: HTTPFields = [.authorization: "Bearer \(made.key.token)"]
                let callback = "https://flywheel.test/oauth/douyin/callback"
                let link = try await client.execute(uri: "/v1/apps/\(app.id)/connect?redirectUri=\(Self.encode(callback))", method: .get, headers: owner) {
                    #expect($0.status == .ok)
                    return try Self.json($0)
                }
                let page = try #require(link["url"] as? String)
                try await client.execute(uri: "/v1/apps/\(app.id)/connect?redirectUri=ftp%3A%2F%2Fx", method: .get, headers: owner) {
                    #expect($0.status == .badRequest)
                }

                // The account consents; the platform sends the browser back with a code and the state.
                let back = try await consent(browser, page: page, as: "acct-1")
                #expect(back.host == "flywheel.test" && back.path == "/oauth/douyin/callback")
                let code = try #require(back.queryItems?.first { $0.name == "code" }?.value)
                let state = try #require(back.queryItems?.first { $0.name == "state" }?.value)
                let asJSON: HTTPFields = [.accept: "application/json"]
                let connected = try await client.execute(uri: "/oauth/douyin/callback?code=\(Self.encode(code))&state=\(Self.encode(state))",
                                                         method: .get, headers: asJSON) {
                    #expect($0.status == .ok, "\(String(buffer: $0.body))")
                    return try Self.json($0)
                }
                #expect(connected["created"] as? Bool == true)
                let account = try #require(try await store.account(tenantId: made.tenant.id, appId: app.id, openId: "acct-1"))
                #expect((connected["account"] as? [String: Any])?["id"] as? String == account.id)

                // Stored sealed: the columns hold neither token, and they open to the sandbox's.
                let sealed = try #require(try await store.tokens(of: account))
                let opened = try env.sealer.open(sealed, of: account)
                #expect(opened.accessToken.hasPrefix("act.") && opened.refreshToken.hasPrefix("rft."))
                #expect(!sealed.accessToken.contains(opened.accessToken) && !sealed.refreshToken.contains(opened.refreshToken))
                #expect(sealed.accessExpiresAt == clock.now + 15 * 86_400_000 && sealed.refreshExpiresAt == clock.now + 30 * 86_400_000)

                // A code works once; a state Flywheel did not sign, never.
                try await client.execute(uri: "/oauth/douyin/callback?code=\(Self.encode(code))&state=\(Self.encode(state))", method: .get, headers: asJSON) {
                    #expect($0.status == .badRequest)
                }
                let again = try await consent(browser, page: page, as: "acct-1")
                let secondCode = try #require(again.queryItems?.first { $0.name == "code" }?.value)
                let forged = "f" + String(state.dropFirst())
                try await client.execute(uri: "/oauth/douyin/callback?code=\(Self.encode(secondCode))&state=\(Self.encode(forged))", method: .get, headers: asJSON) {
                    #expect($0.status == .forbidden, "a forged state is refused like a CSRF token that does not match")
                }

                // A browser connecting the same account again gets fresh tokens and goes on to the console.
                let third = try await consent(browser, page: page, as: "acct-1")
                let thirdCode = try #require(third.queryItems?.first { $0.name == "code" }?.value)
                try await client.execute(uri: "/oauth/douyin/callback?code=\(Self.encode(thirdCode))&state=\(Self.encode(state))", method: .get) {
                    #expect($0.status == .seeOther)
                    #expect($0.headers[.location]?.hasPrefix("/console/settings?account=\(Self.encode(account.id))&notice=") == true)
                }
                #expect(try await store.accounts(tenantIds: [made.tenant.id]).map(\.id) == [account.id])

                // Ten minutes on, the connect link has expired.
                clock.advance(11 * 60_000)
                let late = try await consent(browser, page: page, as: "acct-2")
                let lateCode = try #require(late.queryItems?.first { $0.name == "code" }?.value)
                try await client.execute(uri: "/oauth/douyin/callback?code=\(Self.encode(lateCode))&state=\(Self.encode(state))", method: .get, headers: asJSON) {
                    #expect($0.status == .badRequest)
                    #expect(String(buffer: $0.body).contains("expired"))
                }
            }

            // Nothing is due yet; fourteen and a half days on, the access token is renewed a day early.
            #expect(await flywheel.tokenRefresher.tick() == 0)
            let account = try #require(try await store.account(tenantId: made.tenant.id, appId: app.id, openId: "acct-1"))
            let before = try #require(try await store.tokens(of: account))
            clock.advance(14 * 86_400_000 + 12 * 3_600_000)
            #expect(await flywheel.tokenRefresher.tick() == 1)
            let after = try #require(try await store.tokens(of: account))
            #expect(after.accessExpiresAt == clock.now + 15 * 86_400_000)
            #expect(after.refreshExpiresAt == before.refreshExpiresAt, "the refresh token is kept, and with it its expiry")
            let renewed = try env.sealer.open(after, of: account)
            let previous = try env.sealer.open(before, of: account)
            #expect(renewed.accessToken != previous.accessToken)
            #expect(await flywheel.tokenRefresher.tick() == 0, "renewed tokens are not due again")

            // The renewed token acts for the account.
            pushFanMessage(api, clientKey: "ck-connect", secret: "secret", account: "acct-1", id: "m-9", fan: "fan-9", at: clock.now)
            _ = try await platform.sendMessage(renewed.accessToken, "acct-1", SendMessage(replyTo: "m-9", toUserId: "fan-9", content: .text("您好")))

            let actions = try await store.auditLog(tenantId: made.tenant.id, cursor: nil, limit: 50).items.map(\.action)
            #expect(actions.filter { $0 == "account.connect" }.count == 2)
            #expect(actions.filter { $0 == "account.create" }.count == 1)
            #expect(actions.contains("account.tokens.refresh"))
        }
    }

    @Test func aRefreshThePlatformRefusesIsRetriedLaterAndStopsNothing() async throws {
        let clock = TestClock()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-refresh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: dir.appendingPathComponent("refresh.sqlite").path)
        try await store.migrate()
        let calls = CallCount()
        var platform = PlatformClient.failing
        platform.refresh = { _, _ in
            calls.add()
            throw PlatformError.unreachable("connection refused")
        }
        var live = FlywheelEnvironment.live(store: store, metrics: PrometheusMetricsFactory(registry: PrometheusCollectorRegistry()),
                                            logger: Logger(label: "test"), platform: platform, sealer: try TokenSealer(secret: TokenSealer.generateSecret()))
        live.now = { clock.now }
        let env = live
        let made = try await Tenancy(env).createTenant(name: "Acme", kind: .enterprise, actor: "test")
        let app = PlatformApp(tenantId: made.tenant.id, id: "app_1", name: "app", clientKey: "ck-refused", clientSecret: "s", createdAt: 0)
        try await store.createApp(app, audit: env.audit(tenantId: app.tenantId, actor: "test", action: "app.create", target: app.id))
        let account = Account(tenantId: made.tenant.id, id: "acc_1", name: "main", appId: app.id, openId: "acct", timeZone: "Asia/Shanghai", createdAt: 0)
        try await store.createAccount(account, audit: env.audit(tenantId: account.tenantId, actor: "test", action: "account.create", target: account.id))
        let token = AccountToken(openId: "acct", accessToken: "act.old", refreshToken: "rft.old", scope: "user_info", accessExpiresIn: 3_600, refreshExpiresIn: nil)
        try await store.saveTokens(try env.sealer.seal(token, of: account, now: clock.now), of: account,
                                   audit: env.audit(tenantId: account.tenantId, actor: "test", action: "account.connect", target: account.id))

        let refresher = TokenRefresher(env)
        #expect(await refresher.tick() == 0)
        #expect(calls.value == 1)
        #expect(await refresher.tick() == 0, "backing off: not tried again at once")
        #expect(calls.value == 1)
        clock.advance(61_000)
        #expect(await refresher.tick() == 0)
        #expect(calls.value == 2, "tried again after a minute")
        let kept = try #require(try await store.tokens(of: account))
        #expect(try env.sealer.open(kept, of: account).accessToken == "act.old", "a failed refresh changes nothing")
    }
}
