/// Reads the usual shape of an import line in one pass over its bytes: a flat JSON object whose
/// values are strings, integers or null, with `attributes` an object of strings. Anything else
/// (an ISO date, a fraction, a nested value, a repeated key, a syntax error) gives nil, and the
/// line goes through `JSONDecoder`, which reads every form and names what is wrong. Foundation's
/// decoder was most of the time `flywheel import` took.
struct ImportLineReader {
    private let bytes: [UInt8]
    private var at = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    static func read(_ line: Substring) -> EventImport.Raw? {
        var reader = ImportLineReader(Array(line.utf8))
        return reader.object()
    }

    private mutating func object() -> EventImport.Raw? {
        var id, account, kind, openId, domain, channel, ref: String?
        var occurredAt, amount: Int64?
        var attributes: [String: String]?
        var seen = Set<String>()
        guard take(UInt8(ascii: "{")) else { return nil }
        if !take(UInt8(ascii: "}")) {
            repeat {
                guard let key = string(), seen.insert(key).inserted, take(UInt8(ascii: ":")) else { return nil }
                switch key {
                case "id": guard optionalString(&id) else { return nil }
                case "account": guard optionalString(&account) else { return nil }
                case "kind": guard let v = string() else { return nil }; kind = v
                case "openId": guard let v = string() else { return nil }; openId = v
                case "occurredAt": guard let v = integer() else { return nil }; occurredAt = v
                case "domain": guard optionalString(&domain) else { return nil }
                case "channel": guard let v = string() else { return nil }; channel = v
                case "amount":
                    if !null() {
                        guard let v = integer() else { return nil }
                        amount = v
                    }
                case "ref": guard optionalString(&ref) else { return nil }
                case "attributes":
                    if !null() {
                        guard let v = strings() else { return nil }
                        attributes = v
                    }
                default:
                    // Keys the format does not know are ignored, as the decoder does, if their value is simple.
                    guard null() || string() != nil || integer() != nil else { return nil }
                }
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "}")) else { return nil }
        }
        skipSpace()
        guard at == bytes.count, let kind, let openId, let occurredAt, let channel else { return nil }
        return EventImport.Raw(id: id, account: account, kind: kind, openId: openId, occurredAt: EventImport.Timestamp(millis: occurredAt),
                               domain: domain, channel: channel, amount: amount, ref: ref, attributes: attributes)
    }

    private mutating func optionalString(_ value: inout String?) -> Bool {
        if null() { return true }
        guard let v = string() else { return false }
        value = v
        return true
    }

    private mutating func strings() -> [String: String]? {
        var values: [String: String] = [:]
        guard take(UInt8(ascii: "{")) else { return nil }
        if take(UInt8(ascii: "}")) { return values }
        repeat {
            guard let key = string(), values[key] == nil, take(UInt8(ascii: ":")), let value = string() else { return nil }
            values[key] = value
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}")) ? values : nil
    }

    private mutating func skipSpace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return
            }
        }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard at < bytes.count, bytes[at] == byte else { return false }
        at += 1
        return true
    }

    private mutating func null() -> Bool {
        skipSpace()
        guard bytes[at...].starts(with: "null".utf8) else { return false }
        at += 4
        return true
    }

    private mutating func integer() -> Int64? {
        skipSpace()
        var i = at
        let negative = i < bytes.count && bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var value: Int64 = 0
        let digits = i
        while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (plus, o2) = times.addingReportingOverflow(Int64(bytes[i] - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = plus
            i += 1
        }
        // A fraction, an exponent or a leading zero is the decoder's to judge.
        guard i > digits, i - digits == 1 || bytes[digits] != UInt8(ascii: "0"),
              i == bytes.count || ![UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[i]) else { return nil }
        at = i
        return negative ? -value : value
    }

    private mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        var text: [UInt8] = []
        while at < bytes.count {
            let byte = bytes[at]
            at += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: text, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard at < bytes.count else { return nil }
                let escaped = bytes[at]
                at += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "u"):
                    guard let unit = hex4() else { return nil }
                    var scalarValue = UInt32(unit)
                    if (0xD800..<0xDC00).contains(unit) {
                        // A surrogate pair: the low half must follow as its own escape.
                        guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else { return nil }
                        at += 2
                        guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(scalarValue) else { return nil }
                    text.append(contentsOf: String(Character(scalar)).utf8)
                default: return nil
                }
            case 0..<0x20:
                return nil
            default:
                text.append(byte)
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt16? {
        guard at + 4 <= bytes.count else { return nil }
        var value: UInt16 = 0
        for byte in bytes[at..<at + 4] {
            guard let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { return nil }
            value = value << 4 | UInt16(digit)
        }
        at += 4
        return value
    }
}
