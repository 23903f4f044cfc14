import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// What the server takes in at once, and how slowly it may be sent (`flywheel serve` flags;
/// docs/scaling.md, "Floods and slow clients"). What is over a bound is refused at once with
/// `Retry-After`, never queued without end.
public struct ServerLimits: Sendable, Equatable {
    /// Seconds a connection may sit with nothing read or written before it is closed: an idle
    /// keep-alive connection, or a client that stopped in the middle of its body.
    public var idleTimeout: Int
    /// Seconds the server may wait for a request body's chunks in all, plus one second for every
    /// `minimumBodyRate` bytes of it; a slower body closes the connection.
    public var readTimeout: Int
    /// Connections open at once; further ones wait in the listen backlog until one closes.
    public var maxConnections: Int
    /// Requests being answered at once; beyond it the answer is 503 with `Retry-After: 1`.
    public var maxRequests: Int
    /// Bytes of request bodies held at once across all requests; beyond it 503 with
    /// `Retry-After: 1`. At least the largest single body a route takes (the 64 MiB CRM import).
    public var maxBodyBytesInFlight: Int

    /// The slowest a long body may arrive on average once `readTimeout` has passed: 16 KiB/s.
    public static let minimumBodyRate = 16 << 10

    public init(idleTimeout: Int = 30, readTimeout: Int = 10, maxConnections: Int = 2_048, maxRequests: Int = 1_024,
                maxBodyBytesInFlight: Int = 128 << 20) {
        self.idleTimeout = idleTimeout
        self.readTimeout = readTimeout
        self.maxConnections = maxConnections
        self.maxRequests = maxRequests
        self.maxBodyBytesInFlight = maxBodyBytesInFlight
    }
}

/// The process's count of requests in flight and of the body bytes they hold.
final class AdmissionGate: Sendable {
    private struct State {
        var requests = 0
        var bodyBytes = 0
    }

    let limits: ServerLimits
    private let state = Mutex(State())

    init(_ limits: ServerLimits) { self.limits = limits }

    /// A request may start; false when `maxRequests` are already in flight.
    func enter() -> Bool {
        let most = limits.maxRequests
        return state.withLock { state in
            guard state.requests < most else { return false }
            state.requests += 1
            return true
        }
    }

    /// A request is answered: its slot and the body bytes it took go back.
    func leave(bodyBytes: Int) {
        state.withLock { state in
            state.requests -= 1
            state.bodyBytes -= bodyBytes
        }
    }

    /// Takes `bytes` of the body allowance; false when they would go over it.
    func take(_ bytes: Int) -> Bool {
        let most = limits.maxBodyBytesInFlight
        return state.withLock { state in
            guard state.bodyBytes + bytes <= most else { return false }
            state.bodyBytes += bytes
            return true
        }
    }

    /// Requests in flight and body bytes held, for tests and `/metrics`.
    var inFlight: (requests: Int, bodyBytes: Int) {
        state.withLock { ($0.requests, $0.bodyBytes) }
    }
}

/// One request's share: the body bytes it has taken, and how long the server has waited for them.
final class BodyTicket: Sendable {
    let gate: AdmissionGate
    let channel: any Channel
    private let taken = Mutex(0)
    /// Time spent waiting for the client's chunks only: a server busy elsewhere before it reads the
    /// body (a loaded machine, a queue for the database) does not make the client slow.
    private let waited = Mutex(Duration.zero)

    init(gate: AdmissionGate, channel: any Channel) {
        self.gate = gate
        self.channel = channel
    }

    var takenBytes: Int { taken.withLock { $0 } }

    /// Counts a chunk of the body as it arrives, after `wait` spent waiting for it.
    func admit(_ bytes: Int, after wait: Duration) throws {
        guard gate.take(bytes) else {
            throw APIError(.serviceUnavailable, "overloaded", "the server holds too many request bodies at once; try again in a second",
                           retryAfter: 1)
        }
        let total = taken.withLock { taken in
            taken += bytes
            return taken
        }
        let allowed = Duration.seconds(gate.limits.readTimeout) + .seconds(Double(total) / Double(ServerLimits.minimumBodyRate))
        let slow = waited.withLock { waited in
            waited += wait
            return waited
        }
        if slow > allowed {
            // Nothing more is read from a client this slow: the connection goes, and the answer with it.
            channel.close(promise: nil)
            throw APIError(.requestTimeout, "body_too_slow", "the body arrived too slowly; send it at \(ServerLimits.minimumBodyRate >> 10) KiB/s or faster")
        }
    }
}

/// A request body that counts its chunks against the ticket as the route reads them.
struct AdmittedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let ticket: BodyTicket

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let ticket: BodyTicket

        mutating func next() async throws -> ByteBuffer? {
            let asked = ContinuousClock.now
            guard let chunk = try await base.next() else { return nil }
            try ticket.admit(chunk.readableBytes, after: .now - asked)
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), ticket: ticket)
    }
}

/// Admission control, before any other work: at most `maxRequests` requests in flight, at most
/// `maxBodyBytesInFlight` bytes of bodies held across them, each body on time. The idle timeout
/// and the connection cap are the HTTP server's own (`buildApplication`).
struct AdmissionMiddleware: RouterMiddleware {
    let gate: AdmissionGate

    func handle(_ request: Request, context: FlywheelRequestContext,
                next: (Request, FlywheelRequestContext) async throws -> Response) async throws -> Response {
        guard gate.enter() else {
            throw APIError(.serviceUnavailable, "overloaded", "the server is answering too many requests at once; try again in a second",
                           retryAfter: 1)
        }
        let ticket = BodyTicket(gate: gate, channel: context.channel)
        defer { gate.leave(bodyBytes: ticket.takenBytes) }
        var request = request
        if Self.hasBody(request) {
            request.body = RequestBody(asyncSequence: AdmittedBody(base: request.body, ticket: ticket))
        }
        return try await next(request, context)
    }

    /// HTTP/1.1 sends a body only with a length or a transfer coding.
    static func hasBody(_ request: Request) -> Bool {
        if let length = request.headers[.contentLength] { return length != "0" }
        return request.headers[.transferEncoding] != nil
    }
}
