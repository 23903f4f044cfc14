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

        public init(line: Int, field: String, message: String) {
            self.line = line
            self.field = field
            self.message = message
        }
    }

    /// One parsed line: the event and the account it names (nil: the importer's default account).
    public struct Line: Sendable, Equatable {
        public var account: String?
        public var event: FanEvent
    }

    struct Raw: Decodable, Equatable {
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
    struct Timestamp: Decodable, Equatable {
        var millis: Int64

        init(millis: Int64) { self.millis = millis }

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
            // Out-of-range dates become a time the bounds check refuses, never a trap.
            millis = Int64(exactly: (date.timeIntervalSince1970 * 1000).rounded()) ?? .max
        }
    }

    /// The non-blank lines of an NDJSON body, numbered from 1, each checked to be UTF-8: a byte that
    /// is not is refused with its line and field, never replaced (two ids that differ only in bad
    /// bytes would otherwise become one fan).
    public static func lines(_ bytes: some Collection<UInt8>) throws(LineError) -> [(number: Int, text: Substring)] {
        // Over the bytes in place: a generic `split` of a 160 MB file took longer than parsing it.
        let result = bytes.withContiguousStorageIfAvailable { buffer in Result { () throws(LineError) in try lines(in: buffer) } }
            ?? Array(bytes).withUnsafeBufferPointer { buffer in Result { () throws(LineError) in try lines(in: buffer) } }
        return try result.get()
    }

    private static func lines(in bytes: UnsafeBufferPointer<UInt8>) throws(LineError) -> [(number: Int, text: Substring)] {
        var lines: [(number: Int, text: Substring)] = []
        var start = 0
        var number = 0
        while start <= bytes.count {
            number += 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<end])
            start = end + 1
            guard let text = String(validating: raw, as: UTF8.self) else {
                // Which value holds the bad bytes: read the line leniently and look for the replacement mark.
                let lenient = String(decoding: raw, as: UTF8.self)
                let object = (try? JSONSerialization.jsonObject(with: Data(lenient.utf8))) as? [String: Any] ?? [:]
                let field = object.first { ($0.value as? String)?.contains("\u{FFFD}") ?? false }?.key
                    ?? (object["attributes"] as? [String: Any]).map { _ in "attributes" } ?? "line"
                throw LineError(line: number, field: field, message: "is not valid UTF-8; send text as UTF-8")
            }
            // Spaces and tabs around a line are dropped (Foundation's trimming cost more than the parse).
            let scalars = text.unicodeScalars
            let isSpace: (Unicode.Scalar) -> Bool = { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }
            guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) }) else { continue }
            lines.append((number, Substring(scalars[first...last])))
        }
        return lines
    }

    /// Parses one line (numbered from 1 for messages).
    public static func parse(_ text: Substring, line: Int) throws(LineError) -> Line {
        let raw: Raw
        if let read = ImportLineReader.read(text) {
            raw = read
        } else {
            do {
                raw = try JSONDecoder().decode(Raw.self, from: Data(text.utf8))
            } catch let error as DecodingError {
                throw LineError(line: line, field: error.importField, message: error.importMessage)
            } catch {
                throw LineError(line: line, field: "line", message: "not a JSON object")
            }
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
        var event = FanEvent(id: raw.id ?? "", kind: kind, openId: raw.openId, occurredAt: raw.occurredAt.millis, domain: domain,
                             channel: channel, amount: raw.amount ?? 0, ref: raw.ref, attributes: raw.attributes ?? [:])
        if raw.id == nil { event.id = contentId(event, account: raw.account) }
        do { try event.check() } catch { throw fail(error.field, error.message) }
        return Line(account: raw.account, event: event)
    }

    /// An id from the content, so a line without one is still imported once however often it is
    /// loaded: the SHA-256 of its fields joined by U+001F. The log keeps it, so the bytes never
    /// change; they are put together as bytes (joining strings was a fifth of the time).
    public static func contentId(_ e: FanEvent, account: String?) -> String {
        var canonical: [UInt8] = []
        canonical.reserveCapacity(160)
        let attributes = e.attributes.isEmpty ? "" : e.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        for (i, field) in [account ?? "", e.kind.rawValue, e.openId, String(e.occurredAt), e.domain.rawValue, e.channel.rawValue,
                           String(e.amount), e.ref ?? "", attributes].enumerated() {
            if i > 0 { canonical.append(0x1F) }
            canonical.append(contentsOf: field.utf8)
        }
        return "sha256:" + SHA256.hash(data: canonical).hex
    }

    /// Renders an event as an import line, keys in order: the inverse of `parse`. Written byte by
    /// byte (Foundation's serializer took 100 µs a line: most of a million-line bench's time).
    public static func line(_ event: FanEvent, account: String?) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(160)
        var first = true
        func key(_ name: String) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            JSONText.quote(name, into: &out)
            out.append(UInt8(ascii: ":"))
        }
        if let account { key("account"); JSONText.quote(account, into: &out) }
        if event.amount != 0 { key("amount"); out.append(contentsOf: String(event.amount).utf8) }
        if !event.attributes.isEmpty { key("attributes"); out.append(contentsOf: JSONText.object(event.attributes).utf8) }
        key("channel"); JSONText.quote(event.channel.rawValue, into: &out)
        key("domain"); JSONText.quote(event.domain.rawValue, into: &out)
        key("id"); JSONText.quote(event.id, into: &out)
        key("kind"); JSONText.quote(event.kind.rawValue, into: &out)
        key("occurredAt"); out.append(contentsOf: String(event.occurredAt).utf8)
        key("openId"); JSONText.quote(event.openId, into: &out)
        if let ref = event.ref { key("ref"); JSONText.quote(ref, into: &out) }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
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
