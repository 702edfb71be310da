-- The Stripe provider: which Stripe customer bills each account, and the ledger of
-- webhook events (each event id is processed once; API.md "Webhooks in").

-- One Stripe customer per account, created on the first Checkout and reused.
CREATE TABLE stripe_customers (
    account_id   uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    customer_id  text NOT NULL UNIQUE CHECK (customer_id ~ '^cus_[A-Za-z0-9]+$'),
    email        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Every verified event, stored in the transaction that acted on it: a repeat finds
-- its id here and changes nothing.
CREATE TABLE stripe_events (
    id            text PRIMARY KEY CHECK (id ~ '^evt_[A-Za-z0-9]+$'),
    type          text NOT NULL,
    created       timestamptz NOT NULL,
    -- What the event changed, for the operator: `subscription`, `invoice`, `ignored: …`.
    outcome       text NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_events_processed_idx ON stripe_events (processed_at DESC);

-- Dunning: while a subscription is past due, its plan's entitlements last until
-- this instant (the configured grace period), then the paywall's renewal prompt
-- applies. Set when it becomes past due, cleared when it is paid.
ALTER TABLE subscriptions ADD COLUMN grace_until timestamptz;
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_grace_only_past_due CHECK (grace_until IS NULL OR status = 'past_due');

-- Checkout sessions completed (by the webhook), so the success page knows when the
-- new subscription is in.
CREATE TABLE stripe_checkouts (
    session_id    text PRIMARY KEY CHECK (session_id ~ '^cs_[A-Za-z0-9_]+$'),
    account_id    uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    completed_at  timestamptz NOT NULL DEFAULT now()
);
