import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The console at an enterprise's scope: one person across the matrix, sorting, and bulk work
/// with its confirmation, its progress and its refusals.
@Suite struct MatrixConsoleTests {
    @Test(arguments: StoreKind.allCases) func peopleAcrossTheMatrixAndBulkWork(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let owner = try #require(try await f.flywheel.env.store.users(tenantId: f.tenantId).first)
        try await f.flywheel.signIn.setPassword("correct horse", of: owner, actor: "test")
        try await f.test { client in
            let shop = try await client.account(key: f.key, clientKey: "ck1", secret: "s", openId: "shop")
            let live = try await client.account(key: f.key, clientKey: "ck2", secret: "s", openId: "live")
            let now = f.flywheel.env.now()
            func event(_ account: String, _ id: String, _ kind: EventKind, _ fan: String, amount: Int64 = 0) -> AccountEvent {
                AccountEvent(tenantId: f.tenantId, accountId: account, event: FanEvent(id: id, kind: kind, openId: fan, occurredAt: now - 3_600_000, channel: .search,
                                                                                      amount: amount, ref: kind == .orderPaid ? "o-\(id)" : nil))
            }
            // p1 follows both accounts and buys in one; p2 and p3 follow one each; p4 only liked.
            _ = try await f.flywheel.env.store.append([
                event(shop, "1", .follow, "p1"), event(shop, "2", .orderPaid, "p1", amount: 10_000), event(shop, "3", .follow, "p2"), event(shop, "4", .like, "p4"),
                event(live, "5", .follow, "p1"), event(live, "6", .like, "p1"), event(live, "7", .follow, "p3"),
            ]) { _ in }
            await f.flywheel.projector.drain()

            let signedIn = try await signInThroughForm(client, ["name": "owner", "password": "correct horse"])
            let cookie = try #require(signedIn.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            func get(_ uri: String, expect status: HTTPResponse.Status = .ok) async throws -> String {
                try await client.execute(uri: uri, method: .get, headers: [.cookie: cookie]) { response in
                    #expect(response.status == status, "\(uri)")
                    return String(buffer: response.body)
                }
            }
            let overview = try await get("/console")
            let csrf = try #require(overview.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first?.prefix { $0 != "\"" }).description
            func post(_ uri: String, _ fields: [(String, String)]) async throws -> TestResponse {
                let body = (fields + [("csrf", csrf)]).map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
                return try await client.execute(uri: uri, method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                                                body: ByteBuffer(string: body)) { $0 }
            }
            let matrix = "tenant:\(f.tenantId)"

            // One row per person: p1 once, with its two accounts; four people in all.
            let list = try await get("/console/fans?account=\(matrix)&lang=en")
            #expect(list.contains("Matching people: <b id=\"total\">4</b>"))
            #expect(list.components(separatedBy: "value=\"\(f.tenantId)/p1\"").count - 1 == 2, "p1's checkbox and its row key, once each")
            // Sorted by GMV, highest first: the buyer leads.
            let byGMV = try await get("/console/fans?account=\(matrix)&sort=gmv&dir=desc&lang=en")
            #expect(byGMV.components(separatedBy: "name=\"person\" value=\"").dropFirst().first?.hasPrefix("\(f.tenantId)/p1") == true)

            // The merged person: both accounts side by side, the GMV of both, one timeline with both accounts' entries.
            let person = try await get("/console/people/\(f.tenantId)/p1?account=\(matrix)&lang=en")
            var best = Tier.potential
            for id in [shop, live] {
                let account = try #require(try await f.flywheel.env.store.account(id: id, tenantIds: [f.tenantId]))
                best = max(best, try #require(try await f.flywheel.env.store.fan(of: account, openId: "p1")).tier)
            }
            #expect(person.contains("Accounts<b>2</b>") && person.contains("GMV<b>¥100.00</b>"))
            #expect(person.contains("Tier<b>\(["Potential", "Passerby", "Liking", "True love"][best.rawValue])</b>"), "the best tier of the two")
            #expect(person.contains(">shop</a>") && person.contains(">live</a>"))
            #expect(person.contains("data-kind=\"order_paid\"") && person.contains("data-kind=\"like\"") && person.components(separatedBy: "data-kind=\"follow\"").count - 1 == 2)
            _ = try await get("/console/people/\(f.tenantId)/nobody?account=\(matrix)", expect: .notFound)

            // Tag everyone who matches: a preview names 4 people and 5 fans in 2 accounts, then the job is done at once.
            _ = try await client.post("/v1/tags", key: f.key, ["name": "vip", "group": "value"])
            let preview = try await post("/console/bulk?account=\(matrix)&lang=en", [("selection", "all"), ("op", "tag"), ("tagName", "vip")])
            #expect(String(buffer: preview.body).contains("4 people, 5 fans in 2 accounts") && String(buffer: preview.body).contains("name=\"expected\" value=\"5\""))
            // A selection that changed since the preview is shown again, and nothing is done.
            let stale = try await post("/console/bulk/confirm?account=\(matrix)&lang=en", [("selection", "all"), ("op", "tag"), ("tagName", "vip"), ("expected", "3")])
            #expect(String(buffer: stale.body).contains("The selection changed since you looked (3 fans then, 5 now)"))
            #expect(try await f.flywheel.env.store.bulkJobs(tenantId: f.tenantId, limit: 10).isEmpty)
            let confirmed = try await post("/console/bulk/confirm?account=\(matrix)&lang=en", [("selection", "all"), ("op", "tag"), ("tagName", "vip"), ("expected", "5")])
            #expect(confirmed.status == .seeOther)
            let jobPage = try await get(try #require(confirmed.headers[.location]) + "&lang=en")
            #expect(jobPage.contains("<b id=\"done\">5</b> / 5") && jobPage.contains("<span id=\"state\">done</span>"))
            await f.flywheel.projector.drain()
            #expect(try await get("/console/fans?account=\(matrix)&tag=vip&lang=en").contains("<b id=\"total\">4</b>"))

            // Refusals on the page: another enterprise's people are not taken; no tag chosen; nothing done.
            let foreign = try await post("/console/bulk?account=\(matrix)&lang=en", [("selection", "checked"), ("person", "ten_other/p1"), ("op", "untag"), ("tagName", "vip")])
            #expect(String(buffer: foreign.body).contains("Nothing is selected") && !String(buffer: foreign.body).contains("id=\"confirm\""))
            let untagged = try await post("/console/bulk/confirm?account=\(matrix)&lang=en", [("selection", "checked"), ("person", "\(f.tenantId)/p2"), ("op", "untag"), ("tagName", ""), ("expected", "1")])
            #expect(String(buffer: untagged.body).contains("Choose a tag."))
            #expect(try await f.flywheel.env.store.bulkJobs(tenantId: f.tenantId, limit: 10).count == 1)

            // Export the ticked person: one line per account, in a CSV to download.
            let export = try await post("/console/bulk/confirm?account=\(matrix)", [("selection", "checked"), ("person", "\(f.tenantId)/p1"), ("op", "export"), ("expected", "2")])
            let exportJob = try #require(export.headers[.location]?.components(separatedBy: "/console/jobs/").last?.prefix { $0 != "?" })
            let csv = try await get("/console/jobs/\(exportJob)/download?account=\(matrix)")
            #expect(csv.split(separator: "\n").count == 3 && csv.contains("\"p1\",\"shop\"") && csv.contains("\"p1\",\"live\"") && csv.contains("100.00"))

            // This page's rows into a static segment: one per account, with that account's fans.
            let picked = try await post("/console/bulk/confirm?account=\(matrix)", [("selection", "page"), ("shown", "\(f.tenantId)/p2"), ("shown", "\(f.tenantId)/p3"),
                                                                                        ("op", "segment"), ("segmentName", "picked"), ("expected", "2")])
            // Messaging them: a subscription post to the segment made in each account, its audience chosen.
            let pickedJob = try await get(try #require(picked.headers[.location]) + "&lang=en")
            let postLink = try #require(pickedJob.components(separatedBy: "<a href=\"").first { $0.hasPrefix("/console/posts?account=\(shop)") }?.prefix { $0 != "\"" })
            #expect(pickedJob.components(separatedBy: "class=\"post\"").count - 1 == 2)
            #expect(try await get(String(postLink).replacingOccurrences(of: "&amp;", with: "&")).contains("selected>picked</option>"))
            for (account, member) in [(shop, "p2"), (live, "p3")] {
                let a = try #require(try await f.flywheel.env.store.account(id: account, tenantIds: [f.tenantId]))
                let segment = try #require(try await f.flywheel.env.store.segments(of: a).first { $0.name == "picked" })
                #expect(try await f.flywheel.env.store.segmentMembers(id: segment.id, of: a, cursor: nil, limit: 10).items == [member])
            }

            // Segments of the matrix: p1 follows twice only once merged; a saved one lists its members with the list's tools.
            let twice = "follows >= 2".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            #expect(try await get("/console/segments?account=\(matrix)&predicate=\(twice)&mode=any&lang=en").contains("<b id=\"count\">0</b>"))
            #expect(try await get("/console/segments?account=\(matrix)&predicate=\(twice)&mode=merged&lang=en").contains("<b id=\"count\">1</b>"))
            let saved = try await post("/console/segments?account=\(matrix)", [("name", "两个号都关注"), ("predicate", "follows >= 2"), ("mode", "merged")])
            let members = try #require(saved.headers[.location])
            #expect(members.contains("msegment=mseg"))
            let listed = try await get(members + "&lang=en")
            #expect(listed.contains("两个号都关注") && listed.contains("<b id=\"total\">1</b>") && listed.contains("value=\"\(f.tenantId)/p1\""))
            let segmentId = try #require(members.components(separatedBy: "msegment=").last?.removingPercentEncoding)
            let exportMembers = try await post("/console/bulk?account=\(matrix)&lang=en", [("selection", "all"), ("msegment", segmentId), ("op", "export")])
            #expect(String(buffer: exportMembers.body).contains("1 people, 2 fans in 2 accounts"))
            let saved2 = try await get("/console/segments?account=\(matrix)&lang=en")
            #expect(saved2.contains("两个号都关注</a></td><td><code>follows &gt;= 2</code></td><td>the person, merged over the accounts</td><td>1</td>"))
            // Its portrait: the same predicate previewed, with the people's charts.
            let portraitLink = try #require(saved2.components(separatedBy: "<a href=\"").first { $0.contains("mode=merged&amp;predicate=") }?.prefix { $0 != "\"" })
            let portrait = try await get(String(portraitLink).replacingOccurrences(of: "&amp;", with: "&") + "&lang=en")
            #expect(portrait.contains("<b id=\"count\">1</b>") && portrait.components(separatedBy: "<figure").count - 1 == 3)
            _ = try await get("/console/fans?account=\(matrix)&msegment=nope", expect: .notFound)
            // One account's segment: its members in the fan list.
            let made = try await post("/console/segments?account=\(shop)", [("name", "关注"), ("predicate", "following")])
            let accountSegment = try #require(made.headers[.location]?.components(separatedBy: "/console/segments/").last?.prefix { $0 != "?" })
            #expect(try await get("/console/fans?account=\(shop)&segment=\(accountSegment)&lang=en").contains("<b id=\"total\">2</b>"))

            // A large selection runs as a job: it starts with nothing done and is worked in steps by the runner.
            _ = try await f.flywheel.env.store.append((0..<1_200).map { event(live, "crowd\($0)", .follow, "crowd\($0)") }) { _ in }
            await f.flywheel.projector.drain()
            let big = try await post("/console/bulk/confirm?account=\(live)", [("selection", "all"), ("op", "tag"), ("tagName", "vip"), ("expected", "1202")])
            let bigId = try #require(big.headers[.location]?.components(separatedBy: "/console/jobs/").last?.prefix { $0 != "?" }).description
            let started = try #require(try await f.flywheel.env.store.bulkJob(bigId, tenantId: f.tenantId))
            #expect(started.state == .running && started.done == 0 && started.total == 1_202)
            #expect(try await get("/console/jobs/\(bigId)?account=\(live)&lang=en").contains("http-equiv=\"refresh\""), "the running job's page refreshes itself")
            try await BulkWork(f.flywheel).runPending()
            let finished = try #require(try await f.flywheel.env.store.bulkJob(bigId, tenantId: f.tenantId))
            #expect(finished.state == .done && finished.done == 1_202)
            await f.flywheel.projector.drain()
            #expect(try await get("/console/fans?account=\(live)&tag=vip&lang=en").contains("<b id=\"total\">1202</b>"))
            // Worked again (a restart mid-way), nothing is appended twice: the events carry the job's ids.
            let liveAccount = try #require(try await f.flywheel.env.store.account(id: live, tenantIds: [f.tenantId]))
            #expect(try await f.flywheel.tagging.tag([("crowd0", "\(bigId)-0")], of: liveAccount, tag: "vip", add: true, actor: "test") == 0)
        }
    }
}
