-- Subscriptions and their plan-change history.

CREATE TABLE subscriptions (
    id                        uuid PRIMARY KEY,
    account_id                uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    plan_key                  text NOT NULL REFERENCES plans (key),
    interval                  text NOT NULL CHECK (interval IN ('month', 'year')),
    seats                     integer NOT NULL DEFAULT 1 CHECK (seats >= 1),
    status                    text NOT NULL CHECK (status IN ('trialing', 'active', 'past_due', 'canceled', 'incomplete', 'unpaid')),
    provider                  text NOT NULL CHECK (provider IN ('manual', 'stripe')),
    provider_subscription_id  text UNIQUE,
    -- Billing-cycle anchor: periods step from it by `interval` (see period.rs).
    cycle_anchor              timestamptz NOT NULL,
    trial_end                 timestamptz,
    cancel_at_period_end      boolean NOT NULL DEFAULT false,
    canceled_at               timestamptz,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'trialing') = (trial_end IS NOT NULL)),
    CHECK ((status = 'canceled') = (canceled_at IS NOT NULL))
);
-- One live subscription per account.
CREATE UNIQUE INDEX subscriptions_one_live ON subscriptions (account_id) WHERE status <> 'canceled';

CREATE TABLE subscription_changes (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id  uuid NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    account_id       uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_plan        text REFERENCES plans (key),
    to_plan          text NOT NULL REFERENCES plans (key),
    from_interval    text CHECK (from_interval IN ('month', 'year')),
    to_interval      text NOT NULL CHECK (to_interval IN ('month', 'year')),
    from_status      text,
    to_status        text NOT NULL,
    changed_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    effective_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscription_changes_account_idx ON subscription_changes (account_id, effective_at DESC);
