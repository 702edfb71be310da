-- Every promised notification, with preferences (issue 14).

-- Makes a notification happen at most once per account (`trial_ending:<subscription>:<end>`).
ALTER TABLE notifications ADD COLUMN dedup_key text;
ALTER TABLE notifications ADD CONSTRAINT notifications_dedup_key UNIQUE (account_id, dedup_key);

-- A user's kinds turned off, per channel; a kind without a row is on. The
-- transactional kinds (invoices, payment problems) are never turned off
-- (src/notification.rs); the services do not store them here.
CREATE TABLE notification_preferences (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind ~ '^[a-z][a-z_]*$'),
    in_app      boolean NOT NULL,
    email       boolean NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, kind),
    CHECK (NOT (in_app AND email))
);
