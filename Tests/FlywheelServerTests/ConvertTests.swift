import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelStore
import FlywheelTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Red envelopes, lotteries and orders over the API: never a share, an entry or a prize too many
/// under a rush; the unclaimed returned at expiry; a draw anyone can recompute; orders counted
/// once, net of refunds.
@Suite struct ConvertTests {
    func status(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String, _ body: String) async throws -> (Int, String) {
        try await client.execute(uri: uri, method: method, headers: auth(key), body: ByteBuffer(string: body)) { (response: TestResponse) async throws in
            (Int(response.status.code), String(buffer: response.body))
        }
    }

    static func iso(_ ms: Int64) -> String { Date(timeIntervalSince1970: TimeInterval(ms / 1000)).formatted(.iso8601) }

    /// `fans` following the account, each with `likes` likes.
    static func fans(_ fans: [String], likes: Int = 0, following: Bool = true, into accountId: String, of f: ServerFixture) async throws {
        let env = f.flywheel.env
        var events: [AccountEvent] = []
        for fan in fans {
            if following {
                events.append(AccountEvent(tenantId: f.tenantId, accountId: accountId,
                                           event: FanEvent(id: "f-\(fan)", kind: .follow, openId: fan, occurredAt: env.now() - 60_000, channel: .search)))
            }
            for i in 0..<likes {
                events.append(AccountEvent(tenantId: f.tenantId, accountId: accountId,
                                           event: FanEvent(id: "l-\(fan)-\(i)", kind: .like, openId: fan, occurredAt: env.now() - 50_000, channel: .recommendFeed)))
            }
        }
        _ = try await env.store.append(events) { _ in }
        await f.flywheel.projector.drain()
    }

    @Test(arguments: StoreKind.allCases) func aRedEnvelopeRushClaimsEveryShareOnceAndExpiryReturnsTheRest(_ kind: StoreKind) async throws {
        let clock = TestClock(Int64(Date().timeIntervalSince1970 * 1000))
        let f = try await ServerFixture(kind, clock: clock)
        let env = f.flywheel.env
        try await f.app.test(.live) { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-env", secret: "s", openId: "acct-env")
            let base = "/v1/accounts/\(accountId)/red-envelopes"
            let fans = (0..<400).map { "fan-\($0)" }
            try await Self.fans(fans, into: accountId, of: f)
            try await Self.fans(["passer-by"], following: false, into: accountId, of: f)

            // 1,500 yuan in 300 shares of 1 to 10 yuan; 1,000 claims by 400 fans at once, over real connections.
            let envelope = try #require(try await client.post(base, key: f.key, ["name": "开播福袋", "totalFen": 150_000, "shares": 300, "split": "random", "minFen": 100,
                                                                  "maxFen": 1_000, "expiresAt": Self.iso(env.now() + 3_600_000)])["id"] as? String)
            let port = try #require(client.port)
            let key = f.key
            let (counted, failures) = await CouponTests.rush(1_000) { i in
                await CouponTests.claim(port: port, key: key, account: accountId, path: "red-envelopes/\(envelope)/claims", fan: fans[i % 400])
            }
            #expect(counted[201] == 300, "\(counted) \(failures)")
            #expect(counted[409] == 700, "\(counted) \(failures)")
            let account = try #require(try await env.store.account(id: accountId, tenantIds: [f.tenantId]))
            let claims = try await env.store.envelopeClaims(id: envelope, of: account, limit: 1_000)
            #expect(claims.count == 300 && Set(claims.map(\.openId)).count == 300, "one share a fan")
            #expect(claims.map(\.amountFen).reduce(0, +) == 150_000, "the shares sum to the total")
            #expect(claims.allSatisfy { (100...1_000).contains($0.amountFen) })
            let read = try #require(try await env.store.redEnvelope(id: envelope, of: account))
            #expect(read.claimed == 300 && read.claimedFen == 150_000)

            // A fan red envelope is for followers; a second claim is refused, saying so.
            var (got, body) = await CouponTests.claim(port: port, key: key, account: accountId, path: "red-envelopes/\(envelope)/claims", fan: "passer-by")
            #expect(got == 409 && body.contains("not_following"), "\(body)")

            // Ten shares of 10 yuan; three claimed; at expiry the other 70 yuan go back, and no more claims are taken.
            // (Over new connections from here: the test client's own may have closed during the rush.)
            let made = await CouponTests.call(port: port, key: key, "POST", base,
                                              body: #"{"name":"粉丝团专享","totalFen":10000,"shares":10,"expiresAt":"\#(Self.iso(env.now() + 600_000))"}"#)
            let small = try #require(try JSONSerialization.jsonObject(with: Data(made.body.utf8)) as? [String: Any])["id"] as? String ?? ""
            for fan in fans.prefix(3) {
                (got, body) = await CouponTests.claim(port: port, key: key, account: accountId, path: "red-envelopes/\(small)/claims", fan: fan)
                #expect(got == 201 && body.contains("\"amountFen\":1000"), "\(body)")
            }
            (got, body) = await CouponTests.claim(port: port, key: key, account: accountId, path: "red-envelopes/\(small)/claims", fan: fans[0])
            #expect(got == 409 && body.contains("limit_reached"), "\(body)")
            // A coupon of the same ten minutes: two of five claimed; once expired it reports the three never claimed.
            let coupon = await CouponTests.call(port: port, key: key, "POST", "/v1/accounts/\(accountId)/coupons",
                                                body: #"{"name":"限时券","valueKind":"amount","value":500,"stock":5,"validUntil":"\#(Self.iso(env.now() + 600_000))"}"#)
            let couponId = try #require(try JSONSerialization.jsonObject(with: Data(coupon.body.utf8)) as? [String: Any])["id"] as? String ?? ""
            for fan in fans.prefix(2) { _ = await CouponTests.claim(port: port, key: key, account: accountId, path: "coupons/\(couponId)/claims", fan: fan) }
            clock.advance(by: 700_000)
            await f.flywheel.conversion.drain()
            let lapsed = await CouponTests.call(port: port, key: key, "GET", "/v1/accounts/\(accountId)/coupons/\(couponId)")
            #expect(lapsed.body.contains("\"state\":\"expired\"") && lapsed.body.contains("\"unclaimedAtExpiry\":3"), "\(lapsed.body)")
            let answer = await CouponTests.call(port: port, key: key, "GET", "/v1/accounts/\(accountId)/red-envelopes/\(small)")
            let expired = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
            #expect(expired["state"] as? String == "expired" && expired["returnedFen"] as? Int == 7_000 && expired["claimedFen"] as? Int == 3_000, "\(expired)")
            (got, body) = await CouponTests.claim(port: port, key: key, account: accountId, path: "red-envelopes/\(small)/claims", fan: fans[5])
            #expect(got == 409 && body.contains("expired"), "\(body)")

            // Shares that cannot sum to the total, and a condition that does not parse: refused naming the field, nothing made.
            let until = Self.iso(env.now() + 3_600_000)
            (got, body) = await CouponTests.call(port: port, key: key, "POST", base, body: #"{"name":"x","totalFen":10001,"shares":100,"expiresAt":"\#(until)"}"#)
            #expect(got == 400 && body.contains("totalFen") && body.contains("multiple of 100"), "\(body)")
            (got, body) = await CouponTests.call(port: port, key: key, "POST", base,
                                                 body: #"{"name":"x","totalFen":10000,"shares":100,"split":"random","minFen":200,"maxFen":500,"expiresAt":"\#(until)"}"#)
            #expect(got == 400 && body.contains("totalFen") && body.contains("20000"), "\(body)")
            (got, body) = await CouponTests.call(port: port, key: key, "POST", base, body: #"{"name":"x","totalFen":100,"shares":1,"audience":"tier >>= liking","expiresAt":"\#(until)"}"#)
            #expect(got == 400 && body.contains("audience"), "\(body)")
            #expect(try await env.store.redEnvelopes(of: account).count == 2)
        }
    }

    @Test(arguments: StoreKind.allCases) func aLotteryIsEnteredOnceByEligibleFansAndItsDrawCanBeRecomputed(_ kind: StoreKind) async throws {
        let clock = TestClock(Int64(Date().timeIntervalSince1970 * 1000))
        let f = try await ServerFixture(kind, sealer: try TokenSealer(secret: TokenSealer.generateSecret()), clock: clock)
        let env = f.flywheel.env
        try await f.app.test(.live) { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-lot", secret: "s", openId: "acct-lot")
            let account = try #require(try await env.store.account(id: accountId, tenantIds: [f.tenantId]))
            // The account may send DMs, and the eligible fans allowed them: winners are told by DM.
            let sealed = try env.sealer.seal(AccountToken(openId: account.openId, accessToken: "act.x", refreshToken: "rft.x", scope: "im.direct_message",
                                                          accessExpiresIn: 86_400, refreshExpiresIn: nil), of: account, now: env.now())
            try await env.store.saveTokens(sealed, of: account, audit: env.audit(tenantId: f.tenantId, actor: "t", action: "account.connect", target: accountId))
            let keen = (0..<30).map { "keen-\($0)" }
            try await Self.fans(keen, likes: 3, into: accountId, of: f)
            try await Self.fans(["casual"], likes: 1, into: accountId, of: f)
            _ = try await env.store.append(keen.map { fan in
                AccountEvent(tenantId: f.tenantId, accountId: accountId, event: FanEvent(id: "g-\(fan)", kind: .dmGranted, openId: fan, occurredAt: env.now() - 40_000,
                                                                                         channel: .dm, attributes: ["until": String(env.now() + 30 * 86_400_000)]))
            }) { _ in }
            await f.flywheel.projector.drain()
            await f.flywheel.desk.drain()

            let base = "/v1/accounts/\(accountId)/lotteries"
            let lottery = try await client.post(base, key: f.key, ["name": "点赞抽奖", "eligibility": "likes >= 3", "closesAt": Self.iso(env.now() + 3_600_000),
                                                                 "prizes": [["name": "一等奖", "stock": 1], ["name": "二等奖", "stock": 3]]])
            let id = try #require(lottery["id"] as? String)
            let hash = try #require(lottery["seedHash"] as? String)
            #expect(lottery["seed"] == nil, "the seed stays secret until the draw")

            // Each keen fan enters twice at once; only one entry each counts.
            let port = try #require(client.port)
            let key = f.key
            let twice = keen + keen
            let (counted, failures) = await CouponTests.rush(twice.count) { i in
                await CouponTests.claim(port: port, key: key, account: accountId, path: "lotteries/\(id)/entries", fan: twice[i])
            }
            #expect(counted[201] == 30 && counted[409] == 30, "\(counted) \(failures)")
            var (got, body) = await CouponTests.claim(port: port, key: key, account: accountId, path: "lotteries/\(id)/entries", fan: keen[0])
            #expect(got == 409 && body.contains("already_entered"), "\(body)")
            (got, body) = await CouponTests.claim(port: port, key: key, account: accountId, path: "lotteries/\(id)/entries", fan: "casual")
            #expect(got == 409 && body.contains("not_eligible") && body.contains("likes >= 3"), "\(body)")

            // Closed: no more entries; the draw is made once, the seed revealed, the winners told.
            clock.advance(by: 3_700_000)
            (got, body) = await CouponTests.claim(port: port, key: key, account: accountId, path: "lotteries/\(id)/entries", fan: keen[1])
            #expect(got == 409 && body.contains("expired"), "\(body)")
            await f.flywheel.conversion.drain()
            await f.flywheel.conversion.drain()
            let drawn = await CouponTests.call(port: port, key: key, "GET", "\(base)/\(id)/draw")
            let record = try #require(try JSONSerialization.jsonObject(with: Data(drawn.body.utf8)) as? [String: Any])
            let seed = try #require(record["seed"] as? String)
            let entries = try #require(record["entries"] as? [String])
            let winners = try #require(record["winners"] as? [[String: Any]])
            #expect(LotteryDraw.hash(seed) == hash)
            #expect(Set(entries) == Set(keen))
            let recomputed = LotteryDraw.winners(seed: seed, entries: entries, prizes: [LotteryPrize(name: "一等奖", stock: 1), LotteryPrize(name: "二等奖", stock: 3)])
            #expect(winners.map { $0["openId"] as? String } == recomputed.map(\.openId))
            #expect(winners.map { $0["prize"] as? String } == ["一等奖", "二等奖", "二等奖", "二等奖"])
            #expect(winners.allSatisfy { $0["notified"] as? Bool == true })
            #expect(try await env.store.outboxCounts() == [.pending: 4], "one DM a winner, once")
        }
    }

    @Test(arguments: StoreKind.allCases) func ordersAreCountedOnceNetOfRefunds(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let env = f.flywheel.env
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-ord", secret: "s", openId: "acct-ord")
            let base = "/v1/accounts/\(accountId)/orders"
            let paid = Self.iso(env.now() - 86_400_000), later = Self.iso(env.now() - 3_600_000)
            let batch = """
                {"orders":[
                 {"id":"o1","openId":"fan-a","amountFen":10000,"paidAt":"\(paid)","channel":"live_feed","source":"shop","couponId":"cpn_1",
                  "lines":[{"sku":"sku-1","title":"53度飞天 500ml","quantity":1,"priceFen":12000}]},
                 {"id":"o2","openId":"fan-a","amountFen":5000,"paidAt":"\(paid)","channel":"group","refunds":[{"id":"r1","amountFen":2000,"at":"\(later)"}]},
                 {"id":"o3","openId":"fan-a","amountFen":3000,"paidAt":"\(paid)","channel":"dm",
                  "refunds":[{"id":"r1","amountFen":1000,"at":"\(later)"},{"id":"r2","amountFen":2000,"at":"\(later)"}]}]}
                """
            var (code, body) = try await status(client, .post, base, key: f.key, batch)
            #expect(code == 202 && body.contains("\"appended\":6"), "\(body)")
            // The same orders again (a retried sync, the push and the sync of one order): nothing counted twice.
            (code, body) = try await status(client, .post, base, key: f.key, batch)
            #expect(code == 202 && body.contains("\"appended\":0"), "\(body)")
            // A later refund of o2.
            (code, body) = try await status(client, .post, base, key: f.key, """
                {"orders":[{"id":"o2","openId":"fan-a","amountFen":5000,"paidAt":"\(paid)","channel":"group",
                  "refunds":[{"id":"r1","amountFen":2000,"at":"\(later)"},{"id":"r2","amountFen":1000,"at":"\(later)"}]}]}
                """)
            #expect(code == 202 && body.contains("\"appended\":1"), "\(body)")
            await f.flywheel.projector.drain()

            let first = try await client.get("\(base)?limit=2", key: f.key)
            let page = try #require(first["items"] as? [[String: Any]])
            let cursor = try #require(first["nextCursor"] as? String)
            let rest = try #require(try await client.get("\(base)?limit=2&cursor=\(cursor)", key: f.key)["items"] as? [[String: Any]])
            let orders = Dictionary((page + rest).map { ($0["id"] as? String ?? "", $0) }) { a, _ in a }
            #expect(orders.count == 3)
            #expect(orders["o1"]?["status"] as? String == "paid" && orders["o1"]?["channel"] as? String == "live_feed" && orders["o1"]?["couponId"] as? String == "cpn_1")
            #expect((orders["o1"]?["lines"] as? [[String: Any]])?.first?["title"] as? String == "53度飞天 500ml")
            #expect(orders["o2"]?["status"] as? String == "partly_refunded" && orders["o2"]?["refundedFen"] as? Int == 3_000 && orders["o2"]?["netFen"] as? Int == 2_000)
            #expect(orders["o3"]?["status"] as? String == "refunded" && orders["o3"]?["netFen"] as? Int == 0)
            let fan = try #require(try await client.get("/v1/accounts/\(accountId)/fans/fan-a", key: f.key)["fan"] as? [String: Any])
            #expect(fan["gmvFen"] as? Int == 10_000 + 2_000 + 0, "the fan's GMV is net of refunds: \(fan)")
            let counters = try #require(fan["counters"] as? [String: Any])
            #expect(counters["orders_paid"] as? Int == 3 && counters["orders_refunded"] as? Int == 1, "partial refunds leave the order standing: \(counters)")
            // A refund past what is left of o2, sent in a request of its own, is refused.
            (code, body) = try await status(client, .post, base, key: f.key, """
                {"orders":[{"id":"o2","openId":"fan-a","amountFen":5000,"paidAt":"\(paid)","channel":"group","refunds":[{"id":"r3","amountFen":2001,"at":"\(later)"}]}]}
                """)
            #expect(code == 400 && body.contains("orders[0].refunds[0].amountFen"), "\(body)")

            // Refunds over the amount, an unknown touchpoint, another tenant's account: refused, nothing appended.
            (code, body) = try await status(client, .post, base, key: f.key, """
                {"orders":[{"id":"o9","openId":"fan-b","amountFen":1000,"paidAt":"\(paid)","refunds":[{"id":"r1","amountFen":600,"at":"\(later)"},
                  {"id":"r2","amountFen":600,"at":"\(later)"}]}]}
                """)
            #expect(code == 400 && body.contains("orders[0].refunds[1].amountFen"), "\(body)")
            (code, body) = try await status(client, .post, base, key: f.key, #"{"orders":[{"id":"o9","openId":"fan-b","amountFen":1000,"paidAt":"\#(paid)","channel":"tv"}]}"#)
            #expect(code == 400 && body.contains("orders[0].channel"), "\(body)")
            let other = try await f.flywheel.tenancy.createTenant(name: "Other", kind: .enterprise, actor: "t")
            (code, _) = try await status(client, .post, base, key: other.key.token, #"{"orders":[{"id":"o9","openId":"fan-b","amountFen":1000,"paidAt":"\#(paid)"}]}"#)
            #expect(code == 404)
            #expect(try await client.get("\(base)?openId=fan-b", key: f.key)["items"] as? [Any] != nil)
            await f.flywheel.projector.drain()
            #expect((try await client.get("\(base)?openId=fan-b", key: f.key)["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test(arguments: StoreKind.allCases) func theGMVReportReadsFansTouchpointsAndItsThreeModelsSideBySide(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let env = f.flywheel.env
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-gmv", secret: "s", openId: "acct-gmv")
            let now = env.now(), hour: Int64 = 3_600_000
            func event(_ id: String, _ kind: EventKind, _ fan: String, _ at: Int64, _ channel: FlywheelDomain.Channel) -> AccountEvent {
                AccountEvent(tenantId: f.tenantId, accountId: accountId, event: FanEvent(id: id, kind: kind, openId: fan, occurredAt: at, channel: channel))
            }
            // A fan who followed 20 days ago, opened a post, wrote a DM, watched a live, then bought in the live; a stranger bought too.
            let follow = event("f", .follow, "fan-1", now - 20 * 24 * hour, .search)
            let post = event("p", .postOpened, "fan-1", now - 50 * hour, .subscription)
            let dm = event("d", .dmReceived, "fan-1", now - 27 * hour, .dm)
            var watch = event("w", .liveWatch, "fan-1", now - 3 * hour, .liveFeed)
            watch.event.amount = 40
            _ = try await env.store.append([follow, post, dm, watch]) { _ in }
            let paid = Self.iso(now - 2 * hour)
            let (code, body) = try await status(client, .post, "/v1/accounts/\(accountId)/orders", key: f.key, """
                {"orders":[{"id":"o1","openId":"fan-1","amountFen":10000,"paidAt":"\(paid)","channel":"live_feed"},
                           {"id":"o2","openId":"stranger","amountFen":2000,"paidAt":"\(paid)","channel":"live_feed"}]}
                """)
            #expect(code == 202, "\(body)")
            await f.flywheel.projector.drain()

            // Old fans followed before the cut, ten days ago.
            let report = try await client.get("/v1/reports/gmv?accountId=\(accountId)&windowDays=3&cut=\(Self.iso(now - 240 * hour))", key: f.key)
            #expect((report["total"] as? [String: Any])?["gmvFen"] as? Int == 12_000)
            #expect((report["fans"] as? [String: Any])?["gmvFen"] as? Int == 10_000 && (report["nonFans"] as? [String: Any])?["gmvFen"] as? Int == 2_000)
            let headlines = try #require(report["headlines"] as? [String: Any])
            #expect(headlines["fansShareOfLiveGmv"] as? Double == 10_000.0 / 12_000.0)
            #expect(headlines["oldFansShareOfLiveGmv"] as? Double == 10_000.0 / 12_000.0, "followed before the cut")
            let attribution = Dictionary(((report["attribution"] as? [[String: Any]]) ?? []).map { ($0["touchpoint"] as? String ?? "", $0) }) { a, _ in a }
            #expect(attribution["post"]?["firstTouchFen"] as? Int == 10_000 && attribution["post"]?["lastTouchFen"] as? Int == 0)
            #expect(attribution["live"]?["lastTouchFen"] as? Int == 10_000 && attribution["live"]?["positionBasedFen"] as? Int == 4_000)
            #expect(attribution["dm"]?["positionBasedFen"] as? Int == 2_000)
            #expect((report["unattributed"] as? [String: Any])?["gmvFen"] as? Int == 2_000)
            // A one-day window leaves only the live.
            let narrow = try await client.get("/v1/reports/gmv?accountId=\(accountId)&windowDays=1", key: f.key)
            let first = ((narrow["attribution"] as? [[String: Any]]) ?? []).first { $0["touchpoint"] as? String == "live" }
            #expect(first?["firstTouchFen"] as? Int == 10_000)

            // Another tenant sees none of it; a bad window is named.
            let other = try await f.flywheel.tenancy.createTenant(name: "Other", kind: .enterprise, actor: "t")
            var (answer, text) = try await status(client, .get, "/v1/reports/gmv?accountId=\(accountId)", key: other.key.token, "")
            #expect(answer == 404, "\(text)")
            (answer, text) = try await status(client, .get, "/v1/reports/gmv?windowDays=91", key: f.key, "")
            #expect(answer == 400 && text.contains("windowDays"), "\(text)")
            let theirs = try await client.get("/v1/reports/gmv", key: other.key.token)
            #expect((theirs["total"] as? [String: Any])?["orders"] as? Int == 0)
        }
    }

    @Test(arguments: StoreKind.allCases) func friendsJoinThroughCodesInChainsAndInvitersAreRewardedOnceWithinTheStock(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let env = f.flywheel.env
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-fis", secret: "s", openId: "acct-fis")
            try await Self.fans(["old-fan"], into: accountId, of: f)
            let base = "/v1/accounts/\(accountId)"
            let coupon = try #require(try await client.post("\(base)/coupons", key: f.key, ["name": "邀请有礼券", "valueKind": "amount", "value": 2_000,
                                                                                             "validUntil": Self.iso(env.now() + 86_400_000), "stock": 1])["id"] as? String)
            let campaign = try #require(try await client.post("\(base)/fission", key: f.key, ["name": "邀2位好友得20元券", "threshold": 2, "rewardCouponId": coupon,
                                                                                               "endsAt": Self.iso(env.now() + 86_400_000)])["id"] as? String)
            func code(_ fan: String) async throws -> String {
                try #require(try await client.post("\(base)/fission/\(campaign)/codes", key: f.key, ["openId": fan])["code"] as? String)
            }
            func join(_ code: String, _ fan: String) async throws -> (Int, String) {
                try await status(client, .post, "\(base)/fission/\(campaign)/joins", key: f.key, #"{"code":"\#(code)","openId":"\#(fan)"}"#)
            }
            let a = try await code("seed-a")
            #expect(try await code("seed-a") == a, "a fan's code stays the same")
            var (answer, body) = try await join(a, "friend-1")
            #expect(answer == 201 && body.contains("\"depth\":1") && body.contains("\"rewarded\":false"), "\(body)")
            (answer, body) = try await join(a, "friend-2")
            #expect(answer == 201 && body.contains("\"rewarded\":true"), "the second friend earns the reward: \(body)")
            // A friend of a friend is the chain's second link.
            (answer, body) = try await join(try await code("friend-1"), "friend-3")
            #expect(answer == 201 && body.contains("\"depth\":2") && body.contains("\"inviter\":\"friend-1\""), "\(body)")
            // The next inviter to reach the threshold finds the reward coupon used up: the friend still counts.
            let b = try await code("seed-b")
            (answer, _) = try await join(b, "friend-4")
            (answer, body) = try await join(b, "friend-5")
            #expect(answer == 201 && body.contains("\"rewarded\":false") && body.contains("none is left"), "\(body)")
            // Refusals, each saying why.
            (answer, body) = try await join(a, "seed-a")
            #expect(answer == 409 && body.contains("self_invite"), "\(body)")
            (answer, body) = try await join(a, "old-fan")
            #expect(answer == 409 && body.contains("not_new"), "\(body)")
            (answer, body) = try await join(b, "friend-2")
            #expect(answer == 409 && body.contains("already_invited"), "\(body)")
            (answer, body) = try await join("nocode", "friend-9")
            #expect(answer == 409 && body.contains("unknown_code"), "\(body)")

            let stats = try await client.get("\(base)/fission/\(campaign)", key: f.key)
            #expect(stats["participants"] as? Int == 3 && stats["inviters"] as? Int == 3 && stats["invites"] as? Int == 5, "\(stats)")
            #expect(stats["deepest"] as? Int == 2 && stats["rewarded"] as? Int == 1 && stats["kFactor"] as? Double == 5.0 / 3.0, "\(stats)")
            let account = try #require(try await env.store.account(id: accountId, tenantIds: [f.tenantId]))
            #expect(try await env.store.coupon(id: coupon, of: account)?.issued == 1)
            #expect(try await env.store.couponClaims(of: account, openId: "seed-a").count == 1)
        }
    }
}
