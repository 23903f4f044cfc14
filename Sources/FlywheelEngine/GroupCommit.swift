import FlywheelStore

/// Group commit for webhook deliveries: deliveries that arrive while a transaction is being
/// written wait and go together in the next one, so one commit acknowledges many pushes. Each
/// caller still gets its answer only after its own delivery is durable.
///
/// The wait is bounded: when `maxWaiting` deliveries already wait, the next is refused (`Full`)
/// instead of growing memory while the store falls behind. The platform retries a push that was
/// not acknowledged, so refusing loses nothing.
actor GroupCommit {
    /// Too many deliveries wait for the store: answer 503 and let the platform retry.
    struct Full: Error, Equatable {}

    private let commit: @Sendable ([IncomingDelivery]) async throws -> [DeliveryOutcome]
    private var waiting: [(IncomingDelivery, CheckedContinuation<DeliveryOutcome, any Error>)] = []
    private var writing = false
    /// Bounds one transaction, so a burst cannot hold the writer for long.
    private let maxBatch = 512
    let maxWaiting: Int

    /// `commit` stores a batch in one transaction: the store's `ingest`, or a test's own.
    init(maxWaiting: Int, commit: @escaping @Sendable ([IncomingDelivery]) async throws -> [DeliveryOutcome]) {
        self.maxWaiting = max(1, maxWaiting)
        self.commit = commit
    }

    /// Deliveries waiting for the next transaction (not the one being written).
    var waitingCount: Int { waiting.count }

    func write(_ delivery: IncomingDelivery) async throws -> DeliveryOutcome {
        guard waiting.count < maxWaiting else { throw Full() }
        return try await withCheckedThrowingContinuation { continuation in
            waiting.append((delivery, continuation))
            if !writing {
                writing = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !waiting.isEmpty {
            let batch = Array(waiting.prefix(maxBatch))
            waiting.removeFirst(batch.count)
            do {
                let outcomes = try await commit(batch.map(\.0))
                for (item, outcome) in zip(batch, outcomes) { item.1.resume(returning: outcome) }
            } catch {
                // One bad delivery must not fail its neighbours: retry each on its own.
                for item in batch {
                    do {
                        item.1.resume(returning: try await commit([item.0]).first ?? .duplicate)
                    } catch {
                        item.1.resume(throwing: error)
                    }
                }
            }
        }
        writing = false
    }
}
