import FlywheelDomain

/// Fan red envelopes: split into shares when made; each claim takes the next share, one a fan,
/// never more shares than there are, however many claims arrive at once; what is unclaimed at
/// expiry is returned.
public protocol RedEnvelopeStore: Sendable {
    /// The envelope with its shares (`shares.count == envelope.shares`, summing to its total).
    func createRedEnvelope(_ envelope: RedEnvelope, shares: [Int64], audit: AuditEntry) async throws
    /// Newest first.
    func redEnvelopes(of account: Account) async throws -> [RedEnvelope]
    func redEnvelope(id: String, of account: Account) async throws -> RedEnvelope?
    /// Gives the fan the next share, in one transaction: `ClaimRefusal.outOfStock` when all are
    /// claimed or the envelope has expired, `.limitReached(1)` when the fan has one already.
    /// `key`: the claim's Idempotency-Key; a claim asked again with it answers the share it took.
    func claimRedEnvelope(id: String, openId: String, at: Int64, key: String?, of account: Account) async throws -> EnvelopeClaim
    /// The claims, newest first.
    func envelopeClaims(id: String, of account: Account, limit: Int) async throws -> [EnvelopeClaim]
    /// Closes every envelope (of any tenant) whose time is up, returning what was not claimed;
    /// returns how many it closed.
    func expireRedEnvelopes(now: Int64) async throws -> Int
}

/// The red envelope context, written once for both databases.
extension RedEnvelopeStore where Self: SQLStore {
    public func createRedEnvelope(_ e: RedEnvelope, shares: [Int64], audit: AuditEntry) async throws {
        let (low, high): (Int64?, Int64?) = switch e.split {
        case .fixed: (nil, nil)
        case .random(let low, let high): (low, high)
        }
        let tenant = Cell.text(audit.tenantId)
        var steps: [SQLStep] = [.execute(SQLStatement("""
            INSERT INTO red_envelopes (tenant_id, \(EnvelopeRows.columns)) VALUES (?, \(SQLStatement.placeholders(16)))
            """, [tenant, .text(e.id), .text(e.accountId), .text(e.name), .int(e.totalFen), .int(Int64(e.shares)), .text(e.split.kind), .nullable(low),
                  .nullable(high), .nullable(e.audience), .int(e.requiresFollow ? 1 : 0), .int(e.opensAt), .int(e.expiresAt), .int(0), .int(0),
                  .int(e.createdAt), .int(Int64(e.holdoutPercent))]))]
        steps += SQLStatement.insert("envelope_shares", key: [tenant, .text(e.id)], rows: shares.enumerated().map { [.int(Int64($0.offset)), .int($0.element), .null, .null, .null] },
                                   then: "").map { .execute($0) }
        steps.append(.execute(TenancyRows.record(audit)))
        try await runner.transaction(steps)
    }

    public func redEnvelopes(of account: Account) async throws -> [RedEnvelope] {
        try await runner.query(SQLStatement("""
            SELECT \(EnvelopeRows.columns), returned_fen FROM red_envelopes WHERE tenant_id = ? AND account_id = ? ORDER BY created_at DESC, envelope_id
            """, [.text(account.tenantId), .text(account.id)])).map(EnvelopeRows.envelope)
    }

    public func redEnvelope(id: String, of account: Account) async throws -> RedEnvelope? {
        try await runner.query(SQLStatement("""
            SELECT \(EnvelopeRows.columns), returned_fen FROM red_envelopes WHERE tenant_id = ? AND account_id = ? AND envelope_id = ?
            """, [.text(account.tenantId), .text(account.id), .text(id)])).first.map(EnvelopeRows.envelope)
    }

    public func claimRedEnvelope(id: String, openId: String, at: Int64, key: String?, of account: Account) async throws -> EnvelopeClaim {
        let envelope: [Cell] = [.text(account.tenantId), .text(id)]
        // The share this very claim took, when it is asked again (its answer was lost).
        func keyed() async throws -> EnvelopeClaim? {
            guard let key, let row = try await runner.query(SQLStatement("""
                SELECT amount_fen, claimed_at FROM envelope_shares WHERE tenant_id = ? AND envelope_id = ? AND open_id = ? AND request_key = ?
                """, envelope + [.text(openId), .text(key)])).first else { return nil }
            return EnvelopeClaim(envelopeId: id, openId: openId, amountFen: try row.int("amount_fen"), claimedAt: try row.int("claimed_at"))
        }
        let taken: [SQLRow]
        do {
            taken = try await runner.transaction([
                // Taking the next share comes first: on PostgreSQL it locks the envelope's row, so the
                // claims of one envelope follow each other and each sees the fan's earlier one.
                .require(SQLStatement("""
                    UPDATE red_envelopes SET claimed = claimed + 1, claimed_fen = claimed_fen + (SELECT amount_fen FROM envelope_shares s
                      WHERE s.tenant_id = red_envelopes.tenant_id AND s.envelope_id = red_envelopes.envelope_id AND s.seq = red_envelopes.claimed)
                    WHERE tenant_id = ? AND account_id = ? AND envelope_id = ? AND claimed < shares AND returned_fen IS NULL AND expires_at > ? RETURNING claimed
                    """, [.text(account.tenantId), .text(account.id), .text(id), .int(at)]), orElse: .refused(.changedMeanwhile)),
                .forbid(SQLStatement("SELECT 1 FROM envelope_shares WHERE tenant_id = ? AND envelope_id = ? AND open_id = ?", envelope + [.text(openId)]),
                        orElse: .conflict(field: "openId", "claimed")),
                .execute(SQLStatement("""
                    UPDATE envelope_shares SET open_id = ?, claimed_at = ?, request_key = ? WHERE tenant_id = ? AND envelope_id = ?
                      AND seq = (SELECT claimed - 1 FROM red_envelopes WHERE tenant_id = ? AND envelope_id = ?) RETURNING amount_fen
                    """, [.text(openId), .int(at), .nullable(key)] + envelope + envelope)),
            ])
        } catch StoreError.refused(.changedMeanwhile) {
            // Every share taken (this claim's, asked again, among them), or its time ran out since the caller looked.
            if let claim = try await keyed() { return claim }
            let envelope = try await redEnvelope(id: id, of: account)
            throw envelope.map { $0.returnedFen != nil || at >= $0.expiresAt } == true ? ClaimRefusal.expired : ClaimRefusal.outOfStock
        } catch StoreError.conflict(field: "openId", _) {
            // The fan's share: this very claim's, asked again, or an earlier claim's.
            if let claim = try await keyed() { return claim }
            throw ClaimRefusal.limitReached(1)
        }
        // The share the claim took, as the transaction's last step returned it.
        guard let row = taken.first else { throw StoreError.notFound("red envelope \(id)") }
        return EnvelopeClaim(envelopeId: id, openId: openId, amountFen: try row.int("amount_fen"), claimedAt: at)
    }

    public func envelopeClaims(id: String, of account: Account, limit: Int) async throws -> [EnvelopeClaim] {
        try await runner.query(SQLStatement("""
            SELECT s.open_id, s.amount_fen, s.claimed_at FROM envelope_shares s JOIN red_envelopes e ON e.tenant_id = s.tenant_id AND e.envelope_id = s.envelope_id
            WHERE s.tenant_id = ? AND e.account_id = ? AND s.envelope_id = ? AND s.open_id IS NOT NULL ORDER BY s.claimed_at DESC, s.seq DESC LIMIT ?
            """, [.text(account.tenantId), .text(account.id), .text(id), .int(Int64(limit))])).map {
            EnvelopeClaim(envelopeId: id, openId: try $0.text("open_id"), amountFen: try $0.int("amount_fen"), claimedAt: try $0.int("claimed_at"))
        }
    }

    public func expireRedEnvelopes(now: Int64) async throws -> Int {
        try await runner.transaction([.execute(SQLStatement("""
            UPDATE red_envelopes SET returned_fen = total_fen - claimed_fen WHERE returned_fen IS NULL AND expires_at <= ? RETURNING envelope_id
            """, [.int(now)]))]).count
    }
}

enum EnvelopeRows {
    static let columns = """
        envelope_id, account_id, name, total_fen, shares, split_kind, min_fen, max_fen, audience, requires_follow, opens_at, expires_at, claimed, \
        claimed_fen, created_at, holdout_percent
        """

    static func envelope(_ row: SQLRow) throws -> RedEnvelope {
        let split: EnvelopeSplit
        switch try row.text("split_kind") {
        case "fixed": split = .fixed
        case "random":
            guard let low = row.optionalInt("min_fen"), let high = row.optionalInt("max_fen") else { throw StoreError.corrupt("red_envelopes.min_fen") }
            split = .random(minFen: low, maxFen: high)
        default: throw StoreError.corrupt("red_envelopes.split_kind")
        }
        var e = RedEnvelope(id: try row.text("envelope_id"), accountId: try row.text("account_id"), name: try row.text("name"), totalFen: try row.int("total_fen"),
                            shares: Int(try row.int("shares")), split: split, audience: row.optionalText("audience"),
                            requiresFollow: try row.int("requires_follow") == 1, opensAt: try row.int("opens_at"), expiresAt: try row.int("expires_at"),
                            createdAt: try row.int("created_at"))
        e.claimed = Int(try row.int("claimed"))
        e.claimedFen = try row.int("claimed_fen")
        e.holdoutPercent = Int(try row.int("holdout_percent"))
        e.returnedFen = row.optionalInt("returned_fen")
        return e
    }
}
