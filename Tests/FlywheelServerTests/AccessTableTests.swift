import Crypto
import FlywheelApp
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

/// Every operation of the OpenAPI document, called with a key of every role and with another
/// tenant's key: 403 exactly where the access table refuses, 404 for another tenant's account.
@Suite struct AccessTableTests {
    struct Call: Sendable {
        var method: String
        var path: String
        var operation: String
    }

    @Test(arguments: StoreKind.allCases) func everyOperationAnswersEveryRoleAsTheTableSays(_ kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        // A secret key, so connecting an account is allowed to start; the shop platform, out of reach.
        var platform = PlatformClient.douyin
        platform.shopToken = { _ in throw PlatformError.unreachable("the shop platform is not reached in this test") }
        let (flywheel, registry) = makeFlywheel(store: store, logger: Logger(label: "test"), platform: platform, sealer: TokenSealer(key: SymmetricKey(size: .bits256)))
        let app = buildApplication(flywheel, registry: registry, settings: ServerSettings(runProjector: false))
        let provider = try await flywheel.tenancy.createTenant(name: "Agency", kind: .provider, actor: "test")
        let stranger = try await flywheel.tenancy.createTenant(name: "Stranger", kind: .enterprise, actor: "test")
        let spec = try JSONSerialization.jsonObject(with: OpenAPIDocument.data) as! [String: Any]
        var calls: [Call] = []
        for (path, operations) in spec["paths"] as! [String: [String: Any]] where path.hasPrefix("/v1/") {
            for (method, operation) in operations {
                let id = try #require((operation as! [String: Any])["operationId"] as? String, "\(method) \(path) has no operationId")
                calls.append(Call(method: method.uppercased(), path: path, operation: id))
            }
        }
        #expect(calls.count == 151)
        // Every operation of the table is reached by some call (createKey, listKeys, revokeKey and tagFans stand for two each).
        let named = Set(calls.map(\.operation))
            .union(["createOwnKey", "createKeyForAnotherUser", "listOwnKeys", "listTenantKeys", "revokeOwnKey", "revokeKeyOfAnotherUser", "tagFansInBulk"])
            .subtracting(["createKey", "listKeys", "revokeKey"])
        #expect(Set(Operation.allCases.map(\.rawValue)) == named)

        // Deletions last, so each role's other calls find its segment and tag.
        let allCalls = calls.sorted { ($0.method == "DELETE" ? 1 : 0, $0.path, $0.method) < ($1.method == "DELETE" ? 1 : 0, $1.path, $1.method) }
        try await app.test(.router) { client in
            let owner = provider.key.token
            let account = try await client.account(key: owner, clientKey: "ck", secret: "s", openId: "acct")
            _ = try await flywheel.env.store.append([AccountEvent(tenantId: provider.tenant.id, accountId: account,
                event: FanEvent(id: "1", kind: .follow, openId: "fan-1", occurredAt: 1_772_294_400_000, channel: .search)),
                AccountEvent(tenantId: provider.tenant.id, accountId: account, event: FanEvent(id: "2", kind: .dmReceived, openId: "fan-1",
                    occurredAt: flywheel.env.now(), channel: .dm, attributes: ["text": "在吗", "message_id": "pm-2"])),
                AccountEvent(tenantId: provider.tenant.id, accountId: account, event: FanEvent(id: "3", kind: .leadSubmitted, openId: "fan-1",
                    occurredAt: flywheel.env.now(), channel: .homepage, attributes: ["name": "王", "phone": "138 0013 8000"]))]) { _ in }
            try await client.post("/v1/accounts/\(account)/orders", key: owner, ["orders": [["id": "o-1", "openId": "fan-1", "amountFen": 9_900,
                                                                                              "paidAt": iso(flywheel.env.now())]]], expect: .accepted)
            await flywheel.projector.drain()
            await flywheel.desk.drain()
            try await client.post("/v1/tags", key: owner, ["name": "vip"])
            // The funnel is tracked from the adoption of a playbook on.
            try await client.post("/v1/playbooks/high_frequency_online/adopt", key: owner, [:], expect: .ok)
            let rules = String(decoding: try JSONEncoder().encode(AccountRules.standard), as: UTF8.self)
            var keys: [(Role, String)] = []
            for role in Role.allCases where role != .owner {
                let user = try await client.post("/v1/users", key: owner, ["name": "user-\(role.rawValue)", "role": role.rawValue])
                let key = try await client.post("/v1/users/\(user["id"] as! String)/keys", key: owner, [:])
                keys.append((role, key["token"] as! String))
            }
            keys.append((.owner, owner))
            let ownerId = (try await client.get("/v1/users", key: owner)["items"] as! [[String: Any]]).first { $0["role"] as? String == "owner" }!["id"] as! String
            // The agent serves the account, so the desk's calls reach its conversations.
            let agentId = (try await client.get("/v1/users", key: owner)["items"] as! [[String: Any]]).first { $0["role"] as? String == "agent" }!["id"] as! String
            try await client.execute(uri: "/v1/agents/\(agentId)", method: .put, headers: auth(owner), body: ByteBuffer(string: #"{"accountIds":["\#(account)"]}"#)) {
                #expect($0.status == .ok)
            }

            // The users a role's calls change, disable, remove and revoke a key of: an analyst each, below
            // admin, so that where the table allows, the role rules do too.
            let membersCalls: Set<String> = ["changeUser", "disableUser", "enableUser", "removeUser"]

            for (i, (role, key)) in keys.enumerated() {
                let name = role.rawValue
                let segment = try await client.post("/v1/accounts/\(account)/segments", key: owner, ["name": "seg-\(name)", "predicate": "following"])["id"] as! String
                try await client.post("/v1/tags", key: owner, ["name": "tag-\(name)"])
                let victim = try await client.post("/v1/users", key: owner, ["name": "victim-\(name)", "role": "analyst"])["id"] as! String
                let victimKey = try await client.post("/v1/users/\(victim)/keys", key: owner, [:])["id"] as! String
                let rule = try await client.post("/v1/accounts/\(account)/auto-replies", key: owner,
                                                 ["name": "r-\(name)", "trigger": "exact", "pattern": "hi", "reply": ["type": "text", "text": "您好"]])["id"] as! String
                let canned = try await client.post("/v1/canned-replies", key: owner, ["title": "c-\(name)", "text": "您好"])["id"] as! String
                let followUp = try await client.post("/v1/leads/lead_ph_13800138000/follow-ups", key: owner, ["dueAt": "2026-12-01T09:00:00Z", "note": "call"])["id"] as! String
                // A post on a day of its own (the quota allows one a day), a group, and two lives: one to cancel, one to remind.
                let day = iso(flywheel.env.now() + Int64(i + 1) * 86_400_000)
                let post = try await client.post("/v1/accounts/\(account)/posts", key: owner, ["title": "p-\(name)", "scheduledAt": day])["id"] as! String
                let fanGroup = try await client.post("/v1/accounts/\(account)/groups", key: owner, ["name": "g-\(name)"], expect: .accepted)["id"] as! String
                let lives = try await client.post("/v1/accounts/\(account)/lives", key: owner, ["title": "l-\(name)", "times": ["08:00", "19:00"]])["lives"] as! [[String: Any]]
                let (liveToCancel, liveToRemind) = (lives[lives.count - 1]["id"] as! String, lives[lives.count - 2]["id"] as! String)
                let coupon = try await client.post("/v1/accounts/\(account)/coupons", key: owner,
                                                   ["name": "c-\(name)", "valueKind": "amount", "value": 1_000, "validUntil": iso(flywheel.env.now() + 86_400_000), "stock": 10])["id"] as! String
                let envelope = try await client.post("/v1/accounts/\(account)/red-envelopes", key: owner,
                                                     ["name": "e-\(name)", "totalFen": 1_000, "shares": 10, "expiresAt": iso(flywheel.env.now() + 86_400_000)])["id"] as! String
                let lottery = try await client.post("/v1/accounts/\(account)/lotteries", key: owner,
                                                    ["name": "l-\(name)", "closesAt": iso(flywheel.env.now() + 86_400_000), "prizes": [["name": "p", "stock": 1]]])["id"] as! String
                let campaign = try await client.post("/v1/accounts/\(account)/fission", key: owner,
                                                     ["name": "f-\(name)", "threshold": 3, "endsAt": iso(flywheel.env.now() + 86_400_000)])["id"] as! String
                try await client.post("/v1/accounts/\(account)/fission/\(campaign)/codes", key: owner, ["openId": "fan-1"])
                // A goal to work on and one to cancel; a task to complete and one to cancel.
                let goalBody: [String: Any] = ["name": "g-\(name)", "metric": "followers", "target": 100, "deadline": iso(flywheel.env.now() + 30 * 86_400_000), "plan": false]
                let goal = try await client.post("/v1/goals", key: owner, goalBody)["goal"] as! [String: Any]
                let goalToCancel = try await client.post("/v1/goals", key: owner, goalBody)["goal"] as! [String: Any]
                let taskBody: [String: Any] = ["title": "t-\(name)", "dueAt": iso(flywheel.env.now() + 86_400_000)]
                let taskToComplete = try await client.post("/v1/goals/\(goal["id"] as! String)/tasks", key: owner, taskBody)["id"] as! String
                let taskToCancel = try await client.post("/v1/goals/\(goal["id"] as! String)/tasks", key: owner, taskBody)["id"] as! String
                let endpoint = try await client.post("/v1/webhook-endpoints", key: owner, ["url": "http://127.0.0.1:9/\(name)"])["id"] as! String
                let journeyBody = #"{"accountId":"\#(account)","name":"j-\#(name)","trigger":{"kind":"event","value":"follow"},"steps":[{"kind":"tag","tag":"vip"}]}"#
                let journey = try await client.execute(uri: "/v1/journeys", method: .post, headers: auth(owner), body: ByteBuffer(string: journeyBody)) {
                    try json($0)["id"] as! String
                }
                for call in allCalls {
                    var uri = call.path.replacingOccurrences(of: "{accountId}", with: account).replacingOccurrences(of: "{segmentId}", with: segment)
                        .replacingOccurrences(of: "{openId}", with: "fan-1")
                        .replacingOccurrences(of: "{userId}", with: membersCalls.contains(call.operation) ? victim : ownerId)
                        .replacingOccurrences(of: "{keyId}", with: victimKey)
                        .replacingOccurrences(of: "{name}", with: "tag-\(name)").replacingOccurrences(of: "{seq}", with: "1")
                        .replacingOccurrences(of: "{ruleId}", with: rule).replacingOccurrences(of: "{replyId}", with: canned)
                        .replacingOccurrences(of: "{leadId}", with: "lead_ph_13800138000").replacingOccurrences(of: "{followUpId}", with: followUp)
                        .replacingOccurrences(of: "{postId}", with: post).replacingOccurrences(of: "{groupId}", with: fanGroup).replacingOccurrences(of: "{couponId}", with: coupon)
                        .replacingOccurrences(of: "{liveId}", with: call.operation == "cancelLive" ? liveToCancel : liveToRemind)
                    uri = uri.replacingOccurrences(of: "{envelopeId}", with: envelope).replacingOccurrences(of: "{lotteryId}", with: lottery)
                        .replacingOccurrences(of: "{orderId}", with: "o-1").replacingOccurrences(of: "{campaignId}", with: campaign)
                        .replacingOccurrences(of: "{goalId}", with: (call.operation == "cancelGoal" ? goalToCancel : goal)["id"] as! String)
                        .replacingOccurrences(of: "{taskId}", with: call.operation == "cancelTask" ? taskToCancel : taskToComplete)
                        .replacingOccurrences(of: "{industry}", with: "high_frequency_online").replacingOccurrences(of: "{endpointId}", with: endpoint)
                        .replacingOccurrences(of: "{journeyId}", with: journey).replacingOccurrences(of: "{experimentId}", with: journey)
                    let body: String = switch call.operation {
                    case "createEnterprise": #"{"name":"E \#(name)"}"#
                    case "createUser": #"{"name":"new-\#(name)","role":"agent"}"#
                    case "createApp": #"{"name":"a","clientKey":"ck-\#(name)","clientSecret":"s"}"#
                    case "createAccount": #"{"name":"x","appId":"\#(try await appId(client, owner))","openId":"o-\#(name)"}"#
                    case "changeRules": rules
                    case "previewSegment": #"{"predicate":"following"}"#
                    case "createSegment": #"{"name":"new-\#(name)","predicate":"following"}"#
                    case "changeSegment": #"{"name":"renamed-\#(name)"}"#
                    case "createTag": #"{"name":"new-\#(name)"}"#
                    case "tagFans": #"{"add":["vip"],"openIds":["fan-1"]}"#
                    case "addNote": #"{"text":"called back"}"#
                    case "importSegment": "fan-1\n"
                    case "createLookalike": #"{"name":"like-\#(name)","size":1}"#
                    case "importEvents": #"{"kind":"like","openId":"fan-1","occurredAt":1772294400001,"channel":"search"}"#
                    case "connectAccount": ""  // a GET: the app and redirectUri go in the URI below
                    case "changeUser": #"{"role":"agent"}"#
                    case "replyToFan": #"{"type":"text","text":"您好"}"#
                    case "addConversationNote": #"{"text":"called back"}"#
                    case "assignConversation": #"{"agentId":"\#(agentId)"}"#
                    case "createAutoReply": #"{"name":"new-\#(name)","trigger":"contains","pattern":"价格","reply":{"type":"text","text":"您好"}}"#
                    case "changeDeskSettings": #"{"firstResponseMinutes":30,"nextResponseMinutes":30,"assignment":"round_robin"}"#
                    case "setAgent": #"{"accountIds":["\#(account)"]}"#
                    case "createCannedReply": #"{"title":"t-\#(name)","text":"您好"}"#
                    case "changeLead": #"{"stage":"contacted"}"#
                    case "createFollowUp": #"{"dueAt":"2026-12-02T09:00:00+08:00","note":"visit"}"#
                    case "createPost": #"{"title":"new-\#(name)","scheduledAt":"\#(iso(flywheel.env.now() + Int64(i + 10) * 86_400_000))"}"#
                    case "createGroup": #"{"name":"new-\#(name)","threshold":"level >= 9"}"#
                    case "changeGroup": #"{"welcome":"欢迎","admins":["staff-1"]}"#
                    case "sendToGroup": #"{"type":"text","text":"今晚直播"}"#
                    case "changeTouchBudget": #"{"perDay":2,"perWeek":6}"#
                    case "createLive": #"{"title":"new-\#(name)","startsAt":"\#(iso(flywheel.env.now() + 3_600_000))"}"#
                    case "changeHomepage": #"{"items":{"enterprise_info":true}}"#
                    case "createCoupon": #"{"name":"new-\#(name)","valueKind":"discount","value":85,"validUntil":"\#(iso(flywheel.env.now() + 86_400_000))","stock":5}"#
                    case "claimCoupon", "claimRedEnvelope", "enterLottery": #"{"openId":"fan-1"}"#
                    case "createRedEnvelope": #"{"name":"new-\#(name)","totalFen":1000,"shares":3,"split":"random","minFen":100,"maxFen":500,"expiresAt":"\#(iso(flywheel.env.now() + 86_400_000))"}"#
                    case "createLottery": #"{"name":"new-\#(name)","eligibility":"following","closesAt":"\#(iso(flywheel.env.now() + 86_400_000))","prizes":[{"name":"p","stock":2}]}"#
                    case "createFissionCampaign": #"{"name":"new-\#(name)","threshold":2,"endsAt":"\#(iso(flywheel.env.now() + 86_400_000))"}"#
                    case "issueFissionCode": #"{"openId":"fan-2"}"#
                    case "joinFission": #"{"code":"\#(String(LotteryDraw.hash(campaign + ":fan-1").prefix(12)))","openId":"friend-\#(name)"}"#
                    case "syncOrders": #"{"orders":[{"id":"o-\#(name)","openId":"fan-1","amountFen":100,"paidAt":"\#(iso(flywheel.env.now()))"}]}"#
                    case "connectShop": #"{"shopId":"shop-1","appKey":"k","appSecret":"s"}"#
                    case "createGoal": #"{"name":"new-\#(name)","metric":"true_love_share","target":30,"deadline":"\#(iso(flywheel.env.now() + 30 * 86_400_000))"}"#
                    case "createTask": #"{"title":"new-\#(name)","dueAt":"\#(iso(flywheel.env.now() + 86_400_000))"}"#
                    case "completeTask": #"{"note":"done by \#(name)"}"#
                    case "createWebhookEndpoint": #"{"url":"https://example.com/hooks/\#(name)","kinds":["lead_created"]}"#
                    case "createJourney", "changeJourney": journeyBody
                    case "changeExperimentSettings": #"{"controlPercent":5}"#
                    default: ""
                    }
                    if call.operation == "importSegment" { uri += "?name=import-\(name)" }
                    // The stream stays open as long as asked: a second here.
                    if call.operation == "streamChanges" { uri += "?wait=1" }
                    if call.operation == "connectAccount" {
                        let app = try await appId(client, owner)
                        uri = uri.replacingOccurrences(of: "{appId}", with: app) + "?redirectUri=http%3A%2F%2F127.0.0.1%3A8080%2Foauth%2Fdouyin%2Fcallback"
                    }
                    let operation = switch call.operation {
                    case "createKey": role == .owner ? Operation.createOwnKey : .createKeyForAnotherUser
                    case "listKeys": Operation.listOwnKeys
                    case "revokeKey": Operation.revokeKeyOfAnotherUser
                    default: try #require(Operation(rawValue: call.operation))
                    }
                    let status = try await client.execute(uri: uri, method: HTTPRequest.Method(rawValue: call.method)!, headers: auth(key),
                                                          body: ByteBuffer(string: body)) { Int($0.status.code) }
                    let expected: ClosedRange<Int> = switch operation {
                    case _ where !Access.allows(role, operation): 403...403
                    // Nothing is quarantined: allowed, and not found.
                    case .retryQuarantined, .dropQuarantined: 404...404
                    // The account is not connected: allowed, and refused for that.
                    case .replyToFan: 409...409
                    // A scheduled post is no task to mark published; a group still being created takes no message.
                    case .markPostPublished, .sendToGroup: 409...409
                    // No shop is connected; connecting one asks the shop platform, which this test cannot reach: allowed, and refused for that.
                    case .readShop, .disconnectShop: 404...404
                    case .connectShop: 502...502
                    default: 200...299
                    }
                    #expect(expected.contains(status), "\(name) \(call.method) \(call.path) (\(operation)) answered \(status)")
                }
            }

            // Another tenant's owner finds none of this tenant's accounts.
            let segment = try await client.post("/v1/accounts/\(account)/segments", key: owner, ["name": "last", "predicate": "following"])["id"] as! String
            for call in allCalls where call.path.contains("{accountId}") {
                let uri = call.path.replacingOccurrences(of: "{accountId}", with: account).replacingOccurrences(of: "{segmentId}", with: segment)
                    .replacingOccurrences(of: "{openId}", with: "fan-1").replacingOccurrences(of: "{seq}", with: "1")
                let status = try await client.execute(uri: uri, method: HTTPRequest.Method(rawValue: call.method)!, headers: auth(stranger.key.token),
                                                      body: ByteBuffer(string: "{}")) { $0.status.code }
                #expect(status == 404, "a stranger's \(call.method) \(call.path) answered \(status)")
            }
        }
    }

    func iso(_ ms: Int64) -> String { Date(timeIntervalSince1970: TimeInterval(ms) / 1000).formatted(.iso8601) }

    func appId(_ client: any TestClientProtocol, _ key: String) async throws -> String {
        (try await client.get("/v1/apps", key: key)["items"] as! [[String: Any]])[0]["id"] as! String
    }
}
