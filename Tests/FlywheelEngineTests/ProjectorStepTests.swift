import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Testing

/// The pure step over a batch whose fans first appear out of open_id order: every row it derives
/// per fan (touches, live viewers, segment entries and their causes) stays that fan's, whether the
/// rules changed (every fan of the account in the batch, one of them unchanged) or not.
@Suite struct ProjectorStepTests {
    let t0: Int64 = 1_767_225_600_000
    let account = Account(tenantId: "t", id: "a", name: "a", appId: "app", openId: "acct", timeZone: "Asia/Shanghai", createdAt: 0)

    @Test(arguments: [false, true]) func eachFanKeepsItsOwnTouchesViewersAndCauses(rulesChanged: Bool) throws {
        let hour: Int64 = 3_600_000
        let events = [
            FanEvent(id: "e1", kind: .homepageVisit, openId: "fan-c", occurredAt: t0, channel: .search),
            FanEvent(id: "e2", kind: .dmReceived, openId: "fan-a", occurredAt: t0 + 1, channel: .dm),
            FanEvent(id: "e3", kind: .liveWatch, openId: "fan-b", occurredAt: t0 + hour, channel: .liveFeed, amount: 30),
            FanEvent(id: "e4", kind: .liveWatch, openId: "fan-c", occurredAt: t0 + 2 * hour, channel: .liveSquare, amount: 5),
            FanEvent(id: "e5", kind: .postOpened, openId: "fan-a", occurredAt: t0 + 2, channel: .dm, ref: "post-1"),
            // Neither changes a fan: an operator's act on a fan the account does not have, and an
            // event stored out of bounds (set aside).
            FanEvent(id: "e6", kind: .tagAdded, openId: "fan-0a", occurredAt: t0 + 3, channel: .dm, ref: "vip"),
            FanEvent(id: "e7", kind: .videoView, openId: "fan-00", occurredAt: 0, channel: .search),
        ]
        // fan-b and fan-0 were in the account before the batch (fan-0 does nothing in it); fan-c
        // and fan-a come into it.
        func fan(_ openId: String, following: Bool) -> FanState {
            let event = FanEvent(id: "b-\(openId)", kind: following ? .follow : .videoView, openId: openId, occurredAt: t0 - 86_400_000, channel: .search)
            var fan = FanState(firstSeenThrough: event)
            _ = fan.apply(event, rules: AccountRules().compiled(calendar: account.calendar), day: account.calendar.day(ofMillis: event.occurredAt))
            return fan
        }
        let known = ["fan-b": fan("fan-b", following: true), "fan-0": fan("fan-0", following: false)]
        var batch = ProjectionBatch(account: account, rules: AccountRules(), rulesVersion: 1, rulesChanged: rulesChanged,
                                    events: events.enumerated().map { StoredEvent(seq: Int64($0.offset + 1), event: $0.element) }, fans: known)
        batch.segments = [Segment(tenantId: "t", accountId: "a", id: "seg-all", name: "all", predicate: try FanPredicate.parse("video_views >= 0"),
                                  state: .ready, createdAt: 0, updatedAt: 0)]
        let result = Projector.step(batch, now: t0 + 3 * hour)

        let touches = try #require(result.write(FanTouchesWrite.self)).touches
        #expect(touches.map(\.openId) == ["fan-a", "fan-a", "fan-b", "fan-c", "fan-c"], "in open_id order, the rows' key")
        #expect(touches.map(\.touchpoint) == [.dm, .post, .live, .live, .homepage], "a fan's day by the touchpoint's number, the key's last part")
        #expect(touches.map(\.firstAt) == [t0 + 1, t0 + 2, t0 + hour, t0 + 2 * hour, t0])

        let viewers = try #require(result.write(ReachWrite.self)).viewers.sorted { $0.hour < $1.hour }
        #expect(viewers.map(\.openId) == ["fan-b", "fan-c"])
        #expect(viewers.map(\.minutes) == [30, 5])
        #expect(viewers.map(\.hour) == [(t0 + hour) / hour, (t0 + 2 * hour) / hour])
        #expect(viewers.map(\.audience) == [.oldFan, .nonFan], "fan-b followed before the batch")

        let entries = try #require(result.write(SegmentChangesWrite.self)).changes
        #expect(entries.map(\.openId) == ["fan-a", "fan-b", "fan-c"])
        #expect(entries.map(\.causeSeq) == [5, 3, 4], "each fan's last event in the batch")
        #expect(entries.map(\.cause) == ["post_opened", "live_watch", "live_watch"])
        #expect(result.write(FanStatesWrite.self)?.fans.map(\.openId) == ["fan-a", "fan-b", "fan-c"], "fan-0 unchanged, fan-0a unknown, fan-00's event set aside")
        #expect(result.write(QuarantineWrite.self)?.events.map(\.seq) == [7])
    }
}
