-- Outgoing e-mail: services enqueue a message in the same transaction as the change
-- that causes it; a worker renders and sends it (SMTP) with retries.

CREATE TABLE email_outbox (
    id               uuid PRIMARY KEY,
    to_address       text NOT NULL CHECK (to_address = lower(btrim(to_address)) AND to_address LIKE '%_@_%'),
    -- Template name (`invitation`, `password_reset`, `usage_threshold`, …).
    template         text NOT NULL CHECK (template ~ '^[a-z][a-z0-9_]*$'),
    -- The template's variables (`user.name`, `usage.queries`, links, …).
    context          jsonb NOT NULL DEFAULT '{}',
    -- Makes a send happen at most once (`threshold:<account>:<meter>:<period>:<pct>`).
    dedup_key        text UNIQUE,
    account_id       uuid REFERENCES accounts (id) ON DELETE CASCADE,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX email_outbox_recent_idx ON email_outbox (created_at DESC);
