import FlywheelDomain
import FlywheelStore
import Testing

@Suite struct FanColumnsTests {
    @Test func aFanSurvivesTheRowMappingUnchanged() throws {
        let first = FanEvent(id: "1", kind: .follow, openId: "fan-1", occurredAt: 1_700_000_000_000, channel: .douPlus,
                             attributes: ["nickname": "小王"])
        var fan = FanState(firstSeenThrough: first)
        _ = fan.apply(first, rules: .standard, day: 19_675)
        _ = fan.apply(FanEvent(id: "2", kind: .orderPaid, openId: "fan-1", occurredAt: 1_700_000_100_000, channel: .liveFeed, amount: 12_800),
                      rules: .standard, day: 19_675)
        let cells = FanColumns.cells(of: fan)
        #expect(cells.count == FanColumns.names.count)
        #expect(try FanColumns.fan(from: cells) == fan)
    }

    @Test func aCorruptRowNamesTheColumn() {
        var cells = FanColumns.cells(of: FanState(firstSeenThrough: FanEvent(id: "1", kind: .like, openId: "f", occurredAt: 1, channel: .search)))
        cells[4] = .text("moon")
        #expect(throws: StoreError.corrupt("fans.first_domain has unknown value 'moon'")) { try FanColumns.fan(from: cells) }
    }
}
