import ArgumentParser
import FlywheelDomain
import FlywheelEngine
import FlywheelServer
import FlywheelSimulator
import FlywheelSQLite
import FlywheelStore
import Foundation
import Hummingbird
import Logging

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Flywheel with a simulated enterprise: no set-up, one command.",
        discussion: "Creates or reuses the database file, fills a new one with 90 days of simulated history, then serves.")
    @Option(help: ArgumentHelp("SQLite database file.", valueName: "path")) var db = "flywheel-demo.sqlite"
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(help: "Fans in the simulated population.") var fans = 20_000
    @Option(help: "Days of history to simulate.") var days = 90

    func run() async throws {
        let store = try await openStore(path: db)
        let (flywheel, registry) = makeFlywheel(store: store, logger: Logger(label: "flywheel"))
        let token: String
        if let tenant = try await store.allTenants().first, let owner = try await store.users(tenantId: tenant.id).first(where: { $0.role == .owner }) {
            token = try await flywheel.tenancy.createKey(for: owner, actor: "cli").token
            print("reusing \(db) (tenant \(tenant.name))")
        } else {
            let started = Date()
            let made = try await flywheel.tenancy.createTenant(name: "Demo Liquor Brand", kind: .enterprise, actor: "cli")
            token = made.key.token
            let app = PlatformApp(tenantId: made.tenant.id, id: flywheel.env.newId("app"), name: "Demo app", clientKey: "demo_client_key",
                                  clientSecret: "demo_client_secret", createdAt: flywheel.env.now())
            try await store.createApp(app, audit: flywheel.env.audit(tenantId: app.tenantId, actor: "cli", action: "app.create", target: app.id))
            let perDay = 60
            for (i, name) in ["Brand flagship", "Store account"].enumerated() {
                let account = Account(tenantId: made.tenant.id, id: flywheel.env.newId("acc"), name: name, appId: app.id,
                                      openId: "demo-account-\(i + 1)", timeZone: AccountCalendar.defaultTimeZone, createdAt: flywheel.env.now())
                try await store.createAccount(account, audit: flywheel.env.audit(tenantId: account.tenantId, actor: "cli", action: "account.create", target: account.id))
                let share = i == 0 ? fans : fans / 4
                let traffic = SyntheticTraffic(fans: share, days: days, start: flywheel.env.now() - Int64(days) * 86_400_000, seed: UInt64(i + 1))
                let events = traffic.events(count: share * perDay / 10, idPrefix: "demo\(i + 1)")
                let progress = Progress(label: "simulating \(name)", total: events.count)
                _ = try await store.append(events.map { AccountEvent(tenantId: account.tenantId, accountId: account.id, event: $0) }) { progress.update($0) }
                progress.finish()
            }
            await flywheel.projector.drain()
            print("simulated \(days) days of history for \(fans) fans in \(String(format: "%.1f", Date().timeIntervalSince(started))) s into \(db)")
        }
        print("""
            Flywheel demo at http://\(host):\(port)
              API key: \(token)
              try:     curl -H 'Authorization: Bearer \(token)' http://\(host):\(port)/v1/accounts
              webhook: POST http://\(host):\(port)/webhooks/douyin (client_key demo_client_key, secret demo_client_secret)
            """)
        flushOutput()
        try await buildApplication(flywheel, registry: registry, settings: ServerSettings(host: host, port: port)).runService()
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
