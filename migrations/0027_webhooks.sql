-- Outgoing webhooks (issue 14; API.md `/api/v1/webhook_endpoints`), signed per the
-- Standard Webhooks specification (https://www.standardwebhooks.com/).
--
-- An event is written in the transaction of the change that causes it, with one
-- delivery per endpoint that wants it (transactional outbox); a worker in every
-- `tollgate serve` process sends the deliveries (src/service/webhooks/deliver.rs).

-- Where events go: platform-wide (`account_id` NULL, the operator's) or one
-- account's (its owner's and admins').
CREATE TABLE webhook_endpoints (
    id                 uuid PRIMARY KEY,
    account_id         uuid REFERENCES accounts (id) ON DELETE CASCADE,
    url                text NOT NULL CHECK (length(url) <= 2048 AND url ~ '^https?://[^/?#@\s]+'),
    description        text NOT NULL DEFAULT '' CHECK (length(description) <= 200),
    -- The event types wanted; empty: every type.
    event_types        text[] NOT NULL DEFAULT '{}' CHECK (cardinality(event_types) <= 32),
    -- The signing secret (the bytes behind `whsec_…`). Not hashed: HMAC signing
    -- needs it, as every Standard Webhooks sender does.
    secret             bytea NOT NULL CHECK (length(secret) BETWEEN 24 AND 64),
    -- After a rotation, deliveries are signed with both secrets until then.
    previous_secret    bytea CHECK (length(previous_secret) BETWEEN 24 AND 64),
    previous_secret_expires_at timestamptz,
    enabled            boolean NOT NULL DEFAULT true,
    -- Why it is disabled: by a person, or after failing for 3 days.
    disabled_reason    text CHECK (disabled_reason IN ('manual', 'failing')),
    -- The first failed attempt since the last success.
    failing_since      timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL)),
    CHECK (enabled = (disabled_reason IS NULL))
);
CREATE INDEX webhook_endpoints_account_idx ON webhook_endpoints (account_id, created_at);

-- What happened, with the object's state at that moment. `seq` orders events
-- (a receiver keeps the highest it has seen per object).
CREATE TABLE webhook_events (
    id          uuid PRIMARY KEY,
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    account_id  uuid REFERENCES accounts (id) ON DELETE CASCADE,
    type        text NOT NULL CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
    data        jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    -- Makes an event happen at most once (`trial_will_end:<subscription>:<trial end>`).
    dedup_key   text UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX webhook_events_time_idx ON webhook_events (created_at);

-- One event to one endpoint; a replay is a new delivery of the same event (same
-- `webhook-id`, so receivers can drop a repeat).
CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    event_id         uuid NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    endpoint_id      uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    replay_of        uuid REFERENCES webhook_deliveries (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    CHECK ((status = 'pending') = (finished_at IS NULL))
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_pending_age_idx ON webhook_deliveries (created_at) WHERE status = 'pending';
-- Every delivery is updated two or three times within seconds: vacuum and
-- analyze it often, so the due index stays small and the statistics current.
ALTER TABLE webhook_deliveries SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);

-- Every attempt: the delivery log.
CREATE TABLE webhook_attempts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id      uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at     timestamptz NOT NULL,
    -- The HTTP status, or NULL when no answer came (refused, timed out, …).
    response_status  integer CHECK (response_status BETWEEN 100 AND 599),
    -- The first bytes of the answer (at most 1024 characters).
    response_body    text NOT NULL DEFAULT '' CHECK (length(response_body) <= 1024),
    latency_ms       integer NOT NULL CHECK (latency_ms >= 0),
    error            text CHECK (length(error) <= 500)
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempted_at);

-- Writes an event and its deliveries, when an enabled endpoint wants it (none:
-- nothing is written). Returns the event's id, or NULL. Wakes the workers.
CREATE FUNCTION tollgate_webhook_emit(p_account uuid, p_type text, p_data jsonb, p_dedup text)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid;
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM webhook_endpoints e
        WHERE e.enabled
          AND (e.account_id IS NULL OR e.account_id = p_account)
          AND (cardinality(e.event_types) = 0 OR p_type = ANY (e.event_types))
    ) THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhook_events (id, account_id, type, data, dedup_key)
    VALUES (gen_random_uuid(), p_account, p_type, p_data, p_dedup)
    ON CONFLICT (dedup_key) DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhook_deliveries (id, event_id, endpoint_id)
    SELECT gen_random_uuid(), v_id, e.id
    FROM webhook_endpoints e
    WHERE e.enabled
      AND (e.account_id IS NULL OR e.account_id = p_account)
      AND (cardinality(e.event_types) = 0 OR p_type = ANY (e.event_types));
    PERFORM pg_notify('tollgate_webhooks', '');
    RETURN v_id;
END
$$;

-- The public state of a subscription, as webhooks carry it (looked up with its
-- account, the distribution column under Citus).
CREATE FUNCTION tollgate_webhook_subscription(p_account uuid, p_id uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', s.id, 'account', s.account_id, 'plan', s.plan_key, 'interval', s.interval,
        'seats', s.seats, 'status', s.status, 'provider', s.provider,
        'trial_end', s.trial_end, 'cancel_at_period_end', s.cancel_at_period_end,
        'cancel_at', s.cancel_at, 'grace_until', s.grace_until,
        'scheduled_change', CASE WHEN s.scheduled_plan_key IS NULL THEN NULL ELSE jsonb_build_object(
            'plan', s.scheduled_plan_key, 'interval', s.scheduled_interval, 'at', s.scheduled_at) END,
        'created_at', s.created_at)
    FROM subscriptions s WHERE s.account_id = p_account AND s.id = p_id
$$;

-- The public state of an invoice (amounts are decimal strings in `currency`).
CREATE FUNCTION tollgate_webhook_invoice(p_account uuid, p_id uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', i.id, 'account', i.account_id, 'subscription', i.subscription_id,
        'number', i.number, 'status', i.status, 'provider', i.provider, 'currency', i.currency,
        'period_start', i.period_start, 'period_end', i.period_end, 'plan', i.plan_key,
        'subtotal', i.subtotal::text, 'discount', i.discount::text, 'tax', i.tax::text,
        'total', i.total::text, 'credit_applied', i.credit_applied::text,
        'amount_due', i.amount_due::text, 'amount_paid', i.amount_paid::text,
        'issued_at', i.issued_at, 'due_at', i.due_at, 'paid_at', i.paid_at, 'voided_at', i.voided_at)
    FROM invoices i WHERE i.account_id = p_account AND i.id = p_id
$$;

-- State changes already write the audit log in their transaction (every service,
-- job and CLI path); the ones receivers care about become events from there, so no
-- path can forget one. Events without an audit entry (usage thresholds, trials
-- ending, invoices overdue, billing cycles ended, payments failed) are emitted by
-- the services (src/service/webhooks/emit.rs).
CREATE FUNCTION tollgate_webhook_from_audit_entry(r audit_log) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_type text;
    v_data jsonb;
    v_user uuid;
BEGIN
    IF r.account_id IS NULL
       OR r.target_id !~ '^([0-9a-f-]{36}:)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       OR NOT EXISTS (SELECT 1 FROM webhook_endpoints e
                      WHERE e.enabled AND (e.account_id IS NULL OR e.account_id = r.account_id)) THEN
        RETURN;
    END IF;
    IF r.target_kind = 'subscription' THEN
        v_type := CASE
            WHEN r.action = 'subscription.created' THEN 'subscription.created'
            WHEN r.action = 'subscription.canceled' THEN 'subscription.canceled'
            WHEN r.action = 'subscription.synced_from_stripe' AND r.details->>'status' = 'canceled'
                 AND r.details->>'from_status' IS DISTINCT FROM 'canceled' THEN 'subscription.canceled'
            WHEN r.action = 'subscription.synced_from_stripe' AND r.details->>'from_plan' IS NULL
                 THEN 'subscription.created'
            ELSE 'subscription.updated' END;
        v_data := tollgate_webhook_subscription(r.account_id, r.target_id::uuid);
    ELSIF r.target_kind = 'invoice' THEN
        v_type := CASE
            WHEN r.action IN ('invoice.issued', 'invoice.paid', 'invoice.voided') THEN r.action
            WHEN r.action = 'invoice.synced_from_stripe' THEN CASE r.details->>'status'
                WHEN 'open' THEN 'invoice.issued' WHEN 'paid' THEN 'invoice.paid'
                WHEN 'void' THEN 'invoice.voided' END
            END;
        v_data := tollgate_webhook_invoice(r.account_id, r.target_id::uuid);
    ELSIF r.target_kind = 'membership' THEN
        v_type := CASE WHEN r.action = 'membership.added' THEN 'member.added' ELSE 'member.removed' END;
        v_user := split_part(r.target_id, ':', 2)::uuid;
        SELECT jsonb_build_object('account', r.account_id, 'user', u.id, 'email', u.email,
                                  'name', u.name, 'role', r.details->'role')
          INTO v_data FROM users u WHERE u.id = v_user;
        v_data := coalesce(v_data, jsonb_build_object('account', r.account_id, 'user', v_user, 'role', r.details->'role'));
    END IF;
    IF v_type IS NULL OR v_data IS NULL THEN
        RETURN;
    END IF;
    PERFORM tollgate_webhook_emit(r.account_id, v_type,
        jsonb_build_object('object', v_data, 'change', jsonb_build_object('action', r.action, 'details', r.details)),
        NULL);
END
$$;

-- Once per statement, so that a bulk insert (the invoice run's 100k entries) pays
-- one look at the endpoints while none is enabled.
CREATE FUNCTION tollgate_webhook_from_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r audit_log;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled) THEN
        RETURN NULL;
    END IF;
    FOR r IN
        SELECT * FROM inserted n
        WHERE n.target_kind IN ('subscription', 'invoice', 'membership')
          AND n.action IN (
            'subscription.created', 'subscription.plan_changed', 'subscription.seats_changed',
            'subscription.cancel_scheduled', 'subscription.reactivated', 'subscription.change_scheduled',
            'subscription.change_unscheduled', 'subscription.trial_ended', 'subscription.trial_extended',
            'subscription.price_migrated', 'subscription.metered_items_changed', 'subscription.past_due', 'subscription.restored',
            'subscription.synced_from_stripe', 'subscription.canceled',
            'invoice.issued', 'invoice.paid', 'invoice.voided', 'invoice.synced_from_stripe',
            'membership.added', 'membership.removed', 'membership.left')
        ORDER BY n.id
    LOOP
        PERFORM tollgate_webhook_from_audit_entry(r);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER audit_log_webhooks
    AFTER INSERT ON audit_log
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_webhook_from_audit();
