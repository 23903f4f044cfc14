import FlywheelApp
import FlywheelStore
import Testing

@Suite struct AccessTests {
    @Test func theOwnerMayDoEverythingAndTheAnalystChangesNothing() {
        #expect(Operation.allCases.allSatisfy { Access.allows(.owner, $0) })
        let analystChanges = Operation.allCases.filter { Access.allows(.analyst, $0) && !$0.rawValue.hasPrefix("list") && !$0.rawValue.hasPrefix("read") }
        #expect(analystChanges == [.createOwnKey, .revokeOwnKey, .previewSegment, .exportSegment, .streamChanges],
                "previews, exports and the change stream read; a key of one's own acts as oneself, and anyone may revoke it")
    }

    @Test func onlyAnOwnerMintsAKeyForSomeoneElse() {
        #expect(Role.allCases.filter { Access.allows($0, .createKeyForAnotherUser) } == [.owner])
        #expect(Role.allCases.allSatisfy { Access.allows($0, .createOwnKey) })
    }

    @Test func agentsServeFansButDoNotConfigure() {
        #expect(Access.allows(.agent, .tagFans) && Access.allows(.agent, .addNote))
        #expect(!Access.allows(.agent, .tagFansInBulk) && !Access.allows(.agent, .changeRules) && !Access.allows(.agent, .createSegment))
        #expect(!Access.allows(.operator, .createUser) && !Access.allows(.operator, .retryQuarantined))
    }

    @Test func anAdminManagesOnlyTheRolesBelowAdminAndNobodyGrantsAboveTheirOwn() {
        #expect(Role.allCases.filter { Access.mayManage(.owner, $0) } == Role.allCases)
        #expect(Role.allCases.filter { Access.mayManage(.admin, $0) } == [.operator, .agent, .analyst])
        #expect(Role.allCases.allSatisfy { !Access.mayManage(.operator, $0) && !Access.mayManage(.analyst, $0) })
        #expect(Role.allCases.filter { Access.mayGrant(.admin, $0) } == [.admin, .operator, .agent, .analyst])
        #expect(Access.mayGrant(.owner, .owner) && !Access.mayGrant(.operator, .admin))
        let managing: [Operation] = [.listTenantKeys, .revokeKeyOfAnotherUser, .changeUser, .disableUser, .enableUser, .removeUser]
        for operation in managing {
            #expect(Role.allCases.filter { Access.allows($0, operation) } == [.owner, .admin], "\(operation)")
        }
        #expect(Role.allCases.allSatisfy { Access.allows($0, .listOwnKeys) && Access.allows($0, .revokeOwnKey) })
    }
}
