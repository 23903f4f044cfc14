import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// People merged across a matrix, its segments, and bulk jobs: the same answers on both stores.
@Suite struct PeopleContractTests {
    @Test(arguments: StoreKind.allCases)
    func peopleMergeAcrossTheMatrix(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let second = Account(tenantId: f.account.tenantId, id: f.env.newId("acc"), name: "second", appId: f.account.appId, openId: "second",
                             timeZone: "Asia/Shanghai", createdAt: 0)
        try await f.store.createAccount(second, audit: f.env.audit(tenantId: second.tenantId, actor: "test", action: "account.create", target: second.id))
        let now = f.env.now()
        func event(_ id: String, _ kind: EventKind, _ fan: String, at: Int64, amount: Int64 = 0) -> FanEvent {
            FanEvent(id: id, kind: kind, openId: fan, occurredAt: at, channel: kind == .follow ? .douPlus : .search, amount: amount,
                     ref: kind == .orderPaid ? "o-\(id)" : nil)
        }
        // Ann follows both accounts (first in the second, through paid traffic, earlier) and buys in each; Bob only likes the first.
        _ = try await f.store.append(f.events([event("1", .follow, "ann", at: now - 3_600_000), event("2", .orderPaid, "ann", at: now - 3_000_000, amount: 5_000),
                                               event("3", .like, "bob", at: now - 2_000_000)])) { _ in }
        _ = try await f.store.append([event("4", .follow, "ann", at: now - 7_200_000), event("5", .orderPaid, "ann", at: now - 1_000_000, amount: 7_000)].map {
            AccountEvent(tenantId: second.tenantId, accountId: second.id, event: $0)
        }) { _ in }
        await Flywheel(f.env).projector.drain()
        let both = [f.account, second]

        let all = try await f.store.people(in: both, matching: [], now: now, sort: .gmv, descending: true, offset: 0, limit: 10)
        #expect(all.total == 2 && all.items.map(\.openId) == ["ann", "bob"])
        let ann = try #require(all.items.first)
        #expect(ann.accounts == 2 && ann.gmv == 12_000 && ann.firstSeenAt == now - 7_200_000 && ann.firstDomain == .commercial)
        #expect(try await f.store.people(in: both, matching: [], now: now, sort: .name, descending: false, offset: 1, limit: 10).items.map(\.openId) == ["bob"])

        // Two orders: no single account's fan has them, the merged person has.
        let twoOrders = FanPredicate.compare(field: "orders", op: .ge, value: .int(2))
        #expect(try await f.store.people(in: both, matching: [.anyAccount(twoOrders)], now: now, sort: .name, descending: false, offset: 0, limit: 10).total == 0)
        #expect(try await f.store.people(in: both, matching: [.merged(twoOrders)], now: now, sort: .name, descending: false, offset: 0, limit: 10)
            .items.map(\.openId) == ["ann"])
        #expect(try await f.store.peopleCounts(in: both, matching: [], now: now, by: "accounts") == ["1": 1, "2": 1])
        #expect(try await f.store.fanKeys(in: both, matching: [.merged(twoOrders)], now: now, limit: 10).count == 2, "both of Ann's fans")
        #expect(try await f.store.fanKeys(in: both, of: [PersonKey(tenantId: f.account.tenantId, openId: "bob"),
                                                         PersonKey(tenantId: "other", openId: "ann")]) == [FanKey(accountId: f.account.id, openId: "bob")])

        let segment = MatrixSegment(tenantId: f.account.tenantId, id: "mseg-1", name: "两单以上", predicate: twoOrders, merged: true, createdAt: now)
        try await f.store.createMatrixSegment(segment, audit: f.env.audit(tenantId: segment.tenantId, actor: "test", action: "segment.matrix.create", target: segment.id))
        #expect(try await f.store.matrixSegments(tenantId: f.account.tenantId) == [segment])
        try await f.store.deleteMatrixSegment(id: segment.id, tenantId: f.account.tenantId, audit: f.env.audit(tenantId: segment.tenantId, actor: "test",
                                                                                                           action: "segment.matrix.delete", target: segment.id))
        #expect(try await f.store.matrixSegments(tenantId: f.account.tenantId).isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func aBulkJobKeepsItsSelectionAndItsPlace(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let items = (0..<450).map { FanKey(accountId: f.account.id, openId: "fan\($0)") }
        let job = BulkJob(tenantId: f.account.tenantId, id: "job-1", operation: .export, argument: "", people: 450, total: 450, result: "head\n",
                          createdBy: "user:1", createdAt: 5)
        try await f.store.createBulkJob(job, items: items, audit: f.env.audit(tenantId: job.tenantId, actor: "test", action: "bulk.export", target: ""))
        #expect(try await f.store.bulkJob("job-1", tenantId: f.account.tenantId) == job)
        #expect(try await f.store.bulkJob("job-1", tenantId: "other") == nil)
        #expect(try await f.store.bulkJobItems(job, from: 440, limit: 50) == Array(items[440...]))
        try await f.store.advanceBulkJob(job, done: 400, appending: "a\n", state: .running, at: 6)
        // The same step recorded twice (another server): the second is ignored.
        try await f.store.advanceBulkJob(job, done: 400, appending: "a\n", state: .running, at: 6)
        let step = try #require(try await f.store.bulkJob("job-1", tenantId: f.account.tenantId))
        #expect(step.done == 400 && step.result == "head\na\n" && step.state == .running)
        #expect(try await f.store.runningBulkJobs(limit: 10).map(\.id) == ["job-1"])
        try await f.store.advanceBulkJob(step, done: 450, appending: "b\n", state: .done, at: 7)
        let done = try #require(try await f.store.bulkJobs(tenantId: f.account.tenantId, limit: 10).first)
        #expect(done.state == .done && done.finishedAt == 7 && done.result == "head\na\nb\n")
        #expect(try await f.store.runningBulkJobs(limit: 10).isEmpty)
    }
}
