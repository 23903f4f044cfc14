import FlywheelStore
import Foundation
import Logging
import ServiceLifecycle

/// Loads every account's preview table in the background when the server starts (FanScan), so
/// the first segment preview after a restart answers in milliseconds instead of reading the
/// whole account first.
public struct PreviewWarmer: Service {
    let env: FlywheelEnvironment
    let fanScan: FanScan

    public init(_ env: FlywheelEnvironment, fanScan: FanScan) {
        self.env = env
        self.fanScan = fanScan
    }

    public func run() async throws {
        let started = ContinuousClock.now
        do {
            var accounts: [Account] = []
            for tenant in try await env.store.allTenants() { accounts += try await env.store.accounts(tenantIds: [tenant.id]) }
            let loaded = try await fanScan.warm(accounts)
            env.logger.info("segment previews ready", metadata: ["accounts": "\(loaded.accounts)", "fans": "\(loaded.fans)",
                                                                  "seconds": "\((ContinuousClock.now - started).components.seconds)"])
        } catch {
            // Previews still work: the first one of an account then loads its table.
            env.logger.warning("segment previews not warmed", metadata: ["error": "\(error)"])
        }
        // A service that returns ends the server: stay until it stops.
        try? await gracefulShutdown()
    }
}
