-- Invoices delivered and chased for bank-transfer customers (issue 14, "Invoices
-- delivered and chased"): what was e-mailed about each manual invoice, once each.

CREATE TABLE invoice_mailings (
    invoice_id   uuid NOT NULL,
    account_id   uuid NOT NULL,
    -- `issued` (the invoice itself), `reminder` (before or after the due date),
    -- `past_due` (the subscription became past due).
    kind         text NOT NULL CHECK (kind IN ('issued', 'reminder', 'past_due')),
    -- For reminders: days from the due date (negative: before it); else 0.
    offset_days  integer NOT NULL DEFAULT 0 CHECK (offset_days BETWEEN -60 AND 365),
    to_address   text NOT NULL,
    sent_at      timestamptz NOT NULL,
    PRIMARY KEY (account_id, invoice_id, kind, offset_days),
    FOREIGN KEY (invoice_id, account_id) REFERENCES invoices (id, account_id) ON DELETE CASCADE
);

-- The dunning job's two looks, each minute: manual invoices issued lately, and
-- open manual invoices by due date.
CREATE INDEX invoices_manual_issued_idx ON invoices (issued_at) WHERE provider = 'manual';
CREATE INDEX invoices_manual_open_due_idx ON invoices (due_at) WHERE provider = 'manual' AND status = 'open';
