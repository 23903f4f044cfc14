import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// Where and how `flywheel serve` listens.
public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    /// Run the projector inside the server (off in tests, which drive it step by step).
    public var runProjector: Bool
    /// Take the client's address from `X-Forwarded-For` (its last entry: the one the proxy in
    /// front added), for the sign-in limiter, and whether it came over TLS from
    /// `X-Forwarded-Proto` (for `Secure` cookies). Only behind a proxy you run: otherwise a client
    /// picks its own address.
    public var trustProxy: Bool
    public var limits: ServerLimits

    public init(host: String = "127.0.0.1", port: Int = 8080, runProjector: Bool = true, trustProxy: Bool = false,
                limits: ServerLimits = ServerLimits()) {
        self.host = host
        self.port = port
        self.runProjector = runProjector
        self.trustProxy = trustProxy
        self.limits = limits
    }
}

/// The composition root: the one place effects are chosen, used by `main` and by the tests. The
/// platform is the real one unless told (the demo points it at the sandbox); without a sealer
/// holding `FLYWHEEL_SECRET_KEY`, accounts cannot be connected.
public func makeFlywheel(store: any Store, logger: Logger, limits: FlywheelLimits = FlywheelLimits(), platform: PlatformClient = .douyin,
                         sealer: TokenSealer = .unkeyed) -> (flywheel: Flywheel, registry: PrometheusCollectorRegistry) {
    let registry = PrometheusCollectorRegistry()
    let env = FlywheelEnvironment.live(store: store, metrics: PrometheusMetricsFactory(registry: registry), logger: logger,
                                       platform: platform, sealer: sealer)
    return (Flywheel(env, limits: limits), registry)
}

/// `services` run alongside the server (the demo's live simulation); `platform`, what Flywheel's
/// own services call (the demo's sandbox platform), is stopped after them, so nothing is cut off
/// mid-call at shutdown. `listening` runs once the server accepts connections.
public func buildApplication(_ flywheel: Flywheel, registry: PrometheusCollectorRegistry, settings: ServerSettings,
                             platform: [any Service] = [], services: [any Service] = [],
                             listening: @escaping @Sendable () async -> Void = {}) -> some ApplicationProtocol {
    let router = buildRouter(flywheel, registry: registry, settings: settings)
    let limits = settings.limits
    // The idle timeout closes a connection that stopped sending, mid-body included; beyond
    // `maxConnections` the server stops accepting and new connections wait in the backlog.
    var app = Application(router: router,
                          server: .http1(configuration: HTTP1Channel.Configuration(idleTimeout: .seconds(Int64(limits.idleTimeout)))),
                          configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "flywheel",
                                               availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: flywheel.env.logger)),
                          onServerRunning: { _ in await listening() },
                          logger: flywheel.env.logger)
    // Services stop in the reverse of the order they are added.
    for service in platform { app.addServices(service) }
    if settings.runProjector { app.addServices(flywheel.projector, flywheel.segmentClock, flywheel.tokenRefresher, flywheel.desk, flywheel.outbox, flywheel.reach, flywheel.conversion,
                                                  flywheel.shopSync,
                                                  Periodic("webhook delivery", every: .seconds(1), logger: flywheel.env.logger) { _ = try await flywheel.webhooks.deliverDue() },
                                                  Periodic("change retention", every: .seconds(3_600), logger: flywheel.env.logger) { try await flywheel.webhooks.prune() },
                                                  // The goals watched every minute; bulk jobs beyond a request worked, and resumed after a restart.
                                                  Periodic("goal watch", every: .seconds(60), logger: flywheel.env.logger) { _ = try await Goals(flywheel).watch() },
                                                  Periodic("bulk jobs", every: .seconds(1), logger: flywheel.env.logger) { try await BulkWork(flywheel).runPending() },
                                                  // Fans enter journeys in the projector's transaction; their due steps are taken within half a second.
                                                  Periodic("journeys", every: .milliseconds(500), logger: flywheel.env.logger) { try await flywheel.journeys.drain() }) }
    // Every server answers previews, with or without a projector.
    app.addServices(PreviewWarmer(flywheel.env, fanScan: flywheel.fanScan))
    for service in services { app.addServices(service) }
    return app
}

public func buildRouter(_ flywheel: Flywheel, registry: PrometheusCollectorRegistry,
                        settings: ServerSettings = ServerSettings()) -> Router<FlywheelRequestContext> {
    let router = Router(context: FlywheelRequestContext.self)
    // Outermost, so every answer carries them, refusals of the admission gate included.
    router.add(middleware: SecurityHeadersMiddleware())
    // First, before any work: requests and body bytes in flight, and bodies on time.
    let gate = AdmissionGate(settings.limits)
    router.add(middleware: AdmissionMiddleware(gate: gate))
    // Loaded once; when they cannot be, the console answers a plain-text error and the rest serves on.
    let consoleTemplates = ConsoleTemplates.load()
    if let problem = consoleTemplates.problem { flywheel.env.logger.error("console templates not loaded", metadata: ["problem": "\(problem)"]) }
    // Outside ErrorMiddleware: errors under /console become pages, after ErrorMiddleware made each an APIError.
    router.add(middleware: ConsoleErrorMiddleware(flywheel: flywheel, templates: consoleTemplates, trustProxy: settings.trustProxy))
    let routes = RouteTable()
    router.add(middleware: ErrorMiddleware(routes: routes))
    let openAPI = OpenAPIDocument.data

    router.get("/health") { _, _ -> Response in
        let failures = await flywheel.projector.failures()
        let quarantined = try await flywheel.env.store.quarantinedCount()
        // Public, so counts only: which accounts fail, and why, is in the server's log.
        struct Health: Encodable { var status: String; var projectorFailures: Int; var quarantinedEvents: Int }
        let body = try JSONEncoder().encode(Health(status: failures.isEmpty && quarantined == 0 ? "ok" : "degraded",
                                                   projectorFailures: failures.count, quarantinedEvents: quarantined))
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
    let quarantinedGauge = registry.makeGauge(descriptor: MetricNameDescriptor(
        namespace: "flywheel", metricName: "quarantined", unitName: "events", helpText: "Events set aside because they could not be applied"))
    let outboxGauges = Dictionary(uniqueKeysWithValues: OutboxState.allCases.map { state in
        (state, registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "flywheel", metricName: "outbox", unitName: "messages",
            helpText: "Messages in the outbox by state: pending and sending are still to go; failed were refused or gave up"), labels: [("state", state.rawValue)]))
    })
    router.get("/metrics") { _, _ -> Response in
        quarantinedGauge.set(Int64(try await flywheel.env.store.quarantinedCount()))
        let outbox = try await flywheel.env.store.outboxCounts()
        for (state, gauge) in outboxGauges { gauge.set(Int64(outbox[state] ?? 0)) }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                        body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
    router.get("/openapi.json") { _, _ -> Response in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: openAPI)))
    }
    router.post("/webhooks/douyin") { request, context -> Response in
        try await WebhookRoute.receive(request, context: context, ingest: flywheel.ingest)
    }
    ConnectionCallback.add(to: router, flywheel: flywheel)
    let v1 = router.group("v1").add(middleware: AuthMiddleware(tenancy: flywheel.tenancy))
    APIRoutes(flywheel: flywheel).add(to: v1)
    ConsoleRoutes(flywheel: flywheel, templates: consoleTemplates, trustProxy: settings.trustProxy).add(to: router)
    routes.record(router.routes.map { ("\($0.path)", $0.method.rawValue) })
    return router
}

/// `POST /webhooks/douyin`: the platform's one callback per app.
enum WebhookRoute {
    /// The answer to an unknown client_key and to a wrong or missing signature alike.
    static let refused = APIError(.unauthorized, "bad_signature", "the signature does not match")

    static func receive(_ request: Request, context: FlywheelRequestContext, ingest: Ingest) async throws -> Response {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Ingest.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "webhook bodies are limited to \(Ingest.maxBodyBytes) bytes")
        }
        let reply: Ingest.Reply
        do {
            reply = try await ingest.receive(body: Array(buffer: buffer), signature: request.headers[.douyinSignature],
                                             msgId: request.headers[.msgId])
        } catch let rejection as Ingest.Rejection {
            switch rejection {
            case .malformed(let field, let message): throw APIError.invalid(field, message)
            // One answer for both, so a caller cannot probe which client_keys exist; the log says which it was.
            case .unknownApp(let key):
                context.logger.notice("webhook refused: no platform app has this client_key", metadata: ["client_key": "\(key.prefix(200))"])
                throw refused
            case .badSignature:
                context.logger.notice("webhook refused: X-Douyin-Signature does not match sha1(client_secret + body)")
                throw refused
            case .overloaded:
                // Refused, not queued: the platform retries a push that was not acknowledged.
                throw APIError(.serviceUnavailable, "overloaded", "too many deliveries are waiting to be stored; retry in a second", retryAfter: 1)
            }
        }
        let body: Data
        switch reply {
        case .challenge(let data): body = data
        case .stored(let n): body = Data(#"{"status":"stored","events":\#(n)}"#.utf8)
        case .duplicate: body = Data(#"{"status":"duplicate","events":0}"#.utf8)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// The OpenAPI 3.1 document shipped with the server (Sources/FlywheelServer/openapi.json).
public enum OpenAPIDocument {
    public static let data: Data = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            return Data(#"{"error":"openapi.json missing from the build"}"#.utf8)
        }
        return data
    }()
}

extension HTTPField.Name {
    // Both literals are valid header tokens, so the initializer cannot return nil.
    static let douyinSignature = HTTPField.Name("X-Douyin-Signature")!
    static let msgId = HTTPField.Name("Msg-Id")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
}
