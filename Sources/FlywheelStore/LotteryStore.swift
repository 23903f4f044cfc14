import FlywheelDomain
import Foundation

/// Lotteries: one entry a fan while open; one draw, whose winners are written once with the
/// notices that tell them, so no prize is given twice.
public protocol LotteryStore: Sendable {
    func createLottery(_ lottery: Lottery, audit: AuditEntry) async throws
    /// Newest first.
    func lotteries(of account: Account) async throws -> [Lottery]
    func lottery(id: String, of account: Account) async throws -> Lottery?
    /// Records the fan's entry: `ClaimRefusal.expired` when the lottery closed or was drawn
    /// meanwhile, `.limitReached(1)` when the fan entered already.
    /// `key` (the request's Idempotency-Key): the entry asked again with it succeeds again, adding nothing.
    func enterLottery(id: String, openId: String, at: Int64, key: String?, of account: Account) async throws
    /// The entries' open_ids, in order.
    func lotteryEntries(id: String, of account: Account) async throws -> [String]
    /// Lotteries of any tenant that closed and are not drawn yet.
    func lotteriesToDraw(now: Int64, limit: Int) async throws -> [(tenantId: String, lottery: Lottery)]
    /// Writes the draw once: `StoreError.refused(.changedMeanwhile)` when it was made already.
    /// The notices (desk messages and their outbox rows) go in the same transaction.
    func recordDraw(of lottery: Lottery, tenantId: String, at: Int64, winners: [LotteryWinner], messages: [DeskMessage], outbox: [OutboxMessage]) async throws
    /// Best-ranked first.
    func lotteryWinners(id: String, of account: Account) async throws -> [LotteryWinner]
}

/// The lottery context, written once for both databases.
extension LotteryStore where Self: SQLStore {
    public func createLottery(_ l: Lottery, audit: AuditEntry) async throws {
        let prizes = String(decoding: try JSONEncoder().encode(l.prizes), as: UTF8.self)
        try await runner.transaction([
            .execute(SQLStatement("INSERT INTO lotteries (tenant_id, \(LotteryRows.columns)) VALUES (?, \(SQLStatement.placeholders(14)))",
                                  [.text(audit.tenantId), .text(l.id), .text(l.accountId), .text(l.name), .nullable(l.eligibility), .int(l.requiresFollow ? 1 : 0),
                                   .int(l.opensAt), .int(l.closesAt), .text(prizes), .text(l.seed), .text(l.seedHash), .int(0), .null, .int(l.createdAt),
                                   .int(Int64(l.holdoutPercent))])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func lotteries(of account: Account) async throws -> [Lottery] {
        try await runner.query(SQLStatement("SELECT \(LotteryRows.columns) FROM lotteries WHERE tenant_id = ? AND account_id = ? ORDER BY created_at DESC, lottery_id",
                                            [.text(account.tenantId), .text(account.id)])).map(LotteryRows.lottery)
    }

    public func lottery(id: String, of account: Account) async throws -> Lottery? {
        try await runner.query(SQLStatement("SELECT \(LotteryRows.columns) FROM lotteries WHERE tenant_id = ? AND account_id = ? AND lottery_id = ?",
                                            [.text(account.tenantId), .text(account.id), .text(id)])).first.map(LotteryRows.lottery)
    }

    public func enterLottery(id: String, openId: String, at: Int64, key: String?, of account: Account) async throws {
        let lottery: [Cell] = [.text(account.tenantId), .text(id)]
        do {
            try await runner.transaction([
                // Counting the entry first locks the lottery's row (PostgreSQL), so a fan's two entries follow each other.
                .require(SQLStatement("""
                    UPDATE lotteries SET entries = entries + 1 WHERE tenant_id = ? AND account_id = ? AND lottery_id = ? AND drawn_at IS NULL AND closes_at > ?
                    RETURNING entries
                    """, [.text(account.tenantId), .text(account.id), .text(id), .int(at)]), orElse: .refused(.changedMeanwhile)),
                .forbid(SQLStatement("SELECT 1 FROM lottery_entries WHERE tenant_id = ? AND lottery_id = ? AND open_id = ?", lottery + [.text(openId)]),
                        orElse: .conflict(field: "openId", "entered")),
                .execute(SQLStatement("INSERT INTO lottery_entries (tenant_id, lottery_id, open_id, entered_at, request_key) VALUES (?, ?, ?, ?, ?)",
                                      lottery + [.text(openId), .int(at), .nullable(key)])),
            ])
        } catch let error as StoreError {
            // This very entry, asked again (its answer was lost).
            if let key, try await !runner.query(SQLStatement("SELECT 1 FROM lottery_entries WHERE tenant_id = ? AND lottery_id = ? AND open_id = ? AND request_key = ?",
                                                                lottery + [.text(openId), .text(key)])).isEmpty {
                return
            }
            switch error {
            case .refused(.changedMeanwhile): throw ClaimRefusal.expired
            // The fan's entry, found by the check or (two at once on PostgreSQL) by the table's key.
            case .conflict: throw ClaimRefusal.limitReached(1)
            default: throw error
            }
        }
    }

    public func lotteryEntries(id: String, of account: Account) async throws -> [String] {
        try await runner.query(SQLStatement("""
            SELECT e.open_id FROM lottery_entries e JOIN lotteries l ON l.tenant_id = e.tenant_id AND l.lottery_id = e.lottery_id
            WHERE e.tenant_id = ? AND l.account_id = ? AND e.lottery_id = ? ORDER BY e.open_id
            """, [.text(account.tenantId), .text(account.id), .text(id)])).map { try $0.text("open_id") }
    }

    public func lotteriesToDraw(now: Int64, limit: Int) async throws -> [(tenantId: String, lottery: Lottery)] {
        try await runner.query(SQLStatement("""
            SELECT tenant_id, \(LotteryRows.columns) FROM lotteries WHERE drawn_at IS NULL AND closes_at <= ? ORDER BY closes_at, lottery_id LIMIT ?
            """, [.int(now), .int(Int64(limit))])).map { (try $0.text("tenant_id"), try LotteryRows.lottery($0)) }
    }

    public func recordDraw(of lottery: Lottery, tenantId: String, at: Int64, winners: [LotteryWinner], messages: [DeskMessage], outbox: [OutboxMessage]) async throws {
        let key: [Cell] = [.text(tenantId), .text(lottery.id)]
        var steps: [SQLStep] = [.require(SQLStatement("UPDATE lotteries SET drawn_at = ? WHERE tenant_id = ? AND lottery_id = ? AND drawn_at IS NULL RETURNING lottery_id",
                                                      [.int(at)] + key), orElse: .refused(.changedMeanwhile))]
        steps += SQLStatement.insert("lottery_winners", key: key, rows: winners.enumerated().map { place, w in
            [.text(w.openId), .int(Int64(place)), .text(w.prize), .int(w.notified ? 1 : 0)]
        }, then: "").map { .execute($0) }
        steps += DeskRows.queued(messages, outbox: outbox, tenantId: tenantId)
        try await runner.transaction(steps)
    }

    public func lotteryWinners(id: String, of account: Account) async throws -> [LotteryWinner] {
        try await runner.query(SQLStatement("""
            SELECT w.open_id, w.prize, w.notified FROM lottery_winners w JOIN lotteries l ON l.tenant_id = w.tenant_id AND l.lottery_id = w.lottery_id
            WHERE w.tenant_id = ? AND l.account_id = ? AND w.lottery_id = ? ORDER BY w.place
            """, [.text(account.tenantId), .text(account.id), .text(id)])).map {
            LotteryWinner(openId: try $0.text("open_id"), prize: try $0.text("prize"), notified: try $0.int("notified") == 1)
        }
    }
}

enum LotteryRows {
    static let columns = "lottery_id, account_id, name, eligibility, requires_follow, opens_at, closes_at, prizes, seed, seed_hash, entries, drawn_at, created_at, holdout_percent"

    static func lottery(_ row: SQLRow) throws -> Lottery {
        guard let prizes = try? JSONDecoder().decode([LotteryPrize].self, from: Data(try row.text("prizes").utf8)) else {
            throw StoreError.corrupt("lotteries.prizes")
        }
        var l = Lottery(id: try row.text("lottery_id"), accountId: try row.text("account_id"), name: try row.text("name"), eligibility: row.optionalText("eligibility"),
                        requiresFollow: try row.int("requires_follow") == 1, opensAt: try row.int("opens_at"), closesAt: try row.int("closes_at"),
                        prizes: prizes, seed: try row.text("seed"), seedHash: try row.text("seed_hash"), createdAt: try row.int("created_at"))
        l.entries = Int(try row.int("entries"))
        l.drawnAt = row.optionalInt("drawn_at")
        l.holdoutPercent = Int(try row.int("holdout_percent"))
        return l
    }
}
