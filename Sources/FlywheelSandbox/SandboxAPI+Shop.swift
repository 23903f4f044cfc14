import FlywheelDomain
import FlywheelPlatform
import Foundation
import Hummingbird

/// The shop platform's calls an account's shop needs: `POST /token/create` (a self-use app's
/// token, `grant_type=authorization_self`) and `POST /order/searchList` (orders by update time,
/// oldest first, 100 a page), signed as the shop platform signs them and answered
/// `{"code": 10000, "msg", "sub_code", "sub_msg", "data"}`. The shop sells what the simulation's
/// fans buy online (`sell`): an order paid, and later perhaps refunded.
extension SandboxAPI {
    /// A shop of the sandbox: its self-use app, and its orders as the platform gives them.
    struct SandboxShop: Sendable {
        var appKey: String
        var appSecret: String
        /// The account whose fans buy here.
        var account: String
        var orders: [String: ShopOrder] = [:]
    }

    static let shopSuccess = 10_000
    static let shopInvalidParameter = 40_004
    static let shopInvalidSignature = 30_001
    static let shopTokenLifetime: Int64 = 7 * 86_400

    /// Opens a shop whose self-use app has `appKey` and `appSecret`, selling to the fans of `account`.
    public func openShop(_ shopId: String, appKey: String, appSecret: String, account: String) {
        state.withLock { state in
            if state.shops[shopId] == nil { state.shops[shopId] = SandboxShop(appKey: appKey, appSecret: appSecret, account: account) }
        }
    }

    /// Whether the account's fans buy online in a shop of the sandbox.
    public func sellsOnline(for account: String) -> Bool {
        state.withLock { $0.shops.values.contains { $0.account == account } }
    }

    /// What a fan did in the account's shop: an order paid (one item, bought in the live room
    /// when paid during a live), or refunded whole. Other events are not the shop's.
    public func sell(_ event: FanEvent, account: String) {
        let seconds = event.occurredAt / 1_000
        state.withLock { state in
            guard let shopId = state.shops.first(where: { $0.value.account == account })?.key, let orderId = event.ref else { return }
            switch event.kind {
            case .orderPaid:
                guard state.shops[shopId]?.orders[orderId] == nil else { return }
                let item = ShopOrder.Item(skuOrderId: orderId + "-1", skuId: "sku-\(event.amount % 7)", title: "商品 \(event.amount / 100) 元", quantity: 1,
                                          payAmount: event.amount, roomId: event.channel == .liveFeed ? "room-\(account)-\(seconds / 86_400)" : nil, refundStatus: 0)
                state.shops[shopId]?.orders[orderId] = ShopOrder(orderId: orderId, buyer: event.openId, status: 2, payAmount: event.amount,
                                                                 payTime: seconds, updateTime: seconds, items: [item])
            case .orderRefunded:
                guard var order = state.shops[shopId]?.orders[orderId] else { return }
                order.status = ShopOrder.cancelled
                order.updateTime = max(order.updateTime, seconds)
                for i in order.items.indices { order.items[i].refundStatus = ShopOrder.refundPaid }
                state.shops[shopId]?.orders[orderId] = order
            default:
                return
            }
        }
    }

    /// Checks the app key, the signature over the body's parameters and, past `token.create`, the
    /// access token; then serves the call for the shop.
    func shopCall(_ request: Request, _ handle: (_ shopId: String, _ params: [String: Any]) -> (Int, String, [String: Any])) async throws -> Response {
        let query = request.uri.queryParameters
        let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
        let params = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        let appKey = query.get("app_key") ?? "", method = query.get("method") ?? "", timestamp = query.get("timestamp") ?? ""
        let outcome: (Int, String, [String: Any]) = state.withLock { state in
            guard let (shopId, shop) = state.shops.first(where: { $0.value.appKey == appKey }) else { return (Self.shopInvalidParameter, "app_key is unknown", [:]) }
            guard query.get("v") == "2", query.get("sign_method") == "hmac-sha256",
                  query.get("sign") == ShopSignature.sign(appKey: appKey, secret: shop.appSecret, method: method, paramJSON: body, timestamp: timestamp) else {
                return (Self.shopInvalidSignature, "the signature does not match", [:])
            }
            if method == "token.create" { return (0, "", ["shop_id": shopId]) }
            guard let token = query.get("access_token"), state.shopTokens[token] == shopId else {
                return (Self.shopInvalidParameter, "isv.access-token-no-existed", [:])
            }
            return (0, "", ["shop_id": shopId])
        }
        guard outcome.0 == 0, let shopId = outcome.2["shop_id"] as? String else { return shopAnswer(outcome.0, outcome.1) }
        let (code, message, data) = handle(shopId, params)
        return shopAnswer(code, message, data)
    }

    func shopToken(_ shopId: String, _ params: [String: Any]) -> (Int, String, [String: Any]) {
        guard params["grant_type"] as? String == "authorization_self", params["shop_id"] as? String == shopId else {
            return (Self.shopInvalidParameter, "grant_type must be authorization_self with the app's shop_id", [:])
        }
        let token = "shop." + Self.randomToken()
        state.withLock { $0.shopTokens[token] = shopId }
        return (Self.shopSuccess, "success", ["access_token": token, "expires_in": Self.shopTokenLifetime, "refresh_token": "r" + token, "shop_id": shopId])
    }

    func searchOrders(_ shopId: String, _ params: [String: Any]) -> (Int, String, [String: Any]) {
        let number = { (name: String) in (params[name] as? NSNumber)?.int64Value }
        let page = Int(number("page") ?? 0), size = Int(number("size") ?? 20)
        guard let start = number("update_time_start"), let end = number("update_time_end"), end > start, end - start <= ShopOrderQuery.maxWindowSeconds else {
            return (Self.shopInvalidParameter, "update_time_start and update_time_end must span at most 90 days", [:])
        }
        guard page >= 0, (1...ShopOrderQuery.maxSize).contains(size) else { return (Self.shopInvalidParameter, "page from 0, size 1 to 100", [:]) }
        let matching = state.withLock { state in
            (state.shops[shopId]?.orders.values ?? [:].values).filter { (start..<end).contains($0.updateTime) }
                .sorted { ($0.updateTime, $0.orderId) < ($1.updateTime, $1.orderId) }
        }
        let slice = matching.dropFirst(page * size).prefix(size)
        return (Self.shopSuccess, "success", ["page": page, "size": size, "total": matching.count, "shop_order_list": slice.map(Self.wire)])
    }

    /// An order as `order.searchList` writes it.
    static func wire(_ o: ShopOrder) -> [String: Any] {
        ["order_id": o.orderId, "doudian_open_id": o.buyer, "order_status": o.status, "pay_amount": o.payAmount, "pay_time": o.payTime,
         "update_time": o.updateTime, "order_amount": o.payAmount,
         "sku_order_list": o.items.map { i -> [String: Any] in
             ["order_id": i.skuOrderId, "parent_order_id": o.orderId, "sku_id": i.skuId, "product_name": i.title, "item_num": i.quantity,
              "pay_amount": i.payAmount, "room_id": i.roomId ?? "0", "after_sale_info": ["after_sale_status": i.refundStatus == 0 ? 0 : 12, "refund_status": i.refundStatus]]
         }]
    }

    func shopAnswer(_ code: Int, _ message: String, _ data: [String: Any] = [:]) -> Response {
        let body: [String: Any] = ["code": code, "msg": code == Self.shopSuccess ? "success" : "error", "sub_code": code == Self.shopSuccess ? "" : message,
                                   "sub_msg": code == Self.shopSuccess ? "" : message, "data": data, "log_id": String(now())]
        let bytes = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
