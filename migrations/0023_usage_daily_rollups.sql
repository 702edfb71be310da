-- Usage history (issue 13): a daily rollup of usage_events per account, meter, UTC
-- day, member and up to three event properties the catalog names per meter
-- (`group_by`, for example model and provider), with one numeric property summed
-- beside the quantity (`cost_property`, for example cost_usd).
--
-- Ingestion writes a batch's rows here in the same statement that stores its events
-- (db::usage::insert_new_events), so the rollup always equals the stored events;
-- `tollgate usage rebuild-rollups` recomputes it from them. Retention drops old
-- months of raw events but keeps their rollup: history outlives the events.

ALTER TABLE meters
    ADD COLUMN group_by text[] NOT NULL DEFAULT '{}' CHECK (cardinality(group_by) <= 3),
    ADD COLUMN cost_property text;

CREATE TABLE usage_daily_rollups (
    account_id        uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    meter             text NOT NULL REFERENCES meters (key),
    day               date NOT NULL,
    -- The member the events named (absent: none named, or the user since deleted
    -- and the account's history kept).
    user_id           uuid,
    -- The values of the meter's group_by properties the events carried, as
    -- {"model": "claude"}: absent properties are absent keys. Text, at most 200
    -- characters each.
    dimensions        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(dimensions) = 'object'),
    events            bigint NOT NULL CHECK (events > 0),
    -- Sum of the quantities (count and sum meters), their peak (max meters) and
    -- the latest one by occurred_at (last meters).
    quantity          numeric NOT NULL CHECK (quantity > 0),
    max_quantity      numeric NOT NULL CHECK (max_quantity > 0),
    last_quantity     numeric NOT NULL CHECK (last_quantity > 0),
    last_occurred_at  timestamptz NOT NULL,
    -- Sum of the meter's cost_property over the events, where it was a plain
    -- decimal (the same rule as the invoice's cost-plus sum); 0 without one.
    cost              numeric NOT NULL DEFAULT 0 CHECK (cost >= 0),
    UNIQUE NULLS NOT DISTINCT (account_id, meter, day, user_id, dimensions)
);

-- The rollup's key for an event's properties: the values of the meter's group_by
-- properties, as {"model": "claude"}. Strings as they are, numbers and booleans as
-- their text, at most 200 characters; null, objects, arrays and absent properties
-- leave the key out. One definition for ingestion and the rebuild, so both key an
-- event the same way.
CREATE FUNCTION usage_dimensions(properties jsonb, group_by text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(jsonb_object_agg(g, left(properties ->> g, 200)), '{}'::jsonb)
    FROM unnest(group_by) AS g
    WHERE jsonb_typeof(properties -> g) IN ('string', 'number', 'boolean')
$$;

-- The cost an event carries under the meter's cost_property: its value when a
-- plain decimal (1 to 15 digits, an optional fraction of 1 to 12), else 0, as
-- the invoice's cost-plus sum reads it (db::usage::period_usage_many). Longer
-- numbers would overflow the sums the server reads back.
CREATE FUNCTION usage_cost(properties jsonb, cost_property text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN cost_property IS NOT NULL AND properties ->> cost_property ~ '^[0-9]{1,15}(\.[0-9]{1,12})?$'
                THEN (properties ->> cost_property)::numeric ELSE 0 END
$$;
