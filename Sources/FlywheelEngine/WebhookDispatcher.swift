import AsyncHTTPClient
import Crypto
import FlywheelDomain
import FlywheelPlatform
import FlywheelStore
import Foundation
import NIOCore

/// Delivers each tenant's changes to its webhook endpoints: in order, a batch at a time, each
/// post signed with the endpoint's secret; after a failure the same batch is tried again with a
/// growing wait, and after `WebhookEndpoint.failuresBeforeDisabling` failures in a row the
/// endpoint is disabled with a notice in the audit log. A receiver sees each change at least
/// once and tells repeats by their id.
public struct WebhookDispatcher: Sendable {
    let env: FlywheelEnvironment
    /// How long an endpoint is held by the server delivering to it.
    static let lease: Int64 = 60_000
    /// Changes are kept this long (ms) for listeners to resume from.
    public static let retention: Int64 = 7 * 86_400_000

    public init(_ env: FlywheelEnvironment) { self.env = env }

    /// Forgets the changes older than the retention.
    public func prune() async throws { _ = try await env.store.pruneChanges(before: env.now() - Self.retention) }

    /// One round: every due endpoint gets its waiting changes, a batch after another while they
    /// go through (ten at most). Returns the attempts made.
    public func deliverDue() async throws -> Int {
        let now = env.now()
        var attempts = 0
        for claimed in try await env.store.claimWebhookEndpoints(now: now, leaseUntil: now + Self.lease, limit: 50) {
            var endpoint = claimed
            for _ in 0..<10 {
                let batch = try await env.store.changes(tenantIds: [endpoint.tenantId], after: endpoint.cursor, kinds: [], accountId: nil,
                                                        limit: WebhookEndpoint.batch)
                let wanted = endpoint.kinds.isEmpty ? batch : batch.filter { endpoint.kinds.contains($0.kind) }
                guard let last = batch.last, !wanted.isEmpty else {
                    // Nothing it wants: past the changes it does not, and free for the next round.
                    endpoint.cursor = batch.last?.seq ?? endpoint.cursor
                    endpoint.nextAttemptAt = env.now()
                    try await env.store.recordAttempt(nil, endpoint: endpoint, audit: nil)
                    break
                }
                attempts += 1
                let attempt = await post(wanted, to: endpoint)
                var audit: AuditEntry?
                if attempt.succeeded {
                    endpoint.cursor = last.seq
                    endpoint.failures = 0
                    endpoint.nextAttemptAt = env.now()
                } else {
                    endpoint.failures += 1
                    endpoint.nextAttemptAt = env.now() + WebhookEndpoint.backoff(afterFailures: endpoint.failures)
                    if endpoint.failures >= WebhookEndpoint.failuresBeforeDisabling {
                        endpoint.state = .disabled
                        endpoint.disabledReason = "\(endpoint.failures) deliveries in a row failed, the last: \(attempt.status.map { "HTTP \($0)" } ?? attempt.error ?? "no answer")"
                        audit = env.audit(tenantId: endpoint.tenantId, actor: "system", action: "webhook.disabled", target: endpoint.id,
                                          detail: endpoint.disabledReason ?? "")
                        env.logger.warning("webhook endpoint disabled", metadata: ["endpoint": "\(endpoint.id)", "reason": "\(endpoint.disabledReason ?? "")"])
                    }
                }
                try await env.store.recordAttempt(attempt, endpoint: endpoint, audit: audit)
                guard attempt.succeeded, batch.count == WebhookEndpoint.batch else { break }
            }
        }
        return attempts
    }

    /// Posts the changes; never throws: what went wrong is the attempt's.
    func post(_ changes: [Change], to endpoint: WebhookEndpoint) async -> WebhookAttempt {
        let started = ContinuousClock.now
        let body = Self.body(changes)
        let timestamp = env.now() / 1_000
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Flywheel-Webhooks/1")
        request.headers.add(name: "Flywheel-Signature", value: Self.signature(body: body, secret: endpoint.secret, timestamp: timestamp))
        request.headers.add(name: "Flywheel-Delivery", value: "\(changes[0].seq)-\(changes[changes.count - 1].seq)")
        request.body = .bytes(ByteBuffer(bytes: body))
        var status: Int?
        var error: String?
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            status = Int(response.status.code)
            _ = try? await response.body.collect(upTo: 64 << 10)
        } catch let failure {
            error = String("\(failure)".prefix(500))
        }
        let elapsed = ContinuousClock.now - started
        return WebhookAttempt(id: env.newId("whd"), endpointId: endpoint.id, firstSeq: changes[0].seq, lastSeq: changes[changes.count - 1].seq,
                              status: status, error: error, milliseconds: Int(elapsed.milliseconds),
                              at: env.now())
    }

    /// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: a receiver recomputes it with the
    /// endpoint's secret and refuses an old timestamp, so a captured post cannot be replayed later.
    public static func signature(body: [UInt8], secret: String, timestamp: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + body, using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(timestamp),v1=\(Array(mac).hex)"
    }

    /// `{"changes": [...]}`, each change as the stream sends it.
    static func body(_ changes: [Change]) -> [UInt8] {
        let list = changes.map(Self.json)
        return (try? JSONSerialization.data(withJSONObject: ["changes": list], options: [.sortedKeys])).map(Array.init) ?? []
    }

    /// A change as JSON: the same shape in webhooks, the stream and `GET /v1/changes`.
    public static func json(_ change: Change) -> [String: Any] {
        ["id": String(change.seq), "kind": change.kind.rawValue, "tenantId": change.tenantId, "accountId": change.accountId, "openId": change.openId,
         "at": Date(timeIntervalSince1970: Double(change.at) / 1_000).formatted(.iso8601), "data": change.data]
    }
}
