import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Tags, notes, the fan profile's timeline, static segments and lookalikes, through the API.
@Suite struct CRMTests {
    let t0: Int64 = 1_772_294_400_000  // 2026-02-28T16:00Z

    func append(_ f: ServerFixture, _ accountId: String, _ events: [FanEvent]) async throws {
        _ = try await f.flywheel.env.store.append(events.map { AccountEvent(tenantId: f.tenantId, accountId: accountId, event: $0) }) { _ in }
        await f.flywheel.projector.drain()
    }

    func status(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String, _ body: String) async throws -> (Int, String) {
        try await client.execute(uri: uri, method: method, headers: auth(key), body: ByteBuffer(string: body)) { (response: TestResponse) async throws in
            (Int(response.status.code), String(buffer: response.body))
        }
    }

    @Test(arguments: StoreKind.allCases) func operatorsTagFansAndSegmentsOverTagsFollow(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let account = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "o")
            try await append(f, account, (0..<6).map { FanEvent(id: "f\($0)", kind: .follow, openId: "fan\($0)", occurredAt: t0 + Int64($0), channel: .search) })
            try await client.post("/v1/tags", key: f.key, ["name": "vip", "group": "value"])
            try await client.post("/v1/tags", key: f.key, ["name": "白酒爱好者", "group": "interest"])
            let (dup, _) = try await status(client, .post, "/v1/tags", key: f.key, #"{"name":"vip"}"#)
            #expect(dup == 409)
            let tags = try await client.get("/v1/tags", key: f.key)["items"] as! [[String: Any]]
            #expect(tags.map { "\($0["group"]!)/\($0["name"]!)" } == ["interest/白酒爱好者", "value/vip"])

            let vips = try await client.post("/v1/accounts/\(account)/segments", key: f.key, ["name": "VIPs", "predicate": "tags has vip"])
            #expect(vips["size"] as? Int == 0)
            let done = try await client.post("/v1/accounts/\(account)/fans/tags", key: f.key, ["add": ["vip"], "openIds": ["fan1", "fan2"]], expect: .accepted)
            #expect(done["fans"] as? Int == 2 && done["events"] as? Int == 2)
            await f.flywheel.projector.drain()
            let segment = "/v1/accounts/\(account)/segments/\(vips["id"] as! String)"
            #expect(try await client.get(segment, key: f.key)["size"] as? Int == 2, "the segment follows the tags at once")
            let changes = try await client.get("\(segment)/changes", key: f.key)["items"] as! [[String: Any]]
            #expect(Set(changes.map { "\($0["openId"]!) \($0["change"]!) \($0["cause"]!)" }) == ["fan1 entered tag_added", "fan2 entered tag_added"])

            // A whole segment, then every fan matching a predicate.
            try await client.post("/v1/accounts/\(account)/fans/tags", key: f.key, ["add": ["白酒爱好者"], "segmentId": vips["id"] as! String], expect: .accepted)
            try await client.post("/v1/accounts/\(account)/fans/tags", key: f.key, ["remove": ["vip"], "where": "open_id in (\"fan2\", \"fan5\")"], expect: .accepted)
            await f.flywheel.projector.drain()
            let fan1 = try await client.get("/v1/accounts/\(account)/fans/fan1", key: f.key)
            #expect((fan1["fan"] as! [String: Any])["tags"] as? [String] == ["vip", "白酒爱好者"])
            let fan2 = try await client.get("/v1/accounts/\(account)/fans/fan2", key: f.key)
            #expect((fan2["fan"] as! [String: Any])["tags"] as? [String] == ["白酒爱好者"])
            let timeline = (fan2["timeline"] as! [[String: Any]]).map { "\($0["actor"]!) \($0["kind"]!) \($0["detail"] ?? "")" }
            #expect(timeline.contains("operator tag_removed vip") && timeline.contains("system segment_left VIPs (tag_removed)"))
            #expect(try await client.get(segment, key: f.key)["size"] as? Int == 1)
            let listed = try await client.get("/v1/accounts/\(account)/fans?where=tags%20has%20%22%E7%99%BD%E9%85%92%E7%88%B1%E5%A5%BD%E8%80%85%22", key: f.key)
            #expect((listed["items"] as! [[String: Any]]).map { $0["openId"] as! String } == ["fan1", "fan2"])
            let formEncoded = try await client.get("/v1/accounts/\(account)/fans?where=tags+has+%22%E7%99%BD%E9%85%92%E7%88%B1%E5%A5%BD%E8%80%85%22", key: f.key)
            #expect((formEncoded["items"] as! [[String: Any]]).count == 2, "a '+' in the query is a space, as forms send it")

            // Mistakes name the field and change nothing.
            for (body, field) in [(#"{"add":["gold"],"openIds":["fan1"]}"#, "add[0]"), (#"{"add":["vip"],"openIds":["fan1","nobody"]}"#, "openIds[1]"),
                                  (#"{"add":["vip"],"openIds":["fan1"],"segmentId":"x"}"#, "openIds"), (#"{"add":["vip"],"where":"tags hs vip"}"#, "where"),
                                  (#"{"openIds":["fan1"]}"#, "add")] {
                let (code, text) = try await status(client, .post, "/v1/accounts/\(account)/fans/tags", key: f.key, body)
                #expect(code == 400 && text.contains(field), "\(body): \(text)")
            }
            await f.flywheel.projector.drain()
            #expect(try await client.get(segment, key: f.key)["size"] as? Int == 1)

            // Deleting a tag takes it off every fan.
            let (deleted, _) = try await status(client, .delete, "/v1/tags/vip", key: f.key, "")
            #expect(deleted == 204)
            await f.flywheel.projector.drain()
            #expect(try await client.get(segment, key: f.key)["size"] as? Int == 0)
            let (gone, _) = try await status(client, .delete, "/v1/tags/vip", key: f.key, "")
            #expect(gone == 404)
        }
    }

    @Test(arguments: StoreKind.allCases) func autoTagRulesTagFansWhoQualifyNowAndLater(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let account = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "o")
            try await append(f, account, [
                FanEvent(id: "o1", kind: .orderPaid, openId: "rich", occurredAt: t0, channel: .liveFeed, amount: 150_000),
                FanEvent(id: "o2", kind: .orderPaid, openId: "modest", occurredAt: t0, channel: .liveFeed, amount: 9_900),
            ])
            var rules = try await client.get("/v1/accounts/\(account)/rules", key: f.key)["rules"] as! [String: Any]
            rules["tagRules"] = [["tag": "big_spender", "when": "gmv >= 100000"]]
            let body = String(decoding: try JSONSerialization.data(withJSONObject: rules), as: UTF8.self)
            let (undefined, message) = try await status(client, .put, "/v1/accounts/\(account)/rules", key: f.key, body)
            #expect(undefined == 400 && message.contains("tagRules[0].tag"))
            try await client.post("/v1/tags", key: f.key, ["name": "big_spender"])
            let (saved, _) = try await status(client, .put, "/v1/accounts/\(account)/rules", key: f.key, body)
            #expect(saved == 200)
            await f.flywheel.projector.drain()
            #expect(try await tagged(client, f, account) == ["rich"], "a new rule tags the fans who already qualify")

            try await append(f, account, [FanEvent(id: "o3", kind: .orderPaid, openId: "modest", occurredAt: t0 + 60_000, channel: .liveFeed, amount: 95_000)])
            #expect(try await tagged(client, f, account) == ["modest", "rich"], "and fans as they come to qualify")
            let timeline = try await client.get("/v1/accounts/\(account)/fans/modest", key: f.key)["timeline"] as! [[String: Any]]
            #expect(timeline.first.map { "\($0["actor"] ?? "") \($0["kind"] ?? "") \($0["detail"] ?? "")" } == "system tag_added big_spender (rule)")
        }
    }

    func tagged(_ client: any TestClientProtocol, _ f: ServerFixture, _ account: String) async throws -> [String] {
        let page = try await client.get("/v1/accounts/\(account)/fans?where=tags%20has%20big_spender", key: f.key)
        return (page["items"] as! [[String: Any]]).map { $0["openId"] as! String }
    }

    @Test(arguments: StoreKind.allCases) func notesAndEverythingElseShareOneTimelineAndSearchFindsFans(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let account = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "o")
            try await append(f, account, [
                FanEvent(id: "1", kind: .follow, openId: "u-1", occurredAt: t0, channel: .search, attributes: ["nickname": "王小二"]),
                FanEvent(id: "2", kind: .leadSubmitted, openId: "u-1", occurredAt: t0 + 1_000, channel: .group, attributes: ["phone": "138 0013 8000"]),
                FanEvent(id: "3", kind: .follow, openId: "u-2", occurredAt: t0, channel: .search, attributes: ["nickname": "李四"]),
            ])
            let note = try await client.post("/v1/accounts/\(account)/fans/u-1/notes", key: f.key, ["text": "想要 53 度的，周末再联系"])
            #expect(note["actor"] as? String == "operator" && note["kind"] as? String == "note_added")
            let (empty, message) = try await status(client, .post, "/v1/accounts/\(account)/fans/u-1/notes", key: f.key, #"{"text":"  "}"#)
            #expect(empty == 400 && message.contains("text"))
            let (missing, _) = try await status(client, .post, "/v1/accounts/\(account)/fans/nobody/notes", key: f.key, #"{"text":"hi"}"#)
            #expect(missing == 404)
            await f.flywheel.projector.drain()
            let detail = try await client.get("/v1/accounts/\(account)/fans/u-1", key: f.key)
            let lines = (detail["timeline"] as! [[String: Any]]).map { "\($0["actor"]!) \($0["kind"]!) \($0["detail"] ?? "-")" }
            #expect(lines == ["operator note_added 想要 53 度的，周末再联系", "fan lead_submitted -", "system tier_changed new → passerby (follow)", "fan follow -"])
            #expect(((detail["fan"] as! [String: Any])["profile"] as? [String: String])?["phone"] == "13800138000")
            #expect((detail["fan"] as! [String: Any])["lastActiveAt"] as? String == "2026-02-28T16:00:01.000Z", "a note is not the fan's activity")

            for (q, expected) in [("王", ["u-1"]), ("u-2", ["u-2"]), ("13800138000", ["u-1"]), ("nobody", [])] {
                let q = q.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!
                let found = try await client.get("/v1/accounts/\(account)/fans?q=\(q)", key: f.key)["items"] as! [[String: Any]]
                #expect(found.map { $0["openId"] as! String } == expected, "\(q)")
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func aCSVOfOpenIdsBecomesAStaticSegment(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let account = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "o")
            try await append(f, account, (0..<5).map { FanEvent(id: "f\($0)", kind: .like, openId: "fan\($0)", occurredAt: t0, channel: .search) })
            let csv = "open_id\nfan1\n\"fan3\",extra\nfan1\n\nstranger\nfan4\r\n"
            let (code, text) = try await status(client, .post, "/v1/accounts/\(account)/segments/import?name=Offline%20buyers", key: f.key, csv)
            #expect(code == 201, "\(text)")
            let made = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(made["rows"] as? Int == 4 && made["unmatched"] as? Int == 1)
            let segment = made["segment"] as! [String: Any]
            #expect(segment["kind"] as? String == "static" && segment["predicate"] == nil && segment["size"] as? Int == 3)
            let uri = "/v1/accounts/\(account)/segments/\(segment["id"] as! String)"
            #expect(try await client.get("\(uri)/members", key: f.key)["items"] as? [String] == ["fan1", "fan3", "fan4"])

            // Members stay as imported while fans act; a static segment takes no predicate.
            try await append(f, account, [FanEvent(id: "x", kind: .follow, openId: "fan2", occurredAt: t0 + 1, channel: .search)])
            #expect(try await client.get("\(uri)/members", key: f.key)["items"] as? [String] == ["fan1", "fan3", "fan4"])
            let (patched, why) = try await status(client, .patch, uri, key: f.key, #"{"predicate":"following"}"#)
            #expect(patched == 400 && why.contains("static"))
            for (query, body, field) in [("?name=x", "", "body"), ("", "fan1\n", "name"), ("?name=x", "fan 1\n", "line 1")] {
                let (bad, message) = try await status(client, .post, "/v1/accounts/\(account)/segments/import\(query)", key: f.key, body)
                #expect(bad == 400 && message.contains(field), "\(message)")
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func aLookalikeFindsTheFansMostLikeTheSeed(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let account = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "o")
            // Two kinds of fan: women 31-40 who buy baijiu and watch lives, and men 18-23 who only watch videos.
            var events: [FanEvent] = []
            for i in 0..<60 {
                let buyer = i % 3 == 0
                let id = buyer ? "buyer\(i)" : "viewer\(i)"
                let profile = buyer ? ["gender": "female", "age_band": "31-40", "interests": "白酒"] : ["gender": "male", "age_band": "18-23", "interests": "游戏"]
                events.append(FanEvent(id: "p\(i)", kind: .videoView, openId: id, occurredAt: t0, channel: .recommendFeed, attributes: profile))
                if buyer {
                    events.append(FanEvent(id: "o\(i)", kind: .orderPaid, openId: id, occurredAt: t0 + 1, channel: .liveFeed, amount: 49_900))
                    events.append(FanEvent(id: "w\(i)", kind: .liveWatch, openId: id, occurredAt: t0 + 2, channel: .liveFeed, amount: 40))
                }
            }
            try await append(f, account, events)
            let seedIds = ["buyer0", "buyer3", "buyer6", "buyer9", "buyer12"]
            let seed = try await status(client, .post, "/v1/accounts/\(account)/segments/import?name=seed", key: f.key, seedIds.joined(separator: "\n"))
            let seedId = ((try JSONSerialization.jsonObject(with: Data(seed.1.utf8)) as! [String: Any])["segment"] as! [String: Any])["id"] as! String
            let made = try await client.post("/v1/accounts/\(account)/segments/\(seedId)/lookalike", key: f.key, ["name": "like the seed", "size": 15])
            #expect(made["size"] as? Int == 15 && made["kind"] as? String == "static")
            let members = try await client.get("/v1/accounts/\(account)/segments/\(made["id"] as! String)/members", key: f.key)["items"] as! [String]
            #expect(members.allSatisfy { $0.hasPrefix("buyer") && !seedIds.contains($0) }, "\(members)")
            let portrait = try await client.get("/v1/accounts/\(account)/segments/\(made["id"] as! String)/portrait", key: f.key)
            let distributions = portrait["distributions"] as! [String: [String: Int]]
            #expect(distributions["gender"] == ["female": 15] && distributions["interests"] == ["白酒": 15] && distributions["age_band"] == ["31-40": 15])
            let (bad, message) = try await status(client, .post, "/v1/accounts/\(account)/segments/\(seedId)/lookalike", key: f.key, #"{"name":"x","size":0}"#)
            #expect(bad == 400 && message.contains("size"))
        }
    }
}
