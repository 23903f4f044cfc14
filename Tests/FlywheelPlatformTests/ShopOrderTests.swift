import FlywheelDomain
@testable import FlywheelPlatform
import Foundation
import Testing

/// The shop platform's wire: its signature, and its orders read into the log's events.
@Suite struct ShopOrderTests {
    @Test func theSignatureIsTheShopPlatformsHMAC() {
        // Worked out independently with Python's hmac over the documented string.
        #expect(ShopSignature.sign(appKey: "appkey123", secret: "secret123", method: "order.searchList", paramJSON: #"{"page":0,"size":100}"#,
                                   timestamp: "1800000000") == "8a5350b8fdacaa753c0885ab9859d382a31de4add09c6943c1d34298bd2165f1")
        #expect(ShopAPI.paramJSON(["size": .number(100), "page": .number(0), "order_by": .text("update_time"), "order_asc": .flag(true)])
                == #"{"order_asc":true,"order_by":"update_time","page":0,"size":100}"#, "keys sorted, numbers as numbers")
    }

    @Test func anOrderOfTheListBecomesItsPaymentAndRefunds() throws {
        // The shape `order.searchList` answers in (ids as strings or numbers, amounts in fen, times in seconds).
        let answer = #"""
            {"order_id":"4781320682406083640","doudian_open_id":"#zuLyd4U4J3p+czzXkwg==","order_status":3,"pay_amount":30000,"pay_time":1767225600,
             "update_time":1767312000,"sku_order_list":[
               {"order_id":"4781320682406083641","sku_id":3254535,"product_name":"53度飞天 500ml","item_num":2,"pay_amount":20000,"room_id":7311,
                "after_sale_info":{"after_sale_status":12,"refund_status":3}},
               {"order_id":"4781320682406083642","sku_id":"3254536","product_name":"礼盒","item_num":1,"pay_amount":10000,"room_id":0,
                "after_sale_info":{"after_sale_status":0,"refund_status":0}}]}
            """#
        let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])
        let order = try #require(ShopOrder.read(object))
        let events = order.events()
        #expect(events.count == 2)
        let paid = events[0], refund = events[1]
        #expect(paid.kind == .orderPaid && paid.id == Order.paidEventId("4781320682406083640") && paid.amount == 30_000 && paid.occurredAt == 1_767_225_600_000)
        #expect(paid.openId == "#zuLyd4U4J3p+czzXkwg==" && paid.channel == .liveFeed && paid.attributes[Order.sourceAttribute] == "shop")
        let linesJSON = try #require(paid.attributes[Order.linesAttribute])
        let lines = try JSONDecoder().decode([OrderLine].self, from: Data(linesJSON.utf8))
        #expect(lines == [OrderLine(sku: "3254535", title: "53度飞天 500ml", quantity: 2, priceFen: 10_000), OrderLine(sku: "3254536", title: "礼盒", quantity: 1, priceFen: 10_000)])
        #expect(refund.kind == .orderRefunded && refund.amount == 20_000 && refund.attributes[Order.partialAttribute] == "1", "one item of two refunded")
        #expect(refund.id == Order.refundEventId("4781320682406083640", refundId: "4781320682406083641") && refund.occurredAt == 1_767_312_000_000)
        for event in events { try event.check() }

        // Cancelled after payment: refunded item by item, by the same ids an item's own refund has, so
        // the refund read before is not made again and what is left is refunded, the last in full.
        var cancelled = order
        cancelled.status = ShopOrder.cancelled
        let rest = cancelled.events(recorded: [refund.id: 20_000]).dropFirst()
        #expect(rest.map(\.amount) == [10_000] && rest.first?.attributes[Order.partialAttribute] == nil, "the order is refunded in full now")
        #expect(cancelled.events().dropFirst().map(\.amount) == [20_000, 10_000], "read first when already cancelled: every item")
        // Lines too long for one attribute are cut, not the payment.
        var long = order
        long.items = (0..<50).map { ShopOrder.Item(skuOrderId: "s\($0)", skuId: "sku-\($0)", title: String(repeating: "飞", count: 100), quantity: 1, payAmount: 600,
                                                  roomId: nil, refundStatus: 0) }
        let paidLong = try #require(long.events().first)
        try paidLong.check()
        #expect((paidLong.attributes[Order.linesAttribute]?.utf8.count ?? 0) <= EventBounds.maxAttributeValueLength)
        var unpaid = order
        unpaid.payTime = 0
        #expect(unpaid.events().isEmpty)
    }
}
