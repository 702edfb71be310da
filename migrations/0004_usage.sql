-- Usage events, their per-period totals, thresholds already notified, and the
-- per-minute windows of rate features.

CREATE TABLE usage_events (
    id               uuid PRIMARY KEY,
    account_id       uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    meter            text NOT NULL REFERENCES meters (key),
    user_id          uuid REFERENCES users (id) ON DELETE SET NULL,
    quantity         numeric NOT NULL CHECK (quantity > 0),
    occurred_at      timestamptz NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    idempotency_key  text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    -- SHA-256 of the event as sent (meter, quantity, explicit timestamp, user,
    -- properties): a repeated key with another payload is a conflict.
    payload_hash     bytea NOT NULL CHECK (length(payload_hash) = 32),
    properties       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object'),
    UNIQUE (account_id, idempotency_key)
);
CREATE INDEX usage_events_account_meter_time_idx ON usage_events (account_id, meter, occurred_at);

-- Running total of one meter in one period; rebuilt from usage_events whenever the
-- account's billing cycle changes. `value` is the sum (count, sum), the peak (max)
-- or the latest level (last, decided by last_occurred_at).
CREATE TABLE usage_totals (
    account_id        uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    meter             text NOT NULL REFERENCES meters (key),
    period_start      timestamptz NOT NULL,
    period_end        timestamptz NOT NULL,
    value             numeric NOT NULL CHECK (value >= 0),
    last_occurred_at  timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, meter, period_start),
    CHECK (period_end > period_start)
);

-- Each threshold notifies once per account, meter and period.
CREATE TABLE threshold_crossings (
    account_id    uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    meter         text NOT NULL REFERENCES meters (key),
    period_start  timestamptz NOT NULL,
    percent       numeric NOT NULL,
    crossed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, meter, period_start, percent)
);

CREATE TABLE rate_windows (
    account_id    uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    feature       text NOT NULL REFERENCES features (key),
    window_start  timestamptz NOT NULL,
    calls         integer NOT NULL CHECK (calls >= 0),
    PRIMARY KEY (account_id, feature, window_start)
);
CREATE INDEX rate_windows_start_idx ON rate_windows (window_start);
