import FlywheelDomain

/// The journeys' codes in the reader's words: arms, step kinds, what a step did, states.
extension Language {
    func arm(_ code: String) -> String {
        switch ExperimentArm(rawValue: code) {
        case .treated: self(.treatedArm)
        case .holdout: self(.holdoutArm)
        case .control: self(.controlArm)
        case nil: code
        }
    }

    func stepNumber(_ n: Int) -> String { pick("step \(n)", "第 \(n) 步") }

    func stepKind(_ code: String) -> String {
        switch JourneyStep.Kind(rawValue: code) {
        case .wait: pick("wait", "等待")
        case .waitUntil: pick("wait until", "等到")
        case .waitForEvent: pick("wait for event", "等待事件")
        case .branch: pick("branch", "分支")
        case .dm: pick("DM", "私信")
        case .coupon: pick("coupon", "优惠券")
        case .groupInvitation: pick("group invitation", "群邀请")
        case .tag: pick("tag", "打标签")
        case .audience: pick("add to post audience", "加入推送人群")
        case .redEnvelope: pick("red envelope", "红包")
        case .leadTask: pick("lead task", "线索跟进任务")
        case .webhook: pick("webhook", "Webhook")
        case .end: pick("end", "结束")
        case nil: code
        }
    }

    /// What a step did, as the runner records it (`sent`, `held back: touch budget`, `yes`…).
    func stepOutcome(_ code: String) -> String {
        guard self == .zh else { return code }
        let words: [String: String] = [
            "sent": "已发送", "yes": "是", "no": "否", "waited": "等待结束", "event came": "事件发生", "timed out": "超时", "end": "结束",
            "held back: touch budget": "超出触达预算，未发送", "skipped: the account cannot send DMs": "账号无私信权限，跳过",
            "skipped: the fan has not written in 24 hours nor allowed messages": "粉丝 24 小时内未发私信且未授权，跳过",
            "skipped: three proactive messages today": "今日主动私信已满 3 条，跳过",
        ]
        if let word = words[code] { return word }
        if code.hasPrefix("tagged ") { return "已打标签 " + code.dropFirst(7) }
        if code.hasPrefix("task on ") { return "已建跟进任务 " + code.dropFirst(8) }
        if code == "skipped: the fan has left no lead" { return "粉丝未留资，跳过" }
        if code.hasPrefix("joined ") { return "已加入人群 " + code.dropFirst(7) }
        if code.hasPrefix("gave "), code.hasSuffix(" fen") { return "已发红包 " + code.dropFirst(5).dropLast(4) + " 分" }
        if code.hasPrefix("skipped: ") { return "跳过：" + code.dropFirst(9) }
        return code
    }

    func journeyState(_ state: JourneyState) -> String {
        switch state {
        case .draft: pick("draft", "草稿")
        case .active: pick("active", "运行中")
        case .paused: pick("paused", "已暂停")
        }
    }

    /// "A fan reaches true-love", "分层达到 真爱粉".
    func trigger(_ trigger: JourneyTrigger, segmentName: (String) -> String) -> String {
        switch trigger.kind {
        case .event: EventKind(rawValue: trigger.value).map { pick("event: ", "事件：") + kind($0) } ?? trigger.value
        case .tier: Tier(name: trigger.value).map { pick("reaches the tier ", "分层达到 ") + tier($0) } ?? trigger.value
        case .segment: pick("enters the segment ", "进入人群 ") + segmentName(trigger.value)
        case .funnelStage: FunnelStage(rawValue: trigger.value).map { pick("reaches the funnel stage ", "进入漏斗阶段 ") + stage($0) } ?? trigger.value
        case .leadStage: LeadStage(rawValue: trigger.value).map { pick("a lead moves to ", "线索进入 ") + leadStage($0) } ?? trigger.value
        case .date: pick("on ", "定时 ") + trigger.value + (trigger.condition.map { pick(", fans where ", "，符合 ") + $0 } ?? pick(", every fan", "，全部粉丝"))
        }
    }
}
