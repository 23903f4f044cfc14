import Crypto
import FlywheelPlatform
import FlywheelDomain
import Foundation

/// The NDJSON import format (docs/events.md): one normalized event per line.
public enum EventImport {
    /// A line that could not be imported: which line and what to fix.
    public struct LineError: Error, Equatable, Sendable, CustomStringConvertible {
        public var line: Int
        public var field: String
        public var message: String
        public var description: String { "line \(line): \(field): \(message)" }
    }

    /// One parsed line: the event and the account it names (nil: the importer's default account).
    public struct Line: Sendable, Equatable {
        public var account: String?
        public var event: FanEvent
    }

    struct Raw: Decodable {
        var id: String?
        var account: String?
        var kind: String
        var openId: String
        var occurredAt: Timestamp
        var domain: String?
        var channel: String
        var amount: Int64?
        var ref: String?
        var attributes: [String: String]?
    }

    /// Milliseconds since 1970, or an ISO 8601 date-time with its offset.
    struct Timestamp: Decodable {
        var millis: Int64

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let ms = try? c.decode(Int64.self) {
                millis = ms
                return
            }
            let text = try c.decode(String.self)
            var parsed = try? Date(text, strategy: .iso8601)
            if parsed == nil { parsed = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) }
            guard let date = parsed else {
                throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "must be milliseconds since 1970 or an ISO 8601 date-time such as 2026-03-01T08:00:00+08:00"))
            }
            millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        }
    }

    /// Parses one line (numbered from 1 for messages).
    public static func parse(_ text: Substring, line: Int) throws(LineError) -> Line {
        let raw: Raw
        do {
            raw = try JSONDecoder().decode(Raw.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw LineError(line: line, field: error.importField, message: error.importMessage)
        } catch {
            throw LineError(line: line, field: "line", message: "not a JSON object")
        }
        func fail(_ field: String, _ message: String) -> LineError { LineError(line: line, field: field, message: message) }
        guard let kind = EventKind(rawValue: raw.kind) else {
            throw fail("kind", "unknown kind '\(raw.kind)'; one of \(EventKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let channel = Channel(rawValue: raw.channel) else {
            throw fail("channel", "unknown channel '\(raw.channel)'; one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var domain: SourceDomain?
        if let d = raw.domain {
            guard let parsed = SourceDomain(rawValue: d) else { throw fail("domain", "unknown domain '\(d)'; one of public, commercial, private, offsite") }
            domain = parsed
        }
        guard (1...200).contains(raw.openId.count) else { throw fail("openId", "must be 1 to 200 characters") }
        let amount = raw.amount ?? 0
        if kind.carriesAmount {
            guard amount > 0 else { throw fail("amount", "\(kind.rawValue) needs a positive amount (\(kind == .liveWatch ? "minutes" : "fen"))") }
        } else if amount != 0 {
            throw fail("amount", "\(kind.rawValue) carries no amount; leave it out")
        }
        if let id = raw.id, !(1...200).contains(id.count) { throw fail("id", "must be 1 to 200 characters") }
        var event = FanEvent(id: "", kind: kind, openId: raw.openId, occurredAt: raw.occurredAt.millis, domain: domain,
                             channel: channel, amount: amount, ref: raw.ref, attributes: raw.attributes ?? [:])
        event.id = raw.id ?? contentId(event, account: raw.account)
        return Line(account: raw.account, event: event)
    }

    /// An id from the content, so a line without one is still imported once however often it is loaded.
    static func contentId(_ e: FanEvent, account: String?) -> String {
        let attributes = e.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        let canonical = [account ?? "", e.kind.rawValue, e.openId, String(e.occurredAt), e.domain.rawValue, e.channel.rawValue,
                         String(e.amount), e.ref ?? "", attributes].joined(separator: "\u{1F}")
        return "sha256:" + Array(SHA256.hash(data: Array(canonical.utf8))).hex
    }

    /// Renders an event as an import line: the inverse of `parse`.
    public static func line(_ event: FanEvent, account: String?) -> String {
        var object: [String: Any] = [
            "id": event.id, "kind": event.kind.rawValue, "openId": event.openId, "occurredAt": event.occurredAt,
            "domain": event.domain.rawValue, "channel": event.channel.rawValue,
        ]
        if let account { object["account"] = account }
        if event.amount != 0 { object["amount"] = event.amount }
        if let ref = event.ref { object["ref"] = ref }
        if !event.attributes.isEmpty { object["attributes"] = event.attributes }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

extension DecodingError {
    var importField: String {
        switch self {
        case .keyNotFound(let key, _): key.stringValue
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): c.codingPath.map(\.stringValue).joined(separator: ".").isEmpty ? "line" : c.codingPath.map(\.stringValue).joined(separator: ".")
        @unknown default: "line"
        }
    }

    var importMessage: String {
        switch self {
        case .keyNotFound: "is required"
        case .typeMismatch(let type, _): "has the wrong type (expected \(type))"
        case .valueNotFound: "must not be null"
        case .dataCorrupted(let c): c.codingPath.isEmpty ? "not a JSON object" : c.debugDescription
        @unknown default: "is invalid"
        }
    }
}
