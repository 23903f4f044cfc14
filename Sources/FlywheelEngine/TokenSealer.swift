import Crypto
import FlywheelPlatform
import FlywheelStore
import Foundation

/// Flywheel's one secret key (`FLYWHEEL_SECRET_KEY`) put to its two uses: platform tokens sealed
/// at rest with AES-GCM, each bound to its account and column so a sealed value cannot be moved
/// to another row, and short-lived values (the OAuth `state`) signed with HMAC-SHA256. Each use
/// has its own key derived from the secret (HKDF), so one cannot be turned against the other.
/// Without a secret, nothing is sealed or signed: the server runs, but refuses to connect accounts.
public struct TokenSealer: Sendable {
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// No secret key was given.
        case noKey
        /// The key given is not 32 bytes written as hex or base64.
        case badKey(String)
        /// A sealed value or a signature that does not open with this key: another key made it, or it was altered.
        case unreadable

        public var description: String {
            switch self {
            case .noKey:
                "FLYWHEEL_SECRET_KEY is not set, so platform tokens cannot be stored; set it to 32 random bytes as hex (openssl rand -hex 32) and restart"
            case .badKey(let why): "FLYWHEEL_SECRET_KEY \(why); give 32 random bytes as 64 hex digits or base64 (openssl rand -hex 32)"
            case .unreadable: "a sealed value could not be opened with FLYWHEEL_SECRET_KEY: it was sealed with another key, or altered"
            }
        }
    }

    public static let environmentVariable = "FLYWHEEL_SECRET_KEY"

    let sealing: SymmetricKey?
    let signing: SymmetricKey?

    /// A sealer with the secret `key` (256 bits).
    public init(key: SymmetricKey) {
        sealing = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, salt: Array("flywheel".utf8), info: Array("token sealing".utf8), outputByteCount: 32)
        signing = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, salt: Array("flywheel".utf8), info: Array("state signing".utf8), outputByteCount: 32)
    }

    private init() {
        sealing = nil
        signing = nil
    }

    /// No secret: every seal, open, sign and verify fails with `noKey`.
    public static let unkeyed = TokenSealer()

    /// The secret as written in `FLYWHEEL_SECRET_KEY`: 64 hex digits, or base64 of 32 bytes.
    public init(secret: String) throws(Failure) {
        let text = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Self.hexBytes(text) ?? Data(base64Encoded: text).map({ Array($0) }) else {
            throw .badKey("is neither hex nor base64")
        }
        guard bytes.count == 32 else { throw .badKey("is \(bytes.count) bytes, not 32") }
        self.init(key: SymmetricKey(data: bytes))
    }

    /// The sealer `FLYWHEEL_SECRET_KEY` gives, unkeyed when it is unset or empty.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(Failure) -> TokenSealer {
        guard let secret = environment[environmentVariable], !secret.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return .unkeyed }
        return try TokenSealer(secret: secret)
    }

    /// A new random secret, as 64 hex digits (the system generator is cryptographically secure).
    public static func generateSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }.hex
    }

    public var isKeyed: Bool { sealing != nil }

    /// `v1.` and base64 of nonce, ciphertext and tag; `context` (which row and column) is
    /// authenticated, so the value opens only where it was sealed.
    public func seal(_ plaintext: String, context: String) throws(Failure) -> String {
        guard let sealing else { throw .noKey }
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(Array(plaintext.utf8), using: sealing, authenticating: Array(context.utf8))
        } catch {
            throw .unreadable
        }
        // Only a nonce of a non-standard size leaves `combined` empty; the default nonce is standard.
        guard let combined = box.combined else { throw .unreadable }
        return "v1." + combined.base64EncodedString()
    }

    public func open(_ sealed: String, context: String) throws(Failure) -> String {
        guard let sealing else { throw .noKey }
        guard sealed.hasPrefix("v1."), let combined = Data(base64Encoded: String(sealed.dropFirst(3))) else { throw .unreadable }
        let opened: Data
        do {
            opened = try AES.GCM.open(try AES.GCM.SealedBox(combined: combined), using: sealing, authenticating: Array(context.utf8))
        } catch {
            throw .unreadable
        }
        guard let text = String(data: opened, encoding: .utf8) else { throw .unreadable }
        return text
    }

    /// Base64url of HMAC-SHA256 over `message`.
    public func sign(_ message: String) throws(Failure) -> String {
        guard let signing else { throw .noKey }
        return Self.base64url(Data(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: signing)))
    }

    /// Whether `signature` is `message`'s, compared in constant time.
    public func verify(_ signature: String, of message: String) throws(Failure) -> Bool {
        guard let signing else { throw .noKey }
        guard let mac = Self.fromBase64url(signature) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Array(message.utf8), using: signing)
    }

    /// What a sealed token of an account is bound to.
    public static func context(_ account: Account, _ column: String) -> String {
        "\(account.tenantId)/\(account.id)/\(column)"
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let high = hexValue(digits[i]), let low = hexValue(digits[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Base64 without padding, `-` and `_` for `+` and `/`: safe in a URL's query.
    public static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func fromBase64url(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

extension TokenSealer {
    /// The account's tokens as the store keeps them, expiries counted from `now`. What the answer
    /// leaves out (a refresh that kept the refresh token) is kept from `previous`.
    public func seal(_ token: AccountToken, of account: Account, now: Int64, previous: SealedAccountTokens? = nil) throws(Failure) -> SealedAccountTokens {
        let refreshExpiresAt = token.refreshExpiresIn.map { Self.expiry(now, seconds: $0) }
            ?? previous?.refreshExpiresAt ?? Self.expiry(now, seconds: AccountToken.refreshLifetime)
        return SealedAccountTokens(
            accessToken: try seal(token.accessToken, context: Self.context(account, "access")),
            refreshToken: try seal(token.refreshToken, context: Self.context(account, "refresh")),
            scope: token.scope.isEmpty ? previous?.scope ?? "" : token.scope,
            accessExpiresAt: Self.expiry(now, seconds: token.accessExpiresIn), refreshExpiresAt: refreshExpiresAt, updatedAt: now)
    }

    /// The account's tokens in plain text, for a call to the platform.
    public func open(_ tokens: SealedAccountTokens, of account: Account) throws(Failure) -> (accessToken: String, refreshToken: String) {
        (try open(tokens.accessToken, context: Self.context(account, "access")), try open(tokens.refreshToken, context: Self.context(account, "refresh")))
    }

    /// `now` plus `seconds`, bounded to ten years so a wild answer cannot overflow.
    static func expiry(_ now: Int64, seconds: Int64) -> Int64 {
        now + min(max(seconds, 0), 3_650 * 86_400) * 1_000
    }
}
