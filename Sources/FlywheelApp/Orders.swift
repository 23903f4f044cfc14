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
        var seen = Set<String>()
        for (i, d) in drafts.enumerated() where !seen.insert(d.id).inserted {
            throw UseCaseError.invalid(field: "orders[\(i)].id", "'\(d.id)' appears twice in this request")
        }
        // Refunds already recorded count against each order's amount, however many requests brought them.
        let recorded = try await env.store.refunds(of: account, orderIds: drafts.map(\.id))
        var events: [AccountEvent] = []
        for (i, d) in drafts.enumerated() {
            let field = "orders[\(i)]"
            for event in try Self.events(of: d, field: field, recorded: recorded[d.id] ?? [:]) {
                do { try event.check() } catch { throw UseCaseError.invalid(field: "\(field).\(error.field == "attributes" ? "lines" : error.field)", error.message) }
                events.append(AccountEvent(tenantId: account.tenantId, accountId: account.id, event: event))
            }
        }
        return try await env.store.append(events) { _ in }
    }

    /// The order's payment and refunds as events of the log, checked field by field.
    static func events(of d: Draft, field: String, recorded: [String: Int64]) throws -> [FanEvent] {
        guard (1...100).contains(d.id.utf8.count), !d.id.contains(where: \.isWhitespace) else {
            throw UseCaseError.invalid(field: "\(field).id", "must be 1 to 100 bytes without spaces")
        }
        let openId = try Validate.token(d.openId, field: "\(field).openId")
        guard (1...EventBounds.maxAmount).contains(d.amountFen) else { throw UseCaseError.invalid(field: "\(field).amountFen", "must be 1 to 100,000,000,000 fen") }
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
        var lines: [OrderLine] = []
        for (j, line) in d.lines.enumerated() {
            let title = try Validate.name(line.title, field: "\(field).lines[\(j)].title")
            guard OrderLine.quantities.contains(line.quantity) else { throw UseCaseError.invalid(field: "\(field).lines[\(j)].quantity", "must be 1 to 100,000") }
            guard (0...EventBounds.maxAmount).contains(line.priceFen) else {
                throw UseCaseError.invalid(field: "\(field).lines[\(j)].priceFen", "must be 0 to 100,000,000,000 fen")
            }
            lines.append(OrderLine(sku: try Validate.token(line.sku, field: "\(field).lines[\(j)].sku"), title: title, quantity: line.quantity, priceFen: line.priceFen))
        }
        var attributes = [Order.sourceAttribute: source.rawValue]
        if let coupon = d.couponId { attributes[Order.couponAttribute] = try Validate.token(coupon, field: "\(field).couponId") }
        if !lines.isEmpty { attributes[Order.linesAttribute] = String(decoding: try JSONEncoder().encode(lines), as: UTF8.self) }
        var events = [FanEvent(id: Order.paidEventId(d.id), kind: .orderPaid, openId: openId, occurredAt: d.paidAt, channel: channel, amount: d.amountFen,
                               ref: d.id, attributes: attributes)]
        var refunded = recorded.values.reduce(0, +)
        var refundIds = Set<String>()
        for (j, r) in d.refunds.enumerated() {
            let refundId = r.id
            guard (1...100).contains(refundId.utf8.count), !refundId.contains(where: \.isWhitespace), refundIds.insert(refundId).inserted else {
                throw UseCaseError.invalid(field: "\(field).refunds[\(j)].id", "must be 1 to 100 bytes without spaces, once in the order")
            }
            guard r.at >= d.paidAt, r.at < EventBounds.latest else {
                throw UseCaseError.invalid(field: "\(field).refunds[\(j)].at", "must be after the order was paid, before 2100")
            }
            let id = Order.refundEventId(d.id, refundId: refundId)
            if let known = recorded[id] {
                guard known == r.amountFen else { throw UseCaseError.invalid(field: "\(field).refunds[\(j)].amountFen", "refund \(refundId) was recorded as \(known) fen") }
                continue
            }
            refunded = refunded.saturatingAdd(max(0, r.amountFen))
            guard r.amountFen > 0, refunded <= d.amountFen else {
                throw UseCaseError.invalid(field: "\(field).refunds[\(j)].amountFen", "refunds must be above 0 and sum to at most the order's \(d.amountFen) fen")
            }
            events.append(FanEvent(id: id, kind: .orderRefunded, openId: openId, occurredAt: r.at, channel: channel, amount: r.amountFen, ref: d.id,
                                   attributes: refunded < d.amountFen ? [Order.partialAttribute: "1"] : [:]))
        }
        return events
    }
}
