import FlywheelDomain

/// Coupons: templates with their stock, and the coupons fans hold. A claim never takes the
/// template past its stock or a fan past its limit, however many arrive at once.
public protocol CouponStore: Sendable {
    func createCoupon(_ coupon: CouponTemplate, audit: AuditEntry) async throws
    /// Newest first.
    func coupons(of account: Account) async throws -> [CouponTemplate]
    func coupon(id: String, of account: Account) async throws -> CouponTemplate?
    /// Issues one coupon to the fan, in one transaction: `ClaimRefusal.outOfStock` when none is
    /// left, `.limitReached` when the fan holds the template's limit already.
    func claimCoupon(_ claim: CouponClaim, of account: Account) async throws
    /// The coupons a fan holds of the account, newest first.
    func couponClaims(of account: Account, openId: String) async throws -> [CouponClaim]
}

/// Coupons the platform reports claimed (`coupon_claimed`, by the card's activity id) and
/// redeemed (`coupon_redeemed`): recorded against the account's templates.
public struct CouponWrite: StatementWrite {
    /// (claim id, activity id, open_id, time).
    public var claims: [(id: String, activityId: String, openId: String, at: Int64)] = []
    /// (activity id or nil, open_id, time).
    public var redemptions: [(activityId: String?, openId: String, at: Int64)] = []

    public init() {}

    public var isEmpty: Bool { claims.isEmpty && redemptions.isEmpty }

    public func statements(of account: Account) -> [SQLStatement] {
        let key: [Cell] = [.text(account.tenantId), .text(account.id)]
        var statements: [SQLStatement] = []
        for c in claims {
            // The platform keeps its own stock; a claim it reports past Flywheel's count is still recorded, and counted up to the stock.
            statements.append(SQLStatement("""
                INSERT INTO coupon_claims (tenant_id, claim_id, account_id, coupon_id, open_id, claimed_at)
                SELECT tenant_id, ?, account_id, coupon_id, ?, ? FROM coupon_templates WHERE tenant_id = ? AND account_id = ? AND activity_id = ?
                ON CONFLICT (tenant_id, claim_id) DO NOTHING
                """, [.text(c.id), .text(c.openId), .int(c.at)] + key + [.text(c.activityId)]))
            statements.append(SQLStatement("""
                UPDATE coupon_templates SET issued = issued + 1 WHERE tenant_id = ? AND account_id = ? AND activity_id = ? AND issued < stock
                  AND EXISTS (SELECT 1 FROM coupon_claims WHERE tenant_id = ? AND claim_id = ? AND claimed_at = ?)
                """, key + [.text(c.activityId), .text(account.tenantId), .text(c.id), .int(c.at)]))
        }
        for r in redemptions {
            // The fan's oldest coupon of that activity (or any) not yet used.
            let match = r.activityId == nil ? "" : " AND coupon_id IN (SELECT coupon_id FROM coupon_templates WHERE tenant_id = ? AND account_id = ? AND activity_id = ?)"
            statements.append(SQLStatement("""
                UPDATE coupon_claims SET redeemed_at = ? WHERE tenant_id = ? AND claim_id = (
                  SELECT claim_id FROM coupon_claims WHERE tenant_id = ? AND account_id = ? AND open_id = ? AND redeemed_at IS NULL\(match)
                  ORDER BY claimed_at, claim_id LIMIT 1)
                """, [.int(r.at), .text(account.tenantId)] + key + [.text(r.openId)] + (r.activityId.map { key + [.text($0)] } ?? [])))
        }
        // The coupons of the fans who redeemed, counted again once the batch's redemptions are in.
        let redeemers = Array(Set(redemptions.map(\.openId))).sorted()
        for chunk in SQLStatement.chunks(redeemers, of: 200, fewForms: true) {
            statements.append(SQLStatement("""
                UPDATE coupon_templates SET redeemed = (SELECT COUNT(*) FROM coupon_claims c WHERE c.tenant_id = coupon_templates.tenant_id
                  AND c.coupon_id = coupon_templates.coupon_id AND c.redeemed_at IS NOT NULL)
                WHERE tenant_id = ? AND account_id = ? AND coupon_id IN (SELECT coupon_id FROM coupon_claims WHERE tenant_id = ? AND account_id = ?
                  AND open_id IN (\(SQLStatement.placeholders(chunk.count))))
                """, key + key + chunk.map(Cell.text)))
        }
        return statements
    }
}

/// The coupons context, written once for both databases.
extension CouponStore where Self: SQLStore {
    public func createCoupon(_ c: CouponTemplate, audit: AuditEntry) async throws {
        try await runner.transaction([
            .execute(SQLStatement("INSERT INTO coupon_templates (tenant_id, \(CouponRows.columns)) VALUES (?, \(SQLStatement.placeholders(17)))",
                                  [.text(audit.tenantId)] + CouponRows.cells(c))),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func coupons(of account: Account) async throws -> [CouponTemplate] {
        try await runner.query(SQLStatement("SELECT \(CouponRows.columns) FROM coupon_templates WHERE tenant_id = ? AND account_id = ? ORDER BY created_at DESC, coupon_id",
                                            [.text(account.tenantId), .text(account.id)])).map(CouponRows.coupon)
    }

    public func coupon(id: String, of account: Account) async throws -> CouponTemplate? {
        try await runner.query(SQLStatement("SELECT \(CouponRows.columns) FROM coupon_templates WHERE tenant_id = ? AND account_id = ? AND coupon_id = ?",
                                            [.text(account.tenantId), .text(account.id), .text(id)])).first.map(CouponRows.coupon)
    }

    public func claimCoupon(_ claim: CouponClaim, of account: Account) async throws {
        let tenant = Cell.text(account.tenantId)
        do {
            try await runner.transaction([
                // Taking one from the stock comes first: on PostgreSQL it locks the template's row, so
                // claims of one coupon follow each other and each sees the fan's earlier ones.
                .require(SQLStatement("""
                    UPDATE coupon_templates SET issued = issued + 1 WHERE tenant_id = ? AND account_id = ? AND coupon_id = ? AND issued < stock RETURNING issued
                    """, [tenant, .text(account.id), .text(claim.couponId)]), orElse: .refused(.changedMeanwhile)),
                .forbid(SQLStatement("""
                    SELECT 1 FROM coupon_templates WHERE tenant_id = ? AND coupon_id = ?
                      AND per_fan_limit <= (SELECT COUNT(*) FROM coupon_claims WHERE tenant_id = ? AND coupon_id = ? AND open_id = ?)
                    """, [tenant, .text(claim.couponId), tenant, .text(claim.couponId), .text(claim.openId)]), orElse: .conflict(field: "openId", "limit")),
                .execute(SQLStatement("""
                    INSERT INTO coupon_claims (tenant_id, claim_id, account_id, coupon_id, open_id, claimed_at) VALUES (?, ?, ?, ?, ?, ?)
                    """, [tenant, .text(claim.id), .text(account.id), .text(claim.couponId), .text(claim.openId), .int(claim.claimedAt)])),
            ])
        } catch StoreError.refused(.changedMeanwhile) {
            throw ClaimRefusal.outOfStock
        } catch StoreError.conflict(field: "openId", _) {
            let limit = try await coupon(id: claim.couponId, of: account)?.perFanLimit ?? 0
            throw ClaimRefusal.limitReached(limit)
        }
    }

    public func couponClaims(of account: Account, openId: String) async throws -> [CouponClaim] {
        try await runner.query(SQLStatement("""
            SELECT claim_id, coupon_id, account_id, open_id, claimed_at, redeemed_at FROM coupon_claims WHERE tenant_id = ? AND account_id = ? AND open_id = ?
            ORDER BY claimed_at DESC, claim_id
            """, [.text(account.tenantId), .text(account.id), .text(openId)])).map {
            var c = CouponClaim(id: try $0.text("claim_id"), couponId: try $0.text("coupon_id"), accountId: try $0.text("account_id"), openId: try $0.text("open_id"),
                                claimedAt: try $0.int("claimed_at"))
            c.redeemedAt = $0.optionalInt("redeemed_at")
            return c
        }
    }
}

enum CouponRows {
    static let columns = """
        coupon_id, account_id, name, value_kind, value_number, threshold_fen, valid_from, valid_until, stock, per_fan_limit, audience, requires_follow, \
        activity_id, issued, redeemed, created_at, holdout_percent
        """

    static func cells(_ c: CouponTemplate) -> [Cell] {
        [.text(c.id), .text(c.accountId), .text(c.name), .text(c.value.kind), .int(c.value.number), .int(c.thresholdFen), .int(c.validFrom), .int(c.validUntil),
         .int(Int64(c.stock)), .int(Int64(c.perFanLimit)), .nullable(c.audience), .int(c.requiresFollow ? 1 : 0), .nullable(c.activityId), .int(Int64(c.issued)),
         .int(Int64(c.redeemed)), .int(c.createdAt), .int(Int64(c.holdoutPercent))]
    }

    static func coupon(_ row: SQLRow) throws -> CouponTemplate {
        guard let value = CouponValue(kind: try row.text("value_kind"), number: try row.int("value_number")) else { throw StoreError.corrupt("coupon_templates.value") }
        var c = CouponTemplate(id: try row.text("coupon_id"), accountId: try row.text("account_id"), name: try row.text("name"), value: value,
                               thresholdFen: try row.int("threshold_fen"), validFrom: try row.int("valid_from"), validUntil: try row.int("valid_until"),
                               stock: Int(try row.int("stock")), perFanLimit: Int(try row.int("per_fan_limit")), audience: row.optionalText("audience"),
                               requiresFollow: try row.int("requires_follow") == 1, activityId: row.optionalText("activity_id"), createdAt: try row.int("created_at"))
        c.issued = Int(try row.int("issued"))
        c.redeemed = Int(try row.int("redeemed"))
        c.holdoutPercent = Int(try row.int("holdout_percent"))
        return c
    }
}
