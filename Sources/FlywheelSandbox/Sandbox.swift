import FlywheelDomain
import FlywheelPlatform
import FlywheelSimulator
import Foundation

/// A signed push exactly as the platform sends it: the raw body, its `Msg-Id` and its
/// `X-Douyin-Signature`.
public struct Delivery: Sendable, Equatable {
    public var msgId: String
    public var body: [UInt8]
    public var signature: String

    public init(msgId: String, body: [UInt8], signature: String) {
        self.msgId = msgId
        self.body = body
        self.signature = signature
    }
}

/// What the platform makes of a world event: a webhook push (for what the platform pushes:
/// follows, likes, comments, DMs, fan groups, lead cards in groups, orders paid at a store through
/// local services), or a record the enterprise syncs from the platform's data APIs (views, lives,
/// shop orders and refunds, coupons, homepage leads), to be
/// imported as a normalized event.
public enum PlatformOutput: Sendable, Equatable {
    case delivery(Delivery)
    case sync(account: Int, event: FanEvent)
}

/// The simulated platform's side of the wire (docs/simulation.md): one enterprise app and its
/// accounts. Pushes carry the real envelope, headers and signature, `content` as an object or as
/// a JSON string exactly where the platform uses each, and are repeated or delivered out of order
/// at the configured rates, so nothing downstream can tell the sandbox from the platform.
public struct Sandbox: Sendable {
    public var clientKey: String
    public var clientSecret: String
    /// The accounts' open_ids, by the world's account index.
    public var accountOpenIds: [String]
    /// Share of pushes delivered a second time, a little later.
    public var duplicateRate: Double
    /// Share of pushes swapped with the next one.
    public var reorderRate: Double
    private var rng: SeededGenerator

    public init(clientKey: String, clientSecret: String, accountOpenIds: [String], duplicateRate: Double = 0.02, reorderRate: Double = 0.02, seed: UInt64) {
        self.clientKey = clientKey
        self.clientSecret = clientSecret
        self.accountOpenIds = accountOpenIds
        self.duplicateRate = duplicateRate
        self.reorderRate = reorderRate
        rng = SeededGenerator(seed: seed)
    }

    /// The platform's output for a day of world events, in delivery order.
    public mutating func outputs(_ events: [WorldEvent]) -> [PlatformOutput] {
        var outputs: [PlatformOutput] = []
        var repeats: [(due: Int, delivery: Delivery)] = []
        for (i, worldEvent) in events.enumerated() {
            guard let body = push(worldEvent) else {
                outputs.append(.sync(account: worldEvent.account, event: worldEvent.event))
                continue
            }
            let bytes = Array((try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
            let delivery = Delivery(msgId: worldEvent.event.id, body: bytes, signature: WebhookSignature.sign(body: bytes, secret: clientSecret))
            if draw() < reorderRate, case .delivery(let previous)? = outputs.last {
                outputs[outputs.count - 1] = .delivery(delivery)
                outputs.append(.delivery(previous))
            } else {
                outputs.append(.delivery(delivery))
            }
            if draw() < duplicateRate { repeats.append((i + 1 + Int(draw() * 20), delivery)) }
            while let first = repeats.first, first.due <= i {
                outputs.append(.delivery(first.delivery))
                repeats.removeFirst()
            }
        }
        outputs += repeats.map { .delivery($0.delivery) }
        return outputs
    }

    private mutating func draw() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }

    /// The webhook body for an event the platform pushes, or nil for one it does not.
    func push(_ worldEvent: WorldEvent) -> [String: Any]? {
        let e = worldEvent.event
        let account = accountOpenIds[worldEvent.account]
        let seconds = e.occurredAt / 1_000
        func envelope(_ event: String, from: String = e.openId, to: String? = nil, _ content: Any) -> [String: Any] {
            ["event": event, "client_key": clientKey, "from_user_id": from, "to_user_id": to ?? account,
             "log_id": "\(e.occurredAt)" + e.id.filter(\.isNumber), "content": content]
        }
        let string = SandboxAPI.string
        let users: [[String: Any]] = [["open_id": e.openId, "nick_name": e.attributes["nickname"] ?? "", "avatar": ""],
                                      ["open_id": account, "nick_name": "", "avatar": ""]]
        switch e.kind {
        case .follow, .unfollow:
            return envelope("new_follow_action", string(["action_type": e.kind == .follow ? 1 : 2, "action_time": seconds]))
        case .like:
            return envelope("new_video_digg", string(["action_type": 1, "action_time": seconds, "item_id": e.ref ?? ""]))
        case .comment:
            return envelope("item_comment_reply", ["comment_id": e.id, "comment_user_id": e.openId, "content": "👍", "create_time": seconds,
                                                   "reply_to_item_id": e.ref ?? "", "digg_count": 0, "reply_comment_total": 0])
        case .dmReceived:
            return envelope("im_receive_msg", [
                "conversation_short_id": e.ref ?? "", "server_message_id": e.id, "conversation_type": 1, "create_time": e.occurredAt,
                "message_type": "text", "text": e.attributes["text"] ?? "请问还有货吗", "source": "", "scene_type": 100, "user_infos": users])
        case .dmSent:
            // The account's people answer in the platform's app: pushed as im_send_msg.
            return envelope("im_send_msg", from: account, to: e.openId, [
                "conversation_short_id": e.ref ?? "", "server_message_id": e.id, "conversation_type": 1, "create_time": e.occurredAt,
                "message_type": "text", "text": e.attributes["text"] ?? "您好，已为您安排", "scene_type": 100, "user_infos": users])
        case .dmEntered:
            return envelope("im_enter_direct_msg", string([
                "conversation_short_id": e.ref ?? "", "server_message_id": e.id, "conversation_type": 1, "create_time": e.occurredAt,
                "scene_type": 4, "user_infos": users]))
        case .dmGranted, .dmRevoked:
            // Granted for the platform's 30 days.
            return envelope("im_authorize", string(["auth_status": e.kind == .dmGranted ? 1 : 0, "create_time": seconds, "expire_time": seconds + 30 * 86_400,
                                                    "operation_type": 1, "source": "im.direct_message.bind"]))
        case .groupJoin, .groupLeave:
            return envelope("group_fans_event", string([
                "open_id": e.openId, "im_group_id": e.ref ?? "", "group_type": e.kind == .groupJoin ? 1 : 2, "create_time": e.occurredAt,
                "create_group_type": "5"]))
        case .groupMessage:
            return envelope("im_group_receive_msg", ["conversation_short_id": e.ref ?? "", "server_message_id": e.id, "conversation_type": 2,
                                                     "create_time": e.occurredAt, "message_type": "text", "text": "打卡"])
        case .leadSubmitted where e.channel == .group:
            // A lead card filled in the fan group: one push, a group message carrying the card.
            let labels = ["name": "姓名", "phone": "手机号", "city": "城市"]
            return envelope("im_group_receive_msg", [
                "conversation_short_id": "group-\(account)", "server_message_id": e.id, "conversation_type": 2, "create_time": e.occurredAt,
                "message_type": "card", "card_id": e.ref ?? "", "card_status": 1,
                "card_data": e.attributes.sorted { $0.key < $1.key }.compactMap { key, value in labels[key].map { ["label": $0, "value": value] } }])
        case .orderPaid where e.attributes["via"] == "store":
            // An order paid at the store through local services: the platform pushes it (pay_success).
            return envelope("pay_success", string(["app_id": clientKey, "status": "SUCCESS", "order_id": e.ref ?? e.id, "out_order_no": "ext-" + (e.ref ?? e.id),
                                                   "total_amount": e.amount, "discount_amount": 0, "pay_time": seconds]))
        default:
            return nil
        }
    }
}
