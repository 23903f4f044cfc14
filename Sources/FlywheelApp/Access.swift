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
}

/// Who may do what: the one table of operation × role. Reads are open to every role of the
/// tenant; what changes how fans are counted, or who can act, is narrower.
public enum Access {
    public static func allows(_ role: Role, _ operation: Operation) -> Bool {
        switch operation {
        case .readTenant, .listEnterprises, .listUsers, .createOwnKey, .listApps, .listAccounts, .readAccount, .readRules,
             .listQuarantine, .listFans, .readFan, .readTierStats, .readSourceStats, .previewSegment, .listSegments, .readSegment,
             .listSegmentMembers, .listSegmentChanges, .readSegmentPortrait, .exportSegment, .readSegmentSizes, .listTags:
            true
        case .createKeyForAnotherUser:
            role == .owner
        case .createEnterprise, .createUser, .createApp, .createAccount, .connectAccount, .retryQuarantined, .dropQuarantined:
            role == .owner || role == .admin
        case .readAudit:
            role == .owner || role == .admin || role == .analyst
        case .changeRules, .importEvents, .tagFansInBulk, .createSegment, .changeSegment, .deleteSegment, .importSegment,
             .createLookalike, .createTag, .deleteTag:
            role == .owner || role == .admin || role == .operator
        case .tagFans, .addNote:
            role != .analyst
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
