import FlywheelPlatform
import FlywheelStore
import Foundation
import Logging
import Metrics

/// The effects Flywheel's work depends on, built in one place (`FlywheelEnvironment.live`) and
/// replaced in tests: storage, the clock, identifiers, metrics, logging, the platform's open API and
/// the secret that seals what Flywheel keeps of it.
public struct FlywheelEnvironment: Sendable {
    public var store: any Store
    /// Milliseconds since 1970.
    public var now: @Sendable () -> Int64
    /// A fresh random identifier of `length` lowercase hex characters.
    public var randomHex: @Sendable (_ length: Int) -> String
    public var metrics: any MetricsFactory
    public var logger: Logger
    /// The platform's open API: the platform itself, the sandbox, or a test's closures.
    public var platform: PlatformClient
    /// Seals account tokens at rest and signs OAuth states (`FLYWHEEL_SECRET_KEY`).
    public var sealer: TokenSealer

    public init(store: any Store, now: @escaping @Sendable () -> Int64, randomHex: @escaping @Sendable (Int) -> String,
                metrics: any MetricsFactory, logger: Logger, platform: PlatformClient = .failing, sealer: TokenSealer = .unkeyed) {
        self.store = store
        self.now = now
        self.randomHex = randomHex
        self.metrics = metrics
        self.logger = logger
        self.platform = platform
        self.sealer = sealer
    }

    /// The real clock and randomness; the platform at open.douyin.com unless told otherwise, and no
    /// secret key unless one is given (accounts then cannot be connected).
    public static func live(store: any Store, metrics: any MetricsFactory, logger: Logger, platform: PlatformClient = .douyin,
                            sealer: TokenSealer = .unkeyed) -> FlywheelEnvironment {
        FlywheelEnvironment(
            store: store,
            now: { Int64(Date().timeIntervalSince1970 * 1000) },
            randomHex: { length in
                var generator = SystemRandomNumberGenerator()
                return String((0..<length).map { _ in "0123456789abcdef".randomElement(using: &generator) ?? "0" })
            },
            metrics: metrics, logger: logger, platform: platform, sealer: sealer)
    }

    /// An identifier that sorts by creation time: `<prefix>_<ms>_<random>`.
    public func newId(_ prefix: String) -> String {
        "\(prefix)_\(String(now(), radix: 36))\(randomHex(10))"
    }

    public func audit(tenantId: String, actor: String, action: String, target: String, detail: String = "") -> AuditEntry {
        let at = now()
        return AuditEntry(id: String(format: "%013lld", at) + randomHex(8), tenantId: tenantId, at: at, actor: actor,
                          action: action, target: target, detail: detail)
    }
}
