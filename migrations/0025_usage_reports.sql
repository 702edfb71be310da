-- Monthly usage reports (issue 13, "Take the data away"): at each month's end a
-- job stores, per account with usage, the month's usage per meter, member and
-- property values, frozen as it stood then (later corrections and late events do
-- not rewrite it); the account's owner and admins download it again later.

CREATE TABLE usage_reports (
    account_id    uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The calendar month (UTC), its first day.
    month         date NOT NULL CHECK (extract(day FROM month) = 1),
    generated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (month, account_id)
);
CREATE INDEX usage_reports_account_idx ON usage_reports (account_id, month DESC);

CREATE TABLE usage_report_lines (
    account_id     uuid NOT NULL,
    month          date NOT NULL,
    meter          text NOT NULL REFERENCES meters (key),
    user_id        uuid,
    dimensions     jsonb NOT NULL,
    events         bigint NOT NULL CHECK (events > 0),
    quantity       numeric NOT NULL,
    max_quantity   numeric NOT NULL,
    last_quantity  numeric NOT NULL,
    cost           numeric NOT NULL,
    FOREIGN KEY (month, account_id) REFERENCES usage_reports (month, account_id) ON DELETE CASCADE,
    UNIQUE NULLS NOT DISTINCT (account_id, month, meter, user_id, dimensions)
);
