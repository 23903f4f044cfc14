import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// Lives: a schedule per account (recurring, in the account's time zone) or one-off lives, fans'
/// bookings, reminders before the start, and each live's audience: old fans, new fans and
/// non-fans, their watch minutes and GMV.
public struct Lives: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    /// A recurring schedule, or one live at `startsAt`.
    public struct Plan: Sendable {
        public var title: String
        public var weekdays: [Int]?
        /// `HH:MM` in the account's time zone.
        public var times: [String]?
        public var startsAt: Int64?
        public var durationMinutes: Int?
        public var reminderMinutes: Int?

        public init(title: String, weekdays: [Int]?, times: [String]?, startsAt: Int64?, durationMinutes: Int?, reminderMinutes: Int?) {
            self.title = title
            self.weekdays = weekdays
            self.times = times
            self.startsAt = startsAt
            self.durationMinutes = durationMinutes
            self.reminderMinutes = reminderMinutes
        }
    }

    public struct Report: Sendable {
        public var live: Live
        /// Empty for a live not started yet.
        public var stats: LiveStats

        public init(live: Live, stats: LiveStats) {
            self.live = live
            self.stats = stats
        }
    }

    /// The account's lives from a week ago through the planning horizon, with their numbers.
    public func list(of account: Account, by caller: Principal) async throws -> (schedules: [LiveSchedule], lives: [Report]) {
        try caller.authorize(.listLives)
        let now = env.now()
        let lives = try await env.store.lives(of: account, from: now - 7 * 86_400_000, to: now + Int64(LiveSchedule.horizonDays + 1) * 86_400_000)
        var reports: [Report] = []
        for live in lives { reports.append(Report(live: live, stats: try await env.store.liveStats(live, of: account))) }
        return (try await env.store.liveSchedules(of: account), reports)
    }

    public func read(_ id: String, of account: Account, by caller: Principal) async throws -> Report {
        try caller.authorize(.readLive)
        let live = try await existing(id, of: account)
        return Report(live: live, stats: try await env.store.liveStats(live, of: account))
    }

    func existing(_ id: String, of account: Account) async throws -> Live {
        guard let live = try await env.store.live(id: id, of: account) else { throw UseCaseError.notFound("live \(id)") }
        return live
    }

    /// Plans lives: a schedule's for the next two weeks (and on, as days pass), or one live.
    public func create(_ plan: Plan, of account: Account, by caller: Principal) async throws -> (schedule: LiveSchedule?, lives: [Live]) {
        try caller.authorize(.createLive)
        let now = env.now()
        let title = try Validate.trimmed(plan.title, field: "title", length: 1...60)
        let duration = plan.durationMinutes ?? 120
        guard LiveSchedule.durations.contains(duration) else { throw UseCaseError.invalid(field: "durationMinutes", "must be 10 to 720 minutes") }
        let reminder = plan.reminderMinutes ?? 30
        guard LiveSchedule.reminders.contains(reminder) else { throw UseCaseError.invalid(field: "reminderMinutes", "must be 5 to 1,440 minutes before the start") }
        let audit = env.audit(tenantId: account.tenantId, actor: caller.actor, action: "live.create", target: account.id, detail: title)
        if let startsAt = plan.startsAt {
            guard plan.times == nil, plan.weekdays == nil else { throw UseCaseError.invalid(field: "startsAt", "give either startsAt (one live) or weekdays and times (a schedule)") }
            guard startsAt > now else { throw UseCaseError.invalid(field: "startsAt", "is in the past; a live is planned ahead") }
            guard startsAt <= now + 366 * 86_400_000 else { throw UseCaseError.invalid(field: "startsAt", "must be within a year") }
            let live = Live(id: env.newId("live"), accountId: account.id, scheduleId: nil, title: title, startsAt: startsAt,
                            endsAt: startsAt + Int64(duration) * 60_000, reminderMinutes: reminder)
            try await env.store.createLives([live], schedule: nil, tenantId: account.tenantId, audit: audit)
            return (nil, [live])
        }
        guard let times = plan.times, (1...6).contains(times.count) else {
            throw UseCaseError.invalid(field: "times", "give one to six start times as HH:MM (for example [\"08:00\", \"19:00\"]), or startsAt for one live")
        }
        var minutes: [Int] = []
        for (i, text) in times.enumerated() {
            guard let m = LiveSchedule.minutes(of: text) else { throw UseCaseError.invalid(field: "times[\(i)]", "must be HH:MM between 00:00 and 23:59") }
            if !minutes.contains(m) { minutes.append(m) }
        }
        let weekdays = Array(Set(plan.weekdays ?? Array(1...7))).sorted()
        guard !weekdays.isEmpty, weekdays.allSatisfy({ (1...7).contains($0) }) else {
            throw UseCaseError.invalid(field: "weekdays", "must be days 1 (Monday) to 7 (Sunday); leave it out for every day")
        }
        let schedule = LiveSchedule(id: env.newId("sched"), accountId: account.id, title: title, weekdays: weekdays, times: minutes.sorted(),
                                    durationMinutes: duration, reminderMinutes: reminder, createdAt: now)
        let lives = Reach.lives(of: schedule, in: account, from: now)
        try await env.store.createLives(lives, schedule: schedule, tenantId: account.tenantId, audit: audit)
        return (schedule, lives)
    }

    public func cancel(_ id: String, of account: Account, by caller: Principal) async throws -> Live {
        try caller.authorize(.cancelLive)
        var live = try await existing(id, of: account)
        guard live.startsAt > env.now() else { throw UseCaseError.conflict(code: "live_started", "the live has started; only a planned live can be cancelled") }
        try await env.store.cancelLive(id: id, of: account, audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "live.cancel", target: id))
        live.cancelled = true
        return live
    }

    /// Sends the live's reminders now, ahead of their time.
    public func remind(_ id: String, of account: Account, by caller: Principal) async throws -> (sent: Int, heldBack: Int) {
        try caller.authorize(.remindLive)
        let live = try await existing(id, of: account)
        let now = env.now()
        guard live.startsAt > now else {
            throw UseCaseError.invalid(field: "liveId", "the live started at \(Self.iso(live.startsAt)); reminders go out before a live starts")
        }
        guard !live.cancelled else { throw UseCaseError.invalid(field: "liveId", "the live is cancelled") }
        guard live.remindedAt == nil else { throw UseCaseError.conflict(code: "already_reminded", "the live's reminders went out at \(Self.iso(live.remindedAt ?? 0))") }
        do {
            return try await flywheel.reach.remind(live, of: account, audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "live.remind", target: id))
        } catch StoreError.refused(.changedMeanwhile) {
            throw UseCaseError.conflict(code: "already_reminded", "the live's reminders went out meanwhile")
        }
    }

    static func iso(_ ms: Int64) -> String {
        Date(timeIntervalSince1970: TimeInterval(ms) / 1000).formatted(.iso8601)
    }
}
