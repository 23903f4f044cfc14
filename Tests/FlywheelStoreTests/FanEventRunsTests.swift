import FlywheelDomain
import FlywheelStore
import Testing

@Suite struct FanEventRunsTests {
    @Test func eachFanGetsItsSeqsInLogOrderAndTheRunsComeByOpenId() {
        let fans = ["c", "a", "c", "b", "a", "c", "a"]
        let events = fans.enumerated().map { i, openId in
            StoredEvent(seq: Int64(100 + i * 3), event: FanEvent(id: "e\(i)", kind: .like, openId: openId, occurredAt: 1, channel: .dm))
        }
        #expect(FanEventRuns.runs(of: events).map { "\($0.openId) \($0.firstSeq) \($0.seqs)" } == ["a 103 103,112,118", "b 109 109", "c 100 100,106,115"])
        #expect(FanEventRuns.runs(of: []).isEmpty)
    }
}
