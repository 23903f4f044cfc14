import FlywheelApp
import Testing

@Suite struct ValidateTests {
    @Test func namesAreCountedAsTheDatabasesCountThem() throws {
        // 150 letters with a combining accent: 150 characters on screen, 300 code points in the database.
        let accented = String(repeating: "e\u{301}", count: 150)
        #expect(accented.count == 150)
        #expect(throws: UseCaseError.invalid(field: "name", "must be 1 to 200 characters")) { try Validate.name(accented, field: "name") }
        #expect(try Validate.name("  白酒爱好者  ", field: "name") == "白酒爱好者")
        #expect(throws: UseCaseError.self) { try Validate.name("   ", field: "name") }
        #expect(throws: UseCaseError.self) { try Validate.token("has space", field: "clientKey") }
    }
}
