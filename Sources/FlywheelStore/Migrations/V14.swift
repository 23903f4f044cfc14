// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v14 = Migration(
        version: "v14 operate",
        sqlite: [
            // The industry an enterprise chose: its accounts without rules of their own follow its playbook.
            "ALTER TABLE tenants ADD COLUMN industry TEXT",
            // Each account's daily inputs to the popularity value, kept by the projector.
            """
            CREATE TABLE popularity_daily (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              day INTEGER NOT NULL,
              views INTEGER NOT NULL,
              watch_minutes INTEGER NOT NULL,
              interactions INTEGER NOT NULL,
              follows INTEGER NOT NULL,
              unfollows INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, day)
            ) WITHOUT ROWID
            """,
            // The days already projected, for accounts in China Standard Time (UTC+8 all year, the default zone):
            // their day is plain arithmetic. Accounts in other zones count from the upgrade on.
            """
            INSERT INTO popularity_daily
            SELECT s.tenant_id, s.account_id, (e.occurred_at / 1000 + 28800) / 86400 AS day,
              SUM(CASE WHEN e.kind = 'video_view' THEN 1 ELSE 0 END), SUM(CASE WHEN e.kind = 'live_watch' THEN e.amount ELSE 0 END),
              SUM(CASE WHEN e.kind IN ('like','comment','share','live_gift','live_share','dm_received','group_message') THEN 1 ELSE 0 END),
              SUM(CASE WHEN e.kind = 'follow' THEN 1 ELSE 0 END), SUM(CASE WHEN e.kind = 'unfollow' THEN 1 ELSE 0 END)
            FROM events e JOIN event_streams s ON s.stream = e.stream
            JOIN accounts a ON a.tenant_id = s.tenant_id AND a.account_id = s.account_id
            JOIN projection_checkpoints c ON c.tenant_id = s.tenant_id AND c.account_id = s.account_id
            WHERE a.time_zone = 'Asia/Shanghai' AND e.seq <= c.last_seq AND e.occurred_at >= 0
            GROUP BY s.tenant_id, s.account_id, (e.occurred_at / 1000 + 28800) / 86400
            """,
            // Goals, their tasks, the metric observed once a day, and the points granted to staff; metrics in thousandths.
            """
            CREATE TABLE goals (
              tenant_id TEXT NOT NULL,
              goal_id TEXT NOT NULL,
              account_id TEXT,
              name TEXT NOT NULL,
              metric TEXT NOT NULL,
              target_milli INTEGER NOT NULL,
              baseline_milli INTEGER NOT NULL,
              deadline INTEGER NOT NULL,
              reward_points INTEGER NOT NULL,
              reward_user_id TEXT,
              state TEXT NOT NULL,
              created_at INTEGER NOT NULL,
              achieved_at INTEGER,
              PRIMARY KEY (tenant_id, goal_id)
            )
            """,
            """
            CREATE TABLE goal_tasks (
              tenant_id TEXT NOT NULL,
              task_id TEXT NOT NULL,
              goal_id TEXT NOT NULL,
              title TEXT NOT NULL,
              action TEXT NOT NULL,
              detail TEXT NOT NULL,
              reason TEXT NOT NULL,
              owner TEXT,
              due_at INTEGER NOT NULL,
              points INTEGER NOT NULL,
              state TEXT NOT NULL,
              result TEXT,
              metric_at_start_milli INTEGER NOT NULL,
              metric_at_done_milli INTEGER,
              created_at INTEGER NOT NULL,
              done_at INTEGER,
              PRIMARY KEY (tenant_id, task_id),
              FOREIGN KEY (tenant_id, goal_id) REFERENCES goals(tenant_id, goal_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE goal_observations (
              tenant_id TEXT NOT NULL,
              goal_id TEXT NOT NULL,
              day INTEGER NOT NULL,
              value_milli INTEGER NOT NULL,
              observed_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, goal_id, day),
              FOREIGN KEY (tenant_id, goal_id) REFERENCES goals(tenant_id, goal_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE reward_grants (
              tenant_id TEXT NOT NULL,
              grant_id TEXT NOT NULL,
              goal_id TEXT NOT NULL,
              task_id TEXT,
              user_id TEXT,
              points INTEGER NOT NULL,
              reason TEXT NOT NULL,
              granted_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, grant_id)
            )
            """,
            "CREATE INDEX goal_tasks_by_goal ON goal_tasks(tenant_id, goal_id, due_at)",
            "CREATE INDEX goals_active ON goals(state, tenant_id)",
            "CREATE INDEX reward_grants_by_time ON reward_grants(tenant_id, granted_at)",
        ],
        postgres: [
            "ALTER TABLE tenants ADD COLUMN industry TEXT",
            """
            CREATE TABLE popularity_daily (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              day BIGINT NOT NULL,
              views BIGINT NOT NULL,
              watch_minutes BIGINT NOT NULL,
              interactions BIGINT NOT NULL,
              follows BIGINT NOT NULL,
              unfollows BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, day)
            )
            """,
            """
            INSERT INTO popularity_daily
            SELECT s.tenant_id, s.account_id, (e.occurred_at / 1000 + 28800) / 86400 AS day,
              SUM(CASE WHEN e.kind = 'video_view' THEN 1 ELSE 0 END), SUM(CASE WHEN e.kind = 'live_watch' THEN e.amount ELSE 0 END),
              SUM(CASE WHEN e.kind IN ('like','comment','share','live_gift','live_share','dm_received','group_message') THEN 1 ELSE 0 END),
              SUM(CASE WHEN e.kind = 'follow' THEN 1 ELSE 0 END), SUM(CASE WHEN e.kind = 'unfollow' THEN 1 ELSE 0 END)
            FROM events e JOIN event_streams s ON s.tenant_id = e.tenant_id AND s.stream = e.stream
            JOIN accounts a ON a.tenant_id = s.tenant_id AND a.account_id = s.account_id
            JOIN projection_checkpoints c ON c.tenant_id = s.tenant_id AND c.account_id = s.account_id
            WHERE a.time_zone = 'Asia/Shanghai' AND e.seq <= c.last_seq AND e.occurred_at >= 0
            GROUP BY s.tenant_id, s.account_id, (e.occurred_at / 1000 + 28800) / 86400
            """,
            """
            CREATE TABLE goals (
              tenant_id TEXT NOT NULL,
              goal_id TEXT NOT NULL,
              account_id TEXT,
              name TEXT NOT NULL,
              metric TEXT NOT NULL,
              target_milli BIGINT NOT NULL,
              baseline_milli BIGINT NOT NULL,
              deadline BIGINT NOT NULL,
              reward_points BIGINT NOT NULL,
              reward_user_id TEXT,
              state TEXT NOT NULL,
              created_at BIGINT NOT NULL,
              achieved_at BIGINT,
              PRIMARY KEY (tenant_id, goal_id)
            )
            """,
            """
            CREATE TABLE goal_tasks (
              tenant_id TEXT NOT NULL,
              task_id TEXT NOT NULL,
              goal_id TEXT NOT NULL,
              title TEXT NOT NULL,
              action TEXT NOT NULL,
              detail TEXT NOT NULL,
              reason TEXT NOT NULL,
              owner TEXT,
              due_at BIGINT NOT NULL,
              points BIGINT NOT NULL,
              state TEXT NOT NULL,
              result TEXT,
              metric_at_start_milli BIGINT NOT NULL,
              metric_at_done_milli BIGINT,
              created_at BIGINT NOT NULL,
              done_at BIGINT,
              PRIMARY KEY (tenant_id, task_id),
              FOREIGN KEY (tenant_id, goal_id) REFERENCES goals(tenant_id, goal_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE goal_observations (
              tenant_id TEXT NOT NULL,
              goal_id TEXT NOT NULL,
              day BIGINT NOT NULL,
              value_milli BIGINT NOT NULL,
              observed_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, goal_id, day),
              FOREIGN KEY (tenant_id, goal_id) REFERENCES goals(tenant_id, goal_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE reward_grants (
              tenant_id TEXT NOT NULL,
              grant_id TEXT NOT NULL,
              goal_id TEXT NOT NULL,
              task_id TEXT,
              user_id TEXT,
              points BIGINT NOT NULL,
              reason TEXT NOT NULL,
              granted_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, grant_id)
            )
            """,
            "CREATE INDEX goal_tasks_by_goal ON goal_tasks(tenant_id, goal_id, due_at)",
            "CREATE INDEX goals_active ON goals(state, tenant_id)",
            "CREATE INDEX reward_grants_by_time ON reward_grants(tenant_id, granted_at)",
        ])
}
