import AsyncHTTPClient
import FlywheelDomain
import Foundation
import NIOCore
import NIOHTTP1

/// An app's credentials on the platform.
public struct AppCredentials: Sendable, Equatable {
    public var clientKey: String
    public var clientSecret: String

    public init(clientKey: String, clientSecret: String) {
        self.clientKey = clientKey
        self.clientSecret = clientSecret
    }
}

/// The app's own token, for calls that act for no account (`POST /oauth/client_token/`).
public struct ClientToken: Sendable, Equatable {
    public var accessToken: String
    /// Seconds it stays valid (2 hours on the platform).
    public var expiresIn: Int64

    public init(accessToken: String, expiresIn: Int64) {
        self.accessToken = accessToken
        self.expiresIn = expiresIn
    }
}

/// An account's grant to the app: what the OAuth code or a refresh gives.
public struct AccountToken: Sendable, Equatable {
    /// The account that granted it.
    public var openId: String
    public var accessToken: String
    public var refreshToken: String
    /// Comma-separated scopes the account granted.
    public var scope: String
    /// Seconds the access token stays valid (15 days on the platform).
    public var accessExpiresIn: Int64
    /// Seconds the refresh token stays valid (30 days on the platform); nil when the answer did not
    /// say, as after a refresh that kept the refresh token.
    public var refreshExpiresIn: Int64?

    /// The platform's lifetimes, used when an answer leaves them out.
    public static let accessLifetime: Int64 = 15 * 86_400
    public static let refreshLifetime: Int64 = 30 * 86_400

    public init(openId: String, accessToken: String, refreshToken: String, scope: String, accessExpiresIn: Int64, refreshExpiresIn: Int64?) {
        self.openId = openId
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.scope = scope
        self.accessExpiresIn = accessExpiresIn
        self.refreshExpiresIn = refreshExpiresIn
    }
}

/// The `content` object as the platform reads it: `msg_type` and the field that type needs.
struct WireContent: Encodable, Equatable {
    var msg_type: Int
    var text: String?
    var media_id: String?
    var item_id: String?
    var card_id: String?
    var group_id: String?
    var activity_id: String?
    var coupon_meta_id: String?

    init(_ content: MessageContent) {
        msg_type = content.msgType
        switch content {
        case .text(let text): self.text = text
        case .image(let mediaId): media_id = mediaId
        case .video(let itemId): item_id = itemId
        case .leadCard(let cardId): card_id = cardId
        case .groupInvitation(let groupId): group_id = groupId
        case .coupon(let activityId, let couponMetaId):
            activity_id = activityId
            coupon_meta_id = couponMetaId
        }
    }
}

/// The body of a DM send.
struct WireMessage: Encodable {
    var to_user_id: String
    var msg_id: String?
    var conversation_id: String?
    var content: WireContent
}

/// The body of a group send.
struct WireGroupMessage: Encodable {
    var group_id: String
    var content: WireContent
}

/// A fan group as the create call takes it (`POST /im/group/fans/create/`).
public struct GroupSpec: Sendable, Equatable {
    public var name: String
    public var description: String
    /// Applications wait for the join-audit API (Flywheel decides them by the group's threshold).
    public var auditsEntries: Bool
    /// The platform shares the account's new works into the group.
    public var syncsWorks: Bool
    /// The platform tells the group when the account goes live.
    public var syncsLives: Bool

    public init(name: String, description: String, auditsEntries: Bool, syncsWorks: Bool, syncsLives: Bool) {
        self.name = name
        self.description = description
        self.auditsEntries = auditsEntries
        self.syncsWorks = syncsWorks
        self.syncsLives = syncsLives
    }
}

/// What the platform answers a group's creation with.
public struct CreatedGroup: Sendable, Equatable {
    public var groupId: String
    /// The number fans search to apply, when the answer gives it.
    public var groupNumber: String?

    public init(groupId: String, groupNumber: String?) {
        self.groupId = groupId
        self.groupNumber = groupNumber
    }
}

/// A subscription post pushed to its recipients: only the sandbox takes it (the platform has no
/// open API for posts; Flywheel gives the operator a task instead).
public struct PostPush: Sendable, Equatable {
    public var postId: String
    public var title: String
    public var body: String
    public var format: String
    public var mediaRef: String?
    public var toolKind: String?
    public var toolRef: String?
    public var recipients: [String]

    public init(postId: String, title: String, body: String, format: String, mediaRef: String?, toolKind: String?, toolRef: String?, recipients: [String]) {
        self.postId = postId
        self.title = title
        self.body = body
        self.format = format
        self.mediaRef = mediaRef
        self.toolKind = toolKind
        self.toolRef = toolRef
        self.recipients = recipients
    }
}

struct WireGroupCreate: Encodable {
    var group_name: String
    var description: String
    var open_audit_switch: Int
    var item_auto_sync: Int
    var live_auto_sync: Int
}

struct WireGreeting: Encodable {
    var group_id: String
    var group_setting_type: Int
    var msg_list: [WireContent]
}

struct WireAudit: Encodable {
    var apply_id: String
    var status: Int
}

struct WirePost: Encodable {
    var post_id: String
    var title: String
    var body: String
    var format: String
    var media_ref: String?
    var tool_kind: String?
    var tool_ref: String?
    var open_ids: [String]
}

/// A DM from an account to a fan.
public struct SendMessage: Sendable, Equatable {
    /// The fan's message this answers (its `server_message_id`): a reply, allowed within 24 hours
    /// of it. Nil for a proactive message, allowed only to a fan who granted them.
    public var replyTo: String?
    public var conversationId: String?
    public var toUserId: String
    public var content: MessageContent

    public init(replyTo: String?, conversationId: String? = nil, toUserId: String, content: MessageContent) {
        self.replyTo = replyTo
        self.conversationId = conversationId
        self.toUserId = toUserId
        self.content = content
    }
}

/// Why the platform refused a call, or could not be reached.
public enum PlatformError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Over the app's calls a second (err_no 28003070): try again later.
    case rateLimited
    /// The message answered is older than 24 hours (or unknown).
    case outsideReplyWindow
    /// A proactive message to a fan who did not grant them.
    case notGranted
    /// A fan's proactive messages for the day are used up.
    case proactiveLimit
    /// The token is missing, expired or revoked: refresh it, or connect the account again.
    case invalidToken
    case other(errNo: Int, message: String)
    /// No answer the client could read: network, TLS, an HTTP error without a body.
    case unreachable(String)

    public var description: String {
        switch self {
        case .rateLimited: "the platform's rate limit was reached (err_no 28003070)"
        case .outsideReplyWindow: "the message answered is older than 24 hours"
        case .notGranted: "the fan has not granted proactive messages"
        case .proactiveLimit: "the fan's proactive messages for today are used up"
        case .invalidToken: "the platform token is invalid or expired"
        case .other(let errNo, let message): "the platform refused: \(message) (err_no \(errNo))"
        case .unreachable(let why): "the platform could not be reached: \(why)"
        }
    }

    /// The error an `err_no` (or OAuth `error_code`) means.
    public static func code(_ errNo: Int, _ message: String) -> PlatformError {
        switch errNo {
        case 28_003_070: .rateLimited
        case 28_003_017: .outsideReplyWindow
        case 28_003_018: .proactiveLimit
        // The sandbox's token code, and the platform's for an invalid or expired access or refresh token.
        case 28_001_008, 2_190_002, 2_190_008, 10_008, 10_010: .invalidToken
        default: .other(errNo: errNo, message: message)
        }
    }
}

/// The platform's open API as Flywheel calls it: one `@Sendable` closure per call, so tests set
/// only what they exercise (`.failing` for the rest) and the sandbox is the live client pointed
/// elsewhere. Every closure of `.live` throws `PlatformError`.
public struct PlatformClient: Sendable {
    /// The page where an account consents (`GET /platform/oauth/connect/`); it sends the browser
    /// back to `redirectURI` with `code` and `state`.
    public var authorizeURL: @Sendable (_ clientKey: String, _ scope: String, _ redirectURI: String, _ state: String) throws -> String
    public var clientToken: @Sendable (_ clientKey: String, _ clientSecret: String) async throws -> ClientToken
    /// An OAuth code (single use, 10 minutes) for the account's tokens.
    public var exchangeCode: @Sendable (_ app: AppCredentials, _ code: String) async throws -> AccountToken
    /// A new access token for the refresh token.
    public var refresh: @Sendable (_ app: AppCredentials, _ refreshToken: String) async throws -> AccountToken
    /// Sends a DM as the account; returns the sent message's id.
    public var sendMessage: @Sendable (_ accessToken: String, _ accountOpenId: String, _ message: SendMessage) async throws -> String
    /// Sends a message to one of the account's fan groups; returns the sent message's id.
    public var sendGroupMessage: @Sendable (_ accessToken: String, _ accountOpenId: String, _ groupId: String, _ content: MessageContent) async throws -> String
    /// Creates a fan group of the account.
    public var createGroup: @Sendable (_ accessToken: String, _ accountOpenId: String, _ spec: GroupSpec) async throws -> CreatedGroup
    /// Sets what the group says to a new member.
    public var setGroupGreeting: @Sendable (_ accessToken: String, _ accountOpenId: String, _ groupId: String, _ greeting: MessageContent) async throws -> Void
    /// Approves or rejects an application to join (`POST /im/group/enter/audit/set/`).
    public var decideJoin: @Sendable (_ accessToken: String, _ accountOpenId: String, _ applyId: String, _ approve: Bool) async throws -> Void
    /// Pushes a subscription post; nil on the platform, which has no open API for posts: a post
    /// is then the operator's task.
    public var publishPost: (@Sendable (_ accessToken: String, _ accountOpenId: String, _ post: PostPush) async throws -> String)?
    /// A shop's access token, for its self-use app (`token.create`, `grant_type=authorization_self`).
    public var shopToken: @Sendable (_ shop: ShopCredentials) async throws -> ShopToken
    /// A page of the shop's orders by update time (`order.searchList`).
    public var shopOrders: @Sendable (_ shop: ShopCredentials, _ accessToken: String, _ query: ShopOrderQuery) async throws -> ShopOrderPage

    public init(
        authorizeURL: @escaping @Sendable (String, String, String, String) throws -> String,
        clientToken: @escaping @Sendable (String, String) async throws -> ClientToken,
        exchangeCode: @escaping @Sendable (AppCredentials, String) async throws -> AccountToken,
        refresh: @escaping @Sendable (AppCredentials, String) async throws -> AccountToken,
        sendMessage: @escaping @Sendable (String, String, SendMessage) async throws -> String,
        sendGroupMessage: @escaping @Sendable (String, String, String, MessageContent) async throws -> String,
        createGroup: @escaping @Sendable (String, String, GroupSpec) async throws -> CreatedGroup,
        setGroupGreeting: @escaping @Sendable (String, String, String, MessageContent) async throws -> Void,
        decideJoin: @escaping @Sendable (String, String, String, Bool) async throws -> Void,
        publishPost: (@Sendable (String, String, PostPush) async throws -> String)?,
        shopToken: @escaping @Sendable (ShopCredentials) async throws -> ShopToken,
        shopOrders: @escaping @Sendable (ShopCredentials, String, ShopOrderQuery) async throws -> ShopOrderPage
    ) {
        self.authorizeURL = authorizeURL
        self.clientToken = clientToken
        self.exchangeCode = exchangeCode
        self.refresh = refresh
        self.sendMessage = sendMessage
        self.sendGroupMessage = sendGroupMessage
        self.createGroup = createGroup
        self.setGroupGreeting = setGroupGreeting
        self.decideJoin = decideJoin
        self.publishPost = publishPost
        self.shopToken = shopToken
        self.shopOrders = shopOrders
    }

    /// The platform's address.
    public static let douyinBaseURL = "https://open.douyin.com"
    /// The shop platform's address: shops have an open API of their own, with their own apps and signatures.
    public static let shopBaseURL = "https://openapi-fxg.jinritemai.com"

    /// The real platform, over the process-wide HTTP client (taken only when a call is made).
    public static var douyin: PlatformClient { live(baseURL: douyinBaseURL, shopBaseURL: shopBaseURL) { connections } }

    /// The process-wide client for the open API, made on first use and never shut down: with
    /// room for the outbox's sends in flight at once (the shared client keeps 8 connections to a host).
    static let connections = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(
        connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)))

    /// The open API at `baseURL` over AsyncHTTPClient: the platform (`douyinBaseURL`), or the
    /// sandbox platform, which serves the same paths over HTTP beside the demo
    /// (`http://127.0.0.1:8081` for a demo on 8080; docs/simulation.md, "The open API").
    public static func live(http: HTTPClient, baseURL: String) -> PlatformClient {
        live(baseURL: baseURL, shopBaseURL: baseURL) { http }
    }

    /// The sandbox platform (`SandboxAPI`) at `baseURL`: the very same live client, since the
    /// sandbox serves the platform's paths and answers over HTTP beside the demo, and it pushes
    /// subscription posts too (`POST /sandbox/post/publish/`), which the platform cannot, and the
    /// shop platform's calls at the same address.
    public static func sandbox(baseURL: String) -> PlatformClient {
        live(baseURL: baseURL, shopBaseURL: baseURL, pushesPosts: true) { connections }
    }

    /// `pushesPosts`: the sandbox's `POST /sandbox/post/publish/`, which the platform does not have.
    static func live(baseURL: String, shopBaseURL: String, pushesPosts: Bool = false, http: @escaping @Sendable () -> HTTPClient) -> PlatformClient {
        let api = OpenAPI(base: baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL, http: http)
        let shop = ShopAPI(http: OpenAPI(base: shopBaseURL.hasSuffix("/") ? String(shopBaseURL.dropLast()) : shopBaseURL, http: http))
        let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000) }
        let publishPost: @Sendable (String, String, PostPush) async throws -> String = { accessToken, accountOpenId, post in
            let body = WirePost(post_id: post.postId, title: post.title, body: post.body, format: post.format, media_ref: post.mediaRef,
                                tool_kind: post.toolKind, tool_ref: post.toolRef, open_ids: post.recipients)
            let data = try await api.call("/sandbox/post/publish/?" + OpenAPI.form([("open_id", accountOpenId)]), json: body, accessToken: accessToken)
            return data["post_id"] as? String ?? post.postId
        }
        return PlatformClient(
            authorizeURL: { clientKey, scope, redirectURI, state in
                api.base + "/platform/oauth/connect/?" + OpenAPI.form([
                    ("client_key", clientKey), ("response_type", "code"), ("scope", scope), ("redirect_uri", redirectURI), ("state", state),
                ])
            },
            clientToken: { clientKey, clientSecret in
                let data = try await api.call("/oauth/client_token/", json: [
                    "client_key": clientKey, "client_secret": clientSecret, "grant_type": "client_credential",
                ])
                guard let token = data["access_token"] as? String, !token.isEmpty else { throw PlatformError.unreachable("the answer has no access_token") }
                return ClientToken(accessToken: token, expiresIn: OpenAPI.integer(data["expires_in"]).map { Int64($0) } ?? 7_200)
            },
            exchangeCode: { app, code in
                let data = try await api.call("/oauth/access_token/", json: [
                    "client_key": app.clientKey, "client_secret": app.clientSecret, "code": code, "grant_type": "authorization_code",
                ])
                return try OpenAPI.accountToken(data, keeping: nil)
            },
            refresh: { app, refreshToken in
                // The platform takes this one as a form.
                let data = try await api.call("/oauth/refresh_token/", form: [
                    ("client_key", app.clientKey), ("grant_type", "refresh_token"), ("refresh_token", refreshToken),
                ])
                return try OpenAPI.accountToken(data, keeping: refreshToken)
            },
            sendMessage: { accessToken, accountOpenId, message in
                let body = WireMessage(to_user_id: message.toUserId, msg_id: message.replyTo, conversation_id: message.conversationId,
                                       content: WireContent(message.content))
                do {
                    let data = try await api.call("/im/send/msg/?" + OpenAPI.form([("open_id", accountOpenId)]), json: body, accessToken: accessToken)
                    return data["msg_id"] as? String ?? ""
                } catch PlatformError.outsideReplyWindow where message.replyTo == nil {
                    // Without a message to answer, the refusal means the fan never granted proactive messages.
                    throw PlatformError.notGranted
                }
            },
            sendGroupMessage: { accessToken, accountOpenId, groupId, content in
                let data = try await api.call("/im/send/msg/group/?" + OpenAPI.form([("open_id", accountOpenId)]),
                                              json: WireGroupMessage(group_id: groupId, content: WireContent(content)), accessToken: accessToken)
                return data["msg_id"] as? String ?? ""
            },
            createGroup: { accessToken, accountOpenId, spec in
                let body = WireGroupCreate(group_name: spec.name, description: spec.description, open_audit_switch: spec.auditsEntries ? 1 : 0,
                                           item_auto_sync: spec.syncsWorks ? 1 : 0, live_auto_sync: spec.syncsLives ? 1 : 0)
                let data = try await api.call("/im/group/fans/create/?" + OpenAPI.form([("open_id", accountOpenId)]), json: body, accessToken: accessToken)
                guard let id = data["group_id"] as? String, !id.isEmpty else { throw PlatformError.unreachable("the answer has no group_id") }
                return CreatedGroup(groupId: id, groupNumber: (data["group_number"] as? String) ?? OpenAPI.integer(data["group_number"]).map(String.init))
            },
            setGroupGreeting: { accessToken, accountOpenId, groupId, greeting in
                // Setting type 1 is the greeting a new member sees.
                _ = try await api.call("/im/group/setting/set/?" + OpenAPI.form([("open_id", accountOpenId)]),
                                       json: WireGreeting(group_id: groupId, group_setting_type: 1, msg_list: [WireContent(greeting)]), accessToken: accessToken)
            },
            decideJoin: { accessToken, accountOpenId, applyId, approve in
                _ = try await api.call("/im/group/enter/audit/set/?" + OpenAPI.form([("open_id", accountOpenId)]),
                                       json: WireAudit(apply_id: applyId, status: approve ? 1 : 2), accessToken: accessToken)
            },
            publishPost: pushesPosts ? publishPost : nil,
            shopToken: { credentials in
                let data = try await shop.call("token.create", params: ["code": .text(""), "grant_type": .text("authorization_self"),
                                                                        "shop_id": .text(credentials.shopId)],
                                               credentials: credentials, accessToken: nil, now: clock())
                guard let token = data["access_token"] as? String, !token.isEmpty else { throw PlatformError.unreachable("the answer has no access_token") }
                return ShopToken(accessToken: token, expiresIn: OpenAPI.integer(data["expires_in"]).map { Int64($0) } ?? 3_600)
            },
            shopOrders: { credentials, accessToken, query in
                let data = try await shop.call("order.searchList", params: [
                    "update_time_start": .number(query.updatedFrom), "update_time_end": .number(query.updatedTo), "page": .number(Int64(query.page)),
                    "size": .number(Int64(query.size)), "order_by": .text("update_time"), "order_asc": .flag(true),
                ], credentials: credentials, accessToken: accessToken, now: clock())
                let orders = data["shop_order_list"] as? [[String: Any]] ?? []
                return ShopOrderPage(orders: orders.compactMap(ShopOrder.read), entries: orders.count)
            })
    }

    /// Called by a test that did not set the closure.
    public struct Unimplemented: Error, Equatable, Sendable, CustomStringConvertible {
        public var closure: String
        public var description: String { "PlatformClient.\(closure) was called but the test did not set it" }
    }

    /// For tests: every call fails, naming itself, until the test sets the closures it expects.
    public static let failing = PlatformClient(
        authorizeURL: { _, _, _, _ in throw Unimplemented(closure: "authorizeURL") },
        clientToken: { _, _ in throw Unimplemented(closure: "clientToken") },
        exchangeCode: { _, _ in throw Unimplemented(closure: "exchangeCode") },
        refresh: { _, _ in throw Unimplemented(closure: "refresh") },
        sendMessage: { _, _, _ in throw Unimplemented(closure: "sendMessage") },
        sendGroupMessage: { _, _, _, _ in throw Unimplemented(closure: "sendGroupMessage") },
        createGroup: { _, _, _ in throw Unimplemented(closure: "createGroup") },
        setGroupGreeting: { _, _, _, _ in throw Unimplemented(closure: "setGroupGreeting") },
        decideJoin: { _, _, _, _ in throw Unimplemented(closure: "decideJoin") },
        publishPost: { _, _, _ in throw Unimplemented(closure: "publishPost") },
        shopToken: { _ in throw Unimplemented(closure: "shopToken") },
        shopOrders: { _, _, _ in throw Unimplemented(closure: "shopOrders") })
}

/// The wire: requests with the platform's headers and bodies, answers read as
/// `{"err_no", "err_msg", "data"}` (the open API and the sandbox) or `{"data": {..., "error_code"}}`
/// (the platform's OAuth).
struct OpenAPI: Sendable {
    let base: String
    let http: @Sendable () -> HTTPClient

    static let timeout = TimeAmount.seconds(10)
    static let maxAnswerBytes = 1 << 20

    func call(_ path: String, json body: some Encodable, accessToken: String? = nil) async throws -> [String: Any] {
        guard let bytes = try? JSONEncoder().encode(body) else { throw PlatformError.other(errNo: -1, message: "the request could not be encoded") }
        return try await send(path, body: Array(bytes), contentType: "application/json", accessToken: accessToken)
    }

    func call(_ path: String, form fields: [(String, String)]) async throws -> [String: Any] {
        try await send(path, body: Array(Self.form(fields).utf8), contentType: "application/x-www-form-urlencoded", accessToken: nil)
    }

    func send(_ path: String, body: [UInt8], contentType: String, accessToken: String?) async throws -> [String: Any] {
        let (status, answer) = try await exchange(path, body: body, contentType: contentType, accessToken: accessToken)
        return try Self.read(answer, status: status)
    }

    /// POSTs and returns the HTTP status and the answer's bytes.
    func exchange(_ path: String, body: [UInt8], contentType: String, accessToken: String?) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        if let accessToken { request.headers.add(name: "access-token", value: accessToken) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let status: Int
        let answer: ByteBuffer
        do {
            let response = try await http().execute(request, timeout: Self.timeout)
            status = Int(response.status.code)
            answer = try await response.body.collect(upTo: Self.maxAnswerBytes)
        } catch {
            // The path alone: a query may carry a token.
            throw PlatformError.unreachable("\(path.prefix { $0 != "?" }): \(error)")
        }
        return (status, Data(answer.readableBytesView))
    }

    /// The answer's `data`, or the error it carries.
    static func read(_ body: Data, status: Int) throws -> [String: Any] {
        guard let root = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw PlatformError.unreachable("HTTP \(status) without a JSON answer")
        }
        let data = root["data"] as? [String: Any] ?? [:]
        let extra = root["extra"] as? [String: Any] ?? [:]
        let errNo = integer(root["err_no"]) ?? nonZero(integer(data["error_code"])) ?? nonZero(integer(extra["error_code"])) ?? integer(root["error_code"]) ?? 0
        if errNo != 0 {
            let message = (root["err_msg"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? data["description"] as? String
                ?? extra["description"] as? String ?? root["message"] as? String ?? "error \(errNo)"
            throw PlatformError.code(errNo, message)
        }
        guard (200..<300).contains(status) else { throw PlatformError.unreachable("HTTP \(status)") }
        return data
    }

    static func accountToken(_ data: [String: Any], keeping refreshToken: String?) throws -> AccountToken {
        guard let access = data["access_token"] as? String, !access.isEmpty else { throw PlatformError.unreachable("the answer has no access_token") }
        guard let refresh = (data["refresh_token"] as? String).flatMap({ $0.isEmpty ? nil : $0 }) ?? refreshToken else {
            throw PlatformError.unreachable("the answer has no refresh_token")
        }
        return AccountToken(openId: data["open_id"] as? String ?? "", accessToken: access, refreshToken: refresh, scope: data["scope"] as? String ?? "",
                            accessExpiresIn: integer(data["expires_in"]).map { Int64($0) } ?? AccountToken.accessLifetime,
                            refreshExpiresIn: integer(data["refresh_expires_in"]).map { Int64($0) })
    }

    /// A number as JSONSerialization gives it, or a string of digits.
    static func integer(_ value: Any?) -> Int? {
        if let number = value as? NSNumber { return number.intValue }
        if let text = value as? String { return Int(text) }
        return nil
    }

    static func nonZero(_ value: Int?) -> Int? { value == 0 ? nil : value }

    /// `a=1&b=2`, each name and value percent-encoded.
    static func form(_ fields: [(String, String)]) -> String {
        fields.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }

    /// RFC 3986's unreserved characters: everything else is escaped, `+`, `&` and `=` included.
    static var unreserved: CharacterSet { CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") }

    static func encode(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text }
}
