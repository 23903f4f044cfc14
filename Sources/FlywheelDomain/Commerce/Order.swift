/// Where an order came from.
public enum OrderSource: String, CaseIterable, Sendable {
    /// The shop's order API (search and detail), synced.
    case shop
    /// The local-services order push (`pay_success`).
    case localServices = "local_services"
    /// Sent to Flywheel's data-sync endpoint, or imported as events.
    case sync
}

/// One line of an order.
public struct OrderLine: Codable, Sendable, Equatable {
    public var sku: String
    public var title: String
    public var quantity: Int
    /// Price of one, in fen.
    public var priceFen: Int64

    public init(sku: String, title: String, quantity: Int, priceFen: Int64) {
        self.sku = sku
        self.title = title
        self.quantity = quantity
        self.priceFen = priceFen
    }

    public static let maxLines = 50
    public static let quantities = 1...100_000
}

/// A paid order of one account's fan, with what was refunded of it since.
public struct Order: Sendable, Equatable {
    public var id: String
    public var accountId: String
    public var openId: String
    public var source: OrderSource
    /// The touchpoint it was paid through: a live, a DM, the group, a post, the homepage.
    public var channel: Channel
    public var amountFen: Int64
    /// Refunds so far, never more than the amount.
    public var refundedFen: Int64
    public var couponId: String?
    public var lines: [OrderLine]
    public var paidAt: Int64

    public init(id: String, accountId: String, openId: String, source: OrderSource, channel: Channel, amountFen: Int64, refundedFen: Int64 = 0,
                couponId: String?, lines: [OrderLine], paidAt: Int64) {
        self.id = id
        self.accountId = accountId
        self.openId = openId
        self.source = source
        self.channel = channel
        self.amountFen = amountFen
        self.refundedFen = refundedFen
        self.couponId = couponId
        self.lines = lines
        self.paidAt = paidAt
    }

    public enum Status: String, Sendable {
        case paid
        case partlyRefunded = "partly_refunded"
        case refunded
    }

    public var status: Status { refundedFen == 0 ? .paid : refundedFen < amountFen ? .partlyRefunded : .refunded }

    /// What the order is worth after refunds.
    public var netFen: Int64 { amountFen - min(refundedFen, amountFen) }

    /// The event id of an order's payment: the same order, however often and from wherever it
    /// arrives, is one event in the log.
    public static func paidEventId(_ orderId: String) -> String { "order:" + orderId }

    /// The event id of one refund of an order.
    public static func refundEventId(_ orderId: String, refundId: String) -> String { "order:" + orderId + ":refund:" + refundId }

    /// The attribute that carries an order's lines on its `order_paid` event (compact JSON).
    public static let linesAttribute = "lines"
    public static let sourceAttribute = "source"
    public static let couponAttribute = "coupon"
    /// Set on an `order_refunded` event that leaves part of the order paid: the order still counts.
    public static let partialAttribute = "partial"
}
