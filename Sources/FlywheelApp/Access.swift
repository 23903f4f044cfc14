import FlywheelStore

/// Everything a caller can ask of Flywheel through the API or the console. The raw value is the
/// operation's `operationId` in the OpenAPI document.
public enum Operation: String, CaseIterable, Sendable {
    // Tenancy and access.
    case readTenant, listEnterprises, createEnterprise, listUsers, createUser
    /// A key for oneself.
    case createOwnKey
    /// A key for another user of the tenant: whoever holds it acts as that user.
    case createKeyForAnotherUser
    /// `listKeys`: one's own keys, or every key of the tenant.
    case listOwnKeys, listTenantKeys
    /// `revokeKey`: one's own key, or another user's (for an admin, only of users below admin: `mayManage`).
    case revokeOwnKey, revokeKeyOfAnotherUser
    /// A user's role, state and membership; besides the table, `mayManage` and `mayGrant` decide
    /// which users and roles.
    case changeUser, disableUser, enableUser, removeUser
    case listApps, createApp, listAccounts, createAccount, readAccount, readRules, changeRules, readAudit
    /// Connect an account by the platform's OAuth: Flywheel then holds tokens that act for it.
    case connectAccount
    // Events.
    case importEvents, listQuarantine, retryQuarantined, dropQuarantined
    // Fans.
    case listFans, readFan, readTierStats, readSourceStats
    /// Tag, untag or note single fans named by open_id.
    case tagFans, addNote
    /// Tag or untag every fan of a segment or a predicate.
    case tagFansInBulk
    // Segments and tags.
    case previewSegment, listSegments, createSegment, readSegment, changeSegment, deleteSegment
    case listSegmentMembers, listSegmentChanges, readSegmentPortrait, exportSegment, readSegmentSizes
    case importSegment, createLookalike
    case listTags, createTag, deleteTag
    // The desk.
    case listConversations, readConversation, readSlaReport, listAutoReplies, readDeskSettings, listAgents, listCannedReplies
    case replyToFan, addConversationNote, assignConversation, resolveConversation
    case createAutoReply, deleteAutoReply, changeDeskSettings, createCannedReply, deleteCannedReply
    case setAgent, removeAgent
    // Leads.
    case listLeads, readLead, listFollowUps, readLeadReport
    case changeLead, createFollowUp, completeFollowUp
    // Reach.
    case listPosts, readPost, listGroups, readGroup, readTouchBudget, listLives, readLive, readHomepage
    case createPost, cancelPost, markPostPublished, createGroup, changeGroup, sendToGroup, changeTouchBudget, createLive, cancelLive, remindLive, changeHomepage
    // Commerce.
    case listCoupons, readCoupon, createCoupon, claimCoupon
    case listRedEnvelopes, readRedEnvelope, listEnvelopeClaims, createRedEnvelope, claimRedEnvelope, listLotteries, readLottery, readDraw, createLottery, enterLottery
    case listOrders, readOrder, syncOrders, readGMVReport, listFissionCampaigns, readFissionCampaign, createFissionCampaign, issueFissionCode, joinFission
    case readShop, connectShop, disconnectShop
    // Operate.
    case readFunnel, readFunnelHistory, listPlaybooks, readPlaybook, readIndicators, listGoals, readGoal, listTasks, listRewards, readReview
    /// Choose the enterprise's industry: every account goes back to the playbook's rules.
    case adoptPlaybook
    case createGoal, cancelGoal, createTask, cancelTask
    /// Mark a person's task done; an automatic one also needs the rights its action needs.
    case completeTask
    // Changes streamed out.
    case listChanges, streamChanges, listWebhookEndpoints, readWebhookEndpoint, listWebhookDeliveries
    /// Send the tenant's changes to an outside address, or stop it.
    case createWebhookEndpoint, deleteWebhookEndpoint, enableWebhookEndpoint
    // Journeys and their experiments.
    case listJourneys, readJourney, listExperiments, readExperiment
    case createJourney, changeJourney, launchJourney, pauseJourney
    case readExperimentSettings
    /// The enterprise's global control group: who no automated action reaches.
    case changeExperimentSettings
}

/// Who may do what: the one table of operation × role. Reads are open to every role of the
/// tenant; what changes how fans are counted, or who can act, is narrower.
public enum Access {
    public static func allows(_ role: Role, _ operation: Operation) -> Bool {
        switch operation {
        case .readTenant, .listEnterprises, .listUsers, .createOwnKey, .listOwnKeys, .revokeOwnKey, .listApps, .listAccounts, .readAccount, .readRules,
             .listQuarantine, .listFans, .readFan, .readTierStats, .readSourceStats, .previewSegment, .listSegments, .readSegment,
             .listSegmentMembers, .listSegmentChanges, .readSegmentPortrait, .exportSegment, .readSegmentSizes, .listTags,
             .listConversations, .readConversation, .readSlaReport, .listAutoReplies, .readDeskSettings, .listAgents, .listCannedReplies,
             .listLeads, .readLead, .listFollowUps, .readLeadReport, .listPosts, .readPost, .listGroups, .readGroup, .readTouchBudget,
             .listLives, .readLive, .readHomepage, .listCoupons, .readCoupon, .listRedEnvelopes, .readRedEnvelope, .listEnvelopeClaims,
             .listLotteries, .readLottery, .readDraw, .listOrders, .readOrder, .readGMVReport,
             .listFissionCampaigns, .readFissionCampaign, .readShop, .readFunnel, .readFunnelHistory, .listPlaybooks, .readPlaybook, .readIndicators, .listGoals, .readGoal,
             .listTasks, .listRewards, .readReview, .listChanges, .streamChanges, .listJourneys, .readJourney, .listExperiments, .readExperiment, .readExperimentSettings:
            true
        // A new enterprise comes with its owner's key: only an owner may hold one it did not have.
        case .createKeyForAnotherUser, .createEnterprise:
            role == .owner
        case .createUser, .createApp, .createAccount, .connectAccount, .connectShop, .disconnectShop, .retryQuarantined, .dropQuarantined, .adoptPlaybook,
             .listTenantKeys, .revokeKeyOfAnotherUser, .changeUser, .disableUser, .enableUser, .removeUser, .setAgent, .removeAgent,
             .listWebhookEndpoints, .readWebhookEndpoint, .listWebhookDeliveries, .createWebhookEndpoint, .deleteWebhookEndpoint, .enableWebhookEndpoint,
             .changeExperimentSettings:
            role == .owner || role == .admin
        case .readAudit:
            role == .owner || role == .admin || role == .analyst
        case .changeRules, .importEvents, .tagFansInBulk, .createSegment, .changeSegment, .deleteSegment, .importSegment,
             .createLookalike, .createTag, .deleteTag, .createAutoReply, .deleteAutoReply, .changeDeskSettings,
             .createCannedReply, .deleteCannedReply, .createPost, .cancelPost, .markPostPublished, .createGroup, .changeGroup, .sendToGroup,
             .changeTouchBudget, .createLive, .cancelLive, .remindLive, .changeHomepage, .createCoupon, .createRedEnvelope, .createLottery, .syncOrders, .createFissionCampaign,
             .createGoal, .cancelGoal, .createTask, .cancelTask, .createJourney, .changeJourney, .launchJourney, .pauseJourney:
            role == .owner || role == .admin || role == .operator
        case .claimCoupon, .claimRedEnvelope, .enterLottery, .issueFissionCode, .joinFission, .tagFans, .addNote, .replyToFan, .addConversationNote, .assignConversation, .resolveConversation, .changeLead, .createFollowUp, .completeFollowUp,
             .completeTask:
            role != .analyst
        }
    }

    /// Whether a caller of role `caller` may change, disable or remove a user of role `target`, or
    /// revoke that user's keys, where the table lets it manage users at all: an owner acts on
    /// anyone; an admin only on operators, agents and analysts, never on an owner or an admin.
    public static func mayManage(_ caller: Role, _ target: Role) -> Bool {
        switch caller {
        case .owner: true
        case .admin: rank(target) < rank(.admin)
        case .operator, .agent, .analyst: false
        }
    }

    /// Whether a caller of role `caller` may give a user `role`: nobody raises a user above their own role.
    public static func mayGrant(_ caller: Role, _ role: Role) -> Bool { rank(role) <= rank(caller) }

    /// Owners above admins above the three working roles, which are peers.
    static func rank(_ role: Role) -> Int {
        switch role {
        case .owner: 2
        case .admin: 1
        case .operator, .agent, .analyst: 0
        }
    }
}

/// The caller was refused by the access table.
public struct AccessDenied: Error, Equatable, Sendable {
    public var operation: Operation
    public var role: Role
}

extension Principal {
    /// Checks the access table; throws `AccessDenied` when the caller's role may not.
    public func authorize(_ operation: Operation) throws(AccessDenied) {
        guard Access.allows(role, operation) else { throw AccessDenied(operation: operation, role: role) }
    }
}
