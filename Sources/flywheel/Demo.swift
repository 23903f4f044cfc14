import ArgumentParser
import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelServer
import FlywheelSandbox
import FlywheelSimulator
import FlywheelSQLite
import FlywheelStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Flywheel with four simulated enterprises, one per industry quadrant: no set-up, one command.",
        discussion: """
            Creates or reuses the database file. A new one gets a service-provider tenant managing four enterprises (the \
            presets of `flywheel simulate`) with 90 days of simulated history; then the server starts and the simulation \
            keeps running in real time (--no-live to stop that).
            """)
    @Option(help: ArgumentHelp("SQLite database file (default: flywheel-demo.sqlite in $XDG_DATA_HOME/flywheel, or ~/.local/share/flywheel).", valueName: "path"))
    var db = Self.defaultDatabase

    /// Outside any source tree: the user's data folder, as the XDG convention has it.
    static var defaultDatabase: String {
        let environment = ProcessInfo.processInfo.environment
        let data = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? NSTemporaryDirectory()) + "/.local/share")
        return data + "/flywheel/flywheel-demo.sqlite"
    }
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(help: "People in each enterprise's simulated population.") var fans = 3_000
    @Option(help: "Days of history to simulate.") var days = 90
    @Option(help: "Seed of the simulation.") var seed: UInt64 = 1
    @Flag(help: "Do not keep the simulation running while the server is up.") var noLive = false

    static let agency = "Demo Agency"
    /// The console sign-in the demo prints; it serves on the loopback address only by default.
    static let user = "demo"
    static let password = "flywheel-demo"

    func run() async throws {
        let started = Date()
        let folder = URL(fileURLWithPath: db).deletingLastPathComponent()
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw CommandFailure("cannot create the demo's folder '\(folder.path)'; choose another with --db PATH")
        }
        let store = try await openStore(path: db)
        // Flywheel calls the sandbox as it would the platform: connecting accounts, renewing their tokens.
        let sandboxURL = "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port + 1)"
        let sealer = try secretKey()
        let (flywheel, registry) = makeFlywheel(store: store, logger: Logger(label: "flywheel"), platform: .sandbox(baseURL: sandboxURL), sealer: sealer)
        let (token, api, live, today) = try await prepare(flywheel, started: started)
        let sandboxRouter = Router()
        api.add(to: sandboxRouter)
        let sandbox = Application(router: sandboxRouter, configuration: .init(address: .hostname(host, port: port + 1)))
        let services: [any Service] = noLive ? [] : [LiveSimulation(flywheel, enterprises: live, today: today, api: api, share: PresetEnterprise.shareLive(flywheel))]
        // The banner once the server answers: whoever reads it (a person, a script) can use it at once.
        try await buildApplication(flywheel, registry: registry, settings: ServerSettings(host: host, port: port), platform: [sandbox], services: services) {
            self.banner(token: token, started: started)
        }.runService()
    }

    /// What the demo prints once it serves: where, how to sign in, the key, what to try.
    func banner(token: String, started: Date) {
        print(String(format: "ready in %.1f s", Date().timeIntervalSince(started)))
        print("""
            Flywheel demo at http://\(host):\(port)
              console: http://\(host):\(port)/console  sign in as \(Self.user) / \(Self.password)
              data:    \(db)
              API key: \(token)  (the agency's owner: it sees the four enterprises)
              try:     curl -H 'Authorization: Bearer \(token)' http://\(host):\(port)/v1/enterprises
              live:    \(noLive ? "off (--no-live)" : "the four enterprises keep acting in real time")
              sandbox platform open API: http://\(host):\(port + 1) (GET /platform/oauth/connect/; POST /oauth/client_token/,
                       /oauth/access_token/, /oauth/refresh_token/, /im/send/msg/, /im/send/msg/group/, /im/group/fans/create/,
                       /im/group/enter/audit/set/, /sandbox/post/publish/, /sandbox/group/apply, /sandbox/live/book;
                       the shops' /token/create, /order/searchList)
              a fan:   curl -X POST http://\(host):\(port + 1)/sandbox/dm -d '{"client_key":"\(PresetEnterprise.clientKey(.usedCar, seed: seed))","account":"\(PresetEnterprise.accountOpenId(.usedCar, seed: seed, index: 0))","fan":"fan-1","text":"想看看车况"}'
                       then answer it in the console's inbox
              connect: GET /v1/apps/{appId}/connect?redirectUri=http://\(host):\(port)/oauth/douyin/callback, then open the url
            """)
        flushOutput()
    }

    /// The secret that seals connected accounts' tokens: FLYWHEEL_SECRET_KEY when set, otherwise the
    /// one kept beside the database (`<db>.key`, made on the first run), so a restarted demo still
    /// opens the tokens it stored.
    func secretKey() throws -> TokenSealer {
        do {
            let given = try TokenSealer.fromEnvironment()
            if given.isKeyed { return given }
            let path = db + ".key"
            if let kept = FileManager.default.contents(atPath: path) { return try TokenSealer(secret: String(decoding: kept, as: UTF8.self)) }
            let secret = TokenSealer.generateSecret()
            guard FileManager.default.createFile(atPath: path, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CommandFailure("cannot write the demo's secret key to '\(path)'; check that its folder is writable")
            }
            return try TokenSealer(secret: secret)
        } catch let failure as TokenSealer.Failure {
            throw CommandFailure("\(failure) (the demo keeps its key in \(db).key)")
        }
    }

    /// Where the demo keeps the agency's API key, beside the database (readable by its owner only).
    var keyPath: String { db + ".apikey" }

    func keep(_ token: String) throws {
        try? FileManager.default.removeItem(atPath: keyPath)
        guard FileManager.default.createFile(atPath: keyPath, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CommandFailure("cannot write the demo's API key to '\(keyPath)'; check that its folder is writable")
        }
    }

    /// The agency and its four enterprises, with their history on a new database; the worlds
    /// brought up to today either way. Returns the agency key, the sandbox's open API and the worlds.
    func prepare(_ flywheel: Flywheel, started: Date) async throws -> (token: String, api: SandboxAPI, live: [(PresetEnterprise, World)], today: Int) {
        let store = flywheel.env.store
        let calendar = AccountCalendar(timeZone: TimeZone(identifier: AccountCalendar.defaultTimeZone) ?? .gmt)
        let today = calendar.day(ofMillis: flywheel.env.now())
        let token: String
        let provider: Tenant
        if let existing = try await store.allTenants().first(where: { $0.kind == .provider && $0.name == Self.agency }),
           let owner = try await store.users(tenantId: existing.id).first(where: { $0.role == .owner }) {
            provider = existing
            // The key of the last run, while it still works: a restarted demo keeps its key, and keys do not pile up.
            if let kept = FileManager.default.contents(atPath: keyPath).map({ String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }),
               try await flywheel.tenancy.authenticate(token: kept)?.tenantId == existing.id {
                token = kept
            } else {
                token = try await flywheel.tenancy.createKey(for: owner, actor: "cli").token
                try keep(token)
            }
            print("reusing \(db)")
        } else {
            let made = try await flywheel.tenancy.createTenant(name: Self.agency, kind: .provider, ownerName: Self.user, actor: "cli")
            (provider, token) = (made.tenant, made.key.token)
            try keep(token)
            try await flywheel.signIn.setPassword(Self.password, of: made.owner, actor: "cli")
        }
        var enterprises: [(PresetEnterprise, created: Bool)] = []
        for preset in Preset.all {
            let (enterprise, ownerKey) = try await PresetEnterprise.setUp(flywheel, preset: preset, seed: seed, provider: provider)
            enterprises.append((enterprise, ownerKey != nil))
            // The funnel's stages kept as segments from before the history, so its weeks are there to read.
            if ownerKey != nil {
                var then = flywheel.env
                let start = calendar.startOfDay(today - days)
                then.now = { start }
                try await Funnels(Flywheel(then)).track(enterprise.accounts, by: Principal(tenantId: enterprise.tenant.id, userId: "demo", keyId: "demo", role: .owner))
            }
        }
        // The platform's open API, which remembers what is pushed (fans' messages a reply may answer)
        // and echoes what Flywheel sends back through the webhook, as the platform does.
        let api = SandboxAPI(apps: enterprises.map(\.0.apiApp), now: flywheel.env.now) { pushed in
            _ = try? await flywheel.ingest.receive(body: pushed.body, signature: pushed.signature, msgId: pushed.msgId)
        }
        for (enterprise, _) in enterprises {
            try await enterprise.setUpDesk(flywheel, api: api)
            enterprise.registerGroups(in: api)
        }
        // Each world is brought up to today; only a new database is fed the history.
        var live: [(PresetEnterprise, World)] = []
        for (enterprise, created) in enterprises {
            let preset = enterprise.preset
            var world = World(preset: preset, population: fans, seed: seed)
            var sandbox = enterprise.sandbox()
            let progress = Progress(label: created ? "simulating \(preset.name)" : "replaying \(preset.name)", total: days)
            var summary = SimulationSummary()
            if created { try await enterprise.setUpJourney(flywheel, start: calendar.startOfDay(today - days)) }
            var delivered: [String: Int] = [:]
            for d in 0..<days {
                let (events, _) = world.simulate(day: today - days + d)
                let outputs = sandbox.outputs(events)
                if created {
                    summary.add(events)
                    let fed = try await enterprise.feed(outputs, into: flywheel, api: api)
                    summary.deliveries += fed.deliveries
                    summary.repeats += fed.repeats
                    // A day at a time, as traffic comes: each fan's moves between the funnel's stages dated by its day.
                    await flywheel.projector.drain()
                    try await enterprise.runJourneys(flywheel, day: today - days + d, reactions: preset.reactions, delivered: &delivered)
                } else {
                    for case .delivery(let d) in outputs { api.pushed(d) }
                }
                progress.update(d + 1)
            }
            progress.finish()
            if created { print(summary.line(preset: preset, fans: fans, days: days, seconds: Date().timeIntervalSince(started))) }
            live.append((enterprise, world))
        }
        // The history came with the database, as an import would bring it; from now on what fans buy online is read from each account's shop.
        for (enterprise, created) in enterprises { try await enterprise.openShops(flywheel, api: api, connect: created) }
        await flywheel.projector.drain()
        await flywheel.desk.drain()
        for (enterprise, created) in enterprises where created {
            try await enterprise.workLeads(flywheel, seed: seed)
            try await enterprise.setUpReach(flywheel)
            try await enterprise.setUpConvert(flywheel)
            try await enterprise.setUpGoals(flywheel)
        }
        return (token, api, live, today)
    }

}

/// Setting up a tenant with one app and one account, for the bench.
enum DemoSetup {
    static func account(_ flywheel: Flywheel, tenantName: String, accountName: String, openId: String) async throws -> (app: PlatformApp, account: Account) {
        let env = flywheel.env
        let made = try await flywheel.tenancy.createTenant(name: tenantName, kind: .enterprise, actor: "cli")
        let app = PlatformApp(tenantId: made.tenant.id, id: env.newId("app"), name: "\(tenantName) app", clientKey: "ck_\(env.randomHex(12))",
                              clientSecret: env.randomHex(32), createdAt: env.now())
        try await env.store.createApp(app, audit: env.audit(tenantId: app.tenantId, actor: "cli", action: "app.create", target: app.id))
        let account = Account(tenantId: made.tenant.id, id: env.newId("acc"), name: accountName, appId: app.id, openId: openId,
                              timeZone: AccountCalendar.defaultTimeZone, createdAt: env.now())
        try await env.store.createAccount(account, audit: env.audit(tenantId: account.tenantId, actor: "cli", action: "account.create", target: account.id))
        return (app, account)
    }
}
