import FlywheelDomain
import FlywheelPlatform
import FlywheelTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

func samplesDirectory() -> URL {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<2 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("Fixtures/douyin-samples")
}

@Suite struct WebhookRouteTests {
    /// Every sample file, posted as the platform posts it. Samples whose ids were blanked by the SDK
    /// get a registered client_key; all others go byte for byte as recorded.
    @Test(arguments: StoreKind.allCases) func everySampleIsAcceptedStoredAndProjected(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let files = try FileManager.default.contentsOfDirectory(atPath: samplesDirectory().path).filter { $0.hasSuffix(".json") }.sorted()
            var accounts: [String: String] = [:]
            var registeredKeys: Set<String> = []
            for (i, file) in files.enumerated() {
                var body = Array(try Data(contentsOf: samplesDirectory().appendingPathComponent(file)))
                var object = try JSONSerialization.jsonObject(with: Data(body)) as! [String: Any]
                if (object["client_key"] as? String ?? "").isEmpty {
                    object["client_key"] = "sample_app"
                    body = Array(try JSONSerialization.data(withJSONObject: object))
                }
                let clientKey = object["client_key"] as! String
                if !registeredKeys.contains(clientKey) {
                    let app = try await client.post("/v1/apps", key: f.key, ["name": clientKey, "clientKey": clientKey, "clientSecret": "secret-\(clientKey)"])
                    registeredKeys.insert(clientKey)
                    if let to = object["to_user_id"] as? String, !to.isEmpty {
                        let account = try await client.post("/v1/accounts", key: f.key, ["name": to, "appId": app["id"] as! String, "openId": to])
                        accounts[to] = account["id"] as? String
                    }
                }
                let response = try await client.deliver(body, secret: "secret-\(clientKey)", msgId: "msg-\(i)")
                #expect(response.status == .ok, "\(file): \(String(buffer: response.body))")
                if object["event"] as? String == "verify_webhook" {
                    #expect(try json(response)["challenge"] as? Int == 12345)
                } else {
                    #expect(try json(response)["status"] as? String == "stored", "\(file)")
                }
            }
            await f.flywheel.projector.drain()

            let followed = try #require(accounts["e3af6e1d-d83a-4116-8f9f-5cb8ac2413c7"])
            let fan = try await client.get("/v1/accounts/\(followed)/fans/5bfa0218-477c-4d51-865c-64f0588794a6", key: f.key)
            let state = fan["fan"] as! [String: Any]
            #expect(state["following"] as? Bool == true)
            #expect(state["tier"] as? String == "passerby")
            #expect(state["followedAt"] as? String == "2023-06-15T06:47:23.000Z")
            let moves = (fan["timeline"] as! [[String: Any]]).filter { $0["kind"] as? String == "tier_changed" }.compactMap { $0["detail"] as? String }
            #expect(moves == ["new → passerby (follow)"])
            let liked = try await client.get("/v1/accounts/\(followed)/fans/5adb9d61-b91a-4382-8252-b0cea8793e35", key: f.key)
            #expect((liked["fan"] as! [String: Any])["counters"].flatMap { ($0 as? [String: Int])?["likes"] } == 1)

            let dm = try #require(accounts["aaa-7ae0-4399-914a-5eb1df5861ba"])
            let writer = try await client.get("/v1/accounts/\(dm)/fans/aaa-ae9b-4dbf-add1-bf67e4093fab", key: f.key)
            #expect((writer["fan"] as! [String: Any])["nickname"] as? String == "刘东")
            #expect((writer["fan"] as! [String: Any])["latestDomain"] as? String == "private")
            let lead = try await client.get("/v1/accounts/\(dm)/fans/eeb0ea9b-bed4-4b70-913d-c29bfc00000", key: f.key)
            let kinds = (lead["timeline"] as! [[String: Any]]).filter { $0["actor"] as? String == "fan" }.compactMap { $0["kind"] as? String }
            #expect(kinds == ["lead_submitted", "group_message"])
            let profile = (lead["fan"] as! [String: Any])["profile"] as? [String: String]
            #expect(profile == ["phone": "12345678901", "city": "北京市北京市海淀区"])
            let found = try await client.get("/v1/accounts/\(dm)/fans?q=123-4567-8901", key: f.key)["items"] as! [[String: Any]]
            #expect(found.map { $0["openId"] as? String } == ["eeb0ea9b-bed4-4b70-913d-c29bfc00000"], "a lead's phone finds the fan, however it is written")
        }
    }

    @Test(arguments: StoreKind.allCases) func aRedeliveryAnswers200AndCountsOnce(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let account = try await client.account(key: f.key, clientKey: "awr8bfr64vxgk036", secret: "s1", openId: "e3af6e1d-d83a-4116-8f9f-5cb8ac2413c7")
            let body = Array(try Data(contentsOf: samplesDirectory().appendingPathComponent("NewVideoDiggEvent.json")))
            for _ in 0..<3 {
                let response = try await client.deliver(body, secret: "s1", msgId: "same-msg")
                #expect(response.status == .ok)
            }
            // Without Msg-Id the body itself identifies the delivery; either way the signed body decides
            // which events it brings, so the same push counts once however it comes back.
            for _ in 0..<2 { _ = try await client.deliver(body, secret: "s1", msgId: nil) }
            await f.flywheel.projector.drain()
            let fan = try await client.get("/v1/accounts/\(account)/fans/5adb9d61-b91a-4382-8252-b0cea8793e35", key: f.key)
            #expect(((fan["fan"] as! [String: Any])["counters"] as! [String: Int])["likes"] == 1)
        }
    }

    @Test(arguments: StoreKind.allCases) func badDeliveriesAreRefusedWithTheRightStatus(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            _ = try await client.account(key: f.key, clientKey: "awr8bfr64vxgk036", secret: "s1", openId: "e3af6e1d-d83a-4116-8f9f-5cb8ac2413c7")
            let body = Array(try Data(contentsOf: samplesDirectory().appendingPathComponent("NewFollowActionEvent.json")))

            let forged = try await client.deliver(body, secret: "wrong", msgId: "m1")
            #expect(forged.status == .unauthorized)
            #expect(try errorCode(forged) == "bad_signature")

            let unsigned = try await client.execute(uri: "/webhooks/douyin", method: .post, body: ByteBuffer(bytes: body)) { $0 }
            #expect(unsigned.status == .unauthorized)

            // An unknown client_key is answered exactly as a wrong signature: nothing tells which keys exist.
            let stranger = try await client.deliver(Array(#"{"event":"new_follow_action","client_key":"nobody","content":{}}"#.utf8), secret: "x", msgId: "m2")
            #expect(stranger.status == forged.status)
            #expect(String(buffer: stranger.body) == String(buffer: forged.body))
            #expect(String(buffer: unsigned.body) == String(buffer: forged.body))
            #expect(try errorCode(stranger) == "bad_signature")

            let garbage = try await client.deliver(Array("{not json".utf8), secret: "s1", msgId: "m3")
            #expect(garbage.status == .badRequest)
            #expect(try errorCode(garbage) == "invalid_field")

            var huge = Array(#"{"event":"im_receive_msg","client_key":"awr8bfr64vxgk036","content":{"text":""#.utf8)
            huge += [UInt8](repeating: 0x61, count: 1 << 20) + Array(#""}}"#.utf8)
            let tooLarge = try await client.deliver(huge, secret: "s1", msgId: "m4")
            #expect(tooLarge.status == .contentTooLarge)

            // None of the refused deliveries left a trace: the real one is still new.
            let real = try await client.deliver(body, secret: "s1", msgId: "m1")
            #expect(try json(real)["status"] as? String == "stored")
        }
    }
}
