import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelStore
import FlywheelTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The desk's refusals through the API: each a 4xx naming what is wrong, nothing queued.
@Suite struct DeskAPITests {
    func status(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String, _ body: String) async throws -> (Int, String) {
        try await client.execute(uri: uri, method: method, headers: auth(key), body: ByteBuffer(string: body)) { (response: TestResponse) async throws in
            (Int(response.status.code), String(buffer: response.body))
        }
    }

    @Test(arguments: StoreKind.allCases) func badRepliesAndRulesAreRefusedNamingTheFieldAndNothingIsQueued(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind, sealer: try TokenSealer(secret: TokenSealer.generateSecret()))
        let env = f.flywheel.env
        let now = env.now()
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-desk-api", secret: "s", openId: "acct-desk-api")
            let account = try #require(try await env.store.account(id: accountId, tenantIds: [f.tenantId]))
            let sealed = try env.sealer.seal(AccountToken(openId: account.openId, accessToken: "act.x", refreshToken: "rft.x", scope: "im.direct_message",
                                                          accessExpiresIn: 86_400, refreshExpiresIn: nil), of: account, now: now)
            try await env.store.saveTokens(sealed, of: account, audit: env.audit(tenantId: f.tenantId, actor: "t", action: "account.connect", target: accountId))
            _ = try await env.store.append([
                AccountEvent(tenantId: f.tenantId, accountId: accountId, event: FanEvent(id: "old", kind: .dmReceived, openId: "fan-old", occurredAt: now - 30 * 3_600_000,
                                                                                         channel: .dm, attributes: ["text": "在吗", "message_id": "pm-old"])),
                AccountEvent(tenantId: f.tenantId, accountId: accountId, event: FanEvent(id: "new", kind: .dmReceived, openId: "fan-new", occurredAt: now,
                                                                                         channel: .dm, attributes: ["text": "在吗", "message_id": "pm-new"])),
            ]) { _ in }
            await f.flywheel.projector.drain()
            await f.flywheel.desk.drain()
            let thread = "/v1/accounts/\(accountId)/conversations"

            // A regular expression that does not compile, a card without its id.
            var (code, body) = try await status(client, .post, "/v1/accounts/\(accountId)/auto-replies", key: f.key,
                                                #"{"name":"r","trigger":"regex","pattern":"([","reply":{"type":"text","text":"hi"}}"#)
            #expect(code == 400 && body.contains("pattern"), "\(body)")
            (code, body) = try await status(client, .post, "\(thread)/fan-new/messages", key: f.key, #"{"type":"lead_card","cardId":""}"#)
            #expect(code == 400 && body.contains("cardId"), "\(body)")
            (code, body) = try await status(client, .post, "\(thread)/fan-new/messages", key: f.key, #"{"type":"text","text":"\#(String(repeating: "长", count: 501))"}"#)
            #expect(code == 400 && body.contains("text"), "\(body)")
            // Outside the 24 hours, to no conversation, to another tenant's account.
            (code, body) = try await status(client, .post, "\(thread)/fan-old/messages", key: f.key, #"{"type":"text","text":"您好"}"#)
            #expect(code == 400 && body.contains("\"conversation: the fan's last message is 30 hours old"), "\(body)")
            (code, _) = try await status(client, .post, "\(thread)/fan-nobody/messages", key: f.key, #"{"type":"text","text":"您好"}"#)
            #expect(code == 404)
            let other = try await f.flywheel.tenancy.createTenant(name: "Other", kind: .enterprise, actor: "t")
            (code, _) = try await status(client, .post, "\(thread)/fan-new/messages", key: other.key.token, #"{"type":"text","text":"您好"}"#)
            #expect(code == 404)

            // An agent answering a conversation another agent has.
            var agents: [(id: String, key: String)] = []
            for name in ["Sales Wang", "Sales Zhao"] {
                let user = try await client.post("/v1/users", key: f.key, ["name": name, "role": "agent"])
                let id = try #require(user["id"] as? String)
                let key = try await client.post("/v1/users/\(id)/keys", key: f.key, [:])["token"] as! String
                try await client.execute(uri: "/v1/agents/\(id)", method: .put, headers: auth(f.key), body: ByteBuffer(string: #"{"accountIds":["\#(accountId)"],"capacity":5}"#)) {
                    #expect($0.status == .ok)
                }
                agents.append((id, key))
            }
            (code, body) = try await status(client, .post, "\(thread)/fan-new/assign", key: f.key, #"{"agentId":"\#(agents[1].id)"}"#)
            #expect(code == 200 && body.contains(agents[1].id))
            (code, body) = try await status(client, .post, "\(thread)/fan-new/messages", key: agents[0].key, #"{"type":"text","text":"您好"}"#)
            #expect(code == 403 && body.contains("another agent"), "\(body)")
            (code, _) = try await status(client, .post, "\(thread)/fan-new/messages", key: agents[1].key, #"{"type":"text","text":"您好"}"#)
            #expect(code == 202, "the agent who has it answers")
            #expect(try await env.store.outboxCounts() == [.pending: 1], "only that answer is queued")
        }
    }
}
