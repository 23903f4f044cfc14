import FlywheelDomain
import Foundation

/// Why a webhook body could not be read.
public struct WebhookDecodingError: Error, Equatable, Sendable {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// A platform push, decoded: the envelope with `content` parsed whether it came as an object or
/// as a JSON string holding one.
public struct WebhookEnvelope: Sendable {
    public var event: String
    public var clientKey: String
    public var fromUserId: String
    public var toUserId: String
    public var logId: String
    /// The parsed `content` object, kept as JSON data so the type stays Sendable.
    public var content: JSONObject

    /// The longest envelope string accepted (ids and keys are a few dozen characters).
    public static let maxFieldLength = 200

    /// A body's top level, read before its signature is checked: UTF-8, a JSON object, and the
    /// `client_key` that names whose secret signs it. Nothing else is looked at until the
    /// signature holds, so an unsigned body learns nothing about what a signed one would need.
    public struct Opened: @unchecked Sendable {
        // Only ever holds values produced by JSONSerialization, which are immutable.
        let root: [String: Any]
        public let clientKey: String
    }

    public static func open(_ body: some Collection<UInt8>) throws(WebhookDecodingError) -> Opened {
        // Replacing bad bytes would merge two different ids into one fan: refuse them.
        guard String(validating: body, as: UTF8.self) != nil else {
            throw WebhookDecodingError(field: "body", message: "body is not valid UTF-8")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)), let root = object as? [String: Any] else {
            throw WebhookDecodingError(field: "body", message: "body is not a JSON object")
        }
        for field in ["event", "client_key", "from_user_id", "to_user_id", "log_id"] {
            if let value = root[field], !(value is String), !(value is NSNull) {
                throw WebhookDecodingError(field: field, message: "'\(field)' must be a string")
            }
            if let value = root[field] as? String, value.count > maxFieldLength {
                throw WebhookDecodingError(field: field, message: "'\(field)' is \(value.count) characters; at most \(maxFieldLength)")
            }
        }
        return Opened(root: root, clientKey: root["client_key"] as? String ?? "")
    }

    public static func decode(_ body: some Collection<UInt8>) throws(WebhookDecodingError) -> WebhookEnvelope {
        try decode(try open(body))
    }

    /// The rest of a body opened (and, on the webhook, signed).
    public static func decode(_ opened: Opened) throws(WebhookDecodingError) -> WebhookEnvelope {
        let root = opened.root
        guard let event = root["event"] as? String, !event.isEmpty else {
            throw WebhookDecodingError(field: "event", message: "'event' must be a non-empty string")
        }
        let content: [String: Any]
        switch root["content"] {
        case let object as [String: Any]:
            content = object
        case let text as String:
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw WebhookDecodingError(field: "content", message: "'content' is a string but not a JSON object")
            }
            content = parsed
        case nil, is NSNull:
            content = [:]
        default:
            throw WebhookDecodingError(field: "content", message: "'content' must be an object or a JSON string holding one")
        }
        return WebhookEnvelope(
            event: event, clientKey: opened.clientKey, fromUserId: root["from_user_id"] as? String ?? "",
            toUserId: root["to_user_id"] as? String ?? "", logId: root["log_id"] as? String ?? "", content: JSONObject(content))
    }

    /// The handshake's answer body, `{"challenge": <same value>}`, or nil for other events.
    public var challengeReply: Data? {
        guard event == "verify_webhook", let challenge = content.raw["challenge"] else { return nil }
        return try? JSONSerialization.data(withJSONObject: ["challenge": challenge])
    }

    /// The push as a typed platform event.
    public var platformEvent: PlatformEvent { PlatformEvent(self) }
}

/// A parsed JSON object with typed accessors tolerant of the platform's mixed encodings.
public struct JSONObject: @unchecked Sendable {
    // Only ever holds values produced by JSONSerialization, which are immutable.
    public let raw: [String: Any]

    init(_ raw: [String: Any]) { self.raw = raw }

    func string(_ key: String) -> String? { (raw[key] as? String).flatMap { $0.isEmpty ? nil : $0 } }

    func int(_ key: String) -> Int64? {
        switch raw[key] {
        case let n as NSNumber: n.int64Value
        case let s as String: Int64(s)
        default: nil
        }
    }

    /// A platform time in milliseconds: IM events send milliseconds, follow and digg events seconds;
    /// anything below 10^11 is taken as seconds.
    func millis(_ key: String) -> Int64? {
        guard let t = int(key), t > 0 else { return nil }
        return t < 100_000_000_000 ? t * 1000 : t
    }
}
