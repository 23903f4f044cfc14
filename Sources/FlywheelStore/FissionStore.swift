import FlywheelDomain

/// Fission campaigns: a code a fan, a friend brought once, a reward given once and never past
/// the reward coupon's stock.
public protocol FissionStore: Sendable {
    func createFissionCampaign(_ campaign: FissionCampaign, audit: AuditEntry) async throws
    /// Newest first.
    func fissionCampaigns(of account: Account) async throws -> [FissionCampaign]
    func fissionCampaign(id: String, of account: Account) async throws -> FissionCampaign?
    /// The fan's code, recorded the first time it is asked for.
    func fissionCode(campaignId: String, openId: String, code: String, at: Int64, of account: Account) async throws -> String
    /// Whose code it is, or nil.
    func fissionInviter(campaignId: String, code: String, of account: Account) async throws -> String?
    /// Records the friend: `FissionRefusal.alreadyInvited` when it joined through an invite
    /// before. Its depth is one more than its inviter's. Returns the inviter's friends so far.
    func recordInvite(_ invite: FissionInvite, of account: Account) async throws -> (invite: FissionInvite, invites: Int)
    /// Gives the inviter its reward once: with the coupon claim when there is one (`claim` nil: a
    /// reward without a coupon). `ClaimRefusal.outOfStock` when the coupon is used up, and the
    /// reward is not recorded.
    func reward(campaignId: String, openId: String, claim: CouponClaim?, at: Int64, of account: Account) async throws -> Bool
    func fissionStats(campaignId: String, of account: Account) async throws -> FissionStats
}

/// The fission context, written once for both databases.
extension FissionStore where Self: SQLStore {
    public func createFissionCampaign(_ c: FissionCampaign, audit: AuditEntry) async throws {
        try await runner.transaction([
            .execute(SQLStatement("INSERT INTO fission_campaigns (tenant_id, \(FissionRows.columns)) VALUES (?, \(SQLStatement.placeholders(9)))",
                                  [.text(audit.tenantId), .text(c.id), .text(c.accountId), .text(c.name), .int(Int64(c.threshold)), .nullable(c.rewardCouponId),
                                   .int(c.startsAt), .int(c.endsAt), .int(c.createdAt), .int(Int64(c.holdoutPercent))])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func fissionCampaigns(of account: Account) async throws -> [FissionCampaign] {
        try await runner.query(SQLStatement("SELECT \(FissionRows.columns) FROM fission_campaigns WHERE tenant_id = ? AND account_id = ? ORDER BY created_at DESC, campaign_id",
                                            [.text(account.tenantId), .text(account.id)])).map(FissionRows.campaign)
    }

    public func fissionCampaign(id: String, of account: Account) async throws -> FissionCampaign? {
        try await runner.query(SQLStatement("SELECT \(FissionRows.columns) FROM fission_campaigns WHERE tenant_id = ? AND account_id = ? AND campaign_id = ?",
                                            [.text(account.tenantId), .text(account.id), .text(id)])).first.map(FissionRows.campaign)
    }

    public func fissionCode(campaignId: String, openId: String, code: String, at: Int64, of account: Account) async throws -> String {
        let key: [Cell] = [.text(account.tenantId), .text(campaignId)]
        return try await runner.transaction([
            .execute(SQLStatement("""
                INSERT INTO fission_codes (tenant_id, campaign_id, open_id, code, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (tenant_id, campaign_id, open_id) DO NOTHING
                """, key + [.text(openId), .text(code), .int(at)])),
            .execute(SQLStatement("SELECT code FROM fission_codes WHERE tenant_id = ? AND campaign_id = ? AND open_id = ?", key + [.text(openId)])),
        ]).first?.text("code") ?? code
    }

    public func fissionInviter(campaignId: String, code: String, of account: Account) async throws -> String? {
        try await runner.query(SQLStatement("SELECT open_id FROM fission_codes WHERE tenant_id = ? AND campaign_id = ? AND code = ?",
                                            [.text(account.tenantId), .text(campaignId), .text(code)])).first?.text("open_id")
    }

    public func recordInvite(_ i: FissionInvite, of account: Account) async throws -> (invite: FissionInvite, invites: Int) {
        let key: [Cell] = [.text(account.tenantId), .text(i.campaignId)]
        do {
            let rows = try await runner.transaction([
                .forbid(SQLStatement("SELECT 1 FROM fission_invites WHERE tenant_id = ? AND campaign_id = ? AND invitee = ?", key + [.text(i.invitee)]),
                        orElse: .conflict(field: "openId", "invited")),
                // One more than the inviter's own depth (0 for a fan nobody brought).
                .execute(SQLStatement("""
                    INSERT INTO fission_invites (tenant_id, campaign_id, invitee, inviter, depth, at)
                    SELECT ?, ?, ?, ?, COALESCE((SELECT depth FROM fission_invites WHERE tenant_id = ? AND campaign_id = ? AND invitee = ?), 0) + 1, ?
                    """, key + [.text(i.invitee), .text(i.inviter)] + key + [.text(i.inviter), .int(i.at)])),
                .execute(SQLStatement("""
                    SELECT (SELECT depth FROM fission_invites WHERE tenant_id = ? AND campaign_id = ? AND invitee = ?) AS depth,
                      (SELECT COUNT(*) FROM fission_invites WHERE tenant_id = ? AND campaign_id = ? AND inviter = ?) AS invites
                    """, key + [.text(i.invitee)] + key + [.text(i.inviter)])),
            ])
            var recorded = i
            recorded.depth = Int(try rows.first?.int("depth") ?? 1)
            return (recorded, Int(try rows.first?.int("invites") ?? 1))
        } catch StoreError.conflict(field: "openId", _) {
            throw FissionRefusal.alreadyInvited
        }
    }

    public func reward(campaignId: String, openId: String, claim: CouponClaim?, at: Int64, of account: Account) async throws -> Bool {
        let tenant = Cell.text(account.tenantId)
        var steps: [SQLStep] = [
            .forbid(SQLStatement("SELECT 1 FROM fission_rewards WHERE tenant_id = ? AND campaign_id = ? AND open_id = ?", [tenant, .text(campaignId), .text(openId)]),
                    orElse: .conflict(field: "openId", "rewarded")),
        ]
        if let claim {
            steps += [
                .require(SQLStatement("""
                    UPDATE coupon_templates SET issued = issued + 1 WHERE tenant_id = ? AND account_id = ? AND coupon_id = ? AND issued < stock RETURNING issued
                    """, [tenant, .text(account.id), .text(claim.couponId)]), orElse: .refused(.changedMeanwhile)),
                .execute(SQLStatement("""
                    INSERT INTO coupon_claims (tenant_id, claim_id, account_id, coupon_id, open_id, claimed_at) VALUES (?, ?, ?, ?, ?, ?)
                    """, [tenant, .text(claim.id), .text(account.id), .text(claim.couponId), .text(openId), .int(at)])),
            ]
        }
        steps.append(.execute(SQLStatement("INSERT INTO fission_rewards (tenant_id, campaign_id, open_id, claim_id, at) VALUES (?, ?, ?, ?, ?)",
                                           [tenant, .text(campaignId), .text(openId), .nullable(claim?.id), .int(at)])))
        do {
            try await runner.transaction(steps)
            return true
        } catch StoreError.conflict(field: "openId", _) {
            return false
        } catch StoreError.refused(.changedMeanwhile) {
            throw ClaimRefusal.outOfStock
        }
    }

    public func fissionStats(campaignId: String, of account: Account) async throws -> FissionStats {
        let key: [Cell] = [.text(account.tenantId), .text(campaignId)]
        guard let row = try await runner.query(SQLStatement("""
            SELECT (SELECT COUNT(*) FROM fission_codes WHERE tenant_id = ? AND campaign_id = ?) AS participants,
              (SELECT COUNT(DISTINCT inviter) FROM fission_invites WHERE tenant_id = ? AND campaign_id = ?) AS inviters,
              (SELECT COUNT(*) FROM fission_invites WHERE tenant_id = ? AND campaign_id = ?) AS invites,
              (SELECT COALESCE(MAX(depth), 0) FROM fission_invites WHERE tenant_id = ? AND campaign_id = ?) AS deepest,
              (SELECT COUNT(*) FROM fission_rewards WHERE tenant_id = ? AND campaign_id = ?) AS rewarded
            """, key + key + key + key + key)).first else { return FissionStats() }
        var s = FissionStats()
        s.participants = Int(try row.int("participants"))
        s.inviters = Int(try row.int("inviters"))
        s.invites = Int(try row.int("invites"))
        s.deepest = Int(try row.int("deepest"))
        s.rewarded = Int(try row.int("rewarded"))
        return s
    }
}

enum FissionRows {
    static let columns = "campaign_id, account_id, name, threshold, reward_coupon_id, starts_at, ends_at, created_at, holdout_percent"

    static func campaign(_ row: SQLRow) throws -> FissionCampaign {
        var c = FissionCampaign(id: try row.text("campaign_id"), accountId: try row.text("account_id"), name: try row.text("name"), threshold: Int(try row.int("threshold")),
                        rewardCouponId: row.optionalText("reward_coupon_id"), startsAt: try row.int("starts_at"), endsAt: try row.int("ends_at"),
                        createdAt: try row.int("created_at"))
        c.holdoutPercent = Int(try row.int("holdout_percent"))
        return c
    }
}
