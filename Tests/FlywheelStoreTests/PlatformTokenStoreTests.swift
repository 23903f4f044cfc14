import FlywheelEngine
import FlywheelPlatform
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// Connected accounts' tokens: kept sealed, replaced on renewal, found when due, on both stores.
@Suite struct PlatformTokenStoreTests {
    static let sealer: TokenSealer = {
        // A fixed test key, 32 bytes as hex: the parse cannot fail.
        (try? TokenSealer(secret: String(repeating: "ab", count: 32))) ?? .unkeyed
    }()

    static func grant(_ access: String, _ refresh: String, scope: String = "user_info", refreshExpiresIn: Int64? = 30 * 86_400) -> AccountToken {
        AccountToken(openId: "acct-open-id", accessToken: access, refreshToken: refresh, scope: scope, accessExpiresIn: 15 * 86_400,
                     refreshExpiresIn: refreshExpiresIn)
    }

    @Test(arguments: StoreKind.allCases)
    func tokensAreStoredSealedReplacedAndFoundWhenDue(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let sealer = Self.sealer
        #expect(sealer.isKeyed)
        #expect(try await f.store.tokens(of: f.account) == nil)

        let sealed = try sealer.seal(Self.grant("act.first", "rft.first"), of: f.account, now: 1_000)
        try await f.store.saveTokens(sealed, of: f.account, audit: f.env.audit(tenantId: f.account.tenantId, actor: "user:u", action: "account.connect",
                                                                             target: f.account.id))
        let stored = try #require(try await f.store.tokens(of: f.account))
        #expect(stored == sealed)
        // What the database holds is not the token, and opens only for this account and column.
        #expect(!stored.accessToken.contains("act.first") && !stored.refreshToken.contains("rft.first"))
        let opened = try sealer.open(stored, of: f.account)
        #expect(opened.accessToken == "act.first" && opened.refreshToken == "rft.first")
        #expect(throws: TokenSealer.Failure.unreadable) { try sealer.open(stored.accessToken, context: TokenSealer.context(f.account, "refresh")) }
        #expect(stored.accessExpiresAt == 1_000 + 15 * 86_400_000 && stored.refreshExpiresAt == 1_000 + 30 * 86_400_000 && stored.scope == "user_info")

        // Due: every tenant's accounts whose access token expires before the deadline, soonest first.
        let other = try await StoreFixture.account(f.env, tenant: "Other", openId: "other-acct")
        let sooner = try sealer.seal(Self.grant("act.other", "rft.other"), of: other, now: 0)
        try await f.store.saveTokens(sooner, of: other, audit: f.env.audit(tenantId: other.tenantId, actor: "user:v", action: "account.connect",
                                                                         target: other.id))
        let due = try await f.store.accountsWithTokensExpiring(before: 1_000 + 15 * 86_400_000 + 1, refreshableAt: 0, limit: 10)
        #expect(due.map { $0.account } == [other, f.account])
        #expect(due.first?.tokens == sooner)
        #expect(try await f.store.accountsWithTokensExpiring(before: 15 * 86_400_000 + 1, refreshableAt: 0, limit: 10).map { $0.account.id } == [other.id])
        #expect(try await f.store.accountsWithTokensExpiring(before: 15 * 86_400_000, refreshableAt: 0, limit: 10).isEmpty, "expiring exactly then is not before")
        #expect(try await f.store.accountsWithTokensExpiring(before: .max, refreshableAt: 0, limit: 1).count == 1)
        #expect(try await f.store.accountsWithTokensExpiring(before: .max, refreshableAt: 1_000 + 30 * 86_400_000, limit: 10).isEmpty,
                "accounts whose refresh token has ended are left to connecting again, not retried ahead of the others")

        // A renewal replaces the row; what the answer left out is kept.
        let renewed = try sealer.seal(Self.grant("act.second", "rft.first", scope: "", refreshExpiresIn: nil), of: f.account, now: 2_000, previous: stored)
        try await f.store.saveTokens(renewed, of: f.account, audit: f.env.audit(tenantId: f.account.tenantId, actor: "system", action: "account.tokens.refresh",
                                                                              target: f.account.id))
        let after = try #require(try await f.store.tokens(of: f.account))
        #expect(after.accessExpiresAt == 2_000 + 15 * 86_400_000 && after.refreshExpiresAt == stored.refreshExpiresAt && after.scope == "user_info")
        #expect(try sealer.open(after, of: f.account).accessToken == "act.second")
        #expect(try await f.store.accountsWithTokensExpiring(before: .max, refreshableAt: 0, limit: 10).count == 2)
        let actions = try await f.store.auditLog(tenantId: f.account.tenantId, cursor: nil, limit: 20).items.map(\.action)
        #expect(actions.filter { $0 == "account.connect" }.count == 1 && actions.contains("account.tokens.refresh"))
    }

    @Test(arguments: StoreKind.allCases)
    func tokensBelongToAnAccountThatExists(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        var missing = f.account
        missing.id = "acc_missing"
        let sealed = try Self.sealer.seal(Self.grant("act.x", "rft.x"), of: missing, now: 0)
        await #expect(throws: StoreError.self) {
            try await f.store.saveTokens(sealed, of: missing, audit: f.env.audit(tenantId: missing.tenantId, actor: "t", action: "account.connect", target: missing.id))
        }
        #expect(try await f.store.auditLog(tenantId: f.account.tenantId, cursor: nil, limit: 10).items.count == 3, "a refused write leaves no audit line")
    }
}

/// The one secret key's two uses: sealing at rest and signing states.
@Suite struct TokenSealerTests {
    static let hex = String(repeating: "ab", count: 32)

    @Test func aSealedValueOpensOnlyWithItsKeyAndWhereItWasSealed() throws {
        let sealer = try TokenSealer(secret: Self.hex)
        let a = try sealer.seal("act.secret", context: "t/a/access")
        let b = try sealer.seal("act.secret", context: "t/a/access")
        #expect(a != b, "a fresh nonce each time")
        #expect(a.hasPrefix("v1.") && !a.contains("act.secret"))
        #expect(try sealer.open(a, context: "t/a/access") == "act.secret")
        #expect(throws: TokenSealer.Failure.unreadable) { try sealer.open(a, context: "t/b/access") }
        let other = try TokenSealer(secret: TokenSealer.generateSecret())
        #expect(throws: TokenSealer.Failure.unreadable) { try other.open(a, context: "t/a/access") }
        #expect(throws: TokenSealer.Failure.unreadable) { try sealer.open("v1." + String(a.dropFirst(3).reversed()), context: "t/a/access") }
        #expect(throws: TokenSealer.Failure.unreadable) { try sealer.open("plain", context: "t/a/access") }
    }

    @Test func theSecretIsHexOrBase64Of32Bytes() throws {
        let fromHex = try TokenSealer(secret: Self.hex)
        let fromBase64 = try TokenSealer(secret: Data(repeating: 0xab, count: 32).base64EncodedString() + "\n")
        #expect(try fromBase64.open(try fromHex.seal("x", context: "c"), context: "c") == "x", "the same key either way")
        #expect(throws: TokenSealer.Failure.self) { try TokenSealer(secret: "not a key") }
        #expect(throws: TokenSealer.Failure.self) { try TokenSealer(secret: String(repeating: "ab", count: 16)) }
        #expect(TokenSealer.generateSecret().count == 64)
        #expect(try !TokenSealer.fromEnvironment([:]).isKeyed)
        #expect(try !TokenSealer.fromEnvironment(["FLYWHEEL_SECRET_KEY": " "]).isKeyed)
        #expect(try TokenSealer.fromEnvironment(["FLYWHEEL_SECRET_KEY": Self.hex]).isKeyed)
        #expect(throws: TokenSealer.Failure.self) { try TokenSealer.fromEnvironment(["FLYWHEEL_SECRET_KEY": "short"]) }
    }

    @Test func withoutAKeyNothingIsSealedOrSigned() {
        #expect(throws: TokenSealer.Failure.noKey) { try TokenSealer.unkeyed.seal("x", context: "c") }
        #expect(throws: TokenSealer.Failure.noKey) { try TokenSealer.unkeyed.sign("x") }
        #expect(TokenSealer.Failure.noKey.description.contains("FLYWHEEL_SECRET_KEY"))
    }

    @Test func signaturesAreCheckedAgainstTheMessage() throws {
        let sealer = try TokenSealer(secret: Self.hex)
        let signature = try sealer.sign("payload")
        #expect(try sealer.verify(signature, of: "payload"))
        #expect(try !sealer.verify(signature, of: "payloaD"))
        #expect(try !sealer.verify("not-base64!", of: "payload"))
        #expect(try !TokenSealer(secret: TokenSealer.generateSecret()).verify(signature, of: "payload"))
    }
}
