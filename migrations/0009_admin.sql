-- Super admin tools: password resets, the credit balance ledger, and lookups the
-- admin panel needs.

-- One row per reset link. Only the SHA-256 of the token is kept; a link is used at
-- most once and expires after an hour (the service checks `expires_at`).
CREATE TABLE password_resets (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    -- The super admin who sent it from the admin panel, if one did.
    sent_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    -- Set when the link was used, or when another link of the user was used.
    used_at     timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id) WHERE used_at IS NULL;

-- Every "forgot password" request, known e-mail or not, for the rate limit (the
-- limit must not tell which e-mails have accounts).
CREATE TABLE password_reset_requests (
    email         text NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_reset_requests_email_idx ON password_reset_requests (email, requested_at);

-- The account's credit balance as a ledger: the balance in a currency is the sum of
-- its rows. Credits are positive; the invoicing issue will add negative rows when
-- an invoice consumes credit.
CREATE TABLE credit_balance_transactions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    amount      numeric(19, 4) NOT NULL CHECK (amount <> 0),
    currency    char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    reason      text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 500),
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_balance_transactions_account_idx ON credit_balance_transactions (account_id, created_at DESC);

-- The admin panel's audit filters and a user's recent activity.
CREATE INDEX audit_log_target_idx ON audit_log (target_id, occurred_at DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action text_pattern_ops);
