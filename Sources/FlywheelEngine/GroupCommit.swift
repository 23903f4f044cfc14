import FlywheelStore

/// Group commit for webhook deliveries: deliveries that arrive while a transaction is being
/// written wait and go together in the next one, so one commit acknowledges many pushes. Each
/// caller still gets its answer only after its own delivery is durable.
actor GroupCommit {
    private let store: any Store
    private var waiting: [(IncomingDelivery, CheckedContinuation<DeliveryOutcome, any Error>)] = []
    private var writing = false
    /// Bounds one transaction, so a burst cannot hold the writer for long.
    private let maxBatch = 512

    init(store: any Store) { self.store = store }

    func write(_ delivery: IncomingDelivery) async throws -> DeliveryOutcome {
        try await withCheckedThrowingContinuation { continuation in
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
                let outcomes = try await store.ingest(batch.map(\.0))
                for (item, outcome) in zip(batch, outcomes) { item.1.resume(returning: outcome) }
            } catch {
                // One bad delivery must not fail its neighbours: retry each on its own.
                for item in batch {
                    do {
                        item.1.resume(returning: try await store.ingest([item.0]).first ?? .duplicate)
                    } catch {
                        item.1.resume(throwing: error)
                    }
                }
            }
        }
        writing = false
    }
}
