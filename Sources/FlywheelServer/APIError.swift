import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelStore
import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// An error answer: `{"error": {"code": "...", "message": "..."}}` with a stable code and a message
/// that names the field and says what to do.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// Seconds after which trying again makes sense (`Retry-After`), for 429 and 503 answers.
    public var retryAfter: Int?
    /// The methods a path does answer (`Allow`), for 405 answers.
    public var allow: [String]?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, retryAfter: Int? = nil, allow: [String]? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
        self.allow = allow
    }

    static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.badRequest, "invalid_field", "\(field): \(message)")
    }

    static func notFound(_ what: String) -> APIError { APIError(.notFound, "not_found", "\(what) not found") }

    static let forbidden = APIError(.forbidden, "forbidden", "your role does not allow this; ask an owner or admin of the tenant")

    public var headers: HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if let allow { headers[.allow] = allow.joined(separator: ", ") }
        return headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        // Sorted keys: the same error is the same bytes (answers meant alike must be alike).
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(ErrorBody(error: .init(code: code, message: message)))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

struct ErrorBody: Codable {
    struct Inner: Codable { var code: String; var message: String }
    var error: Inner
}

/// Turns every error a route throws into an `APIError`, so no answer is ever a bare 500 or a dump.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The router's routes, to tell a path that does not exist (404) from a method it does not answer (405).
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            switch error.status {
            case .notFound:
                let allowed = routes.methods(answering: request.uri.path)
                guard allowed.isEmpty else {
                    throw APIError(.methodNotAllowed, "method_not_allowed", "\(request.uri.path) answers \(allowed.joined(separator: ", ")), not \(request.method)",
                                   allow: allowed)
                }
                throw APIError(.notFound, "not_found", "no such route: \(request.method) \(request.uri.path); see /openapi.json")
            case .contentTooLarge: throw APIError(.contentTooLarge, "body_too_large", "the body is larger than \(Ingest.maxBodyBytes) bytes")
            default: throw APIError(error.status, "http_error", error.body ?? error.status.reasonPhrase)
            }
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "the body is larger than \(Ingest.maxBodyBytes) bytes")
        } catch let error as StoreError {
            switch error {
            // Only the field: the store's message is never an answer (it is Flywheel's own, but
            // the database's words must not reach a caller by any path).
            case .conflict(let field, _): throw APIError(.conflict, "conflict", "\(field) is already taken; choose another")
            case .refused(.lastOwner): throw APIError(.conflict, "last_owner", "the tenant's last active owner must stay; make another user owner first")
            case .refused(.changedMeanwhile): throw APIError(.conflict, "changed_meanwhile", "someone else changed it meanwhile; look again and retry")
            case .notFound(let what): throw APIError(.notFound, "not_found", "\(what) not found")
            case .corrupt(let what), .noWriter(let what):
                context.logger.error("stored data is corrupt", metadata: ["detail": "\(what)"])
                throw APIError(.internalServerError, "corrupt_data", "stored data could not be read; an operator has been told in the log")
            }
        } catch let error as UseCaseError {
            switch error {
            case .invalid(let field, let message): throw APIError.invalid(field, message)
            case .notFound(let what): throw APIError.notFound(what)
            case .conflict(let code, let message): throw APIError(.conflict, code, message)
            case .forbidden(let message): throw APIError(.forbidden, "forbidden", message)
            }
        } catch is AccessDenied {
            throw APIError.forbidden
        } catch let error as RuleError {
            guard case .invalid(let field, let message) = error else { throw error }
            throw APIError.invalid(field, message)
        } catch let error as Tagging.Failure {
            guard case .invalid(let field, let message) = error else { throw error }
            throw APIError.invalid(field, message)
        } catch let error as TokenSealer.Failure {
            switch error {
            case .noKey, .badKey: throw APIError(.serviceUnavailable, "secret_key_missing", error.description)
            case .unreadable:
                context.logger.error("a sealed token could not be opened", metadata: ["detail": "\(error)"])
                throw APIError(.internalServerError, "sealed_data_unreadable", error.description)
            }
        } catch let error as PlatformError {
            switch error {
            case .rateLimited: throw APIError(.serviceUnavailable, "platform_rate_limited", "\(error); try again in a second")
            default: throw APIError(.badGateway, "platform_error", error.description)
            }
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, "internal", "the server failed to answer; the error is in its log")
        }
    }
}

extension Request {
    /// Decodes the JSON body, naming the field that is missing or of the wrong type.
    func decodeJSON<T: Decodable>(_ type: T.Type, context: some RequestContext) async throws -> T {
        let buffer = try await body.collect(upTo: Ingest.maxBodyBytes)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw APIError.invalid(error.fieldPath, error.explanation)
        } catch let error as RuleError {
            guard case .invalid(let field, let message) = error else { throw error }
            throw APIError.invalid(field, message)
        } catch {
            throw APIError.invalid("body", "not valid JSON")
        }
    }

    /// Decodes the JSON body when there is one; nil for an empty body (every field optional).
    func decodeJSONIfPresent<T: Decodable>(_ type: T.Type, context: some RequestContext) async throws -> T? {
        let buffer = try await body.collect(upTo: Ingest.maxBodyBytes)
        guard String(buffer: buffer).contains(where: { !$0.isWhitespace }) else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw APIError.invalid(error.fieldPath, error.explanation)
        } catch {
            throw APIError.invalid("body", "not valid JSON")
        }
    }

    /// A query parameter, read as browsers and form encoders send it (`+` is a space); nil when
    /// absent or empty.
    func query(_ name: String) -> String? {
        for pair in (uri.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.first.flatMap({ $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }) == name else { continue }
            let value = parts.count > 1 ? String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" : ""
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// An integer query parameter, `otherwise` when absent; the range is the use case's to check.
    func integer(_ name: String, otherwise: Int) throws -> Int {
        guard let text = query(name) else { return otherwise }
        guard let n = Int(text) else { throw APIError.invalid(name, "must be an integer") }
        return n
    }

    /// `?limit=` bounded to 1...500, 50 when absent.
    func pageLimit() throws -> Int {
        guard let text = query("limit") else { return 50 }
        guard let n = Int(text), (1...500).contains(n) else { throw APIError.invalid("limit", "must be an integer from 1 to 500") }
        return n
    }
}

extension DecodingError {
    var fieldPath: String {
        let path: [any CodingKey]
        switch self {
        case .keyNotFound(let key, let c): path = c.codingPath + [key]
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): path = c.codingPath
        @unknown default: path = []
        }
        let names = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        return names.isEmpty ? "body" : names.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    var explanation: String {
        switch self {
        case .keyNotFound: "is required"
        case .typeMismatch(let type, _): "must be \(type == String.self ? "a string" : type == Int.self ? "an integer" : type == Bool.self ? "true or false" : "of type \(type)")"
        case .valueNotFound: "must not be null"
        case .dataCorrupted(let c): c.debugDescription.contains("JSON") ? "not valid JSON" : c.debugDescription
        @unknown default: "is invalid"
        }
    }
}

/// The router's paths and their methods, filled once the routes are added.
final class RouteTable: Sendable {
    private let routes = Mutex<[(segments: [Substring], method: String)]>([])

    func record(_ described: [(path: String, method: String)]) {
        routes.withLock { $0 = described.map { ($0.path.split(separator: "/"), $0.method) } }
    }

    /// The methods of the routes whose path matches `path` (a `:name` segment matches any).
    func methods(answering path: String) -> [String] {
        let segments = path.split(separator: "/")
        return routes.withLock { routes in
            Set(routes.filter { route in
                route.segments.count == segments.count && zip(route.segments, segments).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
            }.map(\.method)).sorted()
        }
    }
}
