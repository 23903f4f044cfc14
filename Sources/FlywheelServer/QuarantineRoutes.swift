import FlywheelApp
import FlywheelDomain
import FlywheelStore
import Foundation
import Hummingbird

/// Events the projector set aside because they could not be applied: listed, retried once the
/// cause is fixed, or dropped for good.
extension APIRoutes {
    func addQuarantine(to group: RouterGroup<FlywheelRequestContext>) {
        group.get("accounts/:accountId/quarantine", use: listQuarantined)
        group.post("accounts/:accountId/quarantine/:seq/retry", use: retryQuarantined)
        group.delete("accounts/:accountId/quarantine/:seq", use: dropQuarantined)
    }

    struct QuarantinedEventView: Codable, Sendable {
        var seq: Int64
        var eventId: String
        var reason: String
        var quarantinedAt: Int64

        init(_ e: QuarantinedEvent) {
            seq = e.seq
            eventId = e.eventId
            reason = e.reason
            quarantinedAt = e.at
        }
    }

    @Sendable func listQuarantined(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<QuarantinedEventView> {
        try context.authorize(.listQuarantine)
        let account = try await account(context)
        return PageView(items: try await store.quarantinedEvents(of: account, limit: 1_000).map(QuarantinedEventView.init), nextCursor: nil)
    }

    struct Requeued: Encodable, Sendable { var seq: Int64 }

    /// 202: the event is in the log again under a new seq; the projector applies it late.
    @Sendable func retryQuarantined(_ request: Request, context: FlywheelRequestContext) async throws -> Created<Requeued> {
        let caller = try context.authorize(.retryQuarantined)
        let account = try await account(context)
        let seq = try quarantinedSeq(context)
        do {
            let newSeq = try await store.retryQuarantined(seq: seq, of: account, check: { try $0.check() },
                                                          audit: env.audit(tenantId: account.tenantId, actor: "user:\(caller.userId)",
                                                                           action: "quarantine.retry", target: "\(account.id)/\(seq)"))
            return Created(body: Requeued(seq: newSeq), status: .accepted)
        } catch let problem as EventProblem {
            throw APIError(.conflict, "still_invalid", "event \(seq) still cannot be applied: \(problem); drop it, or import a corrected event")
        } catch StoreError.corrupt(let reason) {
            throw APIError(.conflict, "still_invalid", "event \(seq) still cannot be read: \(reason); drop it")
        }
    }

    @Sendable func dropQuarantined(_ request: Request, context: FlywheelRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.authorize(.dropQuarantined)
        let account = try await account(context)
        let seq = try quarantinedSeq(context)
        try await store.dropQuarantined(seq: seq, of: account, audit: env.audit(tenantId: account.tenantId, actor: "user:\(caller.userId)",
                                                                               action: "quarantine.drop", target: "\(account.id)/\(seq)"))
        return .noContent
    }

    private func quarantinedSeq(_ context: FlywheelRequestContext) throws -> Int64 {
        guard let seq = Int64(try context.parameters.require("seq")), seq > 0 else { throw APIError.invalid("seq", "must be a positive whole number") }
        return seq
    }
}
