/// Work on many fans at once, started from the console: the selection is fixed when the operator
/// confirms it, then worked through a step at a time, its progress visible, its result kept.
public struct BulkJob: Sendable, Equatable {
    public enum Operation: String, Sendable, CaseIterable {
        /// Put the tag `argument` on.
        case tag
        /// Take the tag `argument` off.
        case untag
        /// Add to the static segment named `argument` (one per account).
        case segment
        /// A CSV of the fans, kept as the result.
        case export
    }

    public enum State: String, Sendable, CaseIterable {
        case running, done, failed
    }

    public var tenantId: String
    public var id: String
    public var operation: Operation
    public var argument: String
    /// People selected; `total` counts their fans, one per account.
    public var people: Int
    public var total: Int
    public var done: Int
    public var state: State
    /// The CSV for an export; what went wrong for a failure; empty otherwise.
    public var result: String
    public var createdBy: String
    public var createdAt: Int64
    public var finishedAt: Int64?

    public init(tenantId: String, id: String, operation: Operation, argument: String, people: Int, total: Int, done: Int = 0,
                state: State = .running, result: String = "", createdBy: String, createdAt: Int64, finishedAt: Int64? = nil) {
        self.tenantId = tenantId
        self.id = id
        self.operation = operation
        self.argument = argument
        self.people = people
        self.total = total
        self.done = done
        self.state = state
        self.result = result
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.finishedAt = finishedAt
    }

    /// Whole percent done.
    public var percent: Int { total == 0 ? 100 : min(100, done * 100 / total) }
}
