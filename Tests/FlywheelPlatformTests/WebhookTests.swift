import FlywheelDomain
import FlywheelPlatform
import Foundation
import Testing

/// `Tests/Fixtures/douyin-samples/` (origin and licence in its README), found from this file's place.
func samplesDirectory() -> URL {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<2 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("Fixtures/douyin-samples")
}

func sample(_ name: String) throws -> [UInt8] {
    Array(try Data(contentsOf: samplesDirectory().appendingPathComponent(name)))
}

@Suite struct WebhookTests {
    @Test func signatureMatchesThePlatformsCheckValue() {
        let body = Array(#"{"event":"verify_webhook","client_key":"abc","content":{"challenge":12345}}"#.utf8)
        #expect(WebhookSignature.sign(body: body, secret: "test_secret") == "ff779a3b9e9daa2d1484d22450cd02e9fcfc4e62")
        #expect(WebhookSignature.isValid("ff779a3b9e9daa2d1484d22450cd02e9fcfc4e62", body: body, secret: "test_secret"))
        #expect(!WebhookSignature.isValid("ff779a3b9e9daa2d1484d22450cd02e9fcfc4e63", body: body, secret: "test_secret"))
        #expect(!WebhookSignature.isValid("ff779a3b", body: body, secret: "test_secret"))
        #expect(!WebhookSignature.isValid("ff779a3b9e9daa2d1484d22450cd02e9fcfc4e62", body: body + [32], secret: "test_secret"))
    }

    @Test func everySampleDecodes() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: samplesDirectory().path).filter { $0.hasSuffix(".json") }
        #expect(files.count == 13)
        for file in files {
            let envelope = try WebhookEnvelope.decode(try sample(file))
            #expect(!envelope.event.isEmpty, "\(file)")
        }
    }

    @Test func contentGivenAsAStringIsParsed() throws {
        let follow = try WebhookEnvelope.decode(try sample("NewFollowActionEvent.json"))
        let events = follow.platformEvent.fanEvents(accountOpenId: follow.toUserId, eventId: "m1", receivedAt: 0)
        #expect(events == [FanEvent(id: "m1", kind: .follow, openId: "5bfa0218-477c-4d51-865c-64f0588794a6",
                                    occurredAt: 1_686_811_643_000, channel: .unknown)])
    }

    @Test func directMessagesCarryNicknameAndMillisecondTimes() throws {
        let dm = try WebhookEnvelope.decode(try sample("IMReceiveMessageEvent.json"))
        let events = dm.platformEvent.fanEvents(accountOpenId: dm.toUserId, eventId: "m2", receivedAt: 0)
        #expect(events.count == 1)
        #expect(events[0].kind == .dmReceived)
        #expect(events[0].occurredAt == 1_681_303_285_997)
        #expect(events[0].attributes["nickname"] == "刘东")
        #expect(events[0].domain == .private)
    }

    @Test func anEchoOfOurOwnSendIsADMSent() throws {
        var object = try JSONSerialization.jsonObject(with: Data(try sample("IMReceiveMessageEvent.json"))) as! [String: Any]
        var content = object["content"] as! [String: Any]
        content["source"] = "asdfavetgbvasf"
        object["content"] = content
        let envelope = try WebhookEnvelope.decode(Array(try JSONSerialization.data(withJSONObject: object)))
        #expect(envelope.platformEvent.fanEvents(accountOpenId: envelope.toUserId, eventId: "m", receivedAt: 0).map(\.kind) == [.dmSent])
    }

    @Test func aGroupMessageWithALeadCardIsAlsoALead() throws {
        let group = try WebhookEnvelope.decode(try sample("IMGroupReceiveMessageEvent.json"))
        let events = group.platformEvent.fanEvents(accountOpenId: group.toUserId, eventId: "m3", receivedAt: 0)
        #expect(events.map(\.kind) == [.groupMessage, .leadSubmitted])
        #expect(events[1].attributes == ["name": "Tonality", "phone": "12345678901", "city": "北京市北京市海淀区"])
        #expect(events[1].id == "m3:lead")
    }

    @Test func groupMembershipAndDirectMessageEntry() throws {
        let join = try WebhookEnvelope.decode(try sample("GroupFansEventEvent.json"))
        #expect(join.platformEvent.fanEvents(accountOpenId: join.toUserId, eventId: "m", receivedAt: 0).map(\.kind) == [.groupJoin])
        let enter = try WebhookEnvelope.decode(try sample("IMEnterDirectMessageEvent.json"))
        #expect(enter.platformEvent.fanEvents(accountOpenId: enter.toUserId, eventId: "m", receivedAt: 0).map(\.kind) == [.dmEntered])
        let digg = try WebhookEnvelope.decode(try sample("NewVideoDiggEvent.json"))
        #expect(digg.platformEvent.fanEvents(accountOpenId: digg.toUserId, eventId: "m", receivedAt: 0).map(\.kind) == [.like])
    }

    @Test func anApplicationToJoinAGroupNamesTheFanTheGroupAndTheApplication() throws {
        let envelope = try WebhookEnvelope.decode(try sample("EnterGroupAuditChangeEvent.json"))
        let events = envelope.platformEvent.fanEvents(accountOpenId: envelope.toUserId, eventId: "m", receivedAt: 0)
        #expect(events.map(\.kind) == [.groupApplied])
        #expect(events.first?.openId == "6ff2569e-1a9d-4e94-92ee-8fb495515c9y")
        #expect(events.first?.ref?.hasPrefix("@9VwNxuKKBZ03MXG7M8ooWM7912") == true)
        #expect(events.first?.attributes["apply_id"]?.hasPrefix("@9VwNxuKKBZ03MXG7M8ooWM7912") == true)
        #expect(events.first?.occurredAt == 1_679_638_889_110)
    }

    @Test func appLevelEventsYieldNoFanEvents() throws {
        for file in ["AuthorizeEvent.json", "UnauthorizeEvent.json", "CreateVideoEvent.json", "IMAuthorizeEvent.json"] {
            let envelope = try WebhookEnvelope.decode(try sample(file))
            #expect(envelope.platformEvent.fanEvents(accountOpenId: "acct", eventId: "m", receivedAt: 0).isEmpty, "\(file)")
        }
    }

    @Test func aFanAllowingMessagesIsAGrantUntilItsExpiry() throws {
        func decode(_ status: Int) throws -> [FanEvent] {
            let content = #"{\"create_time\":1670229453,\"expire_time\":1672821453,\"operation_type\":1,\"auth_status\":\#(status),\"source\":\"im.direct_message.bind\"}"#
            let body = #"{"event":"im_authorize","client_key":"ck","from_user_id":"fan-1","to_user_id":"acct","content":"\#(content)"}"#
            let envelope = try WebhookEnvelope.decode(Array(body.utf8))
            return envelope.platformEvent.fanEvents(accountOpenId: "acct", eventId: "a", receivedAt: 0)
        }
        let granted = try decode(1)
        #expect(granted.map(\.kind) == [.dmGranted] && granted.first?.openId == "fan-1")
        #expect(granted.first?.attributes["until"] == "1672821453000" && granted.first?.occurredAt == 1_670_229_453_000)
        #expect(try decode(0).map(\.kind) == [.dmRevoked])
    }

    @Test func aLocalServicesPaymentIsTheOrderWhateverDeliveryBringsIt() throws {
        func decode(_ status: String, delivery: String) throws -> [FanEvent] {
            let content = #"{\"order_id\":\"ot7057416814925531429\",\"out_order_no\":\"ext-1\",\"total_amount\":9900,\"discount_amount\":1100,\"status\":\"\#(status)\",\"pay_time\":1670229453,\"item_id\":\"v-9\"}"#
            let body = #"{"event":"pay_success","client_key":"ck","from_user_id":"fan-1","to_user_id":"acct","content":"\#(content)"}"#
            return try WebhookEnvelope.decode(Array(body.utf8)).platformEvent.fanEvents(accountOpenId: "acct", eventId: delivery, receivedAt: 0)
        }
        let paid = try decode("SUCCESS", delivery: "msg-1")
        #expect(paid.count == 1)
        let order = try #require(paid.first)
        #expect(order.kind == .orderPaid && order.openId == "fan-1" && order.ref == "ot7057416814925531429")
        #expect(order.amount == 8_800, "paid is the total less the discount")
        #expect(order.occurredAt == 1_670_229_453_000 && order.attributes["source"] == "local_services")
        // Delivered again (the platform retries), it is the same event.
        #expect(try decode("SUCCESS", delivery: "msg-2").first?.id == order.id)
        #expect(try decode("CANCEL", delivery: "msg-3").isEmpty, "a cancelled payment is no order")
    }

    @Test func theChallengeIsEchoedWithItsType() throws {
        let verify = try WebhookEnvelope.decode(try sample("VerifyWebhookEvent.json"))
        let reply = try JSONSerialization.jsonObject(with: try #require(verify.challengeReply)) as? [String: Int]
        #expect(reply == ["challenge": 12345])
    }

    @Test func malformedBodiesNameTheProblem() {
        #expect(throws: WebhookDecodingError(field: "body", message: "body is not a JSON object")) { try WebhookEnvelope.decode(Array("[1]".utf8)) }
        #expect(throws: WebhookDecodingError(field: "event", message: "'event' must be a non-empty string")) { try WebhookEnvelope.decode(Array("{}".utf8)) }
        #expect(throws: WebhookDecodingError(field: "content", message: "'content' is a string but not a JSON object")) {
            try WebhookEnvelope.decode(Array(#"{"event":"x","content":"{nope"}"#.utf8))
        }
    }

    @Test func oversizedFieldsAndBadBytesAreRefused() {
        let long = String(repeating: "x", count: 900_000)
        #expect(throws: WebhookDecodingError(field: "from_user_id", message: "'from_user_id' is 900000 characters; at most 200")) {
            try WebhookEnvelope.decode(Array(#"{"event":"x","from_user_id":"\#(long)"}"#.utf8))
        }
        let bad = Array(#"{"event":"x","from_user_id":"a"#.utf8) + [0xFF] + Array(#""}"#.utf8)
        #expect(throws: WebhookDecodingError(field: "body", message: "body is not valid UTF-8")) { try WebhookEnvelope.decode(bad) }
    }

    /// A sample's body with its content changed, re-encoded as the platform would send it.
    func variant(_ file: String, event: String? = nil, content change: (inout [String: Any]) -> Void) throws -> WebhookEnvelope {
        var object = try JSONSerialization.jsonObject(with: Data(try sample(file))) as! [String: Any]
        if let event { object["event"] = event }
        var content = object["content"] as! [String: Any]
        change(&content)
        object["content"] = content
        return try WebhookEnvelope.decode(Array(try JSONSerialization.data(withJSONObject: object)))
    }

    @Test func everySampleDecodesIntoItsTypedEvent() throws {
        func kind(_ file: String) throws -> String {
            switch try WebhookEnvelope.decode(try sample(file)).platformEvent {
            case .handshake: "handshake"
            case .follow: "follow"
            case .videoLike: "videoLike"
            case .comment: "comment"
            case .messageReceived: "messageReceived"
            case .messageSent: "messageSent"
            case .conversationEntered: "conversationEntered"
            case .groupMessage: "groupMessage"
            case .groupMessageSent: "groupMessageSent"
            case .groupMembership: "groupMembership"
            case .messagesAllowed: "messagesAllowed"
            case .couponClaimed: "couponClaimed"
            case .groupApplication: "groupApplication"
            case .postAction: "postAction"
            case .liveBooking: "liveBooking"
            case .orderPaid: "orderPaid"
            case .other(let event): "other \(event)"
            }
        }
        #expect(try kind("VerifyWebhookEvent.json") == "handshake")
        #expect(try kind("NewFollowActionEvent.json") == "follow")
        #expect(try kind("NewVideoDiggEvent.json") == "videoLike")
        #expect(try kind("ItemCommentReplyEvent.json") == "comment")
        #expect(try kind("IMReceiveMessageEvent.json") == "messageReceived")
        #expect(try kind("IMEnterDirectMessageEvent.json") == "conversationEntered")
        #expect(try kind("IMGroupReceiveMessageEvent.json") == "groupMessage")
        #expect(try kind("GroupFansEventEvent.json") == "groupMembership")
        #expect(try kind("AuthorizeEvent.json") == "other authorize")
        #expect(try kind("IMAuthorizeEvent.json") == "messagesAllowed")
        #expect(try kind("EnterGroupAuditChangeEvent.json") == "groupApplication")
    }

    @Test func aDirectMessageKeepsItsTextAndTheAccountsOwnSendsAreDMsSent() throws {
        let dm = try WebhookEnvelope.decode(try sample("IMReceiveMessageEvent.json"))
        guard case .messageReceived(let message) = dm.platformEvent else { Issue.record("not a message"); return }
        #expect(message.text == "捷途70")
        #expect(message.serverMessageId?.hasPrefix("@9Vxc1") == true)
        let received = dm.platformEvent.fanEvents(accountOpenId: dm.toUserId, eventId: "m", receivedAt: 0)
        #expect(received.first?.attributes == ["nickname": "刘东", "message_type": "text", "text": "捷途70", "message_id": message.serverMessageId ?? ""])

        // The account answering from the platform's own app: from the account, to the fan.
        var object = try JSONSerialization.jsonObject(with: Data(try sample("IMReceiveMessageEvent.json"))) as! [String: Any]
        (object["from_user_id"], object["to_user_id"]) = (object["to_user_id"]!, object["from_user_id"]!)
        object["event"] = "im_send_msg"
        var content = object["content"] as! [String: Any]
        content["text"] = "您好，捷途70 现车有售"
        object["content"] = content
        let sent = try WebhookEnvelope.decode(Array(try JSONSerialization.data(withJSONObject: object)))
        let events = sent.platformEvent.fanEvents(accountOpenId: "aaa-7ae0-4399-914a-5eb1df5861ba", eventId: "s", receivedAt: 0)
        #expect(events.map(\.kind) == [.dmSent])
        #expect(events.first?.openId == "aaa-ae9b-4dbf-add1-bf67e4093fab")
        #expect(events.first?.attributes["text"] == "您好，捷途70 现车有售")
        #expect(events.first?.attributes["nickname"] == nil, "the account's own name is not the fan's")

        let groupSend = try variant("IMGroupReceiveMessageEvent.json", event: "im_group_send_msg") { $0["card_data"] = nil }
        guard case .groupMessageSent = groupSend.platformEvent else { Issue.record("not a group send"); return }
        #expect(groupSend.platformEvent.fanEvents(accountOpenId: groupSend.toUserId, eventId: "g", receivedAt: 0).isEmpty)
    }

    @Test func aConversationStartedFromAnAdIsCommercial() throws {
        let fromAd = try variant("IMReceiveMessageEvent.json") { $0["ad_info"] = ["ad_id": "1712345", "creative_id": "99"] }
        #expect(fromAd.platformEvent.fanEvents(accountOpenId: fromAd.toUserId, eventId: "m", receivedAt: 0).first?.domain == .commercial)
        let enteredFromAd = try variant("IMReceiveMessageEvent.json", event: "im_enter_direct_msg") { $0["ad_info"] = #"{"ad_id":"1712345"}"# }
        let entered = enteredFromAd.platformEvent.fanEvents(accountOpenId: enteredFromAd.toUserId, eventId: "m", receivedAt: 0)
        #expect(entered.map(\.kind) == [.dmEntered])
        #expect(entered.first?.domain == .commercial)
        let organic = try WebhookEnvelope.decode(try sample("IMReceiveMessageEvent.json"))
        #expect(organic.platformEvent.fanEvents(accountOpenId: organic.toUserId, eventId: "m", receivedAt: 0).first?.domain == .private)
    }
}
