import Crypto
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct APITests {
    @Test(arguments: StoreKind.allCases) func aKeyOfOneTenantFindsNothingOfAnother(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let other = try await f.flywheel.tenancy.createTenant(name: "Rival", kind: .enterprise, actor: "test")
        try await f.test { client in
            let mine = try await client.account(key: f.key, clientKey: "ck-a", secret: "s", openId: "open-a")
            let theirs = try await client.account(key: other.key.token, clientKey: "ck-b", secret: "s", openId: "open-b")
            for uri in ["/v1/accounts/\(theirs)", "/v1/accounts/\(theirs)/fans", "/v1/accounts/\(theirs)/rules", "/v1/accounts/\(theirs)/tiers"] {
                try await client.execute(uri: uri, method: .get, headers: auth(f.key)) { (response: TestResponse) async throws in
                    #expect(response.status == .notFound, "\(uri)")
                    #expect(try errorCode(response) == "not_found")
                }
            }
            let listed = try await client.get("/v1/accounts", key: f.key)["items"] as! [[String: Any]]
            #expect(listed.map { $0["id"] as! String } == [mine])
            try await client.execute(uri: "/v1/accounts/\(theirs)/rules", method: .put, headers: auth(f.key),
                                     body: ByteBuffer(string: "{}")) { #expect($0.status == .notFound) }
        }
    }

    @Test(arguments: StoreKind.allCases) func aServiceProviderSeesTheEnterprisesItManagesAndNoOthers(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let provider = try await f.flywheel.tenancy.createTenant(name: "Agency", kind: .provider, actor: "test")
        try await f.test { client in
            let made = try await client.post("/v1/enterprises", key: provider.key.token, ["name": "Client Brand"])
            let enterpriseKey = made["ownerApiKey"] as! String
            let managed = try await client.account(key: enterpriseKey, clientKey: "ck-m", secret: "s", openId: "open-m")
            let unrelated = try await client.account(key: f.key, clientKey: "ck-u", secret: "s", openId: "open-u")
            _ = try await client.get("/v1/accounts/\(managed)", key: provider.key.token)
            try await client.execute(uri: "/v1/accounts/\(unrelated)", method: .get, headers: auth(provider.key.token)) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v1/accounts/\(managed)", method: .get, headers: auth(f.key)) { #expect($0.status == .notFound) }
            _ = try await client.post("/v1/enterprises", key: f.key, ["name": "x"], expect: .forbidden)
        }
    }

    /// A server without FLYWHEEL_SECRET_KEY started no consent, so a state that comes back to it is
    /// none it signed: refused as forged (403), not a server fault (503).
    @Test func aCallbackToAServerWithoutASecretKeyIsRefusedAsForged() async throws {
        let f = try await ServerFixture(.sqlite)
        try await f.test { client in
            try await client.execute(uri: "/oauth/douyin/callback?code=abc&state=e30.c2ln", method: .get, headers: [.accept: "application/json"]) { response in
                #expect(response.status == .forbidden, "\(String(buffer: response.body))")
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func requestsWithoutAValidKeyAreRefused(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            try await client.execute(uri: "/v1/accounts", method: .get) { (response: TestResponse) async throws in
                #expect(response.status == .unauthorized)
                #expect(try errorCode(response) == "unauthorized")
            }
            let forged = String(f.key.dropLast()) + (f.key.hasSuffix("0") ? "1" : "0")
            try await client.execute(uri: "/v1/accounts", method: .get, headers: auth(forged)) { #expect($0.status == .unauthorized) }
        }
    }

    @Test(arguments: StoreKind.allCases) func rolesDecideWhatACallerMayChange(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let analyst = try await client.post("/v1/users", key: f.key, ["name": "ana", "role": "analyst"])
            let key = try await client.post("/v1/users/\(analyst["id"] as! String)/keys", key: f.key, [:])
            let analystKey = key["token"] as! String
            _ = try await client.post("/v1/apps", key: analystKey, ["name": "x", "clientKey": "k", "clientSecret": "s"], expect: .forbidden)
            _ = try await client.get("/v1/accounts", key: analystKey)
            let admin = try await client.post("/v1/users", key: f.key, ["name": "adm", "role": "admin"])
            #expect(admin["role"] as? String == "admin")
            let audit = try await client.get("/v1/audit", key: f.key)["items"] as! [[String: Any]]
            #expect(audit.map { $0["action"] as! String } == ["user.create", "api_key.create", "user.create", "tenant.create"])
        }
    }

    @Test(arguments: StoreKind.allCases) func badInputIsA4xxNamingTheField(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            var body = try await client.post("/v1/apps", key: f.key, ["name": "x", "clientKey": "k"], expect: .badRequest)
            #expect((body["error"] as! [String: Any])["message"] as? String == "clientSecret: is required")
            body = try await client.post("/v1/apps", key: f.key, ["name": 5, "clientKey": "k", "clientSecret": "s"], expect: .badRequest)
            #expect(((body["error"] as! [String: Any])["message"] as! String).hasPrefix("name:"))
            body = try await client.post("/v1/users", key: f.key, ["name": "x", "role": "king"], expect: .badRequest)
            #expect(((body["error"] as! [String: Any])["message"] as! String).hasPrefix("role:"))
            let account = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "o")
            _ = try await client.post("/v1/accounts", key: f.key, ["name": "x", "appId": "app_nope", "openId": "o2"], expect: .badRequest)
            _ = try await client.post("/v1/accounts", key: f.key, ["name": "x", "appId": "app_nope", "openId": "o2", "timeZone": "Mars/Olympus"], expect: .badRequest)
            _ = try await client.post("/v1/apps", key: f.key, ["name": "dup", "clientKey": "ck", "clientSecret": "s"], expect: .conflict)
            for (query, field) in [("tier=gold", "tier"), ("domain=moon", "domain"), ("limit=0", "limit"), ("cursor=%25%25", "cursor")] {
                try await client.execute(uri: "/v1/accounts/\(account)/fans?\(query)", method: .get, headers: auth(f.key)) { (response: TestResponse) async throws in
                    #expect(response.status == .badRequest, "\(query)")
                    #expect((((try json(response))["error"] as! [String: Any])["message"] as! String).hasPrefix(field), "\(query)")
                }
            }
            try await client.execute(uri: "/v1/accounts/\(account)/tiers?from=2026-02-30", method: .get, headers: auth(f.key)) { #expect($0.status == .badRequest) }
            var rules = try JSONSerialization.jsonObject(with: JSONEncoder().encode(AccountRules.standard)) as! [String: Any]
            var levels = rules["levels"] as! [String: Any]
            levels["thresholds"] = [5, 3]
            rules["levels"] = levels
            try await client.execute(uri: "/v1/accounts/\(account)/rules", method: .put, headers: auth(f.key),
                                     body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: rules))) { (response: TestResponse) async throws in
                #expect(response.status == .badRequest)
                #expect((((try json(response))["error"] as! [String: Any])["message"] as! String).hasPrefix("levels.thresholds"))
            }
            try await client.execute(uri: "/v1/nothing", method: .get, headers: auth(f.key)) { #expect($0.status == .notFound) }
        }
    }

    @Test(arguments: StoreKind.allCases) func fansTiersAndSourcesReflectTheEvents(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "o")
            let account = try #require(try await f.flywheel.env.store.account(id: accountId, tenantIds: [f.tenantId]))
            let day: Int64 = 1_772_294_400_000  // 2026-03-01T00:00+08:00
            var events: [FanEvent] = []
            for i in 0..<30 {
                events.append(FanEvent(id: "v\(i)", kind: .videoView, openId: "fan\(i)", occurredAt: day + Int64(i), channel: i < 10 ? .douPlus : .recommendFeed))
                if i < 12 { events.append(FanEvent(id: "f\(i)", kind: .follow, openId: "fan\(i)", occurredAt: day + 86_400_000 + Int64(i), channel: .followFeed)) }
            }
            _ = try await f.flywheel.env.store.append(events.map { AccountEvent(tenantId: f.tenantId, accountId: accountId, event: $0) }) { _ in }
            await f.flywheel.projector.drain()
            _ = account

            let page = try await client.get("/v1/accounts/\(accountId)/fans?tier=passerby&limit=5", key: f.key)
            #expect((page["items"] as! [[String: Any]]).count == 5)
            let next = try await client.get("/v1/accounts/\(accountId)/fans?tier=passerby&limit=5&cursor=\(page["nextCursor"] as! String)", key: f.key)
            let last = try await client.get("/v1/accounts/\(accountId)/fans?tier=passerby&limit=5&cursor=\(next["nextCursor"] as! String)", key: f.key)
            #expect((last["items"] as! [[String: Any]]).count == 2)
            #expect(last["nextCursor"] == nil)
            let paid = try await client.get("/v1/accounts/\(accountId)/fans?domain=commercial", key: f.key)
            #expect((paid["items"] as! [[String: Any]]).count == 10)
            let query = "following and first_channel in (dou_plus, recommend_feed) and level <= 1".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            var found: [String] = []
            var cursor = ""
            repeat {
                let page = try await client.get("/v1/accounts/\(accountId)/fans?limit=4&where=\(query)\(cursor)", key: f.key)
                found += (page["items"] as! [[String: Any]]).map { $0["openId"] as! String }
                cursor = (page["nextCursor"] as? String).map { "&cursor=\($0)" } ?? ""
            } while !cursor.isEmpty
            #expect(found == ["fan0", "fan1", "fan10", "fan11", "fan2", "fan3", "fan4", "fan5", "fan6", "fan7", "fan8", "fan9"])
            let typo = "teir >= liking".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            try await client.execute(uri: "/v1/accounts/\(accountId)/fans?where=\(typo)", method: .get, headers: auth(f.key)) { (response: TestResponse) async throws in
                #expect(response.status == .badRequest)
                #expect((((try json(response))["error"] as! [String: Any])["message"] as! String) == "where: 1:1: unknown field 'teir', did you mean 'tier'?")
            }

            let tiers = try await client.get("/v1/accounts/\(accountId)/tiers?from=2026-02-28&to=2026-03-03", key: f.key)
            #expect(tiers["current"] as? [String: Int] == ["potential": 18, "passerby": 12, "liking": 0, "true_love": 0])
            let days = tiers["days"] as! [[String: Any]]
            #expect(days.map { $0["date"] as! String } == ["2026-02-28", "2026-03-01", "2026-03-02", "2026-03-03"])
            #expect(days.map { ($0["counts"] as! [String: Int])["potential"]! } == [0, 30, 18, 18])
            #expect(days.map { ($0["counts"] as! [String: Int])["passerby"]! } == [0, 0, 12, 12])
            let flows = tiers["transitions"] as! [[String: Any]]
            #expect(flows.contains { $0["from"] as? String == "potential" && $0["to"] as? String == "passerby" && $0["fans"] as? Int == 12 })
            #expect(flows.contains { $0["from"] as? String == "new" && $0["to"] as? String == "potential" && $0["fans"] as? Int == 30 })

            let sources = try await client.get("/v1/accounts/\(accountId)/sources?from=2026-03-01&to=2026-03-02", key: f.key)
            let domains = Dictionary(uniqueKeysWithValues: (sources["domains"] as! [[String: Any]]).map { ($0["domain"] as! String, $0["newFans"] as! Int) })
            #expect(domains == ["public": 20, "commercial": 10, "private": 0, "offsite": 0])
        }
    }

    @Test(arguments: StoreKind.allCases) func changingTierRulesThroughTheAPIReplacesTheFans(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "o")
            _ = try await f.flywheel.env.store.append((0..<4).map {
                AccountEvent(tenantId: f.tenantId, accountId: accountId, event: FanEvent(id: "f\($0)", kind: .follow, openId: "fan\($0)", occurredAt: 1_772_294_400_000, channel: .search))
            }) { _ in }
            await f.flywheel.projector.drain()
            var rules = try JSONSerialization.jsonObject(with: JSONEncoder().encode(AccountRules.standard)) as! [String: Any]
            var tiers = rules["tiers"] as! [String: Any]
            tiers["liking"] = "following"
            rules["tiers"] = tiers
            let saved = try await client.execute(uri: "/v1/accounts/\(accountId)/rules", method: .put, headers: auth(f.key),
                                                 body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: rules))) { try json($0) }
            #expect(saved["version"] as? Int == 1)
            #expect(saved["appliedVersion"] as? Int == 0)
            await f.flywheel.projector.drain()
            let after = try await client.get("/v1/accounts/\(accountId)/rules", key: f.key)
            #expect(after["appliedVersion"] as? Int == 1)
            let liking = try await client.get("/v1/accounts/\(accountId)/fans?tier=liking", key: f.key)
            #expect((liking["items"] as! [[String: Any]]).count == 4)
            let detail = try await client.get("/v1/accounts/\(accountId)/fans/fan0", key: f.key)
            let moves = (detail["timeline"] as! [[String: Any]]).filter { $0["kind"] as? String == "tier_changed" }.map { $0["detail"] as! String }
            #expect(moves == ["passerby → liking (rules_changed)", "new → passerby (follow)"])
            // The timeline pages with a cursor: two pages of the same entries as one long one.
            _ = try await f.flywheel.env.store.append((0..<70).map {
                AccountEvent(tenantId: f.tenantId, accountId: accountId, event: FanEvent(id: "l\($0)", kind: .like, openId: "fan0",
                                                                                        occurredAt: 1_772_294_500_000 + Int64($0) * 1_000, channel: .search))
            }) { _ in }
            await f.flywheel.projector.drain()
            let whole = try #require(try await client.get("/v1/accounts/\(accountId)/fans/fan0?limit=500", key: f.key)["timeline"] as? [[String: Any]])
            let first = try await client.get("/v1/accounts/\(accountId)/fans/fan0?limit=50", key: f.key)
            let cursor = try #require(first["nextCursor"] as? String)
            let second = try await client.get("/v1/accounts/\(accountId)/fans/fan0?limit=50&cursor=\(cursor)", key: f.key)
            #expect(second["nextCursor"] == nil || second["nextCursor"] is NSNull)
            let paged = ((first["timeline"] as? [[String: Any]]) ?? []) + ((second["timeline"] as? [[String: Any]]) ?? [])
            #expect(whole.count > 70 && paged.map { "\($0["at"] ?? "") \($0["kind"] ?? "") \($0["detail"] ?? "")" } == whole.map { "\($0["at"] ?? "") \($0["kind"] ?? "") \($0["detail"] ?? "")" })
            #expect((after["rules"] as! [String: Any])["tiers"] as! [String: String] == ["passerby": "following", "liking": "following",
                                                                                         "trueLove": "following and (level >= 9 or orders >= 2)"])
        }
    }

    @Test(arguments: StoreKind.allCases) func healthAndMetricsAnswer(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            try await client.execute(uri: "/health", method: .get) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
                #expect(try json(response)["status"] as? String == "ok")
            }
            let body = Array(#"{"event":"x","client_key":"nobody"}"#.utf8)
            _ = try await client.deliver(body, secret: "x", msgId: "1")
            try await client.execute(uri: "/metrics", method: .get) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("flywheel_"))
            }
        }
    }
}

@Suite struct SegmentAPITests {
    @Test(arguments: StoreKind.allCases) func segmentsArePreviewedCreatedKeptCurrentAndExplained(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "o")
            let day: Int64 = 1_772_294_400_000
            func append(_ events: [FanEvent]) async throws {
                _ = try await f.flywheel.env.store.append(events.map { AccountEvent(tenantId: f.tenantId, accountId: accountId, event: $0) }) { _ in }
                await f.flywheel.projector.drain()
            }
            try await append((0..<20).map { FanEvent(id: "v\($0)", kind: $0 % 2 == 0 ? .follow : .videoView, openId: "fan\($0)", occurredAt: day, channel: .douPlus) })

            let preview = try await client.post("/v1/accounts/\(accountId)/segments/preview", key: f.key, ["predicate": "following and first_domain = commercial"], expect: .ok)
            #expect(preview["count"] as? Int == 10)
            #expect((preview["sample"] as! [[String: Any]]).count == 10)
            let fromJSON = try await client.post("/v1/accounts/\(accountId)/segments/preview", key: f.key,
                                             ["predicate": ["and": [["field": "following", "op": "is", "value": true], ["field": "level", "op": ">=", "value": 1]]]], expect: .ok)
            #expect(fromJSON["count"] as? Int == 0)
            #expect(fromJSON["predicate"] as? String == "following and level >= 1")

            let created = try await client.post("/v1/accounts/\(accountId)/segments", key: f.key, ["name": "paid followers", "predicate": "following and first_domain = commercial"])
            #expect(created["state"] as? String == "ready")
            #expect(created["size"] as? Int == 10)
            let segmentId = created["id"] as! String

            // Two followers leave, one newcomer follows: the segment follows them without a rebuild.
            try await append([
                FanEvent(id: "u0", kind: .unfollow, openId: "fan0", occurredAt: day + 1_000, channel: .followFeed),
                FanEvent(id: "u2", kind: .unfollow, openId: "fan2", occurredAt: day + 1_000, channel: .followFeed),
                FanEvent(id: "f1", kind: .follow, openId: "fan1", occurredAt: day + 1_000, channel: .followFeed),
            ])
            let after = try await client.get("/v1/accounts/\(accountId)/segments/\(segmentId)", key: f.key)
            #expect(after["size"] as? Int == 9)
            let members = try await client.get("/v1/accounts/\(accountId)/segments/\(segmentId)/members?limit=500", key: f.key)["items"] as! [String]
            #expect(members.count == 9 && members.contains("fan1") && !members.contains("fan0"))
            let changes = try await client.get("/v1/accounts/\(accountId)/segments/\(segmentId)/changes", key: f.key)["items"] as! [[String: Any]]
            #expect(Set(changes.map { "\($0["openId"]!) \($0["change"]!) \($0["cause"]!)" }) == ["fan0 left unfollow", "fan2 left unfollow", "fan1 entered follow"])

            let sizes = try await client.get("/v1/accounts/\(accountId)/segments/\(segmentId)/sizes?from=2026-02-27", key: f.key)["days"] as! [[String: Any]]
            #expect(sizes.last?["size"] as? Int == 9)
            #expect(sizes.last?["left"] as? Int == 2)
            #expect(sizes.last?["entered"] as? Int == 1)
            #expect(sizes.first?["size"] as? Int == 0, "before the segment was created")
            let portrait = try await client.get("/v1/accounts/\(accountId)/segments/\(segmentId)/portrait", key: f.key)
            let tiers = (portrait["distributions"] as! [String: [String: Int]])["tier"]!
            #expect(tiers == ["passerby": 9])
            #expect((portrait["distributions"] as! [String: [String: Int]])["first_domain"] == ["commercial": 9])
            try await client.execute(uri: "/v1/accounts/\(accountId)/segments/\(segmentId)/export", method: .get, headers: auth(f.key)) { response in
                #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                #expect(String(buffer: response.body).split(separator: "\n").map(String.init) == ["open_id"] + members)
            }
            try await client.execute(uri: "/v1/accounts/\(accountId)/segments/\(segmentId)/export?hash=sha256", method: .get, headers: auth(f.key)) { response in
                let lines = String(buffer: response.body).split(separator: "\n").map(String.init)
                #expect(lines.first == "open_id_sha256")
                #expect(lines.dropFirst().first == Array(SHA256.hash(data: Array(members[0].utf8))).map { String(format: "%02x", $0) }.joined())
            }
            try await client.execute(uri: "/v1/accounts/\(accountId)/segments/\(segmentId)/export?hash=md5", method: .get, headers: auth(f.key)) { #expect($0.status == .badRequest) }

            let changed = try await client.execute(uri: "/v1/accounts/\(accountId)/segments/\(segmentId)", method: .patch, headers: auth(f.key),
                                                   body: ByteBuffer(string: #"{"predicate": "not following"}"#)) { try json($0) }
            #expect(changed["state"] as? String == "ready")
            #expect(changed["size"] as? Int == 11)
            #expect(changed["name"] as? String == "paid followers")

            let bad = try await client.post("/v1/accounts/\(accountId)/segments", key: f.key, ["name": "x", "predicate": "teir >= liking"], expect: .badRequest)
            #expect(((bad["error"] as! [String: Any])["message"] as! String) == "predicate: 1:1: unknown field 'teir', did you mean 'tier'?")
            try await client.execute(uri: "/v1/accounts/\(accountId)/segments/\(segmentId)", method: .delete, headers: auth(f.key)) { #expect($0.status == .noContent) }
            try await client.execute(uri: "/v1/accounts/\(accountId)/segments/\(segmentId)", method: .get, headers: auth(f.key)) { #expect($0.status == .notFound) }
        }
    }
}
