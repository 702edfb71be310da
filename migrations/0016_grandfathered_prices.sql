-- Grandfathered prices (issue 11 §3): when a catalog version changes a plan's price,
-- the plan's live subscribers keep the price they had. NULL means the catalog's
-- current price for the subscription's plan and interval. A plan or interval change
-- clears it. An operator's "move subscribers to the current price" sets
-- `grandfathered_until` to the end of the period being billed: periods starting
-- before it still bill the kept price, later ones the current price.
ALTER TABLE subscriptions
    -- The kept price, as the domain's `Price` serialises it.
    ADD COLUMN grandfathered_price jsonb,
    -- When the price was kept (the publish that changed the catalog's price).
    ADD COLUMN grandfathered_at timestamptz,
    ADD COLUMN grandfathered_until timestamptz,
    ADD CONSTRAINT subscriptions_grandfathered_both CHECK ((grandfathered_price IS NULL) = (grandfathered_at IS NULL)),
    ADD CONSTRAINT subscriptions_grandfathered_until CHECK (grandfathered_until IS NULL OR grandfathered_price IS NOT NULL);

CREATE INDEX subscriptions_grandfathered_idx ON subscriptions (plan_key, interval) WHERE grandfathered_price IS NOT NULL AND grandfathered_until IS NULL;
