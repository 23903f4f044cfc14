@testable import FlywheelDomain
import Testing

/// The forms stores write fans in: read directly for speed, so each must keep the order of the
/// names that define the columns.
@Suite struct StoredFormTests {
    @Test func countersAreWrittenInTheOrderOfTheirColumnNames() {
        var counters = FanCounters()
        for (i, field) in FanCounters.fields.enumerated() { counters[keyPath: field.keyPath] = Int32(i + 1) }
        #expect(counters.values == (1...Int32(FanCounters.fields.count)).map { $0 })
    }

    @Test func profileAttributesAreWrittenInTheOrderOfTheirNames() {
        var profile = FanProfile()
        for attribute in FanProfile.attributes { profile[keyPath: attribute.keyPath] = attribute.name }
        #expect(profile.attributeValues == FanProfile.attributeNames)
    }

    @Test func theLedgerAndListsAreWrittenAsDecimalText() {
        var ledger = IntimacyLedger()
        _ = ledger.credit(420, on: 20_001, cap: 420)
        _ = ledger.credit(7, on: 20_003, cap: 420)
        #expect(ledger.encoded == "20001:420,20003:7")
        #expect(IntimacyLedger(encoded: ledger.encoded) == ledger)
        var list = DecimalText()
        for (i, n) in [0, 9, 10, -45, Int64.max, Int64.min].enumerated() {
            if i > 0 { list.append(",") }
            list.append(n)
        }
        #expect(list.text == "0,9,10,-45,9223372036854775807,-9223372036854775808")
        #expect(DecimalText().text == "")
    }
}

/// Event attributes are stored as a flat JSON object, written and read without Foundation.
@Suite struct JSONBytesTests {
    @Test func anyTextRoundTripsThroughAnObjectOfStrings() {
        let values = ["text": #"say "hi" \ {1,2}"#, "控制": "line\nbreak\ttab\u{01}", "emoji": "🚗价格", "empty": "", "/": "a/b"]
        let text = JSONText.object(values)
        var reader = JSONBytesReader(Array(text.utf8))
        #expect(reader.strings() == values && reader.atEnd)
        #expect(JSONText.object(["b": "2", "a": "1"]) == #"{"a":"1","b":"2"}"#)
        // A plain string ending the text, and DEL, which JSON leaves unescaped.
        var last = JSONBytesReader(Array("\"plain\u{7F}\"".utf8))
        #expect(last.string() == "plain\u{7F}" && last.atEnd)
    }

    @Test func foundationsFormsAreReadAndAnythingElseIsRefused() {
        var escaped = JSONBytesReader(Array(#" { "a" : "x\/y\u00e9\ud83d\ude97" } "#.utf8))
        #expect(escaped.strings() == ["a": "x/yé🚗"] && escaped.atEnd)
        for text in [#"{"a":1}"#, #"{"a":"x","a":"y"}"#, #"{"a":"x""#, #"["a"]"#, #"{"a":"\ud83d"}"#, "{\"a\":\"tab\tinside\"}"] {
            var reader = JSONBytesReader(Array(text.utf8))
            #expect(reader.strings() == nil, "\(text)")
        }
    }
}
