import Foundation
import Logging
import Metrics
import FlywheelStore

/// The effects Flywheel's work depends on, built in one place (`FlywheelEnvironment.live`) and
/// replaced in tests: storage, the clock, identifiers, metrics, logging.
public struct FlywheelEnvironment: Sendable {
    public var store: any Store
    /// Milliseconds since 1970.
    public var now: @Sendable () -> Int64
    /// A fresh random identifier of `length` lowercase hex characters.
    public var randomHex: @Sendable (_ length: Int) -> String
    public var metrics: any MetricsFactory
    public var logger: Logger

    public init(store: any Store, now: @escaping @Sendable () -> Int64, randomHex: @escaping @Sendable (Int) -> String,
                metrics: any MetricsFactory, logger: Logger) {
        self.store = store
        self.now = now
        self.randomHex = randomHex
        self.metrics = metrics
        self.logger = logger
    }

    /// The real clock and randomness.
    public static func live(store: any Store, metrics: any MetricsFactory, logger: Logger) -> FlywheelEnvironment {
        FlywheelEnvironment(
            store: store,
            now: { Int64(Date().timeIntervalSince1970 * 1000) },
            randomHex: { length in
                var generator = SystemRandomNumberGenerator()
                return String((0..<length).map { _ in "0123456789abcdef".randomElement(using: &generator) ?? "0" })
            },
            metrics: metrics, logger: logger)
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
