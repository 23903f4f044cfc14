import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// Changes streamed out: read in order from any point, pushed to signed webhook endpoints, or
/// followed live as server-sent events.
extension APIRoutes {
    func addStream(to group: RouterGroup<FlywheelRequestContext>) {
        group.get("changes", use: listChanges)
        group.get("stream", use: streamChanges)
        group.get("webhook-endpoints", use: listWebhookEndpoints)
        group.post("webhook-endpoints", use: createWebhookEndpoint)
        group.get("webhook-endpoints/:endpointId", use: readWebhookEndpoint)
        group.delete("webhook-endpoints/:endpointId", use: deleteWebhookEndpoint)
        group.post("webhook-endpoints/:endpointId/enable", use: enableWebhookEndpoint)
        group.get("webhook-endpoints/:endpointId/deliveries", use: listWebhookDeliveries)
    }

    struct StreamChangeView: ResponseEncodable {
        var id: String
        var kind: String
        var tenantId: String
        var accountId: String
        var openId: String
        var at: String
        var data: [String: String]

        init(_ c: Change) {
            id = String(c.seq); kind = c.kind.rawValue; tenantId = c.tenantId; accountId = c.accountId; openId = c.openId; at = Time.iso(c.at); data = c.data
        }
    }

    struct ChangesView: ResponseEncodable {
        var items: [StreamChangeView]
        /// Where to resume: `?after=` of the next call.
        var next: String
    }

    /// `after` from the query, or from `Last-Event-ID` (a reconnecting event source sends it).
    func after(_ request: Request) throws -> Int64 {
        let text = request.query("after") ?? request.headers[.init("Last-Event-ID")!]
        guard let text else { return 0 }
        guard let n = Int64(text), n >= 0 else { throw APIError.invalid("after", "must be a change id, 0 or more") }
        return n
    }

    func kinds(_ request: Request) -> [String] {
        (request.query("kinds") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    @Sendable func listChanges(_ request: Request, context: FlywheelRequestContext) async throws -> ChangesView {
        let after = try after(request)
        let changes = try await Streams(flywheel).changes(after: after, kinds: kinds(request), accountId: request.query("accountId"),
                                                          reachable: context.tenantIds, limit: try request.pageLimit(), by: try context.caller())
        return ChangesView(items: changes.map(StreamChangeView.init), next: String(changes.last?.seq ?? after))
    }

    /// Server-sent events: each change as `id`, `event` (its kind) and `data` (the change as JSON),
    /// from `after` (or `Last-Event-ID`) on, checked every half second, a comment every 15 s to
    /// keep the connection; the stream ends after `wait` seconds (an hour unless given) and the
    /// client reconnects where it was.
    @Sendable func streamChanges(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let streams = Streams(flywheel)
        let kinds = kinds(request), accountId = request.query("accountId"), reachable = context.tenantIds
        let start = try after(request)
        let wait = try request.integer("wait", otherwise: 3_600)
        guard (1...3_600).contains(wait) else { throw APIError.invalid("wait", "must be from 1 to 3,600 seconds") }
        // Checked before the stream opens, so a refusal is an error answer, not a broken stream.
        _ = try await streams.changes(after: start, kinds: kinds, accountId: accountId, reachable: reachable, limit: 1, as: .streamChanges, by: caller)
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            var cursor = start, quiet = 0
            for _ in 0..<(wait * 2) {
                let changes = try await streams.changes(after: cursor, kinds: kinds, accountId: accountId, reachable: reachable, limit: 500, as: .streamChanges, by: caller)
                for change in changes {
                    let json = try JSONEncoder().encode(StreamChangeView(change))
                    try await writer.write(ByteBuffer(string: "id: \(change.seq)\nevent: \(change.kind.rawValue)\ndata: \(String(decoding: json, as: UTF8.self))\n\n"))
                    cursor = change.seq
                }
                quiet = changes.isEmpty ? quiet + 1 : 0
                if quiet == 30 {
                    try await writer.write(ByteBuffer(string: ": still here\n\n"))
                    quiet = 0
                }
                if changes.count < 500 { try await Task.sleep(for: .milliseconds(500)) }
            }
            try await writer.finish(nil)
        })
    }

    struct EndpointView: ResponseEncodable {
        var id: String
        var tenantId: String
        var url: String
        var kinds: [String]
        var state: String
        var failures: Int
        var disabledReason: String?
        /// The last change delivered.
        var cursor: String
        var createdAt: String
        /// Only in the answer that creates it.
        var secret: String?

        init(_ e: WebhookEndpoint, showingSecret: Bool = false) {
            id = e.id; tenantId = e.tenantId; url = e.url; kinds = e.kinds.map(\.rawValue).sorted(); state = e.state.rawValue; failures = e.failures
            disabledReason = e.disabledReason; cursor = String(e.cursor); createdAt = Time.iso(e.createdAt); secret = showingSecret ? e.secret : nil
        }
    }

    struct NewEndpoint: Decodable { var url: String; var kinds: [String]?; var tenantId: String? }

    @Sendable func createWebhookEndpoint(_ request: Request, context: FlywheelRequestContext) async throws -> Created<EndpointView> {
        let body = try await request.decodeJSON(NewEndpoint.self, context: context)
        let made = try await Streams(flywheel).createEndpoint(url: body.url, kinds: body.kinds ?? [], tenantId: body.tenantId, reachable: context.tenantIds,
                                                              by: try context.caller())
        return Created(body: EndpointView(made, showingSecret: true))
    }

    @Sendable func listWebhookEndpoints(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<EndpointView> {
        PageView(items: try await Streams(flywheel).endpoints(tenantId: request.query("tenantId"), reachable: context.tenantIds, by: try context.caller())
            .map { EndpointView($0) }, nextCursor: nil)
    }

    @Sendable func readWebhookEndpoint(_ request: Request, context: FlywheelRequestContext) async throws -> EndpointView {
        EndpointView(try await Streams(flywheel).endpoint(try context.parameters.require("endpointId"), reachable: context.tenantIds, by: try context.caller()))
    }

    @Sendable func deleteWebhookEndpoint(_ request: Request, context: FlywheelRequestContext) async throws -> HTTPResponse.Status {
        try await Streams(flywheel).delete(try context.parameters.require("endpointId"), reachable: context.tenantIds, by: try context.caller())
        return .noContent
    }

    @Sendable func enableWebhookEndpoint(_ request: Request, context: FlywheelRequestContext) async throws -> EndpointView {
        EndpointView(try await Streams(flywheel).enable(try context.parameters.require("endpointId"), reachable: context.tenantIds, by: try context.caller()))
    }

    struct AttemptView: ResponseEncodable {
        var id: String
        var firstChange: String
        var lastChange: String
        var status: Int?
        var error: String?
        var milliseconds: Int
        var at: String
        var succeeded: Bool

        init(_ a: WebhookAttempt) {
            id = a.id; firstChange = String(a.firstSeq); lastChange = String(a.lastSeq); status = a.status; error = a.error; milliseconds = a.milliseconds
            at = Time.iso(a.at); succeeded = a.succeeded
        }
    }

    @Sendable func listWebhookDeliveries(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<AttemptView> {
        PageView(items: try await Streams(flywheel).attempts(of: try context.parameters.require("endpointId"), reachable: context.tenantIds,
                                                             limit: try request.pageLimit(), by: try context.caller()).map(AttemptView.init), nextCursor: nil)
    }
}
