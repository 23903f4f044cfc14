import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// The leads context, method by method, on both stores.
@Suite struct LeadContractTests {
    @Test(arguments: StoreKind.allCases)
    func cardsBecomeOneLeadPerPhoneAndAreWorkedThroughTheirStages(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let tenantId = f.account.tenantId
        let second = try await {
            let a = Account(tenantId: tenantId, id: "acc_second", name: "second", appId: f.account.appId, openId: "acct-2", timeZone: "Asia/Shanghai", createdAt: 0)
            try await f.store.createAccount(a, audit: f.env.audit(tenantId: tenantId, actor: "t", action: "account.create", target: a.id))
            return a
        }()
        let t0: Int64 = 1_772_294_400_000
        func card(_ id: String, _ fan: String, phone: String?, at: Int64, channel: Channel = .group) -> FanEvent {
            FanEvent(id: id, kind: .leadSubmitted, openId: fan, occurredAt: at, channel: channel, ref: "card-1",
                     attributes: ["name": "王先生", "city": "毕节"].merging(phone.map { ["phone": $0] } ?? [:]) { a, _ in a })
        }
        _ = try await f.store.append(f.events([card("c1", "fan-1", phone: "+86 138-0013-8000", at: t0), card("c3", "fan-3", phone: nil, at: t0 + 2, channel: .homepage)])) { _ in }
        _ = try await f.store.append([AccountEvent(tenantId: tenantId, accountId: second.id, event: card("c2", "fan-2", phone: "13800138000", at: t0 + 1))]) { _ in }
        await Projector(f.env, batchSize: 100).drain()

        // The same phone on another account is the same lead, submitted twice.
        let all = try await f.store.leads(tenantId: tenantId, filter: LeadFilter(), cursor: nil, limit: 10)
        #expect(all.items.map(\.id) == ["lead_fan_\(f.account.id)_fan-3", "lead_ph_13800138000"])
        let lead = try #require(try await f.store.lead(id: "lead_ph_13800138000", tenantId: tenantId))
        #expect(lead.submissions == 2 && lead.accountId == f.account.id && lead.phone == "13800138000" && lead.channel == .group && lead.stage == .new)
        #expect(try await f.store.leadActivity(of: lead.id, tenantId: tenantId, limit: 10).map(\.kind) == ["submitted", "submitted"])
        var filter = LeadFilter()
        filter.search = "0013"
        #expect(try await f.store.leads(tenantId: tenantId, filter: filter, cursor: nil, limit: 10).items.map(\.id) == [lead.id])
        filter = LeadFilter()
        filter.accountIds = [second.id]
        #expect(try await f.store.leads(tenantId: tenantId, filter: filter, cursor: nil, limit: 10).items.isEmpty, "listed under the account it came first through")
        let first = try await f.store.leads(tenantId: tenantId, filter: LeadFilter(), cursor: nil, limit: 1)
        #expect(try await f.store.leads(tenantId: tenantId, filter: LeadFilter(), cursor: first.nextCursor, limit: 1).items.map(\.id) == [lead.id])

        // Worked: contacted, then won with its value; an update on an older read is refused.
        let owner = try #require(try await f.store.users(tenantId: tenantId).first)
        var contacted = try lead.moved(to: .contacted, reason: nil, value: nil, at: t0 + 60_000)
        contacted.assignee = owner.id
        var audit: AuditEntry { f.env.audit(tenantId: tenantId, actor: "t", action: "lead.change", target: lead.id) }
        try await f.store.updateLead(contacted, readVersion: lead.version, tenantId: tenantId,
                                     activity: [LeadActivity(leadId: lead.id, at: t0 + 60_000, kind: "stage", detail: "new → contacted", actor: "t")], entering: [], audit: audit)
        await #expect(throws: StoreError.refused(.changedMeanwhile)) {
            try await f.store.updateLead(contacted, readVersion: lead.version, tenantId: tenantId, activity: [], entering: [], audit: audit)
        }
        filter = LeadFilter()
        filter.assignee = owner.id
        filter.stages = [.contacted]
        #expect(try await f.store.leads(tenantId: tenantId, filter: filter, cursor: nil, limit: 10).items.map(\.contactedAt) == [t0 + 60_000])
        #expect(try await f.store.leadsSubmitted(tenantId: tenantId, from: t0, to: t0 + 2).map(\.id) == [lead.id])

        let followUp = FollowUp(id: "fu_1", leadId: lead.id, dueAt: t0 + 3_600_000, note: "到店试驾", assignee: owner.id, createdAt: t0)
        try await f.store.createFollowUp(followUp, tenantId: tenantId, audit: audit)
        await #expect(throws: StoreError.self) {
            try await f.store.createFollowUp(FollowUp(id: "fu_2", leadId: "lead_nobody", dueAt: t0, note: "x", assignee: nil, createdAt: t0), tenantId: tenantId, audit: audit)
        }
        #expect(try await f.store.followUps(tenantId: tenantId, leadId: nil, dueBefore: t0 + 3_600_001, assignee: owner.id, limit: 10).map(\.id) == ["fu_1"])
        #expect(try await f.store.followUps(tenantId: tenantId, leadId: nil, dueBefore: t0 + 3_600_000, assignee: nil, limit: 10).isEmpty, "not due yet")
        try await f.store.completeFollowUp(id: "fu_1", leadId: lead.id, tenantId: tenantId, at: t0 + 3_000_000, audit: audit)
        await #expect(throws: StoreError.notFound("open follow-up fu_1")) {
            try await f.store.completeFollowUp(id: "fu_1", leadId: lead.id, tenantId: tenantId, at: t0 + 3_000_000, audit: audit)
        }
        #expect(try await f.store.followUps(tenantId: tenantId, leadId: lead.id, dueBefore: nil, assignee: nil, limit: 10).map(\.doneAt) == [t0 + 3_000_000])
        #expect(try await f.store.leadActivity(of: lead.id, tenantId: tenantId, limit: 1).map(\.kind) == ["followed_up"])
    }

    /// A phone submitted three times in one batch and once in the next is one lead, as if each
    /// card had been counted on its own: four submissions, the first name given, the last time.
    @Test(arguments: StoreKind.allCases)
    func cardsOfOnePhoneInOneBatchCountAsEachWouldAlone(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let t0: Int64 = 1_772_294_400_000
        func card(_ id: String, name: String?, at: Int64) -> FanEvent {
            FanEvent(id: id, kind: .leadSubmitted, openId: "fan-1", occurredAt: at, channel: .homepage, ref: "card-1",
                     attributes: ["phone": "13900139000"].merging(name.map { ["name": $0] } ?? [:]) { a, _ in a })
        }
        _ = try await f.store.append(f.events([card("c1", name: nil, at: t0), card("c2", name: "李女士", at: t0 + 5), card("c3", name: "王先生", at: t0 + 3)])) { _ in }
        await Projector(f.env, batchSize: 100).drain()
        var lead = try #require(try await f.store.lead(id: "lead_ph_13900139000", tenantId: f.account.tenantId))
        #expect(lead.submissions == 3 && lead.version == 2 && lead.name == "李女士" && lead.createdAt == t0 && lead.lastSubmittedAt == t0 + 5)
        _ = try await f.store.append(f.events([card("c4", name: "赵", at: t0 + 9)])) { _ in }
        await Projector(f.env, batchSize: 100).drain()
        lead = try #require(try await f.store.lead(id: "lead_ph_13900139000", tenantId: f.account.tenantId))
        #expect(lead.submissions == 4 && lead.version == 3 && lead.name == "李女士" && lead.lastSubmittedAt == t0 + 9)
        #expect(try await f.store.leadActivity(of: lead.id, tenantId: f.account.tenantId, limit: 10).map(\.kind) == Array(repeating: "submitted", count: 4))
    }
}
