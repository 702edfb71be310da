-- Usage sent to Stripe's billing meters (issue 4, "Usage above the included quantity of
-- metered prices is sent to Stripe Billing Meters"). Each usage event of an account whose
-- subscription Stripe bills is assigned exactly once a report: the whole units of the
-- event that lie above the plan's included quantity (a count or sum meter), or the level
-- above it (a last meter). Reports with units go to Stripe with the event id as the
-- meter event's `identifier`, so a retry after a crash is not counted twice by Stripe.

-- The plan and interval (`<plan>_<interval>`) whose metered prices are on the Stripe
-- subscription's items; NULL until the usage job has checked them.
ALTER TABLE subscriptions ADD COLUMN stripe_metered_for text;

-- Usage of one meter assigned so far in one usage period (the meter's reset period) of
-- a Stripe-billed subscription: where the next event's excess starts.
CREATE TABLE stripe_usage_counters (
    subscription_id  uuid NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    meter            text NOT NULL REFERENCES meters (key),
    period_start     timestamptz NOT NULL,
    counted          numeric NOT NULL CHECK (counted >= 0),
    PRIMARY KEY (subscription_id, meter, period_start)
);

CREATE TABLE stripe_meter_reports (
    event_id         uuid PRIMARY KEY REFERENCES usage_events (id) ON DELETE CASCADE,
    subscription_id  uuid NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    stripe_customer  text NOT NULL CHECK (stripe_customer <> ''),
    event_name       text NOT NULL CHECK (event_name <> ''),
    -- Whole units sent (Stripe meter values are whole numbers).
    value            bigint NOT NULL CHECK (value >= 0),
    occurred_at      timestamptz NOT NULL,
    -- pending: to send; sent: Stripe accepted it; included: within the included
    -- quantity, nothing to send; failed: Stripe refused it or attempts ran out.
    status           text NOT NULL CHECK (status IN ('pending', 'sent', 'included', 'failed')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz,
    last_error       text,
    sent_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL)),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
    CHECK (status <> 'included' OR value = 0)
);
CREATE INDEX stripe_meter_reports_due_idx ON stripe_meter_reports (next_attempt_at) WHERE status = 'pending';
CREATE INDEX stripe_meter_reports_subscription_idx ON stripe_meter_reports (subscription_id);
