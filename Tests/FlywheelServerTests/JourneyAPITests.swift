import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Journeys and experiments through the API: bad definitions refused naming the field, drafts
/// edited in place, launched journeys edited as versions with the holdout fixed, the report's
/// arms and intervals, and nothing of another enterprise's.
@Suite struct JourneyAPITests {
    func call(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String, _ body: String = "") async throws -> (Int, [String: Any]) {
        try await client.execute(uri: uri, method: method, headers: auth(key), body: ByteBuffer(string: body)) { (response: TestResponse) async throws in
            (Int(response.status.code), (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
        }
    }

    func message(_ answer: [String: Any]) -> String { ((answer["error"] as? [String: Any])?["message"] as? String) ?? "" }

    @Test(arguments: StoreKind.allCases) func journeysAreCheckedVersionedAndReported(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-j", secret: "s", openId: "acct-j")
            try await client.post("/v1/tags", key: f.key, ["name": "vip"])
            let steps = #"[{"kind":"wait","minutes":60},{"kind":"branch","predicate":"orders >= 1","next":4},{"kind":"dm","text":"优惠券到了"},{"kind":"tag","tag":"vip"}]"#
            func body(_ trigger: String = #"{"kind":"event","value":"order_paid"}"#, steps: String = steps, extra: String = "") -> String {
                #"{"accountId":"\#(accountId)","name":"复购","trigger":\#(trigger),"steps":\#(steps)\#(extra)}"#
            }
            // Refused, naming the field.
            for (bad, field) in [
                (body(#"{"kind":"tier","value":"vip"}"#), "trigger.value"),
                (body(#"{"kind":"segment","value":"seg_none"}"#), "trigger.value"),
                (body(steps: #"[{"kind":"wait","minutes":0}]"#), "steps[0].minutes"),
                (body(steps: #"[{"kind":"dm","text":"a"},{"kind":"branch","predicate":"orders >=","next":3}]"#), "steps[1].predicate"),
                (body(steps: #"[{"kind":"dm","text":"a"},{"kind":"tag","tag":"x","next":1}]"#), "steps[1].next"),
                (body(steps: #"[{"kind":"wait_until","at":"25:00"}]"#), "steps[0].at"),
                (body(steps: "[]"), "steps"),
                (body(steps: #"[{"kind":"tag","tag":"never defined"}]"#), "steps[0].tag"),
                (body(steps: #"[{"kind":"audience","segmentId":"seg_none"}]"#), "steps[0].segmentId"),
                (body(steps: #"[{"kind":"red_envelope","envelopeId":"env_none"}]"#), "steps[0].envelopeId"),
                (body(steps: #"[{"kind":"red_envelope"}]"#), "steps[0].envelopeId"),
                (body(extra: #","holdoutPercent":60"#), "holdoutPercent"),
                (body(extra: #","quietHours":{"start":"22:00","end":"8"}"#), "quietHours"),
            ] {
                let (code, answer) = try await call(client, .post, "/v1/journeys", key: f.key, bad)
                #expect(code == 400 && message(answer).hasPrefix(field), "\(field): \(code) \(answer)")
            }
            var (code, journey) = try await call(client, .post, "/v1/journeys", key: f.key, body(extra: #","holdoutPercent":20,"quietHours":null"#))
            #expect(code == 201 && journey["state"] as? String == "draft" && journey["version"] as? Int == 1 && journey["holdoutPercent"] as? Int == 20)
            #expect(journey["controlPercent"] as? Int == 5 && journey["quietHours"] == nil, "none")
            let id = try #require(journey["id"] as? String)
            // A draft is edited in place, its holdout too.
            (code, journey) = try await call(client, .put, "/v1/journeys/\(id)", key: f.key, body(extra: #","holdoutPercent":10,"version":1"#))
            #expect(code == 200 && journey["version"] as? Int == 1 && journey["holdoutPercent"] as? Int == 10)
            #expect((journey["quietHours"] as? [String: String]) == ["start": "22:00", "end": "08:00"], "absent means the standard quiet hours")
            (code, journey) = try await call(client, .post, "/v1/journeys/\(id)/launch", key: f.key)
            #expect(code == 200 && journey["state"] as? String == "active" && journey["launchedAt"] is String)
            // Launched: an edit is version 2; the holdout cannot change; an edit of an old version is refused.
            (code, journey) = try await call(client, .put, "/v1/journeys/\(id)", key: f.key, body(extra: #","version":1"#))
            #expect(code == 200 && journey["version"] as? Int == 2)
            (code, journey) = try await call(client, .put, "/v1/journeys/\(id)", key: f.key, body(extra: #","holdoutPercent":30"#))
            #expect(code == 400 && message(journey).hasPrefix("holdoutPercent"))
            (code, journey) = try await call(client, .put, "/v1/journeys/\(id)", key: f.key, body(extra: #","version":1"#))
            #expect(code == 409)

            // Buyers enter; the report counts them per arm.
            let now = f.flywheel.env.now()
            let fans = (0..<120).map { "buyer-\($0)" }
            _ = try await f.flywheel.env.store.append(fans.enumerated().map { i, fan in
                AccountEvent(tenantId: f.tenantId, accountId: accountId,
                             event: FanEvent(id: "o\(i)", kind: .orderPaid, openId: fan, occurredAt: now, channel: .homepage, amount: 9_900, ref: "order-\(i)"))
            }) { _ in }
            await f.flywheel.projector.drain()
            (code, journey) = try await call(client, .get, "/v1/journeys/\(id)", key: f.key)
            let entered = try #require((journey["progress"] as? [String: Any])?["entered"] as? [String: Int])
            let expected = Dictionary(grouping: fans) { ExperimentArm.of($0, experiment: id, holdoutPercent: 10, tenantId: f.tenantId, controlPercent: 5) }
            #expect(entered == Dictionary(uniqueKeysWithValues: ExperimentArm.allCases.map { ($0.rawValue, expected[$0]?.count ?? 0) }))
            (code, journey) = try await call(client, .get, "/v1/experiments/\(id)", key: f.key)
            #expect(code == 200)
            let arms = try #require(journey["arms"] as? [String: [String: Any]])
            #expect(arms["treated"]?["fans"] as? Int == expected[.treated]?.count && arms["treated"]?["conversion"] as? Double == 1)
            #expect(arms["treated"]?["gmvPerFan"] as? Double == 99, "¥99 each")
            let conversion = try #require(journey["conversion"] as? [String: Any])
            #expect(conversion["difference"] as? Double == 0 && conversion["significant"] as? Bool == false, "everyone bought: no difference")
            #expect((journey["method"] as? String)?.contains("Welch") == true)
            let list = try await client.get("/v1/experiments?accountId=\(accountId)", key: f.key)["items"] as? [[String: Any]]
            #expect(list?.map { $0["experimentId"] as? String } == [id])

            (code, journey) = try await call(client, .post, "/v1/journeys/\(id)/pause", key: f.key)
            #expect(code == 200 && journey["state"] as? String == "paused")
            (code, _) = try await call(client, .post, "/v1/journeys/\(id)/pause", key: f.key)
            #expect(code == 409, "only an active journey pauses")

            // The global control group: 5% until changed; a journey launched after a change keeps the new share.
            var (status, settings) = try await call(client, .get, "/v1/experiment-settings", key: f.key)
            #expect(status == 200 && settings["controlPercent"] as? Int == 5)
            (status, settings) = try await call(client, .put, "/v1/experiment-settings", key: f.key, #"{"controlPercent":30}"#)
            #expect(status == 400 && message(settings).hasPrefix("controlPercent"))
            (status, settings) = try await call(client, .put, "/v1/experiment-settings", key: f.key, #"{"controlPercent":10}"#)
            #expect(status == 200 && settings["controlPercent"] as? Int == 10)
            (_, journey) = try await call(client, .post, "/v1/journeys", key: f.key, body())
            (_, journey) = try await call(client, .post, "/v1/journeys/\(journey["id"] as? String ?? "")/launch", key: f.key)
            #expect(journey["controlPercent"] as? Int == 10)

            // Another enterprise sees none of it; an analyst reads but does not write.
            let other = try await f.flywheel.tenancy.createTenant(name: "Other", kind: .enterprise, actor: "test")
            for uri in ["/v1/journeys/\(id)", "/v1/experiments/\(id)"] { #expect(try await call(client, .get, uri, key: other.key.token).0 == 404) }
            #expect(try await call(client, .post, "/v1/journeys/\(id)/launch", key: other.key.token).0 == 404)
            #expect((try await client.get("/v1/journeys", key: other.key.token)["items"] as? [Any])?.isEmpty == true)
            let analyst = try await client.post("/v1/users", key: f.key, ["name": "A", "role": "analyst"])
            let analystKey = try await client.post("/v1/users/\(analyst["id"] as! String)/keys", key: f.key, [:])["token"] as! String
            #expect(try await call(client, .get, "/v1/experiments/\(id)", key: analystKey).0 == 200)
            #expect(try await call(client, .post, "/v1/journeys", key: analystKey, body()).0 == 403)
            #expect(try await call(client, .put, "/v1/experiment-settings", key: analystKey, #"{"controlPercent":5}"#).0 == 403)
        }
    }

    /// A funnel stage's journey takes fans as they enter the stage (the launch keeps the funnel's
    /// segments); a lead stage's takes the fan when an operator moves its lead there; a date's is
    /// refused with a past date, a bad one, a condition elsewhere, and its date is fixed at launch.
    @Test(arguments: StoreKind.allCases) func funnelStagesLeadStagesAndDatesStartJourneys(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-t", secret: "s", openId: "acct-t")
            func create(_ trigger: String, launch: Bool = true) async throws -> (Int, [String: Any]) {
                var (code, journey) = try await call(client, .post, "/v1/journeys", key: f.key,
                                                     #"{"accountId":"\#(accountId)","name":"t","trigger":\#(trigger),"steps":[{"kind":"webhook","label":"in"}],"holdoutPercent":0}"#)
                if code == 201, launch { (code, journey) = try await call(client, .post, "/v1/journeys/\(journey["id"] as? String ?? "")/launch", key: f.key) }
                return (code, journey)
            }
            for (bad, field) in [(#"{"kind":"funnel_stage","value":"new"}"#, "trigger.value"), (#"{"kind":"lead_stage","value":"closed"}"#, "trigger.value"),
                                 (#"{"kind":"lead_stage","value":"new"}"#, "trigger.value"),
                                 (#"{"kind":"date","value":"2026-13-01 10:00"}"#, "trigger.value"),
                                 (#"{"kind":"date","value":"2027-01-01 10:00","condition":"orders >="}"#, "trigger.condition"),
                                 (#"{"kind":"event","value":"follow","condition":"orders >= 1"}"#, "trigger.condition")] {
                let (code, answer) = try await create(bad, launch: false)
                #expect(code == 400 && message(answer).hasPrefix(field), "\(bad): \(code) \(answer)")
            }
            let past = try await create(#"{"kind":"date","value":"2020-01-01 10:00"}"#)
            #expect(past.0 == 400 && message(past.1).contains("has passed"), "a date in the past cannot launch")
            let (dated, date) = try await create(#"{"kind":"date","value":"2099-01-01 10:00","condition":"orders >= 1"}"#)
            #expect(dated == 200 && (date["trigger"] as? [String: String])?["condition"] == "orders >= 1")
            let moved = try await call(client, .put, "/v1/journeys/\(date["id"] as? String ?? "")", key: f.key,
                                       #"{"name":"t","trigger":{"kind":"date","value":"2099-02-01 10:00"},"steps":[{"kind":"webhook","label":"in"}]}"#)
            #expect(moved.0 == 400 && message(moved.1).hasPrefix("trigger"), "fixed at launch")

            let (converted, stage) = try await create(#"{"kind":"funnel_stage","value":"converted"}"#)
            let (qualified, lead) = try await create(#"{"kind":"lead_stage","value":"qualified"}"#)
            #expect(converted == 200 && qualified == 200)
            let rekinded = try await call(client, .put, "/v1/journeys/\(lead["id"] as? String ?? "")", key: f.key,
                                          #"{"name":"t","trigger":{"kind":"event","value":"follow"},"steps":[{"kind":"webhook","label":"in"}]}"#)
            #expect(rekinded.0 == 400 && message(rekinded.1).hasPrefix("trigger.kind"), "a launched journey keeps its kind of trigger")
            let now = f.flywheel.env.now()
            func events(_ list: [FanEvent]) async throws {
                _ = try await f.flywheel.env.store.append(list.map { AccountEvent(tenantId: f.tenantId, accountId: accountId, event: $0) }) { _ in }
                await f.flywheel.projector.drain()
            }
            // a follows and buys (converted: following, active, an order); b follows only; c leaves a lead.
            try await events([FanEvent(id: "fa", kind: .follow, openId: "a", occurredAt: now, channel: .search),
                              FanEvent(id: "fb", kind: .follow, openId: "b", occurredAt: now, channel: .search),
                              FanEvent(id: "oa", kind: .orderPaid, openId: "a", occurredAt: now, channel: .homepage, amount: 9_900, ref: "order-a"),
                              FanEvent(id: "lc", kind: .leadSubmitted, openId: "c", occurredAt: now, channel: .homepage, attributes: ["name": "陈", "phone": "13900139000"])])
            func entered(_ journey: [String: Any]) async throws -> Int {
                let progress = try await call(client, .get, "/v1/journeys/\(journey["id"] as? String ?? "")", key: f.key).1["progress"] as? [String: Any]
                return (progress?["entered"] as? [String: Int])?.values.reduce(0, +) ?? 0
            }
            // c's lead also converts c (leads >= 1) once c follows.
            #expect(try await entered(stage) == 1, "a entered the converted stage, b did not")
            #expect(try await entered(lead) == 0, "a submitted lead is new, not qualified")
            let leads = try await client.get("/v1/leads", key: f.key)["items"] as? [[String: Any]]
            let leadId = try #require(leads?.first?["id"] as? String)
            let (patched, _) = try await call(client, .patch, "/v1/leads/\(leadId)", key: f.key, #"{"stage":"qualified"}"#)
            #expect(patched == 200)
            #expect(try await entered(lead) == 1, "moving the lead to qualified put its fan on the journey")
            _ = try await call(client, .patch, "/v1/leads/\(leadId)", key: f.key, #"{"stage":"won","wonValue":100000}"#)
            #expect(try await entered(lead) == 1, "only the stage it names")
            try await events([FanEvent(id: "fc", kind: .follow, openId: "c", occurredAt: now, channel: .search)])
            #expect(try await entered(stage) == 2, "c follows: its lead makes it converted")
        }
    }
}
