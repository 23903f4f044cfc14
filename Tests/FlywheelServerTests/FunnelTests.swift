import FlywheelDomain
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// The flywheel funnel against counts worked out by hand on a small log: each stage holds the
/// fans who meet its condition and every one before it; conditions can be replaced per request.
@Suite struct FunnelTests {
    @Test(arguments: StoreKind.allCases) func theFunnelCountsEachStageAsWorkedOutByHand(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let env = f.flywheel.env
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-fun", secret: "s", openId: "acct-fun")
            let other = try await client.account(key: f.key, clientKey: "ck-fun-2", secret: "s", openId: "acct-fun-2")
            let now = env.now(), day: Int64 = 86_400_000
            var n = 0
            func event(_ kind: EventKind, _ fan: String, daysAgo: Int64 = 1, amount: Int64 = 0, in account: String? = nil) -> AccountEvent {
                n += 1
                return AccountEvent(tenantId: f.tenantId, accountId: account ?? accountId,
                                    event: FanEvent(id: "e\(n)", kind: kind, openId: fan, occurredAt: now - daysAgo * day, channel: .search, amount: amount, ref: "r\(n)"))
            }
            // a: a like, never followed. b: follows, active. c: followed 40 days ago, quiet since. d: bought once.
            // e: bought twice and shared. f: left a lead and shared, bought nothing.
            let log = [event(.like, "a"), event(.follow, "b"), event(.like, "b"), event(.follow, "c", daysAgo: 40),
                       event(.follow, "d"), event(.orderPaid, "d", amount: 100),
                       event(.follow, "e"), event(.orderPaid, "e", amount: 100), event(.orderPaid, "e", amount: 200), event(.share, "e"),
                       event(.follow, "f"), event(.leadSubmitted, "f"), event(.share, "f"),
                       event(.follow, "g", in: other)]
            _ = try await env.store.append(log) { _ in }
            await f.flywheel.projector.drain()

            func stages(_ query: String) async throws -> [[String: Any]] {
                try #require(try await client.get("/v1/funnel?\(query)", key: f.key)["stages"] as? [[String: Any]])
            }
            let one = try await stages("accountId=\(accountId)")
            #expect(one.map { $0["stage"] as? String } == ["new", "settled", "active", "converted", "repurchased", "fissioned"])
            #expect(one.map { $0["fans"] as? Int } == [6, 5, 4, 3, 1, 1], "a; b c d e f; b d e f; d e f; e; e")
            #expect(one[1]["conversionToNext"] as? Double == 0.8 && one[5]["conversionToNext"] == nil)
            #expect(one[3]["condition"] as? String == "orders >= 1 or leads >= 1")

            // A lead is not a conversion here: the stage's condition replaced for this request.
            let strict = try await stages("accountId=\(accountId)&converted=orders%20%3E%3D%201")
            #expect(strict.map { $0["fans"] as? Int } == [6, 5, 4, 2, 1, 1] && strict[3]["condition"] as? String == "orders >= 1")
            // The enterprise: both accounts added up, and each on its own.
            let all = try await client.get("/v1/funnel?tenantId=\(f.tenantId)", key: f.key)
            #expect((all["stages"] as? [[String: Any]])?.map { $0["fans"] as? Int } == [7, 6, 5, 3, 1, 1])
            #expect((all["accounts"] as? [[String: Any]])?.count == 2)

            // A condition that does not parse, and `new`, which takes none: 400 naming the stage.
            for (query, field) in [("active=last_active%20witin%2030d", "active"), ("new=following", "new")] {
                let (status, body) = try await client.execute(uri: "/v1/funnel?accountId=\(accountId)&\(query)", method: .get, headers: auth(f.key)) {
                    (Int($0.status.code), String(buffer: $0.body))
                }
                #expect(status == 400 && body.contains("\(field):"), "\(body)")
            }
        }
    }
}
