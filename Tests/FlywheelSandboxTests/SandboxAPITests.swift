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

/// The sandbox's open API answers as the platform does, limits and error codes included.
@Suite struct SandboxAPITests {
    final class Clock: Sendable {
        let ms = Mutex<Int64>(1_767_225_600_000)
        func advance(_ by: Int64) { ms.withLock { $0 += by } }
    }

    func call(_ client: some TestClientProtocol, _ path: String, token: String = "", _ body: [String: Any]) async throws -> [String: Any] {
        let bytes = try JSONSerialization.data(withJSONObject: body)
        return try await client.execute(uri: path, method: .post, headers: [HTTPField.Name("access-token")!: token, .contentType: "application/json"],
                                        body: ByteBuffer(bytes: bytes)) { response in
            try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:]
        }
    }

    @Test func repliesProactiveMessagesAndLimits() async throws {
        let clock = Clock()
        let api = SandboxAPI(apps: [.init(clientKey: "ck", clientSecret: "secret", accountOpenIds: ["acct"])], now: { clock.ms.withLock { $0 } })
        // A fan's message, pushed by the sandbox, is what a reply may answer.
        var sandbox = Sandbox(clientKey: "ck", clientSecret: "secret", accountOpenIds: ["acct"], duplicateRate: 0, reorderRate: 0, seed: 1)
        let message = FanEvent(id: "m-1", kind: .dmReceived, openId: "fan-1", occurredAt: clock.ms.withLock { $0 }, channel: .dm, ref: "conv-1")
        for case .delivery(let d) in sandbox.outputs([WorldEvent(account: 0, event: message)]) { api.pushed(d) }
        let router = Router()
        api.add(to: router)
        try await Application(router: router).test(.router) { client in
            let refused = try await call(client, "/oauth/client_token/", ["client_key": "ck", "client_secret": "wrong", "grant_type": "client_credential"])
            #expect(refused["err_no"] as? Int == SandboxAPI.invalidParameter)
            let granted = try await call(client, "/oauth/client_token/", ["client_key": "ck", "client_secret": "secret", "grant_type": "client_credential"])
            let token = try #require((granted["data"] as? [String: Any])?["access_token"] as? String)

            let text: [String: Any] = ["msg_type": 1, "text": "您好"]
            #expect(try await call(client, "/im/send/msg/?open_id=acct", token: "nope", ["to_user_id": "fan-1", "msg_id": "m-1", "content": text])["err_no"] as? Int == SandboxAPI.invalidToken)
            let reply = try await call(client, "/im/send/msg/?open_id=acct", token: token, ["to_user_id": "fan-1", "msg_id": "m-1", "content": text])
            #expect(reply["err_no"] as? Int == 0)
            #expect(api.sent.last?.conversation == "conv-1")
            let wrongFan = try await call(client, "/im/send/msg/?open_id=acct", token: token, ["to_user_id": "fan-2", "msg_id": "m-1", "content": text])
            #expect(wrongFan["err_no"] as? Int == SandboxAPI.invalidParameter)
            let coupon = try await call(client, "/im/send/msg/?open_id=acct", token: token, ["to_user_id": "fan-1", "msg_id": "m-1", "content": ["msg_type": 11, "activity_id": "a"]])
            #expect(coupon["err_msg"] as? String == "content.coupon_meta_id is required for msg_type 11")

            // Proactive messages need the fan's grant, then three a day.
            #expect(try await call(client, "/im/send/msg/?open_id=acct", token: token, ["to_user_id": "fan-1", "content": text])["err_no"] as? Int == SandboxAPI.outsideReplyWindow)
            let grant = Array(#"{"event":"im_authorize","client_key":"ck","from_user_id":"fan-1","to_user_id":"acct","content":"{\"auth_status\":1}"}"#.utf8)
            api.pushed(Delivery(msgId: "g-1", body: grant, signature: WebhookSignature.sign(body: grant, secret: "secret")))
            for _ in 0..<3 {
                clock.advance(1_000)
                #expect(try await call(client, "/im/send/msg/?open_id=acct", token: token, ["to_user_id": "fan-1", "content": text])["err_no"] as? Int == 0)
            }
            #expect(try await call(client, "/im/send/msg/?open_id=acct", token: token, ["to_user_id": "fan-1", "content": text])["err_no"] as? Int == SandboxAPI.proactiveLimit)

            // A day later the token has expired and the message can no longer be answered.
            clock.advance(25 * 3_600_000)
            #expect(try await call(client, "/im/send/msg/?open_id=acct", token: token, ["to_user_id": "fan-1", "msg_id": "m-1", "content": text])["err_no"] as? Int == SandboxAPI.invalidToken)
            let renewed = try await call(client, "/oauth/client_token/", ["client_key": "ck", "client_secret": "secret", "grant_type": "client_credential"])
            let fresh = try #require((renewed["data"] as? [String: Any])?["access_token"] as? String)
            #expect(try await call(client, "/im/send/msg/?open_id=acct", token: fresh, ["to_user_id": "fan-1", "msg_id": "m-1", "content": text])["err_no"] as? Int == SandboxAPI.outsideReplyWindow)

            // Too many calls in one second.
            var codes: [Int] = []
            for _ in 0..<(SandboxAPI.callsPerSecond + 2) {
                codes.append(try await call(client, "/im/send/msg/group/?open_id=acct", token: fresh, ["group_id": "g", "content": text])["err_no"] as? Int ?? -1)
            }
            #expect(codes.filter { $0 == 0 }.count == SandboxAPI.callsPerSecond - 1 && codes.last == SandboxAPI.rateLimited)
        }
    }
}
