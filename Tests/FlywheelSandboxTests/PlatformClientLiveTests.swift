import AsyncHTTPClient
import FlywheelDomain
import FlywheelPlatform
import FlywheelSandbox
import FlywheelSimulator
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// A clock the sandbox and Flywheel share in a test: milliseconds, moved by hand.
final class TestClock: Sendable {
    private let ms = Mutex<Int64>(1_767_225_600_000)  // 2026-01-01T00:00Z
    var now: Int64 { ms.withLock { $0 } }
    func advance(_ by: Int64) { ms.withLock { $0 += by } }
}

/// Serves the sandbox's open API on a loopback port while `body` runs, with the live client
/// pointed at it and a test client to play the browser (it does not follow redirects).
func withSandbox(_ api: SandboxAPI, _ body: @escaping @Sendable (PlatformClient, any TestClientProtocol) async throws -> Void) async throws {
    let router = Router()
    api.add(to: router)
    try await Application(router: router).test(.live) { client in
        let port = try #require(client.port)
        try await body(.live(http: .shared, baseURL: "http://localhost:\(port)"), client)
    }
}

/// Plays the browser on the sandbox's consent page as the account `openId`: returns where the
/// platform sends it back.
func consent(_ browser: any TestClientProtocol, page: String, as openId: String) async throws -> URLComponents {
    let parts = try #require(URLComponents(string: page))
    let uri = parts.path + "?" + (parts.percentEncodedQuery ?? "") + "&open_id=" + openId
    let location = try await browser.execute(uri: uri, method: .get) { response in
        #expect(response.status == .found, "\(String(buffer: response.body))")
        return response.headers[.location] ?? ""
    }
    return try #require(URLComponents(string: location))
}

/// The sandbox remembers a fan's message, as pushed, for a reply to answer.
func pushFanMessage(_ api: SandboxAPI, clientKey: String, secret: String, account: String, id: String, fan: String, at: Int64) {
    var sandbox = Sandbox(clientKey: clientKey, clientSecret: secret, accountOpenIds: [account], duplicateRate: 0, reorderRate: 0, seed: 1)
    let message = FanEvent(id: id, kind: .dmReceived, openId: fan, occurredAt: at, channel: .dm, ref: "conv-\(fan)")
    for case .delivery(let d) in sandbox.outputs([WorldEvent(account: 0, event: message)]) { api.pushed(d) }
}

/// `PlatformClient.live` over HTTP against the sandbox, which answers as the platform does.
@Suite struct PlatformClientLiveTests {
    static let app = SandboxAPI.App(clientKey: "ck", clientSecret: "secret", accountOpenIds: ["acct"])
    static let credentials = AppCredentials(clientKey: "ck", clientSecret: "secret")

    @Test func sendsWithAClientTokenAndTurnsRefusalsIntoTypedErrors() async throws {
        let clock = TestClock()
        let api = SandboxAPI(apps: [Self.app], now: { clock.now })
        pushFanMessage(api, clientKey: "ck", secret: "secret", account: "acct", id: "m-1", fan: "fan-1", at: clock.now)
        try await withSandbox(api) { platform, _ in
            let token = try await platform.clientToken("ck", "secret")
            #expect(token.expiresIn == 7_200)
            await #expect(throws: PlatformError.self) { try await platform.clientToken("ck", "wrong") }

            let reply = SendMessage(replyTo: "m-1", toUserId: "fan-1", content: .text("您好"))
            #expect(try await platform.sendMessage(token.accessToken, "acct", reply).hasPrefix("sbx-sent-"))
            #expect(api.sent.last?.conversation == "conv-fan-1")
            await #expect(throws: PlatformError.notGranted) {
                try await platform.sendMessage(token.accessToken, "acct", SendMessage(replyTo: nil, toUserId: "fan-1", content: .text("新品")))
            }
            await #expect(throws: PlatformError.invalidToken) { try await platform.sendMessage("clt.forged", "acct", reply) }

            // Over 20 calls in one second: the platform's rate-limit code, typed.
            var limited = false
            for _ in 0...SandboxAPI.callsPerSecond where !limited {
                do {
                    _ = try await platform.sendGroupMessage(token.accessToken, "acct", "group-1", .text("大家好"))
                } catch PlatformError.rateLimited {
                    limited = true
                }
            }
            #expect(limited)

            // A day later the message can no longer be answered.
            clock.advance(25 * 3_600_000)
            let fresh = try await platform.clientToken("ck", "secret")
            await #expect(throws: PlatformError.outsideReplyWindow) { try await platform.sendMessage(fresh.accessToken, "acct", reply) }
        }
    }

    @Test func exchangesACodeForTheAccountsTokensAndRefreshesThem() async throws {
        let clock = TestClock()
        let api = SandboxAPI(apps: [Self.app], now: { clock.now })
        try await withSandbox(api) { platform, browser in
            let page = try platform.authorizeURL("ck", "user_info", "https://flywheel.test/oauth/douyin/callback?from=test", "signed.state")
            let back = try await consent(browser, page: page, as: "acct")
            #expect(back.host == "flywheel.test" && back.path == "/oauth/douyin/callback")
            #expect(back.queryItems?.first { $0.name == "from" }?.value == "test")
            #expect(back.queryItems?.first { $0.name == "state" }?.value == "signed.state")
            let code = try #require(back.queryItems?.first { $0.name == "code" }?.value)

            let token = try await platform.exchangeCode(Self.credentials, code)
            #expect(token.openId == "acct" && token.scope == "user_info")
            #expect(token.accessExpiresIn == AccountToken.accessLifetime && token.refreshExpiresIn == AccountToken.refreshLifetime)
            await #expect(throws: PlatformError.invalidToken, "a code is used once") { try await platform.exchangeCode(Self.credentials, code) }

            // The account's own token sends as that account, and as no other.
            pushFanMessage(api, clientKey: "ck", secret: "secret", account: "acct", id: "m-2", fan: "fan-2", at: clock.now)
            let reply = SendMessage(replyTo: "m-2", toUserId: "fan-2", content: .leadCard(cardId: "card-1"))
            _ = try await platform.sendMessage(token.accessToken, "acct", reply)
            await #expect(throws: PlatformError.invalidToken) { try await platform.sendMessage(token.accessToken, "other-acct", reply) }

            // Two weeks on: a new access token; the refresh token is kept, with what is left of its 30 days.
            clock.advance(14 * 86_400_000)
            let renewed = try await platform.refresh(Self.credentials, token.refreshToken)
            #expect(renewed.accessToken != token.accessToken && renewed.refreshToken == token.refreshToken && renewed.openId == "acct")
            #expect(renewed.refreshExpiresIn == AccountToken.refreshLifetime - 14 * 86_400)
            clock.advance(17 * 86_400_000)
            await #expect(throws: PlatformError.invalidToken) { try await platform.refresh(Self.credentials, token.refreshToken) }
        }
    }

    @Test func theConsentPageListsTheAppsAccountsAndRefusesOthers() async throws {
        let api = SandboxAPI(apps: [.init(clientKey: "ck", clientSecret: "secret", accountOpenIds: ["acct-a", "acct-b"])], now: { 1_767_225_600_000 })
        try await withSandbox(api) { platform, browser in
            let page = try platform.authorizeURL("ck", "user_info", "https://flywheel.test/cb", "s")
            let parts = try #require(URLComponents(string: page))
            let uri = parts.path + "?" + (parts.percentEncodedQuery ?? "")
            let html = try await browser.execute(uri: uri, method: .get) { String(buffer: $0.body) }
            #expect(html.contains("acct-a") && html.contains("acct-b"))
            try await browser.execute(uri: uri + "&open_id=stranger", method: .get) { #expect($0.status == .badRequest) }
        }
    }
}
