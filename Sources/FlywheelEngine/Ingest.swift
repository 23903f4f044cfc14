import FlywheelDomain
import FlywheelPlatform
import FlywheelStore
import Foundation
import Metrics

/// Receives the platform's signed pushes: verify, decode, store durably, then acknowledge.
/// Never projects: the platform gives up after 5 s.
public struct Ingest: Sendable {
    /// Largest body accepted; the platform's pushes are a few KB.
    public static let maxBodyBytes = 1 << 20

    let env: FlywheelEnvironment
    private let writer: GroupCommit
    private let routes = RouteCache()
    private let received: Counter
    private let duplicates: Counter
    private let overloaded: Counter

    /// - Parameter maxWaitingDeliveries: deliveries that may wait for the next group commit;
    ///   beyond it a delivery is refused (`Rejection.overloaded`) and the platform retries it.
    public init(_ env: FlywheelEnvironment, maxWaitingDeliveries: Int = 10_000) {
        self.env = env
        let store = env.store
        writer = GroupCommit(maxWaiting: maxWaitingDeliveries) { try await store.ingest($0) }
        received = Counter(label: "flywheel_webhook_deliveries_total", factory: env.metrics)
        duplicates = Counter(label: "flywheel_webhook_duplicates_total", factory: env.metrics)
        overloaded = Counter(label: "flywheel_webhook_refused_overloaded_total", factory: env.metrics)
    }

    public enum Reply: Sendable, Equatable {
        /// Answer to `verify_webhook`: the JSON body to send back.
        case challenge(Data)
        case stored(events: Int)
        case duplicate
    }

    public enum Rejection: Error, Equatable, Sendable {
        case malformed(field: String, String)
        case unknownApp(String)
        case badSignature
        /// The store is behind and too many deliveries already wait: answer 503 with
        /// `Retry-After`; the platform retries.
        case overloaded
    }

    /// `msgId` is the `Msg-Id` header; without one the body's hash identifies the delivery.
    public func receive(body: [UInt8], signature: String?, msgId: String?) async throws -> Reply {
        let opened: WebhookEnvelope.Opened
        do {
            opened = try WebhookEnvelope.open(body)
        } catch {
            throw Rejection.malformed(field: error.field, error.message)
        }
        guard !opened.clientKey.isEmpty else { throw Rejection.malformed(field: "client_key", "'client_key' is required to find the app's secret") }
        guard let app = try await app(clientKey: opened.clientKey) else {
            // A signature check all the same, so an unknown client_key takes as long as a wrong signature.
            _ = WebhookSignature.isValid(signature ?? "", body: body, secret: "")
            throw Rejection.unknownApp(opened.clientKey)
        }
        guard let signature, WebhookSignature.isValid(signature, body: body, secret: app.clientSecret) else { throw Rejection.badSignature }
        let envelope: WebhookEnvelope
        do {
            envelope = try WebhookEnvelope.decode(opened)
        } catch {
            throw Rejection.malformed(field: error.field, error.message)
        }
        if let reply = envelope.challengeReply { return .challenge(reply) }

        if let msgId, msgId.count > WebhookEnvelope.maxFieldLength {
            throw Rejection.malformed(field: "Msg-Id", "the header is \(msgId.count) characters; at most \(WebhookEnvelope.maxFieldLength)")
        }
        let now = env.now()
        // The body's own digest: what identifies a delivery without Msg-Id, and its events always.
        let digest = WebhookSignature.sign(body: body, secret: "")
        let deliveryId = msgId.flatMap { $0.isEmpty ? nil : $0 } ?? "sha1:" + digest
        var account: Account?
        for candidate in [envelope.toUserId, envelope.fromUserId] where account == nil && !candidate.isEmpty {
            account = try await self.account(app: app, openId: candidate, now: now)
        }
        // Event ids come from the signed body, not the unsigned Msg-Id header: a captured push sent
        // again under a new Msg-Id is stored as a delivery but counts nothing twice.
        let eventId = "dy:" + digest
        let events = account.map { envelope.platformEvent.fanEvents(accountOpenId: $0.openId, eventId: eventId, receivedAt: now) } ?? []
        for event in events {
            do { try event.check() } catch { throw Rejection.malformed(field: "content", "\(envelope.event) gives \(error)") }
        }
        let delivery = WebhookDelivery(tenantId: app.tenantId, appId: app.id, msgId: deliveryId, event: envelope.event,
                                       accountId: account?.id, receivedAt: now, body: String(decoding: body, as: UTF8.self))
        received.increment()
        let outcome: DeliveryOutcome
        do {
            outcome = try await writer.write(IncomingDelivery(delivery, events: events))
        } catch is GroupCommit.Full {
            overloaded.increment()
            throw Rejection.overloaded
        }
        switch outcome {
        case .duplicate:
            duplicates.increment()
            return .duplicate
        case .stored(let n):
            return .stored(events: n)
        }
    }

    private func app(clientKey: String) async throws -> PlatformApp? {
        let now = env.now()
        if let app = routes.app(clientKey, now: now) { return app }
        let app = try await env.store.app(clientKey: clientKey)
        if let app { routes.remember(app, now: now) }
        return app
    }

    private func account(app: PlatformApp, openId: String, now: Int64) async throws -> Account? {
        if let account = routes.account(app.id, openId, now: now) { return account }
        let account = try await env.store.account(tenantId: app.tenantId, appId: app.id, openId: openId)
        if let account { routes.remember(account, now: now) }
        return account
    }
}
