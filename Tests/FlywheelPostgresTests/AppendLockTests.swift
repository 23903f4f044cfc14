import FlywheelDomain
import FlywheelEngine
@testable import FlywheelPostgres
import FlywheelStore
import Foundation
import Logging
import Metrics
import Synchronization
import Testing

/// Appends to an account while another transaction holds rows that refer to it, as a projection
/// batch does (its orders and live viewers, each checked against the account by a foreign key).
@Suite struct AppendLockTests {
    final class Flag: Sendable { let value = Mutex(false) }

    @Test func anAppendDoesNotWaitForATransactionWhoseRowsReferToTheAccount() async throws {
        let store = try PostgresStore(url: try await SharedDatabaseTests.freshDatabase(), logger: Logger(label: "test"))
        try await store.migrate()
        let env = FlywheelEnvironment.live(store: store, metrics: NOOPMetricsHandler.instance, logger: Logger(label: "test"))
        let made = try await Tenancy(env).createTenant(name: "Acme", kind: .enterprise, actor: "test")
        let app = PlatformApp(tenantId: made.tenant.id, id: "app_1", name: "app", clientKey: "ck-lock", clientSecret: "s", createdAt: 0)
        try await store.createApp(app, audit: env.audit(tenantId: app.tenantId, actor: "test", action: "app.create", target: app.id))
        let account = Account(tenantId: made.tenant.id, id: "acc_1", name: "main", appId: app.id, openId: "o", timeZone: "Asia/Shanghai", createdAt: 0)
        try await store.createAccount(account, audit: env.audit(tenantId: account.tenantId, actor: "test", action: "account.create", target: account.id))
        let event = AccountEvent(tenantId: account.tenantId, accountId: account.id,
                                 event: FanEvent(id: "e1", kind: .follow, openId: "fan-1", occurredAt: 1_767_225_600_000, channel: .search))

        let done = Flag()
        let (append, appendedWhileOpen) = try await store.transaction { db in
            try await store.sql.run(db, """
                INSERT INTO live_viewers (tenant_id, account_id, hour, open_id, audience, minutes, gifts, gmv) VALUES ($1, $2, 490896, 'fan-0', 'non_fan', 5, 0, 0)
                """, [.cell(.text(account.tenantId)), .cell(.text(account.id))])
            // With this transaction still open, the append either finishes or is still waiting after 10 s.
            let append = Task {
                let outcome = try await store.append([event]) { _ in }
                done.value.withLock { $0 = true }
                return outcome
            }
            for _ in 0..<100 where !done.value.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(100)) }
            return (append, done.value.withLock { $0 })
        }
        #expect(appendedWhileOpen, "the append waited for the other transaction to end")
        #expect(try await append.value == AppendOutcome(inserted: 1, duplicates: 0))
        #expect(try await store.loggedEvents(of: account, after: 0, limit: 10).map(\.event.id) == ["e1"])
    }
}
