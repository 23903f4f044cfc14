import FlywheelDomain
import Foundation

/// Something that happened in the simulated world, on one of the preset's accounts (by index).
public struct WorldEvent: Sendable, Equatable {
    public var account: Int
    public var event: FanEvent

    public init(account: Int, event: FanEvent) {
        self.account = account
        self.event = event
    }
}

/// What a day looked like for one account: where new people came from and how healthy its
/// private domain was (the share of followers with affinity of at least 0.5).
public struct DayReport: Sendable, Equatable {
    public var publicArrivals = 0
    public var paidArrivals = 0
    public var offsiteArrivals = 0
    public var followers = 0
    public var health = 0.0
}

/// The behaviour model (docs/simulation.md): a population of people, met through public,
/// paid and off-site reach, who follow, watch, like, comment, message, join groups, watch lives at
/// their times, leave leads, buy and buy again, and unfollow when pushed too often. An account's
/// content reaches more of the public the healthier its private domain is. Seeded: the same
/// preset, population, seed and day give the same events.
public struct World: Sendable {
    public let preset: Preset
    public let population: Int
    public let seed: UInt64
    /// Pushes per follower per week, the preset's unless overridden (to see over-touching).
    public var touchesPerWeek: Int
    /// Multiplies every fan's chance to act: a lever on private-domain health.
    public var engagement = 1.0
    /// Chance that a share brings a friend (at affinity 0.5).
    public var inviteRate = 0.3
    /// New people entering the market each day, as a share of the population: they keep arrivals
    /// going once the first population has been met.
    public var inflow = 0.002
    /// Chance a day that an account runs a paid campaign (paid reach ×6), has a video take off
    /// (organic reach ×5) or is pushed in off-site pools (off-site reach ×10).
    public var bursts = (paid: 0.04, viral: 0.03, offsite: 0.02)
    /// Chance an active follower of a matrix account finds and follows another of its accounts.
    public var crossFollowRate = 0.003
    let calendar = AccountCalendar(timeZone: TimeZone(identifier: AccountCalendar.defaultTimeZone) ?? .gmt)

    struct Person: Sendable {
        var account = 0
        /// Other accounts of the matrix this person found and followed.
        var also: [Int] = []
        var met = false
        var following = false
        var affinity = 0.0
        var lastOrderDay: Int?
        var inGroup = false
        var leftLead = false
    }

    private var people: [Person]
    private var unmet: [Int]
    private var rng: SeededGenerator
    private var sequence = 0

    public init(preset: Preset, population: Int, seed: UInt64) {
        self.preset = preset
        self.population = max(1, population)
        self.seed = seed
        touchesPerWeek = preset.touchesPerWeek
        people = Array(repeating: Person(), count: max(1, population))
        unmet = Array((0..<max(1, population)).reversed())
        rng = SeededGenerator(seed: seed ^ UInt64(truncatingIfNeeded: preset.name.hashValueStable))
    }

    /// The person's open_id: stable per preset, seed and index.
    public func openId(_ person: Int) -> String {
        var g = SeededGenerator(seed: seed &+ UInt64(person) &* 0x9E37_79B9)
        return "\(preset.name.prefix(3))-\(String(g.next() >> 16, radix: 16))-\(person)"
    }

    /// Simulates one day (a day number in Asia/Shanghai): the events in time order, and a report
    /// per account.
    public mutating func simulate(day: Int) -> (events: [WorldEvent], reports: [DayReport]) {
        var events: [(WorldEvent, Int)] = []
        var reports = Array(repeating: DayReport(), count: preset.accounts.count)
        let dayStart = calendar.startOfDay(day)
        func at(hour: Double) -> Int64 { dayStart + Int64(hour * 3_600) * 1_000 }
        // Where homepage visits come from: a quarter search for the brand after hearing of it (the liquor case: 23%).
        func homepageSource() -> Channel {
            let roll = uniform(0, 1)
            return roll < 0.23 ? .search : roll < 0.55 ? .recommendFeed : roll < 0.8 ? .followFeed : roll < 0.92 ? .liveFeed : .dm
        }

        func emit(_ account: Int, _ kind: EventKind, _ person: Int, at time: Int64, channel: Channel, amount: Int64 = 0,
                  ref: String? = nil, attributes: [String: String] = [:]) {
            sequence += 1
            let event = FanEvent(id: "sbx-\(preset.name)-\(seed)-\(sequence)", kind: kind, openId: openId(person), occurredAt: time,
                                 channel: channel, amount: amount, ref: ref, attributes: attributes)
            events.append((WorldEvent(account: account, event: event), events.count))
        }

        // Health before today's acts drives today's public reach.
        for i in people.indices where people[i].following {
            reports[people[i].account].followers += 1
            if people[i].affinity >= 0.5 { reports[people[i].account].health += 1 }
        }
        for a in reports.indices { reports[a].health = reports[a].followers > 0 ? reports[a].health / Double(reports[a].followers) : 0 }

        // The market grows: new people not yet met by any account.
        for _ in 0..<poisson(Double(population) * inflow) {
            unmet.insert(people.count, at: 0)
            people.append(Person())
        }

        // New people met, per account and source; now and then a campaign, a hit video or an off-site push.
        for account in preset.accounts.indices {
            let paid = chance(bursts.paid) ? 6.0 : 1, viral = chance(bursts.viral) ? 5.0 : 1, offsite = chance(bursts.offsite) ? 10.0 : 1
            let sources: [(Double, [Channel], WritableKeyPath<DayReport, Int>)] = [
                (viral * preset.organicReach * (1 + preset.feedback * reports[account].health), [.recommendFeed, .recommendFeed, .recommendFeed, .search, .liveSquare, .city], \.publicArrivals),
                (paid * preset.paidReach, [.douPlus, .douPlus, .qianchuan, .brandAd], \.paidArrivals),
                (offsite * preset.offsiteReach, [.wechat, .offsitePool], \.offsiteArrivals),
            ]
            for (rate, channels, counter) in sources {
                for _ in 0..<poisson(Double(unmet.count) * rate) {
                    guard let person = unmet.popLast() else { break }
                    people[person] = Person(account: account, met: true, affinity: 0.1)
                    reports[account][keyPath: counter] += 1
                    let channel = channels[Int(rng.next() % UInt64(channels.count))]
                    let time = at(hour: uniform(8, 23))
                    emit(account, .videoView, person, at: time, channel: channel, attributes: profile(person))
                    if chance(preset.followRate) {
                        people[person].following = true
                        emit(account, .follow, person, at: time + 60_000, channel: channel)
                    }
                }
            }
        }

        // People already met act, in their accounts' channels.
        let weekly = Double(max(0, touchesPerWeek - preset.tolerance))
        for person in people.indices where people[person].met {
            var p = people[person]
            p.affinity *= 0.97
            defer { people[person] = p }
            // Most days they act where they first came; some days on another account they follow.
            let account = p.also.isEmpty || !chance(0.3) ? p.account : p.also[Int(rng.next() % UInt64(p.also.count))]
            // A follower of one account of a matrix finds another of its accounts, and follows it too
            // (acting there from the next day on).
            if p.following, preset.accounts.count > 1, p.also.count < 2, chance(crossFollowRate * (0.5 + p.affinity)) {
                let others = preset.accounts.indices.filter { $0 != p.account && !p.also.contains($0) }
                if let other = others.randomElement(using: &rng) {
                    p.also.append(other)
                    let found = at(hour: uniform(8, 23))
                    emit(other, .homepageVisit, person, at: found, channel: homepageSource())
                    emit(other, .follow, person, at: found + 60_000, channel: .homepage)
                }
            }
            if p.following, chance(0.001 + weekly * 0.01) {
                p.following = false
                emit(p.account, .unfollow, person, at: at(hour: uniform(8, 23)), channel: .followFeed)
                continue
            }
            guard chance(min(1, preset.activeRate * engagement * (p.following ? 0.3 + p.affinity : 0.1))) else { continue }
            var acts = 0
            let morning = at(hour: uniform(7, 22))
            var clock = morning
            func next() -> Int64 { clock += Int64(uniform(1, 20) * 60) * 1_000; return clock }
            emit(account, .videoView, person, at: next(), channel: p.following ? .followFeed : .recommendFeed)
            if !p.following, chance(preset.followRate * 0.5) {
                p.following = true
                emit(account, .follow, person, at: next(), channel: .recommendFeed)
            }
            if chance(0.5) { acts += 1; emit(account, .like, person, at: next(), channel: .unknown, ref: "video-\(account)-\(day)") }
            if chance(0.15) { acts += 1; emit(account, .comment, person, at: next(), channel: .unknown, ref: "video-\(account)-\(day)") }
            if chance(0.05) {
                acts += 1
                let shared = next()
                emit(account, .share, person, at: shared, channel: .followFeed)
                // A share to WeChat brings a friend now and then: fission through the fan.
                if chance(inviteRate * (0.5 + p.affinity)), let friend = unmet.popLast() {
                    people[friend] = Person(account: account, met: true, affinity: 0.2)
                    reports[account].offsiteArrivals += 1
                    emit(account, .videoView, friend, at: shared + 600_000, channel: .wechat, attributes: profile(friend).merging(["invited_by": openId(person)]) { a, _ in a })
                    if chance(preset.followRate * 1.5) {
                        people[friend].following = true
                        emit(account, .follow, friend, at: shared + 660_000, channel: .wechat)
                    }
                }
            }
            if chance(0.1) { emit(account, .homepageVisit, person, at: next(), channel: homepageSource()) }
            // Followers come to the live from their feed; others find it on the live square, less often.
            if let hour = preset.lives.randomElement(using: &rng), chance(preset.liveRate * (0.5 + p.affinity) * (p.following ? 1 : 0.3)) {
                acts += 1
                let start = at(hour: Double(hour) + uniform(0, 1.5))
                let room: Channel = p.following ? .liveFeed : .liveSquare
                emit(account, .liveWatch, person, at: start, channel: room, amount: Int64(uniform(5, 90)))
                if chance(0.2) { emit(account, .liveGift, person, at: start + 600_000, channel: room, amount: Int64(uniform(1, 50)) * 100) }
                if chance(0.05) { emit(account, .liveShare, person, at: start + 900_000, channel: room) }
            }
            if chance(preset.dmRate) {
                acts += 1
                let conversation = "conv-\(account)-\(person)"
                let asked = next()
                emit(account, .dmEntered, person, at: asked - 30_000, channel: .dm, ref: conversation)
                emit(account, .dmReceived, person, at: asked, channel: .dm, ref: conversation, attributes: ["nickname": nickname(person)])
                if let minutes = preset.dmAnswerMinutes {
                    emit(account, .dmSent, person, at: asked + Int64(uniform(1, Double(minutes))) * 60_000, channel: .dm, ref: conversation)
                } else if chance(0.3) {
                    emit(account, .dmSent, person, at: asked + Int64(uniform(60, 360)) * 60_000, channel: .dm, ref: conversation)
                }
            }
            let group = "group-\(preset.name)-\(account)"
            if p.following, !p.inGroup, chance(preset.groupRate) {
                p.inGroup = true
                acts += 1
                emit(account, .groupJoin, person, at: next(), channel: .group, ref: group)
            } else if p.inGroup, chance(0.01) {
                p.inGroup = false
                emit(account, .groupLeave, person, at: next(), channel: .group, ref: group)
            } else if p.inGroup, chance(preset.groupRate * 2) {
                acts += 1
                emit(account, .groupMessage, person, at: next(), channel: .group, ref: group)
            }
            if !p.leftLead, chance(preset.leadRate * (0.5 + p.affinity)) {
                p.leftLead = true
                acts += 1
                emit(account, .leadSubmitted, person, at: next(), channel: p.inGroup ? .group : .homepage, ref: "card-\(preset.name)",
                     attributes: lead(person))
            }
            let due = p.lastOrderDay.map { day - $0 >= Int(Double(preset.repurchaseDays) * uniform(0.5, 1.5)) } ?? true
            if due, chance(preset.buyRate * engagement * (0.2 + p.affinity)) {
                acts += 2
                let amount = Int64(Int.random(in: preset.price, using: &rng)) * 100
                let offline = chance(preset.offlineShare)
                if offline, !p.leftLead {
                    p.leftLead = true
                    emit(account, .leadSubmitted, person, at: next(), channel: .homepage, ref: "card-\(preset.name)", attributes: lead(person))
                }
                let channel: Channel = offline ? .homepage : preset.lives.isEmpty || chance(0.3) ? (p.inGroup ? .group : .subscription) : .liveFeed
                // A live-room order is paid while a live is on.
                let liveHour = channel == .liveFeed ? preset.lives.randomElement(using: &rng) : nil
                let paidAt = offline ? next() + Int64(uniform(1, 3)) * 86_400_000 / 3 : liveHour.map { at(hour: Double($0) + uniform(0.1, 1.5)) } ?? next()
                emit(account, .orderPaid, person, at: paidAt, channel: channel, amount: amount, ref: "order-\(preset.name)-\(sequence)",
                     attributes: offline ? ["via": "store"] : [:])
                p.lastOrderDay = day
                if chance(0.03) { emit(account, .orderRefunded, person, at: paidAt + 86_400_000, channel: channel, amount: amount, ref: "order-\(preset.name)-\(sequence - 1)") }
                if chance(0.2) { emit(account, .couponClaimed, person, at: next(), channel: .subscription) }
            }
            p.affinity = min(1, p.affinity + 0.06 * Double(acts))
        }
        let ordered = events.sorted { ($0.0.event.occurredAt, $0.1) < ($1.0.event.occurredAt, $1.1) }.map(\.0)
        return (ordered, reports)
    }

    // MARK: Draws

    mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * Double(rng.next() >> 11) / Double(1 << 53)
    }

    mutating func chance(_ p: Double) -> Bool { uniform(0, 1) < p }

    /// A Poisson draw (Knuth's method for small means, a rounded normal for large ones).
    mutating func poisson(_ mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        if mean > 30 {
            let u1 = max(uniform(0, 1), 1e-12), u2 = uniform(0, 1)
            let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            return max(0, Int((mean + z * mean.squareRoot()).rounded()))
        }
        let limit = exp(-mean)
        var k = 0
        var product = uniform(0, 1)
        while product > limit {
            k += 1
            product *= uniform(0, 1)
        }
        return k
    }

    // MARK: Who people are

    static let surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"]
    static let given = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟"]
    static let cities = [("四川", "成都"), ("北京", "北京"), ("上海", "上海"), ("广东", "深圳"), ("贵州", "贵阳"), ("浙江", "杭州")]

    var interests: [String] {
        switch preset.name {
        case "liquor": ["白酒", "美食", "宴请"]
        case "photo_studio": ["摄影", "亲子", "婚纱"]
        case "career_education": ["职场", "考证", "英语"]
        default: ["汽车", "二手车", "自驾"]
        }
    }

    func nickname(_ person: Int) -> String {
        Self.surnames[person % Self.surnames.count] + Self.given[(person / Self.surnames.count) % Self.given.count]
    }

    /// What the platform's data tells of a person on arrival.
    func profile(_ person: Int) -> [String: String] {
        let (region, city) = Self.cities[(person * 7) % Self.cities.count]
        return [
            "nickname": nickname(person), "gender": person % 5 < (preset.name == "used_car" ? 4 : 2) ? "male" : "female",
            "age_band": FanProfile.ageBands[(person * 3) % FanProfile.ageBands.count], "region": region, "city": city,
            "device": person % 3 == 0 ? "ios" : "android", "interests": interests[person % interests.count],
        ]
    }

    func lead(_ person: Int) -> [String: String] {
        ["name": nickname(person), "phone": String(format: "1%010d", (person * 7_919) % 10_000_000_000), "city": Self.cities[(person * 7) % Self.cities.count].1]
    }
}

extension String {
    /// A hash that is the same in every process (Swift's `hashValue` is seeded per run).
    public var hashValueStable: Int {
        var h: UInt64 = 1_469_598_103_934_665_603
        for byte in utf8 { h = (h ^ UInt64(byte)) &* 1_099_511_628_211 }
        return Int(truncatingIfNeeded: h)
    }
}
