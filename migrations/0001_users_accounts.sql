-- Users, accounts (the billing entity: personal or organization) and memberships.

CREATE TABLE users (
    id              uuid PRIMARY KEY,
    email           text NOT NULL CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%.%' AND length(email) <= 254),
    name            text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    password_hash   text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    is_super_admin  boolean NOT NULL DEFAULT false,
    verified_at     timestamptz,
    last_login_at   timestamptz,
    disabled_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- E-mail is unique case-insensitively; the CHECK above keeps it stored lower-case.
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE accounts (
    id                uuid PRIMARY KEY,
    kind              text NOT NULL CHECK (kind IN ('personal', 'organization')),
    name              text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    slug              text UNIQUE CHECK (slug ~ '^[a-z0-9](-?[a-z0-9])*$' AND length(slug) <= 48),
    billing_email     text CHECK (billing_email = lower(btrim(billing_email))),
    external_id       text UNIQUE CHECK (length(external_id) BETWEEN 1 AND 255),
    personal_user_id  uuid UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    -- Set when the account's first trial starts: one trial per account.
    trial_used_at     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'personal') = (personal_user_id IS NOT NULL)),
    CHECK ((kind = 'organization') = (slug IS NOT NULL))
);

CREATE TABLE memberships (
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);
-- At most one owner per account; the service keeps exactly one.
CREATE UNIQUE INDEX memberships_one_owner ON memberships (account_id) WHERE role = 'owner';
