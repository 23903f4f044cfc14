import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// Orders: paid, refunded and partly refunded, by order id however often they arrive. The
/// data-sync endpoint turns each order into events of the log (its payment, each refund), so the
/// fan's GMV, the tiers and every report follow from the same events as everything else.
public struct Orders: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    public struct Refund: Sendable {
        public var id: String
        public var amountFen: Int64
        public var at: Int64

        public init(id: String, amountFen: Int64, at: Int64) {
            self.id = id
            self.amountFen = amountFen
            self.at = at
        }
    }

    public struct Draft: Sendable {
        public var id: String
        public var openId: String
        public var amountFen: Int64
        public var paidAt: Int64
        public var channel: String?
        public var source: String?
        public var couponId: String?
        public var lines: [OrderLine]
        public var refunds: [Refund]

        public init(id: String, openId: String, amountFen: Int64, paidAt: Int64, channel: String?, source: String?, couponId: String?, lines: [OrderLine],
                    refunds: [Refund]) {
            self.id = id
            self.openId = openId
            self.amountFen = amountFen
            self.paidAt = paidAt
            self.channel = channel
            self.source = source
            self.couponId = couponId
            self.lines = lines
            self.refunds = refunds
        }
    }

    /// Orders one request may carry.
    public static let batch = 1...1_000

    public func list(of account: Account, openId: String?, from: Int64?, to: Int64?, cursor: String?, limit: Int, by caller: Principal) async throws
        -> (orders: [Order], nextCursor: String?) {
        try caller.authorize(.listOrders)
        var before: (at: Int64, id: String)?
        if let cursor {
            let parts = cursor.split(separator: "|", maxSplits: 1)
            guard parts.count == 2, let at = Int64(parts[0]) else { throw UseCaseError.invalid(field: "cursor", "is not a cursor this list gave") }
            before = (at, String(parts[1]))
        }
        let orders = try await env.store.orders(of: account, openId: openId, from: from, to: to, before: before, limit: limit + 1)
        let page = Array(orders.prefix(limit))
        return (page, orders.count > limit ? page.last.map { "\($0.paidAt)|\($0.id)" } : nil)
    }

    public func read(_ id: String, of account: Account, by caller: Principal) async throws -> Order {
        try caller.authorize(.readOrder)
        guard let order = try await env.store.order(id: id, of: account) else { throw UseCaseError.notFound("order \(id)") }
        return order
    }

    /// Checks every order first (one bad order refuses the request, naming it), then appends their
    /// events in one transaction; an order or refund already in the log counts as a duplicate.
    public func sync(_ drafts: [Draft], into account: Account, by caller: Principal) async throws -> AppendOutcome {
        try caller.authorize(.syncOrders)
        guard Self.batch.contains(drafts.count) else { throw UseCaseError.invalid(field: "orders", "must hold 1 to 1,000 orders") }
        var events: [AccountEvent] = []
        var seen = Set<String>()
        for (i, d) in drafts.enumerated() {
            let field = "orders[\(i)]"
            let id = try Validate.token(d.id, field: "\(field).id")
            guard id.utf8.count <= 100, seen.insert(id).inserted else { throw UseCaseError.invalid(field: "\(field).id", "must be at most 100 bytes and appear once") }
            let openId = try Validate.token(d.openId, field: "\(field).openId")
            guard (0...EventBounds.maxAmount).contains(d.amountFen) else { throw UseCaseError.invalid(field: "\(field).amountFen", "must be 0 to 100,000,000,000 fen") }
            guard (EventBounds.earliest..<EventBounds.latest).contains(d.paidAt) else { throw UseCaseError.invalid(field: "\(field).paidAt", "must be between 2000 and 2100") }
            let channel = try d.channel.map { raw in
                guard let c = Channel(rawValue: raw) else {
                    throw UseCaseError.invalid(field: "\(field).channel", "must be one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return c
            } ?? .unknown
            let source = try d.source.map { raw in
                guard let s = OrderSource(rawValue: raw) else { throw UseCaseError.invalid(field: "\(field).source", "must be shop, local_services or sync") }
                return s
            } ?? .sync
            guard d.lines.count <= OrderLine.maxLines else { throw UseCaseError.invalid(field: "\(field).lines", "must hold at most 50 lines") }
            for (j, line) in d.lines.enumerated() {
                _ = try Validate.token(line.sku, field: "\(field).lines[\(j)].sku")
                _ = try Validate.name(line.title, field: "\(field).lines[\(j)].title")
                guard OrderLine.quantities.contains(line.quantity) else { throw UseCaseError.invalid(field: "\(field).lines[\(j)].quantity", "must be 1 to 100,000") }
                guard (0...EventBounds.maxAmount).contains(line.priceFen) else {
                    throw UseCaseError.invalid(field: "\(field).lines[\(j)].priceFen", "must be 0 to 100,000,000,000 fen")
                }
            }
            var attributes = [Order.sourceAttribute: source.rawValue]
            if let coupon = d.couponId { attributes[Order.couponAttribute] = try Validate.token(coupon, field: "\(field).couponId") }
            if !d.lines.isEmpty {
                let trimmed = d.lines.map { OrderLine(sku: $0.sku, title: $0.title.trimmingCharacters(in: .whitespacesAndNewlines), quantity: $0.quantity, priceFen: $0.priceFen) }
                attributes[Order.linesAttribute] = String(decoding: try JSONEncoder().encode(trimmed), as: UTF8.self)
            }
            events.append(AccountEvent(tenantId: account.tenantId, accountId: account.id,
                                       event: FanEvent(id: Order.paidEventId(id), kind: .orderPaid, openId: openId, occurredAt: d.paidAt, channel: channel,
                                                       amount: d.amountFen, ref: id, attributes: attributes)))
            var refunded: Int64 = 0
            var refundIds = Set<String>()
            for (j, r) in d.refunds.enumerated() {
                let refundId = try Validate.token(r.id, field: "\(field).refunds[\(j)].id")
                guard refundId.utf8.count <= 100, refundIds.insert(refundId).inserted else {
                    throw UseCaseError.invalid(field: "\(field).refunds[\(j)].id", "must be at most 100 bytes and appear once in the order")
                }
                refunded = refunded.saturatingAdd(max(0, r.amountFen))
                guard r.amountFen > 0, refunded <= d.amountFen else {
                    throw UseCaseError.invalid(field: "\(field).refunds[\(j)].amountFen", "refunds must be above 0 and sum to at most the order's \(d.amountFen) fen")
                }
                guard r.at >= d.paidAt, r.at < EventBounds.latest else {
                    throw UseCaseError.invalid(field: "\(field).refunds[\(j)].at", "must be after the order was paid, before 2100")
                }
                events.append(AccountEvent(tenantId: account.tenantId, accountId: account.id,
                                           event: FanEvent(id: Order.refundEventId(id, refundId: refundId), kind: .orderRefunded, openId: openId, occurredAt: r.at,
                                                           channel: channel, amount: r.amountFen, ref: id)))
            }
        }
        for e in events {
            do { try e.event.check() } catch { throw UseCaseError.invalid(field: "orders", "\(error)") }
        }
        return try await env.store.append(events) { _ in }
    }
}
