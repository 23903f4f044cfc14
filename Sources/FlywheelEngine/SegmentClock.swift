import FlywheelDomain
import FlywheelStore
import Foundation
import Logging
import ServiceLifecycle

/// The scheduled re-evaluation of time-relative segments ("active within 30 days"): each tick
/// touches only the fans whose time field crossed a window's edge since the segment was last
/// checked, never the whole account.
public final class SegmentClock: Service, Sendable {
    let env: FlywheelEnvironment
    let interval: Duration

    public init(_ env: FlywheelEnvironment, interval: Duration = .seconds(60)) {
        self.env = env
        self.interval = interval
    }

    /// Rechecks every account once; returns the membership changes made.
    @discardableResult
    public func tick() async -> Int {
        var changes = 0
        do {
            for tenant in try await env.store.allTenants() {
                for account in try await env.store.accounts(tenantIds: [tenant.id]) {
                    changes += try await recheck(account)
                }
            }
        } catch {
            env.logger.error("segment recheck failed; will retry at the next tick", metadata: ["error": "\(error)"])
        }
        return changes
    }

    func recheck(_ account: Account) async throws -> Int {
        let now = env.now()
        let calendar = account.calendar
        return try await env.store.recheckSegments(of: account, now: now) { segments, fans, memberships in
            Projector.segmentChanges(segments, memberships: memberships, fans: fans, causes: [], otherwise: ("time_passed", -now, now),
                                     calendar: calendar, now: now)
        }
    }

    public func run() async throws {
        // A shutdown ends the wait at once rather than after up to a minute.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                guard !Task.isCancelled else { return }
                await self.tick()
            }
        }
    }
}
