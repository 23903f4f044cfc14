import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The console's journeys: built from the form (a bad row refused on the page, naming it), the
/// flow drawn, launched, the fans' arms counted, the report with its intervals, a fan's page
/// showing its steps.
@Suite struct JourneyConsoleTests {
    @Test(arguments: StoreKind.allCases) func anOperatorBuildsLaunchesAndReadsAJourney(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let owner = try #require(try await f.flywheel.env.store.users(tenantId: f.tenantId).first)
        try await f.flywheel.signIn.setPassword("correct horse", of: owner, actor: "test")
        try await f.test { client in
            let account = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "o")
            try await client.post("/v1/tags", key: f.key, ["name": "回访"])
            let signedIn = try await signInThroughForm(client, ["name": "owner", "password": "correct horse"])
            let cookie = try #require(signedIn.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            func get(_ uri: String) async throws -> String {
                try await client.execute(uri: uri, method: .get, headers: [.cookie: cookie]) { response in
                    #expect(response.status == .ok, "\(uri)")
                    return String(buffer: response.body)
                }
            }
            let list = try await get("/console/journeys?account=\(account)&lang=en")
            #expect(list.contains("No journey yet") && list.contains("name=\"kind0\""), "an empty list and the builder")
            let csrf = try #require(list.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first?.prefix { $0 != "\"" }).description
            func post(_ uri: String, _ fields: [String: String]) async throws -> String {
                try await client.execute(uri: uri, method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                                         body: consoleForm(fields.merging(["csrf": csrf]) { a, _ in a })) { response in
                    #expect(response.status == .seeOther, "\(uri): \(String(buffer: response.body))")
                    return response.headers[.location] ?? ""
                }
            }
            var fields = ["name": "复购提醒", "trigger": "event:order_paid", "holdout": "20", "quietStart": "", "quietEnd": "",
                          "kind0": "wait", "value0": "0", "kind1": "branch", "value1": "tier >= 喜爱粉", "next1": "4", "kind2": "tag", "value2": "回访"]
            let refused = try await post("/console/journeys?account=\(account)", fields)
            #expect(refused.contains("error=steps%5B0%5D%2Eminutes"), "the row and its field named: \(refused)")
            fields["value0"] = "60"
            let made = try await post("/console/journeys?account=\(account)", fields)
            #expect(made.hasPrefix("/console/journeys/jrn_"))
            let id = String(made.dropFirst("/console/journeys/".count).prefix { $0 != "?" })
            let journey = try await f.flywheel.env.store.journey(id, tenantId: f.tenantId, version: nil)
            #expect(journey?.steps.map(\.kind) == [.wait, .branch, .tag] && journey?.steps[1].predicate == "tier >= liking", "the page's words made codes")
            #expect(journey?.holdoutPercent == 20 && journey?.quietHours == nil && journey?.steps[1].next == 4)

            _ = try await post("/console/journeys/\(id)/launch?account=\(account)", [:])
            let now = f.flywheel.env.now()
            _ = try await f.flywheel.env.store.append((0..<60).map { i in
                AccountEvent(tenantId: f.tenantId, accountId: account,
                             event: FanEvent(id: "o\(i)", kind: .orderPaid, openId: "buyer-\(i)", occurredAt: now, channel: .homepage, amount: 9_900, ref: "order-\(i)"))
            }) { _ in }
            await f.flywheel.projector.drain()
            let page = try await get("/console/journeys/\(id)?account=\(account)&lang=en")
            let arms = Dictionary(grouping: (0..<60).map { "buyer-\($0)" }) {
                ExperimentArm.of($0, experiment: id, holdoutPercent: 20, tenantId: f.tenantId, controlPercent: 5)
            }
            #expect(page.contains("Treated<b>\(arms[.treated]?.count ?? 0)</b>") && page.contains("Holdout<b>\(arms[.holdout]?.count ?? 0) (20%)</b>"))
            #expect(page.contains("<figcaption>The flow</figcaption>") && page.contains("2. branch: tier &gt;= liking"), "the flow drawn")
            #expect(page.contains("<figcaption>Uplift, treated minus holdout, with its 95% interval</figcaption>") && page.contains("Welch"))
            #expect(page.contains("active") && page.contains(">Pause<"))
            let fan = try await get("/console/fans/\(try #require(arms[.holdout]?.first))?account=\(account)&lang=en")
            #expect(fan.contains("复购提醒 · Holdout"), "the fan's timeline shows it entered, held out")
            _ = try await post("/console/experiment-settings?account=\(account)", ["controlPercent": "8"])
            #expect(try await get("/console/journeys?account=\(account)&lang=en").contains("Global control: <b>8%</b>"))
            let chinese = try await get("/console/journeys?account=\(account)&lang=zh")
            #expect(chinese.contains("复购提醒") && chinese.contains("运行中") && chinese.contains("自动旅程"))

            // A date journey from the builder: the date and its condition in the page's words.
            let dated = try await post("/console/journeys?account=\(account)", ["name": "双十二", "trigger": "date:", "date": "2099-12-12 10:00", "condition": "tier >= 喜爱粉",
                                                                                "kind0": "webhook", "value0": "双十二"])
            let datedId = String(dated.dropFirst("/console/journeys/".count).prefix { $0 != "?" })
            let trigger = try await f.flywheel.env.store.journey(datedId, tenantId: f.tenantId, version: nil)?.trigger
            #expect(trigger == JourneyTrigger(kind: .date, value: "2099-12-12 10:00", condition: "tier >= liking"), "\(dated)")
            let datedPage = try await get("/console/journeys/\(datedId)?account=\(account)&lang=en")
            #expect(datedPage.contains("on 2099-12-12 10:00, fans where tier &gt;= liking"))
            #expect(datedPage.contains("value=\"2099-12-12 10:00\"") && datedPage.contains("<option value=\"date:\" selected>"), "the edit form keeps the date")
        }
    }
}
