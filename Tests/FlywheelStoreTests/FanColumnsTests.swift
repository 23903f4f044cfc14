import FlywheelDomain
import FlywheelStore
import Testing

@Suite struct FanColumnsTests {
    @Test func aFanSurvivesTheRowMappingUnchanged() throws {
        let rules = AccountRules.standard.compiled(calendar: AccountCalendar(timeZone: .gmt))
        let first = FanEvent(id: "1", kind: .follow, openId: "fan-1", occurredAt: 1_700_000_000_000, channel: .douPlus,
                             attributes: ["nickname": "小王", "gender": "2", "age_band": "24-30", "city": "成都", "interests": "白酒, 露营"])
        var fan = FanState(firstSeenThrough: first)
        _ = fan.apply(first, rules: rules, day: 19_675)
        _ = fan.apply(FanEvent(id: "2", kind: .orderPaid, openId: "fan-1", occurredAt: 1_700_000_100_000, channel: .liveFeed, amount: 12_800),
                      rules: rules, day: 19_675)
        _ = fan.apply(FanEvent(id: "3", kind: .groupJoin, openId: "fan-1", occurredAt: 1_700_000_200_000, channel: .group, ref: "g-9"), rules: rules, day: 19_675)
        _ = fan.apply(FanEvent(id: "4", kind: .tagAdded, openId: "fan-1", occurredAt: 1_700_000_300_000, channel: .unknown, ref: "vip"), rules: rules, day: 19_675)
        #expect(fan.profile.gender == "female" && fan.profile.interests == ["白酒", "露营"] && fan.tags == ["vip"])
        #expect(fan.groups["g-9"] == GroupMembership(member: true, at: 1_700_000_200_000) && fan.lastOrderedAt == 1_700_000_100_000)
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
