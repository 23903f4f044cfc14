import Synchronization

/// The projector beside a bulk append (`flywheel import`, `bench ingest`): while the appends
/// stream in it projects only whole batches, then what is left. Projecting whatever had arrived
/// made three times as many batches, each rewriting the fans it touches on SQLite's one writer.
/// Once a whole batch has arrived it goes on while whole ones follow: the store commits each once
/// the next is whole too, and reads and steps that one while it commits (one at a time left a
/// core idle for each commit; `ProjectionStore.project`).
public final class ProjectingAlongside: Sendable {
    private final class Appends: Sendable {
        /// Events stored so far, and whether the appends ended.
        let state = Mutex((events: 0, done: false))
    }

    private let appends = Appends()
    private let projector: Projector
    private let task: Task<Int, Never>

    public init(_ projector: Projector) {
        self.projector = projector
        let appends = appends
        task = Task {
            var projected = 0
            // The count when a call last found no account with a whole batch: the next waits for more.
            var idleAt = -1
            while !Task.isCancelled {
                let (events, done) = appends.state.withLock { $0 }
                if done { return projected }
                // Counted over every account; the store takes each account's batches only when whole.
                let n = events - projected >= projector.batchSize && events != idleAt ? await projector.runOnce(batches: .max, whole: true) : 0
                projected += n
                if n == 0 {
                    idleAt = events
                    try? await Task.sleep(for: .milliseconds(5))
                }
            }
            return projected
        }
    }

    /// An append that failed never calls `finish`: the polling stops with this.
    deinit { task.cancel() }

    /// Counts events the appends stored (duplicates not).
    public func appended(_ events: Int) { appends.state.withLock { $0.events += events } }

    /// Waits for the projector to catch up; returns the events it projected before the appends ended.
    public func finish() async -> Int {
        appends.state.withLock { $0.done = true }
        let alongside = await task.value
        await projector.drain()
        return alongside
    }
}
