import FlywheelDomain

/// Reads the usual shape of an import line in one pass over its bytes: a flat JSON object whose
/// values are strings, integers or null, with `attributes` an object of strings. Anything else
/// (an ISO date, a fraction, a nested value, a repeated key, a syntax error) gives nil, and the
/// line goes through `JSONDecoder`, which reads every form and names what is wrong. Foundation's
/// decoder was most of the time `flywheel import` took.
enum ImportLineReader {
    static func read(_ line: Substring) -> EventImport.Raw? {
        var reader = JSONBytesReader(Array(line.utf8))
        return object(&reader)
    }

    private static func object(_ reader: inout JSONBytesReader) -> EventImport.Raw? {
        var id, account, kind, openId, domain, channel, ref: String?
        var occurredAt, amount: Int64?
        var attributes: [String: String]?
        var seen = Set<String>()
        guard reader.take(UInt8(ascii: "{")) else { return nil }
        if !reader.take(UInt8(ascii: "}")) {
            repeat {
                guard let key = reader.string(), seen.insert(key).inserted, reader.take(UInt8(ascii: ":")) else { return nil }
                switch key {
                case "id": guard optionalString(&id, &reader) else { return nil }
                case "account": guard optionalString(&account, &reader) else { return nil }
                case "kind": guard let v = reader.string() else { return nil }; kind = v
                case "openId": guard let v = reader.string() else { return nil }; openId = v
                case "occurredAt": guard let v = reader.integer() else { return nil }; occurredAt = v
                case "domain": guard optionalString(&domain, &reader) else { return nil }
                case "channel": guard let v = reader.string() else { return nil }; channel = v
                case "amount":
                    if !reader.null() {
                        guard let v = reader.integer() else { return nil }
                        amount = v
                    }
                case "ref": guard optionalString(&ref, &reader) else { return nil }
                case "attributes":
                    if !reader.null() {
                        guard let v = reader.strings() else { return nil }
                        attributes = v
                    }
                default:
                    // Keys the format does not know are ignored, as the decoder does, if their value is simple.
                    guard reader.null() || reader.string() != nil || reader.integer() != nil else { return nil }
                }
            } while reader.take(UInt8(ascii: ","))
            guard reader.take(UInt8(ascii: "}")) else { return nil }
        }
        guard reader.atEnd, let kind, let openId, let occurredAt, let channel else { return nil }
        return EventImport.Raw(id: id, account: account, kind: kind, openId: openId, occurredAt: EventImport.Timestamp(millis: occurredAt),
                               domain: domain, channel: channel, amount: amount, ref: ref, attributes: attributes)
    }

    private static func optionalString(_ value: inout String?, _ reader: inout JSONBytesReader) -> Bool {
        if reader.null() { return true }
        guard let v = reader.string() else { return false }
        value = v
        return true
    }
}
