import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// `flywheel verify`'s second implementation agrees with the projector on a varied log, and finds
/// a fan's state, a tier or an order that the store holds differently from what the log gives.
@Suite struct VerifyTests {
    @Test(arguments: StoreKind.allCases) func theLogAndTheStoreAgreeAndATamperedValueIsFound(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let env = f.flywheel.env
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-v", secret: "s", openId: "acct-v")
            let account = try #require(try await env.store.account(id: accountId, tenantIds: [f.tenantId]))
            // Views, likes, follows and unfollows out of order, gifts, orders and a refund over 40 days; a late event; an operator's tag.
            let start: Int64 = 1_767_225_600_000
            let kinds: [(EventKind, Int64)] = [(.videoView, 0), (.like, 0), (.follow, 0), (.comment, 0), (.liveWatch, 45), (.liveGift, 3_000),
                                               (.orderPaid, 19_900), (.dmReceived, 0), (.unfollow, 0), (.share, 0), (.orderRefunded, 19_900)]
            var events: [FanEvent] = (0..<3_000).map { i in
                let (kind, amount) = kinds[(i * 7 + i / 11) % kinds.count]
                let jitter: Int64 = i % 19 == 0 ? -3 * 86_400_000 : 0
                return FanEvent(id: "e\(i)", kind: kind, openId: "fan\(i % 41)", occurredAt: start + Int64(i) * 1_200_000 + jitter, channel: i % 3 == 0 ? .search : .douPlus,
                                amount: amount, ref: kind == .orderPaid || kind == .orderRefunded ? "order-\(i % 300)" : nil)
            }
            events.append(FanEvent(id: "tag", kind: .tagAdded, openId: "fan1", occurredAt: start + 1, channel: .unknown, ref: "vip"))
            _ = try await env.store.append(events.map { AccountEvent(tenantId: f.tenantId, accountId: accountId, event: $0) }) { _ in }
            await f.flywheel.projector.drain()
            var report = try await Verification(f.flywheel).verify(account)
            #expect(report.fans == 41 && report.events == events.count && report.checks.map(\.compared).reduce(0, +) > 600)
            #expect(report.mismatches == 0, "\(report.checks.flatMap(\.mismatches).prefix(5))")

            let runner = try #require((env.store as? any SQLStore)?.runner)
            try await runner.transaction([.execute(SQLStatement("UPDATE fans SET gmv = gmv + 100, tier = (tier + 1) % 4 WHERE tenant_id = ? AND open_id = ?",
                                                                [.text(f.tenantId), .text("fan7")]))])
            report = try await Verification(f.flywheel).verify(account)
            let found = report.checks.flatMap(\.mismatches)
            #expect(found.contains { $0.hasPrefix("fan7 gmv:") } && found.contains { $0.hasPrefix("fan7 tier:") }, "\(found)")
            try await runner.transaction([.execute(SQLStatement("DELETE FROM tier_transitions WHERE tenant_id = ? AND open_id = ?", [.text(f.tenantId), .text("fan8")]))])
            report = try await Verification(f.flywheel).verify(account)
            #expect(report.checks.first { $0.name == "tier transitions" }?.mismatches.map { String($0.prefix(17)) } == ["fan8 transitions:"])
            #expect(report.checks.first { $0.name == "tier counts" }?.mismatches.isEmpty == true, "the counts follow the fans' rows")
            try await runner.transaction([.execute(SQLStatement("DELETE FROM orders WHERE tenant_id = ? AND order_id = ?", [.text(f.tenantId), .text("order-6")]))])
            report = try await Verification(f.flywheel).verify(account)
            let orders = report.checks.first { $0.name == "orders and GMV" }?.mismatches ?? []
            #expect(orders.contains { $0.hasPrefix("orders: the log has") } && orders.contains { $0.hasPrefix("GMV paid:") }, "one order fewer, its amount missing: \(orders)")
        }
    }
}
