import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A coupon, a red envelope, a lottery and a fission campaign with a holdout: exactly the fans the hash puts on the
/// holdout arm are refused `held_out` (again when they ask again), nothing is issued to them, and
/// reading the campaign reports who got it against who was held out, with what each bought after.
@Suite struct CampaignHoldoutTests {
    func call(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String, _ body: String = "") async throws -> (Int, [String: Any]) {
        try await client.execute(uri: uri, method: method, headers: auth(key), body: ByteBuffer(string: body)) { (response: TestResponse) async throws in
            (Int(response.status.code), (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
        }
    }

    @Test(arguments: StoreKind.allCases) func campaignsKeepTheirHoldoutAndReportIt(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let env = f.flywheel.env
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-h", secret: "s", openId: "acct-h")
            let fans = (0..<120).map { "fan-\($0)" }
            _ = try await env.store.append(fans.enumerated().map { i, fan in
                AccountEvent(tenantId: f.tenantId, accountId: accountId, event: FanEvent(id: "f\(i)", kind: .follow, openId: fan, occurredAt: env.now() - 60_000, channel: .search))
            }) { _ in }
            await f.flywheel.projector.drain()
            let until = Date(timeIntervalSince1970: TimeInterval(env.now() / 1000 + 86_400)).formatted(.iso8601)
            let base = "/v1/accounts/\(accountId)"
            var (code, answer) = try await call(client, .post, "\(base)/coupons", key: f.key,
                                                #"{"name":"券","valueKind":"amount","value":500,"validUntil":"\#(until)","stock":1000,"holdoutPercent":60}"#)
            #expect(code == 400 && ((answer["error"] as? [String: Any])?["message"] as? String)?.hasPrefix("holdoutPercent") == true)
            let made: [(path: String, body: String, claims: String)] = [
                ("coupons", #"{"name":"券","valueKind":"amount","value":500,"validUntil":"\#(until)","stock":1000,"holdoutPercent":20}"#, "claims"),
                ("red-envelopes", #"{"name":"红包","totalFen":20000,"shares":200,"expiresAt":"\#(until)","holdoutPercent":20}"#, "claims"),
                ("lotteries", #"{"name":"抽奖","closesAt":"\#(until)","prizes":[{"name":"杯子","stock":5}],"holdoutPercent":20}"#, "entries"),
                ("fission", #"{"name":"老带新","threshold":3,"endsAt":"\#(until)","holdoutPercent":20}"#, "codes"),
            ]
            for campaign in made {
                (code, answer) = try await call(client, .post, "\(base)/\(campaign.path)", key: f.key, campaign.body)
                #expect(code == 201 && answer["holdoutPercent"] as? Int == 20, "\(answer)")
                let id = try #require(answer["id"] as? String)
                let heldOut = Set(fans.filter { ExperimentArm.of($0, experiment: id, holdoutPercent: 20, tenantId: f.tenantId, controlPercent: 0) == .holdout })
                var refused: Set<String> = [], got: Set<String> = []
                for fan in fans {
                    let (status, body) = try await call(client, .post, "\(base)/\(campaign.path)/\(id)/\(campaign.claims)", key: f.key, #"{"openId":"\#(fan)"}"#)
                    if status == 409, (body["error"] as? [String: Any])?["code"] as? String == "held_out" { refused.insert(fan) } else if status == 201 { got.insert(fan) }
                }
                #expect(refused == heldOut && got == Set(fans).subtracting(heldOut), "\(campaign.path): exactly the hash's holdout is refused")
                #expect((2...46).contains(heldOut.count), "about 24 of 120: five deviations wide (the campaign's id, new each run, draws them)")
                let again = try await call(client, .post, "\(base)/\(campaign.path)/\(id)/\(campaign.claims)", key: f.key, #"{"openId":"\#(heldOut.first ?? "")"}"#)
                #expect(again.0 == 409, "held out again")

                // Half of each arm buys ¥50 within the window.
                let buyers = fans.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
                _ = try await env.store.append(buyers.map { fan in
                    AccountEvent(tenantId: f.tenantId, accountId: accountId, event: FanEvent(id: "o-\(id)-\(fan)", kind: .orderPaid, openId: fan, occurredAt: env.now() + 1_000,
                                                                                             channel: .homepage, amount: 5_000, ref: "order-\(id)-\(fan)"))
                }) { _ in }
                await f.flywheel.projector.drain()
                (code, answer) = try await call(client, .get, "\(base)/\(campaign.path)/\(id)", key: f.key)
                let arms = try #require((answer["experiment"] as? [String: Any])?["arms"] as? [String: [String: Any]], "\(campaign.path): \(answer)")
                #expect(arms["treated"]?["fans"] as? Int == got.count && arms["holdout"]?["fans"] as? Int == heldOut.count)
                let converted = { (arm: Set<String>) in Double(arm.count { buyers.contains($0) }) / Double(arm.count) }
                #expect(abs((arms["treated"]?["conversion"] as? Double ?? -1) - converted(got)) < 1e-9
                            && abs((arms["holdout"]?["conversion"] as? Double ?? -1) - converted(heldOut)) < 1e-9, "\(campaign.path): \(arms)")
            }
            // No holdout: no experiment, nobody refused for it.
            (code, answer) = try await call(client, .post, "\(base)/coupons", key: f.key, #"{"name":"普通券","valueKind":"amount","value":500,"validUntil":"\#(until)","stock":10}"#)
            let plain = try #require(answer["id"] as? String)
            #expect(answer["holdoutPercent"] as? Int == 0)
            #expect(try await call(client, .post, "\(base)/coupons/\(plain)/claims", key: f.key, #"{"openId":"fan-1"}"#).0 == 201)
            #expect(try await call(client, .get, "\(base)/coupons/\(plain)", key: f.key).1["experiment"] == nil)
        }
    }
}
