import FlywheelApp
import FlywheelDomain
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// The indicators against values worked out by hand on a small log, and a goal whose state
/// follows its metric as events arrive, with its reward granted once and an automatic task done
/// through the API it names.
@Suite struct OperateTests {
    @Test(arguments: StoreKind.allCases) func indicatorsAndGoalsFollowTheLog(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let env = f.flywheel.env
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-op", secret: "s", openId: "acct-op")
            // The liquor playbook: liking is level 3 or an order, true-love two orders or level 6.
            let adopted = try await client.post("/v1/playbooks/high_frequency_online/adopt", key: f.key, [:], expect: .ok)
            #expect(adopted["accounts"] as? Int == 1 && adopted["industry"] as? String == "high_frequency_online")
            let rules = try await client.get("/v1/accounts/\(accountId)/rules", key: f.key)["rules"] as? [String: Any]
            #expect((rules?["tiers"] as? [String: Any])?["liking"] as? String == "following and (level >= 3 or orders >= 1)")

            let now = env.now(), hour: Int64 = 3_600_000
            var n = 0
            func event(_ kind: EventKind, _ fan: String, amount: Int64 = 0, ago: Int64 = 2) -> AccountEvent {
                n += 1
                return AccountEvent(tenantId: f.tenantId, accountId: accountId,
                                    event: FanEvent(id: "e\(n)", kind: kind, openId: fan, occurredAt: now - ago * hour, channel: .search, amount: amount, ref: "r\(n)",
                                                    attributes: kind == .leadSubmitted ? ["name": "王", "phone": "138 0013 8000"] : [:]))
            }
            // Four follow, one leaves: 3 followers. 6 views, 30 live minutes, 3 likes; f1 buys once (liking); f2 leaves a lead.
            var log = ["f1", "f2", "f3", "f4"].map { event(.follow, $0) } + [event(.unfollow, "f4", ago: 1)]
            log += (0..<6).map { event(.videoView, "f\($0 % 3 + 1)") } + [event(.liveWatch, "f1", amount: 30)] + (1...3).map { event(.like, "f\($0)") }
            log += [event(.orderPaid, "f1", amount: 10_000), event(.leadSubmitted, "f2")]
            _ = try await env.store.append(log) { _ in }
            await f.flywheel.projector.drain()

            let indicators = try await client.get("/v1/indicators?accountId=\(accountId)&days=8", key: f.key)
            let today = try #require(((indicators["total"] as? [String: Any])?["days"] as? [[String: Any]])?.last)
            // Per follower over the week, against the liquor references (score = 100·rate / (rate + reference)):
            // views 2 (ref 3) 40; watch 10 (ref 20) 33.33; interactions 1 (ref 3) 25; growth 1 (ref 0.02) 98.04; engaged 1/3 (ref 0.4) 45.45.
            let popularity = (40 + 100.0 / 3 + 25 + 100 / 1.02 + 100 * (1.0 / 3) / (1.0 / 3 + 0.4)) / 5
            // Leads 333.3 per 1,000 (ref 0.5) 99.85; orders 333.3 (ref 10) 97.09; GMV 3,333.3 fen (ref 3,000) 52.63; repurchase 0.
            let business = (100 * (1_000.0 / 3) / (1_000.0 / 3 + 0.5) + 100 * (1_000.0 / 3) / (1_000.0 / 3 + 10) + 100 * (10_000.0 / 3) / (10_000.0 / 3 + 3_000) + 0) / 4
            #expect(abs((today["popularity"] as? Double ?? 0) - popularity) < 0.01, "\(today["popularity"] ?? "") against \(popularity)")
            #expect(abs((today["business"] as? Double ?? 0) - business) < 0.01, "\(today["business"] ?? "") against \(business)")
            #expect(today["partial"] as? Bool == true)

            // A goal: half the followers true-love within 30 days, 100 points to the owner when hit.
            let owner = try #require((try await client.get("/v1/users", key: f.key)["items"] as? [[String: Any]])?.first?["id"] as? String)
            let made = try await client.post("/v1/goals", key: f.key, ["name": "True love", "metric": "true_love_share", "target": 50, "accountId": accountId,
                                                                       "deadline": ConvertTests.iso(now + 30 * 86_400_000), "rewardPoints": 100, "rewardUserId": owner])
            let goal = try #require(made["goal"] as? [String: Any]), goalId = try #require(goal["id"] as? String)
            #expect(goal["current"] as? Double == 0 && goal["status"] as? String == "behind")
            // The playbook's two levers for the metric became tasks, both automatic.
            let tasks = try #require(made["tasks"] as? [[String: Any]])
            #expect(tasks.map { $0["action"] as? String } == ["group_threshold", "live_schedule"])

            func current() async throws -> [String: Any] { try #require(await client.get("/v1/goals/\(goalId)", key: f.key)["goal"] as? [String: Any]) }
            _ = try await env.store.append([event(.orderPaid, "f2", amount: 100, ago: 1), event(.orderPaid, "f2", amount: 100, ago: 1)]) { _ in }
            await f.flywheel.projector.drain()
            #expect(abs((try await current()["current"] as? Double ?? 0) - 100.0 / 3) < 0.001, "one follower of three is true-love")
            _ = try await env.store.append([event(.orderPaid, "f3", amount: 100, ago: 1), event(.orderPaid, "f3", amount: 100, ago: 1)]) { _ in }
            await f.flywheel.projector.drain()
            #expect(try await Goals(f.flywheel).watch() == 1)
            #expect(try await Goals(f.flywheel).watch() == 0, "an achieved goal is no longer watched")
            let hit = try await current()
            #expect(hit["state"] as? String == "achieved" && abs((hit["current"] as? Double ?? 0) - 200.0 / 3) < 0.001)

            // The live schedule task, done by Flywheel: lives planned, the owner's 10 points granted once.
            let live = try #require(tasks.last?["id"] as? String)
            let done = try await client.post("/v1/tasks/\(live)/complete", key: f.key, [:], expect: .ok)
            #expect(done["state"] as? String == "done" && (done["result"] as? String)?.contains("daily lives scheduled") == true)
            #expect(((try await client.get("/v1/accounts/\(accountId)/lives", key: f.key)["lives"] as? [[String: Any]]) ?? []).count > 0)
            try await client.post("/v1/tasks/\(live)/complete", key: f.key, [:], expect: .conflict)
            // A threshold with no fan group to hold it is refused, and the task stays open.
            let threshold = try #require(tasks.first?["id"] as? String)
            let refused = try await client.post("/v1/tasks/\(threshold)/complete", key: f.key, [:], expect: .conflict)
            #expect((refused["error"] as? [String: Any])?["code"] as? String == "no_groups")
            #expect((try await client.get("/v1/tasks?state=open", key: f.key)["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [threshold])
            let rewards = try #require(try await client.get("/v1/rewards", key: f.key)["items"] as? [[String: Any]])
            #expect(rewards.map { $0["points"] as? Int }.sorted { ($0 ?? 0) < ($1 ?? 0) } == [10, 100])
            #expect(rewards.allSatisfy { $0["userId"] as? String == owner })

            // The review of this week lists the task done and the reward.
            let zone = AccountCalendar(timeZone: TimeZone(identifier: AccountCalendar.defaultTimeZone)!)
            let review = try await client.get("/v1/reviews?week=\(AccountCalendar.dateText(ofDay: zone.day(ofMillis: now)))", key: f.key)
            #expect((review["done"] as? [[String: Any]])?.count == 1 && (review["rewards"] as? [[String: Any]])?.count == 2)

            // Bad input: an unknown metric and an unknown playbook, each a 400 naming its field.
            let bad = try await client.post("/v1/goals", key: f.key, ["name": "x", "metric": "happiness", "target": 1, "deadline": ConvertTests.iso(now + 86_400_000)], expect: .badRequest)
            #expect(((bad["error"] as? [String: Any])?["message"] as? String)?.hasPrefix("metric:") == true)
            try await client.post("/v1/playbooks/space_tourism/adopt", key: f.key, [:], expect: .badRequest)
        }
    }
}
