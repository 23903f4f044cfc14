import Logging
import ServiceLifecycle

/// Work done again and again until shutdown: a round, then a pause of `interval`. A round that
/// fails is logged and the next one runs.
public struct Periodic: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    let round: @Sendable () async throws -> Void

    public init(_ name: String, every interval: Duration, logger: Logger, _ round: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.interval = interval
        self.logger = logger
        self.round = round
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do { try await round() } catch {
                logger.error("\(name) failed", metadata: ["error": "\(error)"])
            }
            await cancelWhenGracefulShutdown { try? await Task.sleep(for: self.interval) }
        }
    }
}
