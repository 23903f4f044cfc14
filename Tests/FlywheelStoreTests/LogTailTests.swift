import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Logging
import Metrics
import Testing

@Suite struct LogTailTests {
    let a = AccountKey(tenantId: "t", accountId: "a")
    let b = AccountKey(tenantId: "t", accountId: "b")

    func events(_ seqs: ClosedRange<Int64>) -> [StoredEvent] {
        seqs.map { StoredEvent(seq: $0, event: FanEvent(id: "e\($0)", kind: .like, openId: "fan\($0 % 3)", occurredAt: $0, channel: .dm)) }
    }

    @Test func theProjectorTakesWhatCommittedAndWhatItTookIsLetGo() {
        let tail = LogTail()
        tail.committed([a: events(1...6), b: events(1...2)])
        tail.committed([a: events(7...10)])
        #expect(tail.events(of: a, after: 0, through: 4)?.map(\.seq) == [1, 2, 3, 4])
        #expect(tail.events(of: a, after: 4, through: 10)?.map(\.seq) == Array(5...10), "across two commits")
        #expect(tail.count == 8, "the four taken first are let go once the projector is past them")
        #expect(tail.events(of: a, after: 10, through: 10) == nil, "nothing newer")
        #expect(tail.count == 2, "only b's are left")
        #expect(tail.events(of: b, after: 0, through: 1)?.map(\.event.id) == ["e1"], "each account its own")
        #expect(tail.events(of: b, after: 0, through: 3) == nil, "the log has a third the tail was not told of yet: all from the log")
    }

    @Test func eventsItDoesNotHoldAreLeftToTheLog() {
        let tail = LogTail()
        tail.committed([a: events(1...5)])
        // 6 and 7 were appended by another process: the next commit starts the tail over.
        tail.committed([a: events(8...9)])
        #expect(tail.events(of: a, after: 0, through: 9)?.map(\.seq) == [8, 9], "the projector reads 1 to 7 from the log first")
        #expect(tail.events(of: a, after: 0, through: 7) == nil, "a batch through 7 ends before the tail")
        #expect(tail.events(of: a, after: 0, through: 8)?.map(\.seq) == [8], "one through 8 ends with its first")
        // A commit noted after a later one (its events are older) is not taken.
        tail.committed([a: events(12...13)])
        tail.committed([a: events(10...11)])
        #expect(tail.events(of: a, after: 9, through: 13)?.map(\.seq) == [12, 13])
    }

    @Test func pastTheCapacityTheOldestGo() {
        let tail = LogTail(capacity: 5)
        tail.committed([a: events(1...4)])
        tail.committed([a: events(5...8)])
        #expect(tail.count == 5)
        #expect(tail.events(of: a, after: 0, through: 8)?.map(\.seq) == Array(4...8), "1 to 3 come from the log")
        tail.committed([a: events(9...9), b: events(1...3)])
        #expect(tail.count == 5, "a's newest pushed its oldest out; b's had no room beside them")
        #expect(tail.events(of: b, after: 0, through: 3) == nil)
        #expect(tail.events(of: a, after: 4, through: 9)?.map(\.seq) == Array(5...9))
        #expect(tail.events(of: a, after: 9, through: 9) == nil)
        tail.committed([b: events(4...6)])
        #expect(tail.events(of: b, after: 3, through: 6)?.map(\.seq) == [4, 5, 6], "room again once a's were projected")
        tail.release(b, through: 6)
        tail.committed([a: events(10...12)])
        tail.committed([b: events(7...8)])
        tail.release(a, through: 11)
        #expect(tail.count == 3, "a's batch through 11 committed, b's through 6")
        #expect(tail.events(of: a, after: 11, through: 12)?.map(\.seq) == [12])
        tail.forget(b)
        #expect(tail.count == 1, "another process projects b")
        #expect(tail.events(of: b, after: 6, through: 8) == nil)
    }
}

/// The projector reads the log's tail from memory, and the log for what that memory lacks: the
/// fans come out the same either way.
@Suite struct LogTailContractTests {
    @Test(arguments: StoreKind.allCases)
    func appendsOfAnotherProcessAreReadFromTheLog(_ kind: StoreKind) async throws {
        func env(_ store: any Store) -> FlywheelEnvironment { .live(store: store, metrics: NOOPMetricsHandler.instance, logger: Logger(label: "test")) }
        let all = mixedEvents(count: 300)
        // Two processes on one database: the first appends the first and last hundred, the second the middle.
        let shared = try await makeStores(kind, count: 2).map(env)
        let account = try await StoreFixture.account(shared[0], tenant: "Acme")
        func append(_ events: ArraySlice<FanEvent>, through env: FlywheelEnvironment) async throws {
            _ = try await env.store.append(events.map { AccountEvent(tenantId: account.tenantId, accountId: account.id, event: $0) }) { _ in }
        }
        try await append(all[0..<100], through: shared[0])
        try await append(all[100..<200], through: shared[1])
        try await append(all[200...], through: shared[0])
        await Flywheel(shared[0], projectionBatchSize: 70).projector.drain()
        #expect(try await shared[0].store.projectionPosition(of: account).lastSeq == 300)

        // The same events appended and then projected by a process that did not append them: all from the log.
        let apart = try await makeStores(kind, count: 2).map(env)
        let other = try await StoreFixture.account(apart[0], tenant: "Acme")
        _ = try await apart[0].store.append(all.map { AccountEvent(tenantId: other.tenantId, accountId: other.id, event: $0) }) { _ in }
        await Flywheel(apart[1], projectionBatchSize: 70).projector.drain()

        let fans = try await StoreFixture.fans(of: account, in: shared[0].store)
        #expect(fans.count > 10)
        #expect(fans == (try await StoreFixture.fans(of: other, in: apart[1].store)))
        let timeline = try await shared[0].store.timeline(of: account, openId: all[150].openId, limit: 300)
        #expect(timeline.map(\.event.id).sorted() == all.filter { $0.openId == all[150].openId }.map(\.id).sorted(), "the middle hundred included")
    }
}
