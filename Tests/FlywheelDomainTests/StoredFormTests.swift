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
        #expect(DecimalText.list([0, 9, 10, -45, Int64.max, Int64.min]) == "0,9,10,-45,9223372036854775807,-9223372036854775808")
        #expect(DecimalText.list([]) == "")
    }
}
