// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v12 = Migration(
        version: "v12 convert",
        sqlite: [
            // Fan red envelopes: the total, how it is split, who may claim, and what was claimed and returned.
            """
            CREATE TABLE red_envelopes (
              tenant_id TEXT NOT NULL,
              envelope_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              name TEXT NOT NULL,
              total_fen INTEGER NOT NULL CHECK (total_fen > 0),
              shares INTEGER NOT NULL CHECK (shares > 0),
              split_kind TEXT NOT NULL,
              min_fen INTEGER,
              max_fen INTEGER,
              audience TEXT,
              requires_follow INTEGER NOT NULL CHECK (requires_follow IN (0, 1)),
              opens_at INTEGER NOT NULL,
              expires_at INTEGER NOT NULL,
              claimed INTEGER NOT NULL CHECK (claimed >= 0 AND claimed <= shares),
              claimed_fen INTEGER NOT NULL CHECK (claimed_fen >= 0 AND claimed_fen <= total_fen),
              returned_fen INTEGER,
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, envelope_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            // The shares, split when the envelope is made: the n-th claim takes share n; one share a fan.
            """
            CREATE TABLE envelope_shares (
              tenant_id TEXT NOT NULL,
              envelope_id TEXT NOT NULL,
              seq INTEGER NOT NULL,
              amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
              open_id TEXT,
              claimed_at INTEGER,
              PRIMARY KEY (tenant_id, envelope_id, seq),
              FOREIGN KEY (tenant_id, envelope_id) REFERENCES red_envelopes(tenant_id, envelope_id) ON DELETE CASCADE
            )
            """,
            "CREATE UNIQUE INDEX envelope_shares_one_a_fan ON envelope_shares(tenant_id, envelope_id, open_id)",
            "CREATE INDEX red_envelopes_by_account ON red_envelopes(tenant_id, account_id, created_at)",
            // Lotteries: the seed stays secret until the draw; its hash is published from the start.
            """
            CREATE TABLE lotteries (
              tenant_id TEXT NOT NULL,
              lottery_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              name TEXT NOT NULL,
              eligibility TEXT,
              requires_follow INTEGER NOT NULL CHECK (requires_follow IN (0, 1)),
              opens_at INTEGER NOT NULL,
              closes_at INTEGER NOT NULL,
              prizes TEXT NOT NULL,
              seed TEXT NOT NULL,
              seed_hash TEXT NOT NULL,
              entries INTEGER NOT NULL CHECK (entries >= 0),
              drawn_at INTEGER,
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, lottery_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX lotteries_by_account ON lotteries(tenant_id, account_id, created_at)",
            "CREATE INDEX lotteries_to_draw ON lotteries(closes_at) WHERE drawn_at IS NULL",
            // One entry a fan.
            """
            CREATE TABLE lottery_entries (
              tenant_id TEXT NOT NULL,
              lottery_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              entered_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, lottery_id, open_id),
              FOREIGN KEY (tenant_id, lottery_id) REFERENCES lotteries(tenant_id, lottery_id) ON DELETE CASCADE
            )
            """,
            // The winners, written once, by the draw.
            """
            CREATE TABLE lottery_winners (
              tenant_id TEXT NOT NULL,
              lottery_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              place INTEGER NOT NULL,
              prize TEXT NOT NULL,
              notified INTEGER NOT NULL CHECK (notified IN (0, 1)),
              PRIMARY KEY (tenant_id, lottery_id, open_id),
              FOREIGN KEY (tenant_id, lottery_id) REFERENCES lotteries(tenant_id, lottery_id) ON DELETE CASCADE
            )
            """,
            // Orders, one row an order id, projected from order_paid events; refunds kept apart so a refund that arrives first still counts.
            """
            CREATE TABLE orders (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              order_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              source TEXT NOT NULL,
              channel TEXT NOT NULL,
              amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
              coupon_id TEXT,
              lines TEXT,
              paid_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, order_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX orders_by_time ON orders(tenant_id, account_id, paid_at)",
            "CREATE INDEX orders_by_fan ON orders(tenant_id, account_id, open_id, paid_at)",
            """
            CREATE TABLE order_refunds (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              refund_id TEXT NOT NULL,
              order_id TEXT NOT NULL,
              amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
              refunded_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, refund_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX order_refunds_by_order ON order_refunds(tenant_id, account_id, order_id)",
            // Each fan's touches by day and touchpoint (live, dm, group, post, homepage), for crediting orders to them;
            // kept in its key's B-tree alone (one insert a row, not two).
            """
            CREATE TABLE fan_touchpoints (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              day INTEGER NOT NULL,
              touchpoint TEXT NOT NULL,
              first_at INTEGER NOT NULL,
              last_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, open_id, day, touchpoint),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            ) WITHOUT ROWID
            """,
            // Fission campaigns: invite codes, the friends they brought (one inviter a friend), rewards given once.
            """
            CREATE TABLE fission_campaigns (
              tenant_id TEXT NOT NULL,
              campaign_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              name TEXT NOT NULL,
              threshold INTEGER NOT NULL CHECK (threshold > 0),
              reward_coupon_id TEXT,
              starts_at INTEGER NOT NULL,
              ends_at INTEGER NOT NULL,
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, campaign_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE fission_codes (
              tenant_id TEXT NOT NULL,
              campaign_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              code TEXT NOT NULL,
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, campaign_id, open_id),
              FOREIGN KEY (tenant_id, campaign_id) REFERENCES fission_campaigns(tenant_id, campaign_id) ON DELETE CASCADE
            )
            """,
            "CREATE UNIQUE INDEX fission_codes_by_code ON fission_codes(tenant_id, campaign_id, code)",
            """
            CREATE TABLE fission_invites (
              tenant_id TEXT NOT NULL,
              campaign_id TEXT NOT NULL,
              invitee TEXT NOT NULL,
              inviter TEXT NOT NULL,
              depth INTEGER NOT NULL CHECK (depth > 0),
              at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, campaign_id, invitee),
              FOREIGN KEY (tenant_id, campaign_id) REFERENCES fission_campaigns(tenant_id, campaign_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX fission_invites_by_inviter ON fission_invites(tenant_id, campaign_id, inviter)",
            """
            CREATE TABLE fission_rewards (
              tenant_id TEXT NOT NULL,
              campaign_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              claim_id TEXT,
              at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, campaign_id, open_id),
              FOREIGN KEY (tenant_id, campaign_id) REFERENCES fission_campaigns(tenant_id, campaign_id) ON DELETE CASCADE
            )
            """,
        ],
        postgres: [
            """
            CREATE TABLE red_envelopes (
              tenant_id TEXT NOT NULL,
              envelope_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              name TEXT NOT NULL,
              total_fen BIGINT NOT NULL CHECK (total_fen > 0),
              shares BIGINT NOT NULL CHECK (shares > 0),
              split_kind TEXT NOT NULL,
              min_fen BIGINT,
              max_fen BIGINT,
              audience TEXT,
              requires_follow BIGINT NOT NULL CHECK (requires_follow IN (0, 1)),
              opens_at BIGINT NOT NULL,
              expires_at BIGINT NOT NULL,
              claimed BIGINT NOT NULL CHECK (claimed >= 0 AND claimed <= shares),
              claimed_fen BIGINT NOT NULL CHECK (claimed_fen >= 0 AND claimed_fen <= total_fen),
              returned_fen BIGINT,
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, envelope_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE envelope_shares (
              tenant_id TEXT NOT NULL,
              envelope_id TEXT NOT NULL,
              seq BIGINT NOT NULL,
              amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
              open_id TEXT,
              claimed_at BIGINT,
              PRIMARY KEY (tenant_id, envelope_id, seq),
              FOREIGN KEY (tenant_id, envelope_id) REFERENCES red_envelopes(tenant_id, envelope_id) ON DELETE CASCADE
            )
            """,
            "CREATE UNIQUE INDEX envelope_shares_one_a_fan ON envelope_shares(tenant_id, envelope_id, open_id)",
            "CREATE INDEX red_envelopes_by_account ON red_envelopes(tenant_id, account_id, created_at)",
            """
            CREATE TABLE lotteries (
              tenant_id TEXT NOT NULL,
              lottery_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              name TEXT NOT NULL,
              eligibility TEXT,
              requires_follow BIGINT NOT NULL CHECK (requires_follow IN (0, 1)),
              opens_at BIGINT NOT NULL,
              closes_at BIGINT NOT NULL,
              prizes TEXT NOT NULL,
              seed TEXT NOT NULL,
              seed_hash TEXT NOT NULL,
              entries BIGINT NOT NULL CHECK (entries >= 0),
              drawn_at BIGINT,
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, lottery_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX lotteries_by_account ON lotteries(tenant_id, account_id, created_at)",
            "CREATE INDEX lotteries_to_draw ON lotteries(closes_at) WHERE drawn_at IS NULL",
            """
            CREATE TABLE lottery_entries (
              tenant_id TEXT NOT NULL,
              lottery_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              entered_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, lottery_id, open_id),
              FOREIGN KEY (tenant_id, lottery_id) REFERENCES lotteries(tenant_id, lottery_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE lottery_winners (
              tenant_id TEXT NOT NULL,
              lottery_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              place BIGINT NOT NULL,
              prize TEXT NOT NULL,
              notified BIGINT NOT NULL CHECK (notified IN (0, 1)),
              PRIMARY KEY (tenant_id, lottery_id, open_id),
              FOREIGN KEY (tenant_id, lottery_id) REFERENCES lotteries(tenant_id, lottery_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE orders (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              order_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              source TEXT NOT NULL,
              channel TEXT NOT NULL,
              amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
              coupon_id TEXT,
              lines TEXT,
              paid_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, order_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX orders_by_time ON orders(tenant_id, account_id, paid_at)",
            "CREATE INDEX orders_by_fan ON orders(tenant_id, account_id, open_id, paid_at)",
            """
            CREATE TABLE order_refunds (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              refund_id TEXT NOT NULL,
              order_id TEXT NOT NULL,
              amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
              refunded_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, refund_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX order_refunds_by_order ON order_refunds(tenant_id, account_id, order_id)",
            """
            CREATE TABLE fan_touchpoints (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              day BIGINT NOT NULL,
              touchpoint TEXT NOT NULL,
              first_at BIGINT NOT NULL,
              last_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, open_id, day, touchpoint),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE fission_campaigns (
              tenant_id TEXT NOT NULL,
              campaign_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              name TEXT NOT NULL,
              threshold BIGINT NOT NULL CHECK (threshold > 0),
              reward_coupon_id TEXT,
              starts_at BIGINT NOT NULL,
              ends_at BIGINT NOT NULL,
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, campaign_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE fission_codes (
              tenant_id TEXT NOT NULL,
              campaign_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              code TEXT NOT NULL,
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, campaign_id, open_id),
              FOREIGN KEY (tenant_id, campaign_id) REFERENCES fission_campaigns(tenant_id, campaign_id) ON DELETE CASCADE
            )
            """,
            "CREATE UNIQUE INDEX fission_codes_by_code ON fission_codes(tenant_id, campaign_id, code)",
            """
            CREATE TABLE fission_invites (
              tenant_id TEXT NOT NULL,
              campaign_id TEXT NOT NULL,
              invitee TEXT NOT NULL,
              inviter TEXT NOT NULL,
              depth BIGINT NOT NULL CHECK (depth > 0),
              at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, campaign_id, invitee),
              FOREIGN KEY (tenant_id, campaign_id) REFERENCES fission_campaigns(tenant_id, campaign_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX fission_invites_by_inviter ON fission_invites(tenant_id, campaign_id, inviter)",
            """
            CREATE TABLE fission_rewards (
              tenant_id TEXT NOT NULL,
              campaign_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              claim_id TEXT,
              at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, campaign_id, open_id),
              FOREIGN KEY (tenant_id, campaign_id) REFERENCES fission_campaigns(tenant_id, campaign_id) ON DELETE CASCADE
            )
            """,
        ])
}
