-- The catalog: meters, features, plans with prices, feature values and limits, and
-- usage thresholds. Loaded from a TOML file (tollgate catalog load); entries that a
-- later file drops are archived, never deleted, because history refers to them.

CREATE TABLE catalog_info (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    name        text NOT NULL,
    title       text NOT NULL,
    currency    char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    faq         jsonb NOT NULL DEFAULT '[]',
    source      text NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE meters (
    key          text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_-]{0,63}$'),
    name         text NOT NULL,
    unit         text NOT NULL,
    aggregation  text NOT NULL CHECK (aggregation IN ('count', 'sum', 'max', 'last')),
    reset        text NOT NULL CHECK (reset IN ('billing_period', 'monthly', 'calendar_month')),
    description  text NOT NULL DEFAULT '',
    position     integer NOT NULL,
    archived_at  timestamptz
);

CREATE TABLE features (
    key          text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_-]{0,63}$'),
    name         text NOT NULL,
    -- {"kind": "boolean" | "numeric" | "enum" | "rate", ...} as the domain serialises it
    kind         jsonb NOT NULL CHECK (kind->>'kind' IN ('boolean', 'numeric', 'enum', 'rate')),
    description  text NOT NULL DEFAULT '',
    position     integer NOT NULL,
    archived_at  timestamptz
);

CREATE TABLE plans (
    key          text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_-]{0,63}$'),
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    audience     text NOT NULL CHECK (audience IN ('individual', 'team')),
    self_serve   boolean NOT NULL,
    public       boolean NOT NULL,
    trial_days   integer NOT NULL CHECK (trial_days BETWEEN 0 AND 365),
    highlights   jsonb NOT NULL DEFAULT '[]',
    position     integer NOT NULL,
    archived_at  timestamptz
);

CREATE TABLE plan_prices (
    plan_key  text NOT NULL REFERENCES plans (key) ON DELETE CASCADE,
    interval  text NOT NULL CHECK (interval IN ('month', 'year')),
    amount    numeric(19, 4) NOT NULL CHECK (amount >= 0),
    currency  char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    per_seat  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (plan_key, interval)
);

CREATE TABLE plan_features (
    plan_key     text NOT NULL REFERENCES plans (key) ON DELETE CASCADE,
    feature_key  text NOT NULL REFERENCES features (key),
    value        jsonb NOT NULL,
    PRIMARY KEY (plan_key, feature_key)
);

CREATE TABLE plan_limits (
    plan_key       text NOT NULL REFERENCES plans (key) ON DELETE CASCADE,
    meter_key      text NOT NULL REFERENCES meters (key),
    included       numeric CHECK (included >= 0),          -- NULL: unlimited
    enforcement    text NOT NULL CHECK (enforcement IN ('soft', 'hard')),
    grace_percent  numeric NOT NULL DEFAULT 0 CHECK (grace_percent >= 0),
    per_seat       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (plan_key, meter_key),
    CHECK (enforcement = 'hard' OR grace_percent = 0),
    CHECK (enforcement = 'soft' OR included IS NOT NULL)
);

CREATE TABLE thresholds (
    percent  numeric PRIMARY KEY CHECK (percent > 0 AND percent <= 1000),
    actions  text[] NOT NULL CHECK (actions <@ ARRAY['in_app', 'email', 'banner', 'upgrade_prompt', 'block'])
);
