-- Every account-scoped table's primary, unique and foreign keys include
-- `account_id` (issue 12, "past one primary"): Citus distributes these tables by
-- `account_id` and requires the distribution column in every unique key and in
-- every foreign key between two distributed tables. docs/SCALING.md gives the
-- whole layout; `tests/it/schema.rs` checks it against the catalog.
--
-- What changes:
-- - subscriptions, subscription_changes, invoices, credit_balance_transactions,
--   notifications, invitations and stripe_checkouts: the primary key becomes
--   `(<old key>, account_id)`; their other unique keys gain `account_id` too.
-- - invoice_lines, stripe_usage_counters and stripe_meter_reports gain the
--   `account_id` of their parent, copied here, and add it to their keys.
-- - Foreign keys between these tables become composite, so a child always
--   belongs to its parent's account (a check the old keys did not make).
-- - `account_id` comes last in each key. Citus needs it in the key, not first;
--   last keeps the ids (UUIDv7, time-ordered) leading, so inserts stay at the
--   index's end and a lookup by id alone (an invoice page, a Stripe webhook, an
--   invitation link's token) still uses the key. Led by `account_id`, the keys
--   made the invoice run over 100k accounts take 17-19 s against 11-12 s before
--   (every insert on a random index page); last, 13-14 s.
-- - The ids are UUIDs (or Stripe's), unique in practice; uniqueness per account
--   is what the database now enforces.

-- Foreign keys that point at the keys about to change go first.
ALTER TABLE subscription_changes DROP CONSTRAINT subscription_changes_subscription_id_fkey;
ALTER TABLE stripe_usage_counters DROP CONSTRAINT stripe_usage_counters_subscription_id_fkey;
ALTER TABLE stripe_meter_reports DROP CONSTRAINT stripe_meter_reports_subscription_id_fkey;
ALTER TABLE invoices DROP CONSTRAINT invoices_subscription_id_fkey;
ALTER TABLE credit_balance_transactions DROP CONSTRAINT credit_balance_transactions_invoice_id_fkey;
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_invoice_id_fkey;

-- subscriptions
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_pkey;
ALTER TABLE subscriptions ADD PRIMARY KEY (id, account_id);
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_provider_subscription_id_key;
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_provider_subscription_id_key
    UNIQUE (provider_subscription_id, account_id);

-- subscription_changes
ALTER TABLE subscription_changes DROP CONSTRAINT subscription_changes_pkey;
ALTER TABLE subscription_changes ADD PRIMARY KEY (id, account_id);
ALTER TABLE subscription_changes ADD CONSTRAINT subscription_changes_subscription_fkey
    FOREIGN KEY (account_id, subscription_id) REFERENCES subscriptions (account_id, id) ON DELETE CASCADE;

-- invoices
ALTER TABLE invoices DROP CONSTRAINT invoices_pkey;
ALTER TABLE invoices ADD PRIMARY KEY (id, account_id);
ALTER TABLE invoices DROP CONSTRAINT invoices_number_key;
ALTER TABLE invoices ADD CONSTRAINT invoices_number_key UNIQUE (number, account_id);
ALTER TABLE invoices DROP CONSTRAINT invoices_provider_invoice_id_key;
ALTER TABLE invoices ADD CONSTRAINT invoices_provider_invoice_id_key UNIQUE (provider_invoice_id, account_id);
DROP INDEX invoices_manual_one_per_period;
CREATE UNIQUE INDEX invoices_manual_one_per_period ON invoices (subscription_id, period_start, account_id)
    WHERE provider = 'manual';
ALTER TABLE invoices ADD CONSTRAINT invoices_subscription_fkey
    FOREIGN KEY (account_id, subscription_id) REFERENCES subscriptions (account_id, id)
    ON DELETE SET NULL (subscription_id);

-- invoice_lines
ALTER TABLE invoice_lines ADD COLUMN account_id uuid;
UPDATE invoice_lines l SET account_id = i.account_id FROM invoices i WHERE i.id = l.invoice_id;
ALTER TABLE invoice_lines ALTER COLUMN account_id SET NOT NULL;
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_pkey;
ALTER TABLE invoice_lines ADD PRIMARY KEY (invoice_id, position, account_id);
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_invoice_fkey
    FOREIGN KEY (account_id, invoice_id) REFERENCES invoices (account_id, id) ON DELETE CASCADE;

-- credit_balance_transactions
ALTER TABLE credit_balance_transactions DROP CONSTRAINT credit_balance_transactions_pkey;
ALTER TABLE credit_balance_transactions ADD PRIMARY KEY (id, account_id);
ALTER TABLE credit_balance_transactions ADD CONSTRAINT credit_balance_transactions_invoice_fkey
    FOREIGN KEY (account_id, invoice_id) REFERENCES invoices (account_id, id);
CREATE INDEX credit_balance_transactions_invoice_idx ON credit_balance_transactions (invoice_id)
    WHERE invoice_id IS NOT NULL;

-- notifications
ALTER TABLE notifications DROP CONSTRAINT notifications_pkey;
ALTER TABLE notifications ADD PRIMARY KEY (id, account_id);

-- invitations
ALTER TABLE invitations DROP CONSTRAINT invitations_pkey;
ALTER TABLE invitations ADD PRIMARY KEY (id, account_id);
ALTER TABLE invitations DROP CONSTRAINT invitations_token_hash_key;
ALTER TABLE invitations ADD CONSTRAINT invitations_token_hash_key UNIQUE (token_hash, account_id);

-- stripe_checkouts
ALTER TABLE stripe_checkouts DROP CONSTRAINT stripe_checkouts_pkey;
ALTER TABLE stripe_checkouts ADD PRIMARY KEY (session_id, account_id);

-- stripe_usage_counters
ALTER TABLE stripe_usage_counters ADD COLUMN account_id uuid;
UPDATE stripe_usage_counters c SET account_id = s.account_id FROM subscriptions s WHERE s.id = c.subscription_id;
ALTER TABLE stripe_usage_counters ALTER COLUMN account_id SET NOT NULL;
ALTER TABLE stripe_usage_counters DROP CONSTRAINT stripe_usage_counters_pkey;
ALTER TABLE stripe_usage_counters ADD PRIMARY KEY (subscription_id, meter, period_start, account_id);
ALTER TABLE stripe_usage_counters ADD CONSTRAINT stripe_usage_counters_subscription_fkey
    FOREIGN KEY (account_id, subscription_id) REFERENCES subscriptions (account_id, id) ON DELETE CASCADE;

-- stripe_meter_reports
ALTER TABLE stripe_meter_reports ADD COLUMN account_id uuid;
UPDATE stripe_meter_reports r SET account_id = s.account_id FROM subscriptions s WHERE s.id = r.subscription_id;
ALTER TABLE stripe_meter_reports ALTER COLUMN account_id SET NOT NULL;
ALTER TABLE stripe_meter_reports DROP CONSTRAINT stripe_meter_reports_pkey;
ALTER TABLE stripe_meter_reports ADD PRIMARY KEY (event_id, account_id);
ALTER TABLE stripe_meter_reports ADD CONSTRAINT stripe_meter_reports_subscription_fkey
    FOREIGN KEY (account_id, subscription_id) REFERENCES subscriptions (account_id, id) ON DELETE CASCADE;

-- stripe_customers: the key is already `account_id`; Stripe's customer id is
-- looked up alone by webhooks, so it keeps a plain index.
ALTER TABLE stripe_customers DROP CONSTRAINT stripe_customers_customer_id_key;
CREATE INDEX stripe_customers_customer_idx ON stripe_customers (customer_id);
