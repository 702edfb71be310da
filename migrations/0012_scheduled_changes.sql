-- Plan changes that take effect when the current billing period ends (a downgrade
-- "at period end", issue 4). The subscription keeps its plan until `scheduled_at`,
-- then moves to the scheduled plan and interval. With Stripe, Stripe already bills
-- the new price from that renewal; Tollgate keeps the paid-for plan until then.
ALTER TABLE subscriptions
    ADD COLUMN scheduled_plan_key text,
    ADD COLUMN scheduled_interval text CHECK (scheduled_interval IN ('month', 'year')),
    ADD COLUMN scheduled_at timestamptz;
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_schedule_whole CHECK (
    (scheduled_plan_key IS NULL) = (scheduled_interval IS NULL) AND (scheduled_plan_key IS NULL) = (scheduled_at IS NULL)
);
-- A subscription ending at its period end has nothing scheduled after it.
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_schedule_not_ending CHECK (
    scheduled_plan_key IS NULL OR NOT cancel_at_period_end
);
CREATE INDEX subscriptions_scheduled_idx ON subscriptions (scheduled_at) WHERE scheduled_at IS NOT NULL;

-- When a subscription set to cancel at its period end ends (that period's end, fixed
-- when the cancellation was asked for; Stripe's `cancel_at`).
ALTER TABLE subscriptions ADD COLUMN cancel_at timestamptz;
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_cancel_at_only_ending CHECK (cancel_at IS NULL OR cancel_at_period_end);
CREATE INDEX subscriptions_ending_idx ON subscriptions (cancel_at) WHERE cancel_at IS NOT NULL AND status <> 'canceled';
