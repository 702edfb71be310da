-- E-mail verification (issue 12): a user who signed up themselves proves their
-- address with a link before they may own API keys or send invitations.
-- `users.verified_at` (from 0001) is set when a link is used, when the operator
-- creates the user, or when the user signs up through an invitation sent to the
-- address. Only the SHA-256 of a link's token is kept.
CREATE TABLE email_verifications (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The address the link proves; a link for an address the user no longer has
    -- proves nothing.
    email       text NOT NULL,
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX email_verifications_user_idx ON email_verifications (user_id, created_at);
