import Crypto
import CryptoExtras
import FlywheelStore
import Foundation

/// Console sign-in: passwords kept as a slow hash (PBKDF2-SHA256, 210,000 rounds, a random salt),
/// sessions as the SHA-256 of a random token in a cookie, each with a CSRF token for its forms.
public struct ConsoleSignIn: Sendable {
    let env: FlywheelEnvironment

    public init(_ env: FlywheelEnvironment) { self.env = env }

    static let rounds = 210_000
    /// Sessions last 12 hours.
    public static let lifetime: Int64 = 12 * 3_600_000

    public enum Failure: Error, Equatable {
        case weakPassword
    }

    public func setPassword(_ password: String, of user: User, actor: String) async throws {
        guard password.count >= 8 else { throw Failure.weakPassword }
        let salt = env.randomHex(32)
        let hash = try Self.derive(password, salt: salt, rounds: Self.rounds)
        try await env.store.setPassword(hash: "pbkdf2-sha256$\(Self.rounds)$\(salt)$\(hash)", of: user,
                                        audit: env.audit(tenantId: user.tenantId, actor: actor, action: "user.password", target: user.id))
    }

    static func derive(_ password: String, salt: String, rounds: Int) throws -> String {
        let key = try KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: Array(salt.utf8), using: .sha256, outputByteCount: 32, rounds: rounds)
        return key.withUnsafeBytes { Array($0).map { String(format: "%02x", $0) }.joined() }
    }

    /// A session token and its record, when `name` and `password` match a user.
    public func signIn(name: String, password: String) async throws -> (token: String, session: SessionRecord)? {
        let candidates = try await env.store.signInCandidates(name: name)
        // An unknown name costs the same hash as a wrong password, so timing does not tell names apart.
        if !candidates.contains(where: { $0.passwordHash != nil }) { _ = try? Self.derive(password, salt: "", rounds: Self.rounds) }
        for (user, stored) in candidates {
            guard let stored, Self.verify(password, against: stored) else { continue }
            let token = env.randomHex(48)
            let now = env.now()
            let session = SessionRecord(tokenHash: Tenancy.hash(token), tenantId: user.tenantId, userId: user.id, csrf: env.randomHex(32),
                                        createdAt: now, expiresAt: now + Self.lifetime)
            try await env.store.createSession(session, audit: env.audit(tenantId: user.tenantId, actor: "user:\(user.id)", action: "session.create", target: user.id))
            return (token, session)
        }
        return nil
    }

    static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let rounds = Int(parts[1]),
              let derived = try? derive(password, salt: parts[2], rounds: rounds) else { return false }
        let a = Array(derived.utf8), b = Array(parts[3].utf8)
        return a.count == b.count && zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
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
