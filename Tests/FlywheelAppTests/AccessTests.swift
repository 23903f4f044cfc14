import FlywheelApp
import FlywheelStore
import Testing

@Suite struct AccessTests {
    @Test func theOwnerMayDoEverythingAndTheAnalystChangesNothing() {
        #expect(Operation.allCases.allSatisfy { Access.allows(.owner, $0) })
        let analystChanges = Operation.allCases.filter { Access.allows(.analyst, $0) && !$0.rawValue.hasPrefix("list") && !$0.rawValue.hasPrefix("read") }
        #expect(analystChanges == [.createOwnKey, .previewSegment, .exportSegment], "previews and exports read; a key of one's own acts as oneself")
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
}
