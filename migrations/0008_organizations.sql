-- Invitations to organizations: a single-use link whose token is stored only as its
-- SHA-256; it expires after 7 days, and a resend replaces the token (the old link
-- dies). A pending invitation reserves a seat (see service::organizations::seats).

CREATE TABLE invitations (
    id           uuid PRIMARY KEY,
    account_id   uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email        text NOT NULL CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
    -- Ownership is transferred, never given by invitation.
    role         text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    invited_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    accepted_at  timestamptz,
    accepted_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    revoked_at   timestamptz,
    CHECK (expires_at > created_at),
    CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
-- At most one open invitation per address and organization (an expired one is
-- closed by the service before a new one is made).
CREATE UNIQUE INDEX invitations_one_open ON invitations (account_id, email) WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX invitations_account_idx ON invitations (account_id, created_at DESC);
