import FlywheelDomain
import FlywheelStore
import Foundation

/// The console's languages: Chinese (the demo's default) and English.
///
/// Every word a page shows is here, in both languages, and nowhere else: the pages' phrases
/// (`Phrase`, which templates read as `{{t.phraseName}}`) and the model's codes (tiers, domains,
/// channels, event kinds, profile attributes, segment states, roles, actors, causes). The switches
/// are exhaustive, so a new case in the model does not compile until it has its two words.
enum Language: String, CaseIterable, Sendable {
    case zh, en

    /// The English or the Chinese, whichever this language is.
    func pick(_ english: String, _ chinese: String) -> String { self == .en ? english : chinese }

    /// The `lang` attribute of the page.
    var htmlLang: String { pick("en", "zh-CN") }
    /// The language the header's link switches to.
    var other: Language { self == .zh ? .en : .zh }
    /// The language's name in itself, for that link.
    var ownName: String { pick("English", "中文") }

    /// Every phrase by its name: the `t` that templates read.
    var phrases: [String: String] { Self.tables[self] ?? [:] }

    private static let tables: [Language: [String: String]] = Dictionary(uniqueKeysWithValues: allCases.map { language in
        (language, Dictionary(uniqueKeysWithValues: Phrase.allCases.map { ($0.rawValue, language($0)) }))
    })

    // MARK: Phrases

    func callAsFunction(_ phrase: Phrase) -> String {
        switch phrase {
        case .flywheelConsole: pick("Flywheel console", "Flywheel 私域运营台")
        case .signIn: pick("Sign in", "登录")
        case .signOut: pick("Sign out", "退出")
        case .user: pick("User", "用户名")
        case .password: pick("Password", "密码")
        case .wrongPassword: pick("Wrong user or password", "用户名或密码错误")
        case .organisation: pick("Organisation (name or id; only if asked)", "企业（名称或 ID，提示时填写）")
        case .organisationNeeded:
            pick("This user name is used in several organisations: enter your organisation's name or id as well.",
                 "该用户名存在于多个企业中：请同时填写您所在企业的名称或 ID。")
        case .signInBusy: pick("Too many sign-ins are being checked at once; try again in a moment.", "当前登录请求过多，请稍后再试。")
        case .signInFormExpired:
            pick("The sign-in form expired or did not come from this site; please sign in again.", "登录表单已过期或并非来自本站，请重新登录。")
        case .overview: pick("Overview", "概览")
        case .fans: pick("Fans", "粉丝")
        case .segments: pick("Segments", "人群")
        case .tags: pick("Tags", "标签")
        case .settings: pick("Settings", "设置")
        case .account: pick("Account", "账号")
        case .allAccounts: pick("All accounts", "全部账号")
        case .chooseAccount: pick("Choose an account to see its fans.", "请选择一个账号查看粉丝。")
        case .totalFans: pick("Total fans", "粉丝总数")
        case .fansByTier: pick("Fans by tier", "粉丝分层")
        case .tierMix: pick("Followers by tier over 30 days, %", "近 30 天关注者分层占比（%）")
        case .newFansPerDay: pick("New fans per day", "每日新增粉丝")
        case .newFans: pick("New fans", "新增粉丝")
        case .newFansByDomain: pick("New fans by domain, 30 days", "近 30 天各域新增粉丝")
        case .eventsByChannel: pick("Events by channel, 30 days", "近 30 天各渠道互动")
        case .transitions: pick("Transitions, 30 days", "近 30 天分层流转")
        case .quarantineSummary: pick("Events set aside because they could not be applied:", "因无法应用而被隔离的事件：")
        case .search: pick("Search", "搜索")
        case .filter: pick("Filter", "筛选")
        case .nickname: pick("Nickname", "昵称")
        case .tier: pick("Tier", "分层")
        case .anyTier: pick("Any tier", "全部分层")
        case .level: pick("Level", "等级")
        case .intimacy: pick("Intimacy", "亲密度")
        case .lastActive: pick("Last active", "最近活跃")
        case .source: pick("Source", "来源")
        case .gmv: pick("GMV", "成交额")
        case .nextPage: pick("Next page", "下一页")
        case .profile: pick("Profile", "画像")
        case .following: pick("Following", "已关注")
        case .notFollowing: pick("Not following", "未关注")
        case .interests: pick("Interests", "兴趣")
        case .groups: pick("Groups", "粉丝群")
        case .timeline: pick("Timeline", "时间线")
        case .time: pick("Time", "时间")
        case .actor: pick("Who", "操作方")
        case .event: pick("Event", "事件")
        case .detail: pick("Detail", "详情")
        case .addTag: pick("Add tag", "打标签")
        case .removeTag: pick("Remove tag", "去标签")
        case .note: pick("Note", "备注")
        case .addNote: pick("Add note", "添加备注")
        case .byRule: pick("by a rule", "规则")
        case .predicate: pick("Predicate", "条件")
        case .preview: pick("Preview", "预览")
        case .matchingFans: pick("Matching fans", "符合条件的粉丝")
        case .name: pick("Name", "名称")
        case .size: pick("Size", "人数")
        case .state: pick("State", "状态")
        case .saveSegment: pick("Save segment", "保存人群")
        case .importOpenIds: pick("Import open_ids", "导入 open_id")
        case .importList: pick("Import", "导入")
        case .exportCSV: pick("Export CSV", "导出 CSV")
        case .exportSHA256: pick("Export SHA-256", "导出 SHA-256")
        case .findLookalikes: pick("Find lookalikes", "相似人群扩展")
        case .portrait: pick("Portrait", "人群画像")
        case .gender: pick("Gender", "性别")
        case .ageBand: pick("Age band", "年龄段")
        case .firstDomain: pick("First domain", "首次来源")
        case .staticList: pick("static list", "静态名单")
        case .tagGroup: pick("Tag group", "标签组")
        case .newTag: pick("New tag", "新建标签")
        case .tierRules: pick("Tier rules", "分层规则")
        case .autoTagRules: pick("Auto-tag rules", "自动标签规则")
        case .users: pick("Users", "成员")
        case .role: pick("Role", "角色")
        case .addUser: pick("Add user", "添加成员")
        case .issueKey: pick("Issue me an API key", "为我生成 API 密钥")
        case .changeRole: pick("Change role", "更改角色")
        case .disableUser: pick("Disable", "停用")
        case .enableUser: pick("Enable", "启用")
        case .removeUser: pick("Remove", "移除")
        case .activeState: pick("Active", "正常")
        case .disabledState: pick("Disabled", "已停用")
        case .removed: pick("removed, with their keys and sessions", "已移除，其密钥和会话一并失效")
        case .lastOwnerStays:
            pick("The last owner cannot be removed, disabled or given another role: make another user owner first.",
                 "最后一位所有者不能被移除、停用或更改角色：请先将另一位成员设为所有者。")
        case .notThisUser:
            pick("Your role may not change this user or give that role: an admin changes only operators, agents and analysts.",
                 "您的角色无权更改该成员或授予该角色：管理员只能管理运营、客服和分析师。")
        case .changedMeanwhile: pick("Someone else changed this user meanwhile; look again and retry.", "该成员刚被他人修改，请刷新后重试。")
        case .yourKeys: pick("Your API keys", "我的 API 密钥")
        case .keyId: pick("Key", "密钥")
        case .created: pick("Created", "创建时间")
        case .expires: pick("Expires", "到期时间")
        case .never: pick("Never", "永不过期")
        case .keyExpiry: pick("Expiry", "有效期")
        case .revokeKey: pick("Revoke", "吊销")
        case .noKeys: pick("You have no API key yet.", "您还没有 API 密钥。")
        case .newKey: pick("Your new API key, shown once:", "新的 API 密钥（只显示这一次）：")
        case .platformApps: pick("Platform apps", "平台应用")
        case .addApp: pick("Add app", "添加应用")
        case .points: pick("Points", "积分")
        case .flat: pick("Flat", "每次")
        case .perAmount: pick("Per amount", "按数额")
        case .levels: pick("Levels", "等级")
        case .dailyCap: pick("Daily cap", "每日上限")
        case .save: pick("Save", "保存")
        case .accountHealth: pick("Account health", "账号健康")
        case .healthExplained:
            pick("Events the projector could not apply are set aside here, and the account goes on without them. Retry one once its cause is fixed (new rules, a newer Flywheel), or drop it for good: it stays in the log, never applied.",
                 "无法应用的事件会被隔离在这里，账号的其余事件照常处理。原因修复后（新的规则、更新的 Flywheel）可以重试；也可以永久丢弃：事件仍留在日志中，但不再应用。")
        case .noQuarantined: pick("No event is set aside.", "没有被隔离的事件。")
        case .seq: pick("Seq", "序号")
        case .eventId: pick("Event id", "事件 ID")
        case .reason: pick("Reason", "原因")
        case .setAsideAt: pick("Set aside at", "隔离时间")
        case .retry: pick("Retry", "重试")
        case .drop: pick("Drop", "丢弃")
        case .requeued: pick("back in the log, applied late", "已重新放入日志，稍后应用")
        case .dropped: pick("dropped; it stays in the log, never applied", "已丢弃；仍留在日志中，不再应用")
        case .stillInvalid: pick("still cannot be applied", "仍无法应用")
        case .notQuarantined: pick("not set aside (already retried or dropped)", "不在隔离列表中（已重试或已丢弃）")
        case .badRequestTitle: pick("That cannot be done", "无法完成")
        case .badRequestText: pick("Something in the request is not right; go back and correct it.", "请求中有内容不正确，请返回修改。")
        case .unauthorizedTitle: pick("Sign in needed", "需要登录")
        case .unauthorizedText: pick("Sign in to see this page.", "请先登录再查看此页面。")
        case .forbiddenTitle: pick("Not allowed", "无权操作")
        case .forbiddenText: pick("Your role does not allow this, or the form was stale: reload the page and try again.", "您的角色不允许此操作，或表单已过期：请刷新页面后重试。")
        case .notFoundTitle: pick("Not found", "未找到")
        case .notFoundText: pick("What you asked for does not exist here, or is not in the accounts you may see.", "您要找的内容不存在，或不在您可查看的账号中。")
        case .conflictTitle: pick("Already taken", "已存在")
        case .conflictText: pick("That clashes with something that exists.", "与已有的内容冲突。")
        case .tooLargeTitle: pick("Too large", "内容过大")
        case .tooLargeText: pick("What was sent is larger than the console accepts.", "提交的内容超过了允许的大小。")
        case .errorTitle: pick("Something went wrong", "出错了")
        case .errorText: pick("The server could not answer; the error is in its log.", "服务器未能完成请求，错误已记录在日志中。")
        case .backToOverview: pick("Back to the overview", "返回概览")
        case .openedThread: pick("Opened the conversation", "进入了私信")
        case .inbox: pick("Inbox", "私信")
        case .leads: pick("Leads", "线索")
        case .replyTimes: pick("Reply times", "响应时效")
        case .conversations: pick("Conversations", "会话")
        case .allConversations: pick("All", "全部")
        case .queuedOnly: pick("Waiting for an agent", "待分配")
        case .mine: pick("Mine", "我的")
        case .overdueOnly: pick("Overdue", "已超时")
        case .resolvedOnly: pick("Resolved", "已解决")
        case .noConversations: pick("No conversation here yet.", "这里还没有会话。")
        case .chooseConversation: pick("Choose a conversation on the left.", "请从左侧选择一个会话。")
        case .dueAt: pick("Due", "应答截止")
        case .overdue: pick("Overdue", "已超时")
        case .replyBy: pick("Reply by", "可回复至")
        case .reply: pick("Reply", "回复")
        case .send: pick("Send", "发送")
        case .cannedReply: pick("Canned reply", "快捷回复")
        case .orTypeBelow: pick("or type below", "或在下方输入")
        case .assignTo: pick("Assign to", "分配给")
        case .assign: pick("Assign", "分配")
        case .resolve: pick("Resolve", "标记已解决")
        case .internalNote: pick("Internal note (never sent)", "内部备注（不会发送给粉丝）")
        case .cannotSendHere: pick("This account cannot send DMs from Flywheel (not connected, or its app has no DM capability): answer in the platform's app; the answer appears here and stops the clock.", "该账号无法在 Flywheel 中发送私信（未授权，或应用没有私信能力）：请在抖音 App 中回复，回复会显示在这里并停止计时。")
        case .windowClosed: pick("The fan's last message is more than 24 hours old: the platform takes no reply now.", "粉丝最后一条消息已超过 24 小时：平台不再允许回复。")
        case .replyQueued: pick("Reply queued: it goes out through the outbox.", "回复已排队，将通过发件箱发出。")
        case .liveUpdates: pick("Updates as messages arrive", "新消息会自动出现")
        case .openFan: pick("Open the fan's page", "查看粉丝详情")
        case .agentLabel: pick("Agent", "客服")
        case .moveTo: pick("Move to", "移至")
        case .lostReason: pick("Reason lost", "流失原因")
        case .wonValue: pick("Order value (yuan)", "成交金额（元）")
        case .submissions: pick("Submissions", "提交次数")
        case .salesperson: pick("Salesperson", "销售")
        case .nobody: pick("Nobody", "未分配")
        case .overdueFollowUps: pick("Overdue follow-ups", "逾期跟进")
        case .noFollowUps: pick("No follow-up is overdue.", "没有逾期的跟进。")
        case .conversionBySource: pick("Conversion by source", "各来源转化")
        case .leadsCount: pick("Leads", "线索数")
        case .contacted: pick("Contacted", "已联系")
        case .won: pick("Won", "成交")
        case .lost: pick("Lost", "流失")
        case .conversion: pick("Conversion", "转化率")
        case .minutesToContact: pick("Median minutes to contact", "首次联系中位时长（分钟）")
        case .answered: pick("Answered", "已回复")
        case .withinTarget: pick("Within target", "按时回复")
        case .withinShare: pick("Share within target", "按时率")
        case .medianFirstResponse: pick("Median first response (min)", "首次响应中位数（分钟）")
        case .p90FirstResponse: pick("p90 first response (min)", "首次响应 P90（分钟）")
        case .breaches: pick("Breaches", "超时")
        case .answersPerDay: pick("Answers per day, and breaches", "每日回复与超时")
        case .firstResponseByAgent: pick("Median first response by agent (minutes)", "各客服首次响应中位数（分钟）")
        case .target: pick("Target", "目标")
        case .minutes: pick("min", "分钟")
        case .byDay: pick("By day", "按日")
        case .byAgent: pick("By agent", "按客服")
        case .posts: pick("Posts", "订阅号推送")
        case .lives: pick("Lives", "直播")
        case .homepage: pick("Homepage", "主页")
        case .quotaThisMonth: pick("Pushes this month", "本月推送")
        case .nextAllowedDay: pick("Next day with room", "下一个可推送日")
        case .heldBack: pick("Held back (30 days)", "频控拦下（30天）")
        case .touchBudget: pick("Touch budget (day / week)", "触达频控（天 / 周）")
        case .openedByPost: pick("Opened, by post", "各推送打开数")
        case .unfollowedByPost: pick("Unfollowed after, by post", "推送后取关数")
        case .automatic: pick("Automatic", "自动")
        case .task: pick("Task in the app", "App 内人工任务")
        case .liveBooking: pick("Live booking", "直播预约")
        case .applications: pick("Join applications", "入群申请")
        case .groupAdmins: pick("Group admins", "群管理员")
        case .allSubscribers: pick("All subscribers", "全部订阅粉丝")
        case .groupNumber: pick("Group number", "群号")
        case .members: pick("Members", "成员")
        case .activeMembers: pick("Active members (7 days)", "活跃成员（7天）")
        case .repurchaseMembers: pick("Repurchase, members", "成员复购率")
        case .repurchaseOthers: pick("Repurchase, other fans", "非成员复购率")
        case .membersOverTime: pick("Members over time", "成员数变化")
        case .groupMessages: pick("Messages", "群消息")
        case .liveGmvByAudience: pick("Last live's GMV (yuan) by audience", "最近一场直播GMV构成（元）")
        case .viewers: pick("Viewers", "观看人数")
        case .visitsByChannel: pick("Visits by channel (30 days)", "主页访问来源（30天）")
        case .newPost: pick("New post", "新建推送")
        case .postTitle: pick("Title", "标题")
        case .postBody: pick("Text", "正文")
        case .postFormat: pick("Format", "形式")
        case .formatText: pick("Text", "图文")
        case .formatImage: pick("Image", "图片")
        case .formatVideo: pick("Video", "视频")
        case .mediaRef: pick("Media id (image or video)", "素材 ID（图片或视频）")
        case .scheduledAt: pick("When (empty: now)", "推送时间（留空即刻）")
        case .audience: pick("Audience", "受众")
        case .tool: pick("Tool", "营销工具")
        case .noTool: pick("None", "无")
        case .coupon: pick("Coupon", "优惠券")
        case .product: pick("Product", "商品")
        case .toolRef: pick("Tool id", "工具 ID")
        case .planPost: pick("Plan the post", "创建推送")
        case .delivered: pick("Delivered", "送达")
        case .opened: pick("Opened", "打开")
        case .clicked: pick("Clicked", "点击")
        case .converted: pick("Converted", "转化")
        case .unfollowed: pick("Unfollowed", "取关")
        case .mode: pick("How", "方式")
        case .markPublished: pick("Published in the app", "已在 App 发布")
        case .cancel: pick("Cancel", "取消")
        case .perDay: pick("A day", "每天")
        case .perWeek: pick("A week", "每周")
        case .actionModes: pick("What Flywheel does and what is a task", "自动执行与人工任务")
        case .newGroup: pick("New fan group", "新建粉丝群")
        case .groupName: pick("Name", "群名称")
        case .groupDescription: pick("Description", "群简介")
        case .threshold: pick("Entry threshold (a predicate, e.g. level >= 9)", "入群门槛（条件表达式，如 level >= 9）")
        case .welcome: pick("Welcome message", "入群欢迎语")
        case .adminsLabel: pick("Admins (open_ids, at most 10)", "管理员（open_id，最多10人）")
        case .liveReminder: pick("Remind the group when a live starts", "开播自动提醒")
        case .shareNewWorks: pick("Share new works into the group", "自动同步新作品")
        case .createGroup: pick("Create the group", "创建粉丝群")
        case .decision: pick("Decision", "结果")
        case .noGroups: pick("No fan groups yet.", "还没有粉丝群。")
        case .schedule: pick("Plan lives", "直播排期")
        case .liveTitle: pick("Title", "直播标题")
        case .times: pick("Start times (HH:MM, comma-separated)", "开播时间（HH:MM，逗号分隔）")
        case .weekdays: pick("Weekdays (1 Monday to 7 Sunday; empty: every day)", "星期（1 周一 至 7 周日；留空为每天）")
        case .durationMinutes: pick("Duration (minutes)", "时长（分钟）")
        case .reminderMinutes: pick("Remind before (minutes)", "提前提醒（分钟）")
        case .calendar: pick("Live calendar", "直播日历")
        case .bookings: pick("Bookings", "预约")
        case .reminders: pick("Reminders sent / held back", "提醒 已发 / 拦下")
        case .remindNow: pick("Remind now", "立即提醒")
        case .endedLives: pick("Past lives: old fans / new fans / non-fans", "已结束直播：老粉 / 新粉 / 非粉")
        case .avgMinutes: pick("Avg. minutes", "人均观看（分钟）")
        case .fanShare: pick("Fans' share of GMV", "粉丝GMV占比")
        case .oldFanShare: pick("Old fans' share", "老粉GMV占比")
        case .noLives: pick("No lives planned.", "暂无直播排期。")
        case .checklist: pick("Homepage set-up", "主页装修清单")
        case .channelLabel: pick("Channel", "渠道")
        case .domainLabel: pick("Domain", "来源域")
        case .visits: pick("Visits", "访问")
        case .share: pick("Share", "占比")
        case .sales: pick("Sales", "成交")
        case .ordersCount: pick("Orders", "订单数")
        case .fansShareOfGmv: pick("Fans' share of GMV", "粉丝成交占比")
        case .fansShareOfLiveGmv: pick("Fans' share of live GMV", "直播间粉丝成交占比")
        case .oldFansShareOfLiveGmv: pick("Old fans' share of live GMV", "直播间老粉成交占比")
        case .fansShareOfGroupGmv: pick("Fans' share of group GMV", "群内粉丝成交占比")
        case .groupMemberRepurchase: pick("Group members who bought again", "粉丝群复购率")
        case .repurchaseRate: pick("Buyers who bought again", "复购率")
        case .medianRepurchaseDays: pick("Days between orders (median)", "复购间隔中位数（天）")
        case .gmvByAudience: pick("GMV (yuan): fans and non-fans, old and new", "成交额（元）：粉丝与非粉、老粉与新粉")
        case .gmvByTier: pick("GMV (yuan) by tier", "各层级成交额（元）")
        case .nonFans: pick("Non-fans", "非粉丝")
        case .oldFans: pick("Old fans", "老粉")
        case .firstTouch: pick("First touch (yuan)", "首次触点归因（元）")
        case .lastTouch: pick("Last touch (yuan)", "末次触点归因（元）")
        case .positionBased: pick("Position based, 40/20/40 (yuan)", "位置归因 40/20/40（元）")
        case .attributionExplained:
            pick("Each order's value goes to the touches of the 7 days before it: all to the first, all to the last, or 40% first, 40% last, 20% between. The models disagree by design; read them side by side.",
                 "每笔订单的金额归给下单前 7 天内的触点：全部归首次、全部归末次，或首末各 40%、中间分 20%。三种模型本就不同，请对照来看。")
        case .touchpointLabel: pick("Touchpoint", "触点")
        case .unattributed: pick("No touch in the window", "窗口内无触点")
        case .coupons: pick("Coupons", "优惠券")
        case .redEnvelopes: pick("Red envelopes", "粉丝红包")
        case .lotteries: pick("Lotteries", "抽奖")
        case .recentOrders: pick("Recent orders", "最近订单")
        case .couponValue: pick("Value", "面额")
        case .stock: pick("Stock", "库存")
        case .issued: pick("Issued", "已发放")
        case .redeemed: pick("Redeemed", "已核销")
        case .roi: pick("GMV per yuan off", "每元优惠带来成交")
        case .claimed: pick("Claimed", "已领取")
        case .returned: pick("Returned", "已退回")
        case .eligibility: pick("Who may enter", "参与条件")
        case .entries: pick("Entries", "参与人数")
        case .prizes: pick("Prizes", "奖品")
        case .seedHash: pick("Seed hash (published)", "种子哈希（已公示）")
        case .winners: pick("Winners", "中奖人数")
        case .orderId: pick("Order", "订单号")
        case .paidAt: pick("Paid", "支付时间")
        case .amount: pick("Amount", "金额")
        case .refunded: pick("Refunded", "已退款")
        case .unclaimed: pick("never claimed", "未领取")
        case .fission: pick("Fission campaigns", "裂变活动")
        case .fissionFunnel: pick("Fission: who shared, who brought friends, who was rewarded", "裂变：分享、带来好友、获得奖励")
        case .participants: pick("Took a code", "参与分享")
        case .inviters: pick("Brought a friend", "成功邀请人数")
        case .rewardedInviters: pick("Rewarded", "获得奖励")
        case .friendsBrought: pick("Friends brought", "带来好友")
        case .deepestChain: pick("Longest chain", "最长邀请链")
        case .kFactor: pick("K-factor", "K 因子")
        case .inviteThreshold: pick("Friends for the reward", "奖励门槛（好友数）")
        case .chooseAccountForTools: pick("Choose one account to see its coupons, red envelopes, lotteries and orders.", "选择一个账号，查看其优惠券、红包、抽奖与订单。")
        case .flywheelFunnel: pick("The flywheel: new → settled → active → converted → repurchased → fissioned", "飞轮：新增 → 沉淀 → 活跃 → 转化 → 复购 → 裂变")
        case .minLevel: pick("Level at least", "等级不低于")
        case .arrivedWithin: pick("Arrived within", "到来时间")
        case .activeWithin: pick("Active within", "活跃时间")
        case .previousPage: pick("Previous page", "上一页")
        case .moreEntries: pick("Earlier entries", "更早的记录")
        case .accountsLabel: pick("Accounts", "账号数")
        case .matchingPeople: pick("Matching people", "符合条件的人")
        case .selectLabel: pick("Select", "选择")
        case .bulkAction: pick("With the selection", "批量操作")
        case .selectionChecked: pick("the ticked rows", "勾选的行")
        case .selectionPage: pick("this page", "本页全部")
        case .bulkSegment: pick("Add to a static segment", "加入静态人群")
        case .segmentNameLabel: pick("Segment name", "人群名称")
        case .continueLabel: pick("Continue", "下一步")
        case .eachAccount: pick("In each account", "在各账号的状态")
        case .arrivedLabel: pick("Arrived", "到来时间")
        case .confirmLabel: pick("Confirm", "确认")
        case .jobsLabel: pick("Bulk jobs", "批量任务")
        case .jobRunning: pick("running", "进行中")
        case .jobDone: pick("done", "已完成")
        case .jobFailed: pick("failed", "失败")
        case .progressLabel: pick("Progress", "进度")
        case .downloadResult: pick("Download the CSV", "下载 CSV")
        case .resultLabel: pick("Result", "结果")
        case .startedLabel: pick("Started", "开始时间")
        case .backToFans: pick("Back to the fans", "返回粉丝列表")
        case .peopleLabel: pick("people", "人")
        case .sizeOverTime: pick("Size over 30 days", "近 30 天人数")
        case .entriesAndExits: pick("Entries and exits per day", "每日进入与离开")
        case .enteredLabel: pick("Entered", "进入")
        case .leftLabel: pick("Left", "离开")
        case .fieldHelpLabel: pick("Field help: every field, what it holds, an example", "字段说明：所有字段、取值与示例")
        case .fieldLabel: pick("Field", "字段")
        case .holdsLabel: pick("Holds", "取值")
        case .exampleLabel: pick("Example", "示例")
        case .mergedPerson: pick("the person, merged over the accounts", "合并后的人（跨账号汇总）")
        case .anyAccount: pick("any one account's fan", "任一账号的粉丝")
        case .modeLabel: pick("Matches", "匹配方式")
        case .membersLabel: pick("Members", "成员")
        case .deleteLabel: pick("Delete", "删除")
        case .matrixSegmentsLabel: pick("Segments of the whole matrix", "矩阵人群（全部账号）")
        case .segmentMembersOf: pick("Members of the segment", "人群成员")
        case .messageThem: pick("Message them in a subscription post", "用订阅号推送触达他们")
        case .fromLabel: pick("From", "从")
        case .toLabel: pick("to", "至")
        case .showLabel: pick("Show", "查看")
        case .ordersLabel: pick("Orders", "订单")
        case .leadsLabel: pick("Leads", "线索")
        case .dmsAnswered: pick("DMs answered", "私信回复")
        case .journeys: pick("Journeys", "自动旅程")
        case .newJourney: pick("New journey", "新建旅程")
        case .triggerLabel: pick("Starts when", "触发条件")
        case .triggerDateLabel: pick("Date (for “on the date below”, the account's time)", "日期（定时触发用，账号时区）")
        case .triggerConditionLabel: pick("Who enters on the date (empty: every fan)", "定时进入的粉丝条件（空：全部粉丝）")
        case .stepsLabel: pick("Steps", "步骤")
        case .stepsHelp: pick("Value by kind — wait: minutes; wait until: HH:MM; wait for event: the event and the minutes to wait (order_paid 1440); branch: a condition (orders >= 1); DM: the text; coupon: activity id and coupon meta id; group invitation: the group id; tag: the tag; add to post audience: a static segment's id; red envelope: the envelope's id; lead task: the minutes until it is due and what to do (60 call back); webhook: a label. Next and otherwise: a later step's number (the end is one past the last); empty rows are left out.",
                              "按类型填写 — 等待：分钟数；等到：HH:MM；等待事件：事件和最多等待分钟（order_paid 1440）；分支：条件（orders >= 1）；私信：内容；优惠券：活动 id 和券模板 id；群邀请：群 id；打标签：标签名；加入推送人群：静态人群 id；红包：红包 id；线索跟进任务：几分钟后到期和任务内容（60 回访）；Webhook：标记。下一步、否则：后面步骤的序号（最后一步之后即结束）；空行忽略。")
        case .holdoutShare: pick("Holdout (%)", "对照组比例（%）")
        case .quietHoursLabel: pick("Quiet hours", "免打扰时段")
        case .reentryLabel: pick("May enter again after finishing", "完成后可再次进入")
        case .launchLabel: pick("Launch", "启动")
        case .pauseLabel: pick("Pause", "暂停")
        case .versionLabel: pick("Version", "版本")
        case .armLabel: pick("Group", "分组")
        case .treatedArm: pick("Treated", "实验组")
        case .holdoutArm: pick("Holdout", "对照组")
        case .controlArm: pick("Global control", "全局对照组")
        case .conversionLabel: pick("Conversion", "转化率")
        case .gmvPerFanLabel: pick("GMV per fan", "人均 GMV")
        case .retentionLabel: pick("Still following", "留存（未取关）")
        case .upliftLabel: pick("Uplift, treated minus holdout, with its 95% interval", "提升：实验组减对照组，及 95% 置信区间")
        case .significantLabel: pick("significant", "显著")
        case .notYetSignificant: pick("not yet significant", "尚不显著")
        case .methodLabel: pick("Each fan's first entry; orders and unfollows within 30 days after it. 95% interval by Welch's t on per-fan values; significant when it leaves out zero and each group has at least 30 fans.",
                                "按每位粉丝首次进入计；统计进入后 30 天内的订单与取关。95% 置信区间采用逐粉丝值的 Welch t 检验；区间不含 0 且每组至少 30 人时为显著。")
        case .nextStepLabel: pick("Next", "下一步")
        case .otherwiseLabel: pick("Otherwise", "否则")
        case .flowLabel: pick("The flow", "流程图")
        case .experimentLabel: pick("Experiment", "实验报告")
        case .onTheWay: pick("On the way", "进行中")
        case .finishedLabel: pick("Finished", "已完成")
        case .saveJourney: pick("Save journey", "保存旅程")
        case .noJourneys: pick("No journey yet: a welcome series, a repurchase reminder, a win-back after a lead goes quiet.", "还没有旅程：可以做新粉欢迎、复购提醒、线索沉默后的唤回。")
        case .startLabel: pick("Start", "开始")
        case .endLabel: pick("End", "结束")
        case .stepLabel: pick("Step", "步骤")
        case .stepKindLabel: pick("Kind", "类型")
        case .controlExplained: pick("the same fans in every journey, reached by no automated action; journeys keep the share they were launched with.",
                                     "每个旅程中都是同一批粉丝，不接收任何自动触达；旅程沿用启动时的比例。")
        case .outcomeLabel: pick("Outcome", "结果")
        case .noQuietHours: pick("none", "无")
        case .reachedWithin: pick("Reached its tier within", "进入当前层级时间")
        case .soFar: pick("today, so far", "今天，截至目前")
        case .funnelWeeks: pick("The flywheel week by week", "飞轮周报")
        case .funnelWeeksExplained: pick("Fans at each stage at the end of the week; → the share of the stage's fans who moved on to the next stage that week.",
                                         "每周末各阶段粉丝数；→ 当周进入下一阶段的比例。")
        case .taskLabel: pick("Task", "任务")
        case .goals: pick("Goals", "目标")
        case .playbookLabel: pick("Industry playbook", "行业打法")
        case .adopt: pick("Use this playbook", "采用此打法")
        case .industryLabel: pick("Industry", "行业")
        case .aimLabel: pick("Core aim", "核心目标")
        case .seedCaseLabel: pick("Drawn from", "参考案例")
        case .cadenceLabel: pick("Cadence", "节奏")
        case .toolsLabel: pick("Tools", "工具")
        case .kpisLabel: pick("KPIs", "关键指标")
        case .expectedMixLabel: pick("Expected liking / true-love share of followers", "预期好感粉 / 真爱粉占比")
        case .noIndustry: pick("No industry chosen yet: choose one to give every account its playbook's tier rules and to get a strategy for each goal.", "尚未选择行业：选择后，各账号将采用该打法的分层规则，每个目标都会得到策略建议。")
        case .indicatorsLabel: pick("Popularity value and business value", "人气值与经营值")
        case .popularityValue: pick("Popularity value", "人气值")
        case .businessValue: pick("Business value", "经营值")
        case .driversLabel: pick("What moved them this week (points)", "本周变化来源（分）")
        case .weeklyReview: pick("Weekly review", "周复盘")
        case .noGoals: pick("No goals yet.", "暂无目标。")
        case .baselineLabel: pick("from", "起点")
        case .currentLabel: pick("now", "当前")
        case .projectedLabel: pick("projected at the deadline", "截止时预计")
        case .deadlineLabel: pick("Deadline", "截止日期")
        case .ownerLabel: pick("Owner", "负责人")
        case .completeTask: pick("Done", "完成")
        case .newGoal: pick("New goal", "新建目标")
        case .metricLabel: pick("Metric", "指标")
        case .scopeLabel: pick("Scope", "范围")
        case .wholeMatrix: pick("The whole matrix", "整个矩阵")
        case .wholeTeam: pick("The team", "团队")
        case .rewardPointsLabel: pick("Reward points when hit", "达成奖励积分")
        case .rewardsLabel: pick("Rewards", "奖励")
        case .previousWeek: pick("Previous week", "上一周")
        case .nextWeekLabel: pick("Next week", "下一周")
        case .downloadHTML: pick("Download as HTML", "下载 HTML")
        case .printLabel: pick("Print", "打印")
        case .weekStartLabel: pick("Start of week", "周初")
        case .weekEndLabel: pick("End of week", "周末")
        case .weekBeforeLabel: pick("A week before", "上周同期")
        case .plannedLabel: pick("Planned this week", "本周计划")
        case .doneLabel: pick("Done this week", "本周完成")
        case .whatMoved: pick("What moved", "变化")
        case .newCoupon: pick("New coupon", "新建优惠券")
        case .newRedEnvelope: pick("New fan red envelope", "新建粉丝红包")
        case .newLottery: pick("New lottery", "新建抽奖")
        case .amountOff: pick("Amount off", "满减（元）")
        case .discountPercent: pick("Discount (%)", "折扣（%）")
        case .valueYuanOrPercent: pick("Value (yuan, or % for a discount)", "面额（元；折扣填百分比）")
        case .thresholdYuan: pick("Spend at least (yuan)", "使用门槛（元）")
        case .perFanLimit: pick("Per fan", "每人限领")
        case .validUntil: pick("Valid until", "有效期至")
        case .followersOnly: pick("Followers only (add-fan coupon)", "仅限粉丝（加粉券）")
        case .totalYuan: pick("Total (yuan)", "总金额（元）")
        case .sharesCount: pick("Envelopes", "红包个数")
        case .splitFixed: pick("Equal shares", "均分")
        case .splitRandom: pick("Random shares", "拼手气")
        case .minYuan: pick("Smallest (yuan)", "最小（元）")
        case .maxYuan: pick("Largest (yuan)", "最大（元）")
        case .expiresAt: pick("Expires", "截止时间")
        case .closesAt: pick("Entries close", "报名截止")
        case .prizesOnePerLine: pick("Prizes: one a line, name then how many", "奖品：每行一个，名称 + 数量")
        case .create: pick("Create", "创建")
        }
    }

    /// A number of days, for a key's expiry.
    func days(_ n: Int) -> String { pick("\(n) days", "\(n) 天") }

    /// The sign-in page's answer to an address or user locked out after too many failures.
    func tooManyAttempts(tryAgainAt time: String) -> String {
        pick("Too many attempts; try again at \(time).", "尝试次数过多，请于 \(time) 之后再试。")
    }

    // MARK: Codes of the model

    func touchpointName(_ touchpoint: SalesTouchpoint) -> String {
        switch touchpoint {
        case .live: pick("Live", "直播")
        case .dm: pick("DM", "私信")
        case .group: pick("Fan group", "粉丝群")
        case .post: pick("Post", "订阅号推送")
        case .homepage: pick("Homepage", "主页")
        }
    }

    /// A red envelope's or a lottery's state (`RedEnvelope.state`, `Lottery.state`).
    func commerceState(_ state: String) -> String {
        switch state {
        case "scheduled": pick("Scheduled", "未开始")
        case "open": pick("Open", "进行中")
        case "ended": pick("Ended, returning the rest", "已结束，待退回")
        case "expired": pick("Ended", "已结束")
        case "closed": pick("Closed, drawing", "已截止，待开奖")
        case "drawn": pick("Drawn", "已开奖")
        default: state
        }
    }

    func stage(_ stage: FunnelStage) -> String {
        switch stage {
        case .new: pick("New", "新增")
        case .settled: pick("Settled (following)", "沉淀（关注）")
        case .active: pick("Active", "活跃")
        case .converted: pick("Converted", "转化")
        case .repurchased: pick("Repurchased", "复购")
        case .fissioned: pick("Fissioned (shared)", "裂变（分享）")
        }
    }

    /// Where the account's shop orders stand: read up to when, how many, and the last error.
    func shopLine(_ shop: ShopConnection?, syncedUntil: String) -> String {
        guard let shop else {
            return pick("No shop connected: its orders are read once one is (PUT /v1/accounts/{id}/shop).", "未连接店铺：连接后（PUT /v1/accounts/{id}/shop）自动读取店铺订单。")
        }
        let line = pick("Shop \(shop.shopId): orders in up to \(syncedUntil), \(shop.ordersSynced) read, every 5 minutes.",
                        "店铺 \(shop.shopId)：订单已读取至 \(syncedUntil)，共读取 \(shop.ordersSynced) 单，每 5 分钟读取一次。")
        return shop.lastError.map { line + pick(" The last read failed: \($0)", " 上次读取失败：\($0)") } ?? line
    }

    func orderStatus(_ status: Order.Status) -> String {
        switch status {
        case .paid: pick("Paid", "已支付")
        case .partlyRefunded: pick("Partly refunded", "部分退款")
        case .refunded: pick("Refunded", "已退款")
        }
    }

    func postState(_ state: PostState) -> String {
        switch state {
        case .scheduled: pick("Scheduled", "待推送")
        case .publishing: pick("Going out", "推送中")
        case .task: pick("To publish in the app", "待在 App 发布")
        case .published: pick("Published", "已推送")
        case .failed: pick("Failed", "失败")
        case .cancelled: pick("Cancelled", "已取消")
        }
    }

    func groupState(_ state: GroupState) -> String {
        switch state {
        case .creating: pick("Being created", "创建中")
        case .active: pick("Active", "正常")
        case .failed: pick("Failed", "创建失败")
        }
    }

    func applicationState(_ state: ApplicationState) -> String {
        switch state {
        case .pending: pick("Waiting", "待审核")
        case .approved: pick("Approved", "已通过")
        case .rejected: pick("Rejected", "已拒绝")
        case .manual: pick("Decide in the app", "在 App 内审核")
        }
    }

    func audience(_ audience: LiveAudience) -> String {
        switch audience {
        case .oldFan: pick("Old fans", "老粉")
        case .newFan: pick("New fans", "新粉")
        case .nonFan: pick("Non-fans", "非粉丝")
        }
    }

    func homepageItem(_ item: HomepageItem) -> String {
        switch item {
        case .enterpriseInfo: pick("Enterprise info", "企业信息")
        case .groupEntry: pick("Fan group entry", "粉丝群入口")
        case .liveSchedule: pick("Live schedule", "直播预告")
        case .consultEntry: pick("Online consultation entry", "在线咨询入口")
        case .leadCard: pick("Lead card", "留资卡")
        case .businessTemplate: pick("Business page template", "经营模板（门店 / 服务 / 商品）")
        }
    }

    func checkSource(_ source: String) -> String {
        switch source {
        case "detected": pick("Seen by Flywheel", "系统识别")
        case "ticked": pick("Ticked", "已勾选")
        default: pick("Missing", "未完成")
        }
    }

    func conversationState(_ state: ConversationState) -> String {
        switch state {
        case .bot: pick("Automatic", "自动回复中")
        case .queued: pick("Waiting for an agent", "待分配")
        case .assigned: pick("With an agent", "处理中")
        case .resolved: pick("Resolved", "已解决")
        }
    }

    func author(_ author: MessageAuthor) -> String {
        switch author {
        case .fan: pick("Fan", "粉丝")
        case .app: pick("In the platform's app", "抖音 App 回复")
        case .api: pick("Another tool", "其他工具")
        case .auto: pick("Automatic reply", "自动回复")
        case .agent: pick("Agent", "客服")
        case .note: pick("Internal note", "内部备注")
        }
    }

    func messageStatus(_ status: MessageStatus) -> String {
        switch status {
        case .received: pick("received", "已收到")
        case .queued: pick("queued", "排队中")
        case .sent: pick("sent", "已发送")
        case .failed: pick("not sent", "发送失败")
        }
    }

    func leadStage(_ stage: LeadStage) -> String {
        switch stage {
        case .new: pick("New", "新线索")
        case .contacted: pick("Contacted", "已联系")
        case .qualified: pick("Qualified", "有意向")
        case .won: pick("Won", "已成交")
        case .lost: pick("Lost", "已流失")
        }
    }

    func tier(_ tier: Tier) -> String {
        switch tier {
        case .potential: pick("Potential", "潜在粉丝")
        case .passerby: pick("Passerby", "路人粉")
        case .liking: pick("Liking", "喜爱粉")
        case .trueLove: pick("True love", "真爱粉")
        }
    }

    /// The tier a fan moved from: none for a fan seen for the first time ("new").
    func tierOrNew(_ tier: Tier?) -> String {
        guard let tier else { return pick("New", "新粉丝") }
        return self.tier(tier)
    }

    func domain(_ domain: SourceDomain) -> String {
        switch domain {
        case .public: pick("Public", "公域")
        case .commercial: pick("Commercial", "商域")
        case .private: pick("Private", "私域")
        case .offsite: pick("Off-site", "站外")
        }
    }

    func channel(_ channel: Channel) -> String {
        switch channel {
        case .recommendFeed: pick("Recommendation feed", "推荐页")
        case .search: pick("Search", "搜索")
        case .liveSquare: pick("Live square", "直播广场")
        case .city: pick("City page", "同城")
        case .challenge: pick("Challenge", "话题挑战")
        case .liveList: pick("Live list", "直播榜单")
        case .douPlus: pick("DOU+", "DOU+")
        case .brandAd: pick("Brand ad", "品牌广告")
        case .qianchuan: pick("Qianchuan", "巨量千川")
        case .followFeed: pick("Follow feed", "关注页")
        case .homepage: pick("Homepage", "主页")
        case .liveFeed: pick("Live feed", "关注直播")
        case .subscription: pick("Subscription", "订阅")
        case .dm: pick("Direct message", "私信")
        case .group: pick("Fan group", "粉丝群")
        case .wechat: pick("WeChat", "微信")
        case .offsitePool: pick("Off-site pool", "站外私域")
        case .unknown: pick("Unknown", "未知")
        }
    }

    func kind(_ kind: EventKind) -> String {
        switch kind {
        case .follow: pick("Follow", "关注")
        case .unfollow: pick("Unfollow", "取消关注")
        case .videoView: pick("Video view", "观看视频")
        case .like: pick("Like", "点赞")
        case .comment: pick("Comment", "评论")
        case .share: pick("Share", "分享")
        case .liveWatch: pick("Live watch", "观看直播")
        case .liveGift: pick("Live gift", "直播送礼")
        case .liveShare: pick("Live share", "分享直播")
        case .dmReceived: pick("DM received", "收到私信")
        case .dmSent: pick("DM sent", "发出私信")
        case .dmEntered: pick("DM opened", "进入私信")
        case .dmGranted: pick("Allowed messages", "授权主动消息")
        case .dmRevoked: pick("Withdrew messages", "取消主动消息授权")
        case .groupJoin: pick("Joined group", "入群")
        case .groupLeave: pick("Left group", "退群")
        case .groupMessage: pick("Group message", "群消息")
        case .groupApplied: pick("Applied to join group", "申请入群")
        case .postOpened: pick("Opened a post", "打开订阅内容")
        case .postClicked: pick("Clicked a post", "点击订阅内容")
        case .liveBooked: pick("Booked a live", "预约直播")
        case .homepageVisit: pick("Homepage visit", "访问主页")
        case .leadSubmitted: pick("Lead submitted", "提交线索")
        case .orderPaid: pick("Order paid", "支付订单")
        case .orderRefunded: pick("Order refunded", "订单退款")
        case .couponClaimed: pick("Coupon claimed", "领取优惠券")
        case .couponRedeemed: pick("Coupon redeemed", "核销优惠券")
        case .tagAdded: pick("Tag added", "打标签")
        case .tagRemoved: pick("Tag removed", "去标签")
        case .noteAdded: pick("Note added", "添加备注")
        }
    }

    /// A timeline kind: an event kind, or what the system did.
    func kind(code: String) -> String {
        if let kind = EventKind(rawValue: code) { return self.kind(kind) }
        switch code {
        case "tier_changed": return pick("Tier changed", "分层变化")
        case "segment_entered": return pick("Entered segment", "进入人群")
        case "segment_left": return pick("Left segment", "离开人群")
        default: return code
        }
    }

    /// Who did it: `fan`, `operator` or `system`.
    func actor(_ code: String) -> String {
        switch code {
        case "fan": pick("Fan", "粉丝")
        case "operator": pick("Operator", "运营")
        case "system": pick("System", "系统")
        default: code
        }
    }

    /// What a tier change or a segment entry was put down to: an event kind, a rules change, an
    /// import, or a lookalike of a segment (`lookalike:<segment id>`).
    func cause(_ code: String) -> String {
        if let kind = EventKind(rawValue: code) { return self.kind(kind) }
        if code.hasPrefix("lookalike:") { return pick("Lookalike of", "相似人群扩展自") + " " + String(code.dropFirst("lookalike:".count)) }
        switch code {
        case "rules_changed": return pick("Rules changed", "规则变更")
        case "imported": return pick("Imported", "导入")
        default: return code
        }
    }

    func role(_ role: Role) -> String {
        switch role {
        case .owner: pick("Owner", "所有者")
        case .admin: pick("Admin", "管理员")
        case .operator: pick("Operator", "运营")
        case .agent: pick("Agent", "客服")
        case .analyst: pick("Analyst", "分析师")
        }
    }

    func keyState(_ state: APIKeyRecord.State) -> String {
        switch state {
        case .active: pick("Active", "有效")
        case .expired: pick("Expired", "已过期")
        case .revoked: pick("Revoked", "已吊销")
        }
    }

    func state(_ state: Segment.State) -> String {
        switch state {
        case .building: pick("Building", "计算中")
        case .ready: pick("Ready", "就绪")
        case .failed: pick("Failed", "失败")
        }
    }

    /// A profile attribute's name (`FanProfile.attributeNames`).
    func attribute(_ name: String) -> String {
        switch name {
        case "gender": pick("Gender", "性别")
        case "age_band": pick("Age band", "年龄段")
        case "region": pick("Region", "地区")
        case "city": pick("City", "城市")
        case "device": pick("Device", "设备")
        case "phone": pick("Phone", "手机号")
        default: name
        }
    }

    /// A profile attribute's value: genders and devices are codes; regions, cities, age bands and
    /// phones are shown as they are.
    func attributeValue(_ name: String, _ value: String) -> String {
        switch (name, value) {
        case ("gender", "female"): pick("Female", "女")
        case ("gender", "male"): pick("Male", "男")
        case ("device", "android"): "Android"
        case ("device", "ios"): "iOS"
        case ("device", "harmonyos"): pick("HarmonyOS", "鸿蒙")
        case ("device", "other"): pick("Other", "其他")
        default: value
        }
    }
}

/// The phrases of the console's pages, by name; `Language` says each in both languages.
/// Templates read them as `{{t.name}}`: the templates are checked against this list when they load.
enum Phrase: String, CaseIterable, Sendable {
    case flywheelConsole, signIn, signOut, user, password, wrongPassword, organisation, organisationNeeded, signInBusy, signInFormExpired
    case overview, fans, segments, tags, settings, account, allAccounts, chooseAccount
    case totalFans, fansByTier, tierMix, newFansPerDay, newFans, newFansByDomain, eventsByChannel, transitions, quarantineSummary
    case search, filter, nickname, tier, anyTier, level, intimacy, lastActive, source, gmv, nextPage
    case profile, following, notFollowing, interests, groups, timeline, time, actor, event, detail
    case addTag, removeTag, note, addNote, byRule
    case predicate, preview, matchingFans, name, size, state, saveSegment, importOpenIds, importList
    case exportCSV, exportSHA256, findLookalikes, portrait, gender, ageBand, firstDomain, staticList
    case tagGroup, newTag
    case tierRules, autoTagRules, users, role, addUser, issueKey, newKey, platformApps, addApp
    case changeRole, disableUser, enableUser, removeUser, activeState, disabledState, removed, lastOwnerStays, notThisUser, changedMeanwhile
    case yourKeys, keyId, created, expires, never, keyExpiry, revokeKey, noKeys
    case points, flat, perAmount, levels, dailyCap, save
    case accountHealth, healthExplained, noQuarantined, seq, eventId, reason, setAsideAt, retry, drop
    case requeued, dropped, stillInvalid, notQuarantined
    case badRequestTitle, badRequestText, unauthorizedTitle, unauthorizedText, forbiddenTitle, forbiddenText
    case notFoundTitle, notFoundText, conflictTitle, conflictText, tooLargeTitle, tooLargeText, errorTitle, errorText
    case backToOverview
    case openedThread, inbox, leads, replyTimes, conversations, allConversations, queuedOnly, mine, overdueOnly, resolvedOnly, noConversations
    case chooseConversation, dueAt, overdue, replyBy, reply, send, cannedReply, orTypeBelow, assignTo, assign, resolve, internalNote, cannotSendHere
    case windowClosed, replyQueued, liveUpdates, openFan, agentLabel, moveTo, lostReason, wonValue, submissions, salesperson
    case nobody, overdueFollowUps, noFollowUps, conversionBySource, leadsCount, contacted, won, lost, conversion, minutesToContact
    case answered, withinTarget, withinShare, medianFirstResponse, p90FirstResponse, breaches, answersPerDay, firstResponseByAgent, target, minutes
    case byDay, byAgent
    case posts, lives, homepage, quotaThisMonth, nextAllowedDay, heldBack, touchBudget, openedByPost, unfollowedByPost, automatic, task, liveBooking
    case applications, groupAdmins, allSubscribers, groupNumber, members, activeMembers, repurchaseMembers, repurchaseOthers, membersOverTime, groupMessages, liveGmvByAudience, viewers
    case visitsByChannel, newPost, postTitle, postBody, postFormat, formatText, formatImage, formatVideo, mediaRef, scheduledAt, audience, tool
    case noTool, coupon, product, toolRef, planPost, delivered, opened, clicked, converted, unfollowed, mode, markPublished
    case cancel, perDay, perWeek, actionModes, newGroup, groupName, groupDescription, threshold, welcome, adminsLabel, liveReminder, shareNewWorks
    case createGroup, decision, noGroups, schedule, liveTitle, times, weekdays, durationMinutes, reminderMinutes, calendar, bookings, reminders
    case remindNow, endedLives, avgMinutes, fanShare, oldFanShare, noLives, checklist, channelLabel, domainLabel, visits, share
    case sales, ordersCount, fansShareOfGmv, fansShareOfLiveGmv, oldFansShareOfLiveGmv, fansShareOfGroupGmv, groupMemberRepurchase, repurchaseRate
    case medianRepurchaseDays, gmvByAudience, gmvByTier, nonFans, oldFans, firstTouch, lastTouch, positionBased, attributionExplained, touchpointLabel
    case unattributed, coupons, redEnvelopes, lotteries, recentOrders, couponValue, stock, issued, redeemed, roi, claimed, returned, eligibility
    case entries, prizes, seedHash, winners, orderId, paidAt, amount, refunded, chooseAccountForTools
    case unclaimed, fission, fissionFunnel, participants, inviters, rewardedInviters, friendsBrought, deepestChain, kFactor, inviteThreshold
    case newCoupon, newRedEnvelope, newLottery, amountOff, discountPercent, valueYuanOrPercent, thresholdYuan, perFanLimit, validUntil, followersOnly
    case totalYuan, sharesCount, splitFixed, splitRandom, minYuan, maxYuan, expiresAt, closesAt, prizesOnePerLine, create, flywheelFunnel
    case minLevel, arrivedWithin, activeWithin, previousPage, moreEntries, soFar, funnelWeeks, funnelWeeksExplained, taskLabel, goals, playbookLabel, adopt, industryLabel, aimLabel, seedCaseLabel, cadenceLabel, toolsLabel, kpisLabel, expectedMixLabel, noIndustry, indicatorsLabel, popularityValue, businessValue, driversLabel, weeklyReview, noGoals, baselineLabel, currentLabel, projectedLabel, deadlineLabel, ownerLabel, completeTask, newGoal, metricLabel, scopeLabel, wholeMatrix, wholeTeam, rewardPointsLabel, rewardsLabel, previousWeek, nextWeekLabel, downloadHTML, printLabel, weekStartLabel, weekEndLabel, weekBeforeLabel, plannedLabel, doneLabel, whatMoved
    case accountsLabel, matchingPeople, selectLabel, bulkAction, selectionChecked, selectionPage, bulkSegment, segmentNameLabel, continueLabel, eachAccount, arrivedLabel
    case confirmLabel, jobsLabel, jobRunning, jobDone, jobFailed, progressLabel, downloadResult, resultLabel, startedLabel, backToFans, peopleLabel, reachedWithin, sizeOverTime, entriesAndExits, enteredLabel, leftLabel, fieldHelpLabel, fieldLabel, holdsLabel, exampleLabel, mergedPerson, anyAccount, modeLabel, membersLabel, deleteLabel, matrixSegmentsLabel, segmentMembersOf, messageThem, fromLabel, toLabel, showLabel, ordersLabel, leadsLabel, dmsAnswered
    case journeys, newJourney, triggerLabel, triggerDateLabel, triggerConditionLabel, stepsLabel, stepsHelp, holdoutShare, quietHoursLabel, reentryLabel, launchLabel, pauseLabel, versionLabel
    case armLabel, treatedArm, holdoutArm, controlArm, conversionLabel, gmvPerFanLabel, retentionLabel, upliftLabel, significantLabel, notYetSignificant
    case methodLabel, nextStepLabel, otherwiseLabel, flowLabel, experimentLabel, onTheWay, finishedLabel, saveJourney, noJourneys, startLabel, endLabel, stepLabel, stepKindLabel, outcomeLabel, noQuietHours, controlExplained
}

extension Language {
    /// A measure over the range picked: "GMV, 30 days".
    func inDays(_ measure: Phrase, _ days: Int) -> String { pick("\(self(measure)), \(days) days", "\(self(measure))（\(days) 天）") }

    func allMatching(_ people: Int) -> String { pick("all \(people) that match", "全部 \(people) 个符合条件的") }

    func withinDays(_ days: Int) -> String { days == 1 ? pick("last day", "近 1 天") : pick("last \(days) days", "近 \(days) 天") }

    /// Events whose channel the platform does not say, kept apart from the known channels.
    func unknownChannel(_ events: Int) -> String {
        pick("\(events) events over 30 days have no channel: the platform does not say where a like, comment or share came from, so they are left out of the channels above.",
             "近 30 天有 \(events) 条互动没有渠道：平台不提供点赞、评论、分享的来源，因此未计入上方渠道。")
    }
}
