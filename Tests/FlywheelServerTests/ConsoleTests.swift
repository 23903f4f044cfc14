import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The console behind its sign-in: sessions, CSRF, and pages that show what the API says.
@Suite struct ConsoleTests {
    func form(_ fields: [String: String]) -> ByteBuffer {
        ByteBuffer(string: fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&"))
    }

    @Test(arguments: StoreKind.allCases) func signInSeePagesAndSignOut(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let owner = try #require(try await f.flywheel.env.store.users(tenantId: f.tenantId).first)
        try await f.flywheel.signIn.setPassword("correct horse", of: owner, actor: "test")
        await #expect(throws: ConsoleSignIn.Failure.weakPassword) { try await f.flywheel.signIn.setPassword("short", of: owner, actor: "test") }
        try await f.test { client in
            let account = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "o")
            _ = try await f.flywheel.env.store.append((0..<5).map {
                AccountEvent(tenantId: f.tenantId, accountId: account, event: FanEvent(id: "f\($0)", kind: $0 < 3 ? .follow : .like, openId: "fan\($0)",
                                                                                      occurredAt: f.flywheel.env.now() - 3_600_000, channel: .search))
            }) { _ in }
            await f.flywheel.projector.drain()

            try await client.execute(uri: "/console", method: .get) { #expect($0.status == .seeOther && $0.headers[.location] == "/console/login") }
            let wrong = try await signInThroughForm(client, ["name": "owner", "password": "wrong horse"])
            #expect(wrong.status == .unauthorized && String(buffer: wrong.body).contains("用户名或密码错误"))
            let signedIn = try await signInThroughForm(client, ["name": "owner", "password": "correct horse"])
            #expect(signedIn.status == .seeOther)
            let cookie = try #require(signedIn.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            #expect(signedIn.headers[.setCookie]?.contains("HttpOnly") == true)

            func get(_ uri: String) async throws -> String {
                try await client.execute(uri: uri, method: .get, headers: [.cookie: cookie]) { response in
                    #expect(response.status == .ok, "\(uri)")
                    return String(buffer: response.body)
                }
            }
            let overview = try await get("/console?account=\(account)&lang=en")
            #expect(overview.contains("<figcaption>Fans by tier</figcaption>") && overview.contains("role=\"img\""))
            #expect(overview.contains("Total fans<b>5</b>") && overview.contains("Passerby<b>3</b>"), "the numbers the API gives")
            // Today is still going: its stretch is dashed and its date says so, not drawn as a drop.
            #expect(overview.contains("stroke-dasharray=\"4 4\"") && overview.contains("(today, so far)") && overview.contains("GMV, 30 days<b>¥0.00</b>"))
            // A date range of a week: the cards say so; a range ending after today is refused on the page.
            let zone = AccountCalendar(timeZone: TimeZone(identifier: AccountCalendar.defaultTimeZone)!)
            let today = zone.day(ofMillis: f.flywheel.env.now())
            let week = try await get("/console?account=\(account)&from=\(AccountCalendar.dateText(ofDay: today - 6))&to=\(AccountCalendar.dateText(ofDay: today))&lang=en")
            #expect(week.contains("GMV, 7 days<b>¥0.00</b>") && week.contains("DMs answered, 7 days<b>0</b>") && week.contains("Total fans<b>5</b>"))
            let future = try await get("/console?account=\(account)&to=\(AccountCalendar.dateText(ofDay: today + 3))&lang=en")
            #expect(future.contains("Choose a range of at most a year") && future.contains("GMV, 30 days"))
            let fans = try await get("/console/fans?account=\(account)&tier=passerby")
            #expect(["fan0", "fan1", "fan2"].allSatisfy(fans.contains) && !fans.contains("fan3"))
            #expect(try await get("/console/fans/fan0?account=\(account)").contains("follow"))
            // A long history pages through "earlier entries"; times are the account's, channels and domains in words.
            _ = try await f.flywheel.env.store.append((0..<70).map {
                AccountEvent(tenantId: f.tenantId, accountId: account, event: FanEvent(id: "l\($0)", kind: .like, openId: "fan0",
                                                                                      occurredAt: f.flywheel.env.now() - 7_200_000 + Int64($0) * 1_000, channel: .search))
            }) { _ in }
            await f.flywheel.projector.drain()
            let long = try await get("/console/fans/fan0?account=\(account)&lang=zh")
            #expect(long.components(separatedBy: "data-kind=").count - 1 == 60 && long.contains("entries=120#timeline") && long.contains("搜索 · 公域"))
            #expect(long.contains(AccountCalendar.dateText(ofDay: zone.day(ofMillis: f.flywheel.env.now() - 7_200_000))))
            let all = try await get("/console/fans/fan0?account=\(account)&entries=120")
            #expect(all.components(separatedBy: "data-kind=").count - 1 >= 71 && !all.contains("entries=240"))
            let preview = try await get("/console/segments?account=\(account)&predicate=teir%20%3E%3D%20liking&lang=en")
            #expect(preview.contains("did you mean &#39;tier&#39;?"), "errors shown where they are")
            // In Chinese the error is Chinese, values may be typed as the page shows them, and every field has help.
            let chinese = try await get("/console/segments?account=\(account)&predicate=teir%20%3E%3D%20liking&lang=zh")
            #expect(chinese.contains("第 1 行第 1 列：没有字段 &#39;teir&#39;；是否想写 &#39;tier&#39;？"))
            let typed = "first_domain = 公域 and tier >= 路人粉".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let inWords = try await get("/console/segments?account=\(account)&predicate=\(typed)&lang=zh")
            #expect(inWords.contains("<b>3</b>") && inWords.contains("value=\"first_domain = public and tier &gt;= passerby\""), "saved in codes")
            #expect(inWords.contains("<code>first_domain = 公域</code>") && inWords.contains("data-fields=\"") && inWords.contains("href=\"/console/fans/fan0?account="))
            #expect(try await get("/console/segments?account=\(account)&predicate=following").contains("<b>3</b>"))
            #expect(try await get("/console/segments?account=\(account)&predicate=following+and+level+%3E%3D+0").contains("<b>3</b>"), "a form's + is a space")
            #expect(try await get("/console/settings?account=\(account)&lang=en").contains("following and (level &gt;= 9 or orders &gt;= 2)"))
            _ = try await client.post("/v1/tags", key: f.key, ["name": "vip", "group": "value"])
            _ = try await client.post("/v1/accounts/\(account)/fans/tags", key: f.key, ["add": ["vip"], "openIds": ["fan0", "fan1"]], expect: .accepted)
            await f.flywheel.projector.drain()
            #expect(try await get("/console/tags?account=\(account)").contains("vip · 2"))
            // The fan list's filters agree with the fans, with a total; pages go forward and back.
            let vip = try await get("/console/fans?account=\(account)&tag=vip&domain=public&lang=en")
            #expect(vip.contains("Matching fans: <b id=\"total\">2</b>") && vip.contains(">fan0<") && vip.contains(">fan1<") && !vip.contains(">fan2<"))
            #expect(try await get("/console/fans?account=\(account)&level=5&lang=en").contains("Matching fans: <b id=\"total\">0</b>"))
            let crowded = try await client.account(key: f.key, clientKey: "ck-crowd", secret: "s", openId: "o-crowd")
            _ = try await f.flywheel.env.store.append((0..<60).map {
                AccountEvent(tenantId: f.tenantId, accountId: crowded, event: FanEvent(id: "m\($0)", kind: .follow, openId: "more\($0)",
                                                                                      occurredAt: f.flywheel.env.now() - 3_600_000, channel: .search))
            }) { _ in }
            await f.flywheel.projector.drain()
            let first = try await get("/console/fans?account=\(crowded)&arrived=1&lang=en")
            #expect(first.contains("Matching fans: <b id=\"total\">60</b>") && !first.contains("Previous page"))
            let nextLink = try #require(first.components(separatedBy: "href=\"").first { $0.hasPrefix("/console/fans?") && $0.contains("page=1") }?.prefix { $0 != "\"" })
            let second = try await get(String(nextLink).replacingOccurrences(of: "&amp;", with: "&") + "&lang=en")
            #expect(second.components(separatedBy: "name=\"person\"").count - 1 == 10 && second.contains("Previous page"))
            let backLink = try #require(second.components(separatedBy: "href=\"").first { $0.hasPrefix("/console/fans?") && !$0.contains("page=") && $0.contains("sort=last%5Factive&amp;dir=desc\"") }?.prefix { $0 != "\"" })
            #expect(try await get(String(backLink).replacingOccurrences(of: "&amp;", with: "&")).components(separatedBy: "name=\"person\"").count - 1 == 50)
            // Any column sorts, both ways: by level, highest first, then lowest first.
            let byName = try await get("/console/fans?account=\(crowded)&sort=name&dir=asc&lang=en")
            let names = byName.components(separatedBy: "\">more").dropFirst().map { Int($0.prefix { $0.isNumber }) ?? -1 }
            #expect(names.count == 50 && names == names.sorted { String($0) < String($1) }, "sorted by name: \(names.prefix(5))")
            #expect(byName.contains("sort=name&amp;dir=desc") && byName.contains("↑"), "the name header turns the order round")

            // Operators act on a fan from its page; the timeline shows who did what.
            let csrfValue = try #require(overview.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first?.prefix { $0 != "\"" }).description
            func post(_ uri: String, _ fields: [String: String]) async throws -> HTTPFields {
                try await client.execute(uri: uri, method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                                         body: form(fields.merging(["csrf": csrfValue]) { a, _ in a })) { response in
                    #expect(response.status == .seeOther, "\(uri): \(String(buffer: response.body))")
                    return response.headers
                }
            }
            _ = try await post("/console/fans/fan3/tags?account=\(account)", ["tag": "vip", "op": "add"])
            _ = try await post("/console/fans/fan3/notes?account=\(account)", ["text": "约了周六到店"])
            let fan3 = try await get("/console/fans/fan3?account=\(account)")
            #expect(fan3.contains("<span class=\"pill\">vip</span>") && fan3.contains("约了周六到店") && fan3.contains("tag_added"))
            let refused = try await post("/console/fans/fan3/tags?account=\(account)", ["tag": "gold", "op": "add"])
            #expect(refused[.location]?.contains("error=") == true, "an undefined tag is refused with the reason on the page")

            // Conversion tools made from the sales page: a coupon in yuan, a random red envelope, a lottery with its prizes a line each.
            let sales = "/console/sales?account=\(account)"
            _ = try await post("/console/sales/coupons?account=\(account)", ["name": "到店券", "valueKind": "amount", "value": "20", "threshold": "99.5",
                                                                            "stock": "100", "perFanLimit": "1", "validUntil": "2099-12-31T19:00", "requiresFollow": "on"])
            _ = try await post("/console/sales/red-envelopes?account=\(account)", ["name": "开播福袋", "total": "100", "shares": "10", "split": "random",
                                                                                  "min": "5", "max": "15", "expiresAt": "2099-12-31T19:00"])
            _ = try await post("/console/sales/lotteries?account=\(account)", ["name": "点赞抽奖", "eligibility": "likes >= 1",
                                                                              "prizes": "一等奖 1\r\n二等奖 3", "closesAt": "2099-12-31T19:00"])
            let made = try await get(sales + "&lang=en")
            #expect(made.contains("到店券") && made.contains("¥20.00") && made.contains("开播福袋") && made.contains("0 / 10"), "\(made)")
            #expect(made.contains("一等奖 ×1，二等奖 ×3") && made.contains("likes &gt;= 1"))
            let theAccount = try #require(try await f.flywheel.env.store.account(id: account, tenantIds: [f.tenantId]))
            let coupon = try #require(try await f.flywheel.env.store.coupons(of: theAccount).first { $0.name == "到店券" })
            #expect(coupon.thresholdFen == 9_950 && coupon.requiresFollow && coupon.stock == 100)
            // A value that is not yuan, or shares that cannot sum to the total: back on the page, naming the field, nothing made.
            let badValue = try await post("/console/sales/coupons?account=\(account)", ["name": "x", "valueKind": "amount", "value": "20元", "stock": "1",
                                                                                       "validUntil": "2099-12-31T19:00"])
            #expect(badValue[.location]?.contains("error=value") == true)
            let badSplit = try await post("/console/sales/red-envelopes?account=\(account)", ["name": "x", "total": "1", "shares": "3", "expiresAt": "2099-12-31T19:00"])
            let shown = try await get(try #require(badSplit[.location]))
            #expect(shown.contains("totalFen") && !shown.contains(">x<"), "the reason is on the page")

            // The goals page: a playbook chosen, a goal set with its strategy as tasks, one marked done, the review printable and downloadable.
            let goalsPage = "/console/goals?account=\(account)"
            #expect(try await get(goalsPage + "&lang=en").contains("No industry chosen yet"))
            let adopted = try await post("/console/goals/playbook?account=\(account)", ["industry": "high_frequency_online"])
            #expect(adopted[.location]?.contains("error=") == false)
            let deadline = AccountCalendar.dateText(ofDay: Int(f.flywheel.env.now() / 86_400_000) + 60)
            let set = try await post(goalsPage, ["name": "更多真爱粉", "metric": "true_love_share", "target": "30", "deadline": deadline, "scope": account])
            #expect(set[.location]?.contains("error=") == false, "\(set[.location] ?? "")")
            let withGoal = try await get(goalsPage + "&lang=zh")
            #expect(withGoal.contains("更多真爱粉") && withGoal.contains("真爱粉占比") && withGoal.contains("高频高线上") && withGoal.contains("人气值"))
            let goal = try #require(try await f.flywheel.env.store.goals(tenantId: f.tenantId).first { $0.name == "更多真爱粉" })
            #expect(goal.accountId == account && goal.target == 30)
            let tasks = try await f.flywheel.env.store.tasks(tenantId: f.tenantId, goalId: goal.id)
            // The live schedule, done by Flywheel from the page (the threshold needs a fan group this account has not).
            let live = try #require(tasks.first { $0.action.kind == "live_schedule" })
            #expect(tasks.count == 2 && withGoal.contains("/console/tasks/\(live.id)/complete"))
            _ = try await post("/console/tasks/\(live.id)/complete?account=\(account)", [:])
            #expect(try await f.flywheel.env.store.task(live.id, tenantId: f.tenantId)?.state == .done)
            #expect(!withGoal.contains(Industry.highFrequencyOnline.playbook.levers[0].reason) && withGoal.contains("粉丝群对3级及以上开放"), "reasons in Chinese")
            // Every playbook's words read in Chinese.
            for industry in Industry.allCases {
                _ = try await post("/console/goals/playbook?account=\(account)", ["industry": industry.rawValue])
                let page = try await get(goalsPage + "&lang=zh")
                let p = industry.playbook
                for text in [p.aim, p.seedCase] + p.tools { #expect(!page.contains(text), "\(industry): '\(text)' shown in English") }
            }
            let badTarget = try await post(goalsPage, ["name": "x", "metric": "true_love_share", "target": "abc", "deadline": deadline])
            #expect(badTarget[.location]?.contains("error=target") == true)
            #expect(try await get("/console/review?account=\(account)&lang=en").contains("Planned this week"))
            try await client.execute(uri: "/console/review/download?account=\(account)", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .ok && response.headers[.contentDisposition]?.contains("attachment; filename=\"flywheel-review-") == true)
                #expect(!String(buffer: response.body).contains("Sign out") && !String(buffer: response.body).contains("退出"))
            }

            // A previewed predicate can be saved; its page has the portrait and the export.
            #expect(try await get("/console/segments?account=\(account)&predicate=following").contains("name=\"name\""))
            let saved = try await post("/console/segments?account=\(account)", ["predicate": "following", "name": "Followers"])
            let segmentPage = try #require(saved[.location])
            let detail = try await get(segmentPage)
            #expect(detail.contains("<b>3</b>") && detail.contains("<figcaption>分层</figcaption>"))
            // Tiers read in their own order, not by count: 2 potential fans before 3 passerby ones.
            let everyone = try #require(try await post("/console/segments?account=\(account)", ["predicate": "level >= 0", "name": "Everyone"])[.location])
            let tiers = try await get(everyone + "&lang=en")
            let potential = try #require(tiers.range(of: ">Potential<")), passerby = try #require(tiers.range(of: ">Passerby<"))
            #expect(potential.lowerBound < passerby.lowerBound)
            let csv = try await get(segmentPage.replacingOccurrences(of: "?", with: "/export?"))
            #expect(csv == "open_id\nfan0\nfan1\nfan2\n")

            // A list of open_ids becomes a static segment, and a lookalike grows from it.
            let imported = try #require(try await post("/console/segments/import?account=\(account)", ["name": "到店客户", "csv": "fan0\nfan4\nnobody"])[.location])
            #expect(try await get(imported).contains("人数<b>2</b>"))
            let seedId = try #require(imported.split(separator: "/").last?.split(separator: "?").first)
            let grown = try #require(try await post("/console/segments/\(seedId)/lookalike?account=\(account)", ["name": "像到店客户", "size": "2"])[.location])
            #expect(try await get(grown).contains("人数<b>2</b>"))
            // A file's worth of open_ids, far over the 64 KiB other forms are held to, goes through the form too.
            let many = (0..<20_000).map { "someone-\($0)" }.joined(separator: "\n")
            let large = try #require(try await post("/console/segments/import?account=\(account)", ["name": "大名单", "csv": "fan0\n" + many])[.location])
            #expect(try await get(large).contains("人数<b>1</b>"), "one of 20,001 open_ids is a fan of the account")
            let empty = try await post("/console/segments/import?account=\(account)", ["name": "x", "csv": "  "])
            #expect(empty[.location]?.contains("error=") == true)

            // Tags are defined and tier rules changed from the console; a bad rule comes back with its reason.
            _ = try await post("/console/tags?account=\(account)", ["group": "stage", "name": "到店"])
            #expect(try await get("/console/tags?account=\(account)").contains("到店 · 0"))
            let bad = try await post("/console/settings?account=\(account)", ["trueLove": "following and levle >= 9", "liking": "following and level >= 4", "passerby": "following"])
            let back = try await get(try #require(bad[.location]))
            #expect(back.contains("did you mean &#39;level&#39;?") && back.contains("value=\"following and levle &gt;= 9\""))
            _ = try await post("/console/settings?account=\(account)", ["trueLove": "following and tags has vip", "liking": "following and level >= 4", "passerby": "following"])
            #expect(try await f.flywheel.env.store.rules(of: try #require(await f.flywheel.env.store.account(id: account, tenantIds: [f.tenantId]))).rules.tiers.trueLove
                    == (try FanPredicate.parse("following and tags has vip")))

            // Points, users and keys from the settings page; an agent sees no settings forms.
            _ = try await post("/console/settings/points?account=\(account)", ["like": "7"])
            let accountValue = try #require(await f.flywheel.env.store.account(id: account, tenantIds: [f.tenantId]))
            #expect(try await f.flywheel.env.store.rules(of: accountValue).rules.points.rules[.like]?.flat == 7)
            let badPoints = try await post("/console/settings/points?account=\(account)", ["like": "-1"])
            #expect(badPoints[.location]?.contains("error=") == true)
            _ = try await post("/console/settings/users?account=\(account)", ["name": "xiaomei", "role": "agent", "password": "agent password"])
            let keyPage = try await client.execute(uri: "/console/settings/keys?account=\(account)", method: .post,
                                                   headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"], body: form(["csrf": csrfValue])) { String(buffer: $0.body) }
            let issued = try #require(keyPage.components(separatedBy: "<code>").dropFirst().first?.prefix { $0 != "<" })
            _ = try await client.get("/v1/tenant", key: String(issued))
            let agentIn = try await signInThroughForm(client, ["name": "xiaomei", "password": "agent password"])
            let agentCookie = try #require(agentIn.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let agentSettings = try await client.execute(uri: "/console/settings?account=\(account)", method: .get, headers: [.cookie: agentCookie]) { String(buffer: $0.body) }
            #expect(agentSettings.contains("<code>following") && !agentSettings.contains("name=\"trueLove\"") && !agentSettings.contains("settings/users"))
            let agentFan = try await client.execute(uri: "/console/fans/fan0?account=\(account)", method: .get, headers: [.cookie: agentCookie]) { String(buffer: $0.body) }
            #expect(agentFan.contains("notes?account="), "agents write notes")

            // Forms need the session's CSRF token; signing out ends the session.
            try await client.execute(uri: "/console/logout", method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                                     body: form(["csrf": "forged"])) { #expect($0.status == .forbidden) }
            let csrf = try #require(overview.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first?.prefix { $0 != "\"" })
            try await client.execute(uri: "/console/logout", method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                                     body: form(["csrf": String(csrf)])) { #expect($0.status == .seeOther) }
            try await client.execute(uri: "/console", method: .get, headers: [.cookie: cookie]) { #expect($0.status == .seeOther) }
        }
    }

    /// The language link keeps the page and its scope; codes are words in both languages; errors
    /// under /console are pages; owners retry and drop the account's quarantined events.
    @Test(arguments: StoreKind.allCases) func languageErrorsAndAccountHealth(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let owner = try #require(try await f.flywheel.env.store.users(tenantId: f.tenantId).first)
        try await f.flywheel.signIn.setPassword("correct horse", of: owner, actor: "test")
        try await f.test { client in
            let account = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "o")
            let now = f.flywheel.env.now()
            // The second event is out of bounds, written straight into the log: the projector sets it aside.
            _ = try await f.flywheel.env.store.append([
                FanEvent(id: "f0", kind: .follow, openId: "fan0", occurredAt: now - 3_600_000, channel: .douPlus),
                FanEvent(id: "poison", kind: .like, openId: "fan1", occurredAt: .max, channel: .search),
            ].map { AccountEvent(tenantId: f.tenantId, accountId: account, event: $0) }) { _ in }
            await f.flywheel.projector.drain()
            let accountValue = try #require(await f.flywheel.env.store.account(id: account, tenantIds: [f.tenantId]))
            let seq = try #require(try await f.flywheel.env.store.quarantinedEvents(of: accountValue, limit: 10).first?.seq)

            let signedIn = try await signInThroughForm(client, ["name": "owner", "password": "correct horse"])
            let cookie = try #require(signedIn.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            func get(_ uri: String, expect status: HTTPResponse.Status = .ok) async throws -> String {
                try await client.execute(uri: uri, method: .get, headers: [.cookie: cookie]) { response in
                    #expect(response.status == status, "\(uri)")
                    #expect(response.headers[.contentType]?.hasPrefix("text/html") == true, "\(uri)")
                    return String(buffer: response.body)
                }
            }

            // Switching the language keeps the fan and the scope; the other language says the codes in words.
            let chinese = try await get("/console/fans/fan0?account=\(account)")
            #expect(chinese.contains("href=\"/console/fans/fan0?account=\(account)&amp;lang=en\""))
            #expect(chinese.contains("商域") && chinese.contains("新粉丝 → 路人粉 (关注)"))
            let english = try await get("/console/fans/fan0?account=\(account)&lang=en")
            #expect(english.contains("href=\"/console/fans/fan0?account=\(account)&amp;lang=zh\""))
            #expect(english.contains("Commercial") && english.contains("New → Passerby (Follow)") && english.contains("data-kind=\"follow\">Follow<"))
            let overview = try await get("/console?account=\(account)&lang=en")
            #expect(overview.contains(">DOU+<") && overview.contains(">Commercial<"))
            #expect(overview.contains("/console/settings?account=\(account)#health"), "the overview says the account has events set aside")

            // Errors are pages in the frame, in the reader's language.
            let missing = try await get("/console/fans/nobody?account=\(account)", expect: .notFound)
            #expect(missing.contains("<h1>未找到</h1>") && !missing.contains("\"not_found\""))
            #expect(try await get("/console/segments/seg_none?account=\(account)&lang=en", expect: .notFound).contains("<h1>Not found</h1>"))
            #expect(try await get("/console/no-such-page", expect: .notFound).contains("name=\"csrf\""), "signed in, the frame keeps sign-out")

            // Settings shows the quarantined event; retrying it fails (still out of bounds), dropping it works.
            let settings = try await get("/console/settings?account=\(account)&lang=en")
            #expect(settings.contains("Account health") && settings.contains("<code>poison</code>"))
            let csrf = try #require(settings.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first?.prefix { $0 != "\"" }).description
            func post(_ uri: String) async throws -> String {
                try await client.execute(uri: uri, method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                                         body: form(["csrf": csrf])) { response in
                    #expect(response.status == .seeOther, "\(uri): \(String(buffer: response.body))")
                    return response.headers[.location] ?? ""
                }
            }
            let retried = try await post("/console/settings/quarantine/\(seq)/retry?account=\(account)")
            #expect(retried.contains("healthError="))
            let dropped = try await post("/console/settings/quarantine/\(seq)/drop?account=\(account)")
            #expect(dropped.contains("healthNotice="))
            #expect(try await f.flywheel.env.store.quarantinedEvents(of: accountValue, limit: 10).isEmpty)
            #expect(try await get("/console/settings?account=\(account)&lang=en").contains("No event is set aside."))
        }
    }

    /// Five wrong passwords lock the user out: the page says until when, in both languages, and
    /// even the right password waits.
    @Test(arguments: StoreKind.allCases) func repeatedWrongPasswordsLockTheUserOut(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let owner = try #require(try await f.flywheel.env.store.users(tenantId: f.tenantId).first)
        try await f.flywheel.signIn.setPassword("correct horse", of: owner, actor: "test")
        try await f.test { client in
            func signIn(_ password: String, lang: String = "en") async throws -> TestResponse {
                try await signInThroughForm(client, ["name": "owner", "password": password], query: "?lang=\(lang)")
            }
            for _ in 0..<4 {
                let wrong = try await signIn("wrong horse")
                #expect(wrong.status == .unauthorized && String(buffer: wrong.body).contains("Wrong user or password"))
            }
            #expect(try await signIn("wrong horse").status == .tooManyRequests, "the fifth failure locks the user")
            let sixth = try await signIn("wrong horse")
            #expect(sixth.status == .tooManyRequests)
            #expect(String(buffer: sixth.body).contains("Too many attempts; try again at") && String(buffer: sixth.body).contains(" UTC."))
            #expect(sixth.headers[.retryAfter].flatMap { Int($0) }.map { (1...60).contains($0) } == true)
            let right = try await signIn("correct horse", lang: "zh")
            #expect(right.status == .tooManyRequests && String(buffer: right.body).contains("尝试次数过多"), "locked even with the right password")
        }
    }

    /// Every tenant has an `owner`: signing in as one needs the organisation, by name or id, and
    /// the session is in the organisation named.
    @Test(arguments: StoreKind.allCases) func aNameInTwoOrganisationsNeedsTheOrganisation(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let beta = try await f.flywheel.tenancy.createTenant(name: "Beta", kind: .enterprise, actor: "test")
        let acmeOwner = try #require(try await f.flywheel.env.store.users(tenantId: f.tenantId).first)
        try await f.flywheel.signIn.setPassword("acme password", of: acmeOwner, actor: "test")
        try await f.flywheel.signIn.setPassword("beta password", of: beta.owner, actor: "test")
        try await f.test { client in
            func signIn(_ fields: [String: String]) async throws -> TestResponse {
                try await signInThroughForm(client, fields, query: "?lang=en")
            }
            func tenant(of response: TestResponse) async throws -> String? {
                guard let token = response.headers[.setCookie]?.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last else { return nil }
                return try await f.flywheel.signIn.session(token: String(token))?.principal.tenantId
            }
            let ambiguous = try await signIn(["name": "owner", "password": "acme password"])
            #expect(ambiguous.status == .unauthorized && String(buffer: ambiguous.body).contains("several organisations"))
            #expect(String(buffer: ambiguous.body).contains("value=\"owner\""), "the name is given back to complete")
            let byName = try await signIn(["name": "owner", "password": "acme password", "organisation": "Acme"])
            #expect(byName.status == .seeOther)
            #expect(try await tenant(of: byName) == f.tenantId)
            let byId = try await signIn(["name": "owner", "password": "beta password", "organisation": beta.tenant.id])
            #expect(byId.status == .seeOther)
            #expect(try await tenant(of: byId) == beta.tenant.id)
            let elsewhere = try await signIn(["name": "owner", "password": "acme password", "organisation": "Beta"])
            #expect(elsewhere.status == .unauthorized && String(buffer: elsewhere.body).contains("Wrong user or password"))
        }
    }
}

func consoleForm(_ fields: [String: String]) -> ByteBuffer {
    ByteBuffer(string: fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&"))
}

/// Signs in as a browser does: opens the sign-in page for its CSRF token (in a cookie and in the
/// form), then posts the form with both.
func signInThroughForm(_ client: any TestClientProtocol, _ fields: [String: String], query: String = "") async throws -> TestResponse {
    let page = try await client.execute(uri: "/console/login\(query)", method: .get) { $0 }
    let cookie = try #require(page.headers[values: .setCookie].first { $0.hasPrefix("fw_signin=") }?.split(separator: ";").first.map(String.init))
    let csrf = try #require(String(buffer: page.body).components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first?.prefix { $0 != "\"" })
    return try await client.execute(uri: "/console/login\(query)", method: .post,
                                    headers: [.contentType: "application/x-www-form-urlencoded", .cookie: cookie],
                                    body: consoleForm(fields.merging(["csrf": String(csrf)]) { given, _ in given })) { $0 }
}

