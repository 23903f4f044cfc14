import Crypto
import FlywheelDomain
import Foundation

/// A shop's self-use app on the shop platform's open API (`openapi-fxg.jinritemai.com`): the
/// shop it serves, and the app's key and secret, which sign every call.
public struct ShopCredentials: Sendable, Equatable {
    public var shopId: String
    public var appKey: String
    public var appSecret: String

    public init(shopId: String, appKey: String, appSecret: String) {
        self.shopId = shopId
        self.appKey = appKey
        self.appSecret = appSecret
    }
}

/// The shop's access token (`token.create` for a self-use app: no consent page, the shop id is the grant).
public struct ShopToken: Sendable, Equatable {
    public var accessToken: String
    /// Seconds.
    public var expiresIn: Int64

    public init(accessToken: String, expiresIn: Int64) {
        self.accessToken = accessToken
        self.expiresIn = expiresIn
    }
}

/// One page of `order.searchList`, orders by update time, oldest first.
public struct ShopOrderQuery: Sendable, Equatable {
    /// Seconds, inclusive.
    public var updatedFrom: Int64
    /// Seconds, exclusive.
    public var updatedTo: Int64
    /// From 0.
    public var page: Int
    public var size: Int

    public init(updatedFrom: Int64, updatedTo: Int64, page: Int, size: Int = ShopOrderQuery.maxSize) {
        self.updatedFrom = updatedFrom
        self.updatedTo = updatedTo
        self.page = page
        self.size = size
    }

    /// The platform's largest page.
    public static let maxSize = 100
    /// The platform's longest window of one query.
    public static let maxWindowSeconds: Int64 = 90 * 86_400
}

public struct ShopOrderPage: Sendable, Equatable {
    /// The orders that could be read (one without an id, or with times out of bounds, is left out).
    public var orders: [ShopOrder]
    /// What the page held, orders left out included: a page shorter than asked is the last.
    public var entries: Int

    public init(orders: [ShopOrder], entries: Int) {
        self.orders = orders
        self.entries = entries
    }
}

/// A shop order as `order.searchList` gives it: the parent order and its SKU orders, amounts in
/// fen, times in seconds.
public struct ShopOrder: Sendable, Equatable {
    public var orderId: String
    /// The buyer as the shop names it (`doudian_open_id`).
    public var buyer: String
    /// 1 waiting for payment, 2 paid and being prepared, 3 shipped, 4 cancelled, 5 completed.
    public var status: Int
    public var payAmount: Int64
    /// 0 when never paid.
    public var payTime: Int64
    public var updateTime: Int64
    public var items: [Item]

    public struct Item: Sendable, Equatable {
        public var skuOrderId: String
        public var skuId: String
        public var title: String
        public var quantity: Int
        public var payAmount: Int64
        /// The live room it was bought in; nil for other places.
        public var roomId: String?
        /// `after_sale_info.refund_status`: 3 is a refund paid out.
        public var refundStatus: Int

        public init(skuOrderId: String, skuId: String, title: String, quantity: Int, payAmount: Int64, roomId: String?, refundStatus: Int) {
            self.skuOrderId = skuOrderId
            self.skuId = skuId
            self.title = title
            self.quantity = quantity
            self.payAmount = payAmount
            self.roomId = roomId
            self.refundStatus = refundStatus
        }
    }

    public init(orderId: String, buyer: String, status: Int, payAmount: Int64, payTime: Int64, updateTime: Int64, items: [Item]) {
        self.orderId = orderId
        self.buyer = buyer
        self.status = status
        self.payAmount = payAmount
        self.payTime = payTime
        self.updateTime = updateTime
        self.items = items
    }

    public static let refundPaid = 3
    public static let cancelled = 4

    /// The order's payment and refunds as events of the log, by the same ids the other doors use,
    /// so an order synced again (or pushed too) is one order. Nothing for an order never paid. A
    /// SKU order refunded is a refund of its amount, by the SKU order's id; a paid order cancelled
    /// is refunded item by item the same way, so an item reported refunded later is the same
    /// refund. `recorded`: the refunds of this order already in the log (event id → fen), which
    /// are not made again and count against what is left to refund.
    public func events(recorded: [String: Int64] = [:]) -> [FanEvent] {
        guard payTime > 0, payAmount > 0 else { return [] }
        let paidAt = payTime * 1_000
        let channel: Channel = items.contains { $0.roomId != nil } ? .liveFeed : .unknown
        var attributes = [Order.sourceAttribute: OrderSource.shop.rawValue]
        var lines = items.prefix(OrderLine.maxLines).map { item in
            OrderLine(sku: item.skuId, title: String(item.title.prefix(100)), quantity: min(max(item.quantity, 1), OrderLine.quantities.upperBound),
                      priceFen: item.payAmount / Int64(max(item.quantity, 1)))
        }
        // Lines that do not fit one attribute are cut from the end: the payment matters more than its detail.
        while let json = try? JSONEncoder().encode(Array(lines)), !lines.isEmpty {
            if json.count <= EventBounds.maxAttributeValueLength { attributes[Order.linesAttribute] = String(decoding: json, as: UTF8.self); break }
            lines.removeLast()
        }
        var events = [FanEvent(id: Order.paidEventId(orderId), kind: .orderPaid, openId: buyer, occurredAt: paidAt, channel: channel, amount: payAmount,
                               ref: orderId, attributes: attributes)]
        let refundable = status == Self.cancelled ? items : items.filter { $0.refundStatus == Self.refundPaid }
        var refunds = refundable.filter { $0.payAmount > 0 }.map { ($0.skuOrderId, $0.payAmount) }
        if refunds.isEmpty, status == Self.cancelled { refunds = [(orderId, payAmount)] }
        var refunded = recorded.values.reduce(0, +)
        for (refundId, amount) in refunds {
            let id = Order.refundEventId(orderId, refundId: refundId)
            let share = min(amount, payAmount - refunded)
            guard recorded[id] == nil, share > 0 else { continue }
            refunded += share
            events.append(FanEvent(id: id, kind: .orderRefunded, openId: buyer, occurredAt: max(updateTime * 1_000, paidAt), channel: channel, amount: share,
                                   ref: orderId, attributes: refunded < payAmount ? [Order.partialAttribute: "1"] : [:]))
        }
        return events
    }

    /// Reads one order of the answer; nil when it lacks what an order needs.
    static func read(_ o: [String: Any]) -> ShopOrder? {
        guard let id = ShopAPI.text(o["order_id"]), !id.isEmpty else { return nil }
        let items = (o["sku_order_list"] as? [[String: Any]] ?? []).compactMap { s -> Item? in
            guard let skuOrder = ShopAPI.text(s["order_id"]) else { return nil }
            let room = ShopAPI.text(s["room_id"]).flatMap { $0 == "0" || $0.isEmpty ? nil : $0 }
            return Item(skuOrderId: skuOrder, skuId: ShopAPI.text(s["sku_id"]) ?? skuOrder, title: s["product_name"] as? String ?? "",
                        quantity: OpenAPI.integer(s["item_num"]) ?? 1, payAmount: Int64(OpenAPI.integer(s["pay_amount"]) ?? 0), roomId: room,
                        refundStatus: OpenAPI.integer((s["after_sale_info"] as? [String: Any])?["refund_status"]) ?? 0)
        }
        // Seconds within the log's bounds (a time past them would overflow in milliseconds, or move the sync past now).
        let seconds = (EventBounds.earliest / 1_000)..<(EventBounds.latest / 1_000)
        let payTime = Int64(OpenAPI.integer(o["pay_time"]) ?? 0), updateTime = Int64(OpenAPI.integer(o["update_time"]) ?? 0)
        guard payTime == 0 || seconds.contains(payTime), seconds.contains(updateTime) else { return nil }
        return ShopOrder(orderId: id, buyer: ShopAPI.text(o["doudian_open_id"]) ?? "", status: OpenAPI.integer(o["order_status"]) ?? 0,
                         payAmount: Int64(OpenAPI.integer(o["pay_amount"]) ?? 0), payTime: payTime, updateTime: updateTime, items: items)
    }
}

/// The shop platform's wire: `POST {base}/{method with / for .}` with the app key, method,
/// timestamp, version 2 and HMAC-SHA256 signature in the query and the parameters as JSON (keys
/// sorted) in the body; answers `{"code": 10000, "msg", "sub_code", "sub_msg", "data"}`.
struct ShopAPI: Sendable {
    let http: OpenAPI

    static let success = 10_000

    func call(_ method: String, params: [String: ShopParam], credentials: ShopCredentials, accessToken: String?, now: Int64) async throws -> [String: Any] {
        let paramJSON = Self.paramJSON(params)
        let timestamp = String(now / 1_000)
        var query: [(String, String)] = [("app_key", credentials.appKey), ("method", method), ("v", "2"), ("timestamp", timestamp),
                                         ("sign_method", "hmac-sha256"),
                                         ("sign", ShopSignature.sign(appKey: credentials.appKey, secret: credentials.appSecret, method: method, paramJSON: paramJSON,
                                                            timestamp: timestamp))]
        if let accessToken { query.append(("access_token", accessToken)) }
        let path = "/" + method.replacingOccurrences(of: ".", with: "/") + "?" + OpenAPI.form(query)
        let (status, body) = try await http.exchange(path, body: Array(paramJSON.utf8), contentType: "application/json", accessToken: nil)
        guard let root = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw PlatformError.unreachable("HTTP \(status) without a JSON answer")
        }
        let code = OpenAPI.integer(root["code"]) ?? -1
        guard code == Self.success else {
            let detail = [root["msg"] as? String, root["sub_msg"] as? String].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: ": ")
            if (root["sub_code"] as? String ?? "").contains("access-token") { throw PlatformError.invalidToken }
            throw PlatformError.other(errNo: code, message: detail.isEmpty ? "error \(code)" : detail)
        }
        return root["data"] as? [String: Any] ?? [:]
    }

    /// The parameters as the signature covers them: JSON with sorted keys, nothing escaped that need not be.
    static func paramJSON(_ params: [String: ShopParam]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(params)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Ids come as numbers or strings.
    static func text(_ value: Any?) -> String? {
        if let text = value as? String { return text }
        if let number = value as? NSNumber { return number.stringValue }
        return nil
    }
}

/// A parameter of a shop call: the platform takes numbers as numbers.
enum ShopParam: Encodable, Sendable {
    case text(String)
    case number(Int64)
    case flag(Bool)

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .number(let number): try container.encode(number)
        case .flag(let flag): try container.encode(flag)
        }
    }
}

/// The shop platform's signature of a call.
public enum ShopSignature {
    /// HMAC-SHA256, keyed by the app secret, of the secret, then `app_key`, `method`,
    /// `param_json`, `timestamp` and `v` (always 2) each followed by its value, then the secret
    /// again; lowercase hex.
    public static func sign(appKey: String, secret: String, method: String, paramJSON: String, timestamp: String) -> String {
        let message = secret + "app_key" + appKey + "method" + method + "param_json" + paramJSON + "timestamp" + timestamp + "v" + "2" + secret
        let mac = HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return Array(mac).hex
    }
}
