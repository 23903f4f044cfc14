import ArgumentParser
import AsyncHTTPClient
import FlywheelServer
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Server time of every console page on the demo data: the demo's enterprises are prepared (or
/// reused) in the database, a server is started on loopback, the demo user signs in, and each page
/// is fetched several times.
struct ConsoleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "console", abstract: "Time every console page on the demo data (budget 300 ms).")
    @Option(help: ArgumentHelp("SQLite database file, prepared as `flywheel demo` does when new.", valueName: "path")) var db = "flywheel-bench-console.sqlite"
    @Option(help: "Port to serve on.") var port = 18_480
    @Option(help: "Fetches per page.") var rounds = 7

    func run() async throws {
        let demo = try Demo.parse(["--db", db, "--port", String(port), "--no-live"])
        let store = try await openStore(path: db)
        // The demo's data connects accounts, whose tokens are sealed with the demo's key.
        let (flywheel, registry) = makeFlywheel(store: store, logger: Logger(label: "bench"), sealer: try demo.secretKey())
        let (token, _, _, _) = try await demo.prepare(flywheel, started: Date())
        let server = Task { try await buildApplication(flywheel, registry: registry, settings: ServerSettings(port: port, runProjector: false)).runService() }
        defer { server.cancel() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        defer { _ = client.shutdown() }
        let base = "http://127.0.0.1:\(port)"
        func fetch(_ path: String, method: HTTPMethod = .GET, cookie: String? = nil, form: String? = nil) async throws -> (HTTPClientResponse, String) {
            var request = HTTPClientRequest(url: base + path)
            request.method = method
            if let cookie { request.headers.add(name: "Cookie", value: cookie) }
            if let form {
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.body = .bytes(ByteBuffer(string: form))
            }
            let response = try await client.execute(request, timeout: .seconds(30))
            return (response, String(buffer: try await response.body.collect(upTo: 16 << 20)))
        }
        for _ in 0..<50 where (try? await fetch("/health")) == nil { try await Task.sleep(for: .milliseconds(100)) }
        // As a browser signs in: the form's CSRF token, in its cookie and in the form.
        let (loginPage, loginForm) = try await fetch("/console/login")
        guard let signInCookie = loginPage.headers["Set-Cookie"].first(where: { $0.hasPrefix("fw_signin=") })?.split(separator: ";").first.map(String.init),
              let csrf = loginForm.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first?.prefix(while: { $0 != "\"" }) else {
            throw ValidationError("the sign-in page has no CSRF token")
        }
        let (signedIn, _) = try await fetch("/console/login", method: .POST, cookie: signInCookie, form: "csrf=\(csrf)&name=\(Demo.user)&password=\(Demo.password)")
        guard let cookie = signedIn.headers["Set-Cookie"].first?.split(separator: ";").first.map(String.init) else {
            throw ValidationError("could not sign in as \(Demo.user)")
        }
        // Pages as an operator would open them: the whole agency, one enterprise, then the liquor flagship.
        var request = HTTPClientRequest(url: base + "/v1/accounts")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let listed = try await client.execute(request, timeout: .seconds(30))
        let accounts = (try JSONSerialization.jsonObject(with: Data(buffer: try await listed.body.collect(upTo: 1 << 20))) as? [String: Any])?["items"] as? [[String: Any]] ?? []
        guard let flagship = accounts.first(where: { $0["name"] as? String == "Brand flagship" }), let account = flagship["id"] as? String,
              let tenant = flagship["tenantId"] as? String else { throw ValidationError("the demo's liquor flagship is missing") }
        let (_, fansPage) = try await fetch("/console/fans?account=\(account)", cookie: cookie)
        let fan = fansPage.components(separatedBy: "<td><a href=\"/console/fans/").dropFirst().first?.prefix { $0 != "?" } ?? ""
        let (_, peoplePage) = try await fetch("/console/fans?account=tenant:\(tenant)&sort=accounts&dir=desc", cookie: cookie)
        let person = peoplePage.components(separatedBy: "<td><a href=\"/console/people/").dropFirst().first?.prefix { $0 != "?" } ?? ""
        let pages = [
            "/console", "/console?account=tenant:\(tenant)", "/console?account=\(account)", "/console/fans?account=\(account)",
            "/console/fans?account=\(account)&tier=passerby&q=%E7%8E%8B", "/console/fans/\(fan)?account=\(account)",
            "/console/segments?account=\(account)&predicate=following%20and%20interests%20has%20%E7%99%BD%E9%85%92",
            "/console/tags?account=tenant:\(tenant)", "/console/settings?account=\(account)",
            // The matrix: people merged over the brand's accounts, sorted; one person; a merged segment's preview.
            "/console/fans?account=tenant:\(tenant)", "/console/fans?account=tenant:\(tenant)&sort=gmv&dir=desc&tier=liking",
            "/console/people/\(person)?account=tenant:\(tenant)",
            "/console/segments?account=tenant:\(tenant)&mode=merged&predicate=orders%20%3E%3D%202%20and%20tier%20%3E%3D%20liking",
        ]
        var worst = 0.0
        for page in pages {
            var times: [Double] = []
            for _ in 0..<rounds {
                let clock = ContinuousClock.now
                let (response, _) = try await fetch(page, cookie: cookie)
                guard response.status == .ok else { throw ValidationError("\(page) answered \(response.status.code)") }
                times.append((ContinuousClock.now - clock).milliseconds)
            }
            times.sort()
            worst = max(worst, times[times.count / 2])
            print(String(format: "%7.1f ms median  %7.1f ms max  %@", times[times.count / 2], times.last ?? 0, page.removingPercentEncoding ?? page))
        }
        print(String(format: "console: slowest page %.1f ms median over %d rounds — budget 300 ms", worst, rounds))
    }
}
