import FlywheelDomain

/// Reads the usual shape of an import line in one pass over its bytes: a flat JSON object whose
/// values are strings, integers or null, with `attributes` an object of strings. Anything else
/// (an ISO date, a fraction, a nested value, a repeated key, a syntax error) gives nil, and the
/// line goes through `JSONDecoder`, which reads every form and names what is wrong. Foundation's
/// decoder was most of the time `flywheel import` took.
enum ImportLineReader {
    static func read(_ line: Substring) -> EventImport.Raw? {
        // Copied at once where the line's bytes lie together (they do: the file is read whole).
        var reader = JSONBytesReader(line.utf8.withContiguousStorageIfAvailable { Array($0) } ?? Array(line.utf8))
        return object(&reader)
    }

    private static func object(_ reader: inout JSONBytesReader) -> EventImport.Raw? {
        var id, account, kind, openId, domain, channel, ref: String?
        var occurredAt, amount: Int64?
        var attributes: [String: String]?
        // A repeated key sends the line to the decoder. The format's own keys are marked in a bit
        // each: hashing every key into a set was a fifth of the parse.
        var seen: UInt16 = 0
        var others = Set<String>()
        func first(_ bit: UInt16) -> Bool {
            defer { seen |= bit }
            return seen & bit == 0
        }
        guard reader.take(UInt8(ascii: "{")) else { return nil }
        if !reader.take(UInt8(ascii: "}")) {
            repeat {
                guard let key = reader.string(), reader.take(UInt8(ascii: ":")) else { return nil }
                switch key {
                case "id": guard first(1 << 0), optionalString(&id, &reader) else { return nil }
                case "account": guard first(1 << 1), optionalString(&account, &reader) else { return nil }
                case "kind": guard first(1 << 2), let v = reader.string() else { return nil }; kind = v
                case "openId": guard first(1 << 3), let v = reader.string() else { return nil }; openId = v
                case "occurredAt": guard first(1 << 4), let v = reader.integer() else { return nil }; occurredAt = v
                case "domain": guard first(1 << 5), optionalString(&domain, &reader) else { return nil }
                case "channel": guard first(1 << 6), let v = reader.string() else { return nil }; channel = v
                case "amount":
                    guard first(1 << 7) else { return nil }
                    if !reader.null() {
                        guard let v = reader.integer() else { return nil }
                        amount = v
                    }
                case "ref": guard first(1 << 8), optionalString(&ref, &reader) else { return nil }
                case "attributes":
                    guard first(1 << 9) else { return nil }
                    if !reader.null() {
                        guard let v = reader.strings() else { return nil }
                        attributes = v
                    }
                default:
                    // Keys the format does not know are ignored, as the decoder does, if their value is simple.
                    guard others.insert(key).inserted, reader.null() || reader.string() != nil || reader.integer() != nil else { return nil }
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
