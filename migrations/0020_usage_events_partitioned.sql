-- usage_events partitioned by month of occurred_at (UTC), so that a year of events
-- does not slow ingestion or the period reads, and retention drops a whole month at
-- once (issue 12, "usage_events partitioned by time, with a retention setting").
--
-- A unique key of a partitioned table must contain the partition key, so the
-- idempotency key can no longer be unique on the events themselves (a retry sent
-- without a timestamp is stamped with another time). It moves to its own table,
-- usage_event_keys, one row per stored event, with the payload hash that tells a
-- retry from a conflicting reuse. Its primary key leads with account_id, as every
-- account-scoped key does (docs/SCALING.md).
--
-- Months are created ahead of time by usage_events_ensure_month (the server's
-- upkeep covers the 35 days events may be back-dated and the months ahead); a row
-- for a month without its own partition lands in usage_events_default and is moved
-- into the month's partition when that is created.

ALTER TABLE stripe_meter_reports DROP CONSTRAINT stripe_meter_reports_event_id_fkey;

ALTER TABLE usage_events RENAME TO usage_events_unpartitioned;
ALTER INDEX usage_events_account_meter_time_idx RENAME TO usage_events_unpartitioned_time_idx;

CREATE TABLE usage_events (
    id               uuid NOT NULL,
    account_id       uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    meter            text NOT NULL REFERENCES meters (key),
    user_id          uuid REFERENCES users (id) ON DELETE SET NULL,
    quantity         numeric NOT NULL CHECK (quantity > 0),
    occurred_at      timestamptz NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    idempotency_key  text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    properties       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object')
) PARTITION BY RANGE (occurred_at);
CREATE INDEX usage_events_account_meter_time_idx ON usage_events (account_id, meter, occurred_at);
CREATE TABLE usage_events_default PARTITION OF usage_events DEFAULT;

CREATE TABLE usage_event_keys (
    account_id       uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    idempotency_key  text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    -- SHA-256 of the event as sent (meter, quantity, explicit timestamp, user,
    -- properties): a repeated key with another payload is a conflict.
    payload_hash     bytea NOT NULL CHECK (length(payload_hash) = 32),
    event_id         uuid NOT NULL,
    -- The event's time: which month's partition holds it, and when retention
    -- forgets the key with it.
    occurred_at      timestamptz NOT NULL,
    PRIMARY KEY (account_id, idempotency_key)
);
CREATE INDEX usage_event_keys_time_idx ON usage_event_keys (occurred_at);

-- Creates the partition of the month holding `t` (UTC) unless it exists, moving
-- into it any rows the default partition holds for that month. Safe to call
-- concurrently (a transaction-scoped advisory lock serializes it). Returns whether
-- it created the partition.
CREATE FUNCTION usage_events_ensure_month(t timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    month_start timestamptz := date_trunc('month', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    month_end   timestamptz := (date_trunc('month', t AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    part        text := 'usage_events_' || to_char(t AT TIME ZONE 'UTC', 'YYYY_MM');
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('usage_events_ensure_month'));
    IF to_regclass(part) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- No row for the month may reach the default partition between the move and
    -- the attach (the attach would fail): inserts there wait for this
    -- transaction, which only a month without its partition ever needs.
    LOCK TABLE usage_events_default IN ACCESS EXCLUSIVE MODE;
    EXECUTE format('CREATE TABLE %I (LIKE usage_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
    EXECUTE format(
        'WITH moved AS (DELETE FROM usage_events_default WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *)
         INSERT INTO %I SELECT * FROM moved', part)
        USING month_start, month_end;
    EXECUTE format('ALTER TABLE usage_events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
        part, month_start, month_end);
    RETURN true;
END
$$;

-- The months of the stored events, and this one with the two around it.
SELECT usage_events_ensure_month(m)
FROM (
    SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS m
    FROM usage_events_unpartitioned
    UNION
    SELECT now() + make_interval(months => n) FROM generate_series(-1, 1) AS n
) months
ORDER BY m;

INSERT INTO usage_events (id, account_id, meter, user_id, quantity, occurred_at, received_at, idempotency_key, properties)
SELECT id, account_id, meter, user_id, quantity, occurred_at, received_at, idempotency_key, properties
FROM usage_events_unpartitioned;
INSERT INTO usage_event_keys (account_id, idempotency_key, payload_hash, event_id, occurred_at)
SELECT account_id, idempotency_key, payload_hash, id, occurred_at
FROM usage_events_unpartitioned;

DROP TABLE usage_events_unpartitioned;

-- Retention forgets the Stripe meter reports of the events it forgets.
CREATE INDEX stripe_meter_reports_time_idx ON stripe_meter_reports (occurred_at);
