import FlywheelDomain

/// The playbooks' words (domain data, written in English) as the console's Chinese readers see
/// them; a text not listed is shown as it is.
extension Language {
    func playbook(_ english: String) -> String {
        guard self == .zh else { return english }
        return Self.playbookChinese[english] ?? english
    }

    /// A task's title: an automatic action's in the reader's words, a playbook lever's translated.
    func taskTitle(_ action: TaskAction, title: String) -> String {
        switch action {
        case .manual: playbook(title)
        case .groupThreshold(let threshold): pick("Set the fan groups' entry threshold to \(threshold)", "将粉丝群入群门槛设为 \(threshold)")
        case .liveSchedule(let hours):
            pick("Schedule a daily live at \(hours.map { String(format: "%02d:00", $0) }.joined(separator: " and "))",
                 "每天 \(hours.map { String(format: "%02d:00", $0) }.joined(separator: "、")) 直播")
        case .welcomeReply: pick("Set the DM welcome reply", "设置私信欢迎语")
        }
    }

    static let playbookChinese: [String: String] = [
        "keep enthusiasm up, build a repurchase pool, and raise how often fans buy with trade tools": "保持热度，建立复购池，用交易工具提高购买频次",
        "Luzhou Laojiao: 3M fans over a matrix of accounts; fans bring 83% of live GMV; 19% of fans active daily; 70% repurchase in groups; lives daily at 08:00 and 19:00": "泸州老窖：矩阵账号300万粉丝；粉丝贡献83%直播GMV；19%粉丝日活；群内复购70%；每天8点、19点直播",
        "live coupons": "直播间优惠券",
        "fan red envelopes": "粉丝红包",
        "group repurchase coupons": "群复购券",
        "lotteries": "抽奖",
        "a group open to level 3 and above keeps the engaged fans together, where repurchase happens (70% in the seed case)": "粉丝群对3级及以上开放，把活跃粉丝聚在复购发生的地方（案例中70%）",
        "daily lives at 08:00 and 19:00 earn intimacy every day: level 6 is about three weeks of daily watching": "每天8点、19点直播，天天积累亲密度：每天观看约三周可达6级",
        "Post a repurchase coupon in every fan group each Friday": "每周五在每个粉丝群发复购券",
        "a coupon in the group brings members back before their usual repurchase date": "群内优惠券让成员在惯常复购日之前回购",
        "Announce each live in the fan groups and by subscription post": "每场直播都在粉丝群和订阅号预告",
        "fans bring 83% of live GMV in the seed case; reminded fans come": "案例中粉丝贡献83%直播GMV；被提醒的粉丝会来",
        "Reply to comments on new videos within the hour": "一小时内回复新视频的评论",
        "interactions and watch time are what the platform's recommendation rewards": "互动和观看时长是平台推荐看重的",
        "Run a fan red envelope in the evening live": "晚间直播发粉丝红包",
        "red envelopes keep fans in the live room until the offer": "红包让粉丝留在直播间直到优惠出现",
        "interest in the local store, visits, word of mouth and fission": "激发对门店的兴趣、到店、口碑与裂变",
        "a photo studio: the DM auto-reply offers the fan group; the homepage shows the daily live, group entry, consultation entry and lead card": "某摄影工作室：私信自动回复引导入群；主页展示每日直播、群聊入口、咨询入口与留资卡",
        "DM welcome with the group entry": "私信欢迎语附群入口",
        "homepage lead card": "主页留资卡",
        "add-fan coupons": "涨粉券",
        "referral (fission) codes": "裂变邀请码",
        "the seed studio's DM welcome offers the group and a consultation: most of its leads start in a DM": "案例工作室的私信欢迎语引导入群和咨询：多数线索始于私信",
        "Give every customer a referral code at checkout": "每位顾客结账时送一个邀请码",
        "a customer who brings a friend is the studio's true-love fan": "带来朋友的顾客就是工作室的真爱粉",
        "Staff the inbox 10:00–22:00 with two agents": "10:00–22:00 安排两名客服值守私信",
        "a lead answered at once is filled in about 8 times as often": "立即回复的线索，留资率约为慢回复的8倍",
        "a daily evening live shows the work and the store": "每天晚间直播展示作品和门店",
        "Call back every homepage lead the same day": "主页线索当天回电",
        "store visits come from leads called back quickly": "到店来自被快速回电的线索",
        "lasting stickiness, a shorter decision cycle, cross-category sales": "长期黏性、缩短决策周期、跨品类转化",
        "a career-education account: fans bring 94% of group GMV; products over 1,000 yuan make up 40%+ of group sales; admins answer every day": "某职业教育账号：粉丝贡献94%群GMV；千元以上产品占群销售40%以上；群管理员每天答疑",
        "fan groups with daily admin answers": "群管理员每日答疑的粉丝群",
        "lives with course coupons": "带课程券的直播",
        "lead cards": "留资卡",
        "lotteries for trial lessons": "试听课抽奖",
        "fans bring 94% of group GMV in the seed case: every follower who shows interest belongs in the group": "案例中粉丝贡献94%群GMV：有兴趣的粉丝都应入群",
        "a weekly evening live answers questions and shortens the decision": "每周晚间直播答疑，缩短决策",
        "Answer every group question the same day": "群内问题当天答复",
        "admins answering daily is what the seed case credits": "案例把成绩归功于管理员每天答疑",
        "Offer the next course to last quarter's buyers in the group": "在群内向上季度购课学员推荐下一门课",
        "cross-category sales come from buyers": "跨品类销售来自已购学员",
        "Publish two short lessons a week": "每周发布两节短课",
        "useful content earns watch time and shares": "有用的内容带来观看时长和分享",
        "Run a trial-lesson lottery for group members": "为群成员举办试听课抽奖",
        "a trial brings undecided fans to a first purchase": "试听让犹豫的粉丝完成首购",
        "trust, a benefit circle, IP and belonging; online leads bring store visits": "信任、福利圈、IP与归属感；线上线索带来到店",
        "a used-car dealer: 4 matrix accounts, 1.96M fans, 15k–20k leads and 200+ cars a month, 60k fans in groups, every DM answered within 30 minutes": "某二手车商：4个矩阵账号，196万粉丝，每月1.5–2万条线索、成交200多台，6万粉丝在群，私信30分钟内必回",
        "DMs answered within 30 minutes": "私信30分钟内回复",
        "store-visit coupons": "到店券",
        "owner groups": "车主群",
        "Put two sales on the inbox rota so every DM is answered within 30 minutes": "安排两名销售轮值私信，保证30分钟内回复",
        "the seed dealer answers every DM within 30 minutes; buyers leave their number when answered fast": "案例车商私信30分钟内必回；回复快，买家就愿意留电话",
        "a DM answered at once with a lead card is filled in about 8 times as often": "立即回复并附留资卡，留资率约为慢回复的8倍",
        "an owners' and buyers' group for people who left their details builds the trust a car purchase needs": "为已留资的人建车主与买家群，建立购车所需的信任",
        "an evening live tour of the lot brings questions and DMs": "晚间直播带看车场，带来咨询和私信",
        "Invite every new lead to a store visit within 48 hours": "48小时内邀请每条新线索到店",
        "cars are sold at the store": "车在门店成交",
    ]
}
