-- Corrections of recorded usage (issue 13, "Corrections"): a super admin or a
-- platform key voids past events with a reason. A voided event leaves
-- usage_events (so every total, rollup and price read from there follows) and is
-- kept here with its correction. Its idempotency key stays in usage_event_keys: a
-- replay of the voided event is a duplicate, not new usage.
--
-- An invoice already issued is never rewritten: the difference its period's usage
-- now makes becomes an adjustment, billed as a line of the account's next invoice.

CREATE TABLE usage_corrections (
    account_id   uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    -- The transaction that made the correction: the invoice run defers a period
    -- whose pricing could not see it (service::invoices::issue).
    xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, account_id)
);
CREATE INDEX usage_corrections_account_idx ON usage_corrections (account_id, created_at);

CREATE TABLE usage_voided_events (
    account_id       uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    event_id         uuid NOT NULL,
    correction_id    uuid NOT NULL,
    meter            text NOT NULL REFERENCES meters (key),
    user_id          uuid,
    quantity         numeric NOT NULL CHECK (quantity > 0),
    occurred_at      timestamptz NOT NULL,
    received_at      timestamptz NOT NULL,
    idempotency_key  text NOT NULL,
    properties       jsonb NOT NULL,
    PRIMARY KEY (event_id, account_id),
    FOREIGN KEY (correction_id, account_id) REFERENCES usage_corrections (id, account_id) ON DELETE CASCADE
);
CREATE INDEX usage_voided_events_correction_idx ON usage_voided_events (account_id, correction_id);
-- Not unique: once retention drops a month, its keys may be sent again, and the
-- new events voided in their turn.
CREATE INDEX usage_voided_events_key_idx ON usage_voided_events (account_id, idempotency_key);

CREATE TABLE invoice_adjustments (
    account_id          uuid NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    id                  uuid NOT NULL,
    correction_id       uuid NOT NULL,
    -- The issued invoice whose period the correction changed.
    invoice_id          uuid NOT NULL,
    meter               text NOT NULL REFERENCES meters (key),
    -- Negative: a credit (usage voided); positive: a charge.
    amount              numeric(19, 4) NOT NULL CHECK (amount <> 0),
    currency            char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    description         text NOT NULL,
    -- The invoice that billed it; NULL while it waits for the next one.
    applied_invoice_id  uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, account_id),
    FOREIGN KEY (correction_id, account_id) REFERENCES usage_corrections (id, account_id),
    FOREIGN KEY (account_id, invoice_id) REFERENCES invoices (account_id, id),
    FOREIGN KEY (account_id, applied_invoice_id) REFERENCES invoices (account_id, id)
);
CREATE INDEX invoice_adjustments_pending_idx ON invoice_adjustments (account_id) WHERE applied_invoice_id IS NULL;
CREATE INDEX invoice_adjustments_invoice_idx ON invoice_adjustments (account_id, invoice_id);

ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_kind_check;
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_kind_check
    CHECK (kind IN ('base', 'seats', 'usage', 'proration', 'adjustment'));
