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
        let caller = try context.caller()
        let account = try await account(context)
        return PageView(items: try await Quarantine(flywheel).list(of: account, by: caller).map(QuarantinedEventView.init), nextCursor: nil)
    }

    struct Requeued: Encodable, Sendable { var seq: Int64 }

    /// 202: the event is in the log again under a new seq; the projector applies it late.
    @Sendable func retryQuarantined(_ request: Request, context: FlywheelRequestContext) async throws -> Created<Requeued> {
        let caller = try context.caller()
        let account = try await account(context)
        return Created(body: Requeued(seq: try await Quarantine(flywheel).retry(try quarantinedSeq(context), of: account, by: caller)), status: .accepted)
    }

    @Sendable func dropQuarantined(_ request: Request, context: FlywheelRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.caller()
        let account = try await account(context)
        try await Quarantine(flywheel).drop(try quarantinedSeq(context), of: account, by: caller)
        return .noContent
    }

    private func quarantinedSeq(_ context: FlywheelRequestContext) throws -> Int64 {
        guard let seq = Int64(try context.parameters.require("seq")), seq > 0 else { throw APIError.invalid("seq", "must be a positive whole number") }
        return seq
    }
}
