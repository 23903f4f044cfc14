import FlywheelDomain
import Foundation

/// Orders: one row an order id, projected from the log's `order_paid` events (the shop sync,
/// the local-services push, the data-sync endpoint all arrive as events); refunds apart.
public protocol OrderStore: Sendable {
    /// Newest first; `openId` narrows to one fan; `before` pages (the last order's paid time and id).
    func orders(of account: Account, openId: String?, from: Int64?, to: Int64?, before: (at: Int64, id: String)?, limit: Int) async throws -> [Order]
    func order(id: String, of account: Account) async throws -> Order?
    /// The refunds recorded of these orders: order id → refund event id → fen.
    func refunds(of account: Account, orderIds: [String]) async throws -> [String: [String: Int64]]
    /// The fans' touches from `from` (inclusive) to `to` (exclusive), by open_id.
    func touches(of account: Account, openIds: [String], from: Int64, to: Int64) async throws -> [String: [FanTouch]]
}

/// What a projection batch brings to orders: payments and refunds, each once by its id.
public struct OrderWrite: StatementWrite {
    public var paid: [Order] = []
    /// (refund id, order id, fen, time).
    public var refunds: [(id: String, orderId: String, amountFen: Int64, at: Int64)] = []

    public init() {}

    public var isEmpty: Bool { paid.isEmpty && refunds.isEmpty }

    public func statements(of account: Account) -> [SQLStatement] {
        let key: [Cell] = [.text(account.tenantId), .text(account.id)]
        let encoder = JSONEncoder()
        return SQLStatement.insert("orders", key: key, rows: paid.map { o in
            let lines = o.lines.isEmpty ? nil : (try? encoder.encode(o.lines)).map { String(decoding: $0, as: UTF8.self) }
            return [.text(o.id), .text(o.openId), .text(o.source.rawValue), .text(o.channel.rawValue), .int(o.amountFen), .nullable(o.couponId), .nullable(lines),
                    .int(o.paidAt)]
        }, then: "ON CONFLICT (tenant_id, account_id, order_id) DO NOTHING")
            + SQLStatement.insert("order_refunds", key: key, rows: refunds.map { [.text($0.id), .text($0.orderId), .int($0.amountFen), .int($0.at)] },
                                then: "ON CONFLICT (tenant_id, account_id, refund_id) DO NOTHING")
    }
}

/// The fans' touches a batch brings, one a fan, day and touchpoint, that orders are credited to.
/// `fan_touchpoints` is keyed by the account's stream in the log, which each store finds itself.
public struct FanTouchesWrite: ProjectionWrite {
    /// (open_id, day, touchpoint, first time, last time), in the table's key order.
    public var touches: [(openId: String, day: Int, touchpoint: SalesTouchpoint, firstAt: Int64, lastAt: Int64)]

    public init(touches: [(openId: String, day: Int, touchpoint: SalesTouchpoint, firstAt: Int64, lastAt: Int64)]) { self.touches = touches }

    /// A touch already kept widens to the earlier first time and the later last time.
    public static let widen = """
        first_at = CASE WHEN excluded.first_at < fan_touchpoints.first_at THEN excluded.first_at ELSE fan_touchpoints.first_at END,
        last_at = CASE WHEN excluded.last_at > fan_touchpoints.last_at THEN excluded.last_at ELSE fan_touchpoints.last_at END
        """
}

/// The orders context, written once for both databases.
extension OrderStore where Self: SQLStore {
    public func orders(of account: Account, openId: String?, from: Int64?, to: Int64?, before: (at: Int64, id: String)?, limit: Int) async throws -> [Order] {
        var conditions = ["o.tenant_id = ?", "o.account_id = ?"]
        var cells: [Cell] = [.text(account.tenantId), .text(account.id)]
        if let openId { conditions.append("o.open_id = ?"); cells.append(.text(openId)) }
        if let from { conditions.append("o.paid_at >= ?"); cells.append(.int(from)) }
        if let to { conditions.append("o.paid_at < ?"); cells.append(.int(to)) }
        if let before {
            conditions.append("(o.paid_at < ? OR (o.paid_at = ? AND o.order_id < ?))")
            cells += [.int(before.at), .int(before.at), .text(before.id)]
        }
        return try await runner.query(SQLStatement("""
            SELECT \(OrderRows.columns) FROM orders o WHERE \(conditions.joined(separator: " AND ")) ORDER BY o.paid_at DESC, o.order_id DESC LIMIT ?
            """, cells + [.int(Int64(limit))])).map(OrderRows.order)
    }

    public func order(id: String, of account: Account) async throws -> Order? {
        try await runner.query(SQLStatement("SELECT \(OrderRows.columns) FROM orders o WHERE o.tenant_id = ? AND o.account_id = ? AND o.order_id = ?",
                                            [.text(account.tenantId), .text(account.id), .text(id)])).first.map(OrderRows.order)
    }
}

extension OrderStore where Self: SQLStore {
    public func refunds(of account: Account, orderIds: [String]) async throws -> [String: [String: Int64]] {
        var refunds: [String: [String: Int64]] = [:]
        for chunk in SQLStatement.chunks(orderIds, of: 500) {
            for row in try await runner.query(SQLStatement("""
                SELECT order_id, refund_id, amount_fen FROM order_refunds WHERE tenant_id = ? AND account_id = ? AND order_id IN (\(SQLStatement.placeholders(chunk.count)))
                """, [.text(account.tenantId), .text(account.id)] + chunk.map(Cell.text))) {
                refunds[try row.text("order_id"), default: [:]][try row.text("refund_id")] = try row.int("amount_fen")
            }
        }
        return refunds
    }

    public func touches(of account: Account, openIds: [String], from: Int64, to: Int64) async throws -> [String: [FanTouch]] {
        var touches: [String: [FanTouch]] = [:]
        // The account's stream in the log keys its touches; PostgreSQL's keep the tenant first, as its log does.
        var stream = "stream = (SELECT stream FROM event_streams WHERE tenant_id = ? AND account_id = ?)"
        var key: [Cell] = [.text(account.tenantId), .text(account.id)]
        if runner.dialect == .postgres {
            stream = "tenant_id = ? AND " + stream
            key.insert(.text(account.tenantId), at: 0)
        }
        for chunk in SQLStatement.chunks(openIds, of: 500) {
            for row in try await runner.query(SQLStatement("""
                SELECT open_id, touchpoint, first_at, last_at FROM fan_touchpoints WHERE \(stream)
                  AND open_id IN (\(SQLStatement.placeholders(chunk.count))) AND last_at >= ? AND first_at < ?
                """, key + chunk.map(Cell.text) + [.int(from), .int(to)])) {
                guard let touchpoint = EventCodes.touchpoints.value(try row.int("touchpoint")) else { continue }
                touches[try row.text("open_id"), default: []].append(FanTouch(touchpoint: touchpoint, firstAt: try row.int("first_at"), lastAt: try row.int("last_at")))
            }
        }
        return touches
    }
}

enum OrderRows {
    static let columns = """
        o.order_id, o.account_id, o.open_id, o.source, o.channel, o.amount_fen, o.coupon_id, o.lines, o.paid_at, \
        (SELECT CAST(COALESCE(SUM(r.amount_fen), 0) AS BIGINT) FROM order_refunds r WHERE r.tenant_id = o.tenant_id AND r.account_id = o.account_id
          AND r.order_id = o.order_id) AS refunded_fen
        """

    static func order(_ row: SQLRow) throws -> Order {
        guard let source = OrderSource(rawValue: try row.text("source")), let channel = Channel(rawValue: try row.text("channel")) else {
            throw StoreError.corrupt("orders.source")
        }
        let lines = row.optionalText("lines").flatMap { try? JSONDecoder().decode([OrderLine].self, from: Data($0.utf8)) } ?? []
        let amount = try row.int("amount_fen")
        return Order(id: try row.text("order_id"), accountId: try row.text("account_id"), openId: try row.text("open_id"), source: source, channel: channel,
                     amountFen: amount, refundedFen: min(amount, try row.int("refunded_fen")), couponId: row.optionalText("coupon_id"), lines: lines,
                     paidAt: try row.int("paid_at"))
    }
}
