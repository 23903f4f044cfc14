import FlywheelDomain
import FlywheelEngine
import FlywheelSimulator
import FlywheelStore
import Foundation
import ServiceLifecycle
import Synchronization

/// Keeps the preset enterprises' worlds going in real time: each tick releases the events of the
/// current day whose time has come, through the sandbox and Flywheel's own doors. The worlds are
/// brought up to today first (a replay of the history, which the stored Msg-Ids make harmless).
public final class LiveSimulation: Service, Sendable {
    struct Run: Sendable {
        var enterprise: PresetEnterprise
        var world: World
        var sandbox: Sandbox
        var day: Int
        var pending: [WorldEvent]
    }

    /// What a fan active in the simulation does when it shares the account with friends (the
    /// demo's: take its invite code, and bring the friends it brings through it).
    public typealias Share = @Sendable (_ enterprise: PresetEnterprise, _ account: Account, _ fan: String, _ now: Int64) async throws -> Void

    let flywheel: Flywheel
    let api: SandboxAPI?
    let interval: Duration
    let share: Share?
    private let runs: Mutex<[Run]>
    /// Fans who applied to a group already: each applies once.
    private let applied = Mutex<Set<String>>([])
    /// Fans who shared already: each shares once.
    private let shared = Mutex<Set<String>>([])

    /// `worlds` have simulated every day before `today`; `api` learns what is pushed.
    public init(_ flywheel: Flywheel, enterprises: [(PresetEnterprise, World)], today: Int, api: SandboxAPI? = nil, interval: Duration = .seconds(5),
                share: Share? = nil) {
        self.flywheel = flywheel
        self.api = api
        self.interval = interval
        self.share = share
        runs = Mutex(enterprises.map { Run(enterprise: $0.0, world: $0.1, sandbox: $0.0.sandbox(), day: today - 1, pending: []) })
    }

    /// Releases what is due at `now`; returns the events stored.
    @discardableResult
    public func tick(now: Int64) async throws -> Int {
        let calendar = AccountCalendar(timeZone: TimeZone(identifier: AccountCalendar.defaultTimeZone) ?? .gmt)
        let today = calendar.day(ofMillis: now)
        var due: [(PresetEnterprise, [PlatformOutput])] = []
        runs.withLock { runs in
            for i in runs.indices {
                while runs[i].day < today {
                    runs[i].day += 1
                    runs[i].pending += runs[i].world.simulate(day: runs[i].day).events
                }
                let ready = runs[i].pending.prefix { $0.event.occurredAt <= now }
                runs[i].pending.removeFirst(ready.count)
                if !ready.isEmpty { due.append((runs[i].enterprise, runs[i].sandbox.outputs(Array(ready)))) }
            }
        }
        var stored = 0
        for (enterprise, outputs) in due {
            stored += try await enterprise.feed(outputs, into: flywheel, api: api).events
            try await reach(enterprise, outputs, now: now)
        }
        return stored
    }

    /// Fans active this tick apply to their account's fan group now and then (decided by its
    /// threshold), book its next live, and share the account with friends.
    func reach(_ enterprise: PresetEnterprise, _ outputs: [PlatformOutput], now: Int64) async throws {
        guard let api else { return }
        var active: [(account: String, fan: String)] = []
        for case .delivery(let d) in outputs {
            guard let root = try? JSONSerialization.jsonObject(with: Data(d.body)) as? [String: Any], let from = root["from_user_id"] as? String,
                  let to = root["to_user_id"] as? String, enterprise.accounts.contains(where: { $0.openId == to }), !from.isEmpty else { continue }
            if !active.contains(where: { $0.fan == from }) { active.append((to, from)) }
        }
        let store = flywheel.env.store
        for (accountOpenId, fan) in active.prefix(2) {
            guard let account = enterprise.accounts.first(where: { $0.openId == accountOpenId }) else { continue }
            let isNew = applied.withLock { $0.insert("\(account.id)|\(fan)").inserted }
            if isNew, let group = try await store.groups(of: account).first(where: { $0.state == .active }), let platformId = group.platformGroupId {
                _ = await api.apply(clientKey: enterprise.app.clientKey, account: accountOpenId, group: platformId, fan: fan)
            }
            if let next = try await store.lives(of: account, from: now, to: now + 86_400_000).first(where: { !$0.cancelled }) {
                _ = await api.book(clientKey: enterprise.app.clientKey, account: accountOpenId, live: next.id, fan: fan)
            }
            if let share, shared.withLock({ $0.insert("\(account.id)|\(fan)").inserted }) {
                try await share(enterprise, account, fan, now)
            }
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.tick(now: self.flywheel.env.now())
                } catch {
                    // Cancelled mid-tick by a shutdown: the loop ends; rethrown, it would fail the whole server's shutdown.
                    if !Task.isCancelled { self.flywheel.env.logger.error("live simulation failed; will retry", metadata: ["error": "\(error)"]) }
                }
                try? await Task.sleep(for: self.interval)
            }
        }
    }
}
