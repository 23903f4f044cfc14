import FlywheelDomain
import FlywheelPlatform
import FlywheelSimulator
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// The sandbox platform's open API (docs/simulation.md, "The open API"): what Flywheel calls to
/// reach fans, with the platform's rules. Client tokens from `POST /oauth/client_token/`; an
/// account's own tokens by OAuth: the consent page `GET /platform/oauth/connect/` (in the sandbox,
/// `open_id` names the account that consents) sends the browser back with a code, exchanged at
/// `POST /oauth/access_token/` (codes single use, 10 minutes) for an access token (15 days) and a
/// refresh token (30 days), renewed at `POST /oauth/refresh_token/`. DMs with
/// `POST /im/send/msg/` (a reply within 24 hours of the fan's message, or a proactive message to
/// a fan who granted it: once a day, at most three); group messages with
/// `POST /im/send/msg/group/`; both take a client token or the account's access token. Answers
/// are `{"err_no", "err_msg", "data"}`; over the rate limit `err_no` is 28003070, as on the platform.
public final class SandboxAPI: Sendable {
    public struct App: Sendable {
        public var clientKey: String
        public var clientSecret: String
        public var accountOpenIds: Set<String>
        /// How the app's fans react to what they receive; nil: they do not.
        public var reactions: Reactions?

        public init(clientKey: String, clientSecret: String, accountOpenIds: Set<String>, reactions: Reactions? = nil) {
            self.clientKey = clientKey
            self.clientSecret = clientSecret
            self.accountOpenIds = accountOpenIds
            self.reactions = reactions
        }
    }

    /// A message a fan sent, as pushed: what a reply may answer.
    struct Received: Sendable {
        var conversation: String
        var fan: String
        var account: String
        var at: Int64
    }

    /// What an account granted an app by OAuth: a code, an access token and a refresh token each carry it.
    struct Grant: Sendable {
        var clientKey: String
        var openId: String
        var scope: String
        var expires: Int64
    }

    struct State: Sendable {
        var tokens: [String: (clientKey: String, expires: Int64)] = [:]
        var codes: [String: Grant] = [:]
        var accessTokens: [String: Grant] = [:]
        var refreshTokens: [String: Grant] = [:]
        var received: [String: Received] = [:]
        /// Fans who granted proactive messages, by account.
        var granted: Set<String> = []
        /// Proactive messages per account, fan and day.
        var proactive: [String: Int] = [:]
        /// Calls per app in the current second.
        var calls: [String: (second: Int64, count: Int)] = [:]
        var sent: [SentMessage] = []
        var nextId = 0
        /// DMs each fan received from each account, in all and per day: what its reactions are drawn
        /// from, and what makes it unfollow.
        var delivered: [String: Int] = [:]
        /// When each fan was reached by each account (posts, group sends, DMs), for its weekly tolerance.
        var touched: [String: [Int64]] = [:]
        var groups: [String: SandboxGroup] = [:]
        var applications: [String: (group: String, fan: String)] = [:]
        /// Shops by shop id, and their access tokens (token → shop id).
        var shops: [String: SandboxShop] = [:]
        var shopTokens: [String: String] = [:]
    }

    /// A fan group the API created.
    struct SandboxGroup: Sendable {
        var clientKey: String
        var account: String
        var name: String
        var number: String
        var greeting: String?
        var members: Set<String> = []
    }

    /// A message the API accepted, for the sandbox to echo back as a push.
    public struct SentMessage: Sendable, Equatable {
        public var clientKey: String
        public var account: String
        public var toUser: String
        public var conversation: String
        public var msgType: Int
        public var at: Int64
        /// The fan's message it answers; nil for a proactive message or a group send.
        public var replyTo: String?
    }

    public static let rateLimited = 28_003_070
    public static let invalidToken = 28_001_008
    public static let invalidParameter = 28_001_005
    public static let outsideReplyWindow = 28_003_017
    public static let proactiveLimit = 28_003_018
    /// Calls per app per second before `rateLimited`.
    public static let callsPerSecond = 20
    static let tokenLifetime: Int64 = 2 * 3_600_000
    static let codeLifetime: Int64 = 10 * 60_000
    static let accessLifetime: Int64 = 15 * 86_400_000
    static let refreshLifetime: Int64 = 30 * 86_400_000
    static let replyWindow: Int64 = 24 * 3_600_000

    let apps: [String: App]
    let now: @Sendable () -> Int64
    let callsPerSecond: Int
    /// Where the platform pushes what follows a send: the echo of each DM the API sent
    /// (`im_receive_msg` with the sending app as `source`), as it does for every message an app
    /// sends, and what the fan then does (writes back, fills in the lead card, joins the group, unfollows).
    let push: (@Sendable (Delivery) async -> Void)?
    /// How long a fan takes to react.
    let reactAfter: Duration
    let state = Mutex(State())

    public init(apps: [App], now: @escaping @Sendable () -> Int64, callsPerSecond: Int = SandboxAPI.callsPerSecond, reactAfter: Duration = .seconds(3),
                push: (@Sendable (Delivery) async -> Void)? = nil) {
        self.apps = Dictionary(apps.map { ($0.clientKey, $0) }, uniquingKeysWith: { a, _ in a })
        self.now = now
        self.callsPerSecond = callsPerSecond
        self.reactAfter = reactAfter
        self.push = push
    }

    /// Remembers what the platform pushed that later calls depend on: fans' messages (a reply
    /// answers one) and grants of proactive messages.
    public func pushed(_ delivery: Delivery) {
        guard let root = try? JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any], let event = root["event"] as? String else { return }
        let content = (root["content"] as? [String: Any]) ?? (root["content"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? [:]
        let from = root["from_user_id"] as? String ?? "", to = root["to_user_id"] as? String ?? ""
        state.withLock { state in
            switch event {
            // A reply may answer a fan's message, or the fan opening the conversation (the welcome).
            case "im_receive_msg" where (content["source"] as? String ?? "").isEmpty, "im_enter_direct_msg":
                if let id = content["server_message_id"] as? String {
                    state.received[id] = Received(conversation: content["conversation_short_id"] as? String ?? "", fan: from, account: to,
                                                  at: (content["create_time"] as? NSNumber)?.int64Value ?? now())
                }
            case "im_authorize" where (content["auth_status"] as? NSNumber)?.intValue == 1:
                state.granted.insert("\(to)|\(from)")
            case "im_authorize":
                state.granted.remove("\(to)|\(from)")
            default: break
            }
        }
    }

    /// The account consents to `scope` at once, as on the consent page: the tokens an OAuth code
    /// would give. For the demo, whose sandbox starts afresh with every run.
    public func consent(clientKey: String, openId: String, scope: String) -> AccountToken? {
        guard apps[clientKey]?.accountOpenIds.contains(openId) == true else { return nil }
        let time = now()
        let data = state.withLock { Self.issue(Grant(clientKey: clientKey, openId: openId, scope: scope, expires: 0), keeping: nil, at: time, &$0) }
        guard let access = data["access_token"] as? String, let refresh = data["refresh_token"] as? String else { return nil }
        return AccountToken(openId: openId, accessToken: access, refreshToken: refresh, scope: scope, accessExpiresIn: Self.accessLifetime / 1_000,
                            refreshExpiresIn: Self.refreshLifetime / 1_000)
    }

    /// Messages accepted so far.
    public var sent: [SentMessage] { state.withLock { $0.sent } }

    public func add<Context: RequestContext>(to router: Router<Context>) {
        router.post("/oauth/client_token/") { request, context in try await self.clientToken(request, context) }
        router.get("/platform/oauth/connect/") { request, _ in self.connect(request) }
        router.post("/oauth/access_token/") { request, _ in try await self.accessToken(request) }
        router.post("/oauth/refresh_token/") { request, _ in try await self.refreshToken(request) }
        router.post("/im/send/msg/") { request, context in try await self.send(request, context, group: false) }
        router.post("/im/send/msg/group/") { request, context in try await self.send(request, context, group: true) }
        router.post("/sandbox/dm") { request, _ in try await self.fanWrites(request) }
        router.post("/im/group/fans/create/") { request, _ in try await self.serve(request, self.createGroup) }
        router.post("/im/group/setting/set/") { request, _ in try await self.serve(request, self.setGreeting) }
        router.post("/im/group/enter/audit/set/") { request, _ in try await self.serve(request, self.decideJoin) }
        router.post("/sandbox/group/apply") { request, _ in try await self.fanApplies(request) }
        router.post("/sandbox/post/publish/") { request, _ in try await self.serve(request, self.publishPost) }
        router.post("/sandbox/live/book") { request, _ in try await self.fanBooks(request) }
        router.post("/token/create") { request, _ in try await self.shopCall(request, self.shopToken) }
        router.post("/order/searchList") { request, _ in try await self.shopCall(request, self.searchOrders) }
    }

    /// The sandbox's own door, not the platform's: a fan of one of the app's accounts writes a DM,
    /// pushed as the platform pushes it (`{"client_key", "account", "fan", "text"}`), for trying the desk by hand.
    func fanWrites(_ request: Request) async throws -> Response {
        let body = try await json(request)
        guard let key = body["client_key"] as? String, let app = apps[key], let account = body["account"] as? String, app.accountOpenIds.contains(account),
              let fan = body["fan"] as? String, !fan.isEmpty, fan.utf8.count <= 200, let text = body["text"] as? String, (1...500).contains(text.count) else {
            return answer(Self.invalidParameter, "needs client_key of an app, account (one of its open_ids), fan (an open_id) and text (1 to 500 characters)")
        }
        guard let push else { return answer(Self.invalidParameter, "this sandbox pushes nowhere") }
        let time = now()
        let id = state.withLock { state -> String in
            state.nextId += 1
            return "sbx-dm-\(state.nextId)"
        }
        let root: [String: Any] = ["event": "im_receive_msg", "client_key": key, "from_user_id": fan, "to_user_id": account, "content": [
            "conversation_short_id": "sbx-conv-\(account)-\(fan)", "server_message_id": id, "conversation_type": 1, "create_time": time,
            "message_type": "text", "text": text, "source": "", "scene_type": 100] as [String: Any]]
        let bytes = Array((try? JSONSerialization.data(withJSONObject: root)) ?? Data())
        let delivery = Delivery(msgId: id, body: bytes, signature: WebhookSignature.sign(body: bytes, secret: app.clientSecret))
        pushed(delivery)
        await push(delivery)
        return answer(0, "success", ["server_message_id": id])
    }

    func answer(_ errNo: Int, _ message: String, _ data: [String: Any] = [:]) -> Response {
        let body: [String: Any] = ["err_no": errNo, "err_msg": message, "log_id": String(now()), "data": data]
        let bytes = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func json(_ request: Request, limit: Int = 1 << 16) async throws -> [String: Any] {
        let buffer = try await request.body.collect(upTo: limit)
        return (try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any]) ?? [:]
    }

    func clientToken(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let body = try await json(request)
        guard let key = body["client_key"] as? String, let app = apps[key], body["client_secret"] as? String == app.clientSecret,
              body["grant_type"] as? String == "client_credential" else {
            return answer(Self.invalidParameter, "client_key, client_secret or grant_type is wrong")
        }
        let token = "clt." + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let expires = now() + Self.tokenLifetime
        state.withLock { $0.tokens[token] = (key, expires) }
        return answer(0, "success", ["access_token": token, "expires_in": Self.tokenLifetime / 1_000])
    }

    func send(_ request: Request, _ context: some RequestContext, group: Bool) async throws -> Response {
        let body = try await json(request)
        let time = now()
        let token = request.headers[HTTPField.Name("access-token")!] ?? ""
        let account = request.uri.queryParameters.get("open_id") ?? ""
        let outcome: (Int, String, [String: Any]) = state.withLock { state in
            let app: App
            switch admit(token: token, account: account, at: time, &state) {
            case .success(let admitted): app = admitted
            case .failure(let refusal): return (refusal.errNo, refusal.message, [:])
            }
            let content = body["content"] as? [String: Any] ?? [:]
            let type = (content["msg_type"] as? NSNumber)?.intValue ?? 0
            if let problem = Self.problem(content: content, type: type, group: group) { return (Self.invalidParameter, problem, [:]) }
            var conversation = body["conversation_id"] as? String ?? ""
            let toUser = (group ? body["group_id"] : body["to_user_id"]) as? String ?? ""
            guard !toUser.isEmpty else { return (Self.invalidParameter, group ? "group_id is required" : "to_user_id is required", [:]) }
            if !group {
                if let replyTo = body["msg_id"] as? String, !replyTo.isEmpty {
                    guard let received = state.received[replyTo], received.fan == toUser, received.account == account else {
                        return (Self.invalidParameter, "msg_id is not a message of this fan to this account", [:])
                    }
                    guard time - received.at <= Self.replyWindow else { return (Self.outsideReplyWindow, "msg_id is older than 24 hours", [:]) }
                    conversation = received.conversation
                } else {
                    guard state.granted.contains("\(account)|\(toUser)") else {
                        return (Self.outsideReplyWindow, "no message to answer and no grant for proactive messages", [:])
                    }
                    let key = "\(account)|\(toUser)|\(Self.day(time))"
                    guard state.proactive[key, default: 0] < 3 else { return (Self.proactiveLimit, "at most 3 proactive messages a day to a fan", [:]) }
                    state.proactive[key, default: 0] += 1
                }
            }
            state.nextId += 1
            let replyTo = group ? nil : (body["msg_id"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            state.sent.append(SentMessage(clientKey: app.clientKey, account: account, toUser: toUser, conversation: conversation, msgType: type, at: time,
                                          replyTo: replyTo))
            return (0, "success", ["msg_id": "sbx-sent-\(state.nextId)"])
        }
        if outcome.0 == 0, group, let push, let app = clientKey(of: request).flatMap({ apps[$0] }) {
            let tired = groupTouched(app, account: account, group: body["group_id"] as? String ?? "", at: time)
            let delay = reactAfter
            if !tired.isEmpty {
                Task {
                    try? await Task.sleep(for: delay)
                    for delivery in tired { await push(delivery) }
                }
            }
        }
        if outcome.0 == 0, !group, let push, let app = clientKey(of: request).flatMap({ apps[$0] }), let id = outcome.2["msg_id"] as? String {
            let content = body["content"] as? [String: Any] ?? [:]
            let fan = body["to_user_id"] as? String ?? ""
            let echo = Self.echoBody(app: app, account: account, fan: fan, id: id, content: content, at: time)
            let reactions = react(app, account: account, fan: fan, content: content, replyTo: body["msg_id"] as? String, at: time)
            let delay = reactAfter
            Task {
                await push(Delivery(msgId: "echo-" + id, body: echo, signature: WebhookSignature.sign(body: echo, secret: app.clientSecret)))
                guard !reactions.isEmpty else { return }
                try? await Task.sleep(for: delay)
                for reaction in reactions { await push(reaction) }
            }
        }
        return answer(outcome.0, outcome.1, outcome.2)
    }

    struct Refusal: Error {
        var errNo: Int
        var message: String
    }

    /// The app a call acts for, by its token: the app's client token, or the token an account
    /// granted by OAuth, which acts for that account only; counted against the app's calls a second.
    func admit(token: String, account: String, at time: Int64, _ state: inout State) -> Result<App, Refusal> {
        let clientKey: String
        if let grant = state.tokens[token], grant.expires > time {
            clientKey = grant.clientKey
        } else if let grant = state.accessTokens[token], grant.expires > time {
            guard grant.openId == account else { return .failure(Refusal(errNo: Self.invalidToken, message: "access_token was granted by another account than open_id")) }
            clientKey = grant.clientKey
        } else {
            return .failure(Refusal(errNo: Self.invalidToken, message: "access_token is invalid or expired"))
        }
        guard let app = apps[clientKey] else { return .failure(Refusal(errNo: Self.invalidToken, message: "access_token is invalid or expired")) }
        let second = time / 1_000
        let calls = state.calls[app.clientKey].map { $0.second == second ? $0.count : 0 } ?? 0
        state.calls[app.clientKey] = (second, calls + 1)
        guard calls < callsPerSecond else { return .failure(Refusal(errNo: Self.rateLimited, message: "rate limited: at most \(callsPerSecond) calls a second")) }
        guard app.accountOpenIds.contains(account) else { return .failure(Refusal(errNo: Self.invalidParameter, message: "open_id is not an account of this app")) }
        return .success(app)
    }

    /// What the fan does about the message, as the platform's pushes, remembered as if pushed (a
    /// reply may answer the fan's answer).
    func react(_ app: App, account: String, fan: String, content: [String: Any], replyTo: String?, at time: Int64) -> [Delivery] {
        guard let model = app.reactions else { return [] }
        let received: Reactions.Received = switch (content["msg_type"] as? NSNumber)?.intValue ?? 0 {
        case 1: .text
        case 8: .leadCard
        case 9: .groupInvitation(content["group_id"] as? String ?? "")
        case 11: .coupon(activityId: content["activity_id"] as? String ?? "", couponMetaId: content["coupon_meta_id"] as? String ?? "")
        default: .other
        }
        let (reactions, n): ([Reactions.Reaction], Int) = state.withLock { state in
            let waited = replyTo.flatMap { state.received[$0] }.map { Double(time - $0.at) / 60_000 } ?? 0
            let day = "\(account)|\(fan)|\(Self.day(time))"
            state.delivered[day, default: 0] += 1
            state.delivered["\(account)|\(fan)", default: 0] += 1
            // A proactive message reaches the fan unasked, like a post.
            if replyTo == nil { state.touched["\(account)|\(fan)", default: []].append(time) }
            state.nextId += 1
            return (Self.reaction(of: model, account: account, fan: fan, nth: state.delivered["\(account)|\(fan)"] ?? 1, to: received, waitedMinutes: waited,
                                  receivedToday: state.delivered[day] ?? 1), state.nextId)
        }
        return reactionDeliveries(app, account: account, fan: fan, reactions: reactions, id: "sbx-fan-\(n)", at: time + Int64(reactAfter.components.seconds) * 1_000,
                                  cardId: content["card_id"] as? String ?? "")
    }

    /// The platform's pushes for what a fan does, remembered as if pushed (a reply may answer the fan's answer).
    func reactionDeliveries(_ app: App, account: String, fan: String, reactions: [Reactions.Reaction], id prefix: String, at: Int64,
                            cardId: String = "") -> [Delivery] {
        reactions.enumerated().compactMap { i, reaction in
            let id = "\(prefix)-\(i)"
            let (event, inner): (String, Any)
            switch reaction {
            case .reply(let text):
                (event, inner) = ("im_receive_msg", ["conversation_short_id": "sbx-conv-\(account)-\(fan)", "server_message_id": id, "conversation_type": 1,
                                                     "create_time": at, "message_type": "text", "text": text, "source": "", "scene_type": 100] as [String: Any])
            case .submitLead:
                let person = Self.person(fan)
                (event, inner) = ("im_receive_msg", ["conversation_short_id": "sbx-conv-\(account)-\(fan)", "server_message_id": id, "conversation_type": 1,
                                                     "create_time": at, "message_type": "card", "card_id": cardId, "source": "",
                                                     "card_data": [["label": "姓名", "value": person.name], ["label": "手机号", "value": person.phone],
                                                                   ["label": "城市", "value": person.city]]] as [String: Any])
            case .joinGroup(let group):
                (event, inner) = ("group_fans_event", Self.string(["open_id": fan, "im_group_id": group, "group_type": 1, "create_time": at, "create_group_type": "5"]))
            case .claimCoupon(let activity, let meta):
                // The sandbox's stand-in for the platform's claim callback, whose body the public samples do not show.
                (event, inner) = ("coupon_claim", ["activity_id": activity, "coupon_meta_id": meta, "create_time": at] as [String: Any])
            case .unfollow:
                (event, inner) = ("new_follow_action", Self.string(["action_type": 2, "action_time": at / 1_000]))
            case .buy:
                // Paid in the account's shop, where Flywheel reads it; an account without one sells nothing online.
                sell(FanEvent(id: id, kind: .orderPaid, openId: fan, occurredAt: at, channel: .dm, amount: Self.price(of: fan), ref: "sbx-order-\(id)"), account: account)
                return nil
            }
            let delivery = deliver(app, event, from: fan, to: account, id: id, content: inner)
            pushed(delivery)
            return delivery
        }
    }

    /// What a fan does on its `nth` DM from the account: drawn from the fan, the account and `nth`
    /// alone, so the same fan reacts the same way whatever else the sandbox is sending.
    public static func reaction(of model: Reactions, account: String, fan: String, nth: Int, to received: Reactions.Received, waitedMinutes: Double,
                                receivedToday: Int) -> [Reactions.Reaction] {
        var g = SeededGenerator(seed: UInt64(bitPattern: Int64("\(account)|\(fan)|\(nth)".hashValueStable)))
        return model.react(to: received, waitedMinutes: waitedMinutes, receivedToday: receivedToday) { Double(g.next() >> 11) / Double(1 << 53) }
    }

    /// What a fan pays for an order a message brought: 99 to 398 yuan, the same for the same fan.
    public static func price(of fan: String) -> Int64 { 9_900 + Int64(UInt64(bitPattern: Int64(fan.hashValueStable)) % 300) * 100 }

    /// Content as a JSON string, as the platform sends it for some events.
    static func string(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data(), as: UTF8.self)
    }

    /// The details a simulated fan leaves on a lead card, the same for the same fan.
    static func person(_ openId: String) -> (name: String, phone: String, city: String) {
        var g = SeededGenerator(seed: UInt64(bitPattern: Int64(openId.hashValueStable)))
        let surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"], given = ["伟", "芳", "娜", "敏", "静", "磊", "强", "洋"]
        let cities = ["毕节", "成都", "泸州", "贵阳", "重庆", "昆明"]
        let name = surnames[Int(g.next() % UInt64(surnames.count))] + given[Int(g.next() % UInt64(given.count))]
        return (name, "13" + String(format: "%09llu", g.next() % 1_000_000_000), cities[Int(g.next() % UInt64(cities.count))])
    }

    /// The platform's day (China, UTC+8) of a time in ms: what its daily limits count.
    static func day(_ ms: Int64) -> Int64 { (ms + 8 * 3_600_000) / 86_400_000 }

    /// The client key a token acts for.
    func clientKey(of request: Request) -> String? {
        let token = request.headers[HTTPField.Name("access-token")!] ?? ""
        return state.withLock { $0.tokens[token]?.clientKey ?? $0.accessTokens[token]?.clientKey }
    }

    /// The names Flywheel gives the API's message types, which the echo carries as `message_type`.
    static let typeNames = [1: "text", 2: "image", 3: "video", 8: "lead_card", 9: "group_invitation", 11: "coupon"]

    /// An `im_receive_msg` push as the platform sends the echo of an app's message.
    struct Echo: Encodable {
        struct Content: Encodable {
            var conversation_short_id: String
            var server_message_id: String
            var conversation_type = 1
            var create_time: Int64
            var message_type: String
            var text: String?
            var source: String
            var scene_type = 100
        }

        var event = "im_receive_msg"
        var client_key: String
        var from_user_id: String
        var to_user_id: String
        var content: Content
    }

    static func echoBody(app: App, account: String, fan: String, id: String, content: [String: Any], at: Int64) -> [UInt8] {
        let type = (content["msg_type"] as? NSNumber)?.intValue ?? 1
        let echo = Echo(client_key: app.clientKey, from_user_id: account, to_user_id: fan, content: Echo.Content(
            conversation_short_id: "sbx-conv-\(account)-\(fan)", server_message_id: id, create_time: at, message_type: typeNames[type] ?? "text",
            text: content["text"] as? String, source: app.clientKey))
        return Array((try? JSONEncoder().encode(echo)) ?? Data())
    }

    // MARK: OAuth

    /// The consent page. Without `open_id`, a page with one link per account of the app; with it,
    /// that account consents and the browser goes back to `redirect_uri` with a code and the state.
    func connect(_ request: Request) -> Response {
        let query = request.uri.queryParameters
        let clientKey = query.get("client_key") ?? "", redirect = query.get("redirect_uri") ?? ""
        guard let app = apps[clientKey] else { return Self.page(.badRequest, "client_key is not an app of the sandbox") }
        guard query.get("response_type") == "code" else { return Self.page(.badRequest, "response_type must be code") }
        guard let target = URLComponents(string: redirect), let scheme = target.scheme, ["http", "https"].contains(scheme.lowercased()) else {
            return Self.page(.badRequest, "redirect_uri must be an absolute http or https URL")
        }
        guard let openId = query.get("open_id"), !openId.isEmpty else {
            let base = "/platform/oauth/connect/?" + (request.uri.query ?? "")
            let links = app.accountOpenIds.sorted().map {
                "<li><a href=\"\(Self.escape(base + "&open_id=" + Self.encode($0)))\">\(Self.escape($0))</a></li>"
            }.joined()
            return Self.page(.ok, "Sandbox platform: which account of \(Self.escape(clientKey)) consents to \(Self.escape(query.get("scope") ?? ""))?<ul>\(links)</ul>",
                             html: true)
        }
        guard app.accountOpenIds.contains(openId) else { return Self.page(.badRequest, "open_id is not an account of this app") }
        let code = "code." + Self.randomToken()
        let expires = now() + Self.codeLifetime
        state.withLock { $0.codes[code] = Grant(clientKey: clientKey, openId: openId, scope: query.get("scope") ?? "", expires: expires) }
        let back = redirect + (target.query == nil ? "?" : "&") + "code=\(Self.encode(code))&state=\(Self.encode(query.get("state") ?? ""))"
        return Response(status: .found, headers: [.location: back])
    }

    /// A code for the account's tokens: the code is used up, whatever the outcome.
    func accessToken(_ request: Request) async throws -> Response {
        let params = try await self.params(request)
        guard let key = params["client_key"], let app = apps[key], params["client_secret"] == app.clientSecret,
              params["grant_type"] == "authorization_code" else {
            return answer(Self.invalidParameter, "client_key, client_secret or grant_type is wrong")
        }
        let code = params["code"] ?? "", time = now()
        let outcome: (Int, String, [String: Any]) = state.withLock { state in
            guard let grant = state.codes.removeValue(forKey: code), grant.clientKey == key, grant.expires > time else {
                return (Self.invalidToken, "code is invalid, used or expired", [:])
            }
            return (0, "success", Self.issue(grant, keeping: nil, at: time, &state))
        }
        return answer(outcome.0, outcome.1, outcome.2)
    }

    /// A new access token for a refresh token; the refresh token is kept, with its expiry.
    func refreshToken(_ request: Request) async throws -> Response {
        let params = try await self.params(request)
        guard let key = params["client_key"], apps[key] != nil, params["grant_type"] == "refresh_token" else {
            return answer(Self.invalidParameter, "client_key or grant_type is wrong")
        }
        let token = params["refresh_token"] ?? "", time = now()
        let outcome: (Int, String, [String: Any]) = state.withLock { state in
            guard let grant = state.refreshTokens[token], grant.clientKey == key, grant.expires > time else {
                return (Self.invalidToken, "refresh_token is invalid or expired", [:])
            }
            return (0, "success", Self.issue(grant, keeping: token, at: time, &state))
        }
        return answer(outcome.0, outcome.1, outcome.2)
    }

    /// A new access token for the grant, and a new refresh token unless one is `keeping`; the data
    /// as the platform answers it (with its `error_code`).
    static func issue(_ grant: Grant, keeping refreshToken: String?, at time: Int64, _ state: inout State) -> [String: Any] {
        let access = "act." + randomToken()
        state.accessTokens[access] = Grant(clientKey: grant.clientKey, openId: grant.openId, scope: grant.scope, expires: time + accessLifetime)
        var refresh = "rft." + randomToken()
        var refreshExpires = time + refreshLifetime
        if let refreshToken, let kept = state.refreshTokens[refreshToken] {
            (refresh, refreshExpires) = (refreshToken, kept.expires)
        } else {
            state.refreshTokens[refresh] = Grant(clientKey: grant.clientKey, openId: grant.openId, scope: grant.scope, expires: refreshExpires)
        }
        return ["access_token": access, "expires_in": accessLifetime / 1_000, "refresh_token": refresh,
                "refresh_expires_in": (refreshExpires - time) / 1_000, "open_id": grant.openId, "scope": grant.scope,
                "error_code": 0, "description": ""]
    }

    /// The call's parameters, from the query and from a JSON or form body: the platform takes both.
    func params(_ request: Request) async throws -> [String: String] {
        var params: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { params[String(name)] = String(value) }
        let buffer = try await request.body.collect(upTo: 1 << 16)
        let data = Data(buffer: buffer)
        if request.headers[.contentType]?.contains("application/x-www-form-urlencoded") == true {
            for pair in String(decoding: data, as: UTF8.self).split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                    $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
                }
                guard let name = parts.first, !name.isEmpty else { continue }
                params[name] = parts.count > 1 ? parts[1] : ""
            }
        } else if let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] {
            for (name, value) in object { if let text = value as? String { params[name] = text } }
        }
        return params
    }

    static func randomToken() -> String { UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? text
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func page(_ status: HTTPResponse.Status, _ text: String, html: Bool = false) -> Response {
        let body = html ? "<!doctype html><meta charset=\"utf-8\"><title>Sandbox platform</title><p>\(text)</p>" : text
        return Response(status: status, headers: [.contentType: html ? "text/html; charset=utf-8" : "text/plain; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// What is wrong with a message's content, or nil when it fits its type.
    static func problem(content: [String: Any], type: Int, group: Bool) -> String? {
        let needs: [Int: [String]] = [1: ["text"], 2: ["media_id"], 3: ["item_id"], 8: ["card_id"], 9: ["group_id"], 11: ["activity_id", "coupon_meta_id"]]
        guard let fields = needs[type] else { return "content.msg_type must be 1, 2, 3, 8, 9 or 11 with its fields" }
        if let missing = fields.first(where: { (content[$0] as? String ?? "").isEmpty }) { return "content.\(missing) is required for msg_type \(type)" }
        if type == 1, (content["text"] as? String ?? "").count > 500 { return "content.text is longer than 500 characters" }
        if group, type == 9 { return "a group invitation cannot be sent to a group" }
        return nil
    }
}
