import Foundation

/// Where a lead stands in the sales pipeline.
public enum LeadStage: String, Sendable, CaseIterable, Codable {
    case new, contacted, qualified, won, lost

    /// The stages a lead may move to from this one: forward, or lost from anywhere open; a lost
    /// lead may be taken up again; a won one is done.
    public var next: Set<LeadStage> {
        switch self {
        case .new: [.contacted, .qualified, .won, .lost]
        case .contacted: [.qualified, .won, .lost]
        case .qualified: [.won, .lost]
        case .lost: [.contacted]
        case .won: []
        }
    }
}

/// A person who left their details on a lead card: one per phone number in the enterprise (or
/// per fan and account without one), with where it came from and how it was worked.
public struct Lead: Sendable, Equatable {
    public var id: String
    /// The account whose card it was first submitted on.
    public var accountId: String
    public var openId: String
    public var name: String?
    /// Normalized (`Phone.normalize`): what leads are told apart by.
    public var phone: String?
    public var city: String?
    /// The touchpoint it came through (`dm`, `group`, `homepage`...), its traffic domain and the campaign, if known.
    public var channel: Channel
    public var domain: SourceDomain
    public var campaign: String?
    public var stage: LeadStage
    public var lostReason: String?
    /// The salesperson (a user id).
    public var assignee: String?
    /// The order value of a won lead, in fen.
    public var wonValue: Int64?
    /// How many times it was submitted (the same person again is the same lead).
    public var submissions: Int
    public var createdAt: Int64
    public var lastSubmittedAt: Int64
    /// When it first left `new`: time to contact is counted to it.
    public var contactedAt: Int64?
    public var closedAt: Int64?
    public var version: Int64

    public init(id: String, accountId: String, openId: String, name: String?, phone: String?, city: String?, channel: Channel, domain: SourceDomain,
                campaign: String?, at: Int64) {
        self.id = id
        self.accountId = accountId
        self.openId = openId
        self.name = name
        self.phone = phone
        self.city = city
        self.channel = channel
        self.domain = domain
        self.campaign = campaign
        stage = .new
        submissions = 1
        createdAt = at
        lastSubmittedAt = at
        version = 0
    }

    /// The lead a submitted card makes: its id from the phone when there is one, so the same
    /// person on any account of the enterprise is one lead.
    public init(submitted event: FanEvent, accountId: String) {
        let phone = event.attributes["phone"].flatMap(Phone.normalize)
        func text(_ key: String, _ limit: Int) -> String? {
            event.attributes[key].map { String($0.trimmingCharacters(in: .whitespacesAndNewlines).prefix(limit)) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        self.init(id: phone.map { "lead_ph_\($0)" } ?? "lead_fan_\(accountId)_\(event.openId)", accountId: accountId, openId: event.openId,
                  name: text("name", 100), phone: phone, city: text("city", 100), channel: event.channel, domain: event.domain,
                  campaign: text("campaign", 200), at: event.occurredAt)
    }

    /// The most a won lead's value may be, in fen (a billion yuan).
    public static let maxValue: Int64 = 100_000_000_000

    /// The lead moved to `stage` at `at`; throws the field at fault when the move is not allowed.
    public func moved(to stage: LeadStage, reason: String?, value: Int64?, at: Int64) throws(EventProblem) -> Lead {
        guard stage != self.stage else { return self }
        guard self.stage.next.contains(stage) else {
            let allowed = self.stage.next.map(\.rawValue).sorted().joined(separator: ", ")
            throw EventProblem(field: "stage", "a \(self.stage.rawValue) lead can move to " + (allowed.isEmpty ? "no other stage" : allowed))
        }
        var lead = self
        lead.stage = stage
        if stage == .lost {
            guard let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines), (1...200).contains(reason.count) else {
                throw EventProblem(field: "lostReason", "a lost lead needs a reason of 1 to 200 characters")
            }
            lead.lostReason = reason
        } else {
            lead.lostReason = nil
        }
        if stage == .won, let value {
            guard (0...Self.maxValue).contains(value) else { throw EventProblem(field: "wonValueFen", "must be 0 to \(Self.maxValue) fen") }
            lead.wonValue = value
        }
        if lead.contactedAt == nil { lead.contactedAt = at }
        lead.closedAt = stage == .won || stage == .lost ? at : nil
        return lead
    }
}

/// Phone numbers as people type them, made comparable.
public enum Phone {
    /// A mainland mobile number as its 11 digits (`+86`, `0086`, spaces and dashes dropped);
    /// another number as its digits (7 to 15); nil when it is not a phone number.
    public static func normalize(_ text: String) -> String? {
        var digits = text.unicodeScalars.filter { !" -()\u{3000}".unicodeScalars.contains($0) }.map(Character.init)
        if digits.first == "+" { digits.removeFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        var number = String(digits)
        for prefix in ["0086", "86"] where number.hasPrefix(prefix) && number.count == prefix.count + 11 {
            number.removeFirst(prefix.count)
        }
        guard (7...15).contains(number.count) else { return nil }
        if number.count == 11, number.first == "1" { return number }
        return number.hasPrefix("1") && number.count != 11 ? nil : number
    }
}

/// Something to do about a lead by a time: call back, send an offer, book a visit.
public struct FollowUp: Sendable, Equatable {
    public var id: String
    public var leadId: String
    public var dueAt: Int64
    public var note: String
    public var assignee: String?
    public var doneAt: Int64?
    public var createdAt: Int64

    public init(id: String, leadId: String, dueAt: Int64, note: String, assignee: String?, createdAt: Int64) {
        self.id = id
        self.leadId = leadId
        self.dueAt = dueAt
        self.note = note
        self.assignee = assignee
        self.createdAt = createdAt
    }

    public func isOverdue(at now: Int64) -> Bool { doneAt == nil && dueAt < now }
}

/// What happened to a lead: submitted again, moved, assigned, followed up.
public struct LeadActivity: Sendable, Equatable {
    public var leadId: String
    public var at: Int64
    public var kind: String
    public var detail: String
    public var actor: String

    public init(leadId: String, at: Int64, kind: String, detail: String, actor: String) {
        self.leadId = leadId
        self.at = at
        self.kind = kind
        self.detail = detail
        self.actor = actor
    }
}
