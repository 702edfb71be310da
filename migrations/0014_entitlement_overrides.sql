-- Entitlement overrides (PRODUCT.md "Entitlement override"): an account's own value
-- for a meter's limit or a feature, with a reason, its author and an optional
-- expiry. At most one per account and meter or feature: setting again replaces.
CREATE TABLE entitlement_overrides (
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('limit', 'feature')),
    key         text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_-]{0,63}$'),
    -- overrides.rs's LimitOverride (kind limit) or catalog FeatureValue (kind feature).
    value       jsonb NOT NULL,
    reason      text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 500),
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    -- Who set it as shown (an e-mail, or `cli`), kept when the user is deleted.
    author      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    PRIMARY KEY (account_id, kind, key)
);
