import FlywheelDomain
@testable import FlywheelPlatform
import Foundation
import Testing

/// The client's parts that need no server: the test value, the answers' two shapes, the content.
@Suite struct PlatformClientTests {
    @Test func theFailingClientNamesTheClosureATestDidNotSet() async throws {
        let client = PlatformClient.failing
        do {
            _ = try await client.sendMessage("token", "acct", SendMessage(replyTo: "m-1", toUserId: "fan", content: .text("您好")))
            Issue.record("sendMessage did not throw")
        } catch let error as PlatformClient.Unimplemented {
            #expect(error.description == "PlatformClient.sendMessage was called but the test did not set it")
        }
        await #expect(throws: PlatformClient.Unimplemented(closure: "refresh")) {
            try await client.refresh(AppCredentials(clientKey: "ck", clientSecret: "s"), "rft")
        }
        #expect(throws: PlatformClient.Unimplemented(closure: "authorizeURL")) { try client.authorizeURL("ck", "user_info", "https://x", "s") }
        var set = PlatformClient.failing
        set.clientToken = { _, _ in ClientToken(accessToken: "clt.1", expiresIn: 7_200) }
        #expect(try await set.clientToken("ck", "s").accessToken == "clt.1")
    }

    @Test func answersOfTheOpenAPIAndOfOAuthAreBothRead() throws {
        let sent = try OpenAPI.read(Data(#"{"err_no":0,"err_msg":"success","log_id":"1","data":{"msg_id":"sent-1"}}"#.utf8), status: 200)
        #expect(sent["msg_id"] as? String == "sent-1")
        // The platform's OAuth keeps its code inside `data`.
        let granted = try OpenAPI.read(Data(#"""
            {"data":{"access_token":"act.1","refresh_token":"rft.1","open_id":"acct","scope":"user_info","expires_in":1296000,
            "refresh_expires_in":2592000,"error_code":0,"description":""},"message":"success"}
            """#.utf8), status: 200)
        #expect(try OpenAPI.accountToken(granted, keeping: nil) == AccountToken(
            openId: "acct", accessToken: "act.1", refreshToken: "rft.1", scope: "user_info", accessExpiresIn: 1_296_000, refreshExpiresIn: 2_592_000))
        // A refresh that leaves out the refresh token keeps the one used.
        let renewed = try OpenAPI.accountToken(["access_token": "act.2", "open_id": "acct"], keeping: "rft.1")
        #expect(renewed.refreshToken == "rft.1" && renewed.refreshExpiresIn == nil && renewed.accessExpiresIn == AccountToken.accessLifetime)

        #expect(throws: PlatformError.invalidToken) {
            try OpenAPI.read(Data(#"{"data":{"error_code":10008,"description":"access_token expired"},"message":"error"}"#.utf8), status: 200)
        }
        #expect(throws: PlatformError.rateLimited) { try OpenAPI.read(Data(#"{"err_no":28003070,"err_msg":"limited","data":{}}"#.utf8), status: 200) }
        #expect(throws: PlatformError.other(errNo: 28_001_005, message: "content.text is required for msg_type 1")) {
            try OpenAPI.read(Data(#"{"err_no":28001005,"err_msg":"content.text is required for msg_type 1","data":{}}"#.utf8), status: 200)
        }
        #expect(throws: PlatformError.unreachable("HTTP 502 without a JSON answer")) { try OpenAPI.read(Data("<html>bad gateway".utf8), status: 502) }
        #expect(throws: PlatformError.unreachable("HTTP 500")) { try OpenAPI.read(Data(#"{"err_no":0}"#.utf8), status: 500) }
    }

    @Test func messagesCarryThePlatformsTypesAndFields() throws {
        func wire(_ content: MessageContent) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(WireContent(content))) as? [String: Any] ?? [:]
        }
        #expect(NSDictionary(dictionary: try wire(.coupon(activityId: "act-9", couponMetaId: "meta-3")))
                == ["msg_type": 11, "activity_id": "act-9", "coupon_meta_id": "meta-3"])
        let types = [MessageContent.text("t"), .image(mediaId: "m"), .video(itemId: "v"), .leadCard(cardId: "c"), .groupInvitation(groupId: "g"),
                     .coupon(activityId: "a", couponMetaId: "c")].map(\.msgType)
        #expect(types == [1, 2, 3, 8, 9, 11])
        #expect(NSDictionary(dictionary: try wire(.groupInvitation(groupId: "g-1"))) == ["msg_type": 9, "group_id": "g-1"])
        #expect(NSDictionary(dictionary: try wire(.text("您好"))) == ["msg_type": 1, "text": "您好"])
    }

    @Test func theConsentPageIsOnThePlatformWithEveryParameterEscaped() throws {
        let url = try PlatformClient.douyin.authorizeURL("ck", "user_info,im.direct_message", "https://flywheel.example/oauth/douyin/callback?a=1&b=2", "p.s")
        #expect(url == "https://open.douyin.com/platform/oauth/connect/?client_key=ck&response_type=code&scope=user_info%2Cim.direct_message"
            + "&redirect_uri=https%3A%2F%2Fflywheel.example%2Foauth%2Fdouyin%2Fcallback%3Fa%3D1%26b%3D2&state=p.s")
    }
}
