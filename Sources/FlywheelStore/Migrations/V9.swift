// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v9 = Migration(
        version: "v9 desk and outbox",
        sqlite: [
            // An account's desk: reply targets, business hours, how conversations are handed out.
            """
            CREATE TABLE desk_settings (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              first_response_minutes INTEGER NOT NULL CHECK (first_response_minutes BETWEEN 1 AND 10080),
              next_response_minutes INTEGER NOT NULL CHECK (next_response_minutes BETWEEN 1 AND 10080),
              business_days TEXT,
              business_start INTEGER CHECK (business_start BETWEEN 0 AND 1440),
              business_end INTEGER CHECK (business_end BETWEEN 0 AND 1440),
              assignment TEXT NOT NULL,
              last_assignee TEXT,
              PRIMARY KEY (tenant_id, account_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            // One thread per fan and account.
            """
            CREATE TABLE conversations (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              state TEXT NOT NULL,
              assignee TEXT,
              created_at INTEGER NOT NULL,
              last_message_at INTEGER NOT NULL,
              last_fan_message_at INTEGER,
              reply_to TEXT,
              waiting_since INTEGER,
              due_at INTEGER,
              breached_at INTEGER,
              answered INTEGER NOT NULL CHECK (answered IN (0, 1)),
              unread INTEGER NOT NULL CHECK (unread >= 0),
              welcomed_at INTEGER,
              granted_until INTEGER,
              version INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, open_id)
            )
            """,
            "CREATE INDEX conversations_by_state ON conversations(tenant_id, account_id, state, last_message_at)",
            "CREATE INDEX conversations_by_assignee ON conversations(tenant_id, assignee, state)",
            // Waits with a target not yet breached: what the SLA clock looks at.
            "CREATE INDEX conversations_due ON conversations(tenant_id, account_id, due_at) WHERE due_at IS NOT NULL AND breached_at IS NULL",
            // Every message of every thread, in and out, and internal notes.
            """
            CREATE TABLE desk_messages (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              message_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              at INTEGER NOT NULL,
              author TEXT NOT NULL,
              author_id TEXT,
              message_type TEXT NOT NULL,
              text TEXT,
              ref TEXT,
              platform_id TEXT,
              status TEXT NOT NULL,
              error TEXT,
              PRIMARY KEY (tenant_id, account_id, message_id)
            )
            """,
            "CREATE INDEX desk_messages_by_thread ON desk_messages(tenant_id, account_id, open_id, at)",
            // Messages from the log the desk has not handled yet, in log order.
            """
            CREATE TABLE desk_pending (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              seq INTEGER NOT NULL,
              message_id TEXT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, seq, message_id)
            )
            """,
            """
            CREATE TABLE auto_reply_rules (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              rule_id TEXT NOT NULL,
              name TEXT NOT NULL,
              trigger_kind TEXT NOT NULL,
              pattern TEXT,
              priority INTEGER NOT NULL CHECK (priority BETWEEN -1000 AND 1000),
              hours TEXT NOT NULL,
              reply_type TEXT NOT NULL,
              reply_text TEXT,
              reply_ref TEXT,
              enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, rule_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE desk_agents (
              tenant_id TEXT NOT NULL,
              user_id TEXT NOT NULL,
              capacity INTEGER NOT NULL CHECK (capacity BETWEEN 0 AND 1000),
              available INTEGER NOT NULL CHECK (available IN (0, 1)),
              PRIMARY KEY (tenant_id, user_id),
              FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, user_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE desk_agent_accounts (
              tenant_id TEXT NOT NULL,
              user_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              PRIMARY KEY (tenant_id, user_id, account_id),
              FOREIGN KEY (tenant_id, user_id) REFERENCES desk_agents(tenant_id, user_id) ON DELETE CASCADE
            )
            """,
            // Hand-offs, resolves, reopenings and SLA breaches, kept as they happen.
            """
            CREATE TABLE desk_events (
              tenant_id TEXT NOT NULL,
              event_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              at INTEGER NOT NULL,
              kind TEXT NOT NULL,
              agent TEXT,
              detail TEXT,
              PRIMARY KEY (tenant_id, event_id)
            )
            """,
            "CREATE INDEX desk_events_by_thread ON desk_events(tenant_id, account_id, open_id, at)",
            "CREATE INDEX desk_events_by_day ON desk_events(tenant_id, account_id, kind, at)",
            // Each answer a waiting fan got from a person: the SLA report.
            """
            CREATE TABLE desk_responses (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              answered_at INTEGER NOT NULL,
              answered_by TEXT NOT NULL,
              first INTEGER NOT NULL CHECK (first IN (0, 1)),
              waited INTEGER NOT NULL CHECK (waited >= 0),
              within_target INTEGER NOT NULL CHECK (within_target IN (0, 1)),
              PRIMARY KEY (tenant_id, account_id, open_id, answered_at)
            )
            """,
            "CREATE INDEX desk_responses_by_time ON desk_responses(tenant_id, account_id, answered_at)",
            // Leads from lead cards, one per phone number in the enterprise; their follow-ups and history.
            """
            CREATE TABLE leads (
              tenant_id TEXT NOT NULL,
              lead_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              name TEXT,
              phone TEXT,
              city TEXT,
              channel TEXT NOT NULL,
              domain TEXT NOT NULL,
              campaign TEXT,
              stage TEXT NOT NULL,
              lost_reason TEXT,
              assignee TEXT,
              won_value INTEGER CHECK (won_value >= 0),
              submissions INTEGER NOT NULL CHECK (submissions >= 1),
              created_at INTEGER NOT NULL,
              last_submitted_at INTEGER NOT NULL,
              contacted_at INTEGER,
              closed_at INTEGER,
              version INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, lead_id)
            )
            """,
            "CREATE INDEX leads_by_time ON leads(tenant_id, created_at)",
            "CREATE INDEX leads_by_stage ON leads(tenant_id, stage, created_at)",
            "CREATE INDEX leads_by_assignee ON leads(tenant_id, assignee, stage)",
            """
            CREATE TABLE follow_ups (
              tenant_id TEXT NOT NULL,
              follow_up_id TEXT NOT NULL,
              lead_id TEXT NOT NULL,
              due_at INTEGER NOT NULL,
              note TEXT NOT NULL,
              assignee TEXT,
              done_at INTEGER,
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, follow_up_id),
              FOREIGN KEY (tenant_id, lead_id) REFERENCES leads(tenant_id, lead_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX follow_ups_by_lead ON follow_ups(tenant_id, lead_id, due_at)",
            "CREATE INDEX follow_ups_open ON follow_ups(tenant_id, due_at) WHERE done_at IS NULL",
            """
            CREATE TABLE lead_activity (
              tenant_id TEXT NOT NULL,
              lead_id TEXT NOT NULL,
              at INTEGER NOT NULL,
              seq INTEGER NOT NULL,
              kind TEXT NOT NULL,
              detail TEXT NOT NULL,
              actor TEXT NOT NULL,
              PRIMARY KEY (tenant_id, lead_id, seq)
            )
            """,
            // The team's saved answers, offered in the reply box.
            """
            CREATE TABLE canned_replies (
              tenant_id TEXT NOT NULL,
              reply_id TEXT NOT NULL,
              title TEXT NOT NULL,
              text TEXT NOT NULL,
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, reply_id)
            )
            """,
            // Everything Flywheel sends, written with the decision to send; the dispatcher delivers it.
            """
            CREATE TABLE outbox (
              tenant_id TEXT NOT NULL,
              outbox_id TEXT NOT NULL,
              idempotency_key TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              reply_to TEXT,
              reply_by INTEGER,
              content_type TEXT NOT NULL,
              content_text TEXT,
              content_ref TEXT,
              message_id TEXT NOT NULL,
              state TEXT NOT NULL,
              attempts INTEGER NOT NULL CHECK (attempts >= 0),
              next_attempt_at INTEGER NOT NULL,
              claimed_at INTEGER,
              last_error TEXT,
              platform_id TEXT,
              created_at INTEGER NOT NULL,
              sent_at INTEGER,
              confirmed_at INTEGER,
              PRIMARY KEY (tenant_id, outbox_id),
              UNIQUE (tenant_id, idempotency_key)
            )
            """,
            // Only what is still to send: the dispatcher's queue stays as small as the work.
            "CREATE INDEX outbox_due ON outbox(tenant_id, next_attempt_at) WHERE state IN ('pending', 'sending')",
            "CREATE INDEX outbox_by_fan ON outbox(tenant_id, account_id, open_id, created_at)",
        ],
        postgres: [
            """
            CREATE TABLE desk_settings (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              first_response_minutes BIGINT NOT NULL CHECK (first_response_minutes BETWEEN 1 AND 10080),
              next_response_minutes BIGINT NOT NULL CHECK (next_response_minutes BETWEEN 1 AND 10080),
              business_days TEXT,
              business_start BIGINT CHECK (business_start BETWEEN 0 AND 1440),
              business_end BIGINT CHECK (business_end BETWEEN 0 AND 1440),
              assignment TEXT NOT NULL,
              last_assignee TEXT,
              PRIMARY KEY (tenant_id, account_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE conversations (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              state TEXT NOT NULL,
              assignee TEXT,
              created_at BIGINT NOT NULL,
              last_message_at BIGINT NOT NULL,
              last_fan_message_at BIGINT,
              reply_to TEXT,
              waiting_since BIGINT,
              due_at BIGINT,
              breached_at BIGINT,
              answered BIGINT NOT NULL CHECK (answered IN (0, 1)),
              unread BIGINT NOT NULL CHECK (unread >= 0),
              welcomed_at BIGINT,
              granted_until BIGINT,
              version BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, open_id)
            )
            """,
            "CREATE INDEX conversations_by_state ON conversations(tenant_id, account_id, state, last_message_at)",
            "CREATE INDEX conversations_by_assignee ON conversations(tenant_id, assignee, state)",
            "CREATE INDEX conversations_due ON conversations(tenant_id, account_id, due_at) WHERE due_at IS NOT NULL AND breached_at IS NULL",
            """
            CREATE TABLE desk_messages (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              message_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              at BIGINT NOT NULL,
              author TEXT NOT NULL,
              author_id TEXT,
              message_type TEXT NOT NULL,
              text TEXT,
              ref TEXT,
              platform_id TEXT,
              status TEXT NOT NULL,
              error TEXT,
              PRIMARY KEY (tenant_id, account_id, message_id)
            )
            """,
            "CREATE INDEX desk_messages_by_thread ON desk_messages(tenant_id, account_id, open_id, at)",
            """
            CREATE TABLE desk_pending (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              seq BIGINT NOT NULL,
              message_id TEXT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, seq, message_id)
            )
            """,
            """
            CREATE TABLE auto_reply_rules (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              rule_id TEXT NOT NULL,
              name TEXT NOT NULL,
              trigger_kind TEXT NOT NULL,
              pattern TEXT,
              priority BIGINT NOT NULL CHECK (priority BETWEEN -1000 AND 1000),
              hours TEXT NOT NULL,
              reply_type TEXT NOT NULL,
              reply_text TEXT,
              reply_ref TEXT,
              enabled BIGINT NOT NULL CHECK (enabled IN (0, 1)),
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, rule_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE desk_agents (
              tenant_id TEXT NOT NULL,
              user_id TEXT NOT NULL,
              capacity BIGINT NOT NULL CHECK (capacity BETWEEN 0 AND 1000),
              available BIGINT NOT NULL CHECK (available IN (0, 1)),
              PRIMARY KEY (tenant_id, user_id),
              FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, user_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE desk_agent_accounts (
              tenant_id TEXT NOT NULL,
              user_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              PRIMARY KEY (tenant_id, user_id, account_id),
              FOREIGN KEY (tenant_id, user_id) REFERENCES desk_agents(tenant_id, user_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE desk_events (
              tenant_id TEXT NOT NULL,
              event_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              at BIGINT NOT NULL,
              kind TEXT NOT NULL,
              agent TEXT,
              detail TEXT,
              PRIMARY KEY (tenant_id, event_id)
            )
            """,
            "CREATE INDEX desk_events_by_thread ON desk_events(tenant_id, account_id, open_id, at)",
            "CREATE INDEX desk_events_by_day ON desk_events(tenant_id, account_id, kind, at)",
            """
            CREATE TABLE desk_responses (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              answered_at BIGINT NOT NULL,
              answered_by TEXT NOT NULL,
              first BIGINT NOT NULL CHECK (first IN (0, 1)),
              waited BIGINT NOT NULL CHECK (waited >= 0),
              within_target BIGINT NOT NULL CHECK (within_target IN (0, 1)),
              PRIMARY KEY (tenant_id, account_id, open_id, answered_at)
            )
            """,
            "CREATE INDEX desk_responses_by_time ON desk_responses(tenant_id, account_id, answered_at)",
            """
            CREATE TABLE leads (
              tenant_id TEXT NOT NULL,
              lead_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              name TEXT,
              phone TEXT,
              city TEXT,
              channel TEXT NOT NULL,
              domain TEXT NOT NULL,
              campaign TEXT,
              stage TEXT NOT NULL,
              lost_reason TEXT,
              assignee TEXT,
              won_value BIGINT CHECK (won_value >= 0),
              submissions BIGINT NOT NULL CHECK (submissions >= 1),
              created_at BIGINT NOT NULL,
              last_submitted_at BIGINT NOT NULL,
              contacted_at BIGINT,
              closed_at BIGINT,
              version BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, lead_id)
            )
            """,
            "CREATE INDEX leads_by_time ON leads(tenant_id, created_at)",
            "CREATE INDEX leads_by_stage ON leads(tenant_id, stage, created_at)",
            "CREATE INDEX leads_by_assignee ON leads(tenant_id, assignee, stage)",
            """
            CREATE TABLE follow_ups (
              tenant_id TEXT NOT NULL,
              follow_up_id TEXT NOT NULL,
              lead_id TEXT NOT NULL,
              due_at BIGINT NOT NULL,
              note TEXT NOT NULL,
              assignee TEXT,
              done_at BIGINT,
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, follow_up_id),
              FOREIGN KEY (tenant_id, lead_id) REFERENCES leads(tenant_id, lead_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX follow_ups_by_lead ON follow_ups(tenant_id, lead_id, due_at)",
            "CREATE INDEX follow_ups_open ON follow_ups(tenant_id, due_at) WHERE done_at IS NULL",
            """
            CREATE TABLE lead_activity (
              tenant_id TEXT NOT NULL,
              lead_id TEXT NOT NULL,
              at BIGINT NOT NULL,
              seq BIGINT NOT NULL,
              kind TEXT NOT NULL,
              detail TEXT NOT NULL,
              actor TEXT NOT NULL,
              PRIMARY KEY (tenant_id, lead_id, seq)
            )
            """,
            """
            CREATE TABLE canned_replies (
              tenant_id TEXT NOT NULL,
              reply_id TEXT NOT NULL,
              title TEXT NOT NULL,
              text TEXT NOT NULL,
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, reply_id)
            )
            """,
            """
            CREATE TABLE outbox (
              tenant_id TEXT NOT NULL,
              outbox_id TEXT NOT NULL,
              idempotency_key TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              reply_to TEXT,
              reply_by BIGINT,
              content_type TEXT NOT NULL,
              content_text TEXT,
              content_ref TEXT,
              message_id TEXT NOT NULL,
              state TEXT NOT NULL,
              attempts BIGINT NOT NULL CHECK (attempts >= 0),
              next_attempt_at BIGINT NOT NULL,
              claimed_at BIGINT,
              last_error TEXT,
              platform_id TEXT,
              created_at BIGINT NOT NULL,
              sent_at BIGINT,
              confirmed_at BIGINT,
              PRIMARY KEY (tenant_id, outbox_id),
              UNIQUE (tenant_id, idempotency_key)
            )
            """,
            "CREATE INDEX outbox_due ON outbox(tenant_id, next_attempt_at) WHERE state IN ('pending', 'sending')",
            "CREATE INDEX outbox_by_fan ON outbox(tenant_id, account_id, open_id, created_at)",
        ]
    )
}
