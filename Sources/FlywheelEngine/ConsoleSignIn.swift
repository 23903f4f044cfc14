import Crypto
import CryptoExtras
import FlywheelStore
import Foundation

/// Console sign-in: passwords kept as a slow hash (PBKDF2-SHA256, 210,000 rounds, a random salt),
/// sessions as the SHA-256 of a random token in a cookie, each with a CSRF token for its forms.
///
/// An attempt costs one hash at most, computed on the `PasswordHasher`'s threads; the
/// `SignInLimiter` locks out an address or a user after a few failures, before any hashing.
public struct ConsoleSignIn: Sendable {
    let env: FlywheelEnvironment
    public let hasher: PasswordHasher
    public let limiter: SignInLimiter

    public init(_ env: FlywheelEnvironment, hasher: PasswordHasher = PasswordHasher(), limiter: SignInLimiter? = nil) {
        self.env = env
        self.hasher = hasher
        self.limiter = limiter ?? SignInLimiter(now: env.now)
    }

    static let rounds = 210_000
    /// Sessions last 12 hours.
    public static let lifetime: Int64 = 12 * 3_600_000

    public enum Failure: Error, Equatable {
        case weakPassword
        /// The slow hash could not be computed (the crypto library refused its parameters).
        case hashing
    }

    /// What a sign-in attempt came to.
    public enum Outcome: Sendable, Equatable {
        case signedIn(token: String, session: SessionRecord)
        /// No such user, or the wrong password: the answer does not say which.
        case refused
        /// The name is a user in several organisations and the attempt named none of them (or a
        /// name several organisations share): ask for the organisation's name or id.
        case organisationNeeded
        /// Too many failures from this address or for this user: try again at `until` (ms).
        case locked(until: Int64)
        /// Too many sign-ins are being checked at once: try again in a moment.
        case busy
    }

    public func setPassword(_ password: String, of user: User, actor: String) async throws {
        guard password.count >= 8 else { throw Failure.weakPassword }
        let salt = env.randomHex(32)
        // Rare (an owner adding a user, the CLI): it waits for a hashing thread rather than being refused.
        let derived = try await hasher.run(mayRefuse: false) { try? Self.derive(password, salt: salt, rounds: Self.rounds) }
        guard let hash = derived else { throw Failure.hashing }
        try await env.store.setPassword(hash: "pbkdf2-sha256$\(Self.rounds)$\(salt)$\(hash)", of: user,
                                        audit: env.audit(tenantId: user.tenantId, actor: actor, action: "user.password", target: user.id))
    }

    static func derive(_ password: String, salt: String, rounds: Int) throws -> String {
        let key = try KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: Array(salt.utf8), using: .sha256, outputByteCount: 32, rounds: rounds)
        return key.withUnsafeBytes { Array($0).map { String(format: "%02x", $0) }.joined() }
    }

    /// Signs in `name` with `password`, in the tenant `organisation` names (its id or its exact
    /// name) when given; `client` is the caller's address, for the limiter.
    public func signIn(name: String, password: String, organisation: String? = nil, client: String? = nil) async throws -> Outcome {
        let address = SignInLimiter.Key.address(client ?? "unknown")
        // A locked-out address costs a dictionary lookup, not a query or a hash.
        if let until = await limiter.lockedUntil([address]) { return .locked(until: until) }
        let tenant = organisation?.trimmingCharacters(in: .whitespaces)
        let candidates = try await env.store.signInCandidates(name: name, tenant: tenant?.isEmpty == false ? tenant : nil)
        let found = candidates.count == 1 ? candidates.first : nil
        let user = SignInLimiter.Key.user(found.map { "\($0.user.tenantId)/\($0.user.id)" } ?? name)
        if let until = await limiter.lockedUntil([user]) { return .locked(until: until) }

        // Exactly one hash whatever the name: an unknown name, a user without a password or a
        // name in several organisations costs what a wrong password does, so timing tells nothing.
        let stored = found?.passwordHash
        let matches: Bool
        do {
            matches = try await hasher.run { stored.map { Self.verify(password, against: $0) } ?? Self.derivesNothing(password) }
        } catch is PasswordHasher.Busy {
            return .busy
        }
        guard let found, matches else {
            if candidates.count > 1 {
                // Not a wrong password, but it cost a hash: the address pays for it.
                await limiter.failed([address])
                return .organisationNeeded
            }
            if let until = await limiter.failed([address, user]) { return .locked(until: until) }
            return .refused
        }
        await limiter.succeeded(user)
        let token = env.randomHex(48)
        let now = env.now()
        let session = SessionRecord(tokenHash: Tenancy.hash(token), tenantId: found.user.tenantId, userId: found.user.id, csrf: env.randomHex(32),
                                    createdAt: now, expiresAt: now + Self.lifetime)
        try await env.store.createSession(session, audit: env.audit(tenantId: found.user.tenantId, actor: "user:\(found.user.id)",
                                                                    action: "session.create", target: found.user.id))
        return .signedIn(token: token, session: session)
    }

    static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let rounds = Int(parts[1]),
              let derived = try? derive(password, salt: parts[2], rounds: rounds) else { return false }
        let a = Array(derived.utf8), b = Array(parts[3].utf8)
        return a.count == b.count && zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// A derivation as long as a real one, whose result is thrown away; never a match.
    static func derivesNothing(_ password: String) -> Bool {
        _ = try? derive(password, salt: "", rounds: rounds)
        return false
    }

    /// The caller behind a session cookie, with the session (for its CSRF token).
    public func session(token: String) async throws -> (principal: Principal, session: SessionRecord)? {
        guard let found = try await env.store.session(tokenHash: Tenancy.hash(token), now: env.now()) else { return nil }
        return (Principal(tenantId: found.session.tenantId, userId: found.session.userId, keyId: "session", role: found.role), found.session)
    }

    public func signOut(token: String) async throws {
        try await env.store.deleteSession(tokenHash: Tenancy.hash(token))
    }
}
