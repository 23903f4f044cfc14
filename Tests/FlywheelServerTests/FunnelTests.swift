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

    /// Week by week, worked out by hand: a and c follow last week, b this week, c buys twice this
    /// week; each stage's entries fall in the week the fan acted, and conversion divides the next
    /// stage's entries by who could move on.
    @Test(arguments: StoreKind.allCases) func theFunnelsWeeksCountWhoMovedAndWhen(_ kind: StoreKind) async throws {
        // The playbook is adopted three weeks back: its funnel has been tracked since.
        let real = Int64(Date().timeIntervalSince1970 * 1000)
        let clock = TestClock(real - 21 * 86_400_000)
        let f = try await ServerFixture(kind, clock: clock)
        let env = f.flywheel.env
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-wk", secret: "s", openId: "acct-wk")
            // Not tracked before a playbook is adopted: a 409 saying how to start.
            try await client.execute(uri: "/v1/funnel/history?accountId=\(accountId)", method: .get, headers: auth(f.key)) { #expect($0.status == .conflict) }
            try await client.post("/v1/playbooks/high_frequency_online/adopt", key: f.key, [:], expect: .ok)
            clock.advance(by: real - clock.now)
            let zone = AccountCalendar(timeZone: TimeZone(identifier: AccountCalendar.defaultTimeZone)!)
            let now = env.now(), today = zone.day(ofMillis: now)
            let monday = AccountCalendar.weekStart(ofDay: today)
            let lastWeek = zone.startOfDay(monday - 6) + 12 * 3_600_000
            var n = 0
            func event(_ kind: EventKind, _ fan: String, at: Int64, amount: Int64 = 0) -> AccountEvent {
                n += 1
                return AccountEvent(tenantId: f.tenantId, accountId: accountId,
                                    event: FanEvent(id: "w\(n)", kind: kind, openId: fan, occurredAt: at, channel: .search, amount: amount, ref: "o\(n)"))
            }
            // As traffic comes: last week's, projected; then this week's.
            _ = try await env.store.append([event(.follow, "a", at: lastWeek), event(.follow, "c", at: lastWeek + 60_000)]) { _ in }
            await f.flywheel.projector.drain()
            _ = try await env.store.append([event(.follow, "b", at: now - 120_000), event(.orderPaid, "c", at: now - 90_000, amount: 100),
                                            event(.orderPaid, "c", at: now - 60_000, amount: 100)]) { _ in }
            await f.flywheel.projector.drain()
            let history = try await client.get("/v1/funnel/history?accountId=\(accountId)&weeks=2", key: f.key)
            let weeks = try #require(history["weeks"] as? [[String: Any]])
            #expect(weeks.map { $0["weekStart"] as? String } == [AccountCalendar.dateText(ofDay: monday - 7), AccountCalendar.dateText(ofDay: monday)])
            func column(_ week: Int, _ field: String) -> [Int] { ((weeks[week]["stages"] as? [[String: Any]]) ?? []).map { $0[field] as? Int ?? -1 } }
            //                                    new settled active converted repurchased fissioned
            #expect(column(0, "entered") == [2, 2, 2, 0, 0, 0])
            #expect(column(0, "fans") == [2, 2, 2, 0, 0, 0])
            #expect(column(1, "entered") == [1, 1, 1, 1, 1, 0])
            #expect(column(1, "fans") == [3, 3, 3, 1, 1, 0])
            let stages = try #require(weeks[1]["stages"] as? [[String: Any]])
            // Active → converted this week: 2 active at its start, none converted, 1 more became active: 1 of 3.
            #expect(abs((stages[2]["conversionToNext"] as? Double ?? 0) - 1.0 / 3) < 1e-9)
            #expect(((weeks[0]["stages"] as? [[String: Any]])?[1]["conversionToNext"] as? Double) == 1)
            let moves = try #require(history["moves"] as? [[String: Any]])
            #expect(moves.contains { $0["stage"] as? String == "repurchased" && $0["openId"] as? String == "c" && $0["cause"] as? String == "order_paid" })
        }
    }
}

