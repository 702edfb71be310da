-- API keys, server-side sessions and failed log-ins.

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('account', 'platform')),
    account_id    uuid REFERENCES accounts (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    -- The visible start of the key (tg_sk_AbCd1234); the secret is only hashed.
    prefix        text NOT NULL,
    -- SHA-256 of the whole key: keys carry 190 random bits, so a fast hash is safe.
    secret_hash   bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    CHECK ((kind = 'account') = (account_id IS NOT NULL))
);
CREATE INDEX api_keys_account_idx ON api_keys (account_id, created_at DESC);

-- tower-sessions records; user_id is copied out of data so that a user's sessions
-- can be ended together (log-out everywhere, disabled users).
CREATE TABLE sessions (
    id          text PRIMARY KEY,
    user_id     uuid REFERENCES users (id) ON DELETE CASCADE,
    data        jsonb NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE login_failures (
    email         text NOT NULL,
    attempted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (email, attempted_at);
