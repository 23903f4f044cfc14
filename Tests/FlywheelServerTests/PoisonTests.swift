import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelServer
import FlywheelStore
import FlywheelTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// The requests that used to stop the server, answered with a 400 naming the field; and an event
/// that reaches the log anyway quarantined, reported and handled, while the rest is projected.
@Suite struct PoisonTests {
    let t0: Int64 = 1_772_294_400_000

    func send(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String, _ body: String) async throws -> (Int, String) {
        try await client.execute(uri: uri, method: method, headers: auth(key), body: ByteBuffer(string: body)) { (response: TestResponse) async throws in
            (Int(response.status.code), String(buffer: response.body))
        }
    }

    @Test(arguments: StoreKind.allCases) func requestsThatUsedToStopTheServerAre400sNamingTheField(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let account = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "acct")
            let events = "/v1/accounts/\(account)/events"
            for (body, field) in [
                (#"{"kind":"like","openId":"u","occurredAt":9223372036854775807,"channel":"search"}"#, "occurredAt"),
                (#"{"kind":"like","openId":"u","occurredAt":-9223372036854775808,"channel":"search"}"#, "occurredAt"),
                ("{\"kind\":\"order_paid\",\"openId\":\"u\",\"occurredAt\":\(t0),\"channel\":\"dm\",\"amount\":9223372036854775807}\n"
                    + "{\"kind\":\"order_paid\",\"openId\":\"u\",\"occurredAt\":\(t0 + 1),\"channel\":\"dm\",\"amount\":9223372036854775807}", "amount"),
            ] {
                let (status, answer) = try await send(client, .post, events, key: f.key, body)
                #expect(status == 400)
                #expect(answer.contains("\"message\":\"\(field): line 1"), "\(answer)")
            }

            // A signed like from the platform with an impossible time.
            let like = #"{"event":"new_video_digg","client_key":"ck","from_user_id":"fan","to_user_id":"acct","content":{"action_type":1,"action_time":9223372036854775807}}"#
            let response = try await client.deliver(Array(like.utf8), secret: "s", msgId: "m-1")
            #expect(response.status == .badRequest)
            #expect(String(buffer: response.body).contains("occurredAt"))

            var rules = try JSONSerialization.jsonObject(with: JSONEncoder().encode(AccountRules.standard)) as! [String: Any]
            var points = rules["points"] as! [String: Any]
            points["like"] = ["flat": 3_000_000_000]
            rules["points"] = points
            var (status, answer) = try await send(client, .put, "/v1/accounts/\(account)/rules", key: f.key,
                                                  String(decoding: try JSONSerialization.data(withJSONObject: rules), as: UTF8.self))
            #expect(status == 400 && answer.contains("points.like.flat"), "\(answer)")
            rules = try JSONSerialization.jsonObject(with: JSONEncoder().encode(AccountRules.standard)) as! [String: Any]
            var levels = rules["levels"] as! [String: Any]
            levels["dailyCaps"] = Array(repeating: 10_000_000_000, count: 16)
            rules["levels"] = levels
            (status, answer) = try await send(client, .put, "/v1/accounts/\(account)/rules", key: f.key,
                                              String(decoding: try JSONSerialization.data(withJSONObject: rules), as: UTF8.self))
            #expect(status == 400 && answer.contains("levels.dailyCaps"), "\(answer)")

            let deep = String(repeating: "not ", count: 100_000) + "following"
            (status, answer) = try await send(client, .post, "/v1/accounts/\(account)/segments/preview", key: f.key,
                                              String(decoding: try JSONSerialization.data(withJSONObject: ["predicate": deep]), as: UTF8.self))
            #expect(status == 400 && answer.contains("predicate"), "\(answer.prefix(200))")
            let nested = (String(repeating: "not ", count: 1_000) + "following").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            (status, answer) = try await send(client, .get, "/v1/accounts/\(account)/fans?where=\(nested)", key: f.key, "")
            #expect(status == 400 && answer.contains("nested more than 32 deep"), "\(answer.prefix(200))")
            try await client.execute(uri: "/health", method: .get) { (response: TestResponse) async throws in #expect(try json(response)["status"] as? String == "ok") }
        }
    }

    @Test(arguments: StoreKind.allCases) func aPoisonEventInTheLogIsQuarantinedReportedAndHandled(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let account = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "acct")
            // Written straight into the log, as an older version or another tool could have done.
            _ = try await f.flywheel.env.store.append([
                FanEvent(id: "ok-1", kind: .follow, openId: "fan-a", occurredAt: t0, channel: .search),
                FanEvent(id: "poison", kind: .like, openId: "fan-b", occurredAt: .max, channel: .search),
                FanEvent(id: "ok-2", kind: .follow, openId: "fan-b", occurredAt: t0 + 1, channel: .search),
            ].map { AccountEvent(tenantId: f.tenantId, accountId: account, event: $0) }) { _ in }

            // A server started on that log projects the rest and reports the one it set aside.
            let (restarted, registry) = makeFlywheel(store: f.flywheel.env.store, logger: Logger(label: "test"))
            await restarted.projector.drain()
            let app = buildApplication(restarted, registry: registry, settings: ServerSettings(runProjector: false))
            try await app.test(.router) { client in
                #expect(try await client.get("/v1/accounts/\(account)/fans", key: f.key)["items"].map { ($0 as! [[String: Any]]).count } == 2)
                try await client.execute(uri: "/health", method: .get) { (response: TestResponse) async throws in
                    let health = try json(response)
                    #expect(health["status"] as? String == "degraded")
                    #expect(health["quarantinedEvents"] as? Int == 1)
                }
                try await client.execute(uri: "/metrics", method: .get) {
                    #expect(String(buffer: $0.body).contains("flywheel_quarantined_events 1"))
                }
                let list = try await client.get("/v1/accounts/\(account)/quarantine", key: f.key)["items"] as! [[String: Any]]
                #expect(list.map { $0["eventId"] as? String } == ["poison"])
                #expect((list.first?["reason"] as? String)?.hasPrefix("occurredAt:") == true)

                var (status, answer) = try await send(client, .post, "/v1/accounts/\(account)/quarantine/2/retry", key: f.key, "")
                #expect(status == 409 && answer.contains("still_invalid"), "\(answer)")
                let analyst = try await client.post("/v1/users", key: f.key, ["name": "ana", "role": "analyst"])
                let analystKey = try await client.post("/v1/users/\(analyst["id"] as! String)/keys", key: f.key, [:])["token"] as! String
                (status, _) = try await send(client, .delete, "/v1/accounts/\(account)/quarantine/2", key: analystKey, "")
                #expect(status == 403)
                (status, _) = try await send(client, .delete, "/v1/accounts/\(account)/quarantine/2", key: f.key, "")
                #expect(status == 204)
                (status, _) = try await send(client, .delete, "/v1/accounts/\(account)/quarantine/2", key: f.key, "")
                #expect(status == 404)
                try await client.execute(uri: "/health", method: .get) { (response: TestResponse) async throws in #expect(try json(response)["status"] as? String == "ok") }
                let audit = try await client.get("/v1/audit", key: f.key)["items"] as! [[String: Any]]
                #expect(audit.contains { $0["action"] as? String == "quarantine.drop" })
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aSignedPushReplayedUnderANewMsgIdCountsOnce(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let account = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "acct")
            let like = Array(#"{"event":"new_video_digg","client_key":"ck","from_user_id":"fan","to_user_id":"acct","content":{"action_type":1,"action_time":1772294400,"item_id":"v1"}}"#.utf8)
            #expect(try json(try await client.deliver(like, secret: "s", msgId: "m-1"))["events"] as? Int == 1)
            #expect(try json(try await client.deliver(like, secret: "s", msgId: "m-1"))["status"] as? String == "duplicate")
            let replayed = try json(try await client.deliver(like, secret: "s", msgId: "m-forged"))
            #expect(replayed["events"] as? Int == 0, "the Msg-Id header is not signed: the body decides what counts")
            await f.flywheel.projector.drain()
            let fan = try await client.get("/v1/accounts/\(account)/fans/fan", key: f.key)["fan"] as! [String: Any]
            #expect((fan["counters"] as? [String: Int])?["likes"] == 1)
        }
    }
}
