import FlywheelDomain

/// Bulk jobs: the fixed selection and how far the work has gone.
public protocol BulkJobStore: Sendable {
    /// The job and its selection, in one transaction.
    func createBulkJob(_ job: BulkJob, items: [FanKey], audit: AuditEntry) async throws
    func bulkJob(_ id: String, tenantId: String) async throws -> BulkJob?
    /// Newest first.
    func bulkJobs(tenantId: String, limit: Int) async throws -> [BulkJob]
    /// Jobs of every tenant still running, oldest first.
    func runningBulkJobs(limit: Int) async throws -> [BulkJob]
    /// The selection's items `from` on, in order.
    func bulkJobItems(_ job: BulkJob, from: Int, limit: Int) async throws -> [FanKey]
    /// Records a step: `done` items worked, `result` appended, and the state when it ends; false
    /// when the job had moved on (another server recorded this step).
    @discardableResult
    func advanceBulkJob(_ job: BulkJob, done: Int, appending result: String, state: BulkJob.State, at: Int64) async throws -> Bool
}

/// The bulk jobs context, written once for both databases.
extension BulkJobStore where Self: SQLStore {
    public func createBulkJob(_ job: BulkJob, items: [FanKey], audit: AuditEntry) async throws {
        var steps: [SQLStep] = [.execute(SQLStatement("""
            INSERT INTO bulk_jobs (tenant_id, job_id, operation, argument, people, total, done, state, result, created_by, created_at, finished_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(job.tenantId), .text(job.id), .text(job.operation.rawValue), .text(job.argument), .int(Int64(job.people)), .int(Int64(job.total)),
                  .int(Int64(job.done)), .text(job.state.rawValue), .text(job.result), .text(job.createdBy), .int(job.createdAt), .nullable(job.finishedAt)]))]
        // In slices, to stay within every database's limit on parameters.
        for start in stride(from: 0, to: items.count, by: 200) {
            let slice = items[start..<min(start + 200, items.count)]
            steps.append(.execute(SQLStatement(
                "INSERT INTO bulk_job_items (tenant_id, job_id, n, account_id, open_id) VALUES " + slice.map { _ in "(?, ?, ?, ?, ?)" }.joined(separator: ", "),
                slice.enumerated().flatMap { i, key in
                    [Cell.text(job.tenantId), .text(job.id), .int(Int64(start + i)), .text(key.accountId), .text(key.openId)]
                })))
        }
        steps.append(.execute(TenancyRows.record(audit)))
        try await runner.transaction(steps)
    }

    public func bulkJob(_ id: String, tenantId: String) async throws -> BulkJob? {
        try await runner.query(SQLStatement("SELECT * FROM bulk_jobs WHERE tenant_id = ? AND job_id = ?", [.text(tenantId), .text(id)])).first.map(Self.job)
    }

    public func bulkJobs(tenantId: String, limit: Int) async throws -> [BulkJob] {
        try await runner.query(SQLStatement("SELECT * FROM bulk_jobs WHERE tenant_id = ? ORDER BY created_at DESC, job_id DESC LIMIT ?",
                                            [.text(tenantId), .int(Int64(limit))])).map(Self.job)
    }

    public func runningBulkJobs(limit: Int) async throws -> [BulkJob] {
        try await runner.query(SQLStatement("SELECT * FROM bulk_jobs WHERE state = 'running' ORDER BY created_at, job_id LIMIT ?", [.int(Int64(limit))])).map(Self.job)
    }

    public func bulkJobItems(_ job: BulkJob, from: Int, limit: Int) async throws -> [FanKey] {
        try await runner.query(SQLStatement("""
            SELECT account_id, open_id FROM bulk_job_items WHERE tenant_id = ? AND job_id = ? AND n >= ? ORDER BY n LIMIT ?
            """, [.text(job.tenantId), .text(job.id), .int(Int64(from)), .int(Int64(limit))])).map { FanKey(accountId: try $0.text("account_id"), openId: try $0.text("open_id")) }
    }

    @discardableResult
    public func advanceBulkJob(_ job: BulkJob, done: Int, appending result: String, state: BulkJob.State, at: Int64) async throws -> Bool {
        // Guarded by the step it follows: a step worked twice (two servers) is recorded once.
        try await !runner.transaction([.execute(SQLStatement("""
            UPDATE bulk_jobs SET done = ?, result = result || ?, state = ?, finished_at = ? WHERE tenant_id = ? AND job_id = ? AND done = ? AND state = 'running'
            RETURNING job_id
            """, [.int(Int64(done)), .text(result), .text(state.rawValue), state == .running ? .null : .int(at), .text(job.tenantId), .text(job.id),
                  .int(Int64(job.done))]))]).isEmpty
    }

    static func job(_ row: SQLRow) throws -> BulkJob {
        BulkJob(tenantId: try row.text("tenant_id"), id: try row.text("job_id"),
                operation: BulkJob.Operation(rawValue: try row.text("operation")) ?? .export, argument: try row.text("argument"),
                people: Int(try row.int("people")), total: Int(try row.int("total")), done: Int(try row.int("done")),
                state: BulkJob.State(rawValue: try row.text("state")) ?? .failed, result: try row.text("result"), createdBy: try row.text("created_by"),
                createdAt: try row.int("created_at"), finishedAt: row.optionalInt("finished_at"))
    }
}
