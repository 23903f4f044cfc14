import FlywheelDomain
import Foundation

/// Why a webhook body could not be read.
public struct WebhookDecodingError: Error, Equatable, Sendable {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// A platform push, decoded: the envelope with `content` parsed whether it came as an object or
/// as a JSON string holding one.
public struct WebhookEnvelope: Sendable {
    public var event: String
    public var clientKey: String
    public var fromUserId: String
    public var toUserId: String
    public var logId: String
    /// The parsed `content` object, kept as JSON data so the type stays Sendable.
    public var content: JSONObject

    /// The longest envelope string accepted (ids and keys are a few dozen characters).
    public static let maxFieldLength = 200

    public static func decode(_ body: some Collection<UInt8>) throws(WebhookDecodingError) -> WebhookEnvelope {
        // Replacing bad bytes would merge two different ids into one fan: refuse them.
        guard String(validating: body, as: UTF8.self) != nil else {
            throw WebhookDecodingError(field: "body", message: "body is not valid UTF-8")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)), let root = object as? [String: Any] else {
            throw WebhookDecodingError(field: "body", message: "body is not a JSON object")
        }
        guard let event = root["event"] as? String, !event.isEmpty else {
            throw WebhookDecodingError(field: "event", message: "'event' must be a non-empty string")
        }
        let content: [String: Any]
        switch root["content"] {
        case let object as [String: Any]:
            content = object
        case let text as String:
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw WebhookDecodingError(field: "content", message: "'content' is a string but not a JSON object")
            }
            content = parsed
        case nil, is NSNull:
            content = [:]
        default:
            throw WebhookDecodingError(field: "content", message: "'content' must be an object or a JSON string holding one")
        }
        for field in ["event", "client_key", "from_user_id", "to_user_id", "log_id"] {
            if let value = root[field], !(value is String), !(value is NSNull) {
                throw WebhookDecodingError(field: field, message: "'\(field)' must be a string")
            }
            if let value = root[field] as? String, value.count > maxFieldLength {
                throw WebhookDecodingError(field: field, message: "'\(field)' is \(value.count) characters; at most \(maxFieldLength)")
            }
        }
        return WebhookEnvelope(
            event: event, clientKey: root["client_key"] as? String ?? "", fromUserId: root["from_user_id"] as? String ?? "",
            toUserId: root["to_user_id"] as? String ?? "", logId: root["log_id"] as? String ?? "", content: JSONObject(content))
    }

    /// The handshake's answer body, `{"challenge": <same value>}`, or nil for other events.
    public var challengeReply: Data? {
        guard event == "verify_webhook", let challenge = content.raw["challenge"] else { return nil }
        return try? JSONSerialization.data(withJSONObject: ["challenge": challenge])
    }

    /// The fan events this push means for the account whose open_id is `accountOpenId`. `eventId`
    /// identifies the delivery; `clientKey` tells our own sends (echoed back) from a person's.
    /// Events the model has no place for (authorizations, new videos) yield none.
    public func fanEvents(accountOpenId: String, eventId: String, receivedAt: Int64) -> [FanEvent] {
        let fan = fromUserId == accountOpenId ? toUserId : fromUserId
        let c = content
        func make(_ kind: EventKind, _ openId: String, at: Int64?, channel: Channel, ref: String? = nil,
                   attributes: [String: String] = [:], suffix: String = "") -> FanEvent? {
            guard !openId.isEmpty else { return nil }
            return FanEvent(id: eventId + suffix, kind: kind, openId: openId, occurredAt: at ?? receivedAt,
                            channel: channel, ref: ref, attributes: attributes)
        }
        switch self.event {
        case "new_follow_action":
            let kind: EventKind = c.int("action_type") == 1 ? .follow : .unfollow
            return [make(kind, fan, at: c.millis("action_time"), channel: .unknown)].compactMap { $0 }
        case "new_video_digg":
            guard c.int("action_type") == 1 else { return [] }
            return [make(.like, fan, at: c.millis("action_time"), channel: .unknown, ref: c.string("item_id"))].compactMap { $0 }
        case "item_comment_reply":
            let commenter = c.string("comment_user_id").flatMap { $0.isEmpty ? nil : $0 } ?? fan
            return [make(.comment, commenter, at: c.millis("create_time"), channel: .unknown, ref: c.string("reply_to_item_id"))].compactMap { $0 }
        case "im_receive_msg":
            // An echo of a message our app sent carries our client_key as `source`.
            let echo = !(c.string("source") ?? "").isEmpty
            return [make(echo ? .dmSent : .dmReceived, fan, at: c.millis("create_time"), channel: .dm,
                          ref: c.string("conversation_short_id"), attributes: nickname(of: fan))].compactMap { $0 }
        case "im_enter_direct_msg":
            return [make(.dmEntered, fan, at: c.millis("create_time"), channel: .dm,
                          ref: c.string("conversation_short_id"), attributes: nickname(of: fan))].compactMap { $0 }
        case "im_group_receive_msg":
            var events = [make(.groupMessage, fan, at: c.millis("create_time"), channel: .group, ref: c.string("conversation_short_id"))]
            if let card = c.raw["card_data"] as? [[String: Any]], !card.isEmpty {
                var fields: [String: String] = [:]
                for item in card {
                    if let label = item["label"] as? String, let value = item["value"] as? String {
                        fields[Self.leadFieldNames[label] ?? label] = value
                    }
                }
                events.append(make(.leadSubmitted, fan, at: c.millis("create_time"), channel: .group, ref: c.string("card_id"),
                                    attributes: fields, suffix: ":lead"))
            }
            return events.compactMap { $0 }
        case "group_fans_event":
            let member = c.string("open_id").flatMap { $0.isEmpty ? nil : $0 } ?? fan
            let kind: EventKind = c.int("group_type") == 1 ? .groupJoin : .groupLeave
            return [make(kind, member, at: c.millis("create_time"), channel: .group, ref: c.string("im_group_id"))].compactMap { $0 }
        default:
            return []
        }
    }

    /// Lead-card labels as the platform shows them, mapped to stable attribute names.
    static let leadFieldNames = ["姓名": "name", "手机号": "phone", "城市": "city", "电话": "phone"]

    private func nickname(of openId: String) -> [String: String] {
        guard let infos = content.raw["user_infos"] as? [[String: Any]],
              let me = infos.first(where: { $0["open_id"] as? String == openId }),
              let name = me["nick_name"] as? String, !name.isEmpty else { return [:] }
        return ["nickname": name]
    }
}

/// A parsed JSON object with typed accessors tolerant of the platform's mixed encodings.
public struct JSONObject: @unchecked Sendable {
    // Only ever holds values produced by JSONSerialization, which are immutable.
    public let raw: [String: Any]

    init(_ raw: [String: Any]) { self.raw = raw }

    func string(_ key: String) -> String? { raw[key] as? String }

    func int(_ key: String) -> Int64? {
        switch raw[key] {
        case let n as NSNumber: n.int64Value
        case let s as String: Int64(s)
        default: nil
        }
    }

    /// A platform time in milliseconds: IM events send milliseconds, follow and digg events seconds;
    /// anything below 10^11 is taken as seconds.
    func millis(_ key: String) -> Int64? {
        guard let t = int(key), t > 0 else { return nil }
        return t < 100_000_000_000 ? t * 1000 : t
    }
}
