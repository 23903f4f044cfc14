import FlywheelDomain
import FlywheelEngine
import FlywheelStore

/// Events the projector set aside: seen, retried once the cause is fixed, or dropped for good.
public struct Quarantine: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    public func list(of account: Account, by caller: Principal) async throws -> [QuarantinedEvent] {
        try caller.authorize(.listQuarantine)
        return try await env.store.quarantinedEvents(of: account, limit: 1_000)
    }

    /// Puts the event back in the log as `retry:<seq>`; returns its new seq. Refused (409) while
    /// the event still cannot be applied.
    public func retry(_ seq: Int64, of account: Account, by caller: Principal) async throws -> Int64 {
        try caller.authorize(.retryQuarantined)
        do {
            return try await env.store.retryQuarantined(seq: seq, of: account, check: { try $0.check() },
                                                       audit: env.audit(tenantId: account.tenantId, actor: caller.actor,
                                                                        action: "quarantine.retry", target: "\(account.id)/\(seq)"))
        } catch let problem as EventProblem {
            throw UseCaseError.conflict(code: "still_invalid", "event \(seq) still cannot be applied: \(problem); drop it, or import a corrected event")
        } catch StoreError.corrupt(let reason) {
            throw UseCaseError.conflict(code: "still_invalid", "event \(seq) still cannot be read: \(reason); drop it")
        } catch StoreError.notFound(let what) {
            throw UseCaseError.notFound(what)
        }
    }

    public func drop(_ seq: Int64, of account: Account, by caller: Principal) async throws {
        try caller.authorize(.dropQuarantined)
        do {
            try await env.store.dropQuarantined(seq: seq, of: account, audit: env.audit(tenantId: account.tenantId, actor: caller.actor,
                                                                                      action: "quarantine.drop", target: "\(account.id)/\(seq)"))
        } catch StoreError.notFound(let what) {
            throw UseCaseError.notFound(what)
        }
    }
}
