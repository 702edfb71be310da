-- Pricing beyond a flat price (seat tiers, usage prices, coupons), Tollgate's own
-- invoices for the manual provider, and the proration kept with each plan change.

-- A price whose seats are priced by a model: {"model": "graduated", "tiers": [...]}.
ALTER TABLE plan_prices ADD COLUMN seat_pricing jsonb CHECK (seat_pricing IS NULL OR seat_pricing ? 'model');

-- What a plan charges for a meter's usage (rating.rs's Pricing as JSON).
CREATE TABLE plan_usage_prices (
    plan_key   text NOT NULL REFERENCES plans (key) ON DELETE CASCADE,
    meter_key  text NOT NULL REFERENCES meters (key),
    pricing    jsonb NOT NULL CHECK (pricing ? 'model'),
    PRIMARY KEY (plan_key, meter_key)
);

CREATE TABLE coupons (
    code         text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_-]{0,63}$'),
    name         text NOT NULL,
    -- {"type": "percent_off" | "amount_off", "value": "50"}
    discount     jsonb NOT NULL CHECK (discount->>'type' IN ('percent_off', 'amount_off')),
    -- {"duration": "once" | "forever"} or {"duration": "repeating", "months": 3}
    duration     jsonb NOT NULL CHECK (duration->>'duration' IN ('once', 'repeating', 'forever')),
    archived_at  timestamptz
);

-- The coupon an account has redeemed (one at a time, as Stripe's customer discount).
CREATE TABLE account_coupons (
    account_id        uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    coupon_code       text NOT NULL REFERENCES coupons (code),
    redeemed_at       timestamptz NOT NULL DEFAULT now(),
    redeemed_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    invoices_applied  integer NOT NULL DEFAULT 0 CHECK (invoices_applied >= 0)
);

-- Plan and seat changes keep their proration (positive: owed; negative: credit), in
-- the catalog currency, unrounded.
ALTER TABLE subscription_changes
    ADD COLUMN from_seats integer CHECK (from_seats >= 1),
    ADD COLUMN to_seats integer CHECK (to_seats >= 1),
    ADD COLUMN proration numeric(19, 6);

-- Gap-free invoice numbers per issuer prefix and year: the row is locked by the
-- transaction that issues an invoice, so a rolled-back issue leaves no gap.
CREATE TABLE invoice_sequences (
    prefix  text NOT NULL CHECK (prefix ~ '^[A-Z0-9]{1,8}$'),
    year    integer NOT NULL CHECK (year BETWEEN 2000 AND 9999),
    last    bigint NOT NULL CHECK (last >= 0),
    PRIMARY KEY (prefix, year)
);

CREATE TABLE invoices (
    id                   uuid PRIMARY KEY,
    account_id           uuid NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    subscription_id      uuid REFERENCES subscriptions (id) ON DELETE SET NULL,
    provider             text NOT NULL CHECK (provider IN ('manual', 'stripe')),
    provider_invoice_id  text UNIQUE,
    number               text UNIQUE,
    status               text NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
    currency             char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    period_start         timestamptz NOT NULL,
    period_end           timestamptz NOT NULL,
    plan_key             text,
    subtotal             numeric(19, 4) NOT NULL,
    discount             numeric(19, 4) NOT NULL CHECK (discount >= 0),
    tax                  numeric(19, 4) NOT NULL DEFAULT 0 CHECK (tax >= 0),
    total                numeric(19, 4) NOT NULL CHECK (total >= 0),
    credit_applied       numeric(19, 4) NOT NULL DEFAULT 0 CHECK (credit_applied >= 0),
    amount_due           numeric(19, 4) NOT NULL CHECK (amount_due >= 0),
    amount_paid          numeric(19, 4) NOT NULL DEFAULT 0 CHECK (amount_paid >= 0),
    coupon_code          text,
    issued_at            timestamptz,
    due_at               timestamptz,
    paid_at              timestamptz,
    voided_at            timestamptz,
    marked_uncollectible_at timestamptz,
    hosted_url           text,
    pdf_url              text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (period_end > period_start),
    CHECK (amount_due = total - credit_applied),
    CHECK (status = 'draft' OR provider = 'stripe' OR number IS NOT NULL),
    CHECK ((status = 'paid') = (paid_at IS NOT NULL)),
    CHECK ((status = 'void') = (voided_at IS NOT NULL))
);
-- One manual invoice per subscription and billing period, ever (a voided one is not
-- re-issued by the next run).
CREATE UNIQUE INDEX invoices_manual_one_per_period ON invoices (subscription_id, period_start) WHERE provider = 'manual';
CREATE INDEX invoices_account_idx ON invoices (account_id, period_start DESC);
CREATE INDEX invoices_status_due_idx ON invoices (status, due_at);

CREATE TABLE invoice_lines (
    invoice_id   uuid NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    position     integer NOT NULL CHECK (position >= 0),
    kind         text NOT NULL CHECK (kind IN ('base', 'seats', 'usage', 'proration')),
    description  text NOT NULL,
    quantity     numeric NOT NULL,
    unit_amount  numeric,
    amount       numeric(19, 4) NOT NULL,
    meter        text,
    PRIMARY KEY (invoice_id, position)
);

-- An issued invoice's lines are a record: only a draft's lines may change.
CREATE FUNCTION invoice_lines_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM invoices WHERE id = OLD.invoice_id AND status <> 'draft') THEN
        RAISE EXCEPTION 'the lines of an issued invoice cannot change' USING ERRCODE = 'check_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER invoice_lines_frozen BEFORE UPDATE OR DELETE ON invoice_lines
    FOR EACH ROW EXECUTE FUNCTION invoice_lines_frozen();

-- Credit consumed by an invoice points at it.
ALTER TABLE credit_balance_transactions ADD COLUMN invoice_id uuid REFERENCES invoices (id);

-- When a trial ended (the trial_end column is cleared then), so the first paid
-- period is invoiced from there.
ALTER TABLE subscriptions ADD COLUMN trial_ended_at timestamptz;

-- Payment terms of an account's manual invoices: due this many days after issue.
ALTER TABLE accounts ADD COLUMN net_terms_days integer NOT NULL DEFAULT 14 CHECK (net_terms_days BETWEEN 0 AND 120);
