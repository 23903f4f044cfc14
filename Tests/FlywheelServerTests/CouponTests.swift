import AsyncHTTPClient
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// A coupon is never over-issued: claimed 1,000 ways at once over HTTP, it issues exactly its
/// stock, each fan at most its limit; and the fans it is not for are refused, saying why.
@Suite struct CouponTests {
    /// One claim (an entry, …) over its own HTTP request, `path` under the account; the status
    /// (-1 when there was no answer) and the body.
    /// A claim with an Idempotency-Key of its own: asked again after a lost answer, it has the first answer.
    static func claim(port: Int, key: String, account: String, path: String, fan: String) async -> (status: Int, body: String) {
        await call(port: port, key: key, "POST", "/v1/accounts/\(account)/\(path)", body: #"{"openId":"\#(fan)"}"#, idempotencyKey: UUID().uuidString)
    }

    /// Sends `count` requests at once; the answers by status, and why those without one failed.
    static func rush(_ count: Int, _ request: @escaping @Sendable (Int) async -> (status: Int, body: String)) async -> (counted: [Int: Int], failures: Set<String>) {
        await withTaskGroup(of: (status: Int, body: String).self) { group in
            for i in 0..<count { group.addTask { await request(i) } }
            return await group.reduce(into: ([Int: Int](), Set<String>())) { result, answer in
                result.0[answer.status, default: 0] += 1
                if answer.status < 0 { result.1.insert(answer.body) }
            }
        }
    }

    /// A request over a connection of its own, asked again after a pause (as a client would, the
    /// same Idempotency-Key each time) when a rush on the loaded test machine left it without an
    /// answer; the status (-1: none after five tries, the body saying why).
    static func call(port: Int, key: String, _ method: String, _ uri: String, body: String? = nil, idempotencyKey: String? = nil) async -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(uri)")
        request.method = .init(rawValue: method)
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Content-Type", value: "application/json")
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        var failure = ""
        for attempt in 0..<5 {
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 16)))
            } catch {
                failure = "\(error)"
                try? await Task.sleep(for: .milliseconds(200 << attempt))
            }
        }
        return (-1, failure)
    }

    @Test(arguments: StoreKind.allCases) func aThousandClaimsAtOnceIssueExactlyTheStock(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let env = f.flywheel.env
        try await f.app.test(.live) { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-cpn", secret: "s", openId: "acct-cpn")
            let fans = (0..<400).map { "fan-\($0)" }
            _ = try await env.store.append(fans.enumerated().map { i, fan in
                AccountEvent(tenantId: f.tenantId, accountId: accountId, event: FanEvent(id: "f\(i)", kind: .follow, openId: fan, occurredAt: env.now() - 60_000, channel: .search))
            }) { _ in }
            await f.flywheel.projector.drain()
            let until = Date(timeIntervalSince1970: TimeInterval(env.now() / 1000 + 86_400)).formatted(.iso8601)
            let coupon = try await client.post("/v1/accounts/\(accountId)/coupons", key: f.key,
                                               ["name": "直播间专属券", "valueKind": "amount", "value": 2_000, "thresholdFen": 9_900, "validUntil": until, "stock": 300,
                                                "perFanLimit": 2, "requiresFollow": true])["id"] as! String
            let port = try #require(client.port)
            let key = f.key
            // 1,000 claims: each of 400 fans two or three times, all at once, over real connections.
            let claims = (0..<1_000).map { fans[$0 % fans.count] }
            let (counted, failures) = await Self.rush(claims.count) { i in
                await Self.claim(port: port, key: key, account: accountId, path: "coupons/\(coupon)/claims", fan: claims[i])
            }
            #expect(counted[201] == 300, "\(counted) \(failures)")
            #expect(counted[409] == 700, "\(counted) \(failures)")
            let account = try #require(try await env.store.account(id: accountId, tenantIds: [f.tenantId]))
            #expect(try await env.store.coupon(id: coupon, of: account)?.issued == 300)
            var held = 0
            for fan in fans {
                let n = try await env.store.couponClaims(of: account, openId: fan).count
                #expect(n <= 2, "\(fan) holds \(n)")
                held += n
            }
            #expect(held == 300)

            // An add-fan coupon is refused to a fan who does not follow; past its limit, a fan is told so.
            // (Over a new connection: the test client's own has been idle through the rush, and may be closed.)
            let (status, body) = await Self.claim(port: port, key: key, account: accountId, path: "coupons/\(coupon)/claims", fan: "stranger")
            #expect(status == 409 && body.contains("not_following"), "\(body)")

            // A claim asked again with its Idempotency-Key answers the claim it made and issues nothing more.
            let second = try await client.post("/v1/accounts/\(accountId)/coupons", key: f.key,
                                               ["name": "复购券", "valueKind": "amount", "value": 1_000, "validUntil": until, "stock": 5, "perFanLimit": 1])["id"] as! String
            let path = "/v1/accounts/\(accountId)/coupons/\(second)/claims"
            let first = await Self.call(port: port, key: key, "POST", path, body: #"{"openId":"fan-1"}"#, idempotencyKey: "order-77")
            let again = await Self.call(port: port, key: key, "POST", path, body: #"{"openId":"fan-1"}"#, idempotencyKey: "order-77")
            let other = await Self.call(port: port, key: key, "POST", path, body: #"{"openId":"fan-1"}"#, idempotencyKey: "order-78")
            func claimed(_ body: String) -> [String: String]? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: String] }
            #expect(first.status == 201 && again.status == 201 && claimed(again.body) == claimed(first.body), "\(first) \(again)")
            #expect(other.status == 409 && other.body.contains("limit"), "another claim of the fan is one too many: \(other)")
            #expect(try await env.store.coupon(id: second, of: account)?.issued == 1)
        }
    }
}
