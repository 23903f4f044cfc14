import FlywheelDomain
import Foundation

/// A platform push, decoded once into what it means. Everything Flywheel learns from the platform
/// (fan events today; conversations, orders and groups as they come) is a function of this.
public enum PlatformEvent: Sendable, Equatable {
    /// `verify_webhook`: the handshake, answered and never stored as an event.
    case handshake
    /// `new_follow_action`: the fan followed (or unfollowed) the account.
    case follow(Follow)
    /// `new_video_digg`: the fan liked (or unliked) one of the account's videos.
    case videoLike(VideoLike)
    /// `item_comment_reply`: a comment on one of the account's videos.
    case comment(Comment)
    /// `im_receive_msg`: a direct message the fan sent, or the echo of one sent through the API.
    case messageReceived(DirectMessage)
    /// `im_send_msg`: a message the account sent from the platform's own app.
    case messageSent(DirectMessage)
    /// `im_enter_direct_msg`: the fan opened a conversation with the account.
    case conversationEntered(DirectMessage)
    /// `im_group_receive_msg`: a member wrote in a fan group (a lead card when it carries one).
    case groupMessage(GroupMessage)
    /// `im_group_send_msg`: the account wrote to a fan group.
    case groupMessageSent(GroupMessage)
    /// `group_fans_event`: a fan joined or left a fan group.
    case groupMembership(GroupMembership)
    /// `im_authorize`: the fan allowed (or withdrew) the account's proactive messages.
    case messagesAllowed(Permission)
    /// `coupon_claim` (the sandbox's claim callback): the fan claimed a coupon sent to it.
    case couponClaimed(CouponClaim)
    /// `enter_group_audit_change`: a fan applied to join a fan group that audits entries.
    case groupApplication(GroupApplication)
    /// `post_open`, `post_click` (the sandbox's; the platform reports neither): a fan opened a
    /// subscription post, or clicked its tool.
    case postAction(PostAction)
    /// `live_booking` (the sandbox's; the platform has no open API for bookings): a fan booked a live.
    case liveBooking(LiveBooking)
    /// `pay_success` (the local-services order push): the fan paid an order, or cancelled paying.
    case orderPaid(OrderPayment)
    /// Authorizations, new videos and anything unknown: stored, no fan event.
    case other(event: String)

    public struct Follow: Sendable, Equatable {
        public var from: String, to: String
        public var follows: Bool
        public var at: Int64?
    }

    public struct VideoLike: Sendable, Equatable {
        public var from: String, to: String
        public var liked: Bool
        public var itemId: String?
        public var at: Int64?
    }

    public struct Comment: Sendable, Equatable {
        public var from: String, to: String
        /// The commenter when the platform names one apart from the sender.
        public var commenter: String?
        public var itemId: String?
        public var at: Int64?
    }

    public struct DirectMessage: Sendable, Equatable {
        public var from: String, to: String
        public var conversationId: String?
        /// What a reply within 24 hours answers (`msg_id` of the send API).
        public var serverMessageId: String?
        /// `text`, `image`, `video`, `emoji`, a card...
        public var messageType: String?
        public var text: String?
        /// Set when the message was sent through the API: our own send, echoed back.
        public var sourceApp: String?
        /// The fan came from an ad (`ad_info`): paid traffic, the commercial domain.
        public var fromAd: Bool
        public var nickname: String?
        public var at: Int64?
        /// A lead card the fan filled in within the thread: its id and fields by stable name.
        public var cardId: String? = nil
        public var lead: [String: String] = [:]
    }

    public struct GroupMessage: Sendable, Equatable {
        public var from: String, to: String
        public var conversationId: String?
        public var messageType: String?
        public var text: String?
        public var cardId: String?
        /// A lead card's fields by stable name (`name`, `phone`, `city`), when one was submitted.
        public var lead: [String: String]
        public var at: Int64?
    }

    public struct Permission: Sendable, Equatable {
        public var from: String, to: String
        public var granted: Bool
        /// Until when, ms.
        public var until: Int64?
        public var at: Int64?
    }

    public struct CouponClaim: Sendable, Equatable {
        public var from: String, to: String
        public var activityId: String?
        public var couponMetaId: String?
        public var at: Int64?
    }

    public struct GroupApplication: Sendable, Equatable {
        public var from: String, to: String
        public var applyId: String?
        public var groupId: String?
        public var nickname: String?
        public var at: Int64?
    }

    public struct PostAction: Sendable, Equatable {
        public var from: String, to: String
        public var postId: String?
        public var clicked: Bool
        public var at: Int64?
    }

    public struct LiveBooking: Sendable, Equatable {
        public var from: String, to: String
        public var liveId: String?
        public var at: Int64?
    }

    public struct OrderPayment: Sendable, Equatable {
        public var from: String, to: String
        public var orderId: String?
        /// Paid: the order's total less its discount, in fen.
        public var amount: Int64
        /// `status`: SUCCESS, or CANCEL when the fan did not pay after all.
        public var paid: Bool
        public var itemId: String?
        public var at: Int64?
    }

    public struct GroupMembership: Sendable, Equatable {
        public var from: String, to: String
        public var member: String?
        public var groupId: String?
        public var joined: Bool
        public var at: Int64?
    }

    /// Lead-card labels as the platform shows them, mapped to stable attribute names.
    static let leadFieldNames = ["姓名": "name", "手机号": "phone", "城市": "city", "电话": "phone"]

    public init(_ envelope: WebhookEnvelope) {
        let c = envelope.content
        let (from, to) = (envelope.fromUserId, envelope.toUserId)
        // A lead card's fields, in a DM or a group message alike.
        var lead: [String: String] = [:]
        for item in c.raw["card_data"] as? [[String: Any]] ?? [] {
            if let label = item["label"] as? String, let value = item["value"] as? String { lead[Self.leadFieldNames[label] ?? label] = value }
        }
        func message() -> DirectMessage {
            let nickname = (c.raw["user_infos"] as? [[String: Any]])?.first { $0["open_id"] as? String == from }?["nick_name"] as? String
            return DirectMessage(from: from, to: to, conversationId: c.string("conversation_short_id"), serverMessageId: c.string("server_message_id"),
                                 messageType: c.string("message_type"), text: c.string("text"), sourceApp: c.string("source"),
                                 fromAd: c.present("ad_info"), nickname: nickname.flatMap { $0.isEmpty ? nil : $0 }, at: c.millis("create_time"),
                                 cardId: c.string("card_id"), lead: lead)
        }
        func groupMessage() -> GroupMessage {
            GroupMessage(from: from, to: to, conversationId: c.string("conversation_short_id"), messageType: c.string("message_type"),
                         text: c.string("text"), cardId: c.string("card_id"), lead: lead, at: c.millis("create_time"))
        }
        switch envelope.event {
        case "verify_webhook": self = .handshake
        case "new_follow_action": self = .follow(Follow(from: from, to: to, follows: c.int("action_type") == 1, at: c.millis("action_time")))
        case "new_video_digg":
            self = .videoLike(VideoLike(from: from, to: to, liked: c.int("action_type") == 1, itemId: c.string("item_id"), at: c.millis("action_time")))
        case "item_comment_reply":
            self = .comment(Comment(from: from, to: to, commenter: c.string("comment_user_id"), itemId: c.string("reply_to_item_id"), at: c.millis("create_time")))
        case "im_receive_msg": self = .messageReceived(message())
        case "im_send_msg": self = .messageSent(message())
        case "im_enter_direct_msg": self = .conversationEntered(message())
        case "im_group_receive_msg": self = .groupMessage(groupMessage())
        case "im_group_send_msg": self = .groupMessageSent(groupMessage())
        case "group_fans_event":
            self = .groupMembership(GroupMembership(from: from, to: to, member: c.string("open_id"), groupId: c.string("im_group_id"),
                                                    joined: c.int("group_type") == 1, at: c.millis("create_time")))
        case "coupon_claim":
            self = .couponClaimed(CouponClaim(from: from, to: to, activityId: c.string("activity_id"), couponMetaId: c.string("coupon_meta_id"),
                                              at: c.millis("create_time")))
        case "enter_group_audit_change":
            self = .groupApplication(GroupApplication(from: from, to: to, applyId: c.string("apply_id"), groupId: c.string("group_id"),
                                                      nickname: c.string("user_nicker"), at: c.millis("create_time")))
        case "post_open", "post_click":
            self = .postAction(PostAction(from: from, to: to, postId: c.string("post_id"), clicked: envelope.event == "post_click", at: c.millis("create_time")))
        case "live_booking":
            self = .liveBooking(LiveBooking(from: from, to: to, liveId: c.string("live_id"), at: c.millis("create_time")))
        case "pay_success":
            self = .orderPaid(OrderPayment(from: from, to: to, orderId: c.string("order_id"),
                                           amount: max(0, (c.int("total_amount") ?? 0) - (c.int("discount_amount") ?? 0)),
                                           paid: (c.string("status") ?? "SUCCESS") == "SUCCESS", itemId: c.string("item_id"),
                                           at: c.millis("pay_time") ?? c.millis("create_time")))
        case "im_authorize":
            self = .messagesAllowed(Permission(from: from, to: to, granted: c.int("auth_status") == 1, until: c.millis("expire_time"), at: c.millis("create_time")))
        default: self = .other(event: envelope.event)
        }
    }

    /// The longest message text kept on an event; longer texts are cut (the platform's own limit
    /// is far lower, and an event must stay within its bounds to be stored at all).
    static let maxText = 2_000

    /// The fan events this push means for the account whose open_id is `accountOpenId`. `eventId`
    /// identifies the delivery; the fan is whichever side is not the account.
    public func fanEvents(accountOpenId: String, eventId: String, receivedAt: Int64) -> [FanEvent] {
        func fan(_ from: String, _ to: String) -> String { from == accountOpenId ? to : from }
        func make(_ kind: EventKind, _ openId: String, at: Int64?, domain: SourceDomain? = nil, channel: Channel, ref: String? = nil,
                  attributes: [String: String] = [:], suffix: String = "") -> FanEvent? {
            guard !openId.isEmpty else { return nil }
            return FanEvent(id: eventId + suffix, kind: kind, openId: openId, occurredAt: at ?? receivedAt, domain: domain,
                            channel: channel, ref: ref, attributes: attributes)
        }
        func attributes(_ m: DirectMessage) -> [String: String] {
            var a: [String: String] = [:]
            if let nickname = m.nickname, m.from != accountOpenId { a["nickname"] = nickname }
            if let type = m.messageType { a["message_type"] = type }
            if let text = m.text { a["text"] = String(text.prefix(Self.maxText)) }
            // What a reply names, and what an echo of Flywheel's own send is matched by.
            if let id = m.serverMessageId, id.utf8.count <= EventBounds.maxIdLength { a["message_id"] = id }
            return a
        }
        switch self {
        case .follow(let f):
            return [make(f.follows ? .follow : .unfollow, fan(f.from, f.to), at: f.at, channel: .unknown)].compactMap { $0 }
        case .videoLike(let l):
            guard l.liked else { return [] }
            return [make(.like, fan(l.from, l.to), at: l.at, channel: .unknown, ref: l.itemId)].compactMap { $0 }
        case .comment(let c):
            return [make(.comment, c.commenter ?? fan(c.from, c.to), at: c.at, channel: .unknown, ref: c.itemId)].compactMap { $0 }
        case .messageReceived(let m):
            // An echo of a message our app sent carries our client_key as `source`.
            let kind: EventKind = m.sourceApp == nil && m.from != accountOpenId ? .dmReceived : .dmSent
            var a = attributes(m)
            if kind == .dmSent { a["sent_by"] = "api" }
            var events = [make(kind, fan(m.from, m.to), at: m.at, domain: m.fromAd ? .commercial : nil, channel: .dm, ref: m.conversationId, attributes: a)]
            if kind == .dmReceived, !m.lead.isEmpty {
                events.append(make(.leadSubmitted, fan(m.from, m.to), at: m.at, domain: m.fromAd ? .commercial : nil, channel: .dm, ref: m.cardId,
                                   attributes: m.lead, suffix: ":lead"))
            }
            return events.compactMap { $0 }
        case .messageSent(let m):
            var a = attributes(m)
            a["sent_by"] = "app"
            return [make(.dmSent, fan(m.from, m.to), at: m.at, channel: .dm, ref: m.conversationId, attributes: a)].compactMap { $0 }
        case .conversationEntered(let m):
            return [make(.dmEntered, fan(m.from, m.to), at: m.at, domain: m.fromAd ? .commercial : nil, channel: .dm,
                         ref: m.conversationId, attributes: attributes(m))].compactMap { $0 }
        case .groupMessage(let g):
            var events = [make(.groupMessage, fan(g.from, g.to), at: g.at, channel: .group, ref: g.conversationId)]
            if !g.lead.isEmpty {
                events.append(make(.leadSubmitted, fan(g.from, g.to), at: g.at, channel: .group, ref: g.cardId, attributes: g.lead, suffix: ":lead"))
            }
            return events.compactMap { $0 }
        case .groupMembership(let m):
            let kind: EventKind = m.joined ? .groupJoin : .groupLeave
            return [make(kind, m.member ?? fan(m.from, m.to), at: m.at, channel: .group, ref: m.groupId)].compactMap { $0 }
        case .messagesAllowed(let p):
            let at = p.at ?? receivedAt
            // The platform's grants last 30 days.
            let until = p.until ?? at.saturatingAdd(30 * 86_400_000)
            return [make(p.granted ? .dmGranted : .dmRevoked, fan(p.from, p.to), at: p.at, channel: .dm,
                         attributes: p.granted ? ["until": String(until)] : [:])].compactMap { $0 }
        case .couponClaimed(let claim):
            return [make(.couponClaimed, fan(claim.from, claim.to), at: claim.at, channel: .dm, ref: claim.couponMetaId,
                         attributes: claim.activityId.map { ["activity_id": $0] } ?? [:])].compactMap { $0 }
        case .groupApplication(let a):
            guard let applyId = a.applyId, let groupId = a.groupId else { return [] }
            var attributes = ["apply_id": applyId]
            if let nickname = a.nickname, !nickname.isEmpty { attributes["nickname"] = nickname }
            return [make(.groupApplied, fan(a.from, a.to), at: a.at, channel: .group, ref: groupId, attributes: attributes)].compactMap { $0 }
        case .postAction(let p):
            guard let postId = p.postId else { return [] }
            return [make(p.clicked ? .postClicked : .postOpened, fan(p.from, p.to), at: p.at, channel: .subscription, ref: postId)].compactMap { $0 }
        case .liveBooking(let b):
            guard let live = b.liveId else { return [] }
            return [make(.liveBooked, fan(b.from, b.to), at: b.at, channel: .liveFeed, ref: live)].compactMap { $0 }
        case .orderPaid(let o):
            // Identified by the order, not the delivery: the push and a later sync of one order are one event.
            let openId = fan(o.from, o.to)
            guard o.paid, let orderId = o.orderId, !openId.isEmpty else { return [] }
            var attributes = [Order.sourceAttribute: OrderSource.localServices.rawValue]
            if let item = o.itemId { attributes["item_id"] = item }
            return [FanEvent(id: Order.paidEventId(orderId), kind: .orderPaid, openId: openId, occurredAt: o.at ?? receivedAt, channel: .unknown,
                             amount: min(o.amount, EventBounds.maxAmount), ref: orderId, attributes: attributes)]
        case .handshake, .groupMessageSent, .other:
            return []
        }
    }
}

extension JSONObject {
    /// Whether the key holds something: a non-empty object, array, string or a number.
    func present(_ key: String) -> Bool {
        switch raw[key] {
        case nil, is NSNull: false
        case let s as String: !s.isEmpty && s != "{}"
        case let d as [String: Any]: !d.isEmpty
        case let a as [Any]: !a.isEmpty
        default: true
        }
    }
}
