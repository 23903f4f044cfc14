import AsyncHTTPClient
import FlywheelSandbox
import FlywheelSimulator
import Foundation
import NIOCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// A W3C WebDriver session on chromedriver: enough to sign in, open pages, read them and take
/// screenshots. (AsyncHTTPClient, not URLSession: Foundation on Linux refuses chromedriver's
/// headers, which have no space after the colon.)
struct WebDriver {
    let base: String
    var session = ""

    @discardableResult
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        var request = HTTPClientRequest(url: base + path)
        request.method = .init(rawValue: method)
        if let body {
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let data = Data(buffer: try await response.body.collect(upTo: 64 << 20))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        if let error = (object?["value"] as? [String: Any])?["error"] as? String {
            throw WebDriverError(message: "\(method) \(path): \(error) \((object?["value"] as? [String: Any])?["message"] ?? "")")
        }
        return object?["value"]
    }

    struct WebDriverError: Error, CustomStringConvertible { var message: String; var description: String { message } }

    mutating func start() async throws {
        let options: [String: Any] = ["binary": "/usr/bin/chromium", "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1100"]]
        let value = try await call("POST", "/session", ["capabilities": ["alwaysMatch": ["browserName": "chrome", "goog:chromeOptions": options]]])
        session = try #require((value as? [String: Any])?["sessionId"] as? String)
    }

    func open(_ url: String) async throws { try await call("POST", "/session/\(session)/url", ["url": url]) }
    func source() async throws -> String { try await call("GET", "/session/\(session)/source") as? String ?? "" }

    func element(_ css: String) async throws -> String {
        let value = try await call("POST", "/session/\(session)/element", ["using": "css selector", "value": css]) as? [String: Any]
        return try #require(value?.values.first as? String)
    }

    func type(_ text: String, into css: String) async throws { try await call("POST", "/session/\(session)/element/\(try await element(css))/value", ["text": text]) }
    func click(_ css: String) async throws { try await call("POST", "/session/\(session)/element/\(try await element(css))/click", [:]) }

    func screenshot(to file: URL) async throws {
        let base64 = try #require(try await call("GET", "/session/\(session)/screenshot") as? String)
        try #require(Data(base64Encoded: base64)).write(to: file)
    }

    func quit() async { _ = try? await call("DELETE", "/session/\(session)") }
}

/// The console in a real browser: sign in to the demo, open every page, check the key numbers
/// against the API, and keep screenshots in `screenshots/` to look at.
@Suite struct ConsoleBrowserTests {
    static func chromedriver() throws -> URL {
        for path in ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"] where FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        throw DemoTests.Missing(what: "chromedriver (Debian's chromium-driver; scripts/test installs it)")
    }

    func api(_ port: Int, _ key: String, _ path: String, body: String? = nil) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        if let body { request.httpMethod = "POST"; request.httpBody = Data(body.utf8) }
        let (data, _) = try await URLSession.shared.data(for: request)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The number in the card labelled `label` on a page.
    func card(_ label: String, in page: String) -> Int? {
        page.components(separatedBy: "\(label)<b>").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) }
    }

    @Test func signInAndOpenEveryPage() async throws {
        let driverBinary = try Self.chromedriver()
        var shots = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { shots.deleteLastPathComponent() }
        shots.appendPathComponent("screenshots")
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)

        let port = Int.random(in: 20_000..<40_000)
        let (demo, key, dir) = try await DemoTests.startDemo(["--fans", "1000", "--days", "45", "--no-live"], port: port)
        defer { if demo.isRunning { demo.terminate() } }

        let driverPort = port + 2
        let chromedriver = Process()
        chromedriver.executableURL = driverBinary
        chromedriver.arguments = ["--port=\(driverPort)"]
        chromedriver.standardOutput = FileHandle.nullDevice
        chromedriver.standardError = FileHandle.nullDevice
        try chromedriver.run()
        var browser = WebDriver(base: "http://127.0.0.1:\(driverPort)")
        // The browser and its driver end with the test, however it ends: nothing is left running.
        do {
            for attempt in 0..<50 {
                do { try await browser.start(); break } catch where attempt < 49 { try await Task.sleep(for: .milliseconds(200)) }
            }
            try await visitEveryPage(browser, site: "http://127.0.0.1:\(port)", port: port, key: key, shots: shots)
        } catch {
            Issue.record(error)
            if !demo.isRunning { Issue.record("the demo ended with status \(demo.terminationStatus); \(DemoTests.lastWords(of: dir))") }
        }
        await browser.quit()
        chromedriver.terminate()
        for _ in 0..<50 where chromedriver.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        if chromedriver.isRunning { kill(chromedriver.processIdentifier, SIGKILL) }
        chromedriver.waitUntilExit()
    }

    func visitEveryPage(_ browser: WebDriver, site: String, port: Int, key: String, shots: URL) async throws {

        // Sign in as the demo prints it.
        try await browser.open(site + "/console")
        #expect(try await browser.source().contains("name=\"password\""), "an anonymous visitor is sent to sign in")
        try await browser.screenshot(to: shots.appendingPathComponent("0-login.png"))
        try await browser.type("demo", into: "#name")
        try await browser.type("flywheel-demo", into: "#password")
        try await browser.click("button.primary")
        try await Task.sleep(for: .milliseconds(500))

        // Overview of everything: the total is the API's.
        let accounts = try await api(port, key, "/v1/accounts")["items"] as? [[String: Any]] ?? []
        var total = 0
        for account in accounts {
            let tiers = try await api(port, key, "/v1/accounts/\(account["id"] as? String ?? "")/tiers")
            total += (tiers["current"] as? [String: Int] ?? [:]).values.reduce(0, +)
        }
        let overview = try await browser.source()
        #expect(card("粉丝总数", in: overview) == total, "overview total vs the API's \(total)")
        #expect(overview.contains("<svg") && overview.contains("role=\"img\""))
        try await browser.screenshot(to: shots.appendingPathComponent("1-overview.png"))

        // One account of the liquor brand, page by page.
        let flagship = try #require(accounts.first { $0["name"] as? String == "Brand flagship" }?["id"] as? String)
        let passersby = try await api(port, key, "/v1/accounts/\(flagship)/fans?tier=passerby&limit=50")["items"] as? [[String: Any]] ?? []
        try await browser.open(site + "/console/fans?account=\(flagship)&tier=passerby")
        let fans = try await browser.source()
        #expect(fans.components(separatedBy: "name=\"person\"").count - 1 == passersby.count)
        try await browser.screenshot(to: shots.appendingPathComponent("2-fans.png"))
        let first = try #require(passersby.first?["openId"] as? String)
        try await browser.open(site + "/console/fans/\(first)?account=\(flagship)")
        #expect(try await browser.source().contains("路人粉"))
        try await browser.screenshot(to: shots.appendingPathComponent("3-fan.png"))

        let predicate = "following and interests has 白酒"
        let preview = try await api(port, key, "/v1/accounts/\(flagship)/segments/preview", body: #"{"predicate":"\#(predicate)"}"#)
        // The count follows the typing (the page's own script), and equals the API's.
        try await browser.open(site + "/console/segments?account=\(flagship)")
        try await browser.type(predicate, into: "input[name=predicate]")
        var shown = ""
        for _ in 0..<40 where !shown.contains("class=\"ok\"") {
            try await Task.sleep(for: .milliseconds(250))
            shown = try await browser.source()
        }
        #expect(shown.contains("<b>\(preview["count"] as? Int ?? -1)</b>"), "the live count is the API's")
        try await browser.screenshot(to: shots.appendingPathComponent("4-segments.png"))
        try await browser.type("白酒粉丝", into: "input[name=name]")
        try await browser.click("form[method=post] button.primary")
        try await Task.sleep(for: .milliseconds(500))
        #expect(card("人数", in: try await browser.source()) == preview["count"] as? Int, "the saved segment has the previewed size")
        try await browser.screenshot(to: shots.appendingPathComponent("5-segment.png"))

        for (i, page) in ["tags", "settings"].enumerated() {
            try await browser.open(site + "/console/\(page)?account=\(flagship)")
            #expect(!(try await browser.source()).contains("\"error\""), "\(page)")
            try await browser.screenshot(to: shots.appendingPathComponent("\(6 + i)-\(page).png"))
        }
        try await answerAFan(browser, site: site, port: port, key: key, accounts: accounts, shots: shots)
        try await reach(browser, site: site, port: port, key: key, flagship: flagship, shots: shots)
        try await tagThisWeeksTrueLove(browser, site: site, port: port, key: key, accounts: accounts, shots: shots)

        try await browser.open(site + "/console?account=\(flagship)&lang=en")
        #expect(try await browser.source().contains("Fans by tier"))
        try await browser.screenshot(to: shots.appendingPathComponent("8-overview-en.png"))

        // Every page switches language with the header's link, and keeps its place.
        for path in ["/console", "/console/fans", "/console/segments", "/console/tags", "/console/settings", "/console/inbox", "/console/leads",
                     "/console/reply-times", "/console/posts", "/console/groups", "/console/lives", "/console/homepage", "/console/sales", "/console/goals",
                     "/console/review", "/console/jobs"] {
            try await browser.open(site + path + "?account=\(flagship)&lang=zh")
            #expect(try await browser.source().contains("<html lang=\"zh"), "\(path) in Chinese")
            try await browser.click("a.lang")
            try await Task.sleep(for: .milliseconds(150))
            let english = try await browser.source()
            #expect(english.contains("<html lang=\"en\"") && english.contains("Overview"), "\(path) in English after the switch")
            #expect(!english.contains("class=\"error\" role=\"alert\""), "\(path) opens without an error")
        }
    }

    /// The operator's Monday job from the console alone: across the liquor brand's matrix, find
    /// the fans who became true-love this week, define a tag and put it on all of them; then open
    /// a person who follows two accounts and page back through a long timeline.
    func tagThisWeeksTrueLove(_ browser: WebDriver, site: String, port: Int, key: String, accounts: [[String: Any]], shots: URL) async throws {
        let liquor = accounts.filter { ["Brand flagship", "Live room", "Regional store"].contains($0["name"] as? String ?? "") }
        let tenant = try #require(liquor.first?["tenantId"] as? String)
        let condition = "tier = true_love and tier_changed within 7d"
        var expected = 0
        for account in liquor {
            expected += try await api(port, key, "/v1/accounts/\(account["id"] as? String ?? "")/segments/preview", body: #"{"predicate":"\#(condition)"}"#)["count"] as? Int ?? 0
        }
        #expect(expected > 0, "the demo's liquor brand has fans who became true-love this week")

        try await browser.open(site + "/console/tags?account=tenant:\(tenant)&lang=en")
        try await browser.type("运营", into: "input[name=group]")
        try await browser.type("本周新真爱", into: "input[name=name]")
        try await browser.click("form.inline button.primary")
        try await Task.sleep(for: .milliseconds(300))

        try await browser.open(site + "/console/fans?account=tenant:\(tenant)&lang=en")
        try await browser.click("select[name=tier] option[value=true_love]")
        try await browser.click("select[name=reached] option[value='7']")
        try await browser.click("form.inline button.primary")
        try await Task.sleep(for: .milliseconds(400))
        let found = try await browser.source()
        let people = try #require(found.components(separatedBy: "<b id=\"total\">").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) })
        #expect(people > 0 && people <= expected, "people (\(people)) are at most the accounts' fans (\(expected))")
        try await browser.screenshot(to: shots.appendingPathComponent("17-matrix-fans.png"))
        try await browser.click("input[name=selection][value=all]")
        try await browser.click("select[name=op] option[value=tag]")
        try await browser.click("select[name=tagName] option[value='本周新真爱']")
        try await browser.click("#bulk button.primary")
        try await Task.sleep(for: .milliseconds(400))
        #expect(try await browser.source().contains("\(people) people"), "the preview says how many")
        try await browser.screenshot(to: shots.appendingPathComponent("18-bulk-preview.png"))
        try await browser.click("#confirm")
        var job = ""
        for _ in 0..<50 where !job.contains("<span id=\"state\">done</span>") {
            try await Task.sleep(for: .milliseconds(200))
            job = try await browser.source()
        }
        #expect(job.contains("<span id=\"state\">done</span>"), "the job ends")
        try await browser.screenshot(to: shots.appendingPathComponent("19-bulk-job.png"))
        // No fan who became true-love this week is left without the tag, in any account of the matrix.
        try await Task.sleep(for: .milliseconds(500))
        for account in liquor {
            let left = try await api(port, key, "/v1/accounts/\(account["id"] as? String ?? "")/segments/preview",
                                     body: #"{"predicate":"\#(condition) and not tags has \"本周新真爱\""}"#)
            #expect(left["count"] as? Int == 0, "\(account["name"] ?? "") has no untagged fan left")
        }

        // A person who follows two of the brand's accounts: one row, both accounts on the page, one timeline paged back.
        try await browser.open(site + "/console/fans?account=tenant:\(tenant)&sort=accounts&dir=desc&lang=en")
        let list = try await browser.source()
        let href = try #require(list.components(separatedBy: "<a href=\"/console/people/").dropFirst().first?.prefix { $0 != "\"" })
        try await browser.open(site + "/console/people/" + String(href).replacingOccurrences(of: "&amp;", with: "&") + "&lang=en")
        let person = try await browser.source()
        #expect(card("Accounts", in: person) ?? 0 >= 2, "the first person by accounts follows two or more")
        try await browser.screenshot(to: shots.appendingPathComponent("20-person.png"))
        // The most engaged person's timeline is longer than a page: "earlier entries" shows more.
        try await browser.open(site + "/console/fans?account=tenant:\(tenant)&sort=intimacy&dir=desc&lang=en")
        let engaged = try #require(try await browser.source().components(separatedBy: "<a href=\"/console/people/").dropFirst().first?.prefix { $0 != "\"" })
        try await browser.open(site + "/console/people/" + String(engaged).replacingOccurrences(of: "&amp;", with: "&") + "&lang=en")
        let rows = try await browser.source().components(separatedBy: "data-kind=").count - 1
        try await browser.click("a[href*='entries=120']")
        try await Task.sleep(for: .milliseconds(300))
        let deeper = try await browser.source().components(separatedBy: "data-kind=").count - 1
        #expect(rows == 60 && deeper > rows, "earlier entries appear: \(rows) then \(deeper)")
        try await browser.screenshot(to: shots.appendingPathComponent("21-person-timeline.png"))
    }

    /// The flagship's reach: today's post already went out, so a second one for today is refused
    /// on the page, naming the next day with room; groups, lives and the homepage show their numbers.
    func reach(_ browser: WebDriver, site: String, port: Int, key: String, flagship: String, shots: URL) async throws {
        let quota = try await api(port, key, "/v1/accounts/\(flagship)/posts")["quota"] as? [String: Any]
        let next = try #require(quota?["nextAllowedDay"] as? String)
        try await browser.open(site + "/console/posts?account=\(flagship)")
        try await browser.type("再推一条", into: "input[name=title]")
        try await browser.click("form.stack button")
        try await Task.sleep(for: .milliseconds(500))
        let refused = try await browser.source()
        #expect(refused.contains("scheduledAt") && refused.contains(next), "the refusal names the next day with room")
        try await browser.screenshot(to: shots.appendingPathComponent("12-posts.png"))
        for (i, path) in ["groups", "lives", "homepage"].enumerated() {
            try await browser.open(site + "/console/\(path)?account=\(flagship)")
            let page = try await browser.source()
            #expect(!page.contains("\"error\""), "\(path)")
            #expect(path == "lives" ? page.contains("直播日历") : page.contains("<svg"), "\(path) shows its calendar or its chart")
            try await browser.screenshot(to: shots.appendingPathComponent("\(13 + i)-\(path).png"))
        }
        // The sales page reads the same GMV as the report, with its three attribution charts.
        let report = try await api(port, key, "/v1/reports/gmv?accountId=\(flagship)")
        let gmv = try #require((report["total"] as? [String: Any])?["gmvFen"] as? Int)
        #expect(gmv > 0, "the flagship sold in the last 30 days")
        try await browser.open(site + "/console/sales?account=\(flagship)")
        let sales = try await browser.source()
        #expect(sales.contains("¥" + String(format: "%.2f", Double(gmv) / 100)), "the sales page shows the report's GMV")
        #expect(sales.components(separatedBy: "<svg").count - 1 >= 5, "fans and tiers, and one chart per attribution model")
        try await browser.screenshot(to: shots.appendingPathComponent("16-sales.png"))
    }

    /// A fan writes to the used-car dealer (through the sandbox, as the platform would push it);
    /// no automatic reply answers, so it waits for a person. The operator answers it in the
    /// inbox; the sandbox's fan writes back, and the page shows it without being reloaded.
    func answerAFan(_ browser: WebDriver, site: String, port: Int, key: String, accounts: [[String: Any]], shots: URL) async throws {
        let preset = Preset.usedCar
        let account = PresetEnterprise.accountOpenId(preset, seed: 1, index: 0)
        let dealer = try #require(accounts.first { $0["openId"] as? String == account }?["id"] as? String)
        // A fan who, as the sandbox draws it, writes back to the first DM it gets.
        let fan = try #require((1...200).map { "browser-fan-\($0)" }.first {
            SandboxAPI.reaction(of: preset.reactions, account: account, fan: $0, nth: 1, to: .text, waitedMinutes: 1, receivedToday: 1).contains { reaction in
                if case .reply = reaction { true } else { false }
            }
        })
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port + 1)/sandbox/dm")
        request.method = .POST
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: [
            "client_key": PresetEnterprise.clientKey(preset, seed: 1), "account": account, "fan": fan, "text": "想看看这台车的车况"])))
        _ = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        var queued = false
        for _ in 0..<100 where !queued {
            try await Task.sleep(for: .milliseconds(100))
            let list = try await api(port, key, "/v1/accounts/\(dealer)/conversations?state=queued,assigned&q=\(fan)")["items"] as? [[String: Any]] ?? []
            queued = list.contains { $0["openId"] as? String == fan && $0["waitingSince"] != nil }
        }
        #expect(queued, "the fan waits for a person")

        try await browser.open(site + "/console/inbox?account=\(dealer)&open=\(fan)")
        #expect(try await browser.source().contains("想看看这台车的车况"))
        try await browser.type("您好，车况报告已发您，欢迎到店试驾", into: "textarea[name=text]")
        try await browser.click("form.reply button.primary")
        var page = ""
        for _ in 0..<150 where !page.contains("data-author=\"fan\"") || page.components(separatedBy: "data-author=\"fan\"").count < 3 {
            try await Task.sleep(for: .milliseconds(200))
            page = try await browser.source()
        }
        #expect(page.contains("您好，车况报告已发您，欢迎到店试驾"), "the reply is in the thread")
        #expect(page.components(separatedBy: "data-author=\"fan\"").count - 1 == 2, "the fan's answer appeared without a reload")
        try await browser.screenshot(to: shots.appendingPathComponent("9-inbox.png"))
        for (i, path) in ["leads", "reply-times"].enumerated() {
            try await browser.open(site + "/console/\(path)?account=\(dealer)")
            #expect(!(try await browser.source()).contains("\"error\""), "\(path)")
            try await browser.screenshot(to: shots.appendingPathComponent("\(10 + i)-\(path).png"))
        }
    }
}
