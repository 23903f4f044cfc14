import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelSandbox
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// Shop orders read from the shop platform's order API (the sandbox's, signed as the platform
/// signs): connected with checked credentials, paid, partly refunded and refunded orders in the
/// fans' GMV, each once however often the shop is read.
@Suite struct ShopSyncTests {
    static let shopId = "shop-1", appKey = "shop-app", secret = "shop-secret"

    static func paid(_ order: String, _ fan: String, fen: Int64, at: Int64, live: Bool = false) -> FanEvent {
        FanEvent(id: "e-\(order)", kind: .orderPaid, openId: fan, occurredAt: at, channel: live ? .liveFeed : .unknown, amount: fen, ref: order)
    }

    @Test(arguments: StoreKind.allCases) func shopOrdersAreReadOnceEachNetOfRefunds(_ kind: StoreKind) async throws {
        let clock = TestClock()
        let api = SandboxAPI(apps: [.init(clientKey: DeskWorld.clientKey, clientSecret: DeskWorld.secret, accountOpenIds: [DeskWorld.accountOpenId])],
                             now: { clock.now })
        try await withSandbox(api) { platform, _ in
            let world = try await DeskWorld(kind, clock: clock, api: api, platform: platform)
            let shops = Shops(world.flywheel)
            api.openShop(Self.shopId, appKey: Self.appKey, appSecret: Self.secret, account: DeskWorld.accountOpenId)

            // A wrong secret is refused naming the field, and nothing is kept.
            await #expect(throws: UseCaseError.self) {
                _ = try await shops.connect(shopId: Self.shopId, appKey: Self.appKey, appSecret: "wrong", of: world.account, by: world.owner)
            }
            #expect(try await world.store.shopConnection(of: world.account) == nil)
            do {
                _ = try await shops.connect(shopId: Self.shopId, appKey: Self.appKey, appSecret: "wrong", of: world.account, by: world.owner)
            } catch let UseCaseError.invalid(field, message) {
                #expect(field == "appSecret" && message.contains("signature"), "\(message)")
            }

            // Sold before and after connecting: the connection reads back 90 days.
            let day: Int64 = 86_400_000
            api.sell(Self.paid("o-old", "fan-a", fen: 10_000, at: clock.now - 30 * day), account: DeskWorld.accountOpenId)
            let shop = try await shops.connect(shopId: Self.shopId, appKey: Self.appKey, appSecret: Self.secret, of: world.account, by: world.owner)
            #expect(shop.syncedUntil == clock.now - ShopConnection.backfill && shop.sealedSecret != Self.secret, "the secret is sealed")
            api.sell(Self.paid("o-live", "fan-a", fen: 5_000, at: clock.now - 60_000, live: true), account: DeskWorld.accountOpenId)
            for i in 0..<250 { api.sell(Self.paid("o-\(i)", "fan-\(i % 50)", fen: 100, at: clock.now - 3 * day + Int64(i) * 1_000), account: DeskWorld.accountOpenId) }
            await world.flywheel.shopSync.drain()
            await world.flywheel.projector.drain()

            let orders = try await world.store.orders(of: world.account, openId: nil, from: nil, to: nil, before: nil, limit: 1_000)
            #expect(orders.count == 252 && orders.allSatisfy { $0.source == .shop }, "every order of the shop, three pages and more")
            #expect(try await world.store.order(id: "o-live", of: world.account)?.channel == .liveFeed, "bought in the live room")
            var synced = try #require(try await world.store.shopConnection(of: world.account))
            #expect(synced.ordersSynced == 252 && synced.lastError == nil && synced.syncedUntil >= clock.now - 1_000, "\(synced)")

            // Refunded whole later, and read again with what did not change: counted once, net of the refund.
            clock.advance(ShopConnection.syncEvery)
            api.sell(FanEvent(id: "r-live", kind: .orderRefunded, openId: "fan-a", occurredAt: clock.now, channel: .liveFeed, amount: 5_000, ref: "o-live"),
                     account: DeskWorld.accountOpenId)
            clock.advance(1_000)
            await world.flywheel.shopSync.drain()
            await world.flywheel.projector.drain()
            let refunded = try #require(try await world.store.order(id: "o-live", of: world.account))
            #expect(refunded.status == .refunded && refunded.netFen == 0)
            let fan = try #require(try await world.store.fan(of: world.account, openId: "fan-a"))
            #expect(fan.gmv == 10_000, "the old order; the refunded one nets to nothing")
            #expect(try await world.store.fan(of: world.account, openId: "fan-0")?.gmv == 5 * 100, "five small orders")
            #expect(try await world.store.orders(of: world.account, openId: nil, from: nil, to: nil, before: nil, limit: 1_000).count == 252)

            // 150 orders paid in one second, more than a page: the next page of that second is read, each order once.
            let second = clock.now
            for i in 0..<150 { api.sell(Self.paid("o-rush-\(i)", "fan-\(i)", fen: 100, at: second), account: DeskWorld.accountOpenId) }
            clock.advance(ShopConnection.syncEvery)
            let before = try #require(try await world.store.shopConnection(of: world.account)).ordersSynced
            await world.flywheel.shopSync.drain()
            await world.flywheel.projector.drain()
            #expect(try await world.store.orders(of: world.account, openId: nil, from: nil, to: nil, before: nil, limit: 1_000).count == 402)
            #expect(try await world.store.shopConnection(of: world.account)?.ordersSynced == before + 151, "and the refunded one, read again in the overlap")

            // A shop that stops taking the app's secret: the error is kept on the connection, the progress too, and nothing is lost.
            api.openShop("shop-2", appKey: "other-app", appSecret: "other", account: "acct-other")
            let sealed = try world.flywheel.env.sealer.seal("not-its-secret", context: TokenSealer.context(world.account, ShopSync.secretColumn))
            try await world.store.connectShop(ShopConnection(accountId: world.account.id, shopId: "shop-2", appKey: "other-app", sealedSecret: sealed,
                                                             syncedUntil: clock.now, connectedAt: clock.now),
                                              of: world.account, audit: world.flywheel.env.audit(tenantId: world.account.tenantId, actor: "t", action: "shop.connect",
                                                                                                target: world.account.id))
            clock.advance(ShopConnection.syncEvery)
            await world.flywheel.shopSync.runOnce()
            synced = try #require(try await world.store.shopConnection(of: world.account))
            #expect(synced.shopId == "shop-2" && synced.ordersSynced == 0 && synced.lastError?.contains("signature") == true, "\(synced)")
            #expect(try await shops.read(of: world.account, by: world.owner).lastError != nil)
            try await shops.disconnect(of: world.account, by: world.owner)
            #expect(try await world.store.shopConnection(of: world.account) == nil)
        }
    }
}
